/**
 * The process tree of one script for the terminal: each process with its interesting events
 * folded underneath, children in the order they appeared. Events a finding cites are always
 * shown one per line; the rest are grouped so a build reading 400 headers is one line.
 */
import type { ConnectionEvent, DnsEvent, FileEvent, FileOperation, PackageSession, ProcessEvent, ScriptRun } from '../session/types.js';
import type { Severity } from '../rules/types.js';
import { displayPath, isInside, isInTmp, type SandboxPaths } from '../rules/paths.js';
import { formatArgv, plural } from '../rules/text.js';
import { isResolverQuery } from '../rules/egress.js';
import { severityRank } from '../rules/verdict.js';
import type { TreeItem } from './tree.js';

/** More like events than this in one group become a single "reads 14 files …" line. */
const FOLD_ABOVE = 3;
const ARGV_MAX = 100;

export interface TreeContext {
  paths: SandboxPaths;
  verbose: boolean;
  /** Event id → severity of the most severe finding citing it. */
  evidence: ReadonlyMap<string, Severity>;
  highlight: (severity: Severity, label: string) => string;
}

interface Entry {
  time: number;
  /** Ties at equal time: events before child processes, then by id. */
  rank: number;
  item: TreeItem;
}

export function scriptTree(session: PackageSession, script: ScriptRun, ctx: TreeContext): TreeItem[] {
  const processes = session.processes.filter((p) => p.scriptId === script.id);
  const known = new Set(processes.map((p) => p.id));
  const children = new Map<string | null, ProcessEvent[]>();
  for (const process of processes) {
    const parent = process.parentId !== null && known.has(process.parentId) ? process.parentId : null;
    children.set(parent, [...(children.get(parent) ?? []), process]);
  }
  const owner = (processId: string | null): string | null => (processId !== null && known.has(processId) ? processId : null);
  const events = {
    files: groupBy(session.files.filter((e) => e.scriptId === script.id), (e) => owner(e.processId)),
    connections: groupBy(session.connections.filter((e) => e.scriptId === script.id), (e) => owner(e.processId)),
    dns: groupBy(session.dns.filter((e) => e.scriptId === script.id), (e) => owner(e.processId)),
  };

  const itemsOf = (processId: string | null): Entry[] => [
    ...fileEntries(events.files.get(processId) ?? [], ctx),
    ...connectionEntries(events.connections.get(processId) ?? [], ctx),
    ...dnsEntries(events.dns.get(processId) ?? [], ctx),
    ...(children.get(processId) ?? []).map((child): Entry => ({
      time: child.startedAt,
      rank: 1,
      item: { label: processLabel(child, ctx.verbose), children: itemsOf(child.id).sort(byTime).map((e) => e.item) },
    })),
  ];
  return itemsOf(null).sort(byTime).map((entry) => entry.item);
}

