/**
 * One hardened container per scan: no capabilities, no new privileges, read-only root, tmpfs
 * for the home and temp dirs, pids/memory/CPU limits, no network, no Docker socket, and only
 * the verified tarballs mounted, read-only. The runner inside streams the trace back on stdout.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { SafeInstallError, describe } from '../errors/index.js';
import { onCleanup } from './cleanup.js';
import { ownerLabels } from './owner.js';
import { writeCaBundle } from './sinkhole-container.js';
import { SANDBOX_HOME, SANDBOX_HOSTNAME, SANDBOX_INPUT_DIR, SANDBOX_UID } from './layout.js';
import { MESSAGE_LINE_PREFIX, OUTPUT_LINE_PREFIX, TRACE_LINE_PREFIX, type RunPlan, type RunnerMessage } from './protocol.js';

export interface SandboxLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** Size of the writable home (project, node_modules, build outputs). */
  homeBytes: number;
  tmpBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 4 * 1024 ** 3,
  cpus: 2,
  pids: 512,
  homeBytes: 4 * 1024 ** 3,
  tmpBytes: 1024 ** 3,
};

export interface ScriptResult {
  start: Extract<RunnerMessage, { type: 'script-start' }>;
  end: Extract<RunnerMessage, { type: 'script-end' }> | null;
  lines: string[];
}

export interface ContainerRun {
  containerId: string;
  scripts: Map<string, ScriptResult>;
  /** The runner's own errors, and faults of the container as a whole. */
  errors: { message: string; scriptId?: string }[];
  finished: boolean;
  /** Build outputs by package index in the plan, when the plan asked for them (`exportOutputs`). */
  outputs: Map<number, PackageOutputs>;
}

/** What one package's scripts left in its folder, as exported by the runner. */
export interface PackageOutputs {
  /** A tar relative to the package folder; empty when nothing was created or changed. */
  tar: Buffer;
  /** Files of its tarball its scripts deleted. */
  removed: string[];
  /** The runner could not export them, or they arrived damaged: unusable. */
  error?: string;
}

export interface RunContainerOptions {
  image: string;
  plan: RunPlan;
  /** Host paths of the tarballs, by the file name the plan gives them. */
  tarballs: Map<string, string>;
  limits?: SandboxLimits;
  hostname?: string;
  /** The monitored network to join; without it the sandbox has no network at all. */
  network?: { sinkholeId: string; ca: string };
  onMessage?: (msg: RunnerMessage) => void;
}

const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Host temp folder of the bundle mounted over the system one; its name shows in the sandbox's mount table. */
export const CA_DIR_PREFIX = 'ca-certificates-';

/** Every TLS stack the scripts may use, pointed at the bundle that also trusts the sinkhole's CA. */
const CA_ENV = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'PIP_CERT', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO'];

