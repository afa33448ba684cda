/**
 * The sinkhole: owns the network namespace the sandbox container joins, answers like the
 * internet and forwards nothing. Every name resolves (to a fake address that maps back to the
 * name), every TCP connection is accepted (TLS terminated with a per-scan CA, HTTP answered
 * `200`), every datagram is swallowed, and all of it is printed as NDJSON on stdout
 * (protocol.ts).
 *
 * It runs as root with CAP_NET_ADMIN only, in a container with `NetworkMode: none`: the
 * namespace has nothing but `lo`, so nothing can leave it whatever the rules below say. The
 * rules exist so that the sandbox user's traffic reaches these listeners instead of failing
 * with "network unreachable" (which would tell a script it is sandboxed, and would tell us
 * nothing about what it wanted to send).
 *
 * Like the runner, this file is copied into the image on its own: node builtins only, and
 * `import type` from elsewhere (erased at compile time).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import type {
  SinkholeAllow,
  SinkholeConnection,
  SinkholeForwarded,
  SinkholeEvent,
  SinkholeHttpRequest,
  SinkholePorts,
  SinkholeTcpProtocol,
  SinkholeUdp,
} from './protocol.js';

const ADDON_PATH = process.env.SINKHOLE_ORIGDST ?? '/usr/local/lib/si/origdst.node';
const FAKE_V4_BASE = ((198 << 24) | (18 << 16)) >>> 0; // 198.18.0.0/15 (RFC 2544): never routed
const FAKE_V4_SIZE = 1 << 17;
const FAKE_V4_RANGE = '198.18.0.0/15';
const FAKE_V6_RANGE = '2001:2::/48'; // RFC 5180 benchmarking: the IPv6 twin of the above
const DNS_TTL = 60;
const RECORD_AFTER_MS = 5000;
const SNIFF_WAIT_MS = 1000;
const FIRST_BYTES_CAP = 4096;
const BODY_CAP = 64 * 1024;
const TLS_RECORD_CAP = 16 * 1024 + 5;
/** A flood must not turn into gigabytes of NDJSON: past these, records are only counted. */
const EVENT_LIMITS = { dns: 20_000, connections: 5_000, udp: 5_000 };
const LEAF_CERT_CACHE = 512;

interface Config {
  uid: number;
  ports: SinkholePorts;
  workDir: string;
  /** Destinations the policy lets reach the real host, through the host's forwarding proxy. */
  forward: Forwarding | null;
}

interface Forwarding {
  allow: SinkholeAllow[];
  /** Unix socket of the proxy, mounted from the host; nothing else of the host is reachable. */
  socket: string;
}

interface Endpoint {
  ip: string;
  port: number;
}

// ---------------------------------------------------------------------------------------------
// Output

const counts = { dns: 0, connections: 0, udp: 0 };
const dropped = { dns: 0, connections: 0, udp: 0 };

function now(): number {
  return Date.now() / 1000;
}

/** stdout is a pipe, and node writes to pipes synchronously on Linux: nothing waits in memory. */
function emit(event: SinkholeEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function emitCounted(kind: keyof typeof counts, event: SinkholeEvent): void {
  if (counts[kind] >= EVENT_LIMITS[kind]) {
    if (dropped[kind]++ === 0) emit({ type: 'error', message: `more than ${EVENT_LIMITS[kind]} ${kind} records: further ones are only counted` });
    return;
  }
  counts[kind]++;
  emit(event);
}

function reportError(context: string, err: unknown): void {
  emit({ type: 'error', message: `${context}: ${err instanceof Error ? err.message : String(err)}` });
}

/** Keeps the first bytes of a stream, for the record. */
class ByteHead {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;

  constructor(private readonly cap: number) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.size >= this.cap) return;
    const part = chunk.subarray(0, this.cap - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }

  reset(): void {
    this.chunks = [];
    this.size = 0;
    this.total = 0;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get truncated(): boolean {
    return this.total > this.size;
  }
}

function endpointText(ip: string, port: number): string {
  return net.isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// Configuration

function readConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const flag = (name: string, envName: string, fallback: number): number => {
    const i = argv.indexOf(`--${name}`);
    const raw = i >= 0 ? argv[i + 1] : (argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? env[envName]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`--${name} must be a number, got ${raw}`);
    return value;
  };
  const uid = flag('uid', 'SINKHOLE_UID', 1000);
  // Root is the sinkhole itself: capturing its own replies would loop them back into it.
  if (uid === 0) throw new Error('the sandbox uid must not be 0');
  return {
    uid,
    ports: {
      tcp: flag('tcp-port', 'SINKHOLE_TCP_PORT', 15001),
      dns: flag('dns-port', 'SINKHOLE_DNS_PORT', 15053),
      udp: flag('udp-port', 'SINKHOLE_UDP_PORT', 15002),
    },
    workDir: env.SINKHOLE_DIR ?? '/tmp/.sinkhole',
    forward: env.SINKHOLE_FORWARD && env.SINKHOLE_ALLOW ? { socket: env.SINKHOLE_FORWARD, allow: JSON.parse(env.SINKHOLE_ALLOW) as SinkholeAllow[] } : null,
  };
}

function isAllowed(allow: SinkholeAllow[], name: string, port: number | null): boolean {
  const host = name.trim().toLowerCase().replace(/\.$/, '');
  if (host === '' || net.isIP(host) !== 0) return false;
  return allow.some((a) => (a.port === undefined || a.port === port) && (a.wildcard ? host.endsWith(`.${a.host}`) : host === a.host));
}

// ---------------------------------------------------------------------------------------------
// Child processes

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    // A child that fails before reading its input closes the pipe: its exit code and stderr
    // (below) say why, an EPIPE here would only hide that.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().slice(0, 500)}`));
    });
    child.stdin.end(input ?? '');
  });
}

