/**
 * Lands a package's build outputs (the tar the sandbox exported, or the cached one) in its
 * folder on the host. The sandbox is not trusted to have made a well-behaved tar: every entry
 * is checked before anything is written, and one bad entry refuses the whole package.
 *
 * Allowed: regular files and folders, and symlinks whose target stays inside the package
 * folder, all at relative paths inside it and outside its own node_modules (other packages).
 * Refused: absolute paths, `..`, hard links, devices, FIFOs, setuid/setgid bits, anything
 * written through a symlink.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { SafeInstallError } from '../errors/index.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

export interface OutputEntry {
  path: string;
  type: string;
  linkpath?: string;
  mode: number;
}

/** Reads the entries of an outputs tar without writing anything. */
export async function listOutputs(tarBytes: Buffer): Promise<OutputEntry[]> {
  return listOutputsSync(tarBytes);
}

/** node-tar parses a whole buffer synchronously: `end(buffer)` has emitted every entry on return. */
function listOutputsSync(tarBytes: Buffer): OutputEntry[] {
  if (tarBytes.length === 0) return [];
  const entries: OutputEntry[] = [];
  let failure: unknown = null;
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry: tar.ReadEntry) => {
      entries.push({ path: entry.path, type: entry.type, ...(entry.linkpath ? { linkpath: entry.linkpath } : {}), mode: entry.mode ?? 0o644 });
      entry.resume();
    },
  });
  parser.on('error', (err: unknown) => (failure ??= err));
  parser.end(tarBytes);
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return entries;
}

/** A relative, normalised path inside a package folder, or null when it leaves it. */
export function insidePath(rel: string): string | null {
  if (rel === '' || rel.includes('\0') || path.posix.isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.includes('\\')) return null;
  const norm = path.posix.normalize(rel).replace(/\/+$/, '');
  if (norm === '.' || norm === '..' || norm.startsWith('../')) return null;
  // Its own node_modules holds other packages: never a build output.
  if (norm === 'node_modules' || norm.startsWith('node_modules/')) return null;
  return norm;
}

/** Why the entries are refused, or null when every one is fine. */
export function checkOutputs(entries: OutputEntry[], removed: string[]): string | null {
  const links = new Set<string>();
  for (const entry of entries) {
    const rel = insidePath(entry.path);
    if (rel === null) return `${entry.path}: outside the package folder`;
    if ((entry.mode & 0o6000) !== 0) return `${entry.path}: setuid/setgid bit`;
    for (const link of links) if (rel.startsWith(`${link}/`)) return `${entry.path}: written through the symlink ${link}`;
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (path.posix.isAbsolute(target)) return `${entry.path}: symlink to an absolute path (${target})`;
      if (insidePath(path.posix.join(path.posix.dirname(rel), target)) === null) return `${entry.path}: symlink leaves the package folder (${target})`;
      links.add(rel);
    } else if (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory') {
      return `${entry.path}: a ${entry.type} entry, not a file, folder or symlink`;
    }
  }
  for (const rel of removed) if (insidePath(rel) === null) return `${rel}: a removal outside the package folder`;
  return null;
}

/**
 * Checks, then writes the outputs into `pkgDir` and deletes what the scripts deleted. Files
 * are replaced (unlinked first), never written in place, so nothing shared with another copy
 * of the folder changes.
 *
 * `skip`: paths (normalised, relative) that never land, whatever the scripts did there (the
 * project's secrets and VCS metadata, whose sandbox copies are decoys). Returns the ones skipped.
 */
export async function landOutputs(pkgDir: string, tarBytes: Buffer, removed: string[], label: string, skip?: (rel: string) => boolean): Promise<string[]> {
  return landOutputsSync(pkgDir, tarBytes, removed, label, skip);
}

/** What landOutputs would do, checked against the folder as it is now; throws if it would be refused. */
export function checkLanding(pkgDir: string, tarBytes: Buffer, removedAll: string[], label: string, skip?: (rel: string) => boolean): { entries: OutputEntry[]; removed: string[]; skipped: string[] } {
  const refuse = (why: string): never => {
    throw new SafeInstallError('E_SANDBOX', `the build outputs of ${label} were refused: ${why}`, 'nothing was installed; report this package, its outputs try to leave its folder');
  };
  const skipped: string[] = [];
  const lands = (rel: string): boolean => {
    const inside = insidePath(rel);
    if (inside === null || !skip?.(inside)) return true;
    skipped.push(inside);
    return false;
  };
  let listed: OutputEntry[] = [];
  try {
    listed = listOutputsSync(tarBytes);
  } catch (err) {
    refuse(`not a valid tar (${String(err)})`);
  }
  const entries = listed.filter((entry) => lands(entry.path));
  const removed = removedAll.filter(lands);
  const why = checkOutputs(entries, removed);
  if (why) refuse(why);
  for (const rel of removed) {
    if (throughSymlink(pkgDir, path.dirname(path.join(pkgDir, insidePath(rel)!)))) refuse(`${rel}: removal through a symlink`);
  }
  for (const entry of entries) {
    if (throughSymlink(pkgDir, path.dirname(path.join(pkgDir, insidePath(entry.path)!)))) refuse(`${entry.path}: a folder on its path is a symlink on the host`);
  }
  return { entries, removed, skipped };
}

/** landOutputs, synchronously: the install journal's roll-forward lands the project's outputs. */
export function landOutputsSync(pkgDir: string, tarBytes: Buffer, removedAll: string[], label: string, skip?: (rel: string) => boolean): string[] {
  const { entries, removed, skipped } = checkLanding(pkgDir, tarBytes, removedAll, label, skip);
  for (const rel of removed) fs.rmSync(path.join(pkgDir, insidePath(rel)!), { force: true, recursive: true });
  if (entries.length === 0) return skipped;
  let failure: unknown = null;
  const unpack = new tar.UnpackSync({
    cwd: pkgDir,
    strict: true,
    unlink: true,
    preservePaths: false,
    preserveOwner: false,
    ...(skip
      ? {
          filter: (p: string) => {
            const inside = insidePath(p);
            return inside !== null && !skip(inside);
          },
        }
      : {}),
  });
  unpack.on('error', (err: unknown) => (failure ??= err));
  unpack.end(tarBytes);
  if (failure) throw new SafeInstallError('E_SANDBOX', `the build outputs of ${label} could not be written: ${String(failure)}`, 'check the free space and permissions of the project folder, then run the install again');
  return skipped;
}

/** True when some folder between pkgDir (excluded) and p (included) is a symlink. */
function throughSymlink(pkgDir: string, p: string): boolean {
  const rel = path.relative(pkgDir, p);
  if (rel === '') return false;
  let dir = pkgDir;
  for (const part of rel.split(path.sep)) {
    dir = path.join(dir, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      return false; // does not exist yet: tar creates it as a real folder
    }
    if (st.isSymbolicLink()) return true;
  }
  return false;
}
