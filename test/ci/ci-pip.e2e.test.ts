/**
 * The CI gate's Python half end to end: a real git repository, the real bin, real python3 and
 * pip's `packaging` for resolution, the real sandbox for the sdist build; the pip fixtures
 * archived by the test (nothing of them runs on the host) and served by a local simple index on
 * loopback.
 *
 * Base commit: a requirements.txt pinning a benign wheel (with its hash). Head commit: the
 * malicious sdist pinned in requirements.txt (over continuation lines), a range in a file it
 * includes with `-r` that resolves to a wheel dropping a .pth, and a uv.lock entry for a wheel
 * installing files under etc/. The indexes come from the files themselves (`--index-url` in
 * requirements.txt, the registry in uv.lock): ci gets no index flag. `ci` must exit 1 and every
 * report must name each package at its own line. An unchanged requirements file exits 0 without
 * Python or Docker.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { validateReport } from '../../src/report/schema.js';
import { validateSarif } from '../report/sarif-schema.js';
import { gitIn, pythonGateEnv, runIn, type CiRun } from './support.js';
import { makeSdist, makeWheel, sha256, startSimpleIndex } from '../pip/pip-index.js';

const bin = path.join(packageRoot().dir, 'bin', 'safe-install');
let work: string;
let repo: string;
let files: string;
let index: Awaited<ReturnType<typeof startSimpleIndex>>;
const built: Record<string, string> = {};

// The index answers from this very process.
function run(args: string[], env: Record<string, string> = {}): Promise<CiRun> {
  return runIn(repo, process.execPath, [bin, ...args], { ...pythonGateEnv(work), ...env });
}

const git = (...args: string[]) => gitIn(repo, ...args);

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  fs.writeFileSync(path.join(repo, file), text);
};

/** 1-based line of the first row of `file` that starts with `prefix`. */
function lineOf(file: string, prefix: string): number {
  const index = fs.readFileSync(path.join(repo, file), 'utf8').split('\n').findIndex((l) => l.startsWith(prefix));
  assert.ok(index >= 0, `${prefix} in ${file}`);
  return index + 1;
}

const baseRequirements = () => `--index-url ${index.url}\n# the application\nbenign-tool-wheel==1.0.0 \\\n    --hash=sha256:${sha256(built['benign-tool-wheel']!)}\n`;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'si-ci-pip-e2e-'));
  files = path.join(work, 'files');
  repo = path.join(work, 'repo');
  fs.mkdirSync(files);
  fs.mkdirSync(repo);
  built['attack-setup-exfil'] = makeSdist('attack-setup-exfil', files);
  for (const n of ['benign-tool-wheel', 'attack-pth-wheel', 'review-data-wheel']) built[n] = makeWheel(n, files);
  index = await startSimpleIndex(files);
  git('init', '-q', '-b', 'main');
  // The bin compiles itself on first use when sources changed: not part of what is timed below.
  const warm = await run(['--version']);
  assert.equal(warm.code, 0, warm.stderr);
  write('requirements.txt', baseRequirements());
  git('add', '.');
  git('commit', '-q', '-m', 'base');
});

