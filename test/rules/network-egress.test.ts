import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkEgressRule } from '../../src/rules/network-egress.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('network-egress: one finding per destination, with every attempt and the DNS lookup as evidence; named hosts medium, bare addresses high', () => {
  const b = new ChainBuilder();
  const s = b.pkg('beacon').script('postinstall', 'node beacon.js');
  const lookup = s.dns(s.root, 'collect.evil.example', ['192.0.2.10']);
  const first = s.connect(s.root, '192.0.2.10', 443, { hostname: 'collect.evil.example' });
  const second = s.connect(s.root, '192.0.2.10', 443, { hostname: 'collect.evil.example', result: 'ETIMEDOUT' });
  const other = s.connect(s.root, '2001:db8::1', 80, { result: 'EINPROGRESS' });
  const udp = s.connect(s.root, '198.51.100.7', 53, { syscall: 'sendto', protocol: 'udp', result: 'ok' });
  const findings = run(networkEgressRule, b.build());

  assert.equal(findings.length, 3);
  assert.deepEqual(findings.map((f) => [f.rule, f.severity]), [['network-egress', 'medium'], ['network-egress', 'high'], ['network-egress', 'high']]);
  assert.deepEqual(findings[0]?.evidence, [first.id, second.id, lookup.id]);
  assert.match(findings[0]?.message ?? '', /connects to collect\.evil\.example \(192\.0\.2\.10:443\): 2 attempts, ENETUNREACH, ETIMEDOUT — the policy line that allows it: packages: \{ "beacon@1\.0\.0": \{ allowEgress: \["collect\.evil\.example"\] \} \}$/);
  assert.deepEqual(findings[1]?.evidence, [other.id]);
  assert.match(findings[1]?.message ?? '', /\[2001:db8::1\]:80$/);
  assert.deepEqual(findings[2]?.evidence, [udp.id]);
  assert.match(findings[2]?.message ?? '', /^sends to 198\.51\.100\.7:53/);
});

test('network-egress: a DNS lookup alone is egress', () => {
  const b = new ChainBuilder();
  const s = b.pkg('dnsleak').script('preinstall', 'node x.js');
  const d = s.dns(null, 'c2VjcmV0.exfil.test', [], 'TXT');
  const findings = run(networkEgressRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'medium');
  assert.deepEqual(findings[0]?.evidence, [d.id]);
  assert.match(findings[0]?.message ?? '', /looks up c2VjcmV0\.exfil\.test \(TXT\), no answer/);
});

test('network-egress: a plain lookup is medium; carried data is high', () => {
  const b = new ChainBuilder();
  const s = b.pkg('dl').script('postinstall', 'node x.js');
  s.dns(null, 'downloads.example', ['198.18.0.1']);
  s.dns(null, 'bnBtX3Rva2VuX2RlY295X3ZhbHVlX2hlcmU.exfil.example', ['198.18.0.2']);
  const findings = run(networkEgressRule, b.build());
  assert.deepEqual(findings.map((f) => f.severity), ['medium', 'high']);
  assert.match(findings[0]?.message ?? '', /allowEgress: \["downloads\.example"\]/);
  assert.match(findings[1]?.message ?? '', /encoded data/);
});

test('network-egress: the UDP connect getaddrinfo makes to port 0 and queries to the sandbox resolver are not destinations', () => {
  const b = new ChainBuilder();
  const s = b.pkg('resolve').script('postinstall', 'node x.js');
  s.connect(s.root, '198.18.0.1', 0, { protocol: 'udp', result: 'ok' });
  s.connect(s.root, '127.0.0.53', 53, { protocol: 'udp', result: 'ok', syscall: 'sendto' });
  assert.deepEqual(run(networkEgressRule, b.build()), []);
});

test('network-egress: glibc\'s route probes (UDP connect to each answer, with the port asked for, nothing sent) are not destinations', () => {
  const b = new ChainBuilder();
  const s = b.pkg('pyresolve').script('install', 'python setup.py');
  const lookup = s.dns(s.root, 'files.example', ['198.18.0.1', '2001:2::1']);
  s.connect(s.root, '198.18.0.1', 80, { protocol: 'udp', result: 'ok' });
  s.connect(s.root, '2001:2::1', 80, { family: 'inet6', protocol: 'udp', result: 'ok' });
  const tcp = s.connect(s.root, '198.18.0.1', 80, { hostname: 'files.example', result: 'ok' });
  const findings = run(networkEgressRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'medium');
  assert.deepEqual(findings[0]?.evidence, [tcp.id, lookup.id]);
});

test('network-egress: a UDP connect that sent a datagram, or went to an address no lookup answered, still counts', () => {
  const b = new ChainBuilder();
  const s = b.pkg('udpleak').script('install', 'node x.js');
  s.dns(s.root, 'files.example', ['198.18.0.1']);
  const sent = s.connect(s.root, '198.18.0.1', 9999, { protocol: 'udp', result: 'ok', observed: { protocol: 'udp', bytesReceived: 12, firstBytes: Buffer.from('hello world!').toString('base64') } as never });
  const bare = s.connect(s.root, '203.0.113.9', 53, { protocol: 'udp', result: 'ok' });
  const findings = run(networkEgressRule, b.build());
  const evidence = findings.flatMap((f) => f.evidence);
  assert.ok(evidence.includes(sent.id), 'the datagram behind the connect is egress');
  assert.ok(evidence.includes(bare.id), 'an address no lookup answered is egress');
  assert.equal(findings.find((f) => f.evidence.includes(bare.id))?.severity, 'high');
});

test('network-egress: a connection to loopback is medium', () => {
  const b = new ChainBuilder();
  const s = b.pkg('local').script('postinstall', 'node x.js');
  s.connect(s.root, '127.0.0.1', 2375, { result: 'ECONNREFUSED' });
  const findings = run(networkEgressRule, b.build());
  assert.equal(findings[0]?.severity, 'medium');
  assert.match(findings[0]?.message ?? '', /on loopback/);
});

test('network-egress: unix-socket stdio, netlink and local bind/listen do not fire', () => {
  const b = new ChainBuilder();
  const s = b.pkg('benign').script('postinstall', 'node install.js');
  s.connect(s.root, '/var/run/nscd/socket', null, { family: 'unix', protocol: null, result: 'ENOENT' });
  s.connect(s.root, 'socket:[12345]', null, { family: 'unix', protocol: null, result: 'ok', syscall: 'sendmsg' });
  s.connect(s.root, '0', null, { family: 'netlink', protocol: null, result: 'ok', syscall: 'sendto' });
  s.connect(s.root, '127.0.0.1', 0, { syscall: 'bind', result: 'ok' });
  s.connect(s.root, '127.0.0.1', 0, { syscall: 'listen', result: 'ok' });
  assert.deepEqual(run(networkEgressRule, b.build()), []);
});
