/**
 * The behaviour diff: what a package's newer version does at install time that its older version
 * did not. "This version started reading ~/.npmrc and calling a new host" is how a hijacked
 * maintainer account shows: the code is new, the package name is trusted.
 *
 * Compared by meaning, not by event: programs by name, secrets by location, hosts by name (else
 * address and port). Install paths, pids, temp names and timings differ between any two runs and
 * say nothing.
 */
import { posix } from 'node:path';
import type { JsonReport, JsonReportPackage } from '../report/json.js';
import { inetEgressOf, isLoopback, isResolverQuery } from '../rules/egress.js';
import { displayPath, sandboxPathsFor } from '../rules/paths.js';
import { classifySecret } from '../rules/secret-paths.js';
import { LIFECYCLE_EVENTS, type PackageSession } from '../session/types.js';
import type { BehaviourDiff, NewThing } from './types.js';

type Index = Map<string, string[]>;

function add(index: Index, key: string, id: string): void {
  const ids = index.get(key);
  if (ids) {
    if (!ids.includes(id)) ids.push(id);
  } else index.set(key, [id]);
}

/** Program names each process ran (every exec'd image, so `sh -c 'curl …'` yields sh and curl). */
export function programsOf(session: PackageSession): Index {
  const out: Index = new Map();
  for (const proc of session.processes) {
    const images = proc.images.length > 0 ? proc.images.map((image) => image.path) : [proc.exe ?? proc.argv[0] ?? ''];
    for (const image of images) if (image) add(out, posix.basename(image), proc.id);
  }
  return out;
}

/** Secret locations read or probed, shown as `~/.npmrc`. */
export function secretsOf(pkg: JsonReportPackage, report: Pick<JsonReport, 'sandbox'>): Index {
  const paths = { ...sandboxPathsFor(report.sandbox.projectDir, pkg.location), home: report.sandbox.home, tmpDirs: report.sandbox.tmpDirs };
  const out: Index = new Map();
  for (const event of pkg.session.files) {
    if (event.op !== 'read' && event.op !== 'probe') continue;
    const match = classifySecret(event.path, paths);
    if (match) add(out, displayPath(match.path, { home: paths.home }), event.id);
  }
  return out;
}

/**
 * Hosts by name where the monitored network knows it, or where the package's own lookups answered
 * the address with one name (glibc's getaddrinfo connect()s a UDP socket to every answer, at the
 * asked port, to sort them: that is the name being called, not another host); else `address:port`.
 */
export function hostsOf(session: PackageSession): Index {
  const out: Index = new Map();
  const namesOf = new Map<string, Set<string>>();
  for (const event of session.dns) {
    const name = event.name.replace(/\.$/, '').toLowerCase();
    add(out, name, event.id);
    for (const answer of event.answers) namesOf.set(answer, new Set([...(namesOf.get(answer) ?? []), name]));
  }
  for (const event of inetEgressOf(session)) {
    if (isLoopback(event.address) || isResolverQuery(event)) continue;
    const answered = namesOf.get(event.address) ?? namesOf.get(event.address.replace(/^::ffff:/i, ''));
    const name = event.hostname ?? event.observed?.http?.host ?? event.observed?.sni ?? (answered?.size === 1 ? [...answered][0] : undefined);
    const host = name ? name.replace(/:\d+$/, '').toLowerCase() : `${event.family === 'inet6' ? `[${event.address}]` : event.address}:${event.port ?? '?'}`;
    add(out, host, event.id);
  }
  return out;
}

function newIn(after: Index, before: Index): NewThing[] {
  return [...after].filter(([key]) => !before.has(key)).map(([what, evidence]) => ({ what, evidence }));
}

/**
 * `before` may be null: the older version was not scanned or has no install-time code, so
 * everything the newer one does is new.
 */
