/**
 * One lifecycle script's strace output → its part of the session chain.
 *
 * Lines are read once, in order (linear in the trace size). Each whole syscall is charged to the
 * process its thread belongs to, then turned into process facts (fork, exec, cwd, exit, stdio),
 * a file event or connection events. Ids are handed out at the end, in time order, so they read
 * chronologically whatever order strace printed interleaved lines in.
 */
import type { EventIds } from '../session/ids.js';
import { isNoise, type NoiseContext } from '../session/noise.js';
import type { ConnectionEvent, FileEvent, ProcessEvent } from '../session/types.js';
import {
  atomArg,
  fieldOf,
  hasFlag,
  intArg,
  namedArg,
  parseCallText,
  resultOf,
  succeeded,
  type ParsedCall,
} from './args.js';
import { bytesToText } from './escapes.js';
import { FILE_SYSCALLS, dirOf, fileFacts, resolveAt, type FileFacts, type FileSpec } from './files.js';
import { LineReader, type SyscallLine, type TraceEvent } from './line.js';
import { NETWORK_SYSCALLS, SocketRegistry, connectionFacts, type ConnectionFacts } from './network.js';
import { PRIVILEGE_SYSCALLS, privilegeCall } from './privileges.js';
import { ProcessTable, type Proc, type Task } from './processes.js';

export interface ScriptTraceInput {
  /** e.g. `s3` */
  scriptId: string;
  /** Initial cwd of the script's top process (absolute). */
  cwd: string;
  /** Raw strace lines, in order. */
  lines: Iterable<string>;
  /** Shared allocator; process, file and connection ids come from it. */
  ids: EventIds;
  /** Paths to classify, used by the noise filter. */
  context: NoiseContext;
  /** Epoch seconds at which the script's top process exited, if known; processes alive after it outlived the script. */
  scriptEndedAt?: number;
  /** Pids the sandbox killed after the grace period / timeout. */
  killedPids?: number[];
  /**
   * Successful execs of the top process that are the sandbox's own wrapper, not the script
   * (`sh -c 'exec 2>&3 3>&-; exec /bin/sh -c "$1"' sh CMD` is 1). Their images, exec events and
   * stdio plumbing are left out. Default 0.
   */
  wrapperExecs?: number;
}

export interface ScriptTraceResult {
  processes: ProcessEvent[];
  files: FileEvent[];
  connections: ConnectionEvent[];
  /** Id of the top process. */
  rootProcess: string | null;
  rootExit: { exitCode: number | null; signal: string | null } | null;
  /** File events dropped by the noise filter. */
  suppressedFiles: number;
  /** Lines (or calls) that could not be understood; they never make the parser throw. */
  unparsedLines: number;
}

export function parseScriptTrace(input: ScriptTraceInput): ScriptTraceResult {
  const session = new TraceSession(input);
  const reader = new LineReader();
  const emit = (event: TraceEvent): void => session.route(event);
  for (const line of input.lines) reader.feed(line, emit);
  reader.finish(emit);
  return session.finish(reader.unparsed);
}

type Handler = (this: TraceSession, task: Task, proc: Proc, line: SyscallLine, call: ParsedCall) => void;

const ALL = Number.POSITIVE_INFINITY;

/** How many leading arguments a file syscall's spec looks at. */
function argsRead(spec: FileSpec): number {
  const { dirfd, path, fd, flags, how, mode, linkText, target } = spec;
  const positions = [dirfd, path, fd, flags, how, mode, linkText, target?.dirfd, target?.path];
  return Math.max(...positions.map((p) => p ?? -1)) + 1;
}

/** errnos of an exec that found nothing to run: a PATH lookup, not an execution. */
const LOOKUP_ERRNOS = new Set(['ENOENT', 'ENOTDIR']);

class TraceSession {
  private readonly table: ProcessTable;
  private readonly sockets = new SocketRegistry();
  private readonly fileFacts: { proc: Proc; facts: FileFacts; time: number }[] = [];
  private suppressedFiles = 0;
  private readonly connectionFacts: { proc: Proc; facts: ConnectionFacts }[] = [];
  private unparsed = 0;
  private readonly handlers: Map<string, { run: Handler; wanted: number }>;