function byTime(a: Entry, b: Entry): number {
  return a.time - b.time || a.rank - b.rank || a.item.label.localeCompare(b.item.label);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | null): Map<string | null, T[]> {
  const groups = new Map<string | null, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

export function processLabel(process: ProcessEvent, verbose: boolean): string {
  const notes: string[] = [];
  if (process.outlivedScript) notes.push(process.killedBySandbox ? 'still running after script — killed' : 'still running after script');
  else if (process.killedBySandbox) notes.push('killed by the sandbox');
  else if (process.signal) notes.push(`signal ${process.signal}`);
  if (process.exitCode !== null && process.exitCode !== 0) notes.push(`exit ${process.exitCode}`);
  if (process.detached) notes.push('detached');
  const via = verbose && process.images.length > 1 ? `  (exec'd from ${formatArgv(process.images[0]?.argv ?? [], 60)})` : '';
  const id = verbose ? `  [${process.id} pid ${process.pid}]` : '';
  return `${formatArgv(process.argv, ARGV_MAX)}${notes.map((note) => `  (${note})`).join('')}${via}${id}`;
}

/** One line per distinct event; repeats collapse into `×N` (the ids stay in the JSON). */
interface Line<E> {
  events: E[];
  key: string;
}

function collapse<E extends { id: string }>(events: readonly E[], key: (event: E) => string): Line<E>[] {
  const lines = new Map<string, Line<E>>();
  for (const event of events) {
    const k = key(event);
    const line = lines.get(k) ?? { events: [], key: k };
    line.events.push(event);
    lines.set(k, line);
  }
  return [...lines.values()];
}

function entryFor<E extends { id: string; time: number }>(line: Line<E>, label: string, ctx: TreeContext): Entry {
  const severities = line.events.map((e) => ctx.evidence.get(e.id)).filter((s): s is Severity => s !== undefined);
  const worst = severities.sort((a, b) => severityRank(a) - severityRank(b))[0];
  const times = line.events.length > 1 ? `  ×${line.events.length}` : '';
  const ids = ctx.verbose ? `  [${line.events.map((e) => e.id).join(', ')}]` : '';
  const item: TreeItem = { label: `${label}${times}${ids}`, children: [] };
  if (worst !== undefined) item.paint = (text) => ctx.highlight(worst, text);
  return { time: Math.min(...line.events.map((e) => e.time)), rank: 0, item };
}

// ---------------------------------------------------------------- files

const FILE_VERBS: Record<FileOperation, { one: string; failed: string; noun: string }> = {
  read: { one: 'reads', failed: 'fails to read', noun: 'file' },
  write: { one: 'writes', failed: 'fails to write', noun: 'file' },
  create: { one: 'creates', failed: 'fails to create', noun: 'file' },
  delete: { one: 'deletes', failed: 'fails to delete', noun: 'path' },
  rename: { one: 'renames', failed: 'fails to rename', noun: 'path' },
  chmod: { one: 'chmods', failed: 'fails to chmod', noun: 'path' },
  exec: { one: 'execs', failed: 'fails to exec', noun: 'file' },
  mkdir: { one: 'makes dir', failed: 'fails to make dir', noun: 'dir' },
  link: { one: 'links', failed: 'fails to link', noun: 'path' },
  probe: { one: 'checks', failed: 'checks missing', noun: 'path' },
};

type Area = 'package' | 'tmp' | 'project' | 'home' | 'system';
const AREA_PHRASE: Record<Area, string> = {
  package: 'in its package',
  tmp: 'in temp dirs',
  project: 'in the project',
  home: 'in the home folder',
  system: 'in system folders',
};

function areaClass(path: string, paths: SandboxPaths): Area {
  if (isInside(path, paths.packageDir)) return 'package';
  if (isInTmp(path, paths)) return 'tmp';
  if (isInside(path, paths.projectDir)) return 'project';
  if (isInside(path, paths.home)) return 'home';
  return 'system';
}

function fileEntries(events: readonly FileEvent[], ctx: TreeContext): Entry[] {
  // A successful exec is the child process line; failed ones are mostly PATH lookups.
  const shown = events.filter((e) => e.op !== 'exec' || (ctx.verbose && e.result !== 'ok') || ctx.evidence.has(e.id));
  const lines = collapse(shown, (e) => `${e.op}\0${e.path}\0${e.target ?? ''}\0${e.result}`);
  if (ctx.verbose) return lines.map((line) => entryFor(line, fileLabel(line.events[0]!, ctx.paths), ctx));

  const entries: Entry[] = [];
  const foldable = new Map<string, Line<FileEvent>[]>();
  for (const line of lines) {
    if (line.events.some((e) => ctx.evidence.has(e.id))) {
      entries.push(entryFor(line, fileLabel(line.events[0]!, ctx.paths), ctx));
      continue;
    }
    const first = line.events[0]!;
    const group = `${first.op}\0${areaClass(first.path, ctx.paths)}\0${first.result === 'ok'}`;
    foldable.set(group, [...(foldable.get(group) ?? []), line]);
  }
  for (const group of foldable.values()) {
    if (group.length <= FOLD_ABOVE) {
      entries.push(...group.map((line) => entryFor(line, fileLabel(line.events[0]!, ctx.paths), ctx)));
    } else {
      entries.push(foldedEntry(group, ctx));
    }
  }
  return entries;
}

function fileLabel(event: FileEvent, paths: SandboxPaths): string {
  const verbs = FILE_VERBS[event.op];
  const ok = event.result === 'ok';
  const path = displayPath(event.path, paths);
  const target = event.target !== undefined ? ` → ${displayPath(event.target, paths)}` : '';
  const mode = event.mode !== undefined && (event.op === 'chmod' || event.op === 'create') ? ` ${event.mode}` : '';
  return `${ok ? verbs.one : verbs.failed} ${path}${target}${mode}${ok ? '' : ` (${event.result})`}`;
}

function foldedEntry(group: Line<FileEvent>[], ctx: TreeContext): Entry {
  const first = group[0]!.events[0]!;
  const verbs = FILE_VERBS[first.op];
  const ok = first.result === 'ok';
  const errors = ok ? '' : ` (${[...new Set(group.flatMap((line) => line.events.map((e) => e.result)))].join(', ')})`;
  const repeats = group.reduce((sum, line) => sum + line.events.length, 0);
  const times = repeats > group.length ? `, ${repeats} times` : '';
  const label = `${ok ? verbs.one : verbs.failed} ${plural(group.length, verbs.noun)} ${AREA_PHRASE[areaClass(first.path, ctx.paths)]}${errors}${times}`;
  return { time: Math.min(...group.flatMap((line) => line.events.map((e) => e.time))), rank: 0, item: { label, children: [] } };
}

// ---------------------------------------------------------------- network

const QUIET_RESULTS = new Set(['ok', 'EINPROGRESS']);

function connectionEntries(events: readonly ConnectionEvent[], ctx: TreeContext): Entry[] {
  // Unix/netlink sockets are node's stdio pipes and libc lookups: noise unless asked for or cited.
  // So is the resolver's plumbing: queries to the sandbox resolver are shown as `looks up`, and
  // getaddrinfo's UDP connect to port 0 of each answer sends nothing.
  const shown = events.filter(
    (e) => ctx.verbose || ctx.evidence.has(e.id) || ((e.family === 'inet' || e.family === 'inet6') && !isResolverQuery(e) && !isRouteCheck(e)),
  );
  return collapse(shown, (e) => `${e.syscall}\0${e.family}\0${e.address}\0${e.port}\0${e.result}`).map((line) =>
    entryFor(line, connectionLabel(line.events), ctx),
  );
}

function isRouteCheck(event: ConnectionEvent): boolean {
  return event.syscall === 'connect' && event.protocol === 'udp' && event.port === 0;
}

function connectionLabel(events: readonly ConnectionEvent[]): string {
  const event = events[0]!;
  const verb =
    event.syscall === 'connect' ? 'connects'
    : event.syscall.startsWith('send') ? 'sends to'
    : event.syscall === 'bind' ? 'binds'
    : event.syscall === 'listen' ? 'listens on'
    : event.syscall.startsWith('accept') ? 'accepts on'
    : event.syscall;
  const where =
    event.family === 'unix' ? `unix:${event.address}`
    : event.family === 'inet6' ? `[${event.address}]${event.port !== null ? `:${event.port}` : ''}`
    : `${event.address}${event.port !== null ? `:${event.port}` : ''}`;
  const hostname = events.find((e) => e.hostname)?.hostname;
  const details = [hostname, QUIET_RESULTS.has(event.result) ? undefined : event.result].filter(Boolean).join('; ');
  const observed = events.map((e) => e.observed).find((o) => o !== undefined);
  const saw =
    observed?.http ? ` → ${observed.http.method} ${observed.http.host}${observed.http.path}`
    : observed?.sni ? ` → TLS ${observed.sni}`
    : '';
  return `${verb} ${where}${details ? ` (${details})` : ''}${saw}`;
}

function dnsEntries(events: readonly DnsEvent[], ctx: TreeContext): Entry[] {
  return collapse(events, (e) => `${e.name.toLowerCase()}\0${e.type}`).map((line) => {
    const first = line.events[0]!;
    const answers = [...new Set(line.events.flatMap((e) => e.answers))];
    return entryFor(line, `looks up ${first.name} (${first.type}${answers.length > 0 ? ` → ${answers.join(', ')}` : ', no answer'})`, ctx);
  });
}
