/** pnpm's lockfile v9, its build settings, and the sandbox layout made from them. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildDecider, readBuildSettings } from '../../src/pnpm/build-policy.js';
import { sandboxLayout } from '../../src/pnpm/layout.js';
import { installableHere, parsePnpmLockV9 } from '../../src/pnpm/lockfile.js';

// The shape pnpm 10 writes: peers in depPaths, an alias, a workspace link, platform packages.
const LOCK = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      app-dep:
        specifier: ^1.0.0
        version: 1.0.0(react@18.2.0)
      strip:
        specifier: npm:strip-ansi@6.0.1
        version: strip-ansi@6.0.1
      lib:
        specifier: workspace:*
        version: link:packages/lib

packages:

  app-dep@1.0.0:
    resolution: {integrity: sha512-aaa}
    peerDependencies:
      react: '*'

  react@18.2.0:
    resolution: {integrity: sha512-bbb}

  strip-ansi@6.0.1:
    resolution: {integrity: sha512-ccc}

  ansi-regex@5.0.1:
    resolution: {integrity: sha512-ddd}

  ansi-regex@6.0.0:
    resolution: {integrity: sha512-eee}

  '@esbuild/darwin-arm64@0.20.0':
    resolution: {integrity: sha512-fff}
    cpu: [arm64]
    os: [darwin]

snapshots:

  app-dep@1.0.0(react@18.2.0):
    dependencies:
      react: 18.2.0
      ansi-regex: 6.0.0
    optionalDependencies:
      '@esbuild/darwin-arm64': 0.20.0

  react@18.2.0: {}

  strip-ansi@6.0.1:
    dependencies:
      ansi-regex: 5.0.1

  ansi-regex@5.0.1: {}

  ansi-regex@6.0.0: {}

  '@esbuild/darwin-arm64@0.20.0':
    optional: true
`;

describe('pnpm lockfile v9', () => {
  const lock = parsePnpmLockV9(LOCK, 'pnpm-lock.yaml');

  test('packages, with integrity and platform lists; snapshots with peers stripped to their package', () => {
    assert.equal(lock.packages.get('react@18.2.0')?.integrity, 'sha512-bbb');
    assert.equal(lock.packages.get('@esbuild/darwin-arm64@0.20.0')?.name, '@esbuild/darwin-arm64');
    assert.equal(lock.snapshots.get('app-dep@1.0.0(react@18.2.0)')?.id, 'app-dep@1.0.0');
    assert.deepEqual(lock.snapshots.get('app-dep@1.0.0(react@18.2.0)')?.dependencies, [
      { name: 'react', depPath: 'react@18.2.0' },
      { name: 'ansi-regex', depPath: 'ansi-regex@6.0.0' },
      { name: '@esbuild/darwin-arm64', depPath: '@esbuild/darwin-arm64@0.20.0' },
    ]);
    assert.equal(lock.snapshots.get('@esbuild/darwin-arm64@0.20.0')?.optional, true);
  });

  test('importers: an alias keeps the name it is required by; workspace links are not packages', () => {
    assert.deepEqual(lock.importers.get('.'), [
      { name: 'app-dep', depPath: 'app-dep@1.0.0(react@18.2.0)' },
      { name: 'strip', depPath: 'strip-ansi@6.0.1' },
    ]);
  });

  test('platform packages pnpm would skip here', () => {
    const darwin = lock.packages.get('@esbuild/darwin-arm64@0.20.0')!;
    assert.equal(installableHere(darwin, { os: 'linux', cpu: 'x64', libc: 'glibc' }), false);
    assert.equal(installableHere(darwin, { os: 'darwin', cpu: 'arm64', libc: 'unknown' }), true);
    assert.equal(installableHere({ ...darwin, os: ['!win32'], cpu: undefined }, { os: 'linux', cpu: 'x64', libc: 'glibc' }), true);
    assert.equal(installableHere({ ...darwin, os: ['!linux'], cpu: undefined }, { os: 'linux', cpu: 'x64', libc: 'glibc' }), false);
    assert.equal(installableHere(lock.packages.get('react@18.2.0')!), true);
  });

  test('older lockfiles and broken YAML are refused with a hint', () => {
    assert.throws(() => parsePnpmLockV9("lockfileVersion: '6.0'\n", 'x.yaml'), (e: Error & { code?: string }) => e.code === 'E_LOCKFILE' && /v9/.test(e.message));
    assert.throws(() => parsePnpmLockV9('lockfileVersion: [\n', 'x.yaml'), (e: Error & { code?: string }) => e.code === 'E_LOCKFILE');
  });
});

describe('sandbox layout for pnpm packages', () => {
  const lock = parsePnpmLockV9(LOCK, 'pnpm-lock.yaml');

  test('first come at the top, another version of a taken name nested under its dependent', () => {
    const linux = (depPath: string) => installableHere(lock.packages.get(lock.snapshots.get(depPath)!.id)!, { os: 'linux', cpu: 'x64', libc: 'glibc' });
    const placed = sandboxLayout(lock, ['app-dep@1.0.0(react@18.2.0)', 'strip-ansi@6.0.1'], linux);
    const at = Object.fromEntries(placed.map((p) => [p.location, p.depPath]));
    assert.equal(at['node_modules/app-dep'], 'app-dep@1.0.0(react@18.2.0)');
    assert.equal(at['node_modules/strip-ansi'], 'strip-ansi@6.0.1');
    assert.equal(at['node_modules/react'], 'react@18.2.0');
    assert.equal(at['node_modules/ansi-regex'], 'ansi-regex@6.0.0');
    assert.equal(at['node_modules/strip-ansi/node_modules/ansi-regex'], 'ansi-regex@5.0.1');
    const strip = placed.find((p) => p.depPath === 'strip-ansi@6.0.1')!;
    assert.deepEqual(strip.dependencies, ['node_modules/strip-ansi/node_modules/ansi-regex']);
    // pnpm skips the darwin binary on linux: so does the sandbox.
    assert.equal(placed.filter((p) => p.depPath.startsWith('@esbuild')).length, 0);
    assert.equal(sandboxLayout(lock, ['app-dep@1.0.0(react@18.2.0)']).filter((p) => p.depPath.startsWith('@esbuild')).length, 1);
  });

  test('two packages to build with one name each get a folder', () => {
    const placed = sandboxLayout(lock, ['ansi-regex@5.0.1', 'ansi-regex@6.0.0']);
    assert.deepEqual(
      placed.map((p) => p.location),
      ['node_modules/ansi-regex', 'node_modules/.safe-install-1/node_modules/ansi-regex'],
    );
  });
});

describe('pnpm build settings', () => {
  const dirWith = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-pnpm-settings-'));
    for (const [name, text] of Object.entries({ 'package.json': '{"name":"x"}', ...files })) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };

  test('pnpm 10 builds nothing unless allowed; pnpm 9 builds everything', () => {
    const dir = dirWith({});
    assert.equal(buildDecider(readBuildSettings(dir), 10)('esbuild', '0.20.0').build, false);
    assert.equal(buildDecider(readBuildSettings(dir), 9)('esbuild', '0.20.0').build, true);
  });

  test('allowBuilds in pnpm-workspace.yaml: names, pinned versions, false entries', () => {
    const dir = dirWith({ 'pnpm-workspace.yaml': 'allowBuilds:\n  esbuild: true\n  "sharp@0.33.0 || 0.33.1": true\n  core-js: false\n' });
    const decide = buildDecider(readBuildSettings(dir), 10);
    assert.equal(decide('esbuild', '0.25.0').build, true);
    assert.equal(decide('sharp', '0.33.1').build, true);
    assert.equal(decide('sharp', '0.34.0').build, false);
    assert.equal(decide('core-js', '3.0.0').build, false);
    assert.match(decide('core-js', '3.0.0').why, /allowBuilds/);
  });

  test('onlyBuiltDependencies in package.json, its file, neverBuiltDependencies, .npmrc', () => {
    assert.equal(buildDecider(readBuildSettings(dirWith({ 'package.json': '{"pnpm":{"onlyBuiltDependencies":["bcrypt"]}}' })), 9)('esbuild', '1.0.0').build, false);
    const withFile = dirWith({ 'package.json': '{"pnpm":{"onlyBuiltDependenciesFile":"allow.json"}}', 'allow.json': '["esbuild"]' });
    assert.equal(buildDecider(readBuildSettings(withFile), 10)('esbuild', '1.0.0').build, true);
    const never = dirWith({ 'pnpm-workspace.yaml': 'neverBuiltDependencies: [core-js]\n' });
    assert.equal(buildDecider(readBuildSettings(never), 9)('core-js', '3.0.0').build, false);
    assert.equal(buildDecider(readBuildSettings(never), 9)('esbuild', '1.0.0').build, true);
    const all = dirWith({ '.npmrc': 'dangerously-allow-all-builds=true\n' });
    assert.equal(buildDecider(readBuildSettings(all), 10)('anything', '1.0.0').build, true);
  });

  test('a broken workspace file or allow-list file fails clearly', () => {
    assert.throws(() => readBuildSettings(dirWith({ 'pnpm-workspace.yaml': 'allowBuilds: [\n' })), (e: Error & { code?: string }) => e.code === 'E_USAGE');
    const badFile = dirWith({ 'package.json': '{"pnpm":{"onlyBuiltDependenciesFile":"nope.json"}}' });
    assert.throws(() => buildDecider(readBuildSettings(badFile), 10), (e: Error & { code?: string }) => e.code === 'E_USAGE');
  });
});