/** openssl runs once per new server name; a flood of names must not fork hundreds at once. */
function limitConcurrency(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The namespace: routes and firewall

function ipv6Enabled(): boolean {
  try {
    return ['all', 'lo'].every((dev) => fs.readFileSync(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, 'utf8').trim() === '0');
  } catch {
    return false;
  }
}

/**
 * Every address is local, so connect() to anywhere reaches the OUTPUT hook instead of failing
 * with ENETUNREACH. One `ip` process for both families (it infers the family from `::/0`).
 */
async function addRoutes(v6: boolean): Promise<void> {
  const routes = ['route add local 0.0.0.0/0 dev lo', 'route add 0.0.0.0/0 dev lo'];
  if (v6) routes.push('route add local ::/0 dev lo', 'route add ::/0 dev lo');
  await run('ip', ['-batch', '-'], `${routes.join('\n')}\n`);
}

/**
 * The sandbox user's packets, and only theirs (the sinkhole is root): DNS to the DNS server,
 * every other TCP and UDP to the catch-all listeners. Loopback stays loopback so a script's
 * own local servers (test fixtures, language servers) keep working as on a real machine;
 * nothing else listens in this namespace. Whatever is left (ICMP, SCTP, raw) is dropped.
 */
function firewallRules(family: 4 | 6, cfg: Config): string {
  const owner = `-m owner --uid-owner ${cfg.uid}`;
  const loopback = family === 4 ? '127.0.0.0/8' : '::1/128';
  return [
    '*nat',
    ':OUTPUT ACCEPT [0:0]',
    `-A OUTPUT ${owner} -p udp -m udp --dport 53 -j REDIRECT --to-ports ${cfg.ports.dns}`,
    `-A OUTPUT ${owner} -p tcp -m tcp --dport 53 -j REDIRECT --to-ports ${cfg.ports.dns}`,
    `-A OUTPUT ${owner} -d ${loopback} -j RETURN`,
    `-A OUTPUT ${owner} -p tcp -j REDIRECT --to-ports ${cfg.ports.tcp}`,
    `-A OUTPUT ${owner} -p udp -j REDIRECT --to-ports ${cfg.ports.udp}`,
    'COMMIT',
    // The filter table sees packets after the redirect, i.e. addressed to our listeners.
    '*filter',
    ':OUTPUT ACCEPT [0:0]',
    `-A OUTPUT ${owner} -d ${loopback} -j ACCEPT`,
    `-A OUTPUT ${owner} -j DROP`,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * `-w`: wait for the xtables lock rather than fail when another restore holds it; and one more
 * try after a moment, since a busy host has been seen failing the first one.
 */
async function restoreRules(cmd: string, rules: string): Promise<void> {
  try {
    await run(cmd, ['-w', '5'], rules);
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await run(cmd, ['-w', '5'], rules);
  }
}

/** Routes and rules do not depend on each other: all at once, for start-up time. */
async function setUpNamespace(cfg: Config, v6: boolean): Promise<void> {
  const steps: Promise<unknown>[] = [addRoutes(v6), restoreRules('iptables-restore', firewallRules(4, cfg))];
  if (v6) steps.push(restoreRules('ip6tables-restore', firewallRules(6, cfg)));
  await Promise.all(steps);
}

// ---------------------------------------------------------------------------------------------
// Fake addresses: one per name, so a connection to it says which name it was for

class FakeAddresses {
  private readonly byName = new Map<string, number>();
  private readonly byIndex = new Map<number, string>();
  private next = 1;

  indexFor(name: string): number {
    const key = name.toLowerCase();
    const known = this.byName.get(key);
    if (known !== undefined) return known;
    const index = this.next;
    // Wrapping reuses the oldest addresses: 131 070 names is far beyond any real install.
    this.next = this.next + 1 >= FAKE_V4_SIZE - 1 ? 1 : this.next + 1;
    const previous = this.byIndex.get(index);
    if (previous !== undefined) this.byName.delete(previous.toLowerCase());
    this.byName.set(key, index);
    this.byIndex.set(index, name);
    return index;
  }

  v4(index: number): string {
    const n = (FAKE_V4_BASE + index) >>> 0;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }

  /** Formatted the way inet_ntop would, so it compares equal to what the kernel reports. */
  v6(index: number): string {
    const hi = index >>> 16;
    const lo = index & 0xffff;
    return `2001:2::${hi ? `${hi.toString(16)}:` : ''}${lo.toString(16)}`;
  }

  nameOf(ip: string): string | null {
    const index = net.isIPv4(ip) ? this.indexOfV4(ip) : net.isIPv6(ip) ? this.indexOfV6(ip) : null;
    return index === null ? null : (this.byIndex.get(index) ?? null);
  }

  private indexOfV4(ip: string): number | null {
    const n = ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const index = n - FAKE_V4_BASE;
    return index > 0 && index < FAKE_V4_SIZE ? index : null;
  }

  private indexOfV6(ip: string): number | null {
    const groups = expandIPv6(ip);
    if (!groups) return null;
    if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
      return this.indexOfV4(`${groups[6]! >>> 8}.${groups[6]! & 255}.${groups[7]! >>> 8}.${groups[7]! & 255}`);
    }
    if (groups[0] !== 0x2001 || groups[1] !== 2 || groups.slice(2, 6).some((g) => g !== 0)) return null;
    return groups[6]! * 0x10000 + groups[7]!;
  }
}

function expandIPv6(ip: string): number[] | null {
  if (!net.isIPv6(ip)) return null;
  let text = ip;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  const groups = [...left, ...fill, ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 ? groups : null;
}

/** The compressed form node and inet_ntop print; conntrack prints IPv6 in full. */
function canonicalIp(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

// ---------------------------------------------------------------------------------------------
// Original destinations

type OrigDst = (fd: number) => { address: string; port: number } | null;

function loadOrigDst(): OrigDst | null {
  try {
    return (createRequire(import.meta.url)(ADDON_PATH) as { originalDst: OrigDst }).originalDst;
  } catch (err) {
    reportError(`SO_ORIGINAL_DST addon not loaded, falling back to /proc/net/nf_conntrack`, err);
    return null;
  }
}

/**
 * Redirected UDP has no SO_ORIGINAL_DST; conntrack still knows: the entry whose reply tuple
 * goes from our listener back to the client holds what the client addressed.
 */
function conntrackOriginal(proto: 'tcp' | 'udp', client: Endpoint, listenerPort: number): Endpoint | null {
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/nf_conntrack', 'utf8');
  } catch {
    return null;
  }
  const clientIp = canonicalIp(client.ip);
  for (const line of table.split('\n')) {
    if (!line.includes(` ${proto} `)) continue;
    const tuples = [...line.matchAll(/src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/g)];
    const [original, reply] = tuples;
    if (!original || !reply) continue;
    if (Number(reply[3]) !== listenerPort || Number(reply[4]) !== client.port || canonicalIp(reply[2]!) !== clientIp) continue;
    return { ip: canonicalIp(original[2]!), port: Number(original[4]) };
  }
  return null;
}

function originalDestination(socket: net.Socket, origDst: OrigDst | null, listenerPort: number): Endpoint | null {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (origDst && typeof fd === 'number' && fd >= 0) {
    const found = origDst(fd);
    if (found) return { ip: canonicalIp(found.address), port: found.port };
  }
  if (socket.remoteAddress === undefined || socket.remotePort === undefined) return null;
  return conntrackOriginal('tcp', { ip: socket.remoteAddress, port: socket.remotePort }, listenerPort);
}

// ---------------------------------------------------------------------------------------------
// Certificates

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
x509_extensions = ca_ext
[dn]
O = Local Development
CN = Local Development CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Only names openssl's -subj and -addext cannot misread; anything else gets the fallback certificate. */
function certificateName(name: string): { subject: string; san: string } | null {
  const bare = name.replace(/\.$/, '');
  if (net.isIP(bare)) return { subject: bare, san: `IP:${bare}` };
  if (bare.length <= 253 && /^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$/.test(bare)) return { subject: bare, san: `DNS:${bare}` };
  return null;
}

class CertificateAuthority {
  private readonly contexts = new Map<string, Promise<tls.SecureContext>>();
  private readonly limit = limitConcurrency(4);
  private readonly leafKey: string;

  private constructor(
    private readonly dir: string,
    readonly pem: string,
  ) {
    this.leafKey = fs.readFileSync(path.join(dir, 'leaf.key'), 'utf8');
  }

  /** EC P-256, valid two days, key written only to this container's tmpfs. */
  static async create(dir: string): Promise<CertificateAuthority> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
    // One key for every leaf: only the certificates differ per name, which keeps each one ~10 ms.
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    fs.writeFileSync(path.join(dir, 'leaf.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await run('openssl', [
      'req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.pem'),
      '-days', '2', '-config', path.join(dir, 'openssl.cnf'),
    ]);
    return new CertificateAuthority(dir, fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
  }

  /** Past the cache limit (a flood of names), new names share the fallback certificate. */
  contextFor(name: string): Promise<tls.SecureContext> {
    const fallback = { subject: 'localhost', san: 'DNS:localhost' };
    let cert = certificateName(name) ?? fallback;
    if (this.contexts.size >= LEAF_CERT_CACHE && !this.contexts.has(cert.san.toLowerCase())) cert = fallback;
    const key = cert.san.toLowerCase();
    const known = this.contexts.get(key);
    if (known) return known;
    const context = this.limit(() => this.issue(cert.subject, cert.san));
    context.catch(() => this.contexts.delete(key));
    this.contexts.set(key, context);
    return context;
  }

  private async issue(subject: string, san: string): Promise<tls.SecureContext> {
    const pem = await run('openssl', [
      'req', '-x509', '-new', '-key', path.join(this.dir, 'leaf.key'),
      '-CA', path.join(this.dir, 'ca.pem'), '-CAkey', path.join(this.dir, 'ca.key'),
      '-days', '1', '-config', path.join(this.dir, 'openssl.cnf'), '-extensions', 'leaf_ext',
      '-subj', `/CN=${subject}`, '-addext', `subjectAltName=${san}`,
    ]);
    return tls.createSecureContext({ key: this.leafKey, cert: `${pem}${this.pem}` });
  }
}

// ---------------------------------------------------------------------------------------------
// DNS

const QTYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 48: 'DNSKEY', 52: 'TLSA', 64: 'SVCB',
  65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};
const QCLASSES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };
const TYPE_A = 1;
const TYPE_PTR = 12;
const TYPE_AAAA = 28;
const TYPE_ANY = 255;
const CLASS_IN = 1;
const CLASS_ANY = 255;

