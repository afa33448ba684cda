/**
 * The runner: the only program of ours inside the sandbox. It lays the tree out as a real
 * project's node_modules, then runs every install-time script under strace, one at a time, in
 * npm's order. It must stay a single file using node builtins only: it is copied into the
 * image as is (see src/sandbox/image).
 *
 * It runs as the same unprivileged user as the scripts, so it trusts nothing it cannot stream
 * out at once: trace lines leave on stdout the moment strace writes them, and a script that
 * kills the runner or the tracer ends the session as a sandbox error, never as a clean run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import path from 'node:path';
import type { CapturedOutput, ScriptOutcome } from '../../session/types.js';
import type { PlannedPackage, PlannedScript, RunPlan, RunnerMessage, SeedFile } from '../protocol.js';

/** Where the tarballs are: the plan names them, the folder cannot be listed (see container.ts). */
const inputDir = process.argv[2] ?? '/var/cache/private';

function now(): number {
  return Date.now() / 1000;
}

function emit(msg: RunnerMessage): void {
  process.stdout.write(`M ${JSON.stringify(msg)}\n`);
}

/** Keeps the first bytes of a stream and counts the rest. */
class OutputCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  bytes = 0;

  constructor(private readonly keep: number) {}

  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.kept < this.keep) {
      const part = chunk.subarray(0, this.keep - this.kept);
      this.chunks.push(part);
      this.kept += part.length;
    }
  }

  result(): CapturedOutput {
    return { bytes: this.bytes, head: Buffer.concat(this.chunks).toString('utf8'), truncated: this.bytes > this.kept };
  }
}

function layOut(plan: RunPlan): void {
  fs.mkdirSync(plan.projectDir, { recursive: true });
  seedAll(plan.seedFiles, plan.home);
  fs.writeFileSync(path.join(plan.projectDir, 'package.json'), `${JSON.stringify(plan.projectPackageJson, null, 2)}\n`);
  // The project's tarball (location '') comes first and may hold the whole installed tree; a
  // package without a tarball of its own is already in place in it, its bins linked.
  for (const pkg of plan.packages) if (pkg.tarball !== undefined) extractPackage(plan, pkg, pkg.tarball);
  for (const pkg of plan.packages) if (pkg.tarball !== undefined && pkg.location !== '') linkBins(plan, pkg);
}

/**
 * Writes the decoys, then dates every folder under `home` like a disk in use: a folder's
 * mtime is its own seed's, or else the newest of what it holds. Folders all made a second
 * ago, around files dated weeks back, would give the decoys away.
 */
