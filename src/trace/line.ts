/**
 * Turns raw strace lines into whole events: one syscall (with `<unfinished ...>` and
 * `<... x resumed>` halves joined per thread), a task exit, or an execve that replaced a thread.
 *
 * Accepted line prefixes: `PID TIME` (strace -f -o FILE), `[pid PID] TIME` (strace -f writing to
 * stderr with several tasks alive) and a bare `TIME` (stderr, a single task alive).
 */

export interface SyscallLine {
  kind: 'syscall';
  tid: number;
  /** When the call started (the line that opened it). */
  time: number;
  /** When the trace showed its result (the resumed line, or `time`). */
  endTime: number;
  name: string;
  /** `args) = ret`: everything after `name(`. */
  text: string;
}
export interface ExitLine {
  kind: 'exit';
  tid: number;
  time: number;
  exitCode: number | null;
  signal: string | null;
}
/** A non-leader thread ran execve: it is gone, its process continues under the leader's pid. */
export interface SupersededLine {
  kind: 'superseded';
  tid: number;
  time: number;
  formerTid: number;
}
/** The real pid of the task first seen without a pid prefix (see PidTracker). */
export interface PidLine {
  kind: 'pid';
  tid: number;
  pid: number;
}
export type TraceEvent = SyscallLine | ExitLine | SupersededLine | PidLine;
export type Emit = (event: TraceEvent) => void;

interface Pending {
  name: string;
  time: number;
  /** Argument text printed before `<unfinished ...>`. */
  prefix: string;
}

const RESUMED = /^<\.\.\. ([A-Za-z0-9_?]+) resumed>/;
const EXITED = /^\+\+\+ exited with (-?\d+) \+\+\+$/;
const KILLED = /^\+\+\+ killed by (SIG[A-Z0-9+-]+|\d+)(?: \(core dumped\))? \+\+\+$/;
const SUPERSEDED = /^\+\+\+ superseded by execve in pid (\d+) \+\+\+$/;
/** Endings of a line whose call has not returned yet. */
const UNFINISHED = ' <unfinished ...>';
const DETACHED = ' <detached ...>';
const PID_CHANGED = / <pid changed to \d+ \.\.\.>$/;
const CLONE_CALLS = new Set(['clone', 'clone3', 'fork', 'vfork']);
const CLONE_RESULT = /\) += (\d+)$/;

/** Placeholder tid for lines printed without a pid before the first fork reveals the real one. */
export const UNPREFIXED_ROOT = 0;

export class LineReader {
  /** Lines that are not strace output we understand. */
  unparsed = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly pids = new PidTracker();

  feed(rawLine: string, emit: Emit): void {
    let line = rawLine;
    if (line.endsWith('\n')) line = line.slice(0, -1);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const header = parseHeader(line);
    if (!header) {
      // strace's own diagnostics (when it shares stderr with the trace) describe no task.
      if (line.trim() !== '' && !line.startsWith('strace: ')) this.unparsed++;
      return;
    }
    const { time, end } = header;
    const tid = this.pids.resolve(header.pid, line, end, this.pending, emit);

    if (line.startsWith('+++ ', end)) return this.taskLine(tid, time, line.slice(end), emit);
    if (line.startsWith('--- ', end)) return; // signal delivery / stop notices: nothing to record
    if (line.startsWith('<... ', end)) return this.resumed(tid, time, line.slice(end), emit);

    const open = syscallNameEnd(line, end);
    if (open === -1) {
      this.unparsed++;
      return;
    }
    const name = line.slice(end, open);
    const args = line.slice(open + 1);
    const cut = unfinishedCut(args);
    if (cut !== null) {
      if (this.pending.has(tid)) this.unparsed++; // the earlier half never resumed
      this.pending.set(tid, { name, time, prefix: args.slice(0, cut) });
      return;
    }
    this.syscall({ kind: 'syscall', tid, time, endTime: time, name, text: args }, emit);
  }

  /** Emits calls still waiting for their result (the trace ended while they ran). */
  finish(emit: Emit): void {
    for (const tid of [...this.pending.keys()]) this.flushPending(tid, emit);
  }

  private taskLine(tid: number, time: number, body: string, emit: Emit): void {
    const exited = EXITED.exec(body);
    const killed = exited ? null : KILLED.exec(body);
    if (exited || killed) {
      this.flushPending(tid, emit);
      this.pids.ended(tid);
      emit({
        kind: 'exit',
        tid,
        time,
        exitCode: exited ? Number(exited[1]) : null,
        signal: killed ? (killed[1] as string) : null,
      });
      return;
    }
    const superseded = SUPERSEDED.exec(body);
    if (superseded) {
      const formerTid = this.pids.alias(Number(superseded[1]));
      // The exec'ing thread's pending execve resumes under the leader's pid; whatever the
      // leader itself was blocked in is abandoned.
      const moved = this.pending.get(formerTid);
      this.pending.delete(formerTid);
      this.pending.delete(tid);
      if (moved) this.pending.set(tid, moved);
      this.pids.ended(formerTid);
      emit({ kind: 'superseded', tid, time, formerTid });
      return;
    }
    this.unparsed++;
  }

  private resumed(tid: number, time: number, body: string, emit: Emit): void {
    const m = RESUMED.exec(body);
    const pending = this.pending.get(tid);
    if (!m || !pending || pending.name !== m[1]) {
      this.unparsed++;
      return;
    }
    this.pending.delete(tid);
    let rest = body.slice(m[0].length);
    // `<... nanosleep resumed> <unfinished ...>) = ?`: interrupted for good (exec, kill).
    if (rest.startsWith(UNFINISHED)) rest = rest.slice(UNFINISHED.length);
    const cut = unfinishedCut(rest);
    if (cut !== null) {
      this.pending.set(tid, { ...pending, prefix: pending.prefix + rest.slice(0, cut) });
      return;
    }
    this.syscall(
      { kind: 'syscall', tid, time: pending.time, endTime: time, name: pending.name, text: pending.prefix + rest },
      emit,
    );
  }