interface DnsQuery {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  labels: Buffer[];
  name: string;
  qtype: number;
  qclass: number;
}

interface DnsRecord {
  type: number;
  data: Buffer;
  text: string;
}

/** RFC 1035 master-file escaping: whatever bytes a label carries survive into the record. */
function labelText(label: Buffer): string {
  let text = '';
  for (const byte of label) {
    text += byte > 0x20 && byte < 0x7f && byte !== 0x2e && byte !== 0x5c ? String.fromCharCode(byte) : `\\${String(byte).padStart(3, '0')}`;
  }
  return text;
}

function readName(msg: Buffer, start: number): { labels: Buffer[]; end: number } {
  const labels: Buffer[] = [];
  let pos = start;
  let end = -1;
  let length = 0;
  for (let jumps = 0; ; ) {
    const len = msg.readUInt8(pos);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (++jumps > 16) throw new Error('compression loop');
      if (end < 0) end = pos + 2;
      pos = msg.readUInt16BE(pos) & 0x3fff;
      continue;
    }
    if (len & 0xc0) throw new Error('bad label type');
    if (pos + 1 + len > msg.length) throw new RangeError('label past the end');
    labels.push(Buffer.from(msg.subarray(pos + 1, pos + 1 + len)));
    length += len + 1;
    if (length > 255) throw new Error('name too long');
    pos += 1 + len;
  }
  return { labels, end };
}

