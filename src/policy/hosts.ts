/**
 * Host patterns of `allowEgress`: `host`, `*.suffix` (names below the suffix, never the suffix
 * itself), each with an optional `:port`. Only names match: an IP address is never allowed by a
 * pattern, because the address alone does not say who is behind it.
 */
import net from 'node:net';
import { parsePackageKey, selectorMatches } from './package-key.js';
import type { Policy } from './types.js';
import type { ConnectionEvent } from '../session/types.js';

export interface HostPattern {
  /** Lowercase, without the `*.`. */
  host: string;
  wildcard: boolean;
  port?: number;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

export function normalizeHost(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** Null when the text is not a valid pattern (IP addresses included). */
export function parseHostPattern(text: string): HostPattern | null {
  const match = /^(\*\.)?([^:*]+?)(?::(\d{1,5}))?$/.exec(text.trim().toLowerCase());
  if (!match) return null;
  const [, star, host = '', portText] = match;
  const labels = host.split('.');
  if (host.length > 253 || !labels.every((label) => label.length <= 63 && LABEL.test(label))) return null;
  // A numeric last label is an IP address (or a piece of one), never a DNS name.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return null;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  return { host, wildcard: star !== undefined, ...(port !== undefined ? { port } : {}) };
}

/**
 * `port` undefined means the port is not part of what is judged (a DNS lookup goes to the
 * resolver, not the host); null is an unknown port, which a pattern with a port never matches.
 */
export function hostMatches(pattern: HostPattern, name: string, port?: number | null): boolean {
  const host = normalizeHost(name);
  if (host === '' || net.isIP(host.replace(/^\[|\]$/g, '')) !== 0) return false;
  if (pattern.port !== undefined && port !== undefined && pattern.port !== port) return false;
  return pattern.wildcard ? host.endsWith(`.${pattern.host}`) : host === pattern.host;
}

/**
 * Every name a connection went by, as far as it was seen: the DNS name its address came from,
 * the TLS SNI and the HTTP Host header. A policy allows a connection only if it allows all.
 */
export function connectionNames(event: Pick<ConnectionEvent, 'hostname' | 'observed'>): string[] {
  const { hostname, observed } = event;
  const names = [hostname, observed?.sni, observed?.http ? hostOfHostHeader(observed.http.host) : undefined];
  return names.filter((name): name is string => name !== undefined && name.trim() !== '');
}

/** The name in an HTTP Host header, without its port (`example.com:8080`, `[::1]:80`). */
export function hostOfHostHeader(value: string): string {
  const v = value.trim();
  if (v.startsWith('[')) return v.slice(0, v.indexOf(']') + 1);
  return v.replace(/:\d*$/, '');
}

/**
 * Every `allowEgress` pattern of the policy entries that select one of these packages: what the
 * monitored network may forward during a session that runs their scripts. The network cannot
 * tell which package opened a connection, so this is the union; the rules still judge each
 * connection against its own package's entries.
 */
export function allowedEgressOf(policy: Policy | undefined, packages: readonly { name: string; version: string }[]): HostPattern[] {
  const patterns = new Map<string, HostPattern>();
  for (const [key, entry] of Object.entries(policy?.packages ?? {})) {
    const selector = parsePackageKey(key);
    if (!selector || !packages.some((pkg) => selectorMatches(selector, pkg))) continue;
    for (const text of entry.allowEgress ?? []) {
      const pattern = parseHostPattern(text);
      if (pattern) patterns.set(`${pattern.wildcard ? '*.' : ''}${pattern.host}:${pattern.port ?? ''}`, pattern);
    }
  }
  return [...patterns.values()];
}
