/**
 * The CI gate's behaviour diff for Python, end to end: a real git repository, the real bin, real
 * python3 and pip's `packaging` for resolution, the real sandbox for both versions' builds; the
 * pip fixtures archived by the test (nothing of them runs on the host) and served by a local
 * simple index on loopback.
 *
 * Base commit: requirements.txt pins hijack-setup-diff 1.0.0 (an honest sdist) and
 * switch-to-sdist 1.0.0 (a wheel), each with its hash. Head commit: hijack-setup-diff 1.1.0, whose
 * setup.py now reads the decoy ~/.pypirc and posts it to telemetry.example (a reserved name), and
 * switch-to-sdist 1.1.0, now an sdist (a build runs where the wheel ran nothing). The gate vets the
 * base versions in one more pass and reports what each new build newly does, first.
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
function run(args: string[]): Promise<CiRun> {
  return runIn(repo, process.execPath, [bin, ...args], pythonGateEnv(work));
}

const git = (...args: string[]) => gitIn(repo, ...args);

const pin = (name: string, version: string, file: string) => `${name}==${version} \\\n    --hash=sha256:${sha256(file)}\n`;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'si-ci-pip-diff-e2e-'));
  files = path.join(work, 'files');
  repo = path.join(work, 'repo');
  fs.mkdirSync(files);
  fs.mkdirSync(repo);
  built['hijack-setup-diff@1.0.0'] = makeSdist('hijack-setup-diff', files);
  built['hijack-setup-diff@1.1.0'] = makeSdist('hijack-setup-diff', files, '1.1.0', 'hijack-setup-diff@1.1.0');
  built['switch-to-sdist@1.0.0'] = makeWheel('switch-to-sdist', files);
  built['switch-to-sdist@1.1.0'] = makeSdist('switch-to-sdist', files, '1.1.0', 'switch-to-sdist@1.1.0');
  index = await startSimpleIndex(files);
  git('init', '-q', '-b', 'main');
  const requirements = (v: string) =>
    `--index-url ${index.url}\n${pin('hijack-setup-diff', v, built[`hijack-setup-diff@${v}`]!)}${pin('switch-to-sdist', v, built[`switch-to-sdist@${v}`]!)}`;
  fs.writeFileSync(path.join(repo, 'requirements.txt'), requirements('1.0.0'));
  git('add', '.');
  git('commit', '-q', '-m', 'base: 1.0.0 of both');
  fs.writeFileSync(path.join(repo, 'requirements.txt'), requirements('1.1.0'));
  git('commit', '-q', '-am', 'bump both to 1.1.0');
});

after(async () => {
  await index?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('safe-install ci: the behaviour diff for Python', () => {
  test('a hijacked sdist release shows its new secret read and host first; a wheel turned sdist shows its whole build as new', { timeout: 600_000 }, async () => {
    const out = (name: string) => path.join(work, name);
    const r = await run(['ci', '--json', '--sarif', out('r.sarif'), '--junit', out('r.xml'), '--markdown', out('r.md')]);
    assert.equal(r.code, 1, r.stderr);

    type Thing = { what: string; evidence: string[] };
    type Diff = {
      name: string;
      from: { version: string; verdict: string | null };
      to: { version: string; verdict: string };
      scriptsAdded: { event: string; command: string }[];
      processes: Thing[];
      secretReads: Thing[];
      hosts: Thing[];
      newRules: string[];
      summary: string;
    };
    type Pkg = { name: string; version: string; verdict: string; scripts: Record<string, string>; findings: { rule: string }[]; session: { files: { id: string }[]; dns: { id: string }[]; connections: { id: string }[]; processes: { id: string }[] } };
    const doc = JSON.parse(r.stdout) as { verdict: string; packages: Pkg[]; ci: { base: { ref: string }; notes: string[]; changes: { kind: string; pkg: { name: string; version: string; line: number }; previous?: { version: string } }[]; diffs: Diff[] } };
    assert.deepEqual(validateReport(doc).errors, []);
    assert.equal(doc.verdict, 'block');
    assert.equal(doc.ci.base.ref, 'HEAD~1');
    assert.deepEqual(
      doc.ci.changes.map((c) => `${c.kind} ${c.pkg.name}@${c.pkg.version} ${c.previous?.version ?? '-'}`).sort(),
      ['changed hijack-setup-diff@1.1.0 1.0.0', 'changed switch-to-sdist@1.1.0 1.0.0'],
    );
    assert.deepEqual(doc.ci.notes, [], 'both base versions were vetted');
    // Only the new versions are the report's packages: the base versions explain, they are not judged.
    assert.deepEqual(doc.packages.map((p) => `${p.name}@${p.version}`).sort(), ['hijack-setup-diff@1.1.0', 'switch-to-sdist@1.1.0']);
    const pkg = (name: string) => doc.packages.find((p) => p.name === name)!;
    assert.equal(pkg('hijack-setup-diff').verdict, 'block');
    // 1.0.0 was an sdist too: its build is no new install-time code.
    assert.ok(!pkg('hijack-setup-diff').findings.some((f) => f.rule === 'install-script-added'));
    assert.ok(pkg('switch-to-sdist').findings.some((f) => f.rule === 'install-script-added'));
    // Both base versions were fetched from the index, as pinned.
    for (const file of [built['hijack-setup-diff@1.0.0']!, built['switch-to-sdist@1.0.0']!]) {
      assert.ok(index.requests.includes(`/files/${path.basename(file)}`), `${path.basename(file)}: ${index.requests.join(' ')}`);
    }

    // The hijacked release: the new secret read and the new host, each with its evidence in 1.1.0's session.
    assert.deepEqual(doc.ci.diffs.map((d) => d.name).sort(), ['hijack-setup-diff', 'switch-to-sdist']);
    const hijack = doc.ci.diffs.find((d) => d.name === 'hijack-setup-diff')!;
    assert.deepEqual(hijack.from, { version: '1.0.0', verdict: 'allow' });
    assert.equal(hijack.to.version, '1.1.0');
    assert.deepEqual(hijack.scriptsAdded, [], 'both versions build');
    assert.deepEqual(hijack.secretReads.map((t) => t.what), ['~/.pypirc']);
    assert.deepEqual(hijack.hosts.map((t) => t.what), ['telemetry.example']);
    const ids = (p: Pkg) => new Set([...p.session.files, ...p.session.dns, ...p.session.connections, ...p.session.processes].map((e) => e.id));
    for (const thing of [...hijack.secretReads, ...hijack.hosts]) {
      assert.ok(thing.evidence.length > 0 && thing.evidence.every((id) => ids(pkg('hijack-setup-diff')).has(id)), JSON.stringify(thing));
    }
    assert.ok(hijack.newRules.includes('credential-access') && hijack.newRules.includes('exfiltration'), hijack.newRules.join(','));
    assert.match(hijack.summary, /^hijack-setup-diff@1\.1\.0 \(was 1\.0\.0\) started reading ~\/\.pypirc and calling a new host \(telemetry\.example\)/);

    // The wheel turned sdist: the wheel ran nothing, so everything the new build does is new.
    const switched = doc.ci.diffs.find((d) => d.name === 'switch-to-sdist')!;
    assert.deepEqual(switched.from, { version: '1.0.0', verdict: 'allow' });
    assert.deepEqual(switched.scriptsAdded.map((s) => s.event), ['install']);
    assert.match(switched.scriptsAdded[0]!.command, /pip wheel --no-deps --no-build-isolation --no-index/);
    const switchedPkg = pkg('switch-to-sdist');
    assert.ok(switchedPkg.session.processes.length > 0);
    assert.deepEqual(new Set(switched.processes.flatMap((t) => t.evidence)), new Set(switchedPkg.session.processes.map((p) => p.id)), 'every process of the build is new');
    assert.ok(switched.processes.some((t) => /^python3/.test(t.what)), JSON.stringify(switched.processes));
    assert.ok(switched.newRules.includes('install-script-added'), switched.newRules.join(','));
    assert.match(switched.summary, /^switch-to-sdist@1\.1\.0 \(was 1\.0\.0\) started running .*\(new install script\)$/);

    // Markdown: the new behaviour first, the hijack's headline in it, then the packages and findings.
    const md = fs.readFileSync(out('r.md'), 'utf8');
    assert.match(md, /^## ⛔ safe-install: BLOCK \(fails this check\)/);
    const news = md.indexOf('### New behaviour since the base version');
    assert.ok(news > 0 && news < md.indexOf('### Packages') && news < md.indexOf('### Findings'), md);
    const headline = md.indexOf('started reading \\~/\\.pypirc and calling a new host \\(telemetry\\.example\\)');
    assert.ok(headline > news && headline < md.indexOf('### Packages'), md);
    assert.match(md, /  - reads \\~\/\\\.pypirc \(f\d+(, f\d+)*\)/);
    assert.match(md, /  - contacts telemetry\\\.example \(/);
    assert.match(md, /  - new `install` script: /);

    // SARIF and JUnit carry the headline with the package's findings.
    const sarif = JSON.parse(fs.readFileSync(out('r.sarif'), 'utf8')) as { runs: { results: { ruleId: string; message: { text: string }; properties: { package: string } }[]; properties: { behaviourDiffs: Diff[] } }[] };
    assert.deepEqual(validateSarif(sarif), []);
    const cred = sarif.runs[0]!.results.find((x) => x.properties.package === 'hijack-setup-diff' && x.ruleId === 'credential-access')!;
    assert.match(cred.message.text, /Behaviour diff: hijack-setup-diff@1\.1\.0 \(was 1\.0\.0\) started reading ~\/\.pypirc/);
    assert.deepEqual(sarif.runs[0]!.properties.behaviourDiffs.map((d) => d.name).sort(), ['hijack-setup-diff', 'switch-to-sdist']);
    const junit = fs.readFileSync(out('r.xml'), 'utf8');
    assert.match(junit, /name="hijack-setup-diff@1\.1\.0" file="requirements\.txt" line="2"[^>]*>\s*<failure type="block" message="[^"]*">behaviour diff: hijack-setup-diff@1\.1\.0 \(was 1\.0\.0\) started reading ~\/\.pypirc/);
  });

  test('base versions that cannot be vetted are a note, not a failure of the gate', { timeout: 600_000 }, async () => {
    // The base pinned 1.0.0 with a hash no file on the index has: the base pass fails on it.
    const requirements = (hijack: string) => `--index-url ${index.url}\n${hijack}${pin('switch-to-sdist', '1.1.0', built['switch-to-sdist@1.1.0']!)}`;
    fs.writeFileSync(path.join(repo, 'requirements.txt'), requirements(`hijack-setup-diff==1.0.0 --hash=sha256:${'0'.repeat(64)}\n`));
    git('commit', '-q', '-am', 'a base whose hash no longer matches');
    fs.writeFileSync(path.join(repo, 'requirements.txt'), requirements(pin('hijack-setup-diff', '1.1.0', built['hijack-setup-diff@1.1.0']!)));
    git('commit', '-q', '-am', 'bump');
    const r = await run(['ci', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { verdict: string; packages: { name: string }[]; ci: { notes: string[]; diffs: { name: string; from: { version: string; verdict: string | null }; secretReads: { what: string }[]; hosts: { what: string }[] }[] } };
    assert.equal(doc.verdict, 'block', 'the new version is still judged');
    assert.deepEqual(doc.packages.map((p) => p.name), ['hijack-setup-diff']);
    assert.equal(doc.ci.notes.length, 1, doc.ci.notes.join('\n'));
    assert.match(doc.ci.notes[0]!, /^the Python base versions could not be vetted for the behaviour diff: .*hijack-setup-diff/);
    // As for npm: with no base to compare with, everything the new build does is new, from an unknown verdict.
    assert.equal(doc.ci.diffs.length, 1);
    assert.deepEqual(doc.ci.diffs[0]!.from, { version: '1.0.0', verdict: null });
    assert.deepEqual(doc.ci.diffs[0]!.secretReads.map((t) => t.what), ['~/.pypirc']);
    assert.deepEqual(doc.ci.diffs[0]!.hosts.map((t) => t.what), ['telemetry.example']);
  });
});
