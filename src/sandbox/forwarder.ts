/**
 * The forwarding proxy for allowed egress: the one way out of the monitored network, and only
 * for the destinations the policy names. It runs in safe-install's own process on the host and
 * listens on a unix socket in a private folder that is mounted into the sinkhole container only
 * (the sandbox shares the sinkhole's network, never its files, so it cannot reach the socket).
 *
 * The sinkhole sends one line, `{"host","port"}`, then the client's bytes; the proxy checks the
 * host against the same allowlist again (the sinkhole runs beside untrusted code), connects, and
 * answers `OK` or `ERR <reason>` before relaying both ways.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { HostPattern } from '../policy/hosts.js';
import { hostMatches } from '../policy/hosts.js';

/** Where the sinkhole container sees the proxy's folder. */
export const FORWARD_MOUNT = '/run/si-forward';
export const FORWARD_SOCKET_NAME = 'forward.sock';
export const FORWARD_DIR_PREFIX = 'safe-install-forward-';

const CONNECT_TIMEOUT_MS = 10_000;
const HEADER_CAP = 1024;

export interface ForwarderOptions {
  allow: HostPattern[];
  /**
   * Fixed addresses for names, like `curl --resolve`: the proxy connects there instead of
   * resolving the name (pinning a mirror; tests use it for a server on loopback).
   */
  resolve?: Record<string, string>;
}

export interface Forwarder {
  /** Host folder holding the socket, to mount at FORWARD_MOUNT. */
  dir: string;
  /** What the proxy was asked, in order: for the record, next to what the sinkhole saw. */
  requests: { host: string; port: number; result: string }[];
  stop(): Promise<void>;
}

export async function startForwarder(opts: ForwarderOptions): Promise<Forwarder> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), FORWARD_DIR_PREFIX));
  fs.chmodSync(dir, 0o700);
  const requests: Forwarder['requests'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    sockets.add(inbound);
    inbound.on('close', () => sockets.delete(inbound));
    inbound.on('error', () => undefined);
    readHeader(inbound, (header, rest) => {
      const target = parseHeader(header);
      if (!target || !opts.allow.some((pattern) => hostMatches(pattern, target.host, target.port))) {
        requests.push({ host: target?.host ?? '', port: target?.port ?? 0, result: 'refused' });
        inbound.end('ERR not allowed by the policy\n');
        return;
      }
      const entry = { host: target.host, port: target.port, result: 'connecting' };
      requests.push(entry);
      const outbound = net.connect({ host: opts.resolve?.[target.host] ?? target.host, port: target.port, timeout: CONNECT_TIMEOUT_MS });
      sockets.add(outbound);
      outbound.on('close', () => {
        sockets.delete(outbound);
        inbound.destroy();
      });
      outbound.on('timeout', () => outbound.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      outbound.on('error', (err: Error & { code?: string }) => {
        if (entry.result === 'connecting') {
          entry.result = err.code ?? err.message;
          inbound.end(`ERR ${entry.result}\n`);
        }
      });
      outbound.on('connect', () => {
        entry.result = 'ok';
        outbound.setTimeout(0);
        inbound.write('OK\n');
        if (rest.length > 0) outbound.write(rest);
        inbound.pipe(outbound);
        outbound.pipe(inbound);
      });
    });
  });
  const socketPath = path.join(dir, FORWARD_SOCKET_NAME);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    dir,
    requests,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readHeader(socket: net.Socket, onHeader: (header: string, rest: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const newline = buffered.indexOf(0x0a);
    if (newline < 0) {
      if (buffered.length > HEADER_CAP) socket.destroy();
      return;
    }
    socket.off('data', onData);
    // Stays paused until the host answers: piping resumes it, so no byte is dropped before.
    socket.pause();
    onHeader(buffered.subarray(0, newline).toString('utf8'), buffered.subarray(newline + 1));
  };
  socket.on('data', onData);
}

function parseHeader(line: string): { host: string; port: number } | null {
  try {
    const value = JSON.parse(line) as { host?: unknown; port?: unknown };
    if (typeof value.host !== 'string' || typeof value.port !== 'number' || !Number.isInteger(value.port) || value.port < 1 || value.port > 65535) return null;
    return { host: value.host.toLowerCase().replace(/\.$/, ''), port: value.port };
  } catch {
    return null;
  }
}
