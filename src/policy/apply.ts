/**
 * The policy applied to an assessment: severity overrides, allowed destinations and
 * acknowledgements. It never loses a finding: what it changes or hides is listed in the
 * package's `suppressed`, with the policy clause that did it, so reports can show both.
 */
import type { Assessment, Finding, PackageAssessment, RuleId, Severity, SuppressedFinding } from '../rules/types.js';
import { bySeverity, verdictOf, verdictRank, worstVerdict } from '../rules/verdict.js';
import type { ConnectionEvent, DnsEvent, PackageInfo, SessionChain } from '../session/types.js';
import { connectionNames, hostMatches, parseHostPattern, type HostPattern } from './hosts.js';
import { parsePackageKey, parsePackageVersion, selectorMatches, type PackageSelector } from './package-key.js';
import { LOCKED_RULES, type Acknowledgement, type PackagePolicy, type Policy, type RuleSetting } from './types.js';

interface PackageEntry {
  key: string;
  selector: PackageSelector;
  policy: PackagePolicy;
  hosts: HostPattern[];
}

interface AckEntry {
  index: number;
  ack: Acknowledgement;
  name: string;
  version: string;
}

type NetworkEvent = { kind: 'connection'; event: ConnectionEvent } | { kind: 'dns'; event: DnsEvent };

export function applyPolicy(assessment: Assessment, chain: SessionChain, policy: Policy): Assessment {
  const infos = new Map(chain.packages.map(({ info }) => [info.location, info]));
  const network = networkEvents(chain);
  const entries = packageEntries(policy);
  const acks = ackEntries(policy);
  const packages = assessment.packages.map((pkg) => applyToPackage(pkg, infos.get(pkg.location), { policy, entries, acks, network }));
  // A verdict the packages do not explain (a fault of the sandbox as a whole) is not the policy's to lift.
  const unexplained = verdictRank(assessment.verdict) > verdictRank(worstVerdict(assessment.packages.map((p) => p.verdict))) ? assessment.verdict : 'allow';
  return { ...assessment, verdict: worstVerdict([unexplained, ...packages.map((p) => p.verdict)]), packages };
}

interface Context {
  policy: Policy;
  entries: PackageEntry[];
  acks: AckEntry[];
  network: Map<string, NetworkEvent>;
}

function applyToPackage(pkg: PackageAssessment, info: PackageInfo | undefined, ctx: Context): PackageAssessment {
  const matching = info ? ctx.entries.filter((entry) => selectorMatches(entry.selector, info)) : [];
  const acks = info ? ctx.acks.filter((entry) => acknowledges(entry, info)) : [];
  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [...(pkg.suppressed ?? [])];

  for (const finding of pkg.findings) {
    // A Policy built in code skips validation; the lock holds all the same.
    if (LOCKED_RULES.includes(finding.rule)) {
      findings.push(finding);
      continue;
    }
    const setting = effectiveSetting(finding.rule, ctx.policy, matching);
    if (setting?.value === 'off') {
      suppressed.push({ finding, by: setting.by });
      continue;
    }
    const severity: Severity = setting?.value ?? finding.severity;
    const allowedBy = finding.rule === 'network-egress' ? egressAllowedBy(finding, matching, ctx.network) : undefined;
    if (allowedBy) {
      suppressed.push({ finding, by: allowedBy });
      continue;
    }
    const ack = acks.find(({ ack }) => (ack.rules ? ack.rules.includes(finding.rule) : finding.severity !== 'critical' && severity !== 'critical'));
    if (ack) {
      suppressed.push({ finding, by: `policy acknowledge[${ack.index}]`, reason: ack.ack.reason });
      continue;
    }
    if (setting && severity !== finding.severity) {
      findings.push({ ...finding, severity });
      suppressed.push({ finding, by: setting.by, changedTo: severity });
    } else {
      findings.push(finding);
    }
  }

  const sorted = bySeverity(findings);
  return { ...pkg, verdict: verdictOf(sorted), findings: sorted, ...(suppressed.length > 0 ? { suppressed } : {}) };
}

/** Global first, then every matching package entry in file order: the last one that sets the rule wins. */
function effectiveSetting(rule: RuleId, policy: Policy, matching: PackageEntry[]): { value: RuleSetting; by: string } | undefined {
  let setting: { value: RuleSetting; by: string } | undefined;
  const global = policy.rules?.[rule];
  if (global) setting = { value: global, by: `policy rules[${JSON.stringify(rule)}]` };
  for (const entry of matching) {
    const value = entry.policy.rules?.[rule];
    if (value) setting = { value, by: `policy packages[${JSON.stringify(entry.key)}].rules[${JSON.stringify(rule)}]` };
  }
  return setting;
}

/**
 * Dropped only when every network event it cites is allowed, and every name seen for an event
 * (resolver name, TLS SNI, HTTP Host) is: a connection known only by its IP address, or one
 * whose Host header names another site than its SNI, keeps the finding.
 */
function egressAllowedBy(finding: Finding, matching: PackageEntry[], network: Map<string, NetworkEvent>): string | undefined {
  const patterns = matching.flatMap((entry) => entry.hosts.map((pattern) => ({ pattern, key: entry.key })));
  if (patterns.length === 0) return undefined;
  const used = new Set<string>();
  let judged = 0;
  for (const id of finding.evidence) {
    const cited = network.get(id);
    if (!cited) continue;
    judged += 1;
    const { names, port } = destination(cited);
    if (names.length === 0) return undefined;
    for (const name of names) {
      const hit = patterns.find(({ pattern }) => hostMatches(pattern, name, port));
      if (!hit) return undefined;
      used.add(hit.key);
    }
  }
  if (judged === 0) return undefined;
  return [...used].map((key) => `policy packages[${JSON.stringify(key)}].allowEgress`).join(', ');
}

/** `port` undefined for a DNS lookup: the query goes to the resolver, whatever port follows. */
function destination(cited: NetworkEvent): { names: string[]; port?: number | null } {
  if (cited.kind === 'dns') return { names: [cited.event.name] };
  return { names: connectionNames(cited.event), port: cited.event.port };
}

function acknowledges(entry: AckEntry, info: PackageInfo): boolean {
  return entry.name === info.name && entry.version === info.version && info.integrity.split(/\s+/).includes(entry.ack.integrity.trim());
}

function networkEvents(chain: SessionChain): Map<string, NetworkEvent> {
  const events = new Map<string, NetworkEvent>();
  for (const { session } of chain.packages) {
    for (const event of session.connections) events.set(event.id, { kind: 'connection', event });
    for (const event of session.dns) events.set(event.id, { kind: 'dns', event });
  }
  return events;
}

/** Entries that do not parse cannot come out of loadPolicy; a hand-made Policy's are ignored. */
function packageEntries(policy: Policy): PackageEntry[] {
  return Object.entries(policy.packages ?? {}).flatMap(([key, entry]) => {
    const selector = parsePackageKey(key);
    if (!selector) return [];
    const hosts = (entry.allowEgress ?? []).map(parseHostPattern).filter((p): p is HostPattern => p !== null);
    return [{ key, selector, policy: entry, hosts }];
  });
}

function ackEntries(policy: Policy): AckEntry[] {
  return (policy.acknowledge ?? []).flatMap((ack, index) => {
    const parsed = parsePackageVersion(ack.package);
    return parsed ? [{ index, ack, ...parsed }] : [];
  });
}
