/**
 * Joins what the monitored network saw (the sinkhole: DNS queries, connections with their
 * payloads) with what the tracer saw (which process called connect()/sendto()). Scripts run
 * one at a time, so a record's time says which script it belongs to; the destination and
 * the order of events say which process.
 */
import type { SinkholeConnection, SinkholeDns, SinkholeEvent, SinkholeUdp } from '../sandbox/sinkhole/protocol.js';
import type { EventIds } from './ids.js';
import type { ConnectionEvent, DnsEvent, ObservedTraffic, PackageSession, ScriptRun } from './types.js';

/** Slack between the two clocks' views of one event (same kernel clock, different observers). */
const SLACK_S = 0.5;

interface ScriptSlot {
  script: ScriptRun;
  session: PackageSession;
}

export function mergeNetworkEvents(sessions: PackageSession[], events: SinkholeEvent[], ids: EventIds): void {
  const slots: ScriptSlot[] = sessions
    .flatMap((session) => session.scripts.map((script) => ({ script, session })))
    .sort((a, b) => a.script.startedAt - b.script.startedAt);
  const claimed = new Set<ConnectionEvent>();
  for (const ev of events) {
    if (ev.type === 'dns') addDns(slots, ev, ids);
    else if (ev.type === 'connection') addConnection(slots, ev, ids, claimed);
    else if (ev.type === 'udp') addDatagram(slots, ev, ids, claimed);
  }
  for (const { session } of slots) {
    session.dns.sort((a, b) => a.time - b.time);
    session.connections.sort((a, b) => a.time - b.time);
  }
}

/**
 * The script a record belongs to. Scripts run one after another, but a record can land in the
 * slack between two of them (the last request of one script, the first lookup of the next):
 * among the scripts whose window (start to the next one's start, give or take the slack)
 * holds the time, the one whose trace has the matching call wins; else the one whose window
 * holds it exactly; a record after the last script's start belongs to the last one.
 */
function slotFor(slots: ScriptSlot[], time: number, traced: (slot: ScriptSlot) => boolean): ScriptSlot | undefined {
  const candidates = slots.filter((slot, i) => {
    const next = slots[i + 1]?.script.startedAt ?? Number.POSITIVE_INFINITY;
    return slot.script.startedAt - SLACK_S <= time && time <= next + SLACK_S;
  });
  const exact = (slot: ScriptSlot): boolean => {
    const next = slots[slots.indexOf(slot) + 1]?.script.startedAt ?? Number.POSITIVE_INFINITY;
    return slot.script.startedAt <= time && time < next;
  };
  return candidates.find(traced) ?? candidates.find(exact) ?? candidates[candidates.length - 1];
}

function addDns(slots: ScriptSlot[], ev: SinkholeDns, ids: EventIds): void {
  const askerIn = (slot: ScriptSlot): ConnectionEvent | undefined =>
    slot.session.connections.find(
      (c) => c.scriptId === slot.script.id && c.port === 53 && Math.abs(c.time - ev.time) < SLACK_S && queryName(c.payload) === ev.name.toLowerCase(),
    );
  const slot = slotFor(slots, ev.time, (candidate) => askerIn(candidate) !== undefined);
  if (!slot) return;
  const asker = askerIn(slot);
  const dns: DnsEvent = {
    id: ids.next('d'),
    scriptId: slot.script.id,
    processId: asker?.processId ?? slot.script.rootProcess,
    time: ev.time,
    name: ev.name,
    type: ev.qtype,
    answers: ev.answers,
  };
  slot.session.dns.push(dns);
  if (asker) asker.hostname ??= ev.name;
}

function addConnection(slots: ScriptSlot[], ev: SinkholeConnection, ids: EventIds, claimed: Set<ConnectionEvent>): void {
  attach(slots, ev, { protocol: 'tcp', syscall: 'connect', observed: observedOf(ev) }, ids, claimed);
}

