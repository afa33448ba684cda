/**
 * Hand-built session chains for rule and report tests: realistic ids, times and sandbox paths,
 * without a sandbox. Each helper returns the event it added so tests can cite its id.
 */
import { EventIds } from '../../src/session/ids.js';
import { SANDBOX_HOME, SANDBOX_PROJECT_DIR } from '../../src/sandbox/layout.js';
import {
  emptyPackageSession,
  type Canary,
  type ConnectionEvent,
  type DnsEvent,
  type FileEvent,
  type FileOperation,
  type LifecycleEvent,
  type PackageInfo,
  type PackageSession,
  type ProcessEvent,
  type ScriptRun,
  type SessionChain,
} from '../../src/session/types.js';

export const HOME = SANDBOX_HOME;
export const PROJECT = SANDBOX_PROJECT_DIR;

export class ChainBuilder {
  readonly ids = new EventIds();
  readonly chain: SessionChain;
  private clock = 1_700_000_000;

  constructor() {
    this.chain = {
      id: 'session-test',
      startedAt: this.clock,
      endedAt: this.clock,
      projectDir: PROJECT,
      sandbox: { image: 'safe-install-sandbox:test', imageId: 'sha256:abc', containerId: 'c0ffee', network: 'monitored' },
      packages: [],
      errors: [],
      canaries: [],
    };
  }

  tick(seconds = 0.01): number {
    this.clock = Math.round((this.clock + seconds) * 1000) / 1000;
    this.chain.endedAt = this.clock;
    return this.clock;
  }

  pkg(name: string, version = '1.0.0', opts: { location?: string; scripts?: PackageInfo['scripts'] } = {}): PackageBuilder {
    const info: PackageInfo = {
      name,
      version,
      integrity: `sha512-${Buffer.from(name).toString('base64')}`,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz`,
      location: opts.location ?? `node_modules/${name}`,
      scripts: opts.scripts ?? {},
      implicitNodeGyp: false,
      dependencies: [],
      tarball: `/tmp/tarballs/${name}-${version}.tgz`,
    };
    const session = emptyPackageSession();
    this.chain.packages.push({ info, session });
    return new PackageBuilder(this, info, session);
  }

  /** Plants a decoy value, as the sandbox's decoy home does. */
  canary(value: string, source: string, kind = 'npm token'): Canary {
    const canary: Canary = { id: `c${this.chain.canaries.length + 1}`, value, source, kind };
    this.chain.canaries.push(canary);
    return canary;
  }

  build(): SessionChain {
    return this.chain;
  }
}

export class PackageBuilder {
  constructor(
    readonly owner: ChainBuilder,
    readonly info: PackageInfo,
    readonly session: PackageSession,
  ) {}

  get dir(): string {
    return `${PROJECT}/${this.info.location}`;
  }

  /** A lifecycle script whose root process is npm's `sh -c '<command>'` wrapper. */
  script(event: LifecycleEvent, command: string, opts: Partial<ScriptRun> & { wrapperExecs?: string[] } = {}): ScriptBuilder {
    this.info.scripts[event] ??= command;
    const { wrapperExecs, ...overrides } = opts;
    const run: ScriptRun = {
      id: this.owner.ids.next('s'),
      packageLocation: this.info.location,
      event,
      command,
      implicit: false,
      cwd: this.dir,
      startedAt: this.owner.tick(),
      endedAt: 0,
      exitCode: 0,
      signal: null,
      outcome: 'ok',
      stdout: { bytes: 0, head: '', truncated: false },
      stderr: { bytes: 0, head: '', truncated: false },
      rootProcess: null,
      ...overrides,
    };
    this.session.scripts.push(run);
    const builder = new ScriptBuilder(this, run);
    const root = builder.process(['sh', '-c', command], { exe: '/bin/sh', parent: null });
    // dash execs the last command of `sh -c`, so the wrapper process usually ends up as node.
    if (wrapperExecs) builder.exec(root, wrapperExecs);
    run.rootProcess = root.id;
    builder.root = root;
    return builder;
  }
}

export class ScriptBuilder {
  root!: ProcessEvent;

  constructor(
    readonly pkg: PackageBuilder,
    readonly run: ScriptRun,
  ) {}

  private get owner(): ChainBuilder {
    return this.pkg.owner;
  }

  process(argv: string[], opts: Partial<ProcessEvent> & { parent?: ProcessEvent | null } = {}): ProcessEvent {
    const { parent, ...overrides } = opts;
    const time = this.owner.tick();
    const exe = overrides.exe ?? (argv[0]?.startsWith('/') ? argv[0] : `/usr/bin/${argv[0]}`);
    const process: ProcessEvent = {
      id: this.owner.ids.next('p'),
      scriptId: this.run.id,
      pid: 100 + this.pkg.session.processes.length,
      parentId: parent === undefined ? (this.root?.id ?? null) : parent === null ? null : parent.id,
      argv,
      exe,
      images: [{ time, path: exe, argv }],
      cwd: this.pkg.dir,
      startedAt: time,
      endedAt: time + 0.05,
      exitCode: 0,
      signal: null,
      outlivedScript: false,
      killedBySandbox: false,
      detached: false,
      ...overrides,
    };
    this.pkg.session.processes.push(process);
    this.run.endedAt = Math.max(this.run.endedAt, time + 0.42);
    return process;
  }

  exec(process: ProcessEvent, argv: string[], path = `/usr/local/bin/${argv[0]}`): void {
    process.images.push({ time: this.owner.tick(), path, argv });
    process.argv = argv;
    process.exe = path;
  }

  file(process: ProcessEvent, op: FileOperation, path: string, opts: Partial<FileEvent> = {}): FileEvent {
    const event: FileEvent = {
      id: this.owner.ids.next('f'),
      scriptId: this.run.id,
      processId: process.id,
      time: this.owner.tick(),
      op,
      path,
      syscall: op === 'read' || op === 'write' || op === 'create' ? 'openat' : op,
      result: 'ok',
      ...opts,
    };
    this.pkg.session.files.push(event);
    return event;
  }

  connect(process: ProcessEvent, address: string, port: number | null, opts: Partial<ConnectionEvent> = {}): ConnectionEvent {
    const event: ConnectionEvent = {
      id: this.owner.ids.next('n'),
      scriptId: this.run.id,
      processId: process.id,
      time: this.owner.tick(),
      syscall: 'connect',
      family: address.includes(':') ? 'inet6' : 'inet',
      protocol: 'tcp',
      address,
      port,
      result: 'ENETUNREACH',
      ...opts,
    };
    this.pkg.session.connections.push(event);
    return event;
  }

  dns(process: ProcessEvent | null, name: string, answers: string[] = [], type = 'A'): DnsEvent {
    const event: DnsEvent = {
      id: this.owner.ids.next('d'),
      scriptId: this.run.id,
      processId: process?.id ?? null,
      time: this.owner.tick(),
      name,
      type,
      answers,
    };
    this.pkg.session.dns.push(event);
    return event;
  }
}

/** Every event id in a chain: findings may cite only these. */
export function allEventIds(chain: SessionChain): Set<string> {
  const ids = new Set<string>();
  for (const { session } of chain.packages) {
    for (const list of [session.scripts, session.processes, session.files, session.dns, session.connections]) {
      for (const event of list) ids.add(event.id);
    }
  }
  return ids;
}
