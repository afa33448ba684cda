/**
 * What the sinkhole prints on stdout: one JSON object per line (NDJSON), each written whole
 * the moment it is known. The host reads these and merges them into the session chain; the
 * sinkhole itself (sinkhole.ts) imports only these types, never code.
 *
 * Times are unix seconds (float), the same clock as the tracer's, so the host can line a
 * sinkhole record up with the connect()/sendto() the tracer saw. A record of the sinkhole is
 * what reached it; the tracer says which process sent it.
 */

/** Where the sinkhole listens inside the shared network namespace. */
export interface SinkholePorts {
  /** Every TCP connection of the sandbox user lands here (except port 53 and loopback). */
  tcp: number;
  /** DNS over UDP and TCP: port 53 to any address lands here. */
  dns: number;
  /** Every other UDP datagram of the sandbox user lands here. */
  udp: number;
}

export interface SinkholeReady {
  type: 'ready';
  /** The per-scan CA certificate (PEM). Its key never leaves the sinkhole container. */
  ca: string;
  ports: SinkholePorts;
  /** True when the namespace has IPv6 and AAAA queries are answered with fake addresses. */
  ipv6: boolean;
  /** The uid whose traffic is captured. */
  uid: number;
  /** The ranges fake answers come from: a connection to one of them maps back to a name. */
  fakeRanges: { v4: string; v6: string | null };
  /** Milliseconds from the sinkhole process start to this event. */
  startupMs: number;
}

export interface SinkholeDns {
  type: 'dns';
  time: number;
  /**
   * The queried name exactly as sent: case and labels preserved, no trailing dot; bytes that
   * are not printable ASCII, and dots or backslashes inside a label, as `\DDD` (RFC 1035).
   */
  name: string;
  /** `A`, `AAAA`, `TXT`, ... or `TYPE<n>` for types without a mnemonic. */
  qtype: string;
  /** Present only when the class is not IN (e.g. `CH` for version.bind probes). */
  qclass?: string;
  /** The data answered: fake addresses for A/AAAA, a name for PTR of a fake address, else none. */
  answers: string[];
  /** `ip:port` (IPv6 as `[ip]:port`) the query came from. */
  client: string;
  /**
   * The DNS server the client addressed, from conntrack: `127.0.0.53:53` for the system
   * resolver, anything else for a resolver the code chose itself; null when unknown.
   */
  server: string | null;
  transport: 'udp' | 'tcp';
}

export interface SinkholeHttpRequest {
  method: string;
  /** The Host header (or the authority of an absolute-form URL); empty when there is none. */
  host: string;
  /** The request target as sent (origin-form path, or the full URL for proxy-style requests). */
  path: string;
  /** Header names lowercased; repeated headers joined as node does (`, `, or `; ` for cookies). */
  headers: Record<string, string>;
  /** The first 64 KiB of the body, decoded as UTF-8 (invalid sequences replaced). */
  body: string;
  /** The whole body's length in bytes, including what was not kept. */
  bodyBytes: number;
  /** The body was longer than what `body` holds. */
  truncated: boolean;
  /** False when the connection ended or timed out before the body did. */
  complete: boolean;
}

export type SinkholeTcpProtocol = 'http' | 'https' | 'tls' | 'raw';

export interface SinkholeConnection {
  type: 'connection';
  /** `c<N>`, unique within one sinkhole run. */
  id: string;
  /** When the connection was accepted. */
  time: number;
  /** When the record was closed (connection ended, 5 s passed, or shutdown). */
  endTime: number;
  endReason: 'closed' | 'timeout' | 'shutdown';
  /** The client's source port: with time and destination, what ties it to the tracer's connect(). */
  clientPort: number;
  /** The address the client dialled (before the redirect); null if conntrack could not tell. */
  dstIp: string | null;
  dstPort: number | null;
  /** The name whose fake address the client dialled; null for literal addresses. */
  hostname: string | null;
  /** http: plain HTTP; https: HTTP inside TLS we terminated; tls: TLS with anything else inside, or a failed handshake; raw: the rest. */
  protocol: SinkholeTcpProtocol;
  /** Server name from the ClientHello. */
  sni?: string;
  tls?: {
    /** `ok` when the client accepted the sinkhole's certificate and the stream was decrypted. */
    handshake: 'ok' | 'failed' | 'incomplete';
    error?: string;
  };
  /** The first HTTP request on the connection (the sinkhole answers it and closes). */
  http?: SinkholeHttpRequest;
  /**
   * The first bytes (at most 4 KiB, base64) of what the client sent: decrypted when the TLS
   * handshake succeeded, else as received. For TLS whose handshake did not succeed, that is
   * everything the client sent on the wire (its ClientHello, an alert, whatever followed), not
   * just the head. Empty when the client sent nothing, e.g. while it waited for a server banner.
   */
  firstBytes: string;
  /** Every byte received from the client on the wire (encrypted for TLS). */
  bytesReceived: number;
  /**
   * Set when the policy allowed this destination and the connection went to the real host
   * through the forwarding proxy (not answered by the sinkhole). Forwarded TLS is not
   * decrypted: the client talks to the real server, so only the SNI and sizes are known.
   */
  forwarded?: SinkholeForwarded;
}

export interface SinkholeForwarded {
  /** False when the proxy refused or could not reach the host; `error` says why. */
  ok: boolean;
  error?: string;
  /** Bytes from the real host back to the client. */
  bytesFromHost: number;
}

/** One allowed destination, as the sinkhole receives it: a name or `*.suffix`, and an optional port. */
export interface SinkholeAllow {
  host: string;
  wildcard: boolean;
  port?: number;
}

export interface SinkholeUdp {
  type: 'udp';
  time: number;
  /** `catch` for the UDP catch-all, `dns` for a datagram to port 53 that was not a DNS query. */
  listener: 'catch' | 'dns';
  client: string;
  /** The destination the client addressed, from conntrack; null when it could not be found. */
  dstIp: string | null;
  dstPort: number | null;
  hostname: string | null;
  bytes: number;
  /** At most 4 KiB of the datagram, base64. */
  payload: string;
  truncated: boolean;
}

export interface SinkholeError {
  type: 'error';
  message: string;
}

/** Printed once on SIGTERM, after the last pending connection record. */
export interface SinkholeStats {
  type: 'stats';
  dns: number;
  connections: number;
  udp: number;
  /** Records not printed because a per-kind limit was reached (a flood): counted only. */
  dropped: { dns: number; connections: number; udp: number };
}

export type SinkholeEvent = SinkholeReady | SinkholeDns | SinkholeConnection | SinkholeUdp | SinkholeError | SinkholeStats;
