import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileAt, resolveBase } from '../../src/ci/git.js';
import { lockfileDelta } from '../../src/ci/gate.js';
import { vetPythonChanges } from '../../src/ci/python.js';
import { isSafeInstallError } from '../../src/errors/index.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function repo(): { dir: string; git: (...args: string[]) => string; commit: (file: string, text: string) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-ci-git-'));
  dirs.push(dir);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' } }).trim();
  git('init', '-q', '-b', 'main');
  const commit = (file: string, text: string) => {
    fs.writeFileSync(path.join(dir, file), text);
    git('add', file);
    git('commit', '-q', '-m', `edit ${file}`);
    return git('rev-parse', 'HEAD');
  };
  return { dir, git, commit };
}

const lock = (deps: Record<string, string>) =>
  JSON.stringify({ lockfileVersion: 3, packages: { '': {}, ...Object.fromEntries(Object.entries(deps).map(([n, v]) => [`node_modules/${n}`, { version: v, integrity: `sha512-${n}${v}` }])) } }, null, 2);

test('base: --base, then the PR target, then origin/HEAD, then HEAD~1, then nothing', async () => {
  const r = repo();
  assert.deepEqual(await resolveBase(r.dir, undefined, {}), { ref: '(none)', commit: null, reason: 'no commits yet: every locked package is new' });
  const first = r.commit('package-lock.json', lock({ a: '1.0.0' }));
  assert.equal((await resolveBase(r.dir, undefined, {})).commit, first);
  const second = r.commit('package-lock.json', lock({ a: '1.1.0' }));
  assert.deepEqual(await resolveBase(r.dir, undefined, {}), { ref: 'HEAD~1', commit: first, reason: 'the previous commit (no other base found)' });
  // A "remote" default branch at the first commit: a feature branch compares with its fork point.
  r.git('update-ref', 'refs/remotes/origin/main', first);
  r.git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main');
  assert.equal((await resolveBase(r.dir, undefined, {})).ref, 'origin/HEAD');
  assert.equal((await resolveBase(r.dir, undefined, { GITHUB_BASE_REF: 'main' })).reason, 'merge-base with the pull request target (GITHUB_BASE_REF)');
  assert.equal((await resolveBase(r.dir, 'HEAD', {})).commit, second);
  await assert.rejects(resolveBase(r.dir, 'no-such-ref', {}), (err: unknown) => isSafeInstallError(err) && err.code === 'E_GIT' && /fetch-depth/.test(err.hint));
  assert.equal(await fileAt(r.dir, first, 'missing.json'), null);
});

test('lockfileDelta: only what changed since the base, npm lockfiles and requirements files alike; nothing left as a note', async () => {
  const r = repo();
  r.commit('package-lock.json', lock({ a: '1.0.0', b: '1.0.0' }));
  fs.writeFileSync(path.join(r.dir, 'package-lock.json'), lock({ a: '1.0.0', b: '2.0.0', c: '0.1.0' }));
  fs.writeFileSync(path.join(r.dir, 'requirements-dev.txt'), '# dev\nrequests==2.0\n');
  const delta = await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} });
  assert.deepEqual(delta.changes.map((c) => `${c.kind} ${c.lockfile} ${c.pkg.name}@${c.pkg.version}:${c.pkg.line}`), [
    'changed package-lock.json b@2.0.0:9',
    'added package-lock.json c@0.1.0:13',
    'added requirements-dev.txt requests@2.0:2',
  ]);
  assert.deepEqual(delta.lockfiles, ['package-lock.json', 'requirements-dev.txt']);
  assert.deepEqual(delta.notes, [], 'requirements changes are sandboxed, not noted');
  fs.writeFileSync(path.join(r.dir, 'package-lock.json'), lock({ a: '1.0.0', b: '1.0.0' }));
  assert.deepEqual((await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} })).changes.map((c) => c.lockfile), ['requirements-dev.txt']);
  r.commit('requirements-dev.txt', '# dev\nrequests==2.0\n');
  assert.deepEqual((await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} })).changes, []);
  // A Python-only repository has a lockfile too.
  fs.rmSync(path.join(r.dir, 'package-lock.json'));
  assert.deepEqual((await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} })).lockfiles, ['requirements-dev.txt']);
  fs.rmSync(path.join(r.dir, 'requirements-dev.txt'));
  await assert.rejects(lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE');
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'si-ci-nogit-'));
  dirs.push(outside);
  await assert.rejects(lockfileDelta({ cwd: outside, env: {} }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_GIT');
});

