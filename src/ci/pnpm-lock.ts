/**
 * pnpm-lock.yaml (lockfileVersion 5.x, 6.x, 9.x): the `packages` map. Keys are
 * `/name/1.0.0` (v5), `/name@1.0.0` (v6) or `name@1.0.0` (v9), possibly with a peer suffix
 * `(react@18.2.0)`; `resolution.integrity` is the tarball's SRI. Lines come from the YAML parser.
 */
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { SafeInstallError } from '../errors/index.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

export function parsePnpmLock(text: string, path: string): ParsedLockfile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new SafeInstallError('E_LOCKFILE', `${path}:${first.linePos?.[0]?.line ?? '?'}: ${first.message.split('\n')[0]}`, 'fix the lockfile (or regenerate it with `pnpm install --lockfile-only`)');
  }
  const packagesNode = doc.get('packages', true);
  const packages: LockedPackage[] = [];
  if (!isMap(packagesNode)) return { kind: 'pnpm-lock', path, packages };
  for (const pair of packagesNode.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const id = parseKey(key);
    if (!id) continue;
    const value = (isMap(pair.value) ? pair.value.toJSON() : {}) as {
      name?: string;
      version?: string;
      resolution?: { integrity?: string; tarball?: string };
      requiresBuild?: boolean;
    };
    const line = pair.key.range ? lineCounter.linePos(pair.key.range[0]).line : 1;
    packages.push({
      name: value.name ?? id.name,
      version: value.version ?? id.version,
      key,
      line,
      ...(value.resolution?.integrity ? { integrity: value.resolution.integrity } : {}),
      ...(value.resolution?.tarball ? { resolved: value.resolution.tarball } : {}),
      ...(value.requiresBuild === true ? { hasInstallScript: true } : {}),
    });
  }
  return { kind: 'pnpm-lock', path, packages };
}

/** `/@a/b@1.0.0(peer@2)` → `{ name: '@a/b', version: '1.0.0' }`; v5's `/@a/b/1.0.0` too. */
export function parseKey(key: string): { name: string; version: string } | null {
  const bare = key.replace(/^\//, '').replace(/\(.*$/, '');
  // v5: `name/1.2.3` or `@s/name/1.2.3`, a peer suffix after `_`.
  const v5 = /^(@[^/]+\/[^/@]+|[^@/][^/@]*)\/(\d[^/_]*)(?:_.*)?$/.exec(bare);
  if (v5) return { name: v5[1]!, version: v5[2]! };
  const at = bare.lastIndexOf('@');
  if (at > 0) return { name: bare.slice(0, at), version: bare.slice(at + 1) };
  return null;
}
