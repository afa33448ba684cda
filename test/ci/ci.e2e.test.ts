/**
 * The CI gate end to end: a real git repository, lockfiles written by real `npm install` against
 * the local fixture registry, the real bin and the real sandbox.
 *
 * Base commit: a benign package and @fixtures/hijack-diff@1.0.0. Head commit: hijack-diff moves
 * to 1.0.1 (a new preinstall reads ~/.npmrc and calls telemetry.example) and a typosquat that
 * pipes the environment to a collector is added. `ci` must exit 1 and every report must say why,
 * at the right lockfile line. An unchanged lockfile exits 0 without Docker.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VerdictCache } from '../../src/cache/index.js';
import { packageRoot } from '../../src/package-root.js';
import { loadPolicy } from '../../src/policy/index.js';
import { connectDocker } from '../../src/sandbox/docker.js';
import { ensureSandboxImage } from '../../src/sandbox/image/index.js';
import { validateReport } from '../../src/report/schema.js';
import { allRegistryFixtureDirs, startLocalRegistry, type LocalRegistry } from '../helpers/local-registry.js';
import { validateSarif } from '../report/sarif-schema.js';
import { gitIn, NO_CI_CONTEXT, runIn, type CiRun } from './support.js';

const bin = path.join(packageRoot().dir, 'bin', 'safe-install');
let registry: LocalRegistry;
let work: string;
let repo: string;
let cache: string;

// Async: the registry answers from this very process.
function run(file: string, args: string[], env: Record<string, string> = {}): Promise<CiRun> {
  return runIn(repo, file, args, { ...process.env, ...NO_CI_CONTEXT, npm_config_cache: cache, XDG_CACHE_HOME: path.join(work, 'xdg-empty'), ...env });
}

const git = (...args: string[]) => gitIn(repo, ...args);

async function npmInstall(...specs: string[]): Promise<void> {
  const r = await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--omit-lockfile-registry-resolved=false', '--registry', registry.url, ...specs]);
  assert.equal(r.code, 0, r.stderr);
}

/** 1-based line of `"<key>": {` in the lockfile. */
function lineOf(key: string): number {
  const lines = fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8').split('\n');
  const index = lines.findIndex((l) => l.trimStart().startsWith(`${JSON.stringify(key)}: {`));
  assert.ok(index >= 0, `${key} in the lockfile`);
  return index + 1;
}

before(async () => {
  registry = await startLocalRegistry({ packages: allRegistryFixtureDirs() });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'si-ci-e2e-'));
  repo = path.join(work, 'repo');
  cache = path.join(work, 'npm-cache');
  fs.mkdirSync(repo);
  fs.writeFileSync(path.join(repo, 'package.json'), `${JSON.stringify({ name: 'webapp', version: '1.0.0', private: true }, null, 2)}\n`);
  fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n');
  git('init', '-q', '-b', 'main');
  // The bin compiles itself on first use when sources changed: not part of what is timed below.
  const warm = await run(process.execPath, [bin, '--version']);
  assert.equal(warm.code, 0, warm.stderr);
  await npmInstall('@fixtures/no-scripts@1.0.0', '@fixtures/hijack-diff@1.0.0');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
});

