/**
 * Path classification shared by the rules and the report. Paths in the chain are absolute
 * sandbox paths as the tracer saw them; they are normalised before any prefix test so that
 * `/home/alex/code/webapp/node_modules/a/../../x` cannot pass for "inside package a".
 */
import { posix } from 'node:path';
import { SANDBOX_HOME, SANDBOX_TMP_DIRS } from '../sandbox/layout.js';
import type { RuleContext } from './types.js';

export type SandboxPaths = RuleContext['paths'];

export function normalizePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** True when `path` is `dir` itself or anything below it. */
export function isInside(path: string, dir: string): boolean {
  const p = normalizePath(path);
  const d = normalizePath(dir);
  if (d === '/') return p.startsWith('/');
  return p === d || p.startsWith(`${d}/`);
}

/** `path` relative to `dir`, or null when it is not inside (`''` for `dir` itself). */
export function relativeInside(path: string, dir: string): string | null {
  if (!isInside(path, dir)) return null;
  const p = normalizePath(path);
  const d = normalizePath(dir);
  return p === d ? '' : p.slice(d === '/' ? 1 : d.length + 1);
}

/** A package's folder; the root project itself has location `''`. */
export function packageDirFor(projectDir: string, location: string): string {
  return location === '' ? normalizePath(projectDir) : normalizePath(`${projectDir}/${location}`);
}

export function sandboxPathsFor(projectDir: string, location: string): SandboxPaths {
  return {
    projectDir: normalizePath(projectDir),
    packageDir: packageDirFor(projectDir, location),
    home: SANDBOX_HOME,
    tmpDirs: [...SANDBOX_TMP_DIRS],
  };
}

const STDIO_EXACT = new Set(['/dev/null', '/dev/tty', '/dev/stdin', '/dev/stdout', '/dev/stderr']);
/** Descriptor aliases: writing to them writes to an fd the process already holds, not a new file. */
const STDIO_PREFIXES = ['/proc/self/fd/', '/dev/fd/', '/dev/pts/'];

export function isStdioLike(path: string): boolean {
  const p = normalizePath(path);
  return STDIO_EXACT.has(p) || STDIO_PREFIXES.some((prefix) => p.startsWith(prefix));
}

export function isInTmp(path: string, paths: SandboxPaths): boolean {
  return paths.tmpDirs.some((dir) => isInside(path, dir));
}

/** Where a write may land without being reported: its own folder, temp dirs, stdio. */
export function isOwnWritablePath(path: string, paths: SandboxPaths): boolean {
  return isInside(path, paths.packageDir) || isInTmp(path, paths) || isStdioLike(path);
}

/**
 * How a path is shown to people: relative to the package folder when inside it, `~/…` for the
 * home, absolute otherwise.
 */
export function displayPath(path: string, where: { packageDir?: string; home: string }): string {
  if (where.packageDir !== undefined) {
    const inPackage = relativeInside(path, where.packageDir);
    if (inPackage !== null) return inPackage === '' ? '.' : inPackage;
  }
  const inHome = relativeInside(path, where.home);
  if (inHome !== null) return inHome === '' ? '~' : `~/${inHome}`;
  return normalizePath(path);
}

/**
 * The first two path components below home (`~/.config/foo`) or root (`/etc/cron.d`): one
 * "area" groups the many files a script writes under one tool's folder into a single finding.
 */
export function areaOf(path: string, home: string): string {
  const inHome = relativeInside(path, home);
  if (inHome !== null) {
    const head = inHome.split('/').filter(Boolean).slice(0, 2).join('/');
    return head === '' ? '~' : `~/${head}`;
  }
  return `/${normalizePath(path).split('/').filter(Boolean).slice(0, 2).join('/')}`;
}