function seedAll(files: SeedFile[], home: string): void {
  const folderTimes = new Map<string, number>();
  const explicit = new Map<string, number>();
  const note = (file: string, time: number): void => {
    for (let dir = path.dirname(file); dir === home || dir.startsWith(`${home}/`); dir = path.dirname(dir)) {
      folderTimes.set(dir, Math.max(folderTimes.get(dir) ?? 0, time));
    }
  };
  for (const file of files) {
    const mode = Number.parseInt(file.mode ?? (file.type === 'dir' ? '0755' : '0644'), 8);
    if (file.type === 'dir') {
      fs.mkdirSync(file.path, { recursive: true });
      fs.chmodSync(file.path, mode);
      if (file.mtime !== undefined) explicit.set(file.path, file.mtime);
    } else {
      fs.mkdirSync(path.dirname(file.path), { recursive: true });
      fs.writeFileSync(file.path, Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8'), { mode });
      // writeFileSync's mode is filtered by the umask; decoys need theirs exactly.
      fs.chmodSync(file.path, mode);
      if (file.mtime !== undefined) fs.utimesSync(file.path, file.mtime, file.mtime);
    }
    if (file.mtime !== undefined) note(file.path, file.mtime);
  }
  for (const [dir, time] of explicit) folderTimes.set(dir, Math.max(time, folderTimes.get(dir) ?? 0));
  // Deepest first, so dating a folder is not undone by dating one inside it.
  const dirs = [...folderTimes.keys()].sort((a, b) => b.length - a.length);
  for (const dir of dirs) {
    try {
      fs.utimesSync(dir, folderTimes.get(dir)!, folderTimes.get(dir)!);
    } catch {
      // A folder the seeds did not create (the home itself on some bases): leave its time.
    }
  }
}

function extractPackage(plan: RunPlan, pkg: PlannedPackage, tarball: string): void {
  const dir = path.join(plan.projectDir, pkg.location);
  fs.mkdirSync(dir, { recursive: true });
  const tar = spawnSync('tar', ['-xf', path.join(inputDir, tarball), '--strip-components=1', '--no-same-owner', '-C', dir], {
    encoding: 'utf8',
  });
  if (tar.status !== 0) throw new Error(`could not unpack ${pkg.name}@${pkg.version}: ${tar.stderr.trim()}`);
  // npm normalises modes on extraction; tarballs with unreadable folders would otherwise break the layout.
  spawnSync('chmod', ['-R', 'u+rwX', dir]);
}

function linkBins(plan: RunPlan, pkg: PlannedPackage): void {
  const dir = path.join(plan.projectDir, pkg.location);
  let manifest: { name?: string; bin?: string | Record<string, string> };
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return;
  }
  const bins: Record<string, string> =
    typeof manifest.bin === 'string' ? { [(manifest.name ?? pkg.name).replace(/^@[^/]+\//, '')]: manifest.bin } : (manifest.bin ?? {});
  const binDir = path.join(path.dirname(dir), '.bin');
  for (const [name, rel] of Object.entries(bins)) {
    if (typeof rel !== 'string' || name.includes('/') || name.startsWith('.')) continue;
    const target = path.resolve(dir, rel);
    if (!target.startsWith(`${dir}/`)) continue;
    try {
      fs.mkdirSync(binDir, { recursive: true });
      const link = path.join(binDir, name);
      fs.rmSync(link, { force: true });
      fs.symlinkSync(path.relative(binDir, target), link);
      fs.chmodSync(target, 0o755);
    } catch {
      // A missing bin target is the package's own bug; npm warns and goes on too.
    }
  }
}

/** npm's PATH for a script: every node_modules/.bin from the package up to /, then node-gyp's shim. */
function scriptPath(pkgDir: string, basePath: string, nodePrefix: string): string {
  const dirs: string[] = [];
  for (let dir = pkgDir; ; dir = path.dirname(dir)) {
    dirs.push(path.join(dir, 'node_modules', '.bin'));
    if (dir === '/') break;
  }
  dirs.push(path.join(nodePrefix, 'lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin'));
  return [...dirs, basePath].join(':');
}

/** Where node lives (bin/node, lib/node_modules/npm): the runner itself runs on that node. */
const nodePrefix = path.resolve(path.dirname(process.execPath), '..');

function scriptEnv(plan: RunPlan, pkg: PlannedPackage, script: PlannedScript, pkgDir: string): Record<string, string> {
  return {
    ...plan.env,
    PATH: scriptPath(pkgDir, plan.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', nodePrefix),
    INIT_CWD: plan.projectDir,
    NODE: `${nodePrefix}/bin/node`,
    npm_node_execpath: `${nodePrefix}/bin/node`,
    npm_execpath: `${nodePrefix}/lib/node_modules/npm/bin/npm-cli.js`,
    npm_config_node_gyp: `${nodePrefix}/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js`,
    npm_command: 'install',
    npm_lifecycle_event: script.event,
    npm_lifecycle_script: script.command,
    npm_package_name: script.workspace?.name ?? pkg.name,
    npm_package_version: script.workspace?.version ?? pkg.version,
    npm_package_json: path.join(pkgDir, 'package.json'),
  };
}

/** Every process in the sandbox but us, our parent (the init) and the tracer. */
function otherPids(spare: Set<number>): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 1 && !spare.has(pid)) pids.push(pid);
  }
  return pids;
}

async function killAll(spare: Set<number>): Promise<number[]> {
  const killed = new Set<number>();
  // New children can appear while we kill (a fork bomb); sweep until nothing is left.
  for (let pass = 0; pass < 100; pass++) {
    const pids = otherPids(spare);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // Already gone.
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return [...killed];
}

/**
 * A real pipe for the trace (node's own stdio pipes are socketpairs, which strace cannot open
 * as /dev/stderr). The FIFO's name is removed at once, so no script can open it by path.
 */
function openTracePipe(): { reader: net.Socket; writeFd: number } {
  const dir = fs.mkdtempSync('/tmp/.X11-');
  const fifo = path.join(dir, 'p');
  const made = spawnSync('mkfifo', ['-m', '600', fifo]);
  if (made.status !== 0) throw new Error('cannot create the trace pipe');
  const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY);
  fs.rmSync(dir, { recursive: true, force: true });
  return { reader: new net.Socket({ fd: readFd, readable: true, writable: false }), writeFd };
}

const ROOT_EXIT = /^(\d+) +\S+ \+\+\+ (?:exited with (\d+)|killed by (SIG\w+))/;
const TASK_EXIT = /^(\d+) +\S+ \+\+\+ (?:exited|killed) /;
const EXEC_CALL = /^(\d+) +\S+ execve\("((?:[^"\\]|\\.)*)"/;
const EXEC_RESUMED = /^(\d+) +\S+ <\.\.\. execve resumed>/;
const CALL_OK = /\) += 0$/;

