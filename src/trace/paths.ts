import { posix } from 'node:path';

/** Absolute, normalised (`.`, `..`, `//` folded) path of `p` seen from directory `base`. */
export function resolvePath(base: string, p: string): string {
  const joined = p.startsWith('/') ? p : `${base.startsWith('/') ? base : `/${base}`}/${p}`;
  // Most paths are already clean; only the others pay for a full normalisation.
  if (!NEEDS_NORMALISING.test(joined)) return joined;
  return posix.resolve('/', joined);
}

/** `//`, `/./`, `/../`, or a trailing `/`, `/.`, `/..`. */
const NEEDS_NORMALISING = /\/\/|\/\.\.?(?:\/|$)|.\/$/;

/**
 * `/proc/<pid>/...` of the process itself, written as `/proc/self/...`. The kernel resolves
 * `/proc/self` to the pid, so -yy shows `/proc/22141/maps` for a read of `/proc/self/maps`; writing
 * it back lets consumers tell "its own maps" from "another process's environ" without pids.
 */
export function canonicalProcPath(path: string, pid: number): string {
  if (pid <= 0 || !path.startsWith('/proc/')) return path;
  const own = `/proc/${pid}`;
  if (path === own) return '/proc/self';
  if (path.startsWith(`${own}/`)) return `/proc/self${path.slice(own.length)}`;
  return path;
}
