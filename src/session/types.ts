/**
 * The session chain: everything the install-time code of a scan did, as typed data.
 * Every stage after the sandbox (rules, policy, report, record) reads only these types.
 *
 * Event ids are unique within one session and stable in the JSON report, so findings can
 * cite them as evidence: processes `p<N>`, file events `f<N>`, network attempts `n<N>`,
 * DNS queries `d<N>`, scripts `s<N>`.
 */

/** npm runs these, in this order, for every dependency that is installed. */
export const LIFECYCLE_EVENTS = ['preinstall', 'install', 'postinstall'] as const;
/**
 * What `npm install` (no package names) runs for the project itself, after every dependency's
 * scripts, in this order (npm's lib/commands/install.js). Only the project (location `''`) has
 * these; with `--sandbox-root` they run in the sandbox, at the end of the session.
 */
export const PROJECT_LIFECYCLE_EVENTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'] as const;
export type LifecycleEvent = (typeof PROJECT_LIFECYCLE_EVENTS)[number];

/**
 * What npm runs for each of the project's workspaces on every install (arborist's rebuild of the
 * links from the root), in this order: after every dependency's scripts, before the project's own.
 */
export const WORKSPACE_LIFECYCLE_EVENTS = ['preinstall', 'prepare', 'install', 'postinstall'] as const;

/** A script of the project's own (`dir` '') or of one of its workspaces (run in that folder). */
export interface ProjectScript {
  /** Its folder, relative to the project: '' for the project itself. */
  dir: string;
  name: string;
  version: string;
  event: LifecycleEvent;
  command: string;
  /** `install` is npm's implicit `node-gyp rebuild`. */
  implicit: boolean;
}

/** The events a package at `location` runs at install time: the project's own, or a dependency's. */
export function lifecycleEventsOf(location: string): readonly LifecycleEvent[] {
  return location === '' ? PROJECT_LIFECYCLE_EVENTS : LIFECYCLE_EVENTS;
}

/** A package as resolved and fetched on the host (nothing of it executed). */
export interface PackageInfo {
  name: string;
  version: string;
  /** Subresource integrity of the tarball, verified when it was fetched. */
  integrity: string;
  /** Where it came from: a registry URL, `file:` path, or git URL. */
  resolved: string;
  /**
   * Its folder relative to the project root, e.g. `node_modules/a/node_modules/b`; `''` for the
   * project itself (`--sandbox-root`).
   */
  location: string;
  /** The install-time scripts as npm would run them (incl. an implicit `node-gyp rebuild`). */
  scripts: Partial<Record<LifecycleEvent, string>>;
  /** True when `install` is npm's implicit `node-gyp rebuild` (binding.gyp, no install/preinstall script). */
  implicitNodeGyp: boolean;
  /**
   * The project only (location `''`, `--sandbox-root`): every script of its own, its workspaces'
   * included (its folder is theirs), in the order its package manager runs them. When present,
   * this is what runs; `scripts` shows the project's own events.
   */
  projectScripts?: ProjectScript[];
  /**
   * The install-time scripts of the version published before this one, computed the same way as
   * `scripts`; null when there is none (a first release), absent when it was not looked up.
   */
  previousScripts?: Partial<Record<LifecycleEvent, string>> | null;
  /** Locations of the packages this one depends on (edges out), for ordering and display. */
  dependencies: string[];
  /**
   * Path of the verified tarball on the host. Absent for a package that is already in place in
   * the project's tarball (`--sandbox-root` lays out the whole installed tree that way).
   */
  tarball?: string;
}

export type ScriptOutcome = 'ok' | 'failed' | 'timeout' | 'killed' | 'sandbox-error' | 'skipped';

export interface CapturedOutput {
  /** Total bytes the stream produced. */
  bytes: number;
  /** The first bytes (capped), as UTF-8 text. */
  head: string;
  truncated: boolean;
}

/** One lifecycle script (or implicit node-gyp build) as it ran in the sandbox. */
export interface ScriptRun {
  id: string;
  /** `location` of the package it belongs to. */
  packageLocation: string;
  event: LifecycleEvent;
  command: string;
  implicit: boolean;
  /** Absolute path inside the sandbox. */
  cwd: string;
  startedAt: number;
  endedAt: number;
  exitCode: number | null;
  signal: string | null;
  outcome: ScriptOutcome;
  /** Why the sandbox stopped it or failed, when outcome is timeout/killed/sandbox-error. */
  reason?: string;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  /** Process id (`p<N>`) of the script's top process. */
  rootProcess: string | null;
}

/** An image a process ran: one entry per successful execve. */
export interface ExecImage {
  time: number;
  path: string;
  argv: string[];
}

