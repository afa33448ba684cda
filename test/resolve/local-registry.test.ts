/**
 * The test registry behaves like registry.npmjs.org where npm's clients look.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fixtureDir, startLocalRegistry, type LocalRegistry } from '../helpers/local-registry.js';
import { sha512Of } from './support.js';

let reg: LocalRegistry;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- packuments are free-form JSON
type Doc = any;
const json = (r: Response): Promise<Doc> => r.json();

before(async () => {
  reg = await startLocalRegistry({
    packages: ['@fixtures/with-dep', '@fixtures/native-addon', '@fixtures/hang'].map(fixtureDir),
    corrupt: ['@fixtures/hang@1.0.0'],
  });
});

after(() => reg.close());

test('packuments by encoded and plain scoped paths, corgi accept header included', async () => {
  const docs = await Promise.all([
    fetch(reg.url + '@fixtures%2fwith-dep').then(json),
    fetch(reg.url + '@fixtures/with-dep').then(json),
    fetch(reg.url + '@fixtures%2Fwith-dep', { headers: { accept: 'application/vnd.npm.install-v1+json' } }).then(json),
  ]);
  for (const doc of docs) {
    assert.equal(doc.name, '@fixtures/with-dep');
    assert.deepEqual(doc['dist-tags'], { latest: '1.0.0' });
    const v = doc.versions['1.0.0'];
    assert.equal(v.dist.integrity, reg.integrity.get('@fixtures/with-dep@1.0.0'));
    assert.match(v.dist.shasum, /^[0-9a-f]{40}$/);
    assert.equal(v.dist.tarball, `${reg.url}@fixtures/with-dep/-/with-dep-1.0.0.tgz`);
    assert.equal(v.hasInstallScript, true);
  }
  const addon = await fetch(reg.url + '@fixtures%2fnative-addon').then(json);
  assert.equal(addon.versions['1.0.0'].hasInstallScript, true, 'binding.gyp counts, as on the public registry');
});

test('tarballs are served byte for byte; a corrupted one is different under the same integrity', async () => {
  const res = await fetch(`${reg.url}@fixtures/with-dep/-/with-dep-1.0.0.tgz`);
  assert.equal(res.status, 200);
  const served = Buffer.from(await res.arrayBuffer());
  assert.deepEqual(served, await readFile(reg.tarballs.get('@fixtures/with-dep@1.0.0')!));
  assert.equal(await sha512Of(reg.tarballs.get('@fixtures/with-dep@1.0.0')!), reg.integrity.get('@fixtures/with-dep@1.0.0'));

  const bad = Buffer.from(await (await fetch(`${reg.url}@fixtures/hang/-/hang-1.0.0.tgz`)).arrayBuffer());
  assert.notDeepEqual(bad, await readFile(reg.tarballs.get('@fixtures/hang@1.0.0')!));
});

test('unknown names and paths → 404 JSON; writes are refused', async () => {
  for (const path of ['nope', '@fixtures%2fnope', '@fixtures/with-dep/-/with-dep-9.9.9.tgz']) {
    const res = await fetch(reg.url + path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get('content-type') ?? '', /json/);
    await res.json();
  }
  assert.equal((await fetch(reg.url + '@fixtures%2fwith-dep', { method: 'PUT', body: '{}' })).status, 405);
  assert.ok(reg.requests.includes('/@fixtures/with-dep'));
});