after(async () => {
  await index?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('safe-install ci with Python requirements', () => {
  test('an unchanged requirements file exits 0 at once: no Python, no index, no container', async () => {
    // Neither Docker nor a Python can be reached: any attempt to use them would be exit 2.
    const r = await run(['ci', '--base', 'HEAD', '--python', '/nonexistent/python3'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No added or changed packages in requirements\.txt since HEAD/);
    assert.match(r.stdout, /Verdict: ALLOW/);
    assert.doesNotMatch(r.stdout, /not sandboxed/);
    assert.deepEqual(index.requests, [], 'the index was not asked anything');
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  test('a commit adding a malicious sdist, a range resolving to a .pth wheel and a uv.lock entry exits 1, every report at the right line', { timeout: 600_000 }, async () => {
    write('requirements.txt', `${baseRequirements()}-r requirements/extra.txt\nattack-setup-exfil==1.0.0 \\\n    --hash=sha256:${sha256(built['attack-setup-exfil']!)}  # new\n`);
    write('requirements/extra.txt', '# optional extras\nattack-pth-wheel>=1.0\n');
    write(
      'uv.lock',
      [
        'version = 1',
        'requires-python = ">=3.8"',
        '',
        '[[package]]',
        'name = "webapp"',
        'version = "0.1.0"',
        'source = { editable = "." }',
        '',
        '[[package]]',
        'name = "review-data-wheel"',
        'version = "1.0.0"',
        `source = { registry = "${index.url}" }`,
        'wheels = [',
        `    { url = "${index.url.replace(/\/simple$/, '')}/files/${path.basename(built['review-data-wheel']!)}", hash = "sha256:${sha256(built['review-data-wheel']!)}", size = 1 },`,
        ']',
        '',
      ].join('\n'),
    );
    git('add', '.');
    git('commit', '-q', '-m', 'add an sdist, an extras file and a uv.lock');
    const exfilLine = lineOf('requirements.txt', 'attack-setup-exfil==');
    const pthLine = lineOf('requirements/extra.txt', 'attack-pth-wheel');
    const uvLine = lineOf('uv.lock', 'name = "review-data-wheel"') - 1;
    assert.deepEqual([exfilLine, pthLine, uvLine], [6, 2, 9]);
    const out = (name: string) => path.join(work, name);

    // No index flag: requirements.txt names its index, uv.lock its registry.
    const r = await run(['ci', '--json', '--sarif', out('r.sarif'), '--junit', out('r.xml'), '--markdown', out('r.md')]);
    assert.equal(r.code, 1, r.stderr);

    type Finding = { rule: string; severity: string; message: string };
    type Pkg = { name: string; version: string; verdict: string; scripts: Record<string, string>; findings: Finding[] };
    const doc = JSON.parse(r.stdout) as {
      verdict: string;
      packages: Pkg[];
      ci: { base: { ref: string }; lockfiles: string[]; notes: string[]; changes: { kind: string; lockfile: string; pkg: { name: string; version: string; line: number; ecosystem?: string } }[]; located: { name: string; lockfile: string; line: number }[] };
    };
    assert.deepEqual(validateReport(doc).errors, []);
    assert.equal(doc.verdict, 'block');
    assert.equal(doc.ci.base.ref, 'HEAD~1');
    assert.deepEqual(doc.ci.lockfiles, ['requirements.txt', 'requirements/extra.txt', 'uv.lock']);
    assert.deepEqual(
      doc.ci.changes.map((c) => `${c.kind} ${c.pkg.ecosystem} ${c.pkg.name}@${c.pkg.version} ${c.lockfile}:${c.pkg.line}`).sort(),
      [
        `added pypi attack-pth-wheel@1.0.0 requirements/extra.txt:${pthLine}`, // the range, resolved on the index
        `added pypi attack-setup-exfil@1.0.0 requirements.txt:${exfilLine}`,
        `added pypi review-data-wheel@1.0.0 uv.lock:${uvLine}`,
      ],
    );
    assert.deepEqual(doc.ci.notes, []);
    // Exactly the changes were vetted: the unchanged pinned wheel was neither fetched nor judged.
    assert.deepEqual(doc.packages.map((p) => p.name).sort(), ['attack-pth-wheel', 'attack-setup-exfil', 'review-data-wheel']);
    assert.ok(!index.requests.some((u) => u.includes('benign-tool-wheel') || u.includes('benign_tool_wheel')), index.requests.join(' '));

    const pkg = (name: string) => doc.packages.find((p) => p.name === name)!;
    const rules = (name: string) => pkg(name).findings.map((f) => `${f.rule}:${f.severity}`);
    // The sdist was built in the sandbox (its build is its install-time code) and caught.
    assert.match(pkg('attack-setup-exfil').scripts.install ?? '', /pip wheel --no-deps --no-build-isolation --no-index/);
    assert.equal(pkg('attack-setup-exfil').verdict, 'block');
    assert.ok(rules('attack-setup-exfil').includes('exfiltration:critical'), rules('attack-setup-exfil').join(' '));
    assert.ok(rules('attack-setup-exfil').includes('credential-access:high'), rules('attack-setup-exfil').join(' '));
    assert.ok(pkg('attack-setup-exfil').findings.some((f) => f.rule === 'exfiltration' && /collect\.example/.test(f.message)));
    // The wheels were inspected: nothing runs at their install, what they land is judged.
    assert.deepEqual(pkg('attack-pth-wheel').scripts, {});
    assert.equal(pkg('attack-pth-wheel').verdict, 'block');
    assert.ok(pkg('attack-pth-wheel').findings.some((f) => f.rule === 'persistence' && f.severity === 'high' && /attack_pth_wheel_init\.pth/.test(f.message)));
    assert.equal(pkg('review-data-wheel').verdict, 'review');
    assert.ok(pkg('review-data-wheel').findings.some((f) => f.rule === 'write-outside-package' && /etc\/review_data_wheel\.conf/.test(f.message)));

    // SARIF: valid, each finding at its package's own line, in its own file.
    const sarif = JSON.parse(fs.readFileSync(out('r.sarif'), 'utf8')) as { runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; message: { text: string }; properties: { package: string } }[] }[] };
    assert.deepEqual(validateSarif(sarif), []);
    const at = (name: string, rule: string) => sarif.runs[0]!.results.find((x) => x.properties.package === name && x.ruleId === rule)?.locations[0]!.physicalLocation;
    assert.deepEqual(at('attack-setup-exfil', 'exfiltration'), { artifactLocation: { uri: 'requirements.txt', uriBaseId: '%SRCROOT%' }, region: { startLine: exfilLine } });
    assert.deepEqual(at('attack-pth-wheel', 'persistence'), { artifactLocation: { uri: 'requirements/extra.txt', uriBaseId: '%SRCROOT%' }, region: { startLine: pthLine } });
    assert.deepEqual(at('review-data-wheel', 'write-outside-package'), { artifactLocation: { uri: 'uv.lock', uriBaseId: '%SRCROOT%' }, region: { startLine: uvLine } });
    assert.ok(sarif.runs[0]!.results.some((x) => x.ruleId === 'exfiltration' && /^attack-setup-exfil@1\.0\.0: /.test(x.message.text)));

    // JUnit: each package a failing test case (review fails too: nobody to ask in CI), with file and line.
    const junit = fs.readFileSync(out('r.xml'), 'utf8');
    assert.match(junit, new RegExp(`name="attack-setup-exfil@1\\.0\\.0" file="requirements\\.txt" line="${exfilLine}"[^>]*>\\s*<failure type="block" message="block: exfiltration: `));
    assert.match(junit, new RegExp(`name="attack-pth-wheel@1\\.0\\.0" file="requirements/extra\\.txt" line="${pthLine}"[^>]*>\\s*<failure type="block" message="block: persistence: `));
    assert.match(junit, new RegExp(`name="review-data-wheel@1\\.0\\.0" file="uv\\.lock" line="${uvLine}"[^>]*>\\s*<failure type="review"`));
    assert.match(junit, new RegExp(`at requirements\\.txt:${exfilLine}`));

    // Markdown: the verdict, then each package with its line, then the findings.
    const md = fs.readFileSync(out('r.md'), 'utf8');
    assert.match(md, /^## ⛔ safe-install: BLOCK \(fails this check\)/);
    assert.match(md, /3 packages added or changed since `HEAD~1`/);
    assert.match(md, new RegExp(`\\| ⛔ block \\| attack\\\\-setup\\\\-exfil\\\\@1\\\\\\.0\\\\\\.0 \\| requirements\\\\\\.txt\\\\:${exfilLine} \\| install: `));
    assert.match(md, new RegExp(`\\*\\*attack\\\\-pth\\\\-wheel\\\\@1\\\\\\.0\\\\\\.0\\*\\* BLOCK \\(requirements/extra\\\\\\.txt\\\\:${pthLine}\\)`));
    assert.match(md, new RegExp(`review\\\\-data\\\\-wheel\\\\@1\\\\\\.0\\\\\\.0 \\| uv\\\\\\.lock\\\\:${uvLine}`));
    assert.match(md, /`critical` `exfiltration`/);
    assert.match(md, /`high` `persistence`/);
    assert.doesNotMatch(md, /no pip front-end/);
  });

  test('a Python file the gate cannot process fails closed (exit 2) with a hint: no Python, an unreachable index', async () => {
    const noPython = await run(['ci', '--quiet', '--python', '/nonexistent/python3'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.equal(noPython.code, 2, noPython.stdout + noPython.stderr);
    assert.match(noPython.stderr, /cannot run \/nonexistent\/python3/);
    assert.match(noPython.stderr, /hint: /);
    // The flag wins over the file's --index-url: here, a closed port.
    const unreachable = await run(['ci', '--quiet', '--index-url', 'http://127.0.0.1:1/simple'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.equal(unreachable.code, 2, unreachable.stdout + unreachable.stderr);
    assert.match(unreachable.stderr, /could not read http:\/\/127\.0\.0\.1:1\/simple\//);
    assert.match(unreachable.stderr, /hint: /);
  });
});