function parseQuery(msg: Buffer): DnsQuery | null {
  try {
    const flags = msg.readUInt16BE(2);
    if (flags & 0x8000 || msg.readUInt16BE(4) < 1) return null;
    const { labels, end } = readName(msg, 12);
    return {
      id: msg.readUInt16BE(0),
      opcode: (flags >> 11) & 0xf,
      recursionDesired: (flags & 0x0100) !== 0,
      labels,
      name: labels.map(labelText).join('.'),
      qtype: msg.readUInt16BE(end),
      qclass: msg.readUInt16BE(end + 2),
    };
  } catch {
    return null;
  }
}

function encodeName(labels: Buffer[]): Buffer {
  return Buffer.concat([...labels.flatMap((l) => [Buffer.from([l.length]), l]), Buffer.from([0])]);
}

function encodeTextName(name: string): Buffer {
  return encodeName(name.split('.').filter(Boolean).map((l) => Buffer.from(l, 'latin1')));
}

function buildResponse(q: DnsQuery, rcode: number, records: DnsRecord[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | (q.opcode << 11) | 0x0400 | (q.recursionDesired ? 0x0100 : 0) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const question = Buffer.concat([encodeName(q.labels), u16(q.qtype), u16(q.qclass)]);
  // The question always sits at offset 12, so every answer names it with pointer 0xc00c.
  const answers = records.map((r) => Buffer.concat([u16(0xc00c), u16(r.type), u16(CLASS_IN), u32(DNS_TTL), u16(r.data.length), r.data]));
  return Buffer.concat([header, question, ...answers]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function ipv4Record(ip: string): DnsRecord {
  return { type: TYPE_A, data: Buffer.from(ip.split('.').map(Number)), text: ip };
}

function ipv6Record(ip: string): DnsRecord {
  const groups = expandIPv6(ip)!;
  return { type: TYPE_AAAA, data: Buffer.concat(groups.map(u16)), text: ip };
}

/** `4.3.2.1.in-addr.arpa` → 1.2.3.4; the nibble form of ip6.arpa → an IPv6 address. */
function reverseAddress(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.in-addr.arpa')) {
    const parts = lower.slice(0, -'.in-addr.arpa'.length).split('.');
    const ip = parts.reverse().join('.');
    return parts.length === 4 && net.isIPv4(ip) ? ip : null;
  }
  if (lower.endsWith('.ip6.arpa')) {
    const nibbles = lower.slice(0, -'.ip6.arpa'.length).split('.').reverse();
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return null;
    return canonicalIp(nibbles.join('').match(/.{4}/g)!.join(':'));
  }
  return null;
}

class DnsResponder {
  constructor(
    private readonly fake: FakeAddresses,
    private readonly ipv6: boolean,
  ) {}

  /** Everything resolves, like the internet would for a name that exists. */
  answer(q: DnsQuery): { rcode: number; records: DnsRecord[] } {
    if (q.opcode !== 0) return { rcode: 4, records: [] };
    if ((q.qclass !== CLASS_IN && q.qclass !== CLASS_ANY) || q.labels.length === 0) return { rcode: 0, records: [] };
    const wantsV4 = q.qtype === TYPE_A || q.qtype === TYPE_ANY;
    const wantsV6 = q.qtype === TYPE_AAAA || q.qtype === TYPE_ANY;
    if (q.qtype === TYPE_PTR) return { rcode: 0, records: this.pointer(q.name) };
    if (!wantsV4 && !wantsV6) return { rcode: 0, records: [] };
    const lower = q.name.toLowerCase();
    if (lower === 'localhost' || lower.endsWith('.localhost')) {
      return { rcode: 0, records: [...(wantsV4 ? [ipv4Record('127.0.0.1')] : []), ...(wantsV6 && this.ipv6 ? [ipv6Record('::1')] : [])] };
    }
    const index = this.fake.indexFor(q.name);
    const records: DnsRecord[] = [];
    if (wantsV4) records.push(ipv4Record(this.fake.v4(index)));
    if (wantsV6 && this.ipv6) records.push(ipv6Record(this.fake.v6(index)));
    return { rcode: 0, records };
  }

  private pointer(name: string): DnsRecord[] {
    const ip = reverseAddress(name);
    const target = ip ? this.fake.nameOf(ip) : null;
    return target ? [{ type: TYPE_PTR, data: encodeTextName(target), text: target }] : [];
  }
}

interface DnsContext {
  responder: DnsResponder;
  port: number;
  onNotDns: (msg: Buffer, client: Endpoint) => void;
}

/** Returns the response to send, or null when the message is not a DNS query (then recorded as a datagram). */
function handleDnsMessage(ctx: DnsContext, msg: Buffer, client: Endpoint, server: Endpoint | null, transport: 'udp' | 'tcp'): Buffer | null {
  const q = parseQuery(msg);
  if (!q) {
    ctx.onNotDns(msg, client);
    return null;
  }
  const { rcode, records } = ctx.responder.answer(q);
  emitCounted('dns', {
    type: 'dns',
    time: now(),
    name: q.name,
    qtype: QTYPES[q.qtype] ?? `TYPE${q.qtype}`,
    ...(q.qclass !== CLASS_IN ? { qclass: QCLASSES[q.qclass] ?? `CLASS${q.qclass}` } : {}),
    answers: records.map((r) => r.text),
    client: endpointText(client.ip, client.port),
    server: server ? endpointText(server.ip, server.port) : null,
    transport,
  });
  return buildResponse(q, rcode, records);
}

/**
 * Bound to the loopback address REDIRECT delivers to, not the wildcard: a reply must leave
 * from exactly that address for conntrack to rewrite it back to the server the client asked
 * (a client that queried 192.0.2.1 has that as its own source, and a wildcard socket would
 * answer from there, past the NAT).
 */
function startDnsUdp(ctx: DnsContext, type: 'udp4' | 'udp6', host: string): Promise<void> {
  const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  socket.on('message', (msg, rinfo) => {
    const client = { ip: rinfo.address, port: rinfo.port };
    const reply = handleDnsMessage(ctx, msg, client, conntrackOriginal('udp', client, ctx.port), 'udp');
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.on('error', (err) => reportError(`dns ${type}`, err));
  return bindUdp(socket, ctx.port, host);
}

function bindUdp(socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function serveDnsTcp(ctx: DnsContext, socket: net.Socket, origDst: OrigDst | null): void {
  let pending = Buffer.alloc(0);
  const client = { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
  const server = originalDestination(socket, origDst, ctx.port);
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
      pending = pending.subarray(2 + msg.length);
      const reply = handleDnsMessage(ctx, msg, client, server, 'tcp');
      if (reply) socket.write(Buffer.concat([u16(reply.length), reply]));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// UDP catch-all

function recordDatagram(listener: SinkholeUdp['listener'], msg: Buffer, client: Endpoint, listenerPort: number, fake: FakeAddresses): void {
  const dst = conntrackOriginal('udp', client, listenerPort);
  emitCounted('udp', {
    type: 'udp',
    time: now(),
    listener,
    client: endpointText(client.ip, client.port),
    dstIp: dst?.ip ?? null,
    dstPort: dst?.port ?? null,
    hostname: dst ? fake.nameOf(dst.ip) : null,
    bytes: msg.length,
    payload: msg.subarray(0, FIRST_BYTES_CAP).toString('base64'),
    truncated: msg.length > FIRST_BYTES_CAP,
  });
}

function startUdpCatch(type: 'udp4' | 'udp6', host: string, port: number, fake: FakeAddresses): Promise<void> {
  const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  socket.on('message', (msg, rinfo) => recordDatagram('catch', msg, { ip: rinfo.address, port: rinfo.port }, port, fake));
  socket.on('error', (err) => reportError(`udp ${type}`, err));
  return bindUdp(socket, port, host);
}

// ---------------------------------------------------------------------------------------------
// TCP: one record per connection

const HTTP_METHODS = new Set(http.METHODS);

type Sniffed = 'tls' | 'http' | 'raw' | 'more';

function sniff(head: Buffer, tlsAllowed: boolean): Sniffed {
  if (head.length === 0) return 'more';
  if (tlsAllowed && head[0] === 0x16) {
    if (head.length < 2) return 'more';
    if (head[1] !== 0x03) return 'raw';
    if (head.length < 5) return 'more';
    return head.length >= Math.min(5 + head.readUInt16BE(3), TLS_RECORD_CAP) ? 'tls' : 'more';
  }
  const text = head.subarray(0, 24).toString('latin1');
  const method = /^([A-Z-]+) /.exec(text);
  if (method) return HTTP_METHODS.has(method[1]!) ? 'http' : 'raw';
  return /^[A-Z-]*$/.test(text) && text.length < 21 ? 'more' : 'raw';
}

/** The server_name of a ClientHello, or null (no SNI, or not parseable). */
function parseSni(record: Buffer): string | null {
  try {
    let p = 5;
    if (record.readUInt8(p) !== 1) return null; // handshake type: client_hello
    p += 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + record.readUInt8(p); // session id
    p += 2 + record.readUInt16BE(p); // cipher suites
    p += 1 + record.readUInt8(p); // compression methods
    const end = p + 2 + record.readUInt16BE(p);
    for (p += 2; p + 4 <= end; ) {
      const type = record.readUInt16BE(p);
      const len = record.readUInt16BE(p + 2);
      if (type === 0) {
        const nameLen = record.readUInt16BE(p + 4 + 3);
        if (record.readUInt8(p + 4 + 2) !== 0) return null;
        return record.subarray(p + 4 + 5, p + 4 + 5 + nameLen).toString('latin1');
      }
      p += 4 + len;
    }
  } catch {
    // A truncated or malformed hello: recorded as firstBytes anyway.
  }
  return null;
}

/**
 * Reads until the first bytes say what the stream is, then puts them back so whoever takes
 * the stream over (TLS, the HTTP parser) sees it from its first byte. Every chunk is recorded
 * as it arrives, so a client that hangs up mid-sniff still leaves its bytes in the record.
 */
function readHead(
  stream: net.Socket,
  tlsAllowed: boolean,
  record: (chunk: Buffer) => void,
  onHead: (kind: Exclude<Sniffed, 'more'>) => void,
): void {
  const chunks: Buffer[] = [];
  let settled = false;
  const settle = (kind: Exclude<Sniffed, 'more'>): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    stream.off('data', onData);
    stream.pause();
    // Raw streams are only recorded: nobody downstream needs the head again.
    if (kind !== 'raw' && chunks.length > 0) stream.unshift(Buffer.concat(chunks));
    onHead(kind);
  };
  const onData = (chunk: Buffer): void => {
    record(chunk);
    chunks.push(chunk);
    const kind = sniff(Buffer.concat(chunks), tlsAllowed);
    if (kind !== 'more') settle(kind);
  };
  // A client that sends a few bytes and waits is raw; one that sends nothing stays undecided.
  const timer = setTimeout(() => chunks.length > 0 && settle('raw'), SNIFF_WAIT_MS);
  stream.on('data', onData);
}

class HttpCapture {
  readonly request: Omit<SinkholeHttpRequest, 'body' | 'bodyBytes' | 'truncated' | 'complete'>;
  private readonly body = new ByteHead(BODY_CAP);
  complete = false;

  constructor(req: http.IncomingMessage) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    this.request = { method: req.method ?? '', host: req.headers.host ?? authorityOf(req.url ?? ''), path: req.url ?? '', headers };
  }

  addBody(chunk: Buffer): void {
    this.body.add(chunk);
  }

  record(): SinkholeHttpRequest {
    return {
      ...this.request,
      body: this.body.bytes().toString('utf8'),
      bodyBytes: this.body.total,
      truncated: this.body.truncated,
      complete: this.complete,
    };
  }
}

/** A connection through the host's proxy, once the proxy said `OK`; paused, for the caller to resume. */
function openTunnel(socketPath: string, host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const tunnel = net.connect(socketPath);
    let reply = Buffer.alloc(0);
    tunnel.on('error', (err: Error & { code?: string }) => reject(new Error(`forwarding proxy: ${err.code ?? err.message}`)));
    const onData = (chunk: Buffer): void => {
      reply = Buffer.concat([reply, chunk]);
      const newline = reply.indexOf(0x0a);
      if (newline < 0) return;
      tunnel.off('data', onData);
      tunnel.pause();
      const line = reply.subarray(0, newline).toString('utf8');
      const rest = reply.subarray(newline + 1);
      if (rest.length > 0) tunnel.unshift(rest);
      if (line === 'OK') resolve(tunnel);
      else {
        tunnel.destroy();
        reject(new Error(line.replace(/^ERR ?/, '') || 'refused'));
      }
    };
    tunnel.on('data', onData);
    tunnel.write(`${JSON.stringify({ host, port })}\n`);
  });
}

function authorityOf(target: string): string {
  try {
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? new URL(target).host : '';
  } catch {
    return '';
  }
}

class TcpSession {
  readonly time = now();
  protocol: SinkholeTcpProtocol = 'raw';
  sni: string | undefined;
  tls: SinkholeConnection['tls'];
  http: HttpCapture | undefined;
  forwarded: SinkholeForwarded | undefined;
  readonly firstBytes = new ByteHead(FIRST_BYTES_CAP);
  /** Read at accept: a destroyed socket no longer knows it. */
  private readonly clientPort: number;
  private finished = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly socket: net.Socket,
    readonly dst: Endpoint | null,
    readonly hostname: string | null,
    private readonly onFinish: (session: TcpSession) => void,
  ) {
    this.clientPort = socket.remotePort ?? 0;
    this.timer = setTimeout(() => this.finish('timeout'), RECORD_AFTER_MS);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** A forwarded connection lives as long as the client and the real host keep it open. */
  keepOpen(): void {
    clearTimeout(this.timer);
  }

  finish(reason: SinkholeConnection['endReason']): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    emitCounted('connections', this.record(reason));
    this.socket.destroy();
    this.onFinish(this);
  }

  private record(reason: SinkholeConnection['endReason']): SinkholeConnection {
    return {
      type: 'connection',
      id: this.id,
      time: this.time,
      endTime: now(),
      endReason: reason,
      clientPort: this.clientPort,
      dstIp: this.dst?.ip ?? null,
      dstPort: this.dst?.port ?? null,
      hostname: this.hostname,
      protocol: this.protocol,
      ...(this.sni !== undefined ? { sni: this.sni } : {}),
      ...(this.tls ? { tls: this.tls } : {}),
      ...(this.http ? { http: this.http.record() } : {}),
      ...(this.forwarded ? { forwarded: { ...this.forwarded } } : {}),
      firstBytes: this.firstBytes.bytes().toString('base64'),
      bytesReceived: this.socket.bytesRead,
    };
  }
}

class TcpCatcher {
  private readonly sessions = new Set<TcpSession>();
  private readonly bySocket = new WeakMap<net.Socket, TcpSession>();
  private readonly httpServer: http.Server;
  private nextId = 1;

  constructor(
    private readonly port: number,
    private readonly fake: FakeAddresses,
    private readonly origDst: OrigDst | null,
    private readonly ca: Promise<CertificateAuthority>,
    private readonly forward: Forwarding | null,
  ) {
    this.httpServer = http.createServer({ maxHeaderSize: 64 * 1024, requestTimeout: 0, keepAliveTimeout: 1000 }, (req, res) => this.onRequest(req, res));
    // Not HTTP after all (or broken HTTP): the record keeps its first bytes as a raw stream's.
    this.httpServer.on('clientError', (_err: Error, socket: net.Socket) => {
      const session = this.bySocket.get(socket);
      if (session && !session.http) session.protocol = session.tls?.handshake === 'ok' ? 'tls' : 'raw';
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }

  accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    const dst = originalDestination(socket, this.origDst, this.port);
    const session = new TcpSession(`c${this.nextId++}`, socket, dst, dst ? this.fake.nameOf(dst.ip) : null, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    this.bySocket.set(socket, session);
    socket.on('close', () => session.finish('closed'));
    if (this.forward && dst && session.hostname && isAllowed(this.forward.allow, session.hostname, dst.port)) {
      this.forwardConnection(session, this.forward, dst.port);
      return;
    }
    const head: Buffer[] = [];
    const record = (chunk: Buffer): void => {
      head.push(chunk);
      session.firstBytes.add(chunk);
    };
    readHead(socket, true, record, (kind) => {
      if (kind === 'tls') void this.terminateTls(session, Buffer.concat(head));
      else if (kind === 'http') this.serveHttp(session, socket);
      else this.swallow(session, socket);
    });
  }

  /**
   * An allowed destination: the bytes go to the real host through the proxy on the host side,
   * recorded on the way. Before anything is sent, the names the client states (TLS SNI, HTTP
   * Host) must be allowed too: a client that resolved an allowed name and then asks the server
   * for another (domain fronting) is not forwarded. TLS is passed through, not decrypted.
   */
  private forwardConnection(session: TcpSession, forward: Forwarding, port: number): void {
    session.keepOpen();
    const client = session.socket;
    const head: Buffer[] = [];
    let started = false;
    const refuse = (error: string): void => {
      session.forwarded = { ok: false, error, bytesFromHost: 0 };
      session.finish('closed');
    };
    const start = (): void => {
      if (started || session.isFinished) return;
      started = true;
      clearTimeout(timer);
      client.off('data', onData);
      client.pause();
      const bytes = Buffer.concat(head);
      const kind = bytes.length > 0 ? sniff(bytes, true) : 'raw';
      if (kind === 'tls') {
        session.protocol = 'tls';
        session.sni = parseSni(bytes) ?? undefined;
        if (session.sni !== undefined && !isAllowed(forward.allow, session.sni, port)) return refuse(`TLS server name ${session.sni} is not allowed`);
      } else if (kind === 'http') {
        session.protocol = 'http';
        // Every request on the connection is checked, not just the first: keep-alive would
        // otherwise let a second request name another host.
        client.unshift(bytes);
        this.forwardHttp(session, forward, port);
        return;
      }
      this.pipeToProxy(session, forward, port, bytes);
    };
    const onData = (chunk: Buffer): void => {
      head.push(chunk);
      session.firstBytes.add(chunk);
      const kind = sniff(Buffer.concat(head), true);
      if (kind !== 'more' || Buffer.concat(head).length >= TLS_RECORD_CAP) start();
    };
    // A protocol where the server speaks first sends nothing: forward it after a moment.
    const timer = setTimeout(start, SNIFF_WAIT_MS);
    client.on('data', onData);
  }

  /** Plain HTTP to an allowed host: request by request, each one's Host checked and recorded. */
  private forwardHttp(session: TcpSession, forward: Forwarding, port: number): void {
    const forwarded: SinkholeForwarded = { ok: false, bytesFromHost: 0 };
    session.forwarded = forwarded;
    const server = http.createServer({ maxHeaderSize: 64 * 1024, requestTimeout: 0 }, (req, res) => {
      const capture = session.http ? undefined : new HttpCapture(req);
      if (capture) session.http = capture;
      // Read only once the tunnel is up (below), so the body reaches the host too.
      const listen = (): void => {
        req.on('data', (chunk: Buffer) => capture?.addBody(chunk));
        req.on('end', () => capture && (capture.complete = true));
      };
      const host = (req.headers.host ?? '').replace(/:\d*$/, '');
      if (host !== '' && !isAllowed(forward.allow, host, port)) {
        forwarded.error = `HTTP Host ${host} is not allowed`;
        listen();
        res.writeHead(421, { 'Content-Length': '0', Connection: 'close' });
        res.end();
        return;
      }
      openTunnel(forward.socket, session.hostname ?? host, port).then(
        (tunnel) => {
          forwarded.ok = true;
          const upstream = http.request({ createConnection: () => tunnel, method: req.method, path: req.url, headers: req.headers, setHost: false });
          upstream.on('response', (response) => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            response.on('data', (chunk: Buffer) => (forwarded.bytesFromHost += chunk.length));
            response.pipe(res);
          });
          upstream.on('error', (err: Error & { code?: string }) => {
            forwarded.error ??= err.code ?? err.message;
            res.destroy();
          });
          listen();
          req.pipe(upstream);
          // Paused by openTunnel so that nothing the host sent was emitted before the client listened.
          tunnel.resume();
        },
        (err: Error) => {
          forwarded.error ??= err.message;
          listen();
          res.writeHead(502, { 'Content-Length': '0', Connection: 'close' });
          res.end();
        },
      );
    });
    server.on('clientError', (_err, socket: net.Socket) => socket.destroy());
    server.emit('connection', session.socket);
    session.socket.resume();
  }

  private pipeToProxy(session: TcpSession, forward: Forwarding, port: number, head: Buffer): void {
    const client = session.socket;
    const upstream = net.connect(forward.socket);
    const forwarded: SinkholeForwarded = { ok: false, bytesFromHost: 0 };
    session.forwarded = forwarded;
    let reply = '';
    upstream.on('error', (err: Error & { code?: string }) => {
      forwarded.error ??= `forwarding proxy: ${err.code ?? err.message}`;
      client.destroy();
    });
    upstream.on('close', () => client.end());
    client.on('close', () => upstream.destroy());
    const onReply = (chunk: Buffer): void => {
      const text = reply + chunk.toString('latin1');
      const newline = text.indexOf('\n');
      if (newline < 0) {
        reply = text.slice(0, 512);
        return;
      }
      upstream.off('data', onReply);
      const line = text.slice(0, newline);
      if (line !== 'OK') {
        forwarded.error = line.replace(/^ERR ?/, '') || 'refused';
        upstream.destroy();
        client.destroy();
        return;
      }
      forwarded.ok = true;
      const rest = Buffer.from(text.slice(newline + 1), 'latin1');
      if (rest.length > 0) {
        forwarded.bytesFromHost += rest.length;
        client.write(rest);
      }
      upstream.on('data', (data: Buffer) => {
        forwarded.bytesFromHost += data.length;
      });
      upstream.pipe(client);
      if (head.length > 0) upstream.write(head);
      client.on('data', (data: Buffer) => session.firstBytes.add(data));
      client.pipe(upstream);
      client.resume();
    };
    upstream.on('data', onReply);
    upstream.write(`${JSON.stringify({ host: session.hostname, port })}\n`);
  }

  /** Records every connection still open, for a clean shutdown. */
  finishAll(): void {
    for (const session of [...this.sessions]) session.finish('shutdown');
  }

  private swallow(session: TcpSession, stream: net.Socket): void {
    stream.on('data', (chunk: Buffer) => session.firstBytes.add(chunk));
    stream.resume();
  }

  private serveHttp(session: TcpSession, stream: net.Socket): void {
    session.protocol = session.tls?.handshake === 'ok' ? 'https' : 'http';
    this.bySocket.set(stream, session);
    this.httpServer.emit('connection', stream);
    stream.resume();
  }

  private async terminateTls(session: TcpSession, hello: Buffer): Promise<void> {
    const raw = session.socket;
    session.protocol = 'tls';
    session.sni = parseSni(hello) ?? undefined;
    session.tls = { handshake: 'incomplete' };
    let context: tls.SecureContext;
    try {
      context = await (await this.ca).contextFor(session.sni ?? session.hostname ?? session.dst?.ip ?? 'localhost');
    } catch (err) {
      session.tls = { handshake: 'failed', error: `no certificate: ${err instanceof Error ? err.message : String(err)}` };
      raw.resume();
      return;
    }
    if (session.isFinished) return;
    // Until the handshake is done, firstBytes holds what the client sent on the wire, all of it
    // (up to the cap): a client that refuses our certificate leaves its ClientHello and its alert
    // there, and the host can tell that nothing encrypted followed (src/rules/tls-records.ts).
    session.firstBytes.reset();
    const wire = tapped(raw, (chunk) => {
      if (session.tls?.handshake !== 'ok') session.firstBytes.add(chunk);
    });
    const secure = new tls.TLSSocket(wire, { isServer: true, secureContext: context });
    this.bySocket.set(secure, session);
    secure.on('error', (err: Error & { code?: string }) => {
      // OpenSSL's messages carry source paths; its codes (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA) say it all.
      if (session.tls?.handshake !== 'ok') session.tls = { handshake: 'failed', error: err.code ?? err.message };
    });
    secure.on('close', () => session.finish('closed'));
    secure.on('secure', () => {
      session.tls = { handshake: 'ok' };
      session.firstBytes.reset();
      readHead(secure, false, (chunk) => session.firstBytes.add(chunk), (kind) => {
        if (kind === 'http') this.serveHttp(session, secure);
        else this.swallow(session, secure);
      });
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const session = this.bySocket.get(req.socket);
    const capture = session && !session.http ? new HttpCapture(req) : undefined;
    if (session && capture) session.http = capture;
    req.on('data', (chunk: Buffer) => capture?.addBody(chunk));
    req.on('end', () => {
      if (capture) capture.complete = true;
      res.writeHead(200, { 'Content-Length': '0', Connection: 'close' });
      res.end();
    });
  }
}

/**
 * The socket as a stream of its own, for TLS to read from: node's TLS takes a net.Socket's
 * handle over and reads past any 'data' listener, so a chunk could not be seen on its way in.
 * The head put back by readHead comes through first.
 */
function tapped(raw: net.Socket, onChunk: (chunk: Buffer) => void): Duplex {
  const tap = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _encoding, done) {
      if (raw.destroyed) return done();
      raw.write(chunk, () => done());
    },
    final(done) {
      raw.end();
      done();
    },
    destroy(err, done) {
      raw.destroy();
      done(err);
    },
  });
  raw.on('data', (chunk: Buffer) => {
    onChunk(chunk);
    if (!tap.push(chunk)) raw.pause();
  });
  raw.on('end', () => tap.push(null));
  raw.on('close', () => tap.destroy());
  return tap;
}

function listenTcp(port: number, host: string, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(onConnection);
  server.maxConnections = 1024;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: net.isIPv6(host) }, () => resolve(server));
  });
}

