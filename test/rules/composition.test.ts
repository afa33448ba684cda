/**
 * The whole rule set over whole chains: benign build shapes stay quiet, and composed findings
 * land on the package whose script caused the events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assess } from '../../src/rules/index.js';
import { ChainBuilder, HOME, PROJECT, allEventIds } from './chain-builder.js';

const NODE_GYP = '/usr/local/lib/node_modules/npm/node_modules/node-gyp';

test('a node-gyp build, with everything it really leaves in the chain, yields only info findings', () => {
  const b = new ChainBuilder();
  b.pkg('webapp', '1.0.0', { location: '' });
  const pkg = b.pkg('fast-hash', '2.0.1');
  pkg.info.implicitNodeGyp = true;
  pkg.info.previousScripts = { install: 'node-gyp rebuild' };
  const s = pkg.script('install', 'node-gyp rebuild', { implicit: true, wrapperExecs: ['node', '/usr/local/bin/node-gyp', 'rebuild'] });
  const gyp = s.root;
  const dir = pkg.dir;
  // node's own start: libuv's cgroup and memory limits, V8's meminfo, the CA bundle.
  for (const path of ['/proc/self/cgroup', '/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.high', '/proc/meminfo', '/etc/ssl/certs/ca-certificates.crt']) s.file(gyp, 'read', path);
  s.file(gyp, 'read', `${PROJECT}/package.json`);
  s.file(gyp, 'read', `${HOME}/.cache/node-gyp/20.20.2/include/node/common.gypi`);
  s.file(gyp, 'probe', `${HOME}/.npmrc`, { syscall: 'statx', result: 'ENOENT' });
  // find-python, gyp (python3 reads its stdlib: folded away as noise), its python symlink.
  s.process(['python3', '-c', 'import sys; print(sys.executable)'], { exe: '/usr/bin/python3' });
  s.file(gyp, 'mkdir', `${dir}/build/node_gyp_bins`, { mode: '0777' });
  s.file(gyp, 'link', `${dir}/build/node_gyp_bins/python3`, { target: '/usr/bin/python3', syscall: 'symlink' });
  const py = s.process([`${dir}/build/node_gyp_bins/python3`, `${NODE_GYP}/gyp/gyp_main.py`, 'binding.gyp', '-f', 'make'], { exe: `${dir}/build/node_gyp_bins/python3` });
  s.process(['uname', '-a'], { parent: py });
  for (const f of ['Makefile', 'config.gypi', 'fast_hash.target.mk']) s.file(py, 'create', `${dir}/build/${f}`, { mode: '0666' });
  // make → g++ → cc1plus/as/collect2/ld; the addon is hard-linked into place by a shell.
  const make = s.process(['make', 'BUILDTYPE=Release', '-C', 'build'], { parent: gyp });
  const gxx = s.process(['g++', '-o', 'Release/obj.target/fast_hash/src/hash.o', '../src/hash.cc'], { parent: make });
  const cc1 = s.process(['/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus', '-quiet', '../src/hash.cc', '-o', '/tmp/ccA1b2C3.s'], { parent: gxx });
  s.file(cc1, 'create', '/tmp/ccA1b2C3.s', { mode: '0666' });
  const as = s.process(['as', '--64', '-o', 'Release/obj.target/fast_hash/src/hash.o', '/tmp/ccA1b2C3.s'], { parent: gxx });
  s.file(as, 'read', '/tmp/ccA1b2C3.s');
  s.file(as, 'create', `${dir}/build/Release/obj.target/fast_hash/src/hash.o`, { mode: '0666' });
  s.file(gxx, 'delete', '/tmp/ccA1b2C3.s', { syscall: 'unlink' });
  const ld = s.process(['/usr/bin/ld', '-shared', '-o', 'Release/obj.target/fast_hash.node'], { parent: make });
  s.file(ld, 'create', `${dir}/build/Release/obj.target/fast_hash.node`, { mode: '0777' });
  const ln = s.process(['/bin/sh', '-c', 'ln -f "Release/obj.target/fast_hash.node" "Release/fast_hash.node" 2>/dev/null || (rm -rf "Release/fast_hash.node" && cp -af "Release/obj.target/fast_hash.node" "Release/fast_hash.node")'], { parent: make, exe: '/bin/sh' });
  s.file(ln, 'link', `${dir}/build/Release/fast_hash.node`, { target: `${dir}/build/Release/obj.target/fast_hash.node`, syscall: 'linkat' });
  // A test load of the addon by node, the project's git state, caches and npm's logs.
  s.process(['node', '-e', "require('./build/Release/fast_hash.node')"], { parent: gyp, exe: '/usr/local/bin/node' });
  s.process(['git', 'rev-parse', '--show-toplevel'], { parent: gyp, cwd: PROJECT });
  s.file(gyp, 'write', `${HOME}/.cache/node-gyp/20.20.2/installVersion`);
  s.file(gyp, 'write', `${HOME}/.npm/_logs/2024-01-01-debug-0.log`);

  const chain = b.build();
  const assessment = assess(chain);
  const findings = assessment.packages.flatMap((p) => p.findings);
  assert.deepEqual(
    findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.rule}: ${f.message}`),
    [],
  );
  assert.deepEqual([...new Set(findings.map((f) => f.rule))].sort(), ['native-build', 'shell-spawn']);
  assert.equal(assessment.verdict, 'allow');
});

test('composition: findings land on the package whose script caused the events', () => {
  const b = new ChainBuilder();
  b.canary('npm_Q7vKx2mP9LwR4tZ8yBnC3dF6hJ1kS5aE0uGi', `${HOME}/.npmrc`);
  // a reads the token; b (a separate package) talks to the network; c runs what a dropped.
  const a = b.pkg('a').script('postinstall', 'node a.js', { wrapperExecs: ['node', 'a.js'] });
  const read = a.file(a.root, 'read', `${HOME}/.npmrc`);
  const drop = a.file(a.root, 'create', '/tmp/.stage.js', { mode: '0644' });
  const net = b.pkg('b').script('postinstall', 'node b.js', { wrapperExecs: ['node', 'b.js'] });
  net.connect(net.root, '192.0.2.50', 443, { result: 'ok' });
  const c = b.pkg('c').script('postinstall', 'node /tmp/.stage.js');
  const run = c.process(['node', '/tmp/.stage.js'], { exe: '/usr/local/bin/node' });
  const chain = b.build();
  const byPackage = Object.fromEntries(assess(chain).packages.map((p) => [p.location, p.findings.map((f) => f.rule)]));
  assert.deepEqual(byPackage, {
    'node_modules/a': ['credential-access'],
    'node_modules/b': ['network-egress'],
    'node_modules/c': ['download-execute'],
  });
  const staged = assess(chain).packages.find((p) => p.location === 'node_modules/c')?.findings[0];
  assert.deepEqual(staged?.evidence, [drop.id, run.id]);
  assert.ok(!staged?.evidence.includes(read.id));
  const ids = allEventIds(chain);
  for (const f of assess(chain).packages.flatMap((p) => p.findings)) for (const id of f.evidence) assert.ok(ids.has(id), `${f.rule} cites ${id}`);
});

test('composition: a full attack chain in one package gives one finding per behaviour, all blocking', () => {
  const b = new ChainBuilder();
  const token = 'ghp_Zx81mQv02LpR7sTn4Kc9Wd3Ye6Hb5Jf1Ua8Io';
  b.canary(token, `${HOME}/.config/gh/hosts.yml`, 'GitHub token');
  const s = b.pkg('evil', '6.6.6').script('postinstall', 'node index.js', { wrapperExecs: ['node', 'index.js'] });
  s.file(s.root, 'probe', '/.dockerenv', { syscall: 'access', result: 'ENOENT' });
  s.file(s.root, 'read', `${HOME}/.config/gh/hosts.yml`);
  s.dns(s.root, `${Buffer.from(token).toString('hex')}.t.evil.test`);
  s.file(s.root, 'write', `${HOME}/.bashrc`);
  s.file(s.root, 'write', `${PROJECT}/node_modules/react/index.js`);
  s.file(s.root, 'delete', `${s.pkg.dir}/index.js`, { syscall: 'unlinkat' });
  b.pkg('react');
  const chain = b.build();
  const evil = assess(chain).packages.find((p) => p.location === 'node_modules/evil');
  assert.equal(evil?.verdict, 'block');
  assert.deepEqual(evil?.findings.map((f) => `${f.severity} ${f.rule}`), [
    'critical exfiltration',
    'high credential-access',
    'high persistence',
    'high tampering',
    'high tampering',
    'high network-egress',
    'high recon',
  ]);
});