/** How often the build watch samples the processes' CPU time. */
const BUILD_SAMPLE_MS = 5000;
/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100;
/** A share of one core below which the script's processes are not working, just waiting. */
const WORKING_SHARE = 0.1;

/**
 * Whether a script is visibly compiling, for the build limit (plan.limits.buildTimeoutMs): over
 * a sample period, a compiler ran (the trace shows its execve, or it is still running) and the
 * script's processes used CPU (/proc/PID/stat, children's time included). A program that only
 * calls itself a compiler and sleeps does no work and does not count.
 */
class BuildWatch {
  /** When compiling was last seen (ms since the epoch), or -Infinity. */
  lastWork = Number.NEGATIVE_INFINITY;
  /** Pids running a compiler now, by the trace. */
  private readonly compilers = new Set<number>();
  private compilerStarted = false;
  private readonly pendingExec = new Map<number, string>();
  private readonly isCompiler: (file: string) => boolean;
  private ticks = new Map<number, number>();
  private sampledAt = Date.now();

  constructor(names: string[]) {
    const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const pattern = new RegExp(`^(?:[\\w.]+-)*(?:${escaped.join('|')})(?:-\\d+(?:\\.\\d+)*)?$`);
    this.isCompiler = (file) => names.length > 0 && pattern.test(path.basename(file));
  }

  /** Follows the execs and exits of the trace. */
  onTraceLine(line: string): void {
    const call = EXEC_CALL.exec(line);
    if (call) {
      const pid = Number(call[1]);
      if (CALL_OK.test(line)) this.execed(pid, call[2]!);
      else if (line.endsWith(' <unfinished ...>')) this.pendingExec.set(pid, call[2]!);
      return;
    }
    const resumed = EXEC_RESUMED.exec(line);
    if (resumed) {
      const pid = Number(resumed[1]);
      const file = this.pendingExec.get(pid);
      this.pendingExec.delete(pid);
      if (file !== undefined && CALL_OK.test(line)) this.execed(pid, file);
      return;
    }
    const exit = TASK_EXIT.exec(line);
    if (exit) {
      this.compilers.delete(Number(exit[1]));
      this.pendingExec.delete(Number(exit[1]));
    }
  }

  /** One sample period ends: was a compiler at work in it? */
  sample(pids: number[]): void {
    const at = Date.now();
    const ticks = new Map<number, number>();
    let used = 0;
    for (const pid of pids) {
      const now = cpuTicks(pid);
      if (now === null) continue;
      ticks.set(pid, now);
      used += now - (this.ticks.get(pid) ?? 0);
    }
    const compiled = this.compilerStarted || this.compilers.size > 0;
    if (compiled && used >= ((at - this.sampledAt) / 1000) * TICKS_PER_S * WORKING_SHARE) this.lastWork = at;
    this.ticks = ticks;
    this.sampledAt = at;
    this.compilerStarted = false;
  }

  private execed(pid: number, file: string): void {
    if (!this.isCompiler(file)) {
      this.compilers.delete(pid);
      return;
    }
    this.compilers.add(pid);
    this.compilerStarted = true;
  }
}