  constructor(private readonly input: ScriptTraceInput) {
    this.table = new ProcessTable(input.cwd, input.wrapperExecs ?? 0);
    // Each handler with how many leading arguments it reads; the rest of the line is skipped.
    const handlers = new Map<string, { run: Handler; wanted: number }>([
      ['execve', { run: this.exec, wanted: 2 }],
      ['execveat', { run: this.exec, wanted: 3 }],
      ['clone', { run: this.fork, wanted: ALL }],
      ['clone3', { run: this.fork, wanted: 1 }],
      ['fork', { run: this.fork, wanted: 0 }],
      ['vfork', { run: this.fork, wanted: 0 }],
      ['exit_group', { run: this.exitGroup, wanted: 1 }],
      ['setsid', { run: this.setsid, wanted: 0 }],
      ['chdir', { run: this.chdir, wanted: 1 }],
      ['fchdir', { run: this.chdir, wanted: 1 }],
      ['dup2', { run: this.dup, wanted: 2 }],
      ['dup3', { run: this.dup, wanted: 2 }],
      ['socket', { run: this.socket, wanted: 2 }],
    ]);
    for (const [name, spec] of Object.entries(FILE_SYSCALLS)) {
      handlers.set(name, { run: this.file, wanted: argsRead(spec) });
    }
    for (const name of NETWORK_SYSCALLS) handlers.set(name, { run: this.network, wanted: ALL });
    for (const name of PRIVILEGE_SYSCALLS) handlers.set(name, { run: this.privilege, wanted: 1 });
    this.handlers = handlers;
  }

  route(event: TraceEvent): void {
    if (event.kind === 'pid') {
      this.table.setRootPid(event.pid);
      return;
    }
    const task = this.table.taskFor(event.tid, event.time);
    if (!task.proc) {
      task.backlog.push(event);
      return;
    }
    this.apply(task, task.proc, event);
  }

  private apply(task: Task, proc: Proc, event: TraceEvent): void {
    // Calls are delivered when they complete; one that opened before its fork returned still
    // dates the start of the process.
    if (!task.isThread && event.kind !== 'pid' && event.time < proc.startedAt) proc.startedAt = event.time;
    if (event.kind === 'exit') this.table.exit(task, event.time, event.exitCode, event.signal);
    else if (event.kind === 'superseded') this.table.superseded(event.formerTid);
    else if (event.kind === 'syscall') {
      const handler = this.handlers.get(event.name);
      if (!handler) return; // traced for completeness (setpgid): no event type
      const call = parseCallText(event.text, handler.wanted);
      if (!call) {
        this.unparsed++;
        return;
      }
      handler.run.call(this, task, proc, event, call);
    }
  }

  private replay(task: Task): void {
    const backlog = task.backlog;
    task.backlog = [];
    for (const event of backlog) if (task.proc) this.apply(task, task.proc, event);
  }

  private fork(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    const child = call.ret.value;
    if (!succeeded(call) || child === null || child <= 0) return;
    const flags = line.name === 'clone3' ? fieldOf(call.args[0], 'flags') : namedArg(call, 'flags');
    const childTask = this.table.spawn(
      proc,
      child,
      { thread: hasFlag(flags, 'CLONE_THREAD'), sibling: hasFlag(flags, 'CLONE_PARENT') },
      line.endTime,
    );
    this.replay(childTask);
  }

  private exec(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    const at = line.name === 'execveat';
    const ctx = { cwd: proc.cwd, pid: proc.pid };
    let path = resolveAt(at ? call.args[0] : undefined, call.args[at ? 1 : 0], ctx);
    if (path === null && at) path = dirOf(call.args[0]); // fexecve: AT_EMPTY_PATH on an fd
    const argvArg = call.args[at ? 2 : 1];
    if (path === undefined || path === null || argvArg?.kind !== 'array') {
      this.unparsed++;
      return;
    }
    const argv = argvArg.items.map((v) => (v.kind === 'str' ? bytesToText(v.bytes) : ''));
    if (succeeded(call)) {
      const counts = this.table.exec(proc, path, argv, line.time);
      if (counts) this.addFile(proc, line.time, { op: 'exec', path, syscall: line.name, result: 'ok' });
      return;
    }
    if (this.table.inWrapper(proc)) return;
    const result = resultOf(call);
    const op = LOOKUP_ERRNOS.has(result) ? 'probe' : 'exec';
    this.addFile(proc, line.time, { op, path, syscall: line.name, result });
  }

  private exitGroup(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    proc.exitGroup ??= { time: line.time, code: intArg(call.args[0]) };
  }

  private setsid(_task: Task, proc: Proc, _line: SyscallLine, call: ParsedCall): void {
    if (succeeded(call)) proc.detached = true;
  }

  private chdir(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    if (!succeeded(call)) return;
    const dir =
      line.name === 'fchdir' ? dirOf(call.args[0]) : resolveAt(undefined, call.args[0], { cwd: proc.cwd, pid: 0 });
    if (typeof dir === 'string') this.table.chdir(proc, dir);
    else this.unparsed++;
  }

