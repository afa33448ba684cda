/**
 * Real shims in a temp dir, run by /bin/sh with real PATH manipulation. The "real" package
 * managers are this test's own tiny programs (they print what they got), placed after the
 * shim folder on PATH. Routing is observed at the boundary: for the routing matrix the shims
 * point at a recorder standing where safe-install's entry would be, so the test sees exactly
 * the arguments and environment a shim hands over; the remaining tests run the real
 * safe-install (refusals, bypass record, fail-closed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { defaultShimDir, installShims, pathLine, SHIM_TOOLS, uninstallShims } from '../../src/shims/index.js';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'si-shims-')));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const realDir = path.join(tmp, 'real-bin');
fs.mkdirSync(realDir);
for (const tool of SHIM_TOOLS) {
  fs.writeFileSync(path.join(realDir, tool), `#!/bin/sh\necho "REAL ${tool} $*"\n`, { mode: 0o755 });
}
const recorder = path.join(tmp, 'recorder.mjs');
fs.writeFileSync(
  recorder,
  `process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: { NONINTERACTIVE: process.env.SAFE_INSTALL_NONINTERACTIVE, SHIM: process.env.SAFE_INSTALL_SHIM, REAL: process.env.SAFE_INSTALL_REAL_BIN, PATH: process.env.PATH } }));\n`,
);
const recordDir = path.join(tmp, 'shims-recorded');
installShims({ dir: recordDir, node: process.execPath, bin: recorder });
const realSiDir = path.join(tmp, 'shims-real');
installShims({ dir: realSiDir, node: process.execPath, bin: path.join(packageRoot().dir, 'bin', 'safe-install') });
const systemPath = (process.env.PATH ?? '').split(':').filter((d) => !fs.existsSync(path.join(d, 'npm')) && !fs.existsSync(path.join(d, 'pip'))).join(':');
const basePath = `${realDir}:/usr/bin:/bin`;

interface Out { code: number | null; stdout: string; stderr: string }
function sh(cmd: string, opts: { PATH: string; cwd?: string; env?: Record<string, string> }): Out {
  const r = spawnSync('/bin/sh', ['-c', cmd], {
    cwd: opts.cwd ?? tmp,
    env: { HOME: tmp, XDG_STATE_HOME: path.join(tmp, 'state'), ...opts.env, PATH: opts.PATH },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function routed(cmd: string, cwd?: string): { argv: string[]; env: Record<string, string | undefined> } | string {
  const r = sh(cmd, { PATH: `${recordDir}:${basePath}`, ...(cwd ? { cwd } : {}) });
  assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
  return r.stdout.startsWith('REAL ') ? r.stdout.trim() : (JSON.parse(r.stdout) as { argv: string[]; env: Record<string, string | undefined> });
}

describe('PATH shims', () => {
  test('install-type commands go to safe-install, the rest to the real program', () => {
    const cases: [string, string[] | string][] = [
      ['npm install', ['npm', 'install']],
      ['npm i left-pad', ['npm', 'i', 'left-pad']],
      ['npm add -D x', ['npm', 'add', '-D', 'x']],
      ['npm ci', ['npm', 'ci']],
      ['npm update', ['npm', 'update']],
      ['npm up x', ['npm', 'up', 'x']],
      ['npm --prefix sub install x', ['npm', '--prefix', 'sub', 'install', 'x']],
      ['npm rebuild', ['npm', 'rebuild']],
      ['npm exec cowsay', ['npm', 'exec', 'cowsay']],
      ['npm init vite', ['npm', 'init', 'vite']],
      ['npm --version', 'REAL npm --version'],
      ['npm run build', 'REAL npm run build'],
      ['npm init', 'REAL npm init'],
      ['npm help install', 'REAL npm help install'],
      ['npm --prefix install run x', 'REAL npm --prefix install run x'],
      ['npx cowsay hi', ['npm', 'exec', '--', 'cowsay', 'hi']],
      ['npx --yes cowsay@1 --say hi', ['npm', 'exec', '--yes', '--', 'cowsay@1', '--say', 'hi']],
      ['npx -p pkg bin-of-pkg', ['npm', 'exec', '-p', 'pkg', '--', 'bin-of-pkg']],
      ['npx --version', 'REAL npx --version'],
      ['pnpm add x', ['pnpm', 'add', 'x']],
      ['pnpm -C sub install', ['pnpm', '-C', 'sub', 'install']],
      ['pnpm dlx create-vite', ['pnpm', 'dlx', 'create-vite']],
      ['pnpm run test', 'REAL pnpm run test'],
      ['pnpm --version', 'REAL pnpm --version'],
      ['pnpx cowsay', ['pnpm', 'dlx', 'cowsay']],
      ['pip install requests', ['pip', 'install', 'requests']],
      ['pip -q install -r req.txt', ['pip', '-q', 'install', '-r', 'req.txt']],
      ['pip3 install x', ['pip', 'install', 'x']],
      ['pip download x', ['pip', 'download', 'x']],
      ['pip list', 'REAL pip list'],
      ['pip --version', 'REAL pip --version'],
      ['uv pip install x', ['uv', 'pip', 'install', 'x']],
      ['uv add httpx', ['uv', 'add', 'httpx']],
      ['uv sync', ['uv', 'sync']],
      ['uv tool install ruff', ['uv', 'tool', 'install', 'ruff']],
      ['uv pip list', 'REAL uv pip list'],
      ['uv --version', 'REAL uv --version'],
      ['uvx ruff check', ['uv', 'tool', 'run', 'ruff', 'check']],
    ];
    for (const [cmd, want] of cases) {
      const got = routed(cmd);
      if (typeof want === 'string') assert.equal(got, want, cmd);
      else {
        assert.notEqual(typeof got, 'string', `${cmd} should be routed, ran: ${String(got)}`);
        assert.deepEqual((got as { argv: string[] }).argv, want, cmd);
      }
    }
  });

  test('npx runs a local bin of the project without going through safe-install', () => {
    const project = path.join(tmp, 'proj');
    fs.mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
    fs.mkdirSync(path.join(project, 'src'), { recursive: true });
    fs.writeFileSync(path.join(project, 'node_modules', '.bin', 'tsc'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(routed('npx tsc -p .', path.join(project, 'src')), 'REAL npx tsc -p .');
    assert.notEqual(typeof routed('npx not-installed', path.join(project, 'src')), 'string');
  });

  test('routed commands are non-interactive, know the real binary, and see no shim folder on PATH', () => {
    const got = routed('npm install x') as { env: Record<string, string> };
    assert.equal(got.env.NONINTERACTIVE, '1');
    assert.equal(got.env.SHIM, 'npm');
    assert.equal(got.env.REAL, path.join(realDir, 'npm'));
    assert.ok(!got.env.PATH!.split(':').includes(recordDir), got.env.PATH);
    assert.ok(got.env.PATH!.split(':').includes(realDir));
    // With another shim folder on PATH too, safe-install's own npm calls must not land in it.
    const r = sh('npm ci', { PATH: `${recordDir}:${realSiDir}:${basePath}` });
    const env = (JSON.parse(r.stdout) as { env: Record<string, string> }).env;
    assert.equal(env.PATH, basePath);
  });

  test('no recursion: the shim folder twice, under another name, or a second shim folder', () => {
    const alias = path.join(tmp, 'alias-of-shims');
    fs.symlinkSync(recordDir, alias);
    const other = path.join(tmp, 'other-shims');
    installShims({ dir: other, node: process.execPath, bin: recorder });
    const r = sh('npm --version', { PATH: `${recordDir}:${alias}:${recordDir}/:${other}:${recordDir}:${basePath}` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'REAL npm --version');
    // No real program at all: a clear error, not a loop.
    const none = sh('npm --version', { PATH: `${recordDir}:${alias}:${other}` });
    assert.equal(none.code, 127);
    assert.match(none.stderr, /^safe-install shim: no real npm on PATH/);
  });

  test('uv installs reach safe-install, which refuses them until it has that front-end (exit 2)', () => {
    const r = sh('uv add httpx', { PATH: `${realSiDir}:${basePath}` });
    assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.ok(!r.stdout.includes('REAL'), 'the real program never ran');
    assert.match(r.stderr, /safe-install cannot install with uv yet/);
  });

  test('pnpm add reaches safe-install\'s pnpm front-end, which never lets the real pnpm install', () => {
    // The "real" pnpm here only echoes: safe-install asks it its version, finds none, refuses.
    const project = path.join(tmp, 'pnpm-proj');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), '{"name":"pnpm-proj","version":"1.0.0"}');
    const r = sh('pnpm add left-pad', { PATH: `${realSiDir}:${basePath}`, cwd: project });
    assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.ok(!r.stdout.includes('REAL pnpm add'), 'the real pnpm never installed');
    assert.match(r.stderr, /^safe-install: pnpm .* is too old for safe-install/m);
  });

  test('pip install reaches safe-install (no index here: it cannot decide, exit 2), never the real pip', () => {
    const r = sh('pip install requests', { PATH: `${realSiDir}:${basePath}`, env: { PIP_INDEX_URL: 'http://127.0.0.1:9/simple' } });
    assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.ok(!r.stdout.includes('REAL'), 'the real pip never ran');
    assert.match(r.stderr, /^safe-install: /m);
  });

  test('npm install through the shim is a real safe-install install, on record with its provenance', () => {
    const project = path.join(tmp, 'install-proj');
    const dep = path.join(tmp, 'install-dep');
    fs.mkdirSync(project);
    fs.mkdirSync(dep);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'install-proj', version: '1.0.0' }));
    fs.writeFileSync(path.join(dep, 'package.json'), JSON.stringify({ name: 'shim-plain-dep', version: '1.0.0' }));
    // A tarball, not the folder: npm links a folder dependency instead of installing it.
    assert.equal(spawnSync('npm', ['pack', '--silent'], { cwd: dep, env: { ...process.env, npm_config_cache: path.join(tmp, 'npm-cache') } }).status, 0);
    const state = path.join(tmp, 'install-state');
    const r = sh('npm install ../install-dep/shim-plain-dep-1.0.0.tgz', { PATH: `${realSiDir}:/usr/bin:/bin`, cwd: project, env: { XDG_STATE_HOME: state, CLAUDECODE: '1', npm_config_cache: path.join(tmp, 'npm-cache') } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(project, 'node_modules', 'shim-plain-dep', 'package.json')));
    const show = sh(`"${process.execPath}" "${path.join(packageRoot().dir, 'bin', 'safe-install')}" log show --last --json`, { PATH: '/usr/bin:/bin', env: { XDG_STATE_HOME: state } });
    const rec = JSON.parse(show.stdout) as { kind: string; body: { verdict: string; command: string[]; provenance: { shim: { tool: string; realBinary: string }; initiator: string } } };
    assert.equal(rec.kind, 'install');
    assert.equal(rec.body.verdict, 'allow');
    assert.deepEqual(rec.body.command, ['npm', 'install', '../install-dep/shim-plain-dep-1.0.0.tgz']);
    assert.equal(rec.body.provenance.shim.tool, 'npm');
    assert.equal(rec.body.provenance.shim.realBinary, '/usr/bin/npm');
    assert.equal(rec.body.provenance.initiator, 'agent');
  });

  test('SAFE_INSTALL_BYPASS=1 runs the real program and is logged, in bypass.log and the hash-chained record', () => {
    const state = path.join(tmp, 'bypass-state');
    const r = sh('npm install left-pad', { PATH: `${realSiDir}:${basePath}`, env: { SAFE_INSTALL_BYPASS: '1', XDG_STATE_HOME: state } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'REAL npm install left-pad');
    assert.match(r.stderr, /SAFE_INSTALL_BYPASS=1: running npm UNPROTECTED/);
    const log = fs.readFileSync(path.join(state, 'safe-install', 'bypass.log'), 'utf8');
    assert.match(log, /^\d{4}-\d\d-\d\dT\S+Z\tuser=\S*\tcwd=\S+\tppid=\d+\tnpm install left-pad\n$/);
    const list = sh(`"${process.execPath}" "${path.join(packageRoot().dir, 'bin', 'safe-install')}" log list --json`, { PATH: basePath, env: { XDG_STATE_HOME: state } });
    const records = (JSON.parse(list.stdout) as { records: { kind: string; command: string[] }[] }).records;
    assert.deepEqual(records.map((x) => [x.kind, x.command.join(' ')]), [['bypass', 'npm install left-pad']]);
    const shown = sh(`"${process.execPath}" "${path.join(packageRoot().dir, 'bin', 'safe-install')}" log show --last --json`, { PATH: basePath, env: { XDG_STATE_HOME: state } });
    assert.deepEqual((JSON.parse(shown.stdout) as { body: { provenance: { shim: unknown } } }).body.provenance.shim, { tool: 'npm', realBinary: path.join(realDir, 'npm') });
    // npx: the bypass runs the real npx with the arguments as typed (not the npm exec form).
    const npx = sh('npx --yes cowsay@1 hi', { PATH: `${realSiDir}:${basePath}`, env: { SAFE_INSTALL_BYPASS: '1', XDG_STATE_HOME: state } });
    assert.equal(npx.stdout.trim(), 'REAL npx --yes cowsay@1 hi');
    // Not an install: no bypass needed, nothing logged.
    sh('npm --version', { PATH: `${realSiDir}:${basePath}`, env: { SAFE_INSTALL_BYPASS: '1', XDG_STATE_HOME: state } });
    assert.equal(fs.readFileSync(path.join(state, 'safe-install', 'bypass.log'), 'utf8').split('\n').length, 3);
  });

  test('fail closed: a missing or crashing safe-install refuses the install, the real program never runs', () => {
    const missing = path.join(tmp, 'shims-missing');
    installShims({ dir: missing, node: process.execPath, bin: path.join(tmp, 'gone', 'safe-install') });
    let r = sh('npm install left-pad', { PATH: `${missing}:${basePath}` });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.match(r.stderr, /^safe-install shim: refused `npm install left-pad`: safe-install is missing .*SAFE_INSTALL_BYPASS=1/);
    // Everything that is not an install still works.
    assert.equal(sh('npm --version', { PATH: `${missing}:${basePath}` }).stdout.trim(), 'REAL npm --version');

    const crashing = path.join(tmp, 'crash.mjs');
    fs.writeFileSync(crashing, 'process.kill(process.pid, "SIGSEGV");\n');
    const crashDir = path.join(tmp, 'shims-crash');
    installShims({ dir: crashDir, node: process.execPath, bin: crashing });
    r = sh('pip install x', { PATH: `${crashDir}:${basePath}` });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /safe-install shim: safe-install failed \(exit 139\), so `pip install x` was refused/);

    const noNode = path.join(tmp, 'shims-nonode');
    installShims({ dir: noNode, node: path.join(tmp, 'no-such-node'), bin: recorder });
    r = sh('npm ci', { PATH: `${noNode}:${basePath}` });
    assert.equal(r.code, 2);
    assert.ok(!r.stdout.includes('REAL'));
  });

  test('install refuses to overwrite a file that is not a shim; uninstall removes only shims', () => {
    const dir = path.join(tmp, 'mixed');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'npm'), '#!/bin/sh\necho mine\n', { mode: 0o755 });
    assert.throws(() => installShims({ dir, node: process.execPath, bin: recorder }), /is not a safe-install shim/);
    fs.rmSync(path.join(dir, 'npm'));
    installShims({ dir, node: process.execPath, bin: recorder });
    fs.writeFileSync(path.join(dir, 'keep-me'), 'x');
    const result = uninstallShims({ dir });
    assert.deepEqual(result.removed.sort(), [...SHIM_TOOLS].sort());
    assert.deepEqual(fs.readdirSync(dir), ['keep-me']);
    assert.equal(uninstallShims({ dir: path.join(tmp, 'mixed-none') }).removed.length, 0);
  });

  test('shims env prints a PATH line each shell accepts', () => {
    assert.equal(pathLine('bash', "/a b/it's"), `export PATH='/a b/it'\\''s':"$PATH"`);
    assert.equal(pathLine('fish', '/x'), `set -gx PATH '/x' $PATH`);
    const r = sh(`${pathLine('sh', recordDir)}; command -v npm`, { PATH: basePath });
    assert.equal(r.stdout.trim(), path.join(recordDir, 'npm'));
    assert.equal(defaultShimDir({ XDG_DATA_HOME: '/data' }), '/data/safe-install/shims');
    void systemPath;
  });
});
