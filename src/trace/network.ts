/**
 * Network syscalls → connection events. The address comes from the sockaddr argument; the
 * protocol from the fd's -yy decoration (`TCP:[...]`), or, when strace could only print
 * `socket:[inode]`, from the `socket()` call that created that inode.
 */
import type { ConnectionEvent, SocketFamily } from '../session/types.js';
import {
  atomArg,
  fieldOf,
  intArg,
  resultOf,
  strArg,
  succeeded,
  unchanged,
  type ParsedCall,
  type Value,
} from './args.js';
import { describeFd, inetLabel, type Endpoint, type Protocol } from './decoration.js';
import { bytesToText } from './escapes.js';
import { resolvePath } from './paths.js';

export type ConnectionFacts = Omit<ConnectionEvent, 'id' | 'scriptId' | 'processId'>;

/** Bytes of payload kept per event. */
export const PAYLOAD_LIMIT = 4096;

export const NETWORK_SYSCALLS = new Set([
  'connect',
  'bind',
  'listen',
  'accept',
  'accept4',
  'sendto',
  'sendmsg',
  'sendmmsg',
]);

interface SocketInfo {
  family: SocketFamily;
  protocol: Protocol | null;
  /** Peer set by connect(), for later sends on a socket strace cannot describe. */
  peer: Endpoint | null;
}

/** What an fd decoration tells about a socket. */
export interface SocketView {
  family: SocketFamily | null;
  protocol: Protocol | null;
  local: Endpoint | null;
  remote: Endpoint | null;
  /** Display text of the decoration. */
  text: string;
}

const FAMILIES: Record<string, SocketFamily> = {
  AF_INET: 'inet',
  AF_INET6: 'inet6',
  AF_UNIX: 'unix',
  AF_LOCAL: 'unix',
  AF_NETLINK: 'netlink',
};

function typeProtocol(type: string, family: SocketFamily): Protocol | null {
  if (family !== 'inet' && family !== 'inet6') return null;
  if (type.startsWith('SOCK_STREAM')) return 'tcp';
  if (type.startsWith('SOCK_DGRAM')) return 'udp';
  if (type.startsWith('SOCK_RAW')) return 'raw';
  return null;
}

/** Sockets by inode, learned from `socket()` results and `connect()`s. */
export class SocketRegistry {
  private readonly byInode = new Map<number, SocketInfo>();

  noteSocket(call: ParsedCall): void {
    const family = FAMILIES[atomArg(call.args[0])?.text ?? ''] ?? 'other';
    const type = atomArg(call.args[1])?.text ?? '';
    const inode = inodeOf(call.ret.decoration);
    if (inode === null) return;
    this.byInode.set(inode, { family, protocol: typeProtocol(type, family), peer: null });
  }

  view(decoration: string | null): SocketView | null {
    if (decoration === null) return null;
    const target = describeFd(decoration);
    if (target.kind !== 'socket') return null;
    const inet = inetLabel(target.label);
    const known = target.inode === null ? undefined : this.byInode.get(target.inode);
    let family: SocketFamily | null = inet?.family ?? known?.family ?? null;
    if (family === null && target.label.startsWith('UNIX')) family = 'unix';
    if (family === null && target.label === 'NETLINK') family = 'netlink';
    return {
      family,
      protocol: inet?.protocol ?? known?.protocol ?? null,
      local: target.local,
      remote: target.remote ?? known?.peer ?? null,
      text: target.text,
    };
  }

  noteConnect(decoration: string | null, peer: Endpoint): void {
    const inode = inodeOf(decoration);
    const known = inode === null ? undefined : this.byInode.get(inode);
    if (known) known.peer = peer;
  }
}

function inodeOf(decoration: string | null): number | null {
  if (decoration === null) return null;
  const target = describeFd(decoration);
  return target.kind === 'socket' ? target.inode : null;
}

interface Sockaddr {
  family: SocketFamily;
  address: string;
  port: number | null;
}

/** A sockaddr struct; 'skip' for families that are not network attempts (netlink, AF_UNSPEC). */
function sockaddr(v: Value | undefined, cwd: string): Sockaddr | 'skip' | null {
  const addr = unchanged(v);
  if (addr?.kind !== 'struct') return null;
  const familyName = atomArg(fieldOf(addr, 'sa_family'))?.text ?? '';
  const family = FAMILIES[familyName] ?? 'other';
  if (family === 'netlink' || familyName === 'AF_UNSPEC') return 'skip';
  if (family === 'inet') {
    const ip = callStr(fieldOf(addr, 'sin_addr'), 0);
    return { family, address: ip ?? '', port: portOf(fieldOf(addr, 'sin_port')) };
  }
  if (family === 'inet6') {
    // strace prints the address as a bare `inet_pton(AF_INET6, "::1", &sin6_addr)` item.
    let ip: string | null = callStr(fieldOf(addr, 'sin6_addr'), 1);
    for (const f of addr.fields) {
      if (ip === null && f.value.kind === 'call' && f.value.name === 'inet_pton') ip = callStr(f.value, 1);
    }
    return { family, address: ip ?? '', port: portOf(fieldOf(addr, 'sin6_port')) };
  }
  if (family === 'unix') {
    const path = strArg(fieldOf(addr, 'sun_path'));
    if (!path) return { family, address: '', port: null };
    const name = bytesToText(path.bytes);
    // Abstract names live in their own namespace, not the file system: keep them as `@name`.
    return { family, address: path.abstract ? `@${name}` : resolvePath(cwd, name), port: null };
  }
  return { family, address: familyName, port: null };
}

