import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeNetworkEvents } from '../../src/session/network-merge.js';
import type { SinkholeConnection, SinkholeDns } from '../../src/sandbox/sinkhole/protocol.js';
import { ChainBuilder } from '../rules/chain-builder.js';

function connection(time: number, dstIp: string, dstPort: number, hostname: string | null): SinkholeConnection {
  return { type: 'connection', id: 'c1', time, endTime: time + 5, endReason: 'timeout', clientPort: 40000, dstIp, dstPort, hostname, protocol: 'raw', firstBytes: '', bytesReceived: 0 };
}

test('network merge: a record in the slack between two scripts goes to the script whose trace made the call', () => {
  const b = new ChainBuilder();
  const first = b.pkg('talker').script('postinstall', 'node talk.js');
  const talk = first.connect(first.root, '198.18.0.1', 80, { result: 'EINPROGRESS' });
  const dnsSend = first.connect(first.root, '127.0.0.53', 53, { protocol: 'udp', syscall: 'sendto', result: 'ok', payload: '\u0012\u0034\u0001\u0000\u0000\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0004evil\u0007example\u0000\u0000\u0001\u0000\u0001' });
  b.tick(0.1);
  const second = b.pkg('quiet').script('postinstall', 'node banner.js');
  const chain = b.build();
  const [talker, quiet] = chain.packages;
  const secondStart = quiet!.session.scripts[0]!.startedAt;
  // Both records carry times a little after the second script started: within the slack.
  const dns: SinkholeDns = { type: 'dns', time: secondStart + 0.05, name: 'evil.example', qtype: 'A', answers: ['198.18.0.1'], client: '127.0.0.1:40001', server: '127.0.0.53:53', transport: 'udp' };
  mergeNetworkEvents(chain.packages.map((p) => p.session), [dns, connection(secondStart + 0.1, '198.18.0.1', 80, 'evil.example')], b.ids);

  assert.equal(talk.observed?.protocol, 'raw', 'the sinkhole record joined the traced connect');
  assert.equal(talk.hostname, 'evil.example');
  assert.equal(talker!.session.dns.length, 1);
  assert.equal(talker!.session.dns[0]!.processId, dnsSend.processId);
  assert.deepEqual(quiet!.session.dns, []);
  assert.deepEqual(quiet!.session.connections, []);
  assert.ok(second);
});

test('network merge: a record no trace explains goes to the script running at its time', () => {
  const b = new ChainBuilder();
  b.pkg('a').script('postinstall', 'node a.js');
  b.tick(1);
  b.pkg('b').script('postinstall', 'node b.js');
  const chain = b.build();
  const [a, bPkg] = chain.packages;
  const bStart = bPkg!.session.scripts[0]!.startedAt;
  mergeNetworkEvents(chain.packages.map((p) => p.session), [connection(bStart - 0.3, '192.0.2.7', 443, null), connection(bStart + 0.3, '192.0.2.8', 443, null)], b.ids);
  assert.deepEqual(a!.session.connections.map((c) => c.address), ['192.0.2.7']);
  assert.deepEqual(bPkg!.session.connections.map((c) => c.address), ['192.0.2.8']);
});