export function diffPackages(
  before: { pkg: JsonReportPackage; report: Pick<JsonReport, 'sandbox'> } | null,
  after: { pkg: JsonReportPackage; report: Pick<JsonReport, 'sandbox'> },
  fromVersion: string,
): BehaviourDiff {
  const empty: Index = new Map();
  const a = after.pkg;
  const b = before?.pkg;
  const scriptsAdded = LIFECYCLE_EVENTS.filter((event) => a.scripts[event] !== undefined && b?.scripts[event] === undefined).map((event) => ({
    event,
    command: a.scripts[event]!,
  }));
  const processes = newIn(programsOf(a.session), b ? programsOf(b.session) : empty);
  const secretReads = newIn(secretsOf(a, after.report), b && before ? secretsOf(b, before.report) : empty);
  const hosts = newIn(hostsOf(a.session), b ? hostsOf(b.session) : empty);
  const oldRules = new Set((b?.findings ?? []).map((f) => f.rule));
  const newRules = [...new Set(a.findings.map((f) => f.rule))].filter((rule) => !oldRules.has(rule));
  const diff: BehaviourDiff = {
    name: a.name,
    from: { version: fromVersion, verdict: b?.verdict ?? null },
    to: { version: a.version, verdict: a.verdict },
    scriptsAdded,
    processes,
    secretReads,
    hosts,
    newRules,
    summary: '',
  };
  diff.summary = summarize(diff);
  return diff;
}

/** A package runs code at install time: npm lifecycle scripts, or a Python sdist's build. */
export function hasInstallTimeCode(pkg: JsonReportPackage): boolean {
  return Object.keys(pkg.scripts).length > 0;
}

/** A package as one of several reports has it, with that report (its sandbox paths); the first match wins. */
export function findPackage(
  reports: readonly JsonReport[],
  name: string,
  version: string,
  accept: (pkg: JsonReportPackage) => boolean = () => true,
): { pkg: JsonReportPackage; report: JsonReport } | null {
  for (const report of reports) {
    const pkg = report.packages.find((p) => p.name === name && p.version === version && accept(p));
    if (pkg) return { pkg, report };
  }
  return null;
}

/** A changed package: the version sandboxed now, and the version it replaces. */
export interface ChangedVersion {
  name: string;
  version: string;
  previous: { name: string; version: string };
}

/**
 * The diff of each changed package with install-time code in `after` against its previous version
 * in `before` (the base versions' own sessions), for any ecosystem. `before` null: the base
 * versions could not be run, so everything the new version does is new (`from.verdict` null). A
 * previous version that ran but is not in `before` gives no diff; nor does a new version without
 * install-time code.
 */
export function diffChangedVersions(changes: readonly ChangedVersion[], after: readonly JsonReport[], before: readonly JsonReport[] | null): BehaviourDiff[] {
  const diffs: BehaviourDiff[] = [];
  for (const change of changes) {
    const now = findPackage(after, change.name, change.version, hasInstallTimeCode);
    if (!now) continue;
    const old = before ? findPackage(before, change.previous.name, change.previous.version) : null;
    if (before && !old) continue;
    diffs.push(diffPackages(old, now, change.previous.version));
  }
  return diffs;
}

export function hasNewBehaviour(diff: BehaviourDiff): boolean {
  return diff.scriptsAdded.length + diff.processes.length + diff.secretReads.length + diff.hosts.length + diff.newRules.length > 0;
}

function list(things: NewThing[], max = 3): string {
  const names = things.slice(0, max).map((t) => t.what);
  const more = things.length > max ? ` and ${things.length - max} more` : '';
  return names.join(', ') + more;
}

/** The headline, most alarming first: secrets, then hosts, then programs, then new scripts. */
export function summarize(diff: BehaviourDiff): string {
  const started: string[] = [];
  if (diff.secretReads.length > 0) started.push(`reading ${list(diff.secretReads)}`);
  if (diff.hosts.length > 0) started.push(`calling ${diff.hosts.length === 1 ? 'a new host' : 'new hosts'} (${list(diff.hosts)})`);
  if (diff.processes.length > 0) started.push(`running ${list(diff.processes)}`);
  const head = `${diff.name}@${diff.to.version} (was ${diff.from.version})`;
  const scripts =
    diff.scriptsAdded.length > 0 ? `new ${diff.scriptsAdded.map((s) => s.event).join(', ')} script${diff.scriptsAdded.length === 1 ? '' : 's'}` : '';
  if (started.length === 0) {
    const rest = [scripts, diff.newRules.length > 0 ? `new findings: ${diff.newRules.join(', ')}` : ''].filter(Boolean);
    return rest.length > 0 ? `${head}: ${rest.join('; ')}` : `${head}: nothing new at install time`;
  }
  const sentence = started.length === 1 ? started[0]! : `${started.slice(0, -1).join(', ')} and ${started[started.length - 1]}`;
  return `${head} started ${sentence}${scripts ? ` (${scripts})` : ''}`;
}