test('lockfileDelta for Python: includes followed from the working tree, constraint files read but not diffed, a new editable line noted', async () => {
  const r = repo();
  fs.mkdirSync(path.join(r.dir, 'requirements'));
  fs.writeFileSync(path.join(r.dir, 'requirements', 'base.txt'), 'a==1.0\n-c ../constraints.txt\n');
  fs.writeFileSync(path.join(r.dir, 'constraints.txt'), 'b==1.0\n');
  r.git('add', '.');
  r.commit('requirements.txt', '-r requirements/base.txt\n-e .\n');
  fs.writeFileSync(path.join(r.dir, 'requirements', 'base.txt'), '# bumped\na==1.1\n-c ../constraints.txt\n');
  fs.writeFileSync(path.join(r.dir, 'constraints.txt'), 'b==2.0\n');
  fs.writeFileSync(path.join(r.dir, 'requirements.txt'), '-r requirements/base.txt\n-e .\n-e ./plugins/x\n');
  const delta = await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} });
  assert.deepEqual(delta.lockfiles, ['requirements.txt', 'requirements/base.txt']);
  assert.deepEqual(delta.changes.map((c) => `${c.kind} ${c.lockfile}:${c.pkg.line} ${c.pkg.name}@${c.pkg.version} was ${c.previous?.version}`), ['changed requirements/base.txt:2 a@1.1 was 1.0']);
  assert.deepEqual(delta.notes, ['requirements.txt:3: editable requirement ./plugins/x (a local project, not a package from an index) was not sandboxed']);
  assert.deepEqual([...delta.python.constraintOnly], ['constraints.txt']);
  fs.writeFileSync(path.join(r.dir, 'requirements.txt'), '-e .\n-r requirements/gone.txt\n');
  await assert.rejects(lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE' && err.message === 'requirements.txt:2 includes requirements/gone.txt, which does not exist');
});

test('Python files the gate cannot read faithfully stop it only when they matter: changed, or read by a changed install', async () => {
  const r = repo();
  fs.writeFileSync(path.join(r.dir, 'uv.lock'), '[[package]]\nname = "broken\n');
  fs.writeFileSync(path.join(r.dir, 'requirements-extra.txt'), 'x==1\n');
  r.git('add', '.');
  r.commit('requirements.txt', '--only-binary :all:\n-r requirements-extra.txt\n');
  r.commit('package-lock.json', lock({ a: '1.0.0' }));
  fs.writeFileSync(path.join(r.dir, 'package-lock.json'), lock({ a: '1.1.0' }));
  // Unchanged: an npm change is gated as before.
  const npmOnly = await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} });
  assert.deepEqual(npmOnly.changes.map((c) => `${c.lockfile} ${c.pkg.name}@${c.pkg.version}`), ['package-lock.json a@1.1.0']);
  // An included file changes: the install reading --only-binary is refused before anything runs.
  fs.writeFileSync(path.join(r.dir, 'requirements-extra.txt'), 'x==2\n');
  const delta = await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} });
  const python = delta.changes.filter((c) => c.pkg.ecosystem === 'pypi');
  assert.deepEqual(python.map((c) => `${c.lockfile}:${c.pkg.line} ${c.pkg.name}@${c.pkg.version}`), ['requirements-extra.txt:1 x@2']);
  await assert.rejects(
    vetPythonChanges(python, delta.python, { root: r.dir, tool: { name: 'safe-install', version: '0' }, scan: {}, index: { python: '/nonexistent/python3' } }),
    (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE' && /^requirements\.txt:1: the option --only-binary/.test(err.message),
  );
  // The file itself changes: refused in the cheap step.
  fs.writeFileSync(path.join(r.dir, 'requirements.txt'), '--only-binary :all:\n-r requirements-extra.txt\ny==1\n');
  await assert.rejects(lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE' && /^requirements\.txt:1: /.test(err.message));
  // A lockfile that does not parse: ignored while unchanged, refused once changed.
  fs.writeFileSync(path.join(r.dir, 'requirements.txt'), '--only-binary :all:\n-r requirements-extra.txt\n');
  fs.writeFileSync(path.join(r.dir, 'requirements-extra.txt'), 'x==1\n');
  assert.deepEqual((await lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} })).lockfiles, ['package-lock.json', 'requirements-extra.txt', 'requirements.txt', 'uv.lock']);
  fs.appendFileSync(path.join(r.dir, 'uv.lock'), '# edited\n');
  await assert.rejects(lockfileDelta({ cwd: r.dir, base: 'HEAD', env: {} }), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE' && /^uv\.lock:2: not valid TOML/.test(err.message));
});
