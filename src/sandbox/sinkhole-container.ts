/**
 * The monitored network of one scan: a sinkhole container that owns the network namespace
 * the sandbox joins. It answers every DNS name and every connection, records them, and has
 * no route off the machine (network none). It is the only container with a capability
 * (NET_ADMIN, to set its own namespace's routes and firewall); the sandbox has none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { SafeInstallError, describe } from '../errors/index.js';
import { onCleanup } from './cleanup.js';
import { ownerLabels } from './owner.js';
import { SANDBOX_RESOLVER, SANDBOX_UID } from './layout.js';
import { FORWARD_MOUNT, FORWARD_SOCKET_NAME } from './forwarder.js';
import type { SinkholeAllow, SinkholeEvent, SinkholeReady } from './sinkhole/protocol.js';

const READY_TIMEOUT_MS = 15_000;

export interface Sinkhole {
  id: string;
  ready: SinkholeReady;
  /** Stops the sinkhole, flushing what it still holds, and returns everything it recorded. */
  stop(): Promise<SinkholeEvent[]>;
}

export interface SinkholeOptions {
  /** Allowed destinations and the host folder of the forwarding proxy's socket (forwarder.ts). */
  forward?: { allow: SinkholeAllow[]; dir: string };
}

export async function startSinkhole(docker: Docker, image: string, hostname: string, opts: SinkholeOptions = {}): Promise<Sinkhole> {
  let container: Docker.Container;
  const forward = opts.forward && opts.forward.allow.length > 0 ? opts.forward : undefined;
  try {
    container = await docker.createContainer({
      Image: image,
      Cmd: ['node', '/usr/local/lib/si/sinkhole.mjs', '--uid', String(SANDBOX_UID)],
      Env: forward ? [`SINKHOLE_ALLOW=${JSON.stringify(forward.allow)}`, `SINKHOLE_FORWARD=${FORWARD_MOUNT}/${FORWARD_SOCKET_NAME}`] : [],
      User: '0',
      Hostname: hostname,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { 'org.safe-install.session': 'sinkhole', ...ownerLabels() },
      HostConfig: {
        NetworkMode: 'none',
        // What the sandbox sees too: the resolver of a systemd machine, and Debian's hosts line.
        Dns: [SANDBOX_RESOLVER],
        ExtraHosts: [`${hostname}:127.0.1.1`],
        CapDrop: ['ALL'],
        CapAdd: ['NET_ADMIN'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' },
        // Only with allowed egress: the folder holds the proxy's socket and nothing else.
        Binds: forward ? [`${forward.dir}:${FORWARD_MOUNT}`] : [],
        Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0', 'net.ipv6.conf.lo.disable_ipv6': '0' },
        Memory: 256 * 1024 ** 2,
        MemorySwap: 256 * 1024 ** 2,
        PidsLimit: 64,
        LogConfig: { Type: 'none', Config: {} },
      },
    });
  } catch (err) {
    throw new SafeInstallError('E_SANDBOX', `could not create the monitored network: ${describe(err)}`, 'check `docker info`; rebuild the image with `safe-install setup --rebuild`', {
      cause: err,
    });
  }
  const remove = async (): Promise<void> => {
    await container.remove({ force: true }).catch(() => undefined);
  };
  const unregister = onCleanup(remove);

  const events: SinkholeEvent[] = [];
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const stdout = new PassThrough();
  docker.modem.demuxStream(stream, stdout, new PassThrough());
  let pending = '';
  let onReady: ((ev: SinkholeReady) => void) | undefined;
  stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const ev = JSON.parse(line) as SinkholeEvent;
        events.push(ev);
        if (ev.type === 'ready') onReady?.(ev);
      } catch {
        events.push({ type: 'error', message: `unreadable sinkhole record: ${line.slice(0, 200)}` });
      }
    }
  });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });

  let ready: SinkholeReady;
  try {
    const readyPromise = new Promise<SinkholeReady>((resolve) => (onReady = resolve));
    await container.start();
    let timer: NodeJS.Timeout | undefined;
    ready = await Promise.race([
      readyPromise,
      ended.then(() => {
        throw new Error('it exited before it was ready');
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (err) {
    unregister();
    await remove();
    const said = events.find((e) => e.type === 'error');
    throw new SafeInstallError(
      'E_SANDBOX',
      `the monitored network did not start: ${describe(err)}${said && said.type === 'error' ? ` (${said.message})` : ''}`,
      'run `safe-install setup --rebuild`; the sinkhole needs iptables (nf_tables) support in the Docker host kernel',
      { cause: err },
    );
  }

  return {
    id: container.id,
    ready,
    async stop() {
      try {
        await container.stop({ t: 5 }).catch(() => undefined);
        await Promise.race([ended, new Promise((r) => setTimeout(r, 3000).unref())]);
        if (pending.trim()) stdout.emit('data', Buffer.from('\n'));
        return events;
      } finally {
        unregister();
        await remove();
      }
    },
  };
}

/**
 * The system CA bundle with the scan's CA appended: mounted over the sandbox's own bundle, so
 * curl, wget, git, python and (via NODE_EXTRA_CA_CERTS) node trust the sinkhole, while the
 * file looks like any machine's bundle.
 */
export function writeCaBundle(dir: string, ca: string): string {
  const file = path.join(dir, 'ca-certificates.crt');
  let system = '';
  try {
    system = fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
  } catch {
    // A host without a system bundle: the scan's CA alone still lets the sandbox talk TLS.
  }
  fs.writeFileSync(file, `${system}${system.endsWith('\n') || !system ? '' : '\n'}${ca.trim()}\n`, { mode: 0o644 });
  return file;
}