function callStr(v: Value | undefined, index: number): string | null {
  if (v?.kind !== 'call') return null;
  const s = strArg(v.args[index]);
  return s ? bytesToText(s.bytes) : null;
}

function portOf(v: Value | undefined): number | null {
  if (v?.kind === 'call') return intArg(v.args[0]);
  return intArg(v);
}

function capPayload(bytes: string): string {
  return bytes.length > PAYLOAD_LIMIT ? bytes.slice(0, PAYLOAD_LIMIT) : bytes;
}

/** The bytes of a msghdr's iovecs. */
function iovBytes(msghdr: Value | undefined): string {
  const iov = fieldOf(msghdr, 'msg_iov');
  if (iov?.kind !== 'array') return '';
  let out = '';
  for (const item of iov.items) {
    const base = strArg(fieldOf(item, 'iov_base'));
    if (base) out += base.bytes;
    if (out.length >= PAYLOAD_LIMIT) break;
  }
  return out;
}

function fromEndpoint(view: SocketView, endpoint: Endpoint | null): Sockaddr | null {
  if (!endpoint || (view.family !== 'inet' && view.family !== 'inet6')) return null;
  return { family: view.family, address: endpoint.address, port: endpoint.port };
}

/** The connection events of one network syscall ([] when it is not a network attempt). */
export function connectionFacts(
  name: string,
  call: ParsedCall,
  time: number,
  cwd: string,
  sockets: SocketRegistry,
): ConnectionFacts[] | 'unparsed' {
  const fd = atomArg(call.args[0]);
  if (!fd) return 'unparsed';
  const view = sockets.view(fd.decoration);
  if (view?.family === 'netlink') return [];
  const protocolFor = (family: SocketFamily): Protocol | null =>
    family === 'inet' || family === 'inet6' ? (view?.protocol ?? null) : null;
  const event = (addr: Sockaddr, result: string, payload?: string): ConnectionFacts => {
    const facts: ConnectionFacts = {
      time,
      syscall: name,
      family: addr.family,
      protocol: protocolFor(addr.family),
      address: addr.address,
      port: addr.port,
      result,
    };
    if (payload !== undefined) facts.payload = capPayload(payload);
    return facts;
  };
  const result = resultOf(call);

  switch (name) {
    case 'connect':
    case 'bind': {
      const addr = sockaddr(call.args[1], cwd);
      if (addr === 'skip') return [];
      if (addr === null) return 'unparsed';
      if (name === 'connect') sockets.noteConnect(fd.decoration, { address: addr.address, port: addr.port });
      return [event(addr, result)];
    }
    case 'listen': {
      // No address argument: what it listens on is the bound address in the decoration.
      if (!view || view.family === null) return [];
      const local = fromEndpoint(view, view.local) ?? { family: view.family, address: '', port: null };
      return [event(local, result)];
    }
    case 'accept':
    case 'accept4': {
      // Only a connection that came in is an event; node's event loop polls with EAGAIN.
      if (!succeeded(call)) return [];
      let addr = sockaddr(call.args[1], cwd);
      if (addr === 'skip') return [];
      if (addr === null) {
        const accepted = sockets.view(call.ret.decoration);
        addr = accepted ? fromEndpoint(accepted, accepted.remote) : null;
      }
      return addr ? [event(addr, result)] : [];
    }
    case 'sendto': {
      const addr = sockaddr(call.args[4], cwd);
      if (addr === 'skip') return [];
      const to = addr ?? datagramPeer(view);
      return to ? [event(to, result, strArg(call.args[1])?.bytes ?? '')] : [];
    }
    case 'sendmsg': {
      const msghdr = call.args[1];
      const addr = sockaddr(fieldOf(msghdr, 'msg_name'), cwd);
      if (addr === 'skip') return [];
      const to = addr ?? datagramPeer(view);
      return to ? [event(to, result, iovBytes(msghdr))] : [];
    }
    case 'sendmmsg': {
      const vector = unchanged(call.args[1]);
      if (vector?.kind !== 'array') return 'unparsed';
      const sent = call.ret.value ?? 0;
      const out: ConnectionFacts[] = [];
      vector.items.forEach((item, index) => {
        const msghdr = fieldOf(item, 'msg_hdr');
        const addr = sockaddr(fieldOf(msghdr, 'msg_name'), cwd);
        if (addr === 'skip') return;
        const to = addr ?? datagramPeer(view);
        // The call returns how many messages went out; the rest of the vector did not.
        const itemResult = result !== 'ok' ? result : index < sent ? 'ok' : 'unsent';
        if (to) out.push(event(to, itemResult, iovBytes(msghdr)));
      });
      return out;
    }
    default:
      return [];
  }
}

/**
 * Where a send without an address goes: the socket's peer. On TCP that is a stream whose
 * connect() is already an event (null: nothing new); a connected UDP socket's datagrams are
 * reported, to the decorated peer (address '' if strace could not say).
 */
function datagramPeer(view: SocketView | null): Sockaddr | null {
  if (!view || view.protocol !== 'udp') return null;
  return fromEndpoint(view, view.remote) ?? { family: view.family ?? 'inet', address: '', port: null };
}
