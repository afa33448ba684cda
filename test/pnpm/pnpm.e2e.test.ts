/**
 * `safe-install pnpm` end to end: the real CLI, the real pnpm (pinned in devDependencies), a
 * real (local) registry of fixtures, the real sandbox. A pnpm workspace with a native addon,
 * a malicious dependency, and a build pnpm's own settings do not allow.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { startCli, writeLauncher } from '../helpers/cli.js';
import { startLocalRegistry } from '../helpers/local-registry.js';

const root = packageRoot().dir;
const fixturesDir = path.join(root, 'fixtures', 'npm', '@fixtures');
const pnpmBin = path.join(root, 'node_modules', '.bin', 'pnpm');
let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let tmp: string;
let launcher: string;

before(async () => {
  registry = await startLocalRegistry({ packages: fs.readdirSync(fixturesDir).map((name) => path.join(fixturesDir, name)) });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-pnpm-test-'));
  fs.mkdirSync(path.join(tmp, 'tmp'));
  launcher = writeLauncher(tmp);
});

after(async () => {
  await registry.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Private pnpm store and caches; the pinned pnpm first on PATH. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${path.dirname(pnpmBin)}${path.delimiter}${process.env.PATH ?? ''}`,
    npm_config_store_dir: path.join(tmp, 'pnpm-store'),
    npm_config_cache: path.join(tmp, 'npm-cache'),
    XDG_CACHE_HOME: path.join(tmp, 'xdg-cache'),
    XDG_DATA_HOME: path.join(tmp, 'xdg-data'),
    TMPDIR: path.join(tmp, 'tmp'),
    NO_COLOR: '1',
    ...extra,
  };
}

function start(cwd: string, args: string[], env: Record<string, string> = {}): ReturnType<typeof startCli> {
  return startCli(launcher, cwd, args, baseEnv(env));
}
const run = (cwd: string, args: string[], env: Record<string, string> = {}) => start(cwd, args, env).done;

/** Plain pnpm, as the reference (never with scripts). */
async function pnpm(cwd: string, args: string[]): Promise<void> {
  const child = spawn(pnpmBin, [...args, '--ignore-scripts', '--registry', registry.url], { cwd, env: baseEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
}

/**
 * A workspace: `app` uses the native addon and the library, `lib` a package without scripts.
 * allowBuilds lets the addon build, and (the user's mistake) the malicious package too.
 */
function workspace(label: string, opts: { allow?: Record<string, boolean>; appDeps?: Record<string, string> } = {}): string {
  const dir = fs.mkdtempSync(path.join(tmp, `${label}-`));
  const write = (rel: string, value: unknown) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  };
  write('package.json', { name: 'demo-workspace', version: '1.0.0', private: true });
  const allow = opts.allow ?? { '@fixtures/native-addon': true };
  write('pnpm-workspace.yaml', `packages:\n  - "packages/*"\nallowBuilds:\n${Object.entries(allow).map(([k, v]) => `  "${k}": ${v}`).join('\n')}\n`);
  write('packages/app/package.json', { name: 'app', version: '1.0.0', dependencies: { '@fixtures/native-addon': '1.0.0', lib: 'workspace:*', ...opts.appDeps } });
  write('packages/app/index.js', "module.exports = require('@fixtures/native-addon');\n");
  write('packages/lib/package.json', { name: 'lib', version: '1.0.0', dependencies: { '@fixtures/no-scripts': '1.0.0' } });
  return dir;
}

/** Own scripts for the root (postinstall), lib (prepare) and app (postinstall): each appends to events.log at the root. */
function withOwnScripts(dir: string): void {
  const log = (who: string, event: string) => `node -e "require('fs').appendFileSync(require('path').join(process.env.INIT_CWD, 'events.log'), '${who}-${event}\\n')"`;
  for (const [rel, who, event] of [['', 'demo-workspace', 'postinstall'], ['packages/lib', 'lib', 'prepare'], ['packages/app', 'app', 'postinstall']] as const) {
    const file = path.join(dir, rel, 'package.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    manifest.scripts = { [event]: log(who, event) };
    fs.writeFileSync(file, JSON.stringify(manifest));
  }
}

/** Everything an install may change: manifests, lockfile, every node_modules tree (contents, links, modes). */
function workspaceState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full);
    if (st.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(full)}`;
    else if (st.isDirectory()) {
      out[rel] = `dir:${st.mode}`;
      for (const entry of fs.readdirSync(full).sort()) walk(path.join(rel, entry));
    } else out[rel] = `file:${st.mode}:${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
  };
  walk('.');
  return out;
}