export interface ProcessEvent {
  id: string;
  scriptId: string;
  pid: number;
  /** The parent's event id; null for the script's top process. */
  parentId: string | null;
  /** The last image it ran (argv of the last successful execve, or inherited from the parent). */
  argv: string[];
  exe: string | null;
  images: ExecImage[];
  /** Working directory when it started (absolute, sandbox paths). */
  cwd: string;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Still running when its script's top process exited. */
  outlivedScript: boolean;
  /** Ended by the sandbox (grace period over, timeout, limits). */
  killedBySandbox: boolean;
  /** Called setsid/daemon-like detaching. */
  detached: boolean;
  /** File descriptors 0-2 that were replaced by sockets (dup2/dup3 onto stdio). */
  stdioSockets?: { fd: number; socket: string; time: number }[];
  /** Calls that change identity or privileges, or reach into other processes (setuid*, capset, ptrace, prctl, kill of others). */
  privilegeCalls?: PrivilegeCall[];
}

export interface PrivilegeCall {
  time: number;
  syscall: string;
  /** The arguments as strace printed them. */
  args: string;
  result: string;
}

export type FileOperation =
  | 'read'
  | 'write'
  | 'create'
  | 'delete'
  | 'rename'
  | 'chmod'
  | 'exec'
  | 'mkdir'
  | 'link'
  | 'probe';

export interface FileEvent {
  id: string;
  scriptId: string;
  processId: string;
  time: number;
  op: FileOperation;
  /** Absolute path inside the sandbox. For a successful open, the file actually opened (after symlinks). */
  path: string;
  /** The path the call asked for, when symlinks made it differ from `path`. */
  requestedPath?: string;
  /** Destination of a rename or link, target of a symlink. */
  target?: string;
  /** The syscall as traced, e.g. `openat`. */
  syscall: string;
  /** `ok` or the errno name, e.g. `ENOENT`. */
  result: string;
  /** Mode for chmod/create, as an octal string. */
  mode?: string;
}

export type SocketFamily = 'inet' | 'inet6' | 'unix' | 'netlink' | 'other';

/** A network attempt seen by the tracer (connect/sendto/bind...). */
export interface ConnectionEvent {
  id: string;
  scriptId: string;
  processId: string;
  time: number;
  syscall: string;
  family: SocketFamily;
  protocol: 'tcp' | 'udp' | 'raw' | null;
  /** IP address or unix socket path. */
  address: string;
  port: number | null;
  /** `ok`, `EINPROGRESS` or the errno name, e.g. `ENETUNREACH`. */
  result: string;
  /** Host name the address came from, when the monitored network knows it. */
  hostname?: string;
  /** Payload bytes seen by the tracer (sendto/sendmsg), capped, as latin1-safe escaped text. */
  payload?: string;
  /** Filled by the monitored network: what the sinkhole saw on this connection. */
  observed?: ObservedTraffic;
}

export interface ObservedTraffic {
  protocol: 'http' | 'https' | 'tls' | 'dns' | 'raw';
  /**
   * The first bytes the client sent (base64, at most 4 KiB): decrypted after a TLS handshake
   * that succeeded; for one that did not, everything it sent on the wire.
   */
  firstBytes?: string;
  sni?: string;
  /** The TLS handshake with the sinkhole: `ok` when the client accepted its certificate, so the stream was decrypted. */
  tls?: { handshake: 'ok' | 'failed' | 'incomplete'; error?: string };
  http?: {
    method: string;
    host: string;
    path: string;
    headers: Record<string, string>;
    body: string;
    bodyBytes: number;
    truncated: boolean;
  };
  bytesReceived?: number;
  /** The policy allowed this destination and the connection reached the real host through the forwarding proxy. */
  forwarded?: { ok: boolean; error?: string; bytesFromHost: number };
}

export interface DnsEvent {
  id: string;
  scriptId: string;
  processId: string | null;
  time: number;
  name: string;
  type: string;
  answers: string[];
}

export interface PackageSession {
  scripts: ScriptRun[];
  processes: ProcessEvent[];
  files: FileEvent[];
  dns: DnsEvent[];
  connections: ConnectionEvent[];
  /** How many uninteresting events (loader, library and toolchain reads) were folded away. */
  suppressed: { files: number };
}

export interface SandboxInfo {
  image: string;
  imageId: string;
  containerId?: string;
  network: 'none' | 'monitored';
}

/**
 * A decoy secret planted in the sandbox: a value unique to this scan, so seeing it in any
 * egress proves where the data came from.
 */
export interface Canary {
  id: string;
  /** The secret value itself (a token, key, password): what exfiltration detection looks for. */
  value: string;
  /** Where it was planted: an absolute sandbox path, or `env:NAME`. */
  source: string;
  /** What it imitates, e.g. `npm token`, `ssh private key`, `aws secret key`. */
  kind: string;
}

/** A whole scan: every package of the tree, and what the scripts of each did. */
export interface SessionChain {
  id: string;
  startedAt: number;
  endedAt: number;
  /** Absolute path of the realistic project inside the sandbox. */
  projectDir: string;
  sandbox: SandboxInfo | null;
  packages: { info: PackageInfo; session: PackageSession }[];
  /** Faults of the sandbox as a whole (container died, limits), not of one script. */
  errors: { message: string; scriptId?: string }[];
  /** Decoy secrets planted in the sandbox for this scan (empty when no sandbox ran). */
  canaries: Canary[];
}

export function emptyPackageSession(): PackageSession {
  return { scripts: [], processes: [], files: [], dns: [], connections: [], suppressed: { files: 0 } };
}
