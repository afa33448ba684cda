/**
 * The host-side resolver and archive helpers (helper-py.ts run by real python3), against a
 * find-links folder of wheels zipped here. No sandbox and no package code: wheels only, and
 * resolution never builds anything.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runHelper } from '../../src/pip/python.js';
import { isSafeInstallError } from '../../src/errors/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-resolve-test-'));
const links = path.join(tmp, 'links');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function wheel(name: string, version: string, requires: string[] = [], tag = 'py3-none-any'): void {
  const dist = name.replace(/-/g, '_');
  const members = {
    [`${dist}/__init__.py`]: '',
    [`${dist}-${version}.dist-info/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n${requires.map((r) => `Requires-Dist: ${r}\n`).join('')}`,
  };
  const r = spawnSync('python3', ['-I', '-B', '-c', 'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\nfor k, v in json.loads(sys.stdin.read()).items(): z.writestr(k, v)\nz.close()', path.join(links, `${dist}-${version}-${tag}.whl`)], { input: JSON.stringify(members), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

before(() => {
  fs.mkdirSync(links);
  wheel('app', '1.0', ['lib>=1.0', 'extra-only; extra == "full"', 'py2-only; python_version < "3"']);
  wheel('app', '2.0rc1', ['lib>=1.0']);
  wheel('lib', '1.0');
  wheel('lib', '1.5');
  wheel('lib', '2.0', [], 'cp27-cp27m-win32'); // not installable here: skipped, never chosen
  wheel('extra-only', '1.0');
  wheel('py2-only', '1.0');
});

interface Resolved {
  packages: { name: string; version: string; kind: string; sha256: string }[];
}

const resolve = (input: Record<string, unknown>) =>
  runHelper<Resolved>('python3', 'resolve', { requirements: [], requirementFiles: [], constraintFiles: [], extraIndexUrls: [], findLinks: [links], noIndex: true, ignoreInstalled: true, ignoreConfig: true, dest: fs.mkdtempSync(path.join(tmp, 'dest-')), ...input });

test('requirement files (nested -r, comments, continuations), markers, extras, constraints, no pre-releases, wheel tags', async () => {
  const sub = path.join(tmp, 'sub.txt');
  fs.writeFileSync(sub, 'app[full] \\\n  >=1.0  # the app\n');
  const req = path.join(tmp, 'req.txt');
  fs.writeFileSync(req, `# top\n-r sub.txt\n`);
  const con = path.join(tmp, 'con.txt');
  fs.writeFileSync(con, 'lib<1.5\n');
  const got = await resolve({ requirementFiles: [req], constraintFiles: [con] });
  assert.deepEqual(got.packages.map((p) => `${p.name}==${p.version}`), ['app==1.0', 'lib==1.0', 'extra-only==1.0']);
  const plain = await resolve({ requirements: ['app'] });
  assert.deepEqual(plain.packages.map((p) => `${p.name}==${p.version}`), ['app==1.0', 'lib==1.5'], 'no extra, no py2 marker, no win32 wheel');
  const pre = await resolve({ requirements: ['app'], pre: true });
  assert.equal(pre.packages[0]!.version, '2.0rc1');
});

test('a conflict, a missing project and an editable requirement are errors with their code, never guesses', async () => {
  const fails = async (input: Record<string, unknown>, code: string, re: RegExp) => {
    await assert.rejects(resolve(input), (err: unknown) => isSafeInstallError(err) && err.code === code && re.test(err.message));
  };
  await fails({ requirements: ['app', 'lib==1.0', 'lib>1.0'] }, 'E_RESOLVE', /conflicting requirements for lib/);
  await fails({ requirements: ['nothing-here'] }, 'E_PACKAGE_NOT_FOUND', /no distribution of nothing-here/);
  const ed = path.join(tmp, 'ed.txt');
  fs.writeFileSync(ed, '-e .\n');
  await fails({ requirementFiles: [ed] }, 'E_USAGE', /editable requirements/);
  await fails({ requirements: ['lib==1.0'], requireHashes: true }, 'E_INTEGRITY', /no hash given for lib/);
});

test('a .zip sdist is repacked as .tar.gz; a member escaping with .. refuses the archive', async () => {
  const mk = (file: string, members: Record<string, string>) => {
    const r = spawnSync('python3', ['-I', '-B', '-c', 'import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\nfor k, v in json.loads(sys.stdin.read()).items(): z.writestr(k, v)\nz.close()', file], { input: JSON.stringify(members), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return file;
  };
  const good = mk(path.join(tmp, 'zpkg-1.0.zip'), { 'zpkg-1.0/PKG-INFO': 'Metadata-Version: 2.1\nName: zpkg\nVersion: 1.0\n', 'zpkg-1.0/setup.py': '' });
  const info = await runHelper<{ name: string; version: string }>('python3', 'sdist', { path: good });
  assert.deepEqual([info.name, info.version], ['zpkg', '1.0']);
  const out = path.join(tmp, 'zpkg.tar.gz');
  await runHelper('python3', 'repack', { path: good, dest: out });
  const list = spawnSync('tar', ['-tzf', out], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
  assert.deepEqual(list, ['zpkg-1.0/PKG-INFO', 'zpkg-1.0/setup.py']);
  const bad = mk(path.join(tmp, 'evil-1.0.zip'), { 'evil-1.0/PKG-INFO': 'x', '../../escape': 'x' });
  await assert.rejects(runHelper('python3', 'repack', { path: bad, dest: path.join(tmp, 'evil.tar.gz') }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_BAD_TARBALL' && /unsafe member/.test(err.message));
});

test('--index-url and --extra-index-url: file:// simple indexes (index.html pages, #sha256 checked); a missing project page is skipped', async () => {
  const mkIndex = (label: string, project: string, file: string, hash: string) => {
    const dir = path.join(tmp, label, 'simple', project);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.html'), `<html><body><a href="../../../links/${file}#sha256=${hash}">${file}</a></body></html>`);
    return `file://${path.join(tmp, label, 'simple')}`;
  };
  const digest = (f: string) => spawnSync('sha256sum', [path.join(links, f)], { encoding: 'utf8' }).stdout.split(' ')[0]!;
  const main = mkIndex('idx-main', 'app', 'app-1.0-py3-none-any.whl', digest('app-1.0-py3-none-any.whl'));
  const extra = mkIndex('idx-extra', 'lib', 'lib-1.0-py3-none-any.whl', digest('lib-1.0-py3-none-any.whl'));
  const got = await resolve({ requirements: ['app'], findLinks: [], noIndex: false, indexUrl: main, extraIndexUrls: [extra] });
  assert.deepEqual(got.packages.map((p) => `${p.name}==${p.version}`), ['app==1.0', 'lib==1.0']);
  const liar = mkIndex('idx-liar', 'lib', 'lib-1.5-py3-none-any.whl', '0'.repeat(64));
  await assert.rejects(resolve({ requirements: ['lib'], findLinks: [], noIndex: false, indexUrl: liar }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_INTEGRITY');
});

test('requirement lines read elsewhere (the CI gate): their hashes, constraint markers, no dependencies, other platforms, how the version before installs', async () => {
  const more = path.join(tmp, 'links-ci');
  fs.mkdirSync(more);
  const mkWheel = (file: string, name: string, version: string) => {
    const dist = name.replace(/-/g, '_');
    const r = spawnSync('python3', ['-I', '-B', '-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\nz.writestr(sys.argv[2] + "/METADATA", "Metadata-Version: 2.1\\nName: " + sys.argv[3] + "\\nVersion: " + sys.argv[4] + "\\n")\nz.close()', path.join(more, file), `${dist}-${version}.dist-info`, name, version], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  mkWheel('grown-1.0-py3-none-any.whl', 'grown', '1.0');
  // 1.1 is an sdist only (static metadata, so no build is needed to know it has no dependencies).
  const stage = path.join(tmp, 'stage-grown');
  fs.mkdirSync(path.join(stage, 'grown-1.1'), { recursive: true });
  fs.writeFileSync(path.join(stage, 'grown-1.1', 'PKG-INFO'), 'Metadata-Version: 2.2\nName: grown\nVersion: 1.1\n');
  assert.equal(spawnSync('tar', ['-czf', path.join(more, 'grown-1.1.tar.gz'), '-C', stage, 'grown-1.1']).status, 0);
  mkWheel('winonly-1.0-cp311-cp311-win_amd64.whl', 'winonly', '1.0');
  const entry = (spec: string, origin: string, hashes: string[] = []) => ({ spec, hashes, base: tmp, origin });
  interface CiResolved {
    packages: { name: string; version: string; kind: string; sha256: string; requiredBy: string | null; previousKind?: string | null }[];
    unavailable: { name: string; files: string[] }[];
    markerExcluded: { name: string; origin: string; marker: string }[];
  }
  const ci = (input: Record<string, unknown>) => resolve({ findLinks: [links, more], ...input }) as unknown as Promise<CiResolved>;

  const grown = await ci({ requirementEntries: [entry('grown', 'requirements.txt:3')] });
  assert.deepEqual(grown.packages.map((p) => [p.name, p.version, p.kind, p.requiredBy, p.previousKind]), [['grown', '1.1', 'sdist', null, 'wheel']], 'the version before was a wheel: nothing ran at its install');
  assert.equal((await ci({ requirementEntries: [entry('grown==1.0', 'requirements.txt:3')] })).packages[0]!.previousKind, null, 'a first release has no version before');

  // Dependencies follow unless the request is a lockfile's (noDeps); constraints whose marker excludes this Python constrain nothing.
  const withDeps = await ci({ requirementEntries: [entry('app==1.0', 'r.txt:1')], constraintEntries: [entry('lib==1.0 ; python_version < "3"', 'r.txt:2')] });
  assert.deepEqual(withDeps.packages.map((p) => `${p.name}==${p.version}<${p.requiredBy ?? ''}`), ['app==1.0<', 'lib==1.5<app']);
  const pinnedDep = await ci({ requirementEntries: [entry('app==1.0', 'r.txt:1')], constraintEntries: [entry('lib==1.0 ; python_version >= "3"', 'r.txt:2')] });
  assert.deepEqual(pinnedDep.packages.map((p) => `${p.name}==${p.version}`), ['app==1.0', 'lib==1.0']);
  const noDeps = await ci({ requirementEntries: [entry('app==1.0', 'uv.lock:4')], noDeps: true });
  assert.deepEqual(noDeps.packages.map((p) => p.name), ['app']);

  // The entry's hashes bind what is fetched.
  const wrong = entry('lib==1.0', 'requirements.txt:7', [`sha256:${'0'.repeat(64)}`]);
  await assert.rejects(ci({ requirementEntries: [wrong] }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_INTEGRITY' && /lib-1\.0-py3-none-any\.whl has sha256 [0-9a-f]{64}, which the requirements do not list/.test(err.message));

  // A line for another Python is said, not resolved; files for another platform only are said when asked.
  const other = await ci({ requirementEntries: [entry('py2-only==1.0 ; python_version < "3"', 'requirements.txt:9'), entry('lib==1.0', 'requirements.txt:10')] });
  assert.deepEqual(other.markerExcluded, [{ name: 'py2-only', origin: 'requirements.txt:9', marker: 'python_version < "3"' }]);
  assert.deepEqual(other.packages.map((p) => p.name), ['lib']);
  const win = await ci({ requirementEntries: [entry('winonly==1.0', 'uv.lock:9')], skipUnavailable: true });
  assert.deepEqual([win.packages, win.unavailable.map((u) => [u.name, u.files])], [[], [['winonly', ['winonly-1.0-cp311-cp311-win_amd64.whl']]]]);
  await assert.rejects(ci({ requirementEntries: [entry('winonly==1.0', 'uv.lock:9')] }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_PACKAGE_NOT_FOUND');
});

test("a lockfile's index is used when neither a flag nor pip's config names one", async () => {
  const dir = path.join(tmp, 'idx-lock', 'simple', 'lib');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<html><body><a href="../../../links/lib-1.0-py3-none-any.whl">lib-1.0-py3-none-any.whl</a></body></html>');
  const lockIndex = `file://${path.join(tmp, 'idx-lock', 'simple')}`;
  const entries = [{ spec: 'lib==1.0', hashes: [], base: tmp, origin: 'uv.lock:5' }];
  const got = await resolve({ requirementEntries: entries, findLinks: [], noIndex: false, sourceIndexUrls: [lockIndex] });
  assert.deepEqual(got.packages.map((p) => `${p.name}==${p.version}`), ['lib==1.0']);
  // A flag wins: the lockfile's index is not read then.
  const empty = path.join(tmp, 'idx-empty', 'simple');
  fs.mkdirSync(empty, { recursive: true });
  await assert.rejects(resolve({ requirementEntries: entries, findLinks: [], noIndex: false, indexUrl: `file://${empty}`, sourceIndexUrls: [lockIndex] }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_PACKAGE_NOT_FOUND');
});
