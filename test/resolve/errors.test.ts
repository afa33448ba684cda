/**
 * Every way resolving can fail ends in a typed error with a one-line message and a hint.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveSpecs } from '../../src/resolve/index.js';
import { fixtureDir, fixturesRoot, startLocalRegistry, type LocalRegistry } from '../helpers/local-registry.js';
import { rejectsWith, removeTempDirs, scratch, tempDir } from './support.js';

let reg: LocalRegistry;

before(async () => {
  reg = await startLocalRegistry({
    packages: ['@fixtures/with-dep', '@fixtures/dep-postinstall', '@fixtures/hang', '@fixtures/flood'].map(fixtureDir),
    corrupt: ['@fixtures/hang@1.0.0'],
    truncate: ['@fixtures/flood@1.0.0'],
  });
});

after(async () => {
  await reg.close();
  await removeTempDirs();
});

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

describe('resolve errors', () => {
  test('unknown package name → E_PACKAGE_NOT_FOUND naming the package and the registry', async () => {
    const err = await rejectsWith(resolveSpecs(['@fixtures/no-such-thing'], { registry: reg.url, ...(await scratch()) }), 'E_PACKAGE_NOT_FOUND');
    assert.match(err.message, /no such package @fixtures\/no-such-thing on http:\/\/127\.0\.0\.1:\d+\//);
  });

  test('unknown version → E_PACKAGE_NOT_FOUND with the wanted range and the latest version', async () => {
    const err = await rejectsWith(resolveSpecs(['@fixtures/with-dep@^9'], { registry: reg.url, ...(await scratch()) }), 'E_PACKAGE_NOT_FOUND');
    assert.match(err.message, /no such package @fixtures\/with-dep@\^9 on http:\/\/127\.0\.0\.1/);
    assert.match(err.hint, /latest is 1\.0\.0/);
  });

  test('an unknown transitive dependency names what required it', async () => {
    const dir = join(await tempDir(), 'needs-missing');
    await mkdir(dir);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: '@fixtures/needs-missing', version: '1.0.0', dependencies: { '@fixtures/not-published': '^1.0.0' } }),
    );
    const err = await rejectsWith(resolveSpecs([dir], { registry: reg.url, ...(await scratch()) }), 'E_PACKAGE_NOT_FOUND');
    assert.match(err.message, /@fixtures\/not-published/);
    assert.match(err.message, /required by @fixtures\/needs-missing/);
  });

  test('a tampered tarball (integrity not updated) → E_INTEGRITY, flagged as a security signal', async () => {
    const { workDir, cache } = await scratch();
    const err = await rejectsWith(resolveSpecs(['@fixtures/hang'], { registry: reg.url, cache, workDir }), 'E_INTEGRITY');
    assert.match(err.message, /^SECURITY: /);
    assert.match(err.message, /@fixtures\/hang@1\.0\.0/);
    assert.ok(err.message.includes(`expected ${reg.integrity.get('@fixtures/hang@1.0.0')}`), err.message);
    assert.match(err.message, /got sha512-/);
    assert.deepEqual(await readdir(join(workDir, 'tarballs')), [], 'the unverified bytes were not kept');
  });

  test('a truncated download is an integrity failure, not merely a corrupt archive', async () => {
    await rejectsWith(resolveSpecs(['@fixtures/flood'], { registry: reg.url, ...(await scratch()) }), 'E_INTEGRITY');
  });

  test('a truncated local .tgz → E_BAD_TARBALL', async () => {
    const file = join(await tempDir(), 'truncated.tgz');
    const good = await readFile(reg.tarballs.get('@fixtures/with-dep@1.0.0')!);
    await writeFile(file, good.subarray(0, Math.floor(good.length / 2)));
    const err = await rejectsWith(resolveSpecs([file], { registry: reg.url, ...(await scratch()) }), 'E_BAD_TARBALL');
    assert.ok(err.message.includes('truncated.tgz') || /tarball/.test(err.message), err.message);
  });

  test('a .tgz that is not a tarball at all → E_BAD_TARBALL', async () => {
    const file = join(await tempDir(), 'garbage.tgz');
    await writeFile(file, 'this is not gzip, nor tar'.repeat(100));
    await rejectsWith(resolveSpecs([file], { registry: reg.url, ...(await scratch()) }), 'E_BAD_TARBALL');
  });

  test('a folder without package.json → E_NOT_A_PACKAGE', async () => {
    const dir = join(fixturesRoot(), 'bad', 'not-a-package');
    const err = await rejectsWith(resolveSpecs([dir], { registry: reg.url, ...(await scratch()) }), 'E_NOT_A_PACKAGE');
    assert.ok(err.message.includes(dir), err.message);
  });

  test('a path that does not exist → E_NOT_A_PACKAGE', async () => {
    const missing = join(await tempDir(), 'nope.tgz');
    const err = await rejectsWith(resolveSpecs([missing], { registry: reg.url, ...(await scratch()) }), 'E_NOT_A_PACKAGE');
    assert.ok(err.message.includes(missing), err.message);
  });

  test('a registry that refuses connections → E_REGISTRY_UNREACHABLE within seconds', async () => {
    const registry = `http://127.0.0.1:${await closedPort()}/`;
    const started = Date.now();
    const err = await rejectsWith(resolveSpecs(['@fixtures/with-dep'], { registry, ...(await scratch()) }), 'E_REGISTRY_UNREACHABLE');
    const took = Date.now() - started;
    assert.ok(took < 5000, `failed after ${took} ms`);
    assert.ok(err.message.includes(registry), err.message);
    assert.match(err.hint, /--registry/);
  });

  test('a spec npm cannot parse → E_USAGE', async () => {
    await rejectsWith(resolveSpecs(['not a valid name!'], { registry: reg.url, ...(await scratch()) }), 'E_USAGE');
  });

  test('no specs → E_USAGE; a registry that is not a URL → E_USAGE', async () => {
    await rejectsWith(resolveSpecs([], { registry: reg.url, ...(await scratch()) }), 'E_USAGE');
    await rejectsWith(resolveSpecs(['x'], { registry: 'ftp://example.invalid/', ...(await scratch()) }), 'E_USAGE');
  });
});
