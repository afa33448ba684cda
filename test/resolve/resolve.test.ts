/**
 * resolveSpecs against a real npm registry on loopback serving the fixtures.
 */
import assert from 'node:assert/strict';
import { cp, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tar from 'tar';
import { resolveSpecs, type ResolveProgress } from '../../src/resolve/index.js';
import type { PackageInfo } from '../../src/session/types.js';
import { allRegistryFixtureDirs, fixturesRoot, startLocalRegistry, type LocalRegistry } from '../helpers/local-registry.js';
import { rawTarball, removeTempDirs, scratch, sha512Of, tempDir } from './support.js';

let reg: LocalRegistry;

before(async () => {
  reg = await startLocalRegistry({ packages: allRegistryFixtureDirs() });
});

after(async () => {
  await reg.close();
  await removeTempDirs();
});

function byName<P extends PackageInfo>(packages: P[], name: string): P {
  const p = packages.find((q) => q.name === name);
  assert.ok(p, `${name} is in the tree (${packages.map((q) => q.name).join(', ')})`);
  return p;
}

async function tarEntries(file: string): Promise<string[]> {
  const paths: string[] = [];
  await tar.t({ file, onReadEntry: (e) => paths.push(e.path) });
  return paths.sort();
}

describe('resolveSpecs with the local registry', () => {
  test('a package with a registry dependency: both, dependency first, read from their tarballs', async () => {
    const { workDir, cache } = await scratch();
    const events: ResolveProgress[] = [];
    const tree = await resolveSpecs(['@fixtures/with-dep'], { registry: reg.url, cache, workDir, onProgress: (e) => events.push(e) });

    assert.deepEqual(
      tree.packages.map((p) => [p.name, p.version, p.location]),
      [
        ['@fixtures/dep-postinstall', '1.0.0', 'node_modules/@fixtures/dep-postinstall'],
        ['@fixtures/with-dep', '1.0.0', 'node_modules/@fixtures/with-dep'],
      ],
    );
    const [dep, top] = tree.packages as [PackageInfo, PackageInfo];
    assert.deepEqual(top.scripts, { postinstall: `node -e "require('@fixtures/dep-postinstall')"` });
    assert.deepEqual(dep.scripts, { postinstall: `node -e "require('fs').writeFileSync('marker.txt', 'dep-postinstall ran\\n')"` });
    assert.equal(top.implicitNodeGyp, false);
    assert.deepEqual(top.dependencies, ['node_modules/@fixtures/dep-postinstall']);
    assert.deepEqual(dep.dependencies, []);

    for (const p of tree.packages) {
      const id = `${p.name}@${p.version}`;
      assert.equal(p.integrity, reg.integrity.get(id), `${id}: the integrity the registry published`);
      assert.equal(p.integrity, await sha512Of(reg.tarballs.get(id)!), `${id}: matches the served bytes`);
      assert.equal(await sha512Of(p.tarball), p.integrity, `${id}: the saved tarball is the verified one`);
      assert.ok(p.tarball.startsWith(join(workDir, 'tarballs')), `${id}: saved inside workDir`);
      assert.match(p.resolved, new RegExp(`^${reg.url.replace(/[.]/g, '\\.')}@fixtures/`));
    }
    assert.deepEqual(tree.rootPackageJson.dependencies, { '@fixtures/with-dep': '^1.0.0' });
    const fetches = events.filter((e) => e.phase === 'fetch' && e.name);
    assert.deepEqual(fetches.map((e) => [e.done, e.total]), [[1, 2], [2, 2]]);
    assert.deepEqual(fetches.map((e) => e.name).sort(), ['@fixtures/dep-postinstall@1.0.0', '@fixtures/with-dep@1.0.0']);
    assert.ok(events.some((e) => e.phase === 'resolve'));
  });

  test('binding.gyp without install scripts gets npm\'s implicit node-gyp rebuild', async () => {
    const tree = await resolveSpecs(['@fixtures/native-addon@1.0.0'], { registry: reg.url, ...(await scratch()) });
    const p = byName(tree.packages, '@fixtures/native-addon');
    assert.deepEqual(p.scripts, { install: 'node-gyp rebuild' });
    assert.equal(p.implicitNodeGyp, true);
  });

  test('packages without install-time scripts have empty scripts (other scripts do not count)', async () => {
    const tree = await resolveSpecs(['@fixtures/no-scripts'], { registry: reg.url, ...(await scratch()) });
    assert.deepEqual(
      tree.packages.map((p) => [p.name, p.scripts, p.implicitNodeGyp]),
      [
        ['@fixtures/no-scripts-dep', {}, false],
        ['@fixtures/no-scripts', {}, false],
      ],
    );
    assert.deepEqual(byName(tree.packages, '@fixtures/no-scripts').dependencies, ['node_modules/@fixtures/no-scripts-dep']);
  });

  test('several specs at once, every fixture: each package exactly once, deps before dependents', async () => {
    // `<name>@<version>/` folders are further versions of a name (fixtures/README.md), not names.
    const names = allRegistryFixtureDirs()
      .map((d) => d.split(/[\\/]/).pop()!)
      .filter((dir) => !dir.includes('@'))
      .map((dir) => '@fixtures/' + dir);
    const tree = await resolveSpecs(names, { registry: reg.url, ...(await scratch()) });
    assert.deepEqual(tree.packages.map((p) => p.name).sort(), [...names].sort());
    const seen = new Set<string>();
    for (const p of tree.packages) {
      for (const d of p.dependencies) assert.ok(seen.has(d), `${p.location} comes after its dependency ${d}`);
      seen.add(p.location);
    }
    assert.deepEqual(byName(tree.packages, '@fixtures/shell-pipeline').scripts, {
      postinstall: 'sh -c "echo hello | tr a-z A-Z | wc -c > out.txt"',
    });
  });

  test('a folder with prepare/prepack/postpack scripts is packed without running any of them', async () => {
    const dir = join(await tempDir(), 'prepare-marker');
    await cp(join(fixturesRoot(), 'local', 'prepare-marker'), dir, { recursive: true });
    const { workDir, cache } = await scratch();

    const tree = await resolveSpecs([dir], { registry: reg.url, cache, workDir });

    const p = byName(tree.packages, '@fixtures/prepare-marker');
    assert.equal(p.resolved, `file:${dir}`);
    assert.deepEqual(p.scripts, { postinstall: `node -e "require('fs').writeFileSync('postinstall-ran.txt', 'x')"` });
    assert.equal(await sha512Of(p.tarball), p.integrity);
    const left = (await readdir(dir)).sort();
    assert.deepEqual(left, ['index.js', 'package.json'], 'no marker file: nothing ran');
    assert.deepEqual(await tarEntries(p.tarball), ['package/index.js', 'package/package.json']);
    assert.ok(!reg.requests.some((r) => r.includes('prepare-marker')), 'never asked the registry for it');
  });

  test('a local tarball with an unusual top folder, read like pacote extracts it', async () => {
    const dir = await tempDir();
    const file = join(dir, 'odd.tgz');
    await writeFile(
      file,
      rawTarball([
        { path: 'node-odd/package.json', body: JSON.stringify({ name: 'odd', version: '2.0.0' }) },
        { path: 'node-odd/binding.gyp', body: '{"targets":[]}' },
        // a later package.json replaces the first one on extraction, so it is the truth
        { path: 'node-odd/package.json', body: JSON.stringify({ name: 'odd', version: '2.0.0', scripts: { preinstall: 'echo pre' } }) },
      ]),
    );
    const { workDir, cache } = await scratch();
    const tree = await resolveSpecs([file], { registry: reg.url, cache, workDir });
    assert.equal(tree.packages.length, 1);
    const p = tree.packages[0]!;
    assert.equal(p.name, 'odd');
    assert.deepEqual(p.scripts, { preinstall: 'echo pre' }, 'preinstall present: no implicit node-gyp');
    assert.equal(p.implicitNodeGyp, false);
    assert.equal(p.integrity, await sha512Of(file), 'sha512 of the local file');
    assert.equal(p.resolved, `file:${file}`);
    assert.ok(p.tarball.startsWith(join(workDir, 'tarballs')), 'copied into workDir');
    assert.equal(await sha512Of(p.tarball), p.integrity);
    assert.deepEqual(tree.rootPackageJson.dependencies, { odd: `file:${file}` });
  });

  test('bundled dependencies: scripts read from inside the bundler, each gets its own tarball', async () => {
    const dir = join(await tempDir(), 'bundler');
    await cp(join(fixturesRoot(), 'local', 'bundler'), dir, { recursive: true });
    await rename(join(dir, '_bundled'), join(dir, 'node_modules'));
    const before = reg.requests.length;

    const tree = await resolveSpecs([dir], { registry: reg.url, ...(await scratch()) });

    assert.deepEqual(
      tree.packages.map((p) => p.location),
      ['node_modules/@fixtures/bundler/node_modules/@fixtures/bundled-child', 'node_modules/@fixtures/bundler'],
    );
    const child = byName(tree.packages, '@fixtures/bundled-child');
    assert.deepEqual(child.scripts, {
      install: 'node-gyp rebuild',
      postinstall: `node -e "require('fs').writeFileSync('bundled-ran.txt', 'x')"`,
    });
    assert.equal(child.implicitNodeGyp, true);
    assert.deepEqual(await tarEntries(child.tarball), ['package/binding.gyp', 'package/index.js', 'package/package.json']);
    assert.equal(await sha512Of(child.tarball), child.integrity);
    assert.equal(reg.requests.length, before, 'bundled code never comes from the registry');
  });

  test('touches neither HOME (so not ~/.npm) nor TMPDIR', async () => {
    const home = await tempDir('safe-install-home-');
    const tmp = await tempDir('safe-install-tmp-');
    const dir = join(await tempDir(), 'prepare-marker');
    await cp(join(fixturesRoot(), 'local', 'prepare-marker'), dir, { recursive: true });
    const { workDir, cache } = await scratch();
    const saved = { HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, npm_config_cache: process.env.npm_config_cache };
    try {
      process.env.HOME = home;
      process.env.TMPDIR = tmp;
      delete process.env.npm_config_cache;
      await resolveSpecs([dir, '@fixtures/with-dep'], { registry: reg.url, cache, workDir });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    assert.deepEqual(await readdir(home), []);
    assert.deepEqual(await readdir(tmp), []);
  });

  test('writes only into workDir (project/, tarballs/) and the given cache', async () => {
    const { workDir, cache } = await scratch();
    await resolveSpecs(['@fixtures/with-dep'], { registry: reg.url, cache, workDir });
    assert.deepEqual((await readdir(workDir)).sort(), ['project', 'tarballs']);
    assert.deepEqual(await readdir(join(workDir, 'project')), ['package.json'], 'no node_modules, no lockfile');
    assert.ok((await stat(cache)).isDirectory());
    assert.ok((await readdir(cache)).length > 0, 'the cache was used');
    const projectJson = JSON.parse(await readFile(join(workDir, 'project', 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(projectJson.dependencies, undefined, 'the synthetic project starts empty');
  });
});
