/**
 * What an fd points at, from strace's `-yy` decoration: a file path, a socket with its endpoints,
 * or something else (pipe, eventfd...).
 */
import { bytesToText, unescapeC } from './escapes.js';

export interface Endpoint {
  address: string;
  port: number | null;
}

export type Protocol = 'tcp' | 'udp' | 'raw';

export type FdTarget =
  | { kind: 'path'; path: string }
  | {
      kind: 'socket';
      /** strace's socket label: `TCP`, `UDPv6`, `UNIX-STREAM`, `NETLINK`, `socket`... */
      label: string;
      /** Set while the socket is unbound/unconnected (`TCP:[9897]`) or undiagnosable (`socket:[9897]`). */
      inode: number | null;
      local: Endpoint | null;
      remote: Endpoint | null;
      /** The decoration as text, for display (`TCP:[10.0.0.2:4444->192.0.2.7:4444]`). */
      text: string;
    }
  | { kind: 'other'; text: string };

const SOCKET_LABEL = /^([A-Za-z0-9_-]+):\[(.*)\]$/s;
const DELETED = ' (deleted)';

export function describeFd(decoration: string): FdTarget {
  if (decoration.startsWith('/')) {
    // `/dev/null<char 1:3>`: strace appends device info as a nested decoration. A literal `<`
    // in a path is always escaped, so the first raw `<` starts that suffix.
    const nested = decoration.indexOf('<');
    let raw = nested === -1 ? decoration : decoration.slice(0, nested);
    if (raw.endsWith(DELETED)) raw = raw.slice(0, -DELETED.length);
    return { kind: 'path', path: bytesToText(unescapeC(raw)) };
  }
  const text = bytesToText(unescapeC(decoration));
  const m = SOCKET_LABEL.exec(text);
  if (!m || m[1] === 'pipe' || m[1] === 'anon_inode') return { kind: 'other', text };
  const label = m[1] as string;
  const inside = m[2] as string;
  if (/^\d+$/.test(inside)) return { kind: 'socket', label, inode: Number(inside), local: null, remote: null, text };
  if (!INET_LABELS.has(label)) return { kind: 'socket', label, inode: null, local: null, remote: null, text };
  const arrow = inside.indexOf('->');
  const local = parseEndpoint(arrow === -1 ? inside : inside.slice(0, arrow));
  const remote = arrow === -1 ? null : parseEndpoint(inside.slice(arrow + 2));
  return { kind: 'socket', label, inode: null, local, remote, text };
}

/** `192.0.2.1:80` or `[::1]:80`. */
function parseEndpoint(text: string): Endpoint | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return null;
    const port = Number(text.slice(close + 2));
    return { address: text.slice(1, close), port: Number.isInteger(port) ? port : null };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) return { address: text, port: null };
  const port = Number(text.slice(colon + 1));
  return { address: text.slice(0, colon), port: Number.isInteger(port) ? port : null };
}

const LABEL_PROTOCOLS: Record<string, { protocol: Protocol; family: 'inet' | 'inet6' }> = {
  TCP: { protocol: 'tcp', family: 'inet' },
  TCPv6: { protocol: 'tcp', family: 'inet6' },
  UDP: { protocol: 'udp', family: 'inet' },
  UDPv6: { protocol: 'udp', family: 'inet6' },
  UDPLITE: { protocol: 'udp', family: 'inet' },
  UDPLITEv6: { protocol: 'udp', family: 'inet6' },
  RAW: { protocol: 'raw', family: 'inet' },
  RAWv6: { protocol: 'raw', family: 'inet6' },
};
const INET_LABELS = new Set(Object.keys(LABEL_PROTOCOLS));

/** Protocol and address family an inet socket label stands for, or null for unix/netlink/unknown. */
export function inetLabel(label: string): { protocol: Protocol; family: 'inet' | 'inet6' } | null {
  return LABEL_PROTOCOLS[label] ?? null;
}

/** The path of a decoration that is a file path (not a socket/pipe), or null. */
export function decorationPath(decoration: string | null): string | null {
  if (decoration === null) return null;
  const target = describeFd(decoration);
  return target.kind === 'path' ? target.path : null;
}
