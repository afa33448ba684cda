import type { Canary, FileEvent } from '../session/types.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { SHARED_BUDGET, findCanaries, needlesFor, type CanaryHit } from './canary-search.js';
import { egressOf, seenWhole, type Egress } from './egress.js';
import { haystacksOf, type Haystack } from './egress-text.js';
import { displayPath, normalizePath } from './paths.js';
import { isPackageManagerCli, secretAccesses } from './secret-reads.js';
import { listSome } from './text.js';

/**
 * Secret-derived data leaving, in two strengths:
 *
 * - Proven (critical): a decoy value planted for this scan appears in something the package
 *   sent (./canary-search.ts, ./egress-text.ts). Evidence: the egress events that carried it and
 *   the package's reads of the file it was planted in.
 * - Composed (high): the package read a secret (exactly what `credential-access` reports, and
 *   the read succeeded) and LATER something left the sandbox. Every event of a package's session
 *   is already attributed to that package's scripts, and a process descended from the reader
 *   belongs to the same script, so "later in the same session" covers both. Not proven: the
 *   message says so. A secret already proven to leave is not reported twice.
 *
 * npm sending its own registry token to the registry it is configured for (a script that runs
 * `npm install`) is npm's normal behaviour, not the package's: that one spelling is ignored.
 */
export const exfiltrationRule: Rule = {
  id: 'exfiltration',
  evaluate(ctx) {
    const proven = provenLeaks(ctx);
    const provenSources = new Set(proven.map(({ canary }) => normalizeSource(canary.source)));
    return [...proven.map(({ finding }) => finding), ...composedLeaks(ctx, provenSources)];
  },
};

interface Leak {
  haystack: Haystack;
  hit: CanaryHit;
}

function provenLeaks(ctx: RuleContext): { canary: Canary; finding: Finding }[] {
  const needles = needlesFor(ctx.chain.canaries);
  if (needles.length === 0) return [];
  const byCanary = new Map<Canary, Leak[]>();
  const budget = { left: SHARED_BUDGET };
  for (const haystack of haystacksOf(ctx.session)) {
    for (const hit of findCanaries(haystack.text, needles, budget)) {
      if (isRegistryAuth(haystack, ctx)) continue;
      byCanary.set(hit.canary, [...(byCanary.get(hit.canary) ?? []), { haystack, hit }]);
    }
  }
  return [...byCanary].map(([canary, leaks]) => {
    const [first] = leaks as [Leak, ...Leak[]];
    const places = new Set(leaks.map(({ haystack }) => `${haystack.where} to ${haystack.destination}`));
    const egressIds = [...new Set(leaks.flatMap(({ haystack }) => haystack.eventIds))];
    const more = places.size > 1 ? ` (+${places.size - 1} more)` : '';
    return {
      canary,
      finding: {
        rule: 'exfiltration',
        severity: 'critical',
        message:
          `sends the decoy ${canary.kind} (${sourceShown(canary, ctx)}) to ${first.haystack.destination} ` +
          `in ${first.haystack.where}${encodingText(first.hit.encodings)}${more}`,
        evidence: [...readsOf(canary, ctx).map((event) => event.id), ...egressIds],
      },
    };
  });
}

function composedLeaks(ctx: RuleContext, provenSources: Set<string>): Finding[] {
  const egress = egressOf(ctx.session);
  const findings: Finding[] = [];
  for (const { match, events } of secretAccesses(ctx)) {
    const reads = events.filter((event) => event.result === 'ok');
    const first = reads[0];
    if (!first || provenSources.has(match.path)) continue;
    const after = egress.filter((event) => event.time > first.time);
    if (after.length === 0) continue;
    // Every byte that left was seen (decrypted, not cut, or a TLS handshake the client gave up
    // before sending anything) and held no decoy value: what is left to fear is an encoding the
    // search does not know, which a person should judge (review). Anything unseen (raw streams,
    // encrypted data we could not open, cut bodies) keeps it high.
    const seen = after.every((event) => fullySeen(ctx, event.id));
    findings.push({
      rule: 'exfiltration',
      severity: seen ? 'medium' : 'high',
      message:
        `sends data to ${listSome(destinationsOf(after), 2)} after reading ${displayPath(match.path, { home: ctx.paths.home })} ` +
        `(${match.location.label}): possible exfiltration, not proven (${seen ? 'all of the traffic was seen and held no decoy value' : 'no decoy value seen in the traffic, and not all of it could be seen'})`,
      evidence: [...reads.map((event) => event.id), ...after.map((event) => event.id)],
    });
  }
  return findings;
}

/** A DNS query is seen whole; a connection when the sinkhole read all it sent, as sent (./egress.ts). */
function fullySeen(ctx: RuleContext, id: string): boolean {
  if (ctx.session.dns.some((event) => event.id === id)) return true;
  const connection = ctx.session.connections.find((event) => event.id === id);
  return connection !== undefined && seenWhole(connection);
}

/** Connections first; a DNS lookup only when no connection already names that host. */
function destinationsOf(egress: Egress[]): string[] {
  const shown = [...new Set(egress.filter((e) => !e.destination.startsWith('DNS ')).map((e) => e.destination))];
  for (const e of egress) {
    const name = e.destination.slice(4);
    if (e.destination.startsWith('DNS ') && !shown.some((d) => d.startsWith(`${name} (`))) shown.push(e.destination);
  }
  return [...new Set(shown)];
}

const REGISTRY_HOSTS = new Set(['registry.npmjs.org', 'registry.yarnpkg.com', 'npm.pkg.github.com']);

function isRegistryAuth(haystack: Haystack, ctx: RuleContext): boolean {
  const connection = haystack.connection;
  const host = connection?.observed?.http?.host.replace(/:\d+$/, '').toLowerCase();
  if (!connection || haystack.header !== 'authorization' || host === undefined || !REGISTRY_HOSTS.has(host)) return false;
  const sender = ctx.session.processes.find((process) => process.id === connection.processId);
  return sender !== undefined && isPackageManagerCli(sender, connection.time);
}

function readsOf(canary: Canary, ctx: RuleContext): FileEvent[] {
  const source = normalizeSource(canary.source);
  return ctx.session.files.filter((event) => event.op === 'read' && event.result === 'ok' && normalizePath(event.path) === source);
}

function normalizeSource(source: string): string {
  return source.startsWith('/') ? normalizePath(source) : source;
}

function sourceShown(canary: Canary, ctx: RuleContext): string {
  if (canary.source.startsWith('env:')) return `from $${canary.source.slice(4)}`;
  return `from ${displayPath(canary.source, { home: ctx.paths.home })}`;
}

/** `['base64', 'base64']` → ` as base64 of base64`; nothing for the raw value. */
function encodingText(encodings: string[]): string {
  return encodings.length === 0 ? '' : ` as ${encodings.join(' of ')}`;
}
