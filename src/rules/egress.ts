/**
 * What counts as egress, for every rule that asks "did anything leave after this?": an IP
 * connection attempt or datagram (connect/send*), and any DNS query (a query carries data too).
 */
import { SANDBOX_RESOLVER } from '../sandbox/layout.js';
import type { ConnectionEvent, DnsEvent, PackageSession } from '../session/types.js';
import { clientRecords } from './tls-records.js';

/** Syscalls that send something towards a peer; bind/listen/accept only open a door locally. */
export const EGRESS_SYSCALLS = new Set(['connect', 'sendto', 'sendmsg', 'sendmmsg']);

export function isInet(event: ConnectionEvent): boolean {
  return event.family === 'inet' || event.family === 'inet6';
}

export function isInetEgress(event: ConnectionEvent): boolean {
  if (!isInet(event) || !EGRESS_SYSCALLS.has(event.syscall)) return false;
  // glibc's getaddrinfo connect()s a UDP socket to port 0 of each answer to sort them by
  // route (RFC 6724): nothing is sent, and nothing can be, since Linux refuses port 0.
  return !(event.syscall === 'connect' && event.protocol === 'udp' && event.port === 0);
}

/**
 * glibc's getaddrinfo sorts its answers by route (RFC 6724) by connect()ing a UDP socket to each
 * one, with the port asked for (port 0 is caught by isInetEgress): nothing is sent. A UDP
 * connect() to an address the package's own lookups answered, with no datagram behind it at the
 * sinkhole, is that probe: not egress. Anything sent on such a socket reaches the sinkhole and
 * is merged onto the connect(), which then counts as usual.
 */
function routeProbes(session: PackageSession): Set<string> {
  const answered = new Set(session.dns.flatMap((event) => event.answers));
  const ids = new Set<string>();
  for (const event of session.connections) {
    if (event.syscall !== 'connect' || event.protocol !== 'udp' || event.observed !== undefined) continue;
    if (answered.has(event.address) || answered.has(event.address.replace(/^::ffff:/i, ''))) ids.add(event.id);
  }
  return ids;
}

/** A session's connection events that count as IP egress (route probes and port 0 left out). */
export function inetEgressOf(session: PackageSession): ConnectionEvent[] {
  const probes = routeProbes(session);
  return session.connections.filter((event) => isInetEgress(event) && !probes.has(event.id));
}

/** Queries to the sandbox's resolver: recorded, by name, as `dns` events. */
export function isResolverQuery(event: ConnectionEvent): boolean {
  return event.address === SANDBOX_RESOLVER && event.port === 53;
}

export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\./.test(v4) || v4 === '0.0.0.0' || address === '::1' || address === '::';
}

export interface Egress {
  id: string;
  time: number;
  processId: string | null;
  /** `collect.evil.test (192.0.2.10:443)`, `192.0.2.1:80`, `DNS c2VjcmV0.exfil.test` */
  destination: string;
}

/** Egress that can leave the machine: loopback connections reach local services, not the outside. */
export function egressOf(session: PackageSession): Egress[] {
  const out: Egress[] = [];
  for (const event of inetEgressOf(session)) {
    if (isLoopback(event.address)) continue;
    out.push({ id: event.id, time: event.time, processId: event.processId, destination: destinationOf(event) });
  }
  for (const event of session.dns) out.push(dnsEgress(event));
  return out.sort((a, b) => a.time - b.time);
}

export function dnsEgress(event: DnsEvent): Egress {
  return { id: event.id, time: event.time, processId: event.processId, destination: `DNS ${event.name.replace(/\.$/, '')}` };
}

export function destinationOf(event: ConnectionEvent): string {
  const host = event.family === 'inet6' ? `[${event.address}]` : event.address;
  const where = event.port === null ? host : `${host}:${event.port}`;
  const name = event.hostname ?? event.observed?.http?.host ?? event.observed?.sni;
  return name ? `${name} (${where})` : where;
}

/** What the sinkhole keeps of a datagram or a stream's start (SinkholeConnection.firstBytes). */
const FIRST_BYTES_CAP = 4096;

/**
 * True when the sinkhole saw all that a connection sent, as sent, so the canary search read every
 * byte of it: an HTTP request not cut short, a datagram it kept whole, a stream that carried
 * nothing, or a completed TLS handshake that carried nothing. A client that refuses the sandbox's
 * certificate (every common TLS stack trusts it: it pins its own CA) is NOT seen, although all
 * it sent here was its handshake: it gave up because of the sinkhole, and on a real machine it
 * would have sent what it came to send. Forwarded traffic went to the real host undecrypted:
 * never seen.
 */
export function seenWhole(event: ConnectionEvent): boolean {
  const observed = event.observed;
  if (!observed || observed.forwarded) return false;
  if (observed.http) return !observed.http.truncated;
  const received = observed.bytesReceived;
  if (received === undefined) return false;
  if (event.protocol === 'udp') return received <= FIRST_BYTES_CAP;
  if (received === 0) return true;
  const tls = observed.tls;
  if (!tls) return false;
  const recorded = Buffer.from(observed.firstBytes ?? '', 'base64');
  // A handshake that succeeded: firstBytes hold the decrypted stream, and nothing came through it.
  return tls.handshake === 'ok' && recorded.length === 0;
}

/**
 * A TLS handshake that did not succeed, where everything the client sent is on record and none
 * of it was encrypted: only its handshake (ClientHello) and alerts left it (said in the
 * network-egress message; what it would have sent past the handshake stays unknown).
 */
export function refusedInClear(observed: NonNullable<ConnectionEvent['observed']>): boolean {
  if (!observed.tls || observed.tls.handshake === 'ok' || observed.bytesReceived === undefined) return false;
  const recorded = Buffer.from(observed.firstBytes ?? '', 'base64');
  return recorded.length >= observed.bytesReceived && clientRecords(recorded).sealed === 0;
}
