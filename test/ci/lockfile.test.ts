import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffLockfiles } from '../../src/ci/lockfile-diff.js';
import { integrityMatches } from '../../src/ci/integrity.js';
import { parsePackageLock } from '../../src/ci/package-lock.js';
import { parseKey, parsePnpmLock } from '../../src/ci/pnpm-lock.js';
import { registryOf } from '../../src/ci/gate.js';
import { isSafeInstallError } from '../../src/errors/index.js';

const R = 'https://registry.example/';
function lock(packages: Record<string, Record<string, unknown>>): string {
  return `${JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', version: '1.0.0' }, ...packages } }, null, 2)}\n`;
}
const entry = (name: string, version: string, extra: Record<string, unknown> = {}) => ({
  version,
  resolved: `${R}${name}/-/${name.split('/').pop()}-${version}.tgz`,
  integrity: `sha512-${name}-${version}`,
  ...extra,
});

test('package-lock v3: every installed package with the line of its key', () => {
  const text = lock({
    'node_modules/a': entry('a', '1.0.0'),
    'node_modules/@s/b': entry('@s/b', '2.0.0', { hasInstallScript: true }),
    'node_modules/a/node_modules/c': entry('c', '0.1.0'),
    'packages/ws': { name: 'ws', version: '0.0.0' },
    'node_modules/ws': { resolved: 'packages/ws', link: true },
  });
  const parsed = parsePackageLock(text, 'package-lock.json');
  const lines = text.split('\n');
  assert.deepEqual(
    parsed.packages.map((p) => [p.name, p.version, p.key]),
    [
      ['a', '1.0.0', 'node_modules/a'],
      ['@s/b', '2.0.0', 'node_modules/@s/b'],
      ['c', '0.1.0', 'node_modules/a/node_modules/c'],
    ],
  );
  for (const pkg of parsed.packages) assert.match(lines[pkg.line - 1]!, new RegExp(`^\\s*"${pkg.key.replace(/[/@]/g, '\\$&')}": \\{`), pkg.key);
  assert.equal(parsed.packages[1]!.hasInstallScript, true);
});

test('package-lock v1 and broken JSON are refused with a hint (exit 2)', () => {
  const v1 = JSON.stringify({ name: 'app', lockfileVersion: 1, dependencies: { a: { version: '1.0.0' } } });
  assert.throws(() => parsePackageLock(v1, 'package-lock.json'), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE' && /lockfileVersion 1/.test(err.message) && /npm 7/.test(err.hint));
  assert.throws(() => parsePackageLock('{ "packages": ', 'package-lock.json'), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE');
});

test('lockfile diff: new versions, new packages and swapped tarballs count; moves do not', () => {
  const base = parsePackageLock(lock({ 'node_modules/a': entry('a', '1.0.0'), 'node_modules/b': entry('b', '1.0.0'), 'node_modules/x/node_modules/m': entry('m', '3.0.0') }), 'package-lock.json');
  const head = parsePackageLock(
    lock({
      'node_modules/a': entry('a', '1.1.0'),
      'node_modules/b': entry('b', '1.0.0', { integrity: 'sha512-other' }),
      'node_modules/m': entry('m', '3.0.0'),
      'node_modules/n': entry('n', '0.0.1'),
    }),
    'package-lock.json',
  );
  const changes = diffLockfiles(base, head);
  assert.deepEqual(
    changes.map((c) => [c.kind, `${c.pkg.name}@${c.pkg.version}`, c.previous?.version ?? null]),
    [
      ['changed', 'a@1.1.0', '1.0.0'],
      ['changed', 'b@1.0.0', '1.0.0'],
      ['added', 'n@0.0.1', null],
    ],
  );
  assert.deepEqual(diffLockfiles(head, head), []);
  assert.equal(diffLockfiles(null, head).length, 4, 'no base lockfile: everything is new');
});

test('pnpm-lock: v6 and v9 keys, peer suffixes, integrity and lines', () => {
  assert.deepEqual(parseKey('/@scope/pkg@1.2.3(react@18.2.0)'), { name: '@scope/pkg', version: '1.2.3' });
  assert.deepEqual(parseKey('left-pad@1.3.0'), { name: 'left-pad', version: '1.3.0' });
  assert.deepEqual(parseKey('/left_pad/1.3.0_react@18.0.0'), { name: 'left_pad', version: '1.3.0' });
  assert.deepEqual(parseKey('/@s/p/2.0.0'), { name: '@s/p', version: '2.0.0' });
  const text = [
    "lockfileVersion: '9.0'",
    '',
    'packages:',
    '',
    "  '@s/native@2.0.0':",
    '    resolution: {integrity: sha512-native}',
    '    requiresBuild: true',
    '',
    '  left-pad@1.3.0:',
    '    resolution: {integrity: sha512-lp}',
    '',
  ].join('\n');
  const parsed = parsePnpmLock(text, 'pnpm-lock.yaml');
  assert.deepEqual(
    parsed.packages.map((p) => [p.name, p.version, p.integrity, p.line, p.hasInstallScript ?? false]),
    [
      ['@s/native', '2.0.0', 'sha512-native', 5, true],
      ['left-pad', '1.3.0', 'sha512-lp', 9, false],
    ],
  );
  assert.throws(() => parsePnpmLock('packages:\n  a: [\n', 'pnpm-lock.yaml'), (err: unknown) => isSafeInstallError(err) && err.code === 'E_LOCKFILE' && /^pnpm-lock\.yaml:\d+:/.test(err.message));
});

test('integrity: a shared algorithm must agree; no shared algorithm proves nothing', () => {
  assert.equal(integrityMatches('sha512-AAA', 'sha512-AAA'), true);
  assert.equal(integrityMatches('sha512-AAA', 'sha512-BBB'), false);
  assert.equal(integrityMatches('sha1-xx sha512-AAA', 'sha512-AAA'), true);
  assert.equal(integrityMatches('sha1-xx', 'sha512-AAA'), false);
  assert.equal(integrityMatches('sha512-AAA sha1-yy', 'sha1-xx sha512-AAA'), false, 'any disagreeing algorithm fails');
});

test('registryOf: the one registry the changed packages came from, else none', () => {
  const a = { name: '@s/a', version: '1.0.0', key: 'node_modules/@s/a', line: 1, resolved: 'http://127.0.0.1:4873/npm/@s/a/-/a-1.0.0.tgz' };
  const b = { name: 'b', version: '1.0.0', key: 'node_modules/b', line: 2, resolved: 'http://127.0.0.1:4873/npm/b/-/b-1.0.0.tgz' };
  const c = { name: 'c', version: '1.0.0', key: 'node_modules/c', line: 3, resolved: 'https://registry.npmjs.org/c/-/c-1.0.0.tgz' };
  assert.equal(registryOf([a, b]), 'http://127.0.0.1:4873/npm/');
  assert.equal(registryOf([a, c]), undefined);
});
