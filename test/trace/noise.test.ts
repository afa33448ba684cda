import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isNoise, type NoiseContext } from '../../src/session/noise.js';
import type { FileEvent, FileOperation } from '../../src/session/types.js';

const ctx: NoiseContext = {
  projectDir: '/home/alex/code/webapp',
  packageDir: '/home/alex/code/webapp/node_modules/pkg',
  home: '/home/alex',
  nodePrefix: '/usr/local',
};
const PKG = ctx.packageDir;
const PROJECT = ctx.projectDir;

function event(op: FileOperation, path: string, result = 'ok', requestedPath?: string): FileEvent {
  const ev: FileEvent = { id: 'f1', scriptId: 's1', processId: 'p1', time: 1, op, path, syscall: 'openat', result };
  if (requestedPath !== undefined) ev.requestedPath = requestedPath;
  return ev;
}

// [op, path, result, expected noise, requested path]
const TABLE: [FileOperation, string, string, boolean, string?][] = [
  // loader, libraries, headers, toolchains
  ['read', '/etc/ld.so.cache', 'ok', true],
  ['probe', '/etc/ld.so.preload', 'ENOENT', true],
  ['read', '/lib/x86_64-linux-gnu/libc.so.6', 'ok', true],
  ['read', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6', 'ok', true],
  ['read', '/usr/lib64/ld-linux-x86-64.so.2', 'ok', true],
  ['probe', '/usr/libexec/gcc/x86_64-linux-gnu/12/cc1plus', 'ENOENT', true],
  ['read', '/usr/include/stdio.h', 'ok', true],
  ['read', '/usr/local/include/uv.h', 'ok', true],
  ['read', '/usr/local/include/node/node_api.h', 'ok', true],
  ['read', '/usr/local/lib/node_modules/npm/node_modules/node-gyp/lib/build.js', 'ok', true],
  ['read', '/usr/share/zoneinfo/Etc/UTC', 'ok', true],
  ['read', '/usr/share/locale/locale.alias', 'ok', true],
  ['read', '/usr/share/i18n/locales/C', 'ok', true],
  ['read', '/usr/share/misc/magic.mgc', 'ok', true],
  ['read', '/etc/localtime', 'ok', true],
  ['read', '/etc/nsswitch.conf', 'ok', true],
  ['read', '/etc/host.conf', 'ok', true],
  ['read', '/etc/gai.conf', 'ENOENT', true],
  ['read', '/etc/ssl/openssl.cnf', 'ok', true],
  ['read', '/dev/null', 'ok', true],
  ['read', '/dev/urandom', 'ok', true],
  ['read', '/dev/tty', 'ENXIO', true],
  ['read', '/proc/self/maps', 'ok', true],
  ['read', '/proc/self/status', 'ok', true],
  ['probe', '/proc/self/exe', 'ok', true],
  ['read', '/sys/devices/system/cpu/online', 'ok', true],
  // the package's own folder, the require() walk, PATH lookups
  ['read', `${PKG}/index.js`, 'ok', true],
  ['probe', `${PKG}/binding.gyp`, 'ENOENT', true],
  ['read', `${PROJECT}/node_modules/pkg2/package.json`, 'ENOENT', true],
  ['probe', `${PROJECT}/node_modules/left-pad`, 'ENOENT', true],
  ['read', `${PROJECT}/package.json`, 'ENOENT', true],
  ['probe', `${PROJECT}/lib/util.json`, 'ENOENT', true],
  ['probe', '/usr/bin/gcc', 'ENOENT', true],
  ['probe', '/usr/local/sbin/make', 'ENOENT', true],
  // never noise
  ['read', '/home/alex/.npmrc', 'ok', false],
  ['probe', '/home/alex/.ssh/id_rsa', 'ENOENT', false],
  ['read', '/home/alex/code/package.json', 'ENOENT', false], // home, outside the project
  ['read', '/root/.aws/credentials', 'ENOENT', false],
  ['probe', '/.dockerenv', 'ENOENT', false],
  ['read', '/proc/self/environ', 'ok', false],
  ['read', '/proc/1/environ', 'EACCES', false],
  ['read', '/proc/77/task/78/environ', 'ok', false],
  ['read', '/proc/self/cgroup', 'ok', false],
  ['read', '/proc/1/cgroup', 'ok', false],
  ['read', '/proc/self/mountinfo', 'ok', false],
  ['read', '/sys/fs/cgroup/memory.max', 'ok', false],
  ['read', '/etc/passwd', 'ok', false],
  ['read', '/etc/shadow', 'EACCES', false],
  ['read', '/etc/hostname', 'ok', false],
  ['read', '/etc/hosts', 'ok', false],
  ['read', '/etc/resolv.conf', 'ok', false],
  ['probe', '/var/run/docker.sock', 'ENOENT', false],
  ['read', '/run/secrets/token', 'ok', false],
  // not on any list: shown
  ['read', '/proc/77/maps', 'ok', false], // another process's memory map
  ['read', `${PROJECT}/.env`, 'ENOENT', false], // a secret probe, not a module lookup
  ['read', `${PROJECT}/node_modules/other/index.js`, 'ok', false], // another package's code, found
  ['read', '/usr/bin/gcc', 'ok', false], // reading a binary is not a PATH lookup
  ['read', '/etc/os-release', 'ok', false],
  // changes are never noise, wherever they are
  ['create', '/dev/null', 'ok', false],
  ['write', `${PKG}/build/config.gypi`, 'ok', false],
  ['create', '/etc/ld.so.preload', 'EACCES', false],
  ['delete', `${PKG}/tmp.txt`, 'ok', false],
  ['rename', `${PKG}/a`, 'ok', false],
  ['chmod', `${PKG}/bin/cli.js`, 'ok', false],
  ['mkdir', `${PKG}/build`, 'ok', false],
  ['link', `${PKG}/x`, 'ok', false],
  ['exec', '/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus', 'ok', false],
  // symlinks: the file actually read decides, the requested path can only veto
  ['read', '/home/alex/.npmrc', 'ok', false, `${PKG}/config`],
  ['read', `${PROJECT}/.env`, 'ok', false, `${PKG}/dotenv`],
  ['read', '/etc/locale.alias', 'ok', true, '/usr/share/locale/locale.alias'],
  ['read', '/usr/lib/x86_64-linux-gnu/libz.so.1', 'ok', false, '/root/libz.so'],
];

describe('noise filter', () => {
  for (const [op, path, result, expected, requested] of TABLE) {
    const label = `${op} ${path} ${result}${requested ? ` (asked ${requested})` : ''}`;
    it(`${expected ? 'folds' : 'keeps'} ${label}`, () => {
      assert.equal(isNoise(event(op, path, result, requested), ctx), expected);
    });
  }

  it('follows the context’s node prefix and package folder', () => {
    const other: NoiseContext = { projectDir: '/p', packageDir: '/p/node_modules/q', home: '/h', nodePrefix: '/opt/node' };
    assert.equal(isNoise(event('read', '/opt/node/include/node/v8.h'), other), true);
    assert.equal(isNoise(event('read', '/usr/local/include/node/v8.h'), other), true); // /usr/local/include
    assert.equal(isNoise(event('read', '/usr/local/lib/node_modules/npm/index.js'), other), false);
    assert.equal(isNoise(event('read', '/p/node_modules/q/lib/a.js'), other), true);
    assert.equal(isNoise(event('read', `${PKG}/index.js`), other), false);
  });
});

describe('noise: the lookups every script makes before it does anything', () => {
  const ctx = { projectDir: '/home/alex/code/webapp', packageDir: '/home/alex/code/webapp/node_modules/a', home: '/home/alex', nodePrefix: '/usr/local' };
  const probe = (path: string, result = 'ENOENT') => ({ op: 'probe' as const, path, result });
  it("folds the shell's search of npm's PATH, even where it passes through the home folder", () => {
    assert.equal(isNoise(probe('/home/alex/code/node_modules/.bin/node'), ctx), true);
    assert.equal(isNoise(probe('/node_modules/.bin/sh'), ctx), true);
  });
  it('folds realpath() checks of the folders above the package', () => {
    assert.equal(isNoise(probe('/home/alex', 'ok'), ctx), true);
    assert.equal(isNoise(probe('/home/alex/code', 'ok'), ctx), true);
  });
  it('keeps anything else in the home folder, and reads of those same places', () => {
    assert.equal(isNoise(probe('/home/alex/.npmrc'), ctx), false);
    assert.equal(isNoise(probe('/home/alex/.ssh', 'ok'), ctx), false);
    assert.equal(isNoise({ op: 'read', path: '/home/alex/code', result: 'ok' }, ctx), false);
    assert.equal(isNoise(probe('/home/alex/code/node_modules/.bin/node', 'ok'), ctx), false);
  });
});
