/**
 * The process tree of one script: which task (tid) belongs to which process, what each process
 * ran, where it stood, and how it ended.
 *
 * Threads (clone with CLONE_THREAD) are not processes: their syscalls are charged to the process
 * they belong to (libuv's thread pool does node's file I/O). A child can print lines before its
 * parent's fork returns; until that return says whether it is a thread or a process, and whose,
 * its lines wait in a backlog.
 */
import type { ExecImage, PrivilegeCall, ProcessEvent } from '../session/types.js';
import type { TraceEvent } from './line.js';

export interface Proc {
  /** Creation order, the tie-break when two processes start in the same microsecond. */
  seq: number;
  pid: number;
  parent: Proc | null;
  isRoot: boolean;
  argv: string[];
  exe: string | null;
  images: ExecImage[];
  /** Successful execs, counting the sandbox wrapper's. */
  execs: number;
  startCwd: string;
  cwd: string;
  /** It changed directory itself: its start cwd is no longer observable from decorations. */
  movedCwd: boolean;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  exitGroup: { time: number; code: number | null } | null;
  detached: boolean;
  stdioSockets: { fd: number; socket: string; time: number }[];
  privilegeCalls: PrivilegeCall[];
}

export interface Task {
  tid: number;
  /** null until the fork that created it has returned. */
  proc: Proc | null;
  isThread: boolean;
  ended: boolean;
  firstSeen: number;
  backlog: TraceEvent[];
}

export interface SpawnFlags {
  thread: boolean;
  /** CLONE_PARENT: the child is its creator's sibling. */
  sibling: boolean;
}

/**
 * A multi-threaded child (node) is reported gone by the tracer only once all its threads are,
 * which on a loaded machine can be printed after its parent shell's own exit, although the shell
 * waited for it. A child gone within this much of the script's end did not outlive it; one that
 * really lingers (a `nohup sleep 0.2` is recorded as outliving) goes on well past it.
 */
const EXIT_REPORT_SLACK_S = 0.1;

export class ProcessTable {
  readonly procs: Proc[] = [];
  root: Proc | null = null;
  private readonly tasks = new Map<number, Task>();

  constructor(
    private readonly rootCwd: string,
    private readonly wrapperExecs: number,
  ) {}

  /** The live task for a tid, creating it (the root, or an unresolved child) on first sight. */
  taskFor(tid: number, time: number): Task {
    const known = this.tasks.get(tid);
    if (known && !known.ended) return known;
    const task: Task = { tid, proc: null, isThread: false, ended: false, firstSeen: time, backlog: [] };
    if (!this.root) {
      this.root = this.newProc(tid, null, this.rootCwd, time, [], null);
      this.root.isRoot = true;
      task.proc = this.root;
    }
    this.tasks.set(tid, task);
    return task;
  }

  /**
   * The creator's fork/clone returned `childTid`. Returns the child's task, now resolved; its
   * backlog (lines printed before this return) is the caller's to replay.
   */
  spawn(creator: Proc, childTid: number, flags: SpawnFlags, time: number): Task {
    let task = this.tasks.get(childTid);
    if (task && task.proc && !task.ended) return task; // already known: nothing new to learn
    if (!task || task.ended) {
      task = { tid: childTid, proc: null, isThread: false, ended: false, firstSeen: time, backlog: [] };
      this.tasks.set(childTid, task);
    }
    if (flags.thread) {
      task.proc = creator;
      task.isThread = true;
    } else {
      const parent = flags.sibling && creator.parent ? creator.parent : creator;
      const startedAt = Math.min(task.firstSeen, time);
      task.proc = this.newProc(childTid, parent, creator.cwd, startedAt, creator.argv, creator.exe);
    }
    return task;
  }

  /** Tasks whose creating fork never showed up, adopted as children of the root. */
  adoptOrphans(): Task[] {
    const orphans: Task[] = [];
    for (const task of this.tasks.values()) {
      if (task.proc || !this.root) continue;
      task.proc = this.newProc(task.tid, this.root, this.root.cwd, task.firstSeen, this.root.argv, this.root.exe);
      orphans.push(task);
    }
    return orphans;
  }

  exit(task: Task, time: number, exitCode: number | null, signal: string | null): void {
    task.ended = true;
    const proc = task.proc;
    // Only the thread-group leader's own exit ends the process; worker threads come and go.
    if (!proc || task.isThread || proc.endedAt !== null) return;
    proc.endedAt = time;
    proc.exitCode = exitCode;
    proc.signal = signal;
  }

