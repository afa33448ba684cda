/**
 * `--sandbox-root` on the host side: what of the project goes into the sandbox (and what never
 * does), in which order its scripts run there, and which of its events npm runs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import * as tar from 'tar';
import { neverCopied, packProject } from '../../src/install/project-copy.js';
import { ownScriptsOf, pnpmProjectOrder, workspaceScripts } from '../../src/install/own-scripts.js';
import { installScripts } from '../../src/resolve/install-scripts.js';
import { buildPlan, DEFAULT_PLAN_LIMITS } from '../../src/sandbox/plan.js';
import { EventIds } from '../../src/session/ids.js';
import type { PackageInfo } from '../../src/session/types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-project-copy-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(file: string, content = 'x'): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

async function entriesOf(file: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await tar.t({
    file,
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      // A link shows as `-> target`.
      entry.on('end', () => out.set(entry.path, entry.type === 'SymbolicLink' ? `-> ${entry.linkpath}` : Buffer.concat(chunks).toString('utf8')));
    },
  });
  return out;
}

describe('neverCopied', () => {
  test('secrets, VCS metadata and node_modules at any depth; documentation and sources are copied', () => {
    for (const rel of ['.env', '.env.local', 'config/.env.production', '.npmrc', 'packages/a/.npmrc', '.git', '.git/config', 'sub/.git', '.ssh/id_ed25519', 'id_rsa', 'certs/server.key', 'tls/cert.pem', 'node_modules', 'packages/a/node_modules/x/index.js', '.aws/credentials', 'infra/terraform.tfstate', '.netrc']) {
      assert.equal(neverCopied(rel), true, rel);
    }
    for (const rel of ['.env.example', '.env.sample', 'src/index.ts', 'README.md', 'package.json', 'dist/env.js', 'docs/keys.md', 'environment.ts', '.gitignore', '.github/workflows/ci.yml']) {
      assert.equal(neverCopied(rel), false, rel);
    }
  });
});

describe('packProject', () => {
  for (const systemTar of [true, false]) test(`the project's own files, minus what may hold secrets, plus the stage's install state and node_modules (${systemTar ? 'GNU tar' : 'node-tar'})`, async () => {
    const project = path.join(tmp, `proj-${systemTar}`);
    const stage = path.join(tmp, `stage-${systemTar}`);
    write(path.join(project, 'package.json'), '{"name":"old"}');
    write(path.join(project, 'src', 'index.ts'), 'export {}');
    write(path.join(project, '.env'), 'TOKEN=real');
    write(path.join(project, '.env.example'), 'TOKEN=');
    write(path.join(project, 'config', '.env.local'), 'TOKEN=real');
    write(path.join(project, '.git', 'config'), '[core]');
    write(path.join(project, 'node_modules', 'stale', 'index.js'), 'old tree');
    write(path.join(project, 'packages', 'app', 'package.json'), '{"name":"app-old"}');
    write(path.join(project, 'packages', 'app', 'lib.js'), 'lib');
    fs.mkdirSync(path.join(project, 'empty'));
    write(path.join(stage, 'package.json'), '{"name":"new"}');
    write(path.join(stage, 'package-lock.json'), '{}');
    write(path.join(stage, 'node_modules', 'dep', 'index.js'), 'new tree');
    fs.symlinkSync('../packages/app', path.join(stage, 'node_modules', 'app'));
    write(path.join(stage, 'packages', 'app', 'package.json'), '{"name":"app-new"}');

    const copy = await packProject({
      projectDir: project,
      stageDir: stage,
      fromStage: ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'packages/app/package.json', 'node_modules', 'packages/app/node_modules'],
      dest: path.join(tmp, `project-${systemTar}.tar`),
      maxBytes: 1024 ** 2,
      systemTar,
    });
    assert.match(copy.integrity, /^sha512-/);
    assert.deepEqual(copy.leftOut, ['.env', '.git', 'config/.env.local']);
    const entries = await entriesOf(copy.file);
    const files = [...entries.keys()].filter((p) => !p.endsWith('/')).sort();
    assert.deepEqual(files, [
      'package/.env.example',
      'package/node_modules/app',
      'package/node_modules/dep/index.js',
      'package/package-lock.json',
      'package/package.json',
      'package/packages/app/lib.js',
      'package/packages/app/package.json',
      'package/src/index.ts',
    ]);
    assert.equal(entries.get('package/package.json'), '{"name":"new"}', 'the install state is the stage\'s');
    assert.equal(entries.get('package/packages/app/package.json'), '{"name":"app-new"}');
    assert.equal(entries.get('package/node_modules/dep/index.js'), 'new tree');
    assert.ok(entries.has('package/empty/'), 'an empty folder is part of the project');
    assert.ok(entries.has('package/config/'), 'the folder is, its secret is not');
    assert.equal(entries.get('package/node_modules/app'), '-> ../packages/app', 'the workspace link stays a link, its target unprefixed');
  });

  test('a project larger than the sandbox can hold is refused with a hint', async () => {
    const project = path.join(tmp, 'big');
    write(path.join(project, 'data.bin'), 'y'.repeat(4096));
    await assert.rejects(
      packProject({ projectDir: project, stageDir: path.join(tmp, 'big-stage'), fromStage: [], dest: path.join(tmp, 'big.tar'), maxBytes: 1024 }),
      (err: Error & { code?: string; hint?: string }) => err.code === 'E_USAGE' && /--sandbox-root/.test(err.message) && /without --sandbox-root/.test(err.hint ?? ''),
    );
  });
});

describe('the project\'s own scripts', () => {
  test('installScripts for the project: npm\'s project events in order, with the implicit node-gyp build', () => {
    const manifest = { scripts: { prepare: 'tsc', postinstall: 'node p.js', test: 'node --test', prepublishOnly: 'x' } };
    assert.deepEqual(Object.keys(installScripts(manifest, false, '').scripts), ['postinstall', 'prepare']);
    assert.deepEqual(installScripts({}, true, ''), { scripts: { install: 'node-gyp rebuild' }, implicitNodeGyp: true });
    assert.deepEqual(installScripts(manifest, false).scripts, { postinstall: 'node p.js' }, 'a dependency has no prepare at install time');
  });

  test('the plan runs every dependency\'s events first, then the project\'s, and lays out only the project\'s tarball', () => {
    const pkg = (location: string, scripts: PackageInfo['scripts'], tarball?: string): PackageInfo => ({
      name: location === '' ? 'app' : location.replace('node_modules/', ''),
      version: '1.0.0',
      integrity: 'sha512-x',
      resolved: 'r',
      location,
      scripts,
      implicitNodeGyp: false,
      dependencies: [],
      ...(tarball ? { tarball } : {}),
    });
    const packages = [
      pkg('', { preinstall: 'a', postinstall: 'b', prepare: 'c' }, '/tmp/project.tar'),
      pkg('node_modules/dep', { install: 'd', postinstall: 'e' }),
      pkg('node_modules/plain', {}),
    ];
    const { plan, tarballs } = buildPlan(packages, { name: 'app' }, new EventIds(), DEFAULT_PLAN_LIMITS);
    const label = new Map(plan.packages.flatMap((p) => p.scripts.map((s) => [s.id, `${p.name}:${s.event}`] as const)));
    assert.deepEqual(plan.order.map((id) => label.get(id)), ['dep:install', 'dep:postinstall', 'app:preinstall', 'app:postinstall', 'app:prepare']);
    assert.deepEqual([...tarballs.values()], ['/tmp/project.tar']);
    assert.deepEqual(plan.packages.map((p) => p.tarball !== undefined), [true, false, false]);
  });

  test('the project\'s own list runs as listed, after the dependencies; a workspace\'s script names its folder', () => {
    const info: PackageInfo = {
      name: 'app',
      version: '1.0.0',
      integrity: 'sha512-x',
      resolved: 'r',
      location: '',
      scripts: { prepare: 'tsc -b' },
      implicitNodeGyp: false,
      projectScripts: [
        { dir: 'packages/b', name: 'b', version: '1.0.0', event: 'prepare', command: 'tsc', implicit: false },
        { dir: 'packages/a', name: 'a', version: '2.0.0', event: 'postinstall', command: 'node a.js', implicit: false },
        { dir: '', name: 'app', version: '1.0.0', event: 'prepare', command: 'tsc -b', implicit: false },
      ],
      dependencies: [],
      tarball: '/tmp/project.tar',
    };
    const dep: PackageInfo = { name: 'dep', version: '1.0.0', integrity: 'sha512-y', resolved: 'r', location: 'node_modules/dep', scripts: { postinstall: 'x' }, implicitNodeGyp: false, dependencies: [] };
    const { plan } = buildPlan([info, dep], { name: 'app' }, new EventIds(), DEFAULT_PLAN_LIMITS);
    const byId = new Map(plan.packages.flatMap((p) => p.scripts.map((s) => [s.id, s] as const)));
    assert.deepEqual(
      plan.order.map((id) => `${byId.get(id)!.workspace?.dir ?? '.'}:${byId.get(id)!.event}`),
      ['.:postinstall', 'packages/b:prepare', 'packages/a:postinstall', '.:prepare'],
      'the dependency first, then the list',
    );
    assert.deepEqual(byId.get(plan.order[2]!)!.workspace, { dir: 'packages/a', name: 'a', version: '2.0.0' });
  });

  test('npm\'s workspace order: event by event (prepare before install), folders in order; implicit node-gyp marked', () => {
    const dir = path.join(tmp, 'ws-order');
    write(path.join(dir, 'packages', 'native', 'binding.gyp'), '{}');
    const list = workspaceScripts(dir, [
      { dir: 'packages/z', manifest: { name: 'z', scripts: { postinstall: 'z-post', prepare: 'z-prep', test: 'no' } } },
      { dir: 'packages/native', manifest: { name: 'native' } },
      { dir: 'packages/a', manifest: { name: 'a', scripts: { preinstall: 'a-pre', prepare: 'a-prep' } } },
    ]);
    assert.deepEqual(
      list.map((s) => `${s.dir}:${s.event}:${s.command}${s.implicit ? ' (implicit)' : ''}`),
      ['packages/a:preinstall:a-pre', 'packages/a:prepare:a-prep', 'packages/z:prepare:z-prep', 'packages/native:install:node-gyp rebuild (implicit)', 'packages/z:postinstall:z-post'],
    );
    assert.deepEqual(ownScriptsOf('', { name: 'app', scripts: { postprepare: 'p', prepublish: 'q' } }, ['prepublish', 'postprepare'], false).map((s) => s.event), ['prepublish', 'postprepare']);
  });

  test('pnpm\'s project order: dependencies first through workspace:/link: specs, the root first among equals', () => {
    const order = pnpmProjectOrder([
      { dir: 'packages/app', manifest: { name: 'app', dependencies: { lib: 'workspace:*', left: '^1.0.0' } } },
      { dir: 'packages/lib', manifest: { name: 'lib', devDependencies: { util: 'link:../util' } } },
      { dir: '', manifest: { name: 'root' } },
      { dir: 'packages/util', manifest: { name: 'util' } },
      { dir: 'packages/left', manifest: { name: 'left' } },
    ]);
    assert.deepEqual(order.map((p) => p.dir), ['', 'packages/left', 'packages/util', 'packages/lib', 'packages/app']);
    const cycle = pnpmProjectOrder([
      { dir: 'b', manifest: { name: 'b', dependencies: { a: 'workspace:*' } } },
      { dir: 'a', manifest: { name: 'a', dependencies: { b: 'workspace:*' } } },
    ]);
    assert.deepEqual(cycle.map((p) => p.dir), ['a', 'b'], 'a cycle still runs, in folder order');
  });
});
