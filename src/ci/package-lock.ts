/**
 * package-lock.json / npm-shrinkwrap.json, lockfileVersion 2 and 3: the `packages` map, keyed by
 * install path. v1 lockfiles (npm 6) have no such map and are refused with a hint to upgrade.
 *
 * Line numbers come from the text itself: npm writes one key per line, so an entry's key line is
 * found by scanning for `"<key>": {`. Keys are unique in the map, and the lookup starts after the
 * `"packages"` line so a same-named key elsewhere cannot be picked.
 */
import { SafeInstallError } from '../errors/index.js';
import type { LockedPackage, ParsedLockfile } from './types.js';

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  hasInstallScript?: boolean;
  inBundle?: boolean;
}

export function parsePackageLock(text: string, path: string): ParsedLockfile {
  let doc: { lockfileVersion?: number; packages?: Record<string, LockEntry> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw new SafeInstallError('E_LOCKFILE', `${path} is not valid JSON: ${(err as Error).message}`, 'fix the lockfile (or regenerate it with `npm install --package-lock-only`)');
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.packages !== 'object' || doc.packages === null) {
    throw new SafeInstallError(
      'E_LOCKFILE',
      `${path} has no "packages" map (lockfileVersion ${String(doc?.lockfileVersion ?? '?')})`,
      'regenerate it with npm 7 or later (`npm install --package-lock-only`): lockfileVersion 2 or 3 is needed',
    );
  }
  const lines = keyLines(text);
  const packages: LockedPackage[] = [];
  for (const [key, entry] of Object.entries(doc.packages)) {
    // The root project, workspace links and bundled copies (inside their bundler's tarball) are
    // not fetched on their own.
    if (key === '' || entry.link === true || entry.inBundle === true || !key.includes('node_modules/')) continue;
    if (typeof entry.version !== 'string') continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages.push({
      name,
      version: entry.version,
      key,
      line: lines.get(key) ?? 1,
      ...(typeof entry.resolved === 'string' ? { resolved: entry.resolved } : {}),
      ...(typeof entry.integrity === 'string' ? { integrity: entry.integrity } : {}),
      ...(entry.hasInstallScript === true ? { hasInstallScript: true } : {}),
    });
  }
  return { kind: 'package-lock', path, packages };
}

/** `"node_modules/x": {` → its 1-based line, for every such key after the `"packages"` line. */
function keyLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const rows = text.split('\n');
  const start = rows.findIndex((row) => /^\s*"packages"\s*:/.test(row));
  for (let i = Math.max(0, start); i < rows.length; i++) {
    const m = /^\s*("(?:[^"\\]|\\.)*")\s*:\s*\{/.exec(rows[i]!);
    if (!m) continue;
    let key: string;
    try {
      key = JSON.parse(m[1]!) as string;
    } catch {
      continue;
    }
    if (key.includes('node_modules/') && !out.has(key)) out.set(key, i + 1);
  }
  return out;
}
