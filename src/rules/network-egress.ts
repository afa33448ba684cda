import type { ConnectionEvent, DnsEvent } from '../session/types.js';
import type { Finding, Rule } from './types.js';
import { connectionNames } from '../policy/hosts.js';
import { allowEgressLine } from '../policy/suggest.js';
import { inetEgressOf, isLoopback, isResolverQuery, refusedInClear } from './egress.js';
import { listSome } from './text.js';

const SILENT_RESULTS = new Set(['ok', 'EINPROGRESS']);

/**
 * Any DNS lookup or IP connection attempt is egress; the policy's `allowEgress` drops the ones
 * the user allowed. One finding per destination (`address:port`); DNS lookups of a name that a
 * connection was then made to join that connection's finding, and queries to the sandbox's own
 * resolver are those lookups, not a destination.
 *
 * Severity: reaching a named host is `medium` (review): that is what prebuilt-binary and browser
 * downloads do, and the message carries the policy lines that would allow it. Secrets leaving
 * are `exfiltration`, a download run is `download-execute`: those block on their own. A
 * connection to an address no name led to is `high`: install code that dials a hard-coded IP is
 * hiding who it talks to. A lookup whose labels carry data (long encoded labels) is `high` too.
 * Loopback is `medium`: nothing leaves, but on a real host it reaches local services.
 */
export const networkEgressRule: Rule = {
  id: 'network-egress',
  evaluate({ session, pkg }) {
    const destinations = new Map<string, ConnectionEvent[]>();
    for (const event of inetEgressOf(session)) {
      if (isResolverQuery(event)) continue;
      const key = destinationOf(event);
      destinations.set(key, [...(destinations.get(key) ?? []), event]);
    }

    const lookups = new Map<string, DnsEvent[]>();
    for (const event of session.dns) {
      const name = normalizeName(event.name);
      lookups.set(name, [...(lookups.get(name) ?? []), event]);
    }

    const findings: Finding[] = [];
    for (const [destination, events] of destinations) {
      const hostname = events.find((event) => event.hostname)?.hostname;
      const evidence = events.map((event) => event.id);
      if (hostname !== undefined) {
        const name = normalizeName(hostname);
        evidence.push(...(lookups.get(name) ?? []).map((event) => event.id));
        lookups.delete(name);
      }
      const loopback = events.every((event) => isLoopback(event.address));
      const names = namesOf(events);
      findings.push({
        rule: 'network-egress',
        severity: loopback || names.length > 0 ? 'medium' : 'high',
        message: connectionMessage(destination, hostname, events) + allowHint(pkg, loopback ? [] : names),
        evidence,
      });
    }
    for (const events of lookups.values()) {
      const name = normalizeName(events[0]?.name ?? '');
      findings.push({
        rule: 'network-egress',
        severity: carriesData(name) ? 'high' : 'medium',
        message: lookupMessage(events) + (carriesData(name) ? ' (its labels look like encoded data)' : allowHint(pkg, [name])),
        evidence: events.map((event) => event.id),
      });
    }
    return findings;
  },
};

function destinationOf(event: ConnectionEvent): string {
  const host = event.family === 'inet6' ? `[${event.address}]` : event.address;
  return event.port === null ? host : `${host}:${event.port}`;
}

function connectionMessage(destination: string, hostname: string | undefined, events: ConnectionEvent[]): string {
  const verb = events.some((event) => event.syscall === 'connect') ? 'connects to' : 'sends to';
  const results = [...new Set(events.map((event) => event.result).filter((result) => !SILENT_RESULTS.has(result)))];
  const attempts = events.length > 1 ? `${events.length} attempts` : '';
  const details = [attempts, ...results, tlsDetail(events)].filter(Boolean).join(', ');
  const target = hostname ? `${hostname} (${destination})` : destination;
  const local = events.every((event) => isLoopback(event.address)) ? ' on loopback' : '';
  return `${verb} ${target}${local}${details ? `: ${details}` : ''}`;
}

/**
 * A client that does not accept the sandbox's certificate gives up in the TLS handshake: say so,
 * and whether it sent nothing but the handshake (all of it seen) or something sealed as well.
 */
function tlsDetail(events: ConnectionEvent[]): string {
  const refused = events.map((event) => event.observed).filter((o) => o?.tls !== undefined && o.tls.handshake !== 'ok');
  if (refused.length === 0) return '';
  const errors = [...new Set(refused.map((o) => o?.tls?.error).filter((e): e is string => e !== undefined))];
  const what = refused.every((o) => o !== undefined && refusedInClear(o)) ? 'nothing sent but the handshake' : 'not all it sent could be read';
  return `TLS handshake not completed${errors.length > 0 ? ` (${errors.join(', ')})` : ''}, ${what}`;
}

/** Names are shown as queried: case can carry data (base64 labels) even though DNS ignores it. */
function lookupMessage(events: DnsEvent[]): string {
  const name = (events[0]?.name ?? '').replace(/\.$/, '');
  const types = [...new Set(events.map((event) => event.type))].join('/');
  const answers = [...new Set(events.flatMap((event) => event.answers))];
  return `looks up ${name} (${types})${answers.length > 0 ? ` → ${listSome(answers)}` : ', no answer'}`;
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Every name this destination was reached by: the DNS name, the TLS SNI, the HTTP Host. */
function namesOf(events: ConnectionEvent[]): string[] {
  const names = new Set<string>();
  for (const event of events) {
    for (const name of connectionNames(event)) names.add(normalizeName(name));
  }
  return [...names].filter((name) => !/^[\d.]+$|:/.test(name));
}

function allowHint(pkg: { name: string; version: string }, names: string[]): string {
  if (names.length === 0) return '';
  return ` — the policy line that allows it: ${allowEgressLine(pkg, names)}`;
}

/** A label of 32+ characters, or 3+ labels of 16+, is data, not a host name. */
function carriesData(name: string): boolean {
  const labels = name.split('.');
  return labels.some((label) => label.length >= 32) || labels.filter((label) => label.length >= 16).length >= 3;
}
