/**
 * TLS clients that do not accept the sandbox's certificate, from records the real sinkhole
 * wrote (test/fixtures/sinkhole/tls-refused.ndjson). Only their handshake is on record; what
 * they would have sent on a real machine is not, so after a secret read they stay high:
 * - cypress@15.3.0's postinstall (node 20, TLS 1.3): it reads ~/.npmrc, then connects to
 *   download.cypress.io and hangs up once it has the certificate: its ClientHello is all it sent.
 * - python's ssl (OpenSSL) with no CA loaded: its ClientHello, then an unknown_ca alert.
 * - a client that sends a record of application data right after its ClientHello (as TLS 1.3
 *   early data would be): something left that nobody could read.
 * Each goes through the same merge as a real scan, after the traced connect() it belongs to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assess } from '../../src/rules/index.js';
import { exfiltrationRule } from '../../src/rules/exfiltration.js';
import { networkEgressRule } from '../../src/rules/network-egress.js';
import { clientRecords } from '../../src/rules/tls-records.js';
import type { SinkholeConnection } from '../../src/sandbox/sinkhole/protocol.js';
import { mergeNetworkEvents } from '../../src/session/network-merge.js';
import type { ConnectionEvent, SessionChain } from '../../src/session/types.js';
import { ChainBuilder, HOME } from './chain-builder.js';
import { run } from './helpers.js';

const TOKEN = 'npm_Q7vKx2mP9LwR4tZ8yBnC3dF6hJ1kS5aE0uGi';
const fixtures = fileURLToPath(new URL('../../../test/fixtures/sinkhole/', import.meta.url));
const records = readFileSync(`${fixtures}tls-refused.ndjson`, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as SinkholeConnection);
const recorded = (hostname: string): SinkholeConnection => {
  const found = records.find((r) => r.hostname === hostname);
  assert.ok(found, hostname);
  return structuredClone(found);
};
const wire = (record: SinkholeConnection): Buffer => Buffer.from(record.firstBytes, 'base64');

/** A package that reads the decoy ~/.npmrc, then makes the traced connect() the record belongs to. */
function readThenConnect(record: SinkholeConnection): { chain: SessionChain; connection: ConnectionEvent } {
  const b = new ChainBuilder();
  b.canary(TOKEN, `${HOME}/.npmrc`);
  const s = b.pkg('cypress', '15.3.0').script('postinstall', 'node dist/index.js --exec install', { wrapperExecs: ['node', 'dist/index.js', '--exec', 'install'] });
  s.file(s.root, 'read', `${HOME}/.npmrc`);
  s.dns(s.root, record.hostname!, [record.dstIp!]);
  const connection = s.connect(s.root, record.dstIp!, record.dstPort, { result: 'EINPROGRESS' });
  const chain = b.build();
  // The recorded bytes as they were; only the clock is this chain's.
  mergeNetworkEvents(chain.packages.map((p) => p.session), [{ ...record, time: connection.time + 0.01, endTime: connection.time + 0.05 }], b.ids);
  return { chain, connection };
}

test('tls records: what each recorded client sent, in clear and sealed', () => {
  const node = recorded('download.cypress.io');
  assert.deepEqual(clientRecords(wire(node)), { clear: 377, sealed: 0 });
  assert.equal(wire(node).length, node.bytesReceived, 'the ClientHello is all it sent');
  const openssl = recorded('pinned-openssl.example');
  assert.deepEqual(clientRecords(wire(openssl)), { clear: 524, sealed: 0 });
  assert.equal(wire(openssl).subarray(-7, -2).toString('hex'), '1503030002', 'an alert record after the hello');
  assert.deepEqual(clientRecords(wire(recorded('sealed.example'))), { clear: 517, sealed: 29 });
});

test('tls records: records after a ChangeCipherSpec, unknown bytes and cut headers are sealed', () => {
  const hello = Buffer.from('16030100040100000003', 'hex').subarray(0, 9);
  const ccs = Buffer.from('140303000101', 'hex');
  const encryptedFinished = Buffer.from('16030300040a0b0c0d', 'hex');
  assert.deepEqual(clientRecords(Buffer.concat([hello, ccs, encryptedFinished])), { clear: 15, sealed: 9 });
  assert.deepEqual(clientRecords(Buffer.concat([hello, Buffer.from('GET / HTTP/1.1\r\n')])), { clear: 9, sealed: 16 });
  assert.deepEqual(clientRecords(Buffer.concat([hello, Buffer.from('1603', 'hex')])), { clear: 9, sealed: 2 });
  assert.deepEqual(clientRecords(Buffer.alloc(0)), { clear: 0, sealed: 0 });
});