export async function runContainer(docker: Docker, opts: RunContainerOptions): Promise<ContainerRun> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const { dir: inputDir, plan: inputPlan } = prepareInput(opts.plan, opts.tarballs);
  const binds = [`${inputDir}:${SANDBOX_INPUT_DIR}:ro`];
  const env = { ...opts.plan.env };
  let caDir: string | undefined;
  if (opts.network) {
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), CA_DIR_PREFIX));
    fs.chmodSync(caDir, 0o755);
    binds.push(`${writeCaBundle(caDir, opts.network.ca)}:${SYSTEM_CA_BUNDLE}:ro`);
    for (const name of CA_ENV) env[name] = SYSTEM_CA_BUNDLE;
  }
  // The scripts' environment is the plan's (the runner builds it from plan.env), not the
  // container's: without these there, node (which ignores the system store) refused the
  // sinkhole's certificate and what it sent over TLS was never seen.
  const runnerPlan: RunPlan = { ...inputPlan, env };
  const sessionLabel = crypto.randomUUID();
  let container: Docker.Container | undefined;
  const dispose = async (): Promise<void> => {
    if (container) await container.remove({ force: true, v: true }).catch(() => undefined);
    // Unlistable on purpose (prepareInput); only root could remove it as it is.
    fs.chmodSync(inputDir, 0o700);
    fs.rmSync(inputDir, { recursive: true, force: true });
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
  };
  const unregister = onCleanup(dispose);
  try {
    try {
      container = await docker.createContainer({
        Image: opts.image,
        // tini as /sbin/init (see the Dockerfile): /proc/1 then reads "init", not "docker-init".
        Cmd: ['/sbin/init', '--', 'node', '/usr/local/lib/si/runner.mjs'],
        User: `${SANDBOX_UID}:${SANDBOX_UID}`,
        WorkingDir: SANDBOX_HOME,
        // Joining the sinkhole's namespace, the sandbox takes its hostname, resolv.conf and hosts.
        ...(opts.network ? {} : { Hostname: opts.hostname ?? SANDBOX_HOSTNAME }),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        OpenStdin: true,
        StdinOnce: true,
        Tty: false,
        Labels: { 'org.safe-install.session': sessionLabel, ...ownerLabels() },
        HostConfig: {
          Binds: binds,
          NetworkMode: opts.network ? `container:${opts.network.sinkholeId}` : 'none',
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ReadonlyRootfs: true,
          Init: false,
          Tmpfs: {
            [SANDBOX_HOME]: `rw,exec,nosuid,nodev,size=${limits.homeBytes},uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0755`,
            '/tmp': `rw,exec,nosuid,nodev,size=${limits.tmpBytes},mode=1777`,
            '/var/tmp': `rw,exec,nosuid,nodev,size=${limits.tmpBytes},mode=1777`,
            '/run': 'rw,noexec,nosuid,nodev,size=16m,mode=0755',
          },
          PidsLimit: limits.pids,
          Memory: limits.memoryBytes,
          MemorySwap: limits.memoryBytes,
          NanoCpus: Math.round(limits.cpus * 1e9),
          Ulimits: [{ Name: 'nofile', Soft: 4096, Hard: 4096 }],
          LogConfig: { Type: 'none', Config: {} },
          IpcMode: 'private',
          // A private cgroup namespace: /proc/self/cgroup reads "/" instead of naming the container.
          CgroupnsMode: 'private',
        } as Docker.HostConfig,
      });
    } catch (err) {
      throw new SafeInstallError('E_SANDBOX', `could not create the sandbox container: ${describe(err)}`, 'run `safe-install setup` to rebuild the sandbox image, and check `docker info`', {
        cause: err,
      });
    }
    return await attachAndRun(docker, container, { ...opts, plan: runnerPlan }, limits);
  } finally {
    unregister();
    await dispose();
  }
}

/** Prefix of the host folder of a container's inputs (in the OS temp dir). */
export const INPUT_DIR_PREFIX = 'npm-tarballs-';

/**
 * The tarballs under random names in a folder that can be entered but not listed (0111, and
 * the read-only mount stops even an owner from changing that): the runner opens them by the
 * names the plan gives it, a script cannot find them. The plan itself goes over stdin. The
 * host folder's name shows in /proc/self/mountinfo, hence a bland one.
 */
function prepareInput(plan: RunPlan, tarballs: Map<string, string>): { dir: string; plan: RunPlan } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), INPUT_DIR_PREFIX));
  const names = new Map<string, string>();
  for (const [name, hostPath] of tarballs) {
    const hidden = `${crypto.randomBytes(16).toString('hex')}${path.extname(name)}`;
    names.set(name, hidden);
    const dest = path.join(dir, hidden);
    try {
      fs.linkSync(hostPath, dest);
    } catch {
      fs.copyFileSync(hostPath, dest);
    }
    fs.chmodSync(dest, 0o644);
  }
  fs.chmodSync(dir, 0o111);
  return { dir, plan: { ...plan, packages: plan.packages.map((p) => (p.tarball === undefined ? p : { ...p, tarball: names.get(p.tarball) ?? p.tarball })) } };
}

/** The longest a whole session may take before the container is killed from outside. */
function sessionDeadlineMs(plan: RunPlan): number {
  const scripts = plan.packages.reduce((n, p) => n + p.scripts.length, 0);
  const perScript = Math.max(plan.limits.scriptTimeoutMs, plan.limits.buildTimeoutMs);
  return 60_000 + scripts * (perScript + plan.limits.graceMs + 10_000);
}

