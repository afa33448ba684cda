/**
 * A chain-wide view for rules that compose events across processes and packages: which package
 * a process belongs to, the process tree, every content write to a path in time order, and each
 * process's egress. Built once per chain and cached: the chain is not changed after assembly,
 * and every package's evaluation asks the same questions.
 */
import type { FileEvent, ProcessEvent, SessionChain } from '../session/types.js';
import { dnsEgress, destinationOf, inetEgressOf, isLoopback, type Egress } from './egress.js';
import { contentPath } from './file-changes.js';
import { isInside, normalizePath, packageDirFor } from './paths.js';

export interface ContentWrite {
  event: FileEvent;
  /** Location of the package whose script made the write. */
  location: string;
}

export class ChainIndex {
  private readonly processes = new Map<string, { process: ProcessEvent; location: string }>();
  private readonly children = new Map<string, ProcessEvent[]>();
  private readonly writes = new Map<string, ContentWrite[]>();
  private readonly egress = new Map<string, Egress[]>();
  private readonly reads = new Map<string, FileEvent[]>();
  /** When each path made during the session (files and folders) first appeared. */
  private readonly created = new Map<string, number>();
  /** Package folders, most specific first, so nested packages win over their parents. */
  private readonly packageDirs: { location: string; dir: string }[];

  constructor(readonly chain: SessionChain) {
    for (const { info, session } of chain.packages) {
      for (const process of session.processes) {
        this.processes.set(process.id, { process, location: info.location });
        if (process.parentId !== null) push(this.children, process.parentId, process);
      }
      for (const event of session.files) {
        const path = contentPath(event) ?? (event.op === 'mkdir' ? event.path : undefined);
        if (path !== undefined && event.result === 'ok') {
          const normal = normalizePath(path);
          if (event.op !== 'mkdir') push(this.writes, normal, { event, location: info.location });
          this.created.set(normal, Math.min(this.created.get(normal) ?? Number.POSITIVE_INFINITY, event.time));
        }
        if (event.op === 'read' && event.result === 'ok') push(this.reads, event.processId, event);
      }
      for (const event of inetEgressOf(session)) {
        if (isLoopback(event.address)) continue;
        push(this.egress, event.processId, { id: event.id, time: event.time, processId: event.processId, destination: destinationOf(event) });
      }
      for (const event of session.dns) if (event.processId !== null) push(this.egress, event.processId, dnsEgress(event));
    }
    for (const list of this.writes.values()) list.sort((a, b) => a.event.time - b.event.time);
    this.packageDirs = chain.packages
      .map(({ info }) => ({ location: info.location, dir: packageDirFor(chain.projectDir, info.location) }))
      .sort((a, b) => b.dir.length - a.dir.length);
  }

  process(id: string | null): ProcessEvent | undefined {
    return id === null ? undefined : this.processes.get(id)?.process;
  }

  /** Location of the package whose script ran the process. */
  locationOf(processId: string): string | undefined {
    return this.processes.get(processId)?.location;
  }

  childrenOf(process: ProcessEvent): ProcessEvent[] {
    return this.children.get(process.id) ?? [];
  }

  descendantsOf(process: ProcessEvent): ProcessEvent[] {
    const out: ProcessEvent[] = [];
    const queue = [...this.childrenOf(process)];
    for (let next = queue.shift(); next; next = queue.shift()) {
      out.push(next);
      queue.push(...this.childrenOf(next));
    }
    return out;
  }

  /** Other children of the same parent whose lifetime overlaps: the other ends of a pipeline. */
  pipelinePeersOf(process: ProcessEvent): ProcessEvent[] {
    const parent = this.process(process.parentId);
    if (!parent) return [];
    const end = process.endedAt ?? Number.POSITIVE_INFINITY;
    return this.childrenOf(parent).filter(
      (peer) => peer !== process && peer.startedAt <= end && (peer.endedAt ?? Number.POSITIVE_INFINITY) >= process.startedAt,
    );
  }

  /** The package whose folder holds `path` (the innermost one for nested packages). */
  packageOwning(path: string): string | undefined {
    return this.packageDirs.find(({ dir }) => isInside(path, dir))?.location;
  }

  dirOf(location: string): string {
    return packageDirFor(this.chain.projectDir, location);
  }

  /** Successful content writes to `path` (writes, rename destinations, links), oldest first. */
  writesTo(path: string): ContentWrite[] {
    return this.writes.get(normalizePath(path)) ?? [];
  }

  /** Egress (non-loopback connections, DNS) made by one process, oldest first. */
  egressBy(processId: string): Egress[] {
    return this.egress.get(processId) ?? [];
  }

  /** The path was created or written during the session before `time`: not a file the user had. */
  madeBefore(path: string, time: number): boolean {
    return (this.created.get(normalizePath(path)) ?? Number.POSITIVE_INFINITY) < time;
  }

  readsBy(processId: string): FileEvent[] {
    return this.reads.get(processId) ?? [];
  }
}

const cache = new WeakMap<SessionChain, { size: string; index: ChainIndex }>();

export function indexChain(chain: SessionChain): ChainIndex {
  // A chain is built by appending; a changed size means the cached view is stale.
  const size = chain.packages
    .map(({ session: s }) => `${s.processes.length},${s.files.length},${s.connections.length},${s.dns.length}`)
    .join(';');
  const cached = cache.get(chain);
  if (cached?.size === size) return cached.index;
  const index = new ChainIndex(chain);
  cache.set(chain, { size, index });
  return index;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
