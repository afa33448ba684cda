import { posix } from 'node:path';
import type { FileEvent } from '../session/types.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { indexChain, type ChainIndex } from './chain-index.js';
import { toolOf } from './native-build.js';
import { displayPath } from './paths.js';
import { imageAt, imagesOf, isLifecycleWrapper, programNames, type RanImage } from './processes.js';
import { SOCKET_RELAYS, hasProgram, isInterpreter, scriptSource, stdinInterpreter } from './programs.js';
import { fetchOf, isDownloader, nameOf, originOf, type Fetch, type Origin } from './provenance.js';

/**
 * Code that did not come with the package: a file written during the session that is then
 * executed, run by an interpreter (`node /tmp/x.js`, `node -r /tmp/x.js`), loaded by one (a read
 * of a `.js`/`.node`/`.py`… by node or python), or a fetch piped straight into a shell
 * (`curl … | sh`). critical when the content was fetched (./provenance.ts), high otherwise.
 *
 * Benign look-alikes, not reported unless the content was fetched:
 * - build output: a file a package wrote inside its own folder (node-gyp's addon, esbuild
 *   linking its binary into bin/, generated code), whoever runs it later;
 * - compiler output anywhere (autoconf `conftest`, test programs in /tmp).
 * Reads of a package's own files are folded away by the tracer, so loads are only visible for
 * files elsewhere, which is where dropped payloads go.
 */
export const downloadExecuteRule: Rule = {
  id: 'download-execute',
  evaluate(ctx) {
    const index = indexChain(ctx.chain);
    return [...runsOfWrittenFiles(ctx, index), ...pipedToShell(ctx, index)];
  },
};

interface Use {
  path: string;
  time: number;
  verb: string;
  evidence: string[];
}

/** Extensions an interpreter loads as code (reads of data files are not loads). */
const LOADABLE = new Set(['.js', '.mjs', '.cjs', '.node', '.py', '.so', '.pl', '.pm', '.rb', '.php']);

function runsOfWrittenFiles(ctx: RuleContext, index: ChainIndex): Finding[] {
  const byPath = new Map<string, { use: Use; origin: Origin; evidence: string[] }>();
  for (const use of usesOf(ctx)) {
    const origin = originOf(index, use.path, use.time);
    if (!origin) continue;
    const known = byPath.get(use.path);
    if (known) known.evidence.push(...use.evidence);
    else byPath.set(use.path, { use, origin, evidence: [...use.evidence] });
  }

  const findings: Finding[] = [];
  for (const { use, origin, evidence } of byPath.values()) {
    const fetched = fetchOf(index, origin.write, use.time);
    if (!fetched && isBuildOutput(origin, use.path, index)) continue;
    const chmod = chmodBetween(index, use, origin);
    const copied = fetched ? undefined : copiedFrom(index, origin, use.path);
    findings.push({
      rule: 'download-execute',
      severity: fetched ? 'critical' : copied ? 'low' : 'high',
      message: `${use.verb} ${displayPath(use.path, ctx.paths)}, ${originText(origin, fetched, use.path, index, ctx)}${copied ? ` after reading ${displayPath(copied.path, ctx.paths)} of an installed package (a cached copy, as @swc/core makes; contents not compared)` : ''}${chmod ? `; made executable (chmod ${chmod.mode})` : ''}`,
      evidence: unique([
        origin.write.event.id,
        ...origin.hops.map((hop) => hop.id),
        ...(fetched?.evidence ?? []),
        ...(chmod ? [chmod.id] : []),
        ...evidence,
      ]),
    });
  }
  return findings;
}

/** Every execution and interpreter load in this package's session. */
function usesOf({ session }: RuleContext): Use[] {
  const uses: Use[] = [];
  const execEvents = session.files.filter((event) => event.op === 'exec' && event.result === 'ok');
  for (const process of session.processes) {
    const script = session.scripts.find((s) => s.id === process.scriptId);
    for (const [i, image] of process.images.entries()) {
      const ran: RanImage = { index: i, path: image.path, argv: image.argv };
      if (script && isLifecycleWrapper(process, ran, script)) continue;
      const exec = execEvents.find((event) => event.processId === process.id && event.path === image.path && Math.abs(event.time - image.time) < 1e-3);
      uses.push({ path: image.path, time: image.time, verb: 'runs', evidence: [process.id, ...(exec ? [exec.id] : [])] });
      const source = scriptSource(ran, process.cwd);
      const program = programNames(ran)[0] ?? 'an interpreter';
      if (source?.kind === 'file') uses.push({ path: source.path, time: image.time, verb: `runs with ${program}`, evidence: [process.id] });
      for (const preload of source?.preloads ?? []) uses.push({ path: preload, time: image.time, verb: `preloads into ${program}`, evidence: [process.id] });
    }
  }
  const processes = new Map(session.processes.map((process) => [process.id, process]));
  for (const event of session.files) {
    if (event.op !== 'read' || event.result !== 'ok' || !LOADABLE.has(posix.extname(event.path))) continue;
    const reader = processes.get(event.processId);
    const image = reader ? imageAt(reader, event.time) : undefined;
    if (!image || !isInterpreter(image)) continue;
    uses.push({ path: event.path, time: event.time, verb: `loads into ${programNames(image)[0]}`, evidence: [event.id] });
  }
  return uses;
}

