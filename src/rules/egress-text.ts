/**
 * Everything a package sent that could carry data, as text to search: DNS names (also with the
 * dots taken out, and the data labels of several queries to one domain joined in time order,
 * since exfiltration splits a value over labels and queries), datagram and stream payloads the
 * tracer saw, and what the sinkhole observed: URL, headers, body, TLS server name, first bytes.
 */
import type { ConnectionEvent, PackageSession } from '../session/types.js';
import { destinationOf, isInet } from './egress.js';

export interface Haystack {
  text: string;
  /** Where in the traffic, for messages: `the HTTP body`, `a DNS query`. */
  where: string;
  destination: string;
  eventIds: string[];
  /** The connection it came from, when it came from one. */
  connection?: ConnectionEvent;
  /** Lowercased header name, for HTTP headers. */
  header?: string;
}

export function haystacksOf(session: PackageSession): Haystack[] {
  return [...dnsHaystacks(session), ...session.connections.filter(isInet).flatMap(connectionHaystacks)];
}

function dnsHaystacks(session: PackageSession): Haystack[] {
  const out: Haystack[] = [];
  const byDomain = new Map<string, { name: string; id: string; time: number }[]>();
  for (const event of session.dns) {
    const name = unescapeDnsName(event.name);
    const domain = parentDomain(name);
    out.push({ text: `${name}\n${name.replace(/\./g, '')}`, where: 'a DNS query', destination: domain, eventIds: [event.id] });
    byDomain.set(domain, [...(byDomain.get(domain) ?? []), { name, id: event.id, time: event.time }]);
  }
  for (const [domain, queries] of byDomain) {
    if (queries.length < 2) continue;
    const ordered = [...queries].sort((a, b) => a.time - b.time);
    const labels = ordered.map((q) => q.name.slice(0, Math.max(0, q.name.length - domain.length - 1)).split('.'));
    // Tools add sequence numbers or session ids as extra labels: also join the first labels alone.
    const text = `${labels.map((l) => l.join('')).join('')}\n${labels.map((l) => l[0] ?? '').join('')}`;
    out.push({ text, where: `${queries.length} DNS queries`, destination: domain, eventIds: ordered.map((q) => q.id) });
  }
  return out;
}

function connectionHaystacks(event: ConnectionEvent): Haystack[] {
  const destination = destinationOf(event);
  const base = { destination, eventIds: [event.id], connection: event };
  const out: Haystack[] = [];
  if (event.payload) {
    out.push({ ...base, text: event.payload, where: 'the data sent' });
    const qname = event.port === 53 ? dnsWireName(event.payload) : null;
    if (qname) out.push({ ...base, text: `${qname}\n${qname.replace(/\./g, '')}`, where: 'a DNS query' });
  }
  const observed = event.observed;
  if (!observed) return out;
  if (observed.firstBytes) out.push({ ...base, text: Buffer.from(observed.firstBytes, 'base64').toString('latin1'), where: 'the data sent' });
  // A server name is a DNS name, sent in clear even when the handshake fails: searched the same way.
  if (observed.sni) out.push({ ...base, text: `${observed.sni}\n${observed.sni.replace(/\./g, '')}`, where: 'the TLS server name' });
  const http = observed.http;
  if (http) {
    out.push({ ...base, text: `${http.method} ${http.path}`, where: 'the URL' });
    for (const [name, value] of Object.entries(http.headers)) {
      out.push({ ...base, text: `${name}: ${value}`, where: `the ${name} header`, header: name.toLowerCase() });
    }
    if (http.body) out.push({ ...base, text: http.body, where: 'the HTTP body' });
  }
  return out;
}

/** The sinkhole writes bytes that are not printable, and dots inside a label, as `\DDD` (RFC 1035). */
export function unescapeDnsName(name: string): string {
  return name.replace(/\\(\d{3}|.)/g, (_, esc: string) => (esc.length === 3 ? String.fromCharCode(Number(esc)) : esc)).replace(/\.$/, '');
}

/** The last two labels: where the data labels of an exfiltration domain end. */
function parentDomain(name: string): string {
  return name.split('.').slice(-2).join('.').toLowerCase();
}

/** The question name of a DNS query datagram (12-byte header, then length-prefixed labels). */
function dnsWireName(payload: string): string | null {
  const labels: string[] = [];
  let i = 12;
  while (i < payload.length) {
    const length = payload.charCodeAt(i);
    if (length === 0) return labels.length > 0 ? labels.join('.') : null;
    if (length > 63) return null;
    labels.push(payload.slice(i + 1, i + 1 + length));
    i += 1 + length;
  }
  return null;
}