  private flushPending(tid: number, emit: Emit): void {
    const pending = this.pending.get(tid);
    if (!pending) return;
    this.pending.delete(tid);
    const text = `${pending.prefix}) = ?`;
    this.syscall({ kind: 'syscall', tid, time: pending.time, endTime: pending.time, name: pending.name, text }, emit);
  }

  private syscall(event: SyscallLine, emit: Emit): void {
    if (CLONE_CALLS.has(event.name)) {
      const child = CLONE_RESULT.exec(event.text);
      if (child) this.pids.announced(Number(child[1]));
    }
    emit(event);
  }
}

/** Where the argument text of a not-yet-returned call ends, or null for a complete line. */
function unfinishedCut(text: string): number | null {
  if (!text.endsWith('...>')) return null;
  if (text.endsWith(UNFINISHED)) return text.length - UNFINISHED.length;
  if (text.endsWith(DETACHED)) return text.length - DETACHED.length;
  const tail = Math.max(0, text.length - 48);
  const changed = PID_CHANGED.exec(text.slice(tail));
  return changed ? tail + changed.index : null;
}

/** Index of the `(` after a syscall name starting at `start`, or -1. */
function syscallNameEnd(line: string, start: number): number {
  let i = start;
  for (;;) {
    const c = line.charCodeAt(i);
    const nameChar = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || (c >= 65 && c <= 90) || c === 63;
    if (!nameChar) return c === 40 && i > start ? i : -1;
    i++;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Index after a run of digits starting at `i` (== i when there is none). */
function digitsEnd(s: string, i: number): number {
  while (isDigit(s.charCodeAt(i))) i++;
  return i;
}

function spacesEnd(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

/**
 * `PID TIME `, `[pid PID] TIME ` or `TIME `: a hand scan, as this runs on every line.
 * Returns the pid (null when absent), the time, and where the body starts.
 */
function parseHeader(line: string): { pid: number | null; time: number; end: number } | null {
  let i = 0;
  let pid: number | null = null;
  if (line.startsWith('[pid')) {
    const start = spacesEnd(line, 4);
    const end = digitsEnd(line, start);
    if (end === start || line.charCodeAt(end) !== 93) return null;
    pid = Number(line.slice(start, end));
    i = spacesEnd(line, end + 1);
  }
  // Either `PID TIME` or just `TIME`: read a number and see whether a time follows it.
  const firstEnd = digitsEnd(line, i);
  if (firstEnd === i) return null;
  if (pid === null && line.charCodeAt(firstEnd) === 32) {
    pid = Number(line.slice(i, firstEnd));
    i = spacesEnd(line, firstEnd);
  }
  const intEnd = digitsEnd(line, i);
  if (intEnd === i || line.charCodeAt(intEnd) !== 46) return null;
  const fracEnd = digitsEnd(line, intEnd + 1);
  if (fracEnd === intEnd + 1 || line.charCodeAt(fracEnd) !== 32) return null;
  return { pid, time: Number(line.slice(i, fracEnd)), end: spacesEnd(line, fracEnd) };
}

/**
 * Maps line prefixes to task ids. With `-o FILE` every line carries its pid and this is the
 * identity. When strace writes to stderr it omits the pid while only one task is alive: such
 * lines belong to that task, or (before anything was seen) to a placeholder for the root whose
 * real pid is learned from its first prefixed line.
 */
class PidTracker {
  private readonly live = new Set<number>();
  private readonly children = new Set<number>();
  private readonly aliases = new Map<number, number>();
  private placeholderBound = true;
  private lastTid: number | null = null;

  resolve(pid: number | null, line: string, bodyStart: number, pending: Map<number, Pending>, emit: Emit): number {
    const tid = pid === null ? this.unprefixed() : this.prefixed(pid, line, bodyStart, pending, emit);
    this.live.add(tid);
    this.lastTid = tid;
    return tid;
  }

  alias(pid: number): number {
    return this.aliases.get(pid) ?? pid;
  }

  announced(tid: number): void {
    this.children.add(tid);
    this.live.add(tid);
  }

  ended(tid: number): void {
    this.live.delete(tid);
  }

  private unprefixed(): number {
    if (this.live.size === 1) return this.live.values().next().value as number;
    if (this.lastTid === null) {
      this.placeholderBound = false;
      return UNPREFIXED_ROOT;
    }
    return this.lastTid;
  }

  private prefixed(pid: number, line: string, bodyStart: number, pending: Map<number, Pending>, emit: Emit): number {
    if (this.aliases.size > 0) {
      const aliased = this.aliases.get(pid);
      if (aliased !== undefined) return aliased;
    }
    if (this.placeholderBound) return pid;
    if (this.live.has(pid) || this.children.has(pid)) return pid;
    const body = line.slice(bodyStart);
    // An unknown pid while the root's real pid is unknown: the root itself, unless a fork is in
    // flight, in which case it is more likely that fork's child printing before the fork returns.
    const resumedName = RESUMED.exec(body)?.[1];
    const rootPending = pending.get(UNPREFIXED_ROOT);
    const forkInFlight = [...pending.values()].some((p) => CLONE_CALLS.has(p.name));
    const isRoot = resumedName !== undefined ? rootPending?.name === resumedName : !forkInFlight;
    if (!isRoot) return pid;
    this.placeholderBound = true;
    this.aliases.set(pid, UNPREFIXED_ROOT);
    emit({ kind: 'pid', tid: UNPREFIXED_ROOT, pid });
    return UNPREFIXED_ROOT;
  }
}