test('a secret read, then a TLS handshake the client gave up on our certificate: what it came to send is unknown, high', () => {
  // Recorded from cypress before the scripts' environment trusted the sandbox's CA; a client
  // that pins its own CA does the same today.
  const { chain, connection } = readThenConnect(recorded('download.cypress.io'));
  assert.deepEqual(connection.observed?.tls, { handshake: 'incomplete' }, 'the merge keeps the handshake facts');

  const [exfiltration] = run(exfiltrationRule, chain);
  assert.equal(exfiltration?.severity, 'high');
  assert.match(exfiltration?.message ?? '', /not all of it could be seen/);

  const [egress] = run(networkEgressRule, chain);
  assert.equal(egress?.severity, 'medium');
  assert.equal(
    egress?.message,
    'connects to download.cypress.io (198.18.0.1:443): TLS handshake not completed, nothing sent but the handshake — ' +
      'the policy line that allows it: packages: { "cypress@15.3.0": { allowEgress: ["download.cypress.io"] } }',
  );
  assert.equal(assess(chain).verdict, 'block');
});

test('an OpenSSL client that pins its CA and alerts after its hello: the alert is on record, the payload is not', () => {
  const { chain } = readThenConnect(recorded('pinned-openssl.example'));
  assert.equal(run(exfiltrationRule, chain)[0]?.severity, 'high');
  assert.match(run(networkEgressRule, chain)[0]?.message ?? '', /TLS handshake not completed \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\), nothing sent but the handshake/);
  assert.equal(assess(chain).verdict, 'block');
});

test('something sealed after the hello could be the secret: high, block', () => {
  const { chain } = readThenConnect(recorded('sealed.example'));
  const [exfiltration] = run(exfiltrationRule, chain);
  assert.equal(exfiltration?.severity, 'high');
  assert.match(exfiltration?.message ?? '', /not all of it could be seen/);
  assert.match(run(networkEgressRule, chain)[0]?.message ?? '', /TLS handshake not completed \(ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC\), not all it sent could be read/);
  assert.equal(assess(chain).verdict, 'block');
});

test('bytes received that are not on record (an older sinkhole kept only the hello) are not seen', () => {
  const openssl = recorded('pinned-openssl.example');
  const hello = wire(openssl).subarray(0, 5 + wire(openssl).readUInt16BE(3));
  const { chain } = readThenConnect({ ...openssl, firstBytes: hello.toString('base64') });
  assert.equal(run(exfiltrationRule, chain)[0]?.severity, 'high');
  assert.equal(assess(chain).verdict, 'block');
});

test('a completed handshake: seen when nothing came through it, not when an opaque stream did', () => {
  const node = recorded('download.cypress.io');
  // node limited to TLS 1.2 finishes the handshake, then drops the connection over the certificate.
  const quiet = readThenConnect({ ...node, tls: { handshake: 'ok' }, firstBytes: '', bytesReceived: 365 });
  assert.equal(run(exfiltrationRule, quiet.chain)[0]?.severity, 'medium');
  const opaque = readThenConnect({ ...node, tls: { handshake: 'ok' }, firstBytes: Buffer.from('opaque-over-tls').toString('base64'), bytesReceived: 414 });
  assert.equal(run(exfiltrationRule, opaque.chain)[0]?.severity, 'high');
});

test('the decoy in the server name of a refused handshake, split over labels, is proven', () => {
  const node = recorded('download.cypress.io');
  const { chain } = readThenConnect({ ...node, sni: `${TOKEN.slice(0, 20)}.${TOKEN.slice(20)}.evil.test` });
  const [finding] = run(exfiltrationRule, chain);
  assert.equal(finding?.severity, 'critical');
  assert.match(finding?.message ?? '', /in the TLS server name$/);
});