// ---------------------------------------------------------------------------------------------
// Start

/** REDIRECT of locally generated packets delivers to 127.0.0.1 or ::1: that is all we listen on. */
async function startListeners(cfg: Config, fake: FakeAddresses, ipv6: boolean, tcp: TcpCatcher, origDst: OrigDst | null): Promise<void> {
  const dns: DnsContext = {
    responder: new DnsResponder(fake, ipv6),
    port: cfg.ports.dns,
    onNotDns: (msg, client) => recordDatagram('dns', msg, client, cfg.ports.dns, fake),
  };
  const families: ['udp4' | 'udp6', string][] = [['udp4', '127.0.0.1'], ...(ipv6 ? ([['udp6', '::1']] as ['udp6', string][]) : [])];
  await Promise.all(
    families.flatMap(([type, host]) => [
      startDnsUdp(dns, type, host),
      listenTcp(cfg.ports.dns, host, (s) => serveDnsTcp(dns, s, origDst)),
      startUdpCatch(type, host, cfg.ports.udp, fake),
      listenTcp(cfg.ports.tcp, host, (s) => tcp.accept(s)),
    ]),
  );
}

async function main(): Promise<void> {
  const cfg = readConfig(process.argv.slice(2), process.env);
  const fake = new FakeAddresses();
  const origDst = loadOrigDst();
  // The CA is only needed for the first TLS connection: generate it while everything else starts.
  const ca = CertificateAuthority.create(path.join(cfg.workDir, 'ca'));
  ca.catch(() => undefined);
  const tcp = new TcpCatcher(cfg.ports.tcp, fake, origDst, ca, cfg.forward);
  process.on('SIGTERM', () => shutdown(tcp));
  process.on('SIGINT', () => shutdown(tcp));
  // Decided once, before anything listens: AAAA answers and v6 listeners follow the namespace.
  const ipv6 = ipv6Enabled();
  await Promise.all([setUpNamespace(cfg, ipv6), startListeners(cfg, fake, ipv6, tcp, origDst)]);
  emit({
    type: 'ready',
    ca: (await ca).pem,
    ports: cfg.ports,
    ipv6,
    uid: cfg.uid,
    fakeRanges: { v4: FAKE_V4_RANGE, v6: ipv6 ? FAKE_V6_RANGE : null },
    startupMs: Math.round(performance.now()),
  });
}

function shutdown(tcp: TcpCatcher): void {
  tcp.finishAll();
  emit({ type: 'stats', ...counts, dropped });
  process.exit(0);
}

// Nobody reads the records any more: nothing left to do.
process.stdout.on('error', () => process.exit(0));

// One odd connection must not take the recorder down with it; only start-up failures are fatal.
let started = false;
process.on('uncaughtException', (err) => {
  reportError('uncaught', err);
  if (!started) process.exit(1);
});

main().then(
  () => {
    started = true;
  },
  (err: unknown) => {
    reportError('sinkhole failed to start', err);
    process.exit(1);
  },
);
