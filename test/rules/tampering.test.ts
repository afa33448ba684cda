import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tamperingRule } from '../../src/rules/tampering.js';
import { writeOutsidePackageRule } from '../../src/rules/write-outside-package.js';
import { ChainBuilder, PROJECT } from './chain-builder.js';
import { run } from './helpers.js';

test('tampering: writing into another package (also a nested one) is high, one finding per package', () => {
  const b = new ChainBuilder();
  const a = b.pkg('a');
  b.pkg('b', '1.0.0', { location: 'node_modules/a/node_modules/b' });
  b.pkg('react');
  const s = a.script('postinstall', 'node x.js');
  const react1 = s.file(s.root, 'write', `${PROJECT}/node_modules/react/index.js`);
  const react2 = s.file(s.root, 'create', `${PROJECT}/node_modules/react/cjs/hook.js`, { mode: '0644' });
  const nested = s.file(s.root, 'write', `${a.dir}/node_modules/b/lib/main.js`);
  s.file(s.root, 'write', `${a.dir}/lib/own.js`);
  const findings = run(tamperingRule, b.build(), 'node_modules/a');
  assert.deepEqual(findings.map((f) => [f.severity, f.message, f.evidence]), [
    ['high', 'changes another package (react): ~/code/webapp/node_modules/react/index.js, ~/code/webapp/node_modules/react/cjs/hook.js', [react1.id, react2.id]],
    ['high', 'changes another package (b): ~/code/webapp/node_modules/a/node_modules/b/lib/main.js', [nested.id]],
  ]);
});

test("tampering: the host project's files, its lockfile and node_modules/.bin entries", () => {
  const b = new ChainBuilder();
  const s = b.pkg('meddler').script('postinstall', 'node x.js');
  const src = s.file(s.root, 'write', `${PROJECT}/src/index.ts`);
  const pkgJson = s.file(s.root, 'write', `${PROJECT}/package.json`);
  const lock = s.file(s.root, 'write', `${PROJECT}/package-lock.json`);
  const bin = s.file(s.root, 'link', `${PROJECT}/node_modules/.bin/eslint`, { target: `${PROJECT}/node_modules/meddler/fake-eslint.js`, syscall: 'symlink' });
  const messages = run(tamperingRule, b.build()).map((f) => [f.message, f.evidence]);
  assert.deepEqual(messages, [
    ["changes the host project's files: ~/code/webapp/src/index.ts, ~/code/webapp/package.json", [src.id, pkgJson.id]],
    ["changes the project's lockfile: ~/code/webapp/package-lock.json", [lock.id]],
    ['changes commands in node_modules/.bin: ~/code/webapp/node_modules/.bin/eslint', [bin.id]],
  ]);
});

test('tampering: a self-deleting installer hides its tracks (its script and package.json)', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('dropper');
  const s = pkg.script('postinstall', 'node setup.js', { wrapperExecs: ['node', 'setup.js'] });
  const del = s.file(s.root, 'delete', `${pkg.dir}/setup.js`, { syscall: 'unlinkat' });
  const swap = s.file(s.root, 'rename', `${pkg.dir}/package.md`, { target: `${pkg.dir}/package.json`, syscall: 'rename' });
  const [finding, ...rest] = run(tamperingRule, b.build());
  assert.equal(rest.length, 0);
  assert.equal(finding?.severity, 'high');
  assert.deepEqual(finding?.evidence, [del.id, swap.id]);
  assert.equal(finding?.message, 'deletes/rewrites its own install script after running it (hiding its tracks): setup.js, package.json');
});

test('tampering: own files, its own scratch files, caches and reads do not fire', () => {
  const b = new ChainBuilder();
  b.pkg('other');
  const pkg = b.pkg('builder');
  const s = pkg.script('install', 'sh ./configure && make', { wrapperExecs: ['sh', './configure'] });
  s.file(s.root, 'create', `${pkg.dir}/build/conftest`, { mode: '0755' });
  s.process([`${pkg.dir}/build/conftest`], { exe: `${pkg.dir}/build/conftest` });
  s.file(s.root, 'delete', `${pkg.dir}/build/conftest`, { syscall: 'unlinkat' });
  s.file(s.root, 'write', `${pkg.dir}/build/config.h`);
  s.file(s.root, 'read', `${PROJECT}/package.json`);
  s.file(s.root, 'read', `${PROJECT}/node_modules/other/package.json`);
  s.file(s.root, 'write', `${PROJECT}/node_modules/.cache/builder/x.json`);
  s.file(s.root, 'write', `${PROJECT}/src/index.ts`, { result: 'ENOTDIR' });
  assert.deepEqual(run(tamperingRule, b.build(), pkg.info.location), []);
});

test('tampering: python caching the bytecode of the package its script comes from is not tampering; anyone else writing a .pyc there is', () => {
  const b = new ChainBuilder();
  b.pkg('node-gyp', '11.0.0', { location: 'node_modules/node-gyp' });
  const s = b.pkg('sqlite3', '6.0.1').script('install', 'node-gyp rebuild');
  const gypDir = `${PROJECT}/node_modules/node-gyp/gyp`;
  const python = s.process(['/usr/bin/python3', `${gypDir}/gyp_main.py`, 'binding.gyp'], { exe: '/usr/bin/python3' });
  s.file(python, 'mkdir', `${gypDir}/pylib/gyp/__pycache__`);
  s.file(python, 'create', `${gypDir}/pylib/gyp/__pycache__/input.cpython-311.pyc.139924458231904`);
  s.file(python, 'rename', `${gypDir}/pylib/gyp/__pycache__/input.cpython-311.pyc.139924458231904`, { target: `${gypDir}/pylib/gyp/__pycache__/input.cpython-311.pyc` });
  assert.deepEqual(run(tamperingRule, b.build(), 'node_modules/sqlite3'), []);
  assert.deepEqual(run(writeOutsidePackageRule, b.build(), 'node_modules/sqlite3'), []);

  const node = s.process(['node', 'poison.js']);
  const poison = s.file(node, 'create', `${gypDir}/pylib/gyp/__pycache__/common.cpython-311.pyc`);
  const findings = run(tamperingRule, b.build(), 'node_modules/sqlite3');
  assert.equal(findings.length, 1);
  assert.deepEqual(findings[0]?.evidence, [poison.id]);
});