async function attachAndRun(docker: Docker, container: Docker.Container, opts: RunContainerOptions, limits: SandboxLimits): Promise<ContainerRun> {
  const run: ContainerRun = { containerId: container.id, scripts: new Map(), errors: [], finished: false, outputs: new Map() };
  const outputChunks = new Map<number, Buffer[]>();
  // Hijacked, so the plan can go in on stdin (see prepareInput).
  const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadWriteStream;
  // A runner that died early resets the socket; wait() and the missing `done` report that.
  stream.on('error', () => undefined);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  let runnerStderr = '';
  stderr.on('data', (chunk: Buffer) => {
    if (runnerStderr.length < 8192) runnerStderr += chunk.toString('utf8');
  });

  let pending = '';
  const onLine = (line: string): void => {
    if (line.startsWith(TRACE_LINE_PREFIX)) {
      const space = line.indexOf(' ', TRACE_LINE_PREFIX.length);
      const id = line.slice(TRACE_LINE_PREFIX.length, space);
      run.scripts.get(id)?.lines.push(line.slice(space + 1));
      return;
    }
    if (line.startsWith(OUTPUT_LINE_PREFIX)) {
      const space = line.indexOf(' ', OUTPUT_LINE_PREFIX.length);
      const index = Number(line.slice(OUTPUT_LINE_PREFIX.length, space));
      let chunks = outputChunks.get(index);
      if (!chunks) outputChunks.set(index, (chunks = []));
      chunks.push(Buffer.from(line.slice(space + 1), 'base64'));
      return;
    }
    if (!line.startsWith(MESSAGE_LINE_PREFIX)) return;
    let msg: RunnerMessage;
    try {
      msg = JSON.parse(line.slice(MESSAGE_LINE_PREFIX.length)) as RunnerMessage;
    } catch {
      run.errors.push({ message: 'the sandbox runner sent a malformed message' });
      return;
    }
    if (msg.type === 'script-start') run.scripts.set(msg.id, { start: msg, end: null, lines: [] });
    else if (msg.type === 'script-end') {
      const script = run.scripts.get(msg.id);
      if (script) script.end = msg;
    } else if (msg.type === 'error') run.errors.push({ message: msg.message, ...(msg.scriptId ? { scriptId: msg.scriptId } : {}) });
    else if (msg.type === 'done') run.finished = true;
    else if (msg.type === 'outputs') {
      const tar = Buffer.concat(outputChunks.get(msg.index) ?? []);
      outputChunks.delete(msg.index);
      const damaged = tar.length !== msg.bytes || crypto.createHash('sha256').update(tar).digest('hex') !== msg.sha256;
      const error = msg.error ?? (damaged ? 'the build outputs arrived damaged' : undefined);
      run.outputs.set(msg.index, { tar, removed: msg.removed, ...(error ? { error } : {}) });
    }
    opts.onMessage?.(msg);
  };
  stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });

  // demuxStream never ends its outputs: the attach stream's own end says the runner is done writing.
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  try {
    await container.start();
    stream.write(`${JSON.stringify(opts.plan)}\n`);
  } catch (err) {
    throw new SafeInstallError('E_SANDBOX', `could not start the sandbox container: ${describe(err)}`, 'check `docker info`; rebuild the image with `safe-install setup --rebuild`', {
      cause: err,
    });
  }
  const deadline = sessionDeadlineMs(opts.plan);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void container.kill().catch(() => undefined);
  }, deadline);
  try {
    const status = (await container.wait()) as { StatusCode: number };
    // Unref'd: a grace timer must not keep the CLI alive after the work is done.
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000).unref())]);
    if (pending) onLine(pending);
    if (timedOut) run.errors.push({ message: `the sandbox did not finish within ${Math.round(deadline / 1000)} s and was killed` });
    else if (status.StatusCode === 137) {
      const oom = ((await container.inspect()) as { State?: { OOMKilled?: boolean } }).State?.OOMKilled;
      run.errors.push({ message: oom ? `the sandbox ran out of memory (${Math.round(limits.memoryBytes / 1024 ** 2)} MiB)` : 'the sandbox was killed' });
    } else if (!run.finished) {
      const detail = runnerStderr.trim().split('\n').slice(-1)[0] ?? '';
      run.errors.push({ message: `the sandbox runner stopped before finishing (exit ${status.StatusCode})${detail ? `: ${detail}` : ''}` });
    }
  } finally {
    clearTimeout(timer);
  }
  return run;
}