/** CPU time of a process and of its children it has waited for, in clock ticks; null when it is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces and parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from the state (field 3).
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  } catch {
    return null;
  }
}

function runScript(plan: RunPlan, pkg: PlannedPackage, script: PlannedScript): Promise<void> {
  const pkgDir = path.join(plan.projectDir, pkg.location, script.workspace?.dir ?? '');
  const { limits } = plan;
  const startedAt = now();
  emit({ type: 'script-start', id: script.id, cwd: pkgDir, time: startedAt });

  // The wrapper moves the script's stderr off the tracer's stream before the script starts.
  const wrapper = ['/bin/sh', '-c', 'exec 2>&3 3>&-; exec /bin/sh -c "$1"', 'sh', script.command];
  const trace = openTracePipe();
  const child: ChildProcess = spawn('strace', [...plan.straceArgs, '-o', '/dev/stderr', '--', ...wrapper], {
    cwd: pkgDir,
    env: scriptEnv(plan, pkg, script, pkgDir),
    stdio: ['ignore', 'pipe', trace.writeFd, 'pipe'],
  });
  fs.closeSync(trace.writeFd);
  const spare = new Set([process.pid, process.ppid, child.pid ?? -1]);
  const stdout = new OutputCapture(limits.outputKeepBytes);
  const stderr = new OutputCapture(limits.outputKeepBytes);
  let traceBytes = 0;
  let rootPid: number | null = null;
  let rootEndedAt: number | null = null;
  let exitCode: number | null = null;
  let signal: string | null = null;
  let outcome: ScriptOutcome | null = null;
  let reason: string | undefined;
  let killedPids: number[] = [];
  let killing: Promise<void> | null = null;
  let graceTimer: NodeJS.Timeout | undefined;

  /** Ends every process but us; `why` is absent when the script itself already finished. */
  const stop = (why: ScriptOutcome | null, message: string): void => {
    if (killing) return;
    if (why) outcome ??= why;
    reason ??= message;
    killing = killAll(spare).then((pids) => {
      killedPids = killedPids.concat(pids);
    });
  };

  // At the script limit, a script that is compiling goes on while its compilers work, up to the
  // build limit (plan.ts says why); anything else is stopped there.
  const build = new BuildWatch(plan.compilers ?? []);
  // Sampled often enough that a short test limit still sees a build at work.
  const samplePeriod = Math.min(BUILD_SAMPLE_MS, Math.max(250, Math.floor(limits.scriptTimeoutMs / 3)));
  const buildSampler = setInterval(() => build.sample(otherPids(spare)), samplePeriod);
  const seconds = (ms: number): number => Math.round(ms / 1000);
  const startedMs = Date.now();
  let extended = false;
  const deadline = (): void => {
    const elapsed = Date.now() - startedMs;
    const compiling = Date.now() - build.lastWork <= limits.buildIdleMs;
    if (compiling && elapsed < limits.buildTimeoutMs) {
      extended = true;
      timeout = setTimeout(deadline, Math.min(samplePeriod, limits.buildTimeoutMs - elapsed));
      return;
    }
    let message = `did not finish within ${seconds(limits.scriptTimeoutMs)} s`;
    if (extended && compiling) {
      message = `did not finish within ${seconds(limits.buildTimeoutMs)} s, the limit for a script still compiling (${seconds(limits.scriptTimeoutMs)} s for others)`;
    } else if (extended) {
      message += `, nor in the ${seconds(elapsed - limits.scriptTimeoutMs)} s more it was given while it compiled: it stopped compiling ${seconds(Date.now() - build.lastWork)} s before`;
    }
    stop('timeout', message);
  };
  let timeout = setTimeout(deadline, limits.scriptTimeoutMs);

  const onOutput = (capture: OutputCapture) => (chunk: Buffer) => {
    capture.add(chunk);
    if (stdout.bytes + stderr.bytes > limits.outputLimitBytes) {
      stop('killed', `printed more than ${Math.round(limits.outputLimitBytes / 1048576)} MiB of output`);
    }
  };
  child.stdout!.on('data', onOutput(stdout));
  child.stdio[3]!.on('data', onOutput(stderr as OutputCapture));

  let pending = '';
  const onTraceLine = (line: string): void => {
    build.onTraceLine(line);
    if (rootPid === null) {
      const pid = /^(\d+) /.exec(line);
      if (pid) rootPid = Number(pid[1]);
    }
    const end = ROOT_EXIT.exec(line);
    if (end && Number(end[1]) === rootPid && rootEndedAt === null) {
      rootEndedAt = now();
      exitCode = end[2] !== undefined ? Number(end[2]) : null;
      signal = end[3] ?? null;
      // Whatever is still running now outlived its script: watch it for the grace period, then end it.
      graceTimer = setTimeout(() => stop(null, 'processes outlived the script'), limits.graceMs);
    }
  };
  trace.reader.on('data', (chunk: Buffer) => {
    traceBytes += chunk.length;
    if (traceBytes > limits.traceLimitBytes) {
      stop('sandbox-error', `produced more than ${Math.round(limits.traceLimitBytes / 1048576)} MiB of trace`);
      return;
    }
    const text = pending + chunk.toString('utf8');
    const lines = text.split('\n');
    pending = lines.pop() ?? '';
    if (lines.length === 0) return;
    let out = '';
    for (const line of lines) {
      onTraceLine(line);
      out += `T ${script.id} ${line}\n`;
    }
    process.stdout.write(out);
  });

  const drained = (stream: Readable | null, capMs = 2000): Promise<void> => {
    if (!stream || stream.closed || stream.destroyed) return Promise.resolve();
    return Promise.race([once(stream, 'close').then(() => undefined), new Promise<void>((r) => setTimeout(r, capMs).unref())]);
  };
  // The trace closes as soon as the tracer exits, which it does once every tracee is gone (all
  // are killed below). On a loaded machine a fork bomb's backlog took more than 2 s to come
  // through, and the exits at its end were lost: wait for it longer.
  const traceEnded = drained(trace.reader, 15_000);
  return new Promise((resolve) => {
    // 'exit', not 'close': a script that killed the tracer leaves processes holding its pipes open.
    child.on('exit', async (code, sig) => {
      clearTimeout(timeout);
      clearInterval(buildSampler);
      if (graceTimer) clearTimeout(graceTimer);
      await killing;
      // Leftovers must not run on into the next script.
      const leftovers = await killAll(spare);
      killedPids = killedPids.concat(leftovers);
      // What /proc says once the sweep is done: the ground truth a lossy trace is checked against.
      const survivors = otherPids(spare).length;
      await Promise.all([traceEnded, drained(child.stdout), drained(child.stdio[3] as Readable)]);
      if (pending) {
        onTraceLine(pending);
        process.stdout.write(`T ${script.id} ${pending}\n`);
      }
      if (rootPid === null) {
        outcome = 'sandbox-error';
        reason = `the tracer did not start the script (strace exit ${code ?? sig}): ${stderr.result().head.slice(0, 300)}`;
      } else if (rootEndedAt === null && outcome === null) {
        outcome = 'sandbox-error';
        reason = `the tracer ended before the script (strace exit ${code ?? sig})`;
      }
      if (outcome === null) outcome = exitCode === 0 ? 'ok' : 'failed';
      emit({
        type: 'script-end',
        id: script.id,
        time: now(),
        rootEndedAt: rootEndedAt ?? now(),
        rootPid,
        exitCode,
        signal,
        outcome,
        ...(reason !== undefined ? { reason } : {}),
        killedPids,
        survivors,
        stdout: stdout.result(),
        stderr: stderr.result(),
        traceBytes,
      });
      resolve();
    });
  });
}

