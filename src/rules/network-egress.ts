import type { ConnectionEvent, DnsEvent } from '../session/types.js';
import type { Finding, Rule } from './types.js';
import { listSome } from './text.js';

/** Syscalls that send something towards a peer; bind/listen/accept only open a door locally. */
const EGRESS_SYSCALLS = new Set(['connect', 'sendto', 'sendmsg', 'sendmmsg']);
const SILENT_RESULTS = new Set(['ok', 'EINPROGRESS']);

/**
 * Any DNS lookup or IP connection attempt is egress: the policy that allows destinations comes
 * later, so for now every destination is reported. One finding per destination (`address:port`);
 * DNS lookups of a name that a connection was then made to join that connection's finding.
 * Loopback destinations are `medium`, not `high`: nothing leaves the machine, but on a real host
 * they reach local services (Docker API, databases, dev servers).
 */
export const networkEgressRule: Rule = {
  id: 'network-egress',
  evaluate({ session }) {
    const destinations = new Map<string, ConnectionEvent[]>();
    for (const event of session.connections) {
      if ((event.family !== 'inet' && event.family !== 'inet6') || !EGRESS_SYSCALLS.has(event.syscall)) continue;
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
      findings.push({
        rule: 'network-egress',
        severity: events.every((event) => isLoopback(event.address)) ? 'medium' : 'high',
        message: connectionMessage(destination, hostname, events),
        evidence,
      });
    }
    for (const events of lookups.values()) {
      findings.push({ rule: 'network-egress', severity: 'high', message: lookupMessage(events), evidence: events.map((event) => event.id) });
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
  const details = [attempts, ...results].filter(Boolean).join(', ');
  const target = hostname ? `${hostname} (${destination})` : destination;
  const local = events.every((event) => isLoopback(event.address)) ? ' on loopback' : '';
  return `${verb} ${target}${local}${details ? `: ${details}` : ''}`;
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

export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\./.test(v4) || v4 === '0.0.0.0' || address === '::1' || address === '::';
}