  /** A network socket dup'd onto stdin/stdout/stderr: the shape of a reverse shell. */
  private dup(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    if (!succeeded(call) || this.table.inWrapper(proc)) return;
    const target = intArg(call.args[1]);
    if (target === null || target < 0 || target > 2) return;
    const view = this.sockets.view(atomArg(call.args[0])?.decoration ?? null);
    // Unix socketpairs and pipes on stdio are how node and shells wire children: normal.
    if (!view || (view.family !== 'inet' && view.family !== 'inet6')) return;
    proc.stdioSockets.push({ fd: target, socket: view.text, time: line.time });
  }

  private privilege(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    if (this.table.inWrapper(proc)) return;
    const isOwn = (pid: number): boolean => this.table.isSelfOrDescendant(proc, pid);
    const recorded = privilegeCall(line.name, line.text, call, line.time, isOwn);
    if (recorded) proc.privilegeCalls.push(recorded);
  }

  private socket(_task: Task, _proc: Proc, _line: SyscallLine, call: ParsedCall): void {
    if (succeeded(call)) this.sockets.noteSocket(call);
  }

  private file(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    const spec = FILE_SYSCALLS[line.name];
    for (const index of [spec?.dirfd, spec?.target?.dirfd]) {
      if (index === undefined) continue;
      const dirfd = atomArg(call.args[index]);
      const dir = dirfd?.text === 'AT_FDCWD' ? dirOf(dirfd) : null;
      if (dir !== null) this.table.observeCwd(proc, dir);
    }
    const facts = fileFacts(line.name, call, { cwd: proc.cwd, pid: proc.pid });
    if (facts === 'unparsed') this.unparsed++;
    else if (facts !== null) this.addFile(proc, line.time, facts);
  }

  private network(_task: Task, proc: Proc, line: SyscallLine, call: ParsedCall): void {
    const facts = connectionFacts(line.name, call, line.time, proc.cwd, this.sockets);
    if (facts === 'unparsed') {
      this.unparsed++;
      return;
    }
    for (const f of facts) this.connectionFacts.push({ proc, facts: f });
  }

  /** Noise is dropped as it comes: a compiler's thousands of header reads are never kept. */
  private addFile(proc: Proc, time: number, facts: FileFacts): void {
    if (isNoise(facts, this.input.context)) this.suppressedFiles++;
    else this.fileFacts.push({ proc, time, facts });
  }

  finish(readerUnparsed: number): ScriptTraceResult {
    for (const task of this.table.adoptOrphans()) this.replay(task);
    const { ids, scriptId } = this.input;
    const root = this.table.root;
    const rootEnd = root ? (root.endedAt ?? root.exitGroup?.time ?? null) : null;
    const scriptEnd = this.input.scriptEndedAt ?? rootEnd;

    const procIds = new Map<Proc, string>();
    for (const proc of this.table.ordered()) procIds.set(proc, ids.next('p'));
    const processes = this.table.toEvents(procIds, scriptId, scriptEnd, this.input.killedPids ?? []);

    const files: FileEvent[] = stableByTime(this.fileFacts, (f) => f.time).map(({ proc, time, facts }) => ({
      id: ids.next('f'),
      scriptId,
      processId: procIds.get(proc) as string,
      time,
      ...facts,
    }));

    const connections: ConnectionEvent[] = stableByTime(this.connectionFacts, (c) => c.facts.time).map(
      ({ proc, facts }) => ({ id: ids.next('n'), scriptId, processId: procIds.get(proc) as string, ...facts }),
    );

    const rootEvent = root ? processes.find((p) => p.id === procIds.get(root)) : undefined;
    return {
      processes,
      files,
      connections,
      rootProcess: rootEvent?.id ?? null,
      rootExit:
        rootEvent && rootEvent.endedAt !== null ? { exitCode: rootEvent.exitCode, signal: rootEvent.signal } : null,
      suppressedFiles: this.suppressedFiles,
      unparsedLines: readerUnparsed + this.unparsed,
    };
  }
}

function stableByTime<T>(items: T[], time: (item: T) => number): T[] {
  // Calls are seen in completion order and stamped with their start: nearly always sorted already.
  let sorted = true;
  for (let i = 1; i < items.length && sorted; i++) sorted = time(items[i - 1] as T) <= time(items[i] as T);
  if (sorted) return items;
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => time(a.item) - time(b.item) || a.index - b.index)
    .map((x) => x.item);
}