/** Stages and journals of ours left next to or inside the workspace. */
function leftovers(dir: string): string[] {
  const siblings = fs.readdirSync(path.dirname(dir)).filter((e) => e.startsWith(`.${path.basename(dir)}.safe-install-stage-`));
  return [...siblings, ...(fs.existsSync(path.join(dir, '.safe-install')) ? ['.safe-install'] : [])];
}

interface PnpmJson {
  verdict: string;
  install: { installed: boolean; packageManager: string; sandboxed: { name: string }[]; skipped: { name: string; reason: string }[]; changed: { name: string }[] };
  packages: { name: string; verdict: string; findings: { rule: string; severity: string }[] }[];
}

describe('safe-install pnpm', () => {
  test('a workspace installs: the native addon is built in the sandbox, lands in the store layout and loads; the lockfile is pnpm\'s', async () => {
    const dir = workspace('native');
    const r = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PnpmJson;
    assert.equal(report.verdict, 'allow');
    assert.equal(report.install.installed, true);
    assert.match(report.install.packageManager, /^pnpm@10\./);
    assert.deepEqual(report.install.sandboxed.map((p) => p.name), ['@fixtures/native-addon']);
    assert.deepEqual(report.install.changed.map((p) => p.name).sort(), ['@fixtures/native-addon', '@fixtures/no-scripts', '@fixtures/no-scripts-dep']);

    // pnpm's layout: the package lives in the virtual store, with the sandbox's build inside it.
    const storeDir = path.join(dir, 'node_modules', '.pnpm', '@fixtures+native-addon@1.0.0', 'node_modules', '@fixtures', 'native-addon');
    assert.ok(fs.existsSync(path.join(storeDir, 'build', 'Release', 'addon.node')), 'the built addon is in the store folder');
    assert.equal(fs.realpathSync(path.join(dir, 'packages', 'app', 'node_modules', '@fixtures', 'native-addon')), storeDir);
    const addon = createRequire(path.join(dir, 'packages', 'app', 'index.js'))('./index.js') as { hello(): string };
    assert.equal(typeof addon.hello(), 'string');
    // The workspace link pnpm makes.
    assert.equal(fs.realpathSync(path.join(dir, 'packages', 'app', 'node_modules', 'lib')), path.join(dir, 'packages', 'lib'));
    // Built here, so not left pending for `pnpm rebuild --pending` on the host.
    const modules = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', '.modules.yaml'), 'utf8')) as { pendingBuilds: string[] };
    assert.deepEqual(modules.pendingBuilds, []);
    // The built file is the stage's own, not written into a file shared with pnpm's store.
    assert.equal(fs.statSync(path.join(storeDir, 'build', 'Release', 'addon.node')).nlink, 1);

    // Same lockfile as pnpm's for the same workspace.
    const ref = workspace('native-ref');
    await pnpm(ref, ['install', '--lockfile-only']);
    assert.equal(fs.readFileSync(path.join(dir, 'pnpm-lock.yaml'), 'utf8'), fs.readFileSync(path.join(ref, 'pnpm-lock.yaml'), 'utf8'));
    assert.deepEqual(leftovers(dir), []);

    // pnpm itself is content with the result: nothing to do.
    await pnpm(dir, ['install', '--frozen-lockfile', '--offline']);
    assert.ok(fs.existsSync(path.join(storeDir, 'build', 'Release', 'addon.node')));
  });

  test('approve pins what the sandbox allowed in pnpm-workspace.yaml allowBuilds, keeping the rest of the file', async () => {
    const env = { XDG_CACHE_HOME: path.join(tmp, 'xdg-approve') };
    const dir = workspace('approve', { allow: { '@fixtures/native-addon': true, '@fixtures/hang': false }, appDeps: { '@fixtures/hang': '1.0.0' } });
    fs.appendFileSync(path.join(dir, 'pnpm-workspace.yaml'), '# kept\n');
    const installed = await run(dir, ['pnpm', 'install', '--registry', registry.url], env);
    assert.equal(installed.code, 0, installed.stderr);
    const r = await run(dir, ['approve', '--json'], env);
    // hang was never sandboxed (pnpm does not build it): not approved, and exit 1 says so.
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { approved: ['@fixtures/native-addon@1.0.0'], unproven: ['@fixtures/hang@1.0.0'], changed: true });
    const yaml = fs.readFileSync(path.join(dir, 'pnpm-workspace.yaml'), 'utf8');
    assert.match(yaml, /"?@fixtures\/native-addon@1\.0\.0"?: true/);
    assert.match(yaml, /"?@fixtures\/hang"?: false/);
    assert.match(yaml, /# kept/);
    assert.ok(!/hang@1\.0\.0/.test(yaml));
  });

  test('a malicious dependency added to a workspace project is blocked; the workspace stays byte-identical', async () => {
    const dir = workspace('malicious', { allow: { '@fixtures/native-addon': true, '@fixtures/attack-worm-republish': true } });
    const first = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const before = workspaceState(dir);
    const r = await run(path.join(dir, 'packages', 'app'), ['pnpm', 'add', '@fixtures/attack-worm-republish', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as PnpmJson;
    assert.equal(report.verdict, 'block');
    assert.equal(report.install.installed, false);
    const worm = report.packages.find((p) => p.name === '@fixtures/attack-worm-republish');
    assert.ok(worm, 'the malicious package ran in the sandbox');
    assert.equal(worm.verdict, 'block');
    assert.ok(worm.findings.some((f) => f.severity === 'critical' || f.severity === 'high'), JSON.stringify(worm.findings));
    assert.deepEqual(workspaceState(dir), before);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a build pnpm\'s settings do not allow is not run anywhere, and is reported as skipped', async () => {
    // @fixtures/hang would hang the sandbox until its timeout: a quick allow proves it never ran.
    const dir = workspace('skipped', { appDeps: { '@fixtures/hang': '1.0.0' } });
    const r = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as PnpmJson;
    assert.equal(report.verdict, 'allow');
    assert.deepEqual(report.install.skipped.map((s) => s.name), ['@fixtures/hang']);
    assert.match(report.install.skipped[0]!.reason, /allowBuilds/);
    assert.deepEqual(report.install.sandboxed.map((p) => p.name), ['@fixtures/native-addon']);
    assert.ok(!report.packages.some((p) => p.name === '@fixtures/hang'));
    assert.ok(fs.existsSync(path.join(dir, 'packages', 'app', 'node_modules', '@fixtures', 'hang', 'package.json')), 'installed, unbuilt, as pnpm would');
  });

  test('every project\'s own scripts run after the install, through pnpm, project by project, dependencies first', async () => {
    const dir = workspace('own-scripts');
    withOwnScripts(dir);
    const r = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const install = (JSON.parse(r.stdout) as { install: { rootScripts: string[]; workspaceScripts: { dir: string; event: string }[]; rootScriptsIn: string } }).install;
    assert.deepEqual(install.rootScripts, ['postinstall']);
    assert.deepEqual(install.workspaceScripts, [{ dir: 'packages/lib', event: 'prepare' }, { dir: 'packages/app', event: 'postinstall' }]);
    assert.equal(install.rootScriptsIn, 'host');
    // lib before app: app depends on it (workspace:*); the root has no such dependency and goes first.
    assert.equal(fs.readFileSync(path.join(dir, 'events.log'), 'utf8'), 'demo-workspace-postinstall\nlib-prepare\napp-postinstall\n');
  });

  test('--sandbox-root: every project\'s own scripts run in the sandbox on pnpm\'s layout, after the builds; what they make lands', async () => {
    const dir = workspace('own-scripts-sandboxed');
    withOwnScripts(dir);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    manifest.scripts = { postinstall: 'node scripts/post.js' };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest));
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.writeFileSync(
      path.join(dir, 'scripts', 'post.js'),
      "const fs = require('fs');\nfs.appendFileSync('events.log', 'demo-workspace-postinstall\\n');\nfs.mkdirSync('generated', { recursive: true });\nfs.writeFileSync('generated/seen.json', JSON.stringify({ home: require('os').homedir(), addon: require('../packages/app').hello() }));\n",
    );
    const r = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json', '--no-cache', '--sandbox-root']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Omit<PnpmJson, 'packages'> & { install: { rootScripts: string[]; workspaceScripts: { dir: string; event: string }[]; rootScriptsIn: string }; packages: { location: string; name: string }[] };
    assert.equal(report.verdict, 'allow');
    assert.deepEqual(report.install.rootScripts, ['postinstall']);
    assert.deepEqual(report.install.workspaceScripts, [{ dir: 'packages/lib', event: 'prepare' }, { dir: 'packages/app', event: 'postinstall' }]);
    assert.equal(report.install.rootScriptsIn, 'sandbox');
    // Every project's scripts ran in the sandbox, in pnpm's order; what they wrote landed.
    assert.equal(fs.readFileSync(path.join(dir, 'events.log'), 'utf8'), 'demo-workspace-postinstall\nlib-prepare\napp-postinstall\n');
    assert.equal(report.packages.find((p) => p.location === '')?.name, 'demo-workspace');
    // The addon it loaded was built earlier in the same session, in pnpm's own layout.
    const seen = JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'seen.json'), 'utf8')) as { home: string; addon: unknown };
    assert.notEqual(seen.home, os.homedir());
    assert.equal(typeof seen.addon, 'string');
    const storeDir = path.join(dir, 'node_modules', '.pnpm', '@fixtures+native-addon@1.0.0', 'node_modules', '@fixtures', 'native-addon');
    assert.ok(fs.existsSync(path.join(storeDir, 'build', 'Release', 'addon.node')));
    assert.deepEqual(leftovers(dir), []);
  });

  test('an unknown package or a broken pnpm-workspace.yaml: one clear line, exit 2, nothing changed', async () => {
    const dir = workspace('errors');
    const first = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const before = workspaceState(dir);
    const unknown = await run(path.join(dir, 'packages', 'app'), ['pnpm', 'add', '@fixtures/does-not-exist', '--registry', registry.url]);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /^safe-install: pnpm add \(scripts disabled, in a staging copy\) failed: .*does-not-exist/m);
    assert.deepEqual(workspaceState(dir), before);
    assert.deepEqual(leftovers(dir), []);
    const nope = await run(dir, ['pnpm', 'update']);
    assert.equal(nope.code, 2);
    assert.match(nope.stderr, /only pnpm's add and install go through the sandbox/);
  });

  test('killed while pnpm installs the stage: the workspace is as before and the next run cleans up', async () => {
    const dir = workspace('killed');
    const first = await run(dir, ['pnpm', 'install', '--registry', registry.url, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const before = workspaceState(dir);
    const h = start(path.join(dir, 'packages', 'lib'), ['pnpm', 'add', '@fixtures/no-scripts-dep', '--registry', registry.url], { SAFE_INSTALL_TEST_PAUSE: 'reify:20000' });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      h.child.stderr!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/test pause at reify/.test(seen)) resolve();
      });
      void h.done.then((res) => reject(new Error(`exited (${res.code}) before the pause: ${res.stderr}`)));
    });
    // Meanwhile a second install in the same workspace is refused: it would take the first
    // one's stage for a leftover.
    const second = await run(dir, ['pnpm', 'install', '--registry', registry.url]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`another safe-install \\(pid ${h.child.pid}\\) is installing`));
    h.child.kill('SIGKILL');
    assert.equal((await h.done).signal, 'SIGKILL');
    assert.deepEqual(workspaceState(dir), before);
    const again = await run(path.join(dir, 'packages', 'lib'), ['pnpm', 'add', '@fixtures/no-scripts-dep', '--registry', registry.url, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(leftovers(dir), []);
    const lib = JSON.parse(fs.readFileSync(path.join(dir, 'packages', 'lib', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(lib.dependencies['@fixtures/no-scripts-dep']);
  });
});
