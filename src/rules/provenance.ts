/**
 * Where the content of a path came from during the session: the write that first put it there
 * (through any renames and links since), and whether that content was fetched from the network.
 * Content that existed before the session (a file of the verified tarball, a system binary) has
 * no origin: moving or linking it does not make it new.
 */
import type { FileEvent, ProcessEvent } from '../session/types.js';
import type { ChainIndex, ContentWrite } from './chain-index.js';
import type { Egress } from './egress.js';
import { imagesOf, programNames } from './processes.js';
import { DOWNLOADERS, SOCKET_RELAYS, hasProgram } from './programs.js';

export interface Origin {
  /** The write (create/write) that put the content in place. */
  write: ContentWrite;
  /** Renames and links that carried it to the path asked about, oldest first. */
  hops: FileEvent[];
}

const MAX_HOPS = 8;

/** The origin of `path`'s content as of `before`, or null when the content predates the session. */
export function originOf(index: ChainIndex, path: string, before: number, hops = 0): Origin | null {
  if (hops > MAX_HOPS) return null;
  const last = index.writesTo(path).filter((write) => write.event.time < before).at(-1);
  if (!last) return null;
  const event = last.event;
  if (event.op !== 'rename' && event.op !== 'link') return { write: last, hops: [] };
  const from = event.op === 'rename' ? event.path : event.target;
  const inner = from === undefined ? null : originOf(index, from, event.time, hops + 1);
  return inner ? { write: inner.write, hops: [...inner.hops, event] } : null;
}

export interface Fetch {
  /** Reads after "which": `curl downloaded`, `node wrote after contacting x`. */
  how: string;
  evidence: string[];
}

/**
 * Whether the written content came from the network, as far as the chain shows. The writer's
 * open often precedes its download (`curl url > f` opens f, then connects), so egress counts
 * up to the moment the content was used, not only up to the write.
 */
export function fetchOf(index: ChainIndex, write: ContentWrite, usedAt: number, depth = 0): Fetch | null {
  const writer = index.process(write.event.processId);
  if (!writer) return null;
  const fetchers = [writer, ...index.descendantsOf(writer)].filter((process) => process.startedAt < usedAt);
  const downloader = fetchers.find(isDownloader);
  const egress = fetchers.flatMap((process) => index.egressBy(process.id)).filter((event) => event.time < usedAt);
  if (downloader) return { how: `${nameOf(downloader)} downloaded`, evidence: [downloader.id, ...ids(egress)] };
  if (egress.length > 0) {
    return { how: `${nameOf(writer)} wrote after contacting ${egress[0]?.destination}`, evidence: [writer.id, ...ids(egress)] };
  }
  // `curl … | tar x`: the bytes came through a pipe from a process that fetched them.
  for (const peer of index.pipelinePeersOf(writer)) {
    const peerEgress = [peer, ...index.descendantsOf(peer)].flatMap((process) => index.egressBy(process.id));
    if (isDownloader(peer) || (peerEgress.length > 0 && !hasProgramIn(peer, SOCKET_RELAYS))) {
      return { how: `${nameOf(writer)} wrote from what ${nameOf(peer)} fetched`, evidence: [writer.id, peer.id, ...ids(peerEgress)] };
    }
  }
  // `tar xf fetched.tgz`: unpacked from a file that was itself fetched.
  if (depth < 2) {
    for (const read of index.readsBy(writer.id)) {
      if (read.time > write.event.time) continue;
      const origin = originOf(index, read.path, read.time);
      const inner = origin ? fetchOf(index, origin.write, read.time, depth + 1) : null;
      if (origin && inner) {
        return {
          how: `${nameOf(writer)} unpacked from ${read.path}, which ${inner.how}`,
          evidence: [writer.id, read.id, origin.write.event.id, ...inner.evidence],
        };
      }
    }
  }
  return null;
}

export function isDownloader(process: ProcessEvent): boolean {
  return hasProgramIn(process, DOWNLOADERS);
}

function hasProgramIn(process: ProcessEvent, set: ReadonlySet<string>): boolean {
  return imagesOf(process).some((image) => hasProgram(image, set));
}

/** The program a process is best known by: its last image. */
export function nameOf(process: ProcessEvent): string {
  const image = imagesOf(process).at(-1);
  return (image ? programNames(image)[0] : undefined) ?? 'a process';
}

function ids(events: Egress[]): string[] {
  return events.map((event) => event.id);
}