  /** A non-leader thread exec'd: it became the leader, its own tid is gone. */
  superseded(formerTid: number): void {
    const former = this.tasks.get(formerTid);
    if (former) former.ended = true;
  }

  /** The root's real pid, learned late when the trace came without pid prefixes. */
  setRootPid(pid: number): void {
    if (this.root) this.root.pid = pid;
  }

  /** True while the root still runs the sandbox's own wrapper (before its last wrapper exec ended). */
  inWrapper(proc: Proc): boolean {
    return proc.isRoot && this.wrapperExecs > 0 && proc.execs <= this.wrapperExecs;
  }

  /** Records a successful exec; returns false when it was the sandbox wrapper's. */
  exec(proc: Proc, path: string, argv: string[], time: number): boolean {
    proc.execs++;
    proc.argv = argv;
    proc.exe = path;
    if (this.inWrapper(proc)) return false;
    proc.images.push({ time, path, argv });
    return true;
  }

  /** True when `pid` is `caller` or one of its descendants (the latest holder of the pid, as pids are reused). */
  isSelfOrDescendant(caller: Proc, pid: number): boolean {
    let target: Proc | null = null;
    for (const p of this.procs) if (p.pid === pid && (!target || p.seq > target.seq)) target = p;
    for (let p = target; p; p = p.parent) if (p === caller) return true;
    return false;
  }

  chdir(proc: Proc, dir: string): void {
    proc.cwd = dir;
    proc.movedCwd = true;
  }

  /**
   * The kernel's view of the cwd (an `AT_FDCWD</dir>` decoration) beats the inherited guess; if
   * the process has not moved yet, it is also where it started. The root's start is given.
   */
  observeCwd(proc: Proc, dir: string): void {
    if (proc.cwd === dir) return;
    proc.cwd = dir;
    if (!proc.movedCwd && !proc.isRoot) proc.startCwd = dir;
  }

  toEvents(
    ids: Map<Proc, string>,
    scriptId: string,
    scriptEndedAt: number | null,
    killedPids: readonly number[],
  ): ProcessEvent[] {
    const killed = new Set<Proc>();
    for (const pid of killedPids) {
      // With pid reuse, the sandbox killed the latest holder of the pid.
      let latest: Proc | null = null;
      for (const p of this.procs) if (p.pid === pid && (!latest || p.seq > latest.seq)) latest = p;
      if (latest) killed.add(latest);
    }
    return this.ordered().map((p) => {
      let endedAt = p.endedAt;
      let exitCode = p.exitCode;
      if (endedAt === null && p.exitGroup) {
        // exit_group was traced but the exit itself was not (trace cut short).
        endedAt = p.exitGroup.time;
        exitCode = p.exitGroup.code;
      }
      const outlived =
        !p.isRoot && scriptEndedAt !== null && (endedAt === null || endedAt > scriptEndedAt + EXIT_REPORT_SLACK_S);
      const event: ProcessEvent = {
        id: ids.get(p) as string,
        scriptId,
        pid: p.pid,
        parentId: p.parent ? (ids.get(p.parent) ?? null) : null,
        argv: p.argv,
        exe: p.exe,
        images: p.images,
        cwd: p.startCwd,
        startedAt: p.startedAt,
        endedAt,
        exitCode,
        signal: p.signal,
        outlivedScript: outlived,
        killedBySandbox: killed.has(p),
        detached: p.detached,
      };
      if (p.stdioSockets.length > 0) event.stdioSockets = p.stdioSockets;
      if (p.privilegeCalls.length > 0) event.privilegeCalls = p.privilegeCalls;
      return event;
    });
  }

  /** Processes by start time, creation order breaking ties (the root is always first). */
  ordered(): Proc[] {
    return [...this.procs].sort((a, b) =>
      a.isRoot !== b.isRoot ? (a.isRoot ? -1 : 1) : a.startedAt - b.startedAt || a.seq - b.seq,
    );
  }

  private newProc(
    pid: number,
    parent: Proc | null,
    cwd: string,
    startedAt: number,
    argv: string[],
    exe: string | null,
  ): Proc {
    const proc: Proc = {
      seq: this.procs.length,
      pid,
      parent,
      isRoot: false,
      // A child that has not exec'd yet is still running its parent's program.
      argv: [...argv],
      exe,
      images: [],
      execs: 0,
      startCwd: cwd,
      cwd,
      movedCwd: false,
      startedAt,
      endedAt: null,
      exitCode: null,
      signal: null,
      exitGroup: null,
      detached: false,
      stdioSockets: [],
      privilegeCalls: [],
    };
    this.procs.push(proc);
    return proc;
  }
}