/** A package's own build output, or what a compiler produced: not new code from elsewhere. */
/**
 * Loaders that copy a package's native binary to a cache before loading it (@swc/core writes
 * ~/.cache/swc-native-<uid>/v1/<sha512>.node) read that package's file of the same kind first,
 * in the same process, with nothing fetched. That is low: a payload shipped inside the package
 * and decoded to disk looks the same to the tracer, which is why it stays a finding at all.
 */
function copiedFrom(index: ChainIndex, origin: Origin, path: string): FileEvent | undefined {
  const ext = posix.extname(path);
  if (ext === '') return undefined;
  return index
    .readsBy(origin.write.event.processId)
    .find((read) => read.result === 'ok' && read.time < origin.write.event.time && posix.extname(read.path) === ext && Boolean(index.packageOwning(read.path)));
}

function isBuildOutput(origin: Origin, path: string, index: ChainIndex): boolean {
  if (index.packageOwning(path) === origin.write.location) return true;
  const writer = index.process(origin.write.event.processId);
  return writer !== undefined && imagesOf(writer).some((image) => toolOf(image) !== undefined);
}

function originText(origin: Origin, fetched: Fetch | null, path: string, index: ChainIndex, ctx: RuleContext): string {
  if (fetched) return `which ${fetched.how}`;
  const writer = index.process(origin.write.event.processId);
  const by = writer ? nameOf(writer) : 'a process';
  const owner = index.packageOwning(path);
  const where = owner === undefined ? 'outside any package folder' : `in the folder of ${packageName(owner, ctx)}`;
  const other = origin.write.location !== ctx.pkg.location ? ` (package ${packageName(origin.write.location, ctx)})` : '';
  return `which ${by}${other} wrote during the install ${where}`;
}

/** `chmod +x` of the file (under any of the names it had) between its write and its use. */
function chmodBetween(index: ChainIndex, use: Use, origin: Origin): FileEvent | undefined {
  const names = new Set([use.path, origin.write.event.path, ...origin.hops.flatMap((hop) => [hop.path, hop.target ?? hop.path])]);
  return index.chain.packages
    .flatMap(({ session }) => session.files)
    .find(
      (event) =>
        event.op === 'chmod' &&
        event.result === 'ok' &&
        names.has(event.path) &&
        event.time > origin.write.event.time &&
        event.time < use.time &&
        isExecutableMode(event.mode),
    );
}

function isExecutableMode(mode: string | undefined): boolean {
  return mode !== undefined && /^0?[0-7]+$/.test(mode) && (parseInt(mode, 8) & 0o111) !== 0;
}

/**
 * A shell or interpreter reading its program from a pipe whose other end fetched it. Pipes are
 * not traced, so the shape stands in: a stdin-driven shell (`sh`, `bash -s`, `python3 -`) next to
 * a downloader or a process that made network requests, both children of one command line.
 */
function pipedToShell(ctx: RuleContext, index: ChainIndex): Finding[] {
  const findings: Finding[] = [];
  for (const process of ctx.session.processes) {
    const image = stdinInterpreter(process);
    if (!image) continue;
    for (const peer of index.pipelinePeersOf(process)) {
      if (imagesOf(peer).some((ran) => hasProgram(ran, SOCKET_RELAYS))) continue; // that is a reverse shell's shape
      const egress = [peer, ...index.descendantsOf(peer)].flatMap((p) => index.egressBy(p.id));
      if (!isDownloader(peer) && egress.length === 0) continue;
      const from = egress[0] ? ` from ${egress[0].destination}` : '';
      findings.push({
        rule: 'download-execute',
        severity: 'critical',
        message: `pipes what ${nameOf(peer)} fetched${from} into ${programNames(image)[0]}`,
        evidence: unique([process.id, peer.id, ...egress.map((event) => event.id)]),
      });
      break;
    }
  }
  return findings;
}

function packageName(location: string, ctx: RuleContext): string {
  return ctx.chain.packages.find(({ info }) => info.location === location)?.info.name ?? (location || 'the project');
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