/**
 * The plan arrives as the first line on stdin, never as a file: a file in the sandbox would
 * tell every script which values are decoys. Nothing of it is ever on disk.
 */
async function readPlan(): Promise<RunPlan> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    const buf = chunk as Buffer;
    const end = buf.indexOf(0x0a);
    chunks.push(end === -1 ? buf : buf.subarray(0, end));
    if (end !== -1) break;
  }
  process.stdin.destroy();
  // Decoded once at the end: a character split across two chunks must not be mangled.
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) throw new Error('no plan on stdin');
  return JSON.parse(text) as RunPlan;
}

/** A file's identity before the scripts ran: ctime moves on every write or chmod and no script can set it. */
type Snapshot = Map<string, string>;

/**
 * Every entry of a package folder but its own node_modules (other packages live there). For the
 * project itself (`project`), no node_modules at any depth (workspaces have their own) and no
 * .git: those are never outputs of its scripts.
 */
function snapshot(dir: string, project = false): Snapshot {
  const out: Snapshot = new Map();
  const skip = (rel: string, name: string): boolean => (project ? name === 'node_modules' || rel === '.git' : rel === 'node_modules');
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (skip(child, entry.name)) continue;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(dir, child));
      } catch {
        continue;
      }
      out.set(child, `${st.ino}:${st.ctimeMs}:${st.size}:${st.mode}`);
      if (st.isDirectory()) walk(child);
    }
  };
  walk('');
  return out;
}