function addDatagram(slots: ScriptSlot[], ev: SinkholeUdp, ids: EventIds, claimed: Set<ConnectionEvent>): void {
  attach(slots, ev, { protocol: 'udp', observed: { protocol: 'raw', firstBytes: ev.payload, bytesReceived: ev.bytes } }, ids, claimed);
}

/**
 * Joins a sinkhole record to the traced call that made it: a TCP connect(), or any UDP send to
 * the same destination. A record no trace explains is kept as a call of the script's root.
 */
function attach(
  slots: ScriptSlot[],
  ev: Pick<SinkholeConnection, 'time' | 'dstIp' | 'dstPort' | 'hostname'>,
  kind: { protocol: 'tcp' | 'udp'; syscall?: string; observed: ObservedTraffic },
  ids: EventIds,
  claimed: Set<ConnectionEvent>,
): void {
  const callIn = (slot: ScriptSlot): ConnectionEvent | undefined =>
    slot.session.connections.find(
      (c) =>
        !claimed.has(c) &&
        c.scriptId === slot.script.id &&
        (kind.syscall === undefined || c.syscall === kind.syscall) &&
        c.protocol === kind.protocol &&
        c.address === ev.dstIp &&
        c.port === ev.dstPort &&
        c.time <= ev.time + SLACK_S,
    );
  const slot = slotFor(slots, ev.time, (candidate) => callIn(candidate) !== undefined);
  if (!slot) return;
  const traced = callIn(slot);
  if (traced) {
    claimed.add(traced);
    traced.observed = kind.observed;
    if (ev.hostname) traced.hostname = ev.hostname;
    return;
  }
  // Seen by the network but not by the tracer (e.g. a process that escaped tracing): keep it.
  slot.session.connections.push({
    id: ids.next('n'),
    scriptId: slot.script.id,
    processId: slot.script.rootProcess ?? '',
    time: ev.time,
    syscall: kind.syscall ?? 'sendto',
    family: ev.dstIp?.includes(':') ? 'inet6' : 'inet',
    protocol: kind.protocol,
    address: ev.dstIp ?? '',
    port: ev.dstPort,
    result: 'ok',
    ...(ev.hostname ? { hostname: ev.hostname } : {}),
    observed: kind.observed,
  });
}

function observedOf(ev: SinkholeConnection): ObservedTraffic {
  const observed: ObservedTraffic = {
    protocol: ev.protocol,
    firstBytes: ev.firstBytes,
    bytesReceived: ev.bytesReceived,
  };
  if (ev.sni) observed.sni = ev.sni;
  if (ev.tls) observed.tls = { ...ev.tls };
  if (ev.forwarded) observed.forwarded = { ...ev.forwarded };
  if (ev.http) {
    observed.http = {
      method: ev.http.method,
      host: ev.http.host,
      path: ev.http.path,
      headers: ev.http.headers,
      body: ev.http.body,
      bodyBytes: ev.http.bodyBytes,
      truncated: ev.http.truncated,
    };
  }
  return observed;
}

/** The query name of a DNS message as the tracer printed its bytes (latin1 string), lowercased. */
export function queryName(payload: string | undefined): string | null {
  if (!payload || payload.length < 13) return null;
  const labels: string[] = [];
  let i = 12;
  while (i < payload.length) {
    const len = payload.charCodeAt(i);
    if (len === 0) return labels.join('.').toLowerCase();
    if (len > 63 || i + 1 + len > payload.length) return null;
    labels.push(payload.slice(i + 1, i + 1 + len));
    i += 1 + len;
  }
  return null;
}

/** What the monitored network could not record is a fault of the sandbox: never silently allowed. */
export function networkFaults(events: SinkholeEvent[]): { message: string }[] {
  const stats = events.find((e) => e.type === 'stats');
  if (!stats || stats.type !== 'stats') return [];
  const { dns, connections, udp } = stats.dropped;
  if (dns + connections + udp === 0) return [];
  return [{ message: `the network flooded the recorder: ${dns} DNS queries, ${connections} connections and ${udp} datagrams were not recorded` }];
}
