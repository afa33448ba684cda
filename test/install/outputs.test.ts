/**
 * The host's checks on build outputs coming out of the sandbox: hand-made tars with every
 * way out of a package folder, each of which must be refused before anything is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import * as tar from 'tar';
import { checkOutputs, insidePath, landOutputs, listOutputs } from '../../src/install/outputs.js';
import { readNpmSettings } from '../../src/install/npmrc.js';
import { VerdictCache } from '../../src/cache/index.js';

interface Spec {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  body?: string;
  linkpath?: string;
  mode?: number;
}

/** A tar built header by header, so it can hold what no honest tar tool would write. */
function makeTar(entries: Spec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new tar.Header({
      path: e.path,
      type,
      size: type === 'File' ? body.length : 0,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-outputs-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function pkgDir(label: string): string {
  const dir = path.join(tmp, label, 'node_modules', 'pkg');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"pkg","version":"1.0.0"}');
  return dir;
}

/** Every file under the folder that holds the package (so writes next to it show too). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      out.push(`${path.relative(tmp, full)}${e.isSymbolicLink() ? ` -> ${fs.readlinkSync(full)}` : ''}`);
      if (e.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

describe('build outputs on the host', () => {
  test('insidePath keeps relative paths in the folder and out of its node_modules', () => {
    assert.equal(insidePath('build/Release/addon.node'), 'build/Release/addon.node');
    assert.equal(insidePath('./build//x'), 'build/x');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', '..', '.', '', 'node_modules/other/index.js', 'node_modules', 'a\\..\\x', 'C:/x']) {
      assert.equal(insidePath(bad), null, bad);
    }
  });

  test('an honest build lands: files, folders, an inner symlink, and deletions', async () => {
    const dir = pkgDir('honest');
    fs.writeFileSync(path.join(dir, 'prebuilt-other-os.node'), 'x');
    const bytes = makeTar([
      { path: 'build', type: 'Directory' },
      { path: 'build/Release', type: 'Directory' },
      { path: 'build/Release/addon.node', body: 'ELF', mode: 0o755 },
      { path: 'build/latest', type: 'SymbolicLink', linkpath: 'Release/addon.node' },
    ]);
    await landOutputs(dir, bytes, ['prebuilt-other-os.node'], 'pkg@1.0.0');
    assert.equal(fs.readFileSync(path.join(dir, 'build/Release/addon.node'), 'utf8'), 'ELF');
    assert.equal(fs.statSync(path.join(dir, 'build/Release/addon.node')).mode & 0o777, 0o755);
    assert.equal(fs.readlinkSync(path.join(dir, 'build/latest')), 'Release/addon.node');
    assert.ok(!fs.existsSync(path.join(dir, 'prebuilt-other-os.node')));
  });

  test('replaces files instead of writing into them (a copy sharing the inode stays as it was)', async () => {
    const dir = pkgDir('replace');
    const shared = path.join(tmp, 'replace', 'shared.js');
    fs.writeFileSync(shared, 'original');
    fs.linkSync(shared, path.join(dir, 'index.js'));
    await landOutputs(dir, makeTar([{ path: 'index.js', body: 'patched' }]), [], 'pkg@1.0.0');
    assert.equal(fs.readFileSync(path.join(dir, 'index.js'), 'utf8'), 'patched');
    assert.equal(fs.readFileSync(shared, 'utf8'), 'original');
  });

  const refused: [string, Spec[], string[], RegExp][] = [
    ['an absolute path', [{ path: '/tmp/si-evil', body: 'x' }], [], /outside the package folder/],
    ['a path with ..', [{ path: '../other/index.js', body: 'x' }], [], /outside the package folder/],
    ['a write into its node_modules', [{ path: 'node_modules/dep/index.js', body: 'x' }], [], /outside the package folder/],
    ['a symlink to an absolute path', [{ path: 'home', type: 'SymbolicLink', linkpath: '/root' }], [], /absolute path/],
    ['a symlink climbing out', [{ path: 'build/up', type: 'SymbolicLink', linkpath: '../../../..' }], [], /leaves the package folder/],
    ['a write through its own symlink', [{ path: 'out', type: 'SymbolicLink', linkpath: 'build' }, { path: 'out/x', body: 'x' }], [], /through the symlink/],
    ['a hard link', [{ path: 'a', body: 'x' }, { path: 'b', type: 'Link', linkpath: 'a' }], [], /Link entry/],
    ['a device file', [{ path: 'dev', type: 'CharacterDevice' }], [], /CharacterDevice entry/],
    ['a FIFO', [{ path: 'fifo', type: 'FIFO' }], [], /FIFO entry/],
    ['a setuid file', [{ path: 'bin/tool', body: 'x', mode: 0o4755 }], [], /setuid/],
    ['a removal outside', [], ['../../package.json'], /removal outside/],
  ];
  for (const [label, entries, removed, why] of refused) {
    test(`refuses ${label}, writing nothing`, async () => {
      const dir = pkgDir(label.replace(/\W+/g, '-'));
      const before = snapshot(path.dirname(path.dirname(dir)));
      await assert.rejects(landOutputs(dir, makeTar([{ path: 'fine.txt', body: 'ok' }, ...entries]), removed, 'pkg@1.0.0'), (err: Error) => {
        assert.match(err.message, why);
        return true;
      });
      assert.deepEqual(snapshot(path.dirname(path.dirname(dir))), before);
    });
  }

  test('refuses to write through a folder that is a symlink on the host', async () => {
    const dir = pkgDir('host-link');
    const outside = path.join(tmp, 'host-link', 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(dir, 'build'));
    await assert.rejects(landOutputs(dir, makeTar([{ path: 'build/x.node', body: 'x' }]), [], 'pkg@1.0.0'), /symlink on the host/);
    assert.deepEqual(fs.readdirSync(outside), []);
  });

  test('listOutputs and checkOutputs agree on an empty export', async () => {
    assert.deepEqual(await listOutputs(Buffer.alloc(0)), []);
    assert.equal(checkOutputs([], []), null);
  });
});

describe('npm settings and the verdict cache', () => {
  test('.npmrc files and npm_config_* env are read in npm\'s order', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'npmrc-'));
    const user = path.join(dir, 'userrc');
    fs.writeFileSync(user, 'save-exact=true\nomit-lockfile-registry-resolved=true\nregistry=https://user.example/\n');
    fs.writeFileSync(path.join(dir, '.npmrc'), '; comment\nregistry=${REG}\n@acme:registry=https://acme.example/\nlockfile-version=2\n');
    const s = readNpmSettings(dir, { npm_config_userconfig: user, npm_config_globalconfig: path.join(dir, 'none'), REG: 'https://project.example/', npm_config_save_exact: 'false' });
    assert.equal(s.options.registry, 'https://project.example/');
    assert.equal(s.options.saveExact, false, 'env beats files');
    assert.equal(s.options.omitLockfileRegistryResolved, true);
    assert.equal(s.options.lockfileVersion, 2);
    assert.deepEqual(s.scoped, { '@acme:registry': 'https://acme.example/' });
  });

  test('the cache keys on integrity, policy and image, and refuses a tampered tar', () => {
    const cache = new VerdictCache(fs.mkdtempSync(path.join(tmp, 'cache-')));
    const key = { integrity: 'sha512-abc=', policyDigest: 'p1', image: 'img:1' };
    const verdict = { name: 'x', version: '1.0.0', integrity: key.integrity, verdict: 'allow' as const, findings: [], removed: [], at: 0 };
    cache.putVerdict(key, verdict, Buffer.from('tar bytes'));
    assert.equal(cache.getVerdict(key)?.outputs.toString(), 'tar bytes');
    assert.equal(cache.getVerdict({ ...key, policyDigest: 'p2' }), null);
    assert.equal(cache.getVerdict({ ...key, image: 'img:2' }), null);
    const tarFile = fs.readdirSync(path.join(cache.dir, 'verdicts')).find((f) => f.endsWith('.tar'))!;
    fs.writeFileSync(path.join(cache.dir, 'verdicts', tarFile), 'other bytes');
    assert.equal(cache.getVerdict(key), null);
    assert.equal(VerdictCache.usable('sha1-abc='), false);
    assert.equal(VerdictCache.usable(null), false);
  });
});
