import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconRule } from '../../src/rules/recon.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('recon: looking for /.dockerenv is high (sandbox evasion); reading /proc/1/cgroup is medium', () => {
  const b = new ChainBuilder();
  const s = b.pkg('sandbox-aware').script('preinstall', 'node check.js', { wrapperExecs: ['node', 'check.js'] });
  const dockerenv = s.file(s.root, 'probe', '/.dockerenv', { syscall: 'access', result: 'ok' });
  const cgroup = s.file(s.root, 'read', '/proc/1/cgroup');
  const findings = run(reconRule, b.build());
  assert.deepEqual(findings, [
    { rule: 'recon', severity: 'high', message: 'looks for the files that mark a container (sandbox evasion): /.dockerenv', evidence: [dockerenv.id] },
    { rule: 'recon', severity: 'medium', message: 'probes for a container or sandbox: /proc/1/cgroup', evidence: [cgroup.id] },
  ]);
});

test('recon: system-information commands are low, three different ones medium; DMI, TRACEME and metadata are medium', () => {
  const b = new ChainBuilder();
  const s = b.pkg('fp').script('postinstall', 'node x.js');
  s.process(['uname', '-a']);
  const one = run(reconRule, b.build());
  assert.deepEqual(one.map((f) => [f.severity, f.message]), [['low', 'runs system-information commands: uname -a']]);
  s.process(['whoami']);
  s.process(['ip', 'addr']);
  s.file(s.root, 'read', '/sys/class/dmi/id/product_name');
  s.process(['python3', 'x.py'], { exe: '/usr/bin/python3', privilegeCalls: [{ time: 1, syscall: 'ptrace', args: 'PTRACE_TRACEME', result: 'EPERM' }] });
  s.connect(s.root, '169.254.169.254', 80, { result: 'ok' });
  assert.deepEqual(run(reconRule, b.build()).map((f) => [f.severity, f.message]), [
    ['medium', 'fingerprints the hardware or hypervisor: /sys/class/dmi/id/product_name'],
    ['medium', 'runs system-information commands: uname -a, whoami, ip addr'],
    ['medium', 'checks whether it is being traced: ptrace(PTRACE_TRACEME)'],
    ['medium', 'queries the cloud instance metadata service: 169.254.169.254:80'],
  ]);
});

test("recon: node's own start-up reads of its cgroup limits are exempt; the script reading them again is not", () => {
  const b = new ChainBuilder();
  const s = b.pkg('node-app').script('postinstall', 'node x.js', { wrapperExecs: ['node', 'x.js'] });
  // What libuv and V8 read at every node start (recorded on this host and in the sandbox).
  for (const path of ['/proc/self/cgroup', '/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.high', '/proc/meminfo']) s.file(s.root, 'read', path);
  s.file(s.root, 'read', '/etc/ssl/certs/ca-certificates.crt');
  assert.deepEqual(run(reconRule, b.build()), []);
  const again = s.file(s.root, 'read', '/proc/self/cgroup');
  assert.deepEqual(run(reconRule, b.build())[0]?.evidence, [again.id]);
});

test('recon: a Go binary reading its limits first thing is start-up; the same read after other work is not', () => {
  const b = new ChainBuilder();
  const s = b.pkg('esbuild').script('postinstall', 'node install.js', { wrapperExecs: ['node', 'install.js'] });
  const go = s.process([`${s.pkg.dir}/bin/esbuild`, '--version'], { exe: `${s.pkg.dir}/bin/esbuild` });
  s.file(go, 'read', '/sys/kernel/mm/transparent_hugepage/hpage_pmd_size');
  s.file(go, 'read', '/proc/self/cgroup');
  s.file(go, 'read', '/proc/self/mountinfo');
  s.file(go, 'read', '/sys/fs/cgroup/cpu.max');
  assert.deepEqual(run(reconRule, b.build()), []);

  const c = new ChainBuilder();
  const t = c.pkg('probe').script('postinstall', './probe');
  const probe = t.process(['./probe'], { exe: `${t.pkg.dir}/probe` });
  t.file(probe, 'write', '/tmp/probe.log');
  const late = t.file(probe, 'read', '/proc/self/mountinfo');
  assert.deepEqual(run(reconRule, c.build())[0]?.evidence, [late.id]);
});

test('recon: uname by a build, arch queries and ordinary reads do not fire', () => {
  const b = new ChainBuilder();
  const s = b.pkg('addon').script('install', 'node-gyp rebuild', { implicit: true });
  const gyp = s.process(['node', '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js', 'rebuild'], { exe: '/usr/local/bin/node' });
  s.process(['uname', '-a'], { parent: gyp });
  const make = s.process(['make', '-C', 'build'], { parent: gyp });
  s.process(['sh', '../config.guess'], { parent: make, exe: '/bin/sh' });
  s.process(['hostname'], { parent: make });
  s.process(['uname', '-m']);
  s.process(['uname', '-s', '-r']);
  s.process(['/usr/bin/env', 'node', 'build.js'], { exe: '/usr/bin/env' });
  s.process(['git', 'rev-parse', 'HEAD']);
  s.file(s.root, 'read', '/etc/passwd');
  s.file(s.root, 'read', '/etc/hosts');
  s.file(s.root, 'read', '/proc/sys/vm/overcommit_memory');
  assert.deepEqual(run(reconRule, b.build()), []);
});

test('recon: reading its own cgroup and mount view again is low (runtimes do it on every thread-pool start)', () => {
  const b = new ChainBuilder();
  const s = b.pkg('rusty').script('postinstall', 'node postinstall.js');
  const node = s.process(['node', 'postinstall.js']);
  s.file(node, 'read', '/proc/self/mountinfo');
  s.file(node, 'read', '/home/alex/code/webapp/node_modules/rusty/index.js');
  const again = s.file(node, 'read', '/proc/self/mountinfo');
  const findings = run(reconRule, b.build());
  assert.deepEqual(findings.map((f) => [f.severity, f.evidence]), [['low', [again.id]]]);
});