after(async () => {
  await registry?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('safe-install ci', () => {
  test('an unchanged lockfile exits 0 at once, without Docker', async () => {
    // An unreachable Docker engine: any attempt to start a container would be exit 2.
    const r = await run(process.execPath, [bin, 'ci', '--base', 'HEAD'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No added or changed packages in package-lock\.json since HEAD/);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  });

  test('a commit adding a malicious package and a hijacked release exits 1, and every report says why', { timeout: 600_000 }, async () => {
    await npmInstall('@fixtures/hijack-diff@1.0.1', '@fixtures/attack-env-dump-typosquat@1.0.0');
    git('add', 'package.json', 'package-lock.json');
    git('commit', '-q', '-m', 'bump hijack-diff, add a typosquat');
    const hijackLine = lineOf('node_modules/@fixtures/hijack-diff');
    const squatLine = lineOf('node_modules/@fixtures/attack-env-dump-typosquat');
    const out = (name: string) => path.join(work, name);
    fs.writeFileSync(out('summary.md'), '# earlier step\n');
    // No --base: in a repository without a remote the default is HEAD~1, the last commit's change.
    const r = await run(process.execPath, [bin, 'ci', '--json', '--sarif', out('r.sarif'), '--junit', out('r.xml'), '--markdown', out('r.md'), '--html', out('r.html')], {
      GITHUB_STEP_SUMMARY: out('summary.md'),
    });
    assert.equal(r.code, 1, r.stderr);

    type Pkg = { name: string; version: string; verdict: string; findings: { rule: string }[] };
    const doc = JSON.parse(r.stdout) as { verdict: string; packages: Pkg[]; ci: { base: { ref: string }; changes: { kind: string; pkg: { name: string; version: string; line: number }; previous?: { version: string } }[]; diffs: { name: string; summary: string; hosts: { what: string }[]; secretReads: { what: string }[]; scriptsAdded: { event: string }[] }[] } };
    assert.deepEqual(validateReport(doc).errors, []);
    assert.equal(doc.verdict, 'block');
    assert.equal(doc.ci.base.ref, 'HEAD~1');
    const changes = doc.ci.changes.map((c) => `${c.kind} ${c.pkg.name}@${c.pkg.version}:${c.pkg.line} ${c.previous?.version ?? '-'}`).sort();
    assert.deepEqual(changes, [`added @fixtures/attack-env-dump-typosquat@1.0.0:${squatLine} -`, `changed @fixtures/hijack-diff@1.0.1:${hijackLine} 1.0.0`]);
    const rules = (name: string) => doc.packages.find((p) => p.name === name)!.findings.map((f) => f.rule);
    assert.ok(rules('@fixtures/hijack-diff').includes('install-script-added'), rules('@fixtures/hijack-diff').join(','));
    assert.ok(rules('@fixtures/hijack-diff').includes('credential-access'));
    assert.ok(rules('@fixtures/attack-env-dump-typosquat').includes('exfiltration'), rules('@fixtures/attack-env-dump-typosquat').join(','));

    // The behaviour diff: what 1.0.1 does that 1.0.0 did not.
    const diff = doc.ci.diffs.find((d) => d.name === '@fixtures/hijack-diff')!;
    assert.deepEqual(diff.scriptsAdded.map((s) => s.event), ['preinstall']);
    assert.deepEqual(diff.secretReads.map((t) => t.what), ['~/.npmrc']);
    assert.ok(diff.hosts.some((t) => t.what === 'telemetry.example'), JSON.stringify(diff.hosts));
    assert.match(diff.summary, /^@fixtures\/hijack-diff@1\.0\.1 \(was 1\.0\.0\) started reading ~\/\.npmrc, calling a new host/);

    // SARIF: valid, the rule ids, at the package's lockfile line.
    const sarif = JSON.parse(fs.readFileSync(out('r.sarif'), 'utf8')) as { runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[]; properties: { package: string } }[] }[] };
    assert.deepEqual(validateSarif(sarif), []);
    const at = (pkg: string, rule: string) => sarif.runs[0]!.results.find((x) => x.properties.package === pkg && x.ruleId === rule)?.locations[0]!.physicalLocation;
    assert.deepEqual(at('@fixtures/hijack-diff', 'install-script-added'), { artifactLocation: { uri: 'package-lock.json', uriBaseId: '%SRCROOT%' }, region: { startLine: hijackLine } });
    assert.deepEqual(at('@fixtures/attack-env-dump-typosquat', 'exfiltration'), { artifactLocation: { uri: 'package-lock.json', uriBaseId: '%SRCROOT%' }, region: { startLine: squatLine } });

    // JUnit: both packages fail, with the line.
    const junit = fs.readFileSync(out('r.xml'), 'utf8');
    assert.match(junit, new RegExp(`name="@fixtures/hijack-diff@1\\.0\\.1" file="package-lock\\.json" line="${hijackLine}"[^>]*>\\s*<failure type="block"`));
    assert.match(junit, new RegExp(`name="@fixtures/attack-env-dump-typosquat@1\\.0\\.0" file="package-lock\\.json" line="${squatLine}"[^>]*>\\s*<failure type="block"`));
    assert.match(junit, /install-script-added: adds install-time scripts its previous version did not have: preinstall: node setup\.js/);

    // Markdown: the new behaviour first, then the findings; also appended to the job summary.
    const md = fs.readFileSync(out('r.md'), 'utf8');
    assert.match(md, /^## ⛔ safe-install: BLOCK \(fails this check\)/);
    assert.ok(md.indexOf('### New behaviour since the base version') < md.indexOf('### Findings'));
    assert.match(md, /started reading \\~\/\\\.npmrc, calling a new host/);
    assert.match(md, /`exfiltration`/);
    assert.match(md, /`install-script-added`/);
    assert.match(md, new RegExp(`package\\\\-lock\\\\\\.json\\\\:${hijackLine}`));
    assert.equal(fs.readFileSync(out('summary.md'), 'utf8'), `# earlier step\n${md}\n`);

    // HTML: written, self-contained.
    const html = fs.readFileSync(out('r.html'), 'utf8');
    assert.match(html, /<span class="verdict v-block" id="verdict">BLOCK<\/span>/);
    assert.ok(!/<(link|img|iframe)\b|src="http/.test(html));
  });

  test('a lockfile whose integrity the registry does not match is refused (exit 2), pointing at the line', async () => {
    const file = path.join(repo, 'package-lock.json');
    const original = fs.readFileSync(file, 'utf8');
    const lock = JSON.parse(original) as { packages: Record<string, { integrity?: string }> };
    lock.packages['node_modules/@fixtures/no-scripts']!.integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
    fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
    try {
      const r = await run(process.execPath, [bin, 'ci', '--base', 'HEAD', '--quiet', '--registry', registry.url]);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`@fixtures/no-scripts@1\\.0\\.0: the registry's tarball .* does not match package-lock\\.json:${lineOf('node_modules/@fixtures/no-scripts')}`));
      assert.match(r.stderr, /hint: /);
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});

describe('safe-install ci with the verdict cache', () => {
  test('a package the install cache already allowed (same bytes, policy, image) is not run again; --no-cache runs it', { timeout: 300_000 }, async () => {
    const file = path.join(repo, 'package-lock.json');
    const original = fs.readFileSync(file, 'utf8');
    const xdg = path.join(work, 'xdg-cache');
    try {
      await npmInstall('@fixtures/dep-postinstall@1.0.0');
      const lock = JSON.parse(fs.readFileSync(file, 'utf8')) as { packages: Record<string, { integrity: string }> };
      const integrity = lock.packages['node_modules/@fixtures/dep-postinstall']!.integrity;
      // What `safe-install install` stores after allowing it: the facts and the verdict, keyed
      // on the policy in force here and the sandbox image.
      const cache = new VerdictCache(path.join(xdg, 'safe-install'));
      const policy = await loadPolicy({ projectDir: repo });
      const image = await ensureSandboxImage(await connectDocker());
      cache.putFacts(integrity, { scripts: { postinstall: 'node -e "marker"' }, implicitNodeGyp: false });
      cache.putVerdict(
        { integrity, policyDigest: policy.digest, image: image.tag },
        { name: '@fixtures/dep-postinstall', version: '1.0.0', integrity, verdict: 'allow', findings: [], removed: [], at: Date.now() / 1000 },
        Buffer.alloc(0),
      );
      const hit = await run(process.execPath, [bin, 'ci', '--base', 'HEAD', '--json'], { XDG_CACHE_HOME: xdg });
      assert.equal(hit.code, 0, hit.stderr);
      const doc = JSON.parse(hit.stdout) as { packages: { name: string }[]; ci: { cached: { change: { pkg: { name: string } }; reason: string }[] } };
      assert.deepEqual(doc.ci.cached.map((c) => `${c.change.pkg.name} ${c.reason}`), ['@fixtures/dep-postinstall allowed before']);
      assert.deepEqual(doc.packages, [], 'nothing was sandboxed');
      assert.doesNotMatch(hit.stderr, /sandboxing/);
      const fresh = await run(process.execPath, [bin, 'ci', '--base', 'HEAD', '--json', '--no-cache'], { XDG_CACHE_HOME: xdg });
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.match(fresh.stderr, /sandboxing 1\/1 @fixtures\/dep-postinstall@1\.0\.0 postinstall/);
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});

describe('safe-install diff', () => {
  test('diff a@1.0.0 a@1.0.1 shows what is new first and exits 1', { timeout: 300_000 }, async () => {
    const r = await run(process.execPath, [bin, 'diff', '@fixtures/hijack-diff@1.0.0', '@fixtures/hijack-diff@1.0.1', '--registry', registry.url]);
    assert.equal(r.code, 1, r.stderr);
    const first = r.stdout.split('\n')[0]!;
    assert.match(first, /^NEW {2}@fixtures\/hijack-diff@1\.0\.1 \(was 1\.0\.0\) started reading ~\/\.npmrc, calling a new host \(telemetry\.example\)/);
    assert.match(r.stdout, /\+ preinstall script: node setup\.js/);
    assert.match(r.stdout, /Verdict: BLOCK/);
    const bad = await run(process.execPath, [bin, 'diff', '@fixtures/hijack-diff@1.0.0', '@fixtures/other@1.0.1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /diff compares two versions of one package/);
  });
});