/** Same as the protocol's OUTPUT_CHUNK_BYTES (this file cannot import it). */
const OUTPUT_CHUNK_BYTES = 48 * 1024;

/**
 * Streams what the package's scripts left in its own folder: new or changed files and links
 * (new empty folders too), as a tar in `O` lines, then an `outputs` message. The host checks
 * every entry again before anything lands (src/install/outputs.ts).
 */
function exportOutputs(plan: RunPlan, index: number, before: Snapshot, maxBytes: number): void {
  const pkg = plan.packages[index]!;
  const dir = path.join(plan.projectDir, pkg.location);
  const after = snapshot(dir, pkg.location === '');
  const changed: string[] = [];
  for (const [rel, id] of after) {
    if (before.get(rel) === id) continue;
    // A changed folder only means its listing changed; its new entries are listed themselves.
    if (before.has(rel) && fs.lstatSync(path.join(dir, rel)).isDirectory()) continue;
    changed.push(rel);
  }
  const removed = [...before.keys()].filter((rel) => !after.has(rel));
  const fail = (error: string): void => emit({ type: 'outputs', index, bytes: 0, sha256: '', removed, error });
  // Hard links (node-gyp links Release/x.node to obj.target/x.node) go as plain files: the
  // host refuses link entries, which could point anywhere.
  let tarBytes = Buffer.alloc(0);
  if (changed.length > 0) {
    const made = spawnSync('tar', ['-c', '-f', '-', '--hard-dereference', '-C', dir, '--no-recursion', '--null', '-T', '-'], {
      input: changed.join('\0') + '\0',
      maxBuffer: maxBytes + 1024 * 1024,
    });
    if (made.error) return fail(`tar of the build outputs failed: ${made.error.message}`);
    if (made.status !== 0) return fail(`tar of the build outputs failed: ${String(made.stderr).trim().slice(0, 300)}`);
    tarBytes = made.stdout;
    if (tarBytes.length > maxBytes) return fail(`build outputs are ${tarBytes.length} bytes, more than the ${maxBytes} allowed`);
  }
  for (let at = 0; at < tarBytes.length; at += OUTPUT_CHUNK_BYTES) {
    process.stdout.write(`O ${index} ${tarBytes.subarray(at, at + OUTPUT_CHUNK_BYTES).toString('base64')}\n`);
  }
  const sha256 = createHash('sha256').update(tarBytes).digest('hex');
  emit({ type: 'outputs', index, bytes: tarBytes.length, sha256, removed });
}

async function main(): Promise<void> {
  // What `ps` shows for npm while it runs install scripts.
  process.title = 'npm install';
  const plan = await readPlan();
  const started = Date.now();
  layOut(plan);
  // Taken after layOut: extraction and bin linking are npm's doing, not the scripts'.
  const before = new Map<number, Snapshot>();
  if (plan.exportOutputs) {
    plan.packages.forEach((pkg, index) => {
      if (pkg.scripts.length > 0) before.set(index, snapshot(path.join(plan.projectDir, pkg.location), pkg.location === ''));
    });
  }
  emit({ type: 'ready', extractMs: Date.now() - started, time: now() });
  const byId = new Map(plan.packages.flatMap((pkg) => pkg.scripts.map((script) => [script.id, { pkg, script }] as const)));
  for (const id of plan.order) {
    const entry = byId.get(id);
    if (!entry) continue;
    try {
      await runScript(plan, entry.pkg, entry.script);
    } catch (err) {
      emit({ type: 'error', message: err instanceof Error ? err.message : String(err), scriptId: id });
    }
  }
  if (plan.exportOutputs) {
    for (const [index, snap] of before) {
      try {
        exportOutputs(plan, index, snap, plan.exportOutputs.maxBytes);
      } catch (err) {
        emit({ type: 'outputs', index, bytes: 0, sha256: '', removed: [], error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  emit({ type: 'done', time: now() });
  // Stray handles of killed scripts must not keep the sandbox alive. Exit once stdout is
  // flushed: a pipe to Docker can be asynchronous, and the outputs are megabytes.
  process.stdout.write('', () => process.exit(0));
}

main().catch((err: unknown) => {
  emit({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 3;
});
