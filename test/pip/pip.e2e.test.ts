/**
 * `safe-install pip install` and pip scans end to end: the real CLI, a real venv made by
 * `python3 -m venv`, real pip, the real sandbox, sdists and wheels archived by the test from
 * fixtures/pip and served by a local simple index on loopback. No fixture runs on the host:
 * the tests only tar and zip them; every build happens in the sandbox.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { validateReport } from '../../src/report/schema.js';
import { startCli, writeLauncher } from '../helpers/cli.js';
import { makeSdist, makeWheel, sha256, startSimpleIndex, treeDigest } from './pip-index.js';

let tmp: string;
let files: string;
let launcher: string;
let index: Awaited<ReturnType<typeof startSimpleIndex>>;
const built: Record<string, string> = {};

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-pip-test-'));
  files = path.join(tmp, 'files');
  fs.mkdirSync(files);
  for (const n of ['attack-setup-exfil', 'benign-cext', 'benign-pure']) built[n] = makeSdist(n, files);
  for (const n of ['attack-pth-wheel', 'benign-tool-wheel', 'review-data-wheel']) built[n] = makeWheel(n, files);
  index = await startSimpleIndex(files);
  launcher = writeLauncher(tmp);
});

after(async () => {
  await index.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function venv(label: string): { dir: string; python: string; site: string; env: Record<string, string> } {
  const dir = path.join(tmp, `venv-${label}`);
  const r = spawnSync('python3', ['-m', 'venv', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const python = path.join(dir, 'bin', 'python');
  const site = spawnSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).stdout.trim();
  return { dir, python, site, env: { VIRTUAL_ENV: dir, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` } };
}

function run(args: string[], env: Record<string, string> = {}, cwd = tmp): Promise<Run> {
  return startCli(launcher, cwd, args, { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: path.join(tmp, 'state'), XDG_CACHE_HOME: path.join(tmp, 'cache'), SAFE_INSTALL_NONINTERACTIVE: '1', PIP_CONFIG_FILE: os.devNull, PIP_FIND_LINKS: '', PIP_INDEX_URL: '', PIP_EXTRA_INDEX_URL: '', ...env }).done;
}

interface Report {
  verdict: string;
  packages: { name: string; version: string; verdict: string; scripts: Record<string, string>; findings: { rule: string; severity: string; message: string }[] }[];
  install?: { installed: boolean; packages: { name: string; kind: string }[] };
}

const rulesOf = (r: Report, name: string) => r.packages.find((p) => p.name === name)?.findings.map((f) => `${f.rule}:${f.severity}`) ?? [];

describe('safe-install pip install', () => {
  test('a malicious sdist is built only in the sandbox and blocked (exfiltration, credential-access); the venv stays byte-identical', async () => {
    const v = venv('attack');
    const before = treeDigest(v.dir);
    const r = await run(['pip', 'install', 'attack-setup-exfil', '--index-url', index.url, '--json'], v.env);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.verdict, 'block');
    assert.equal(report.install?.installed, false);
    assert.deepEqual(validateReport(report).errors, [], 'the report follows schemaVersion 1');
    const pkg = report.packages.find((p) => p.name === 'attack-setup-exfil')!;
    assert.match(pkg.scripts.install ?? '', /pip wheel --no-deps --no-build-isolation --no-index/);
    const rules = rulesOf(report, 'attack-setup-exfil');
    assert.ok(rules.includes('exfiltration:critical'), rules.join(' '));
    assert.ok(rules.includes('credential-access:high'), rules.join(' '));
    assert.ok(pkg.findings.some((f) => f.rule === 'exfiltration' && /collect\.example/.test(f.message) && /aws/.test(f.message)));
    assert.equal(treeDigest(v.dir), before, 'the venv changed');
    assert.ok(!fs.readdirSync(v.site).some((f) => f.startsWith('attack')));
  });

  test('a wheel carrying a .pth payload is blocked as persistence; nothing lands', async () => {
    const v = venv('pth');
    const before = treeDigest(v.dir);
    const r = await run(['pip', 'install', 'attack-pth-wheel==1.0.0', '-i', index.url, '--json'], v.env);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.verdict, 'block');
    const pkg = report.packages.find((p) => p.name === 'attack-pth-wheel')!;
    assert.deepEqual(pkg.scripts, {}, 'a wheel runs nothing at install time');
    assert.ok(pkg.findings.some((f) => f.rule === 'persistence' && f.severity === 'high' && /attack_pth_wheel_init\.pth/.test(f.message)), JSON.stringify(pkg.findings));
    assert.equal(treeDigest(v.dir), before, 'the venv changed');
  });

  test('benign sdists (a C extension, and a package whose dependency only setup.py names) are built in the sandbox, land in the venv and import (python -m pip, -r)', async () => {
    const v = venv('benign');
    const req = path.join(tmp, 'requirements.txt');
    fs.writeFileSync(req, `# a comment\nbenign-pure==1.0.0\n`);
    const r = await run(['python', '-m', 'pip', 'install', '-r', req, '--index-url', index.url, '--json'], v.env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(report.verdict, 'allow');
    assert.equal(report.install?.installed, true);
    assert.deepEqual(validateReport(report).errors, []);
    assert.deepEqual(report.install?.packages.map((p) => `${p.name}:${p.kind}`).sort(), ['benign-cext:sdist', 'benign-pure:sdist']);
    // A normal setuptools build (build/, *.egg-info, the wheel, gcc in /tmp) is not a write outside the package.
    for (const p of report.packages) {
      const loud = p.findings.filter((f) => f.severity !== 'info' && f.severity !== 'low');
      assert.deepEqual(loud, [], `${p.name}: ${JSON.stringify(loud)}`);
      assert.ok(!p.findings.some((f) => f.rule === 'write-outside-package' || f.rule === 'tampering' || f.rule === 'persistence' || f.rule === 'credential-access'), `${p.name}: ${JSON.stringify(p.findings)}`);
    }
    assert.ok(rulesOf(report, 'benign-cext').includes('native-build:info'));
    const imported = spawnSync(v.python, ['-c', 'import benign_pure, benign_cext; print(benign_pure.twice(21), benign_cext.add(2, 3)); print(benign_cext._speed.__file__)'], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);
    const [sums, so] = imported.stdout.trim().split('\n');
    assert.equal(sums, '42 5');
    assert.ok(so!.startsWith(v.site) && so!.endsWith('.so'), so);
    const last = await run(['log', 'show', '--last', '--json']);
    const rec = JSON.parse(last.stdout) as { kind: string; body: { verdict: string; command: string[] } };
    assert.equal(rec.kind, 'install');
    assert.equal(rec.body.verdict, 'allow');
    assert.deepEqual(rec.body.command.slice(0, 4), ['python', '-m', 'pip', 'install']);
  });

  test('--require-hashes with a hash that does not match refuses before anything runs (exit 2), the venv unchanged', async () => {
    const v = venv('hashes');
    const before = treeDigest(v.dir);
    const req = path.join(tmp, 'hashed.txt');
    fs.writeFileSync(req, `benign-tool-wheel==1.0.0 --hash=sha256:${'0'.repeat(64)}\n`);
    const r = await run(['pip', 'install', '--require-hashes', '-r', req, '--index-url', index.url], v.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /benign_tool_wheel-1\.0\.0-py3-none-any\.whl has sha256 [0-9a-f]{64}, which the requirements do not list/);
    assert.equal(treeDigest(v.dir), before);
    // The right hash goes through: a wheel with a console script is listed (info) and allowed.
    fs.writeFileSync(req, `benign-tool-wheel==1.0.0 --hash=sha256:${sha256(built['benign-tool-wheel']!)}\n`);
    // pip's own configuration counts: here the index comes from PIP_INDEX_URL, and -q goes before install.
    const ok = await run(['pip', '-q', 'install', '--require-hashes', '-r', req, '--json'], { ...v.env, PIP_INDEX_URL: index.url });
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as Report;
    assert.deepEqual(rulesOf(report, 'benign-tool-wheel'), ['write-outside-package:info']);
    assert.ok(fs.existsSync(path.join(v.dir, 'bin', 'benign-tool')));
  });

  test('review (data files into etc/ outside site-packages): refused without a person to ask, installed with --yes', async () => {
    const v = venv('review');
    const before = treeDigest(v.dir);
    const refused = await run(['pip', 'install', 'review-data-wheel', '--no-index', '--find-links', files], v.env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /nothing was installed \(verdict REVIEW: review-data-wheel@1\.0\.0: write-outside-package\)/);
    assert.equal(treeDigest(v.dir), before);
    const yes = await run(['pip', 'install', 'review-data-wheel', '--no-index', '--find-links', files, '--yes', '--json'], v.env);
    assert.equal(yes.code, 0, yes.stderr);
    const report = JSON.parse(yes.stdout) as Report;
    assert.equal(report.verdict, 'review');
    assert.ok(report.packages[0]!.findings.some((f) => f.rule === 'write-outside-package' && f.severity === 'medium' && /etc\/review_data_wheel\.conf/.test(f.message)));
    assert.equal(fs.readFileSync(path.join(v.dir, 'etc', 'review_data_wheel.conf'), 'utf8'), 'setting = 1\n');
  });

  test('bad input is exit 2 with a hint: unknown sub-command, unknown package, editable requirement', async () => {
    const v = venv('bad');
    const sub = await run(['pip', 'download', 'x'], v.env);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /only pip install goes through the sandbox/);
    const missing = await run(['pip', 'install', 'no-such-project', '--index-url', index.url], v.env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no distribution of no-such-project/);
    const req = path.join(tmp, 'editable.txt');
    fs.writeFileSync(req, '-e ./somewhere\n');
    const editable = await run(['pip', 'install', '-r', req], v.env);
    assert.equal(editable.code, 2);
    assert.match(editable.stderr, /editable requirements .* are not supported/);
  });
});

describe('safe-install scan of Python distributions', () => {
  test('an sdist file is built in the sandbox and blocked; a wheel file is inspected and allowed', async () => {
    const bad = await run(['scan', built['attack-setup-exfil']!, '--json', '--quiet']);
    assert.equal(bad.code, 1, bad.stderr);
    const badReport = JSON.parse(bad.stdout) as Report;
    assert.equal(badReport.verdict, 'block');
    assert.ok(rulesOf(badReport, 'attack-setup-exfil').includes('exfiltration:critical'));
    const good = await run(['scan', built['benign-tool-wheel']!, '--json', '--quiet']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal((JSON.parse(good.stdout) as Report).verdict, 'allow');
  });

  test('an sdist whose build fails: nothing bad was seen, but nothing was inspected either: exit 2, not allowed', async () => {
    const broken = makeSdist('broken-build', files);
    const r = await run(['scan', broken, '--json', '--quiet']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^safe-install: could not decide: building broken-build 1\.0\.0 in the sandbox ended failed/m);
  });

  test('pip:<requirement> with --index-url resolves from the index', async () => {
    const r = await run(['scan', 'pip:attack-pth-wheel', '--index-url', index.url, '--json', '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.ok(rulesOf(report, 'attack-pth-wheel').includes('persistence:high'));
    assert.ok(index.requests.includes('/simple/attack-pth-wheel/'));
  });
});
