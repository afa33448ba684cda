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
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
  if (tarBytes.length === 0) return [];
  const entries: OutputEntry[] = [];
  const parser = new tar.Parser({ strict: true });
  parser.on('entry', (entry: tar.ReadEntry) => {
    entries.push({ path: entry.path, type: entry.type, ...(entry.linkpath ? { linkpath: entry.linkpath } : {}), mode: entry.mode ?? 0o644 });
    entry.resume();
  });
  await pipeline(Readable.from([tarBytes]), parser as unknown as NodeJS.WritableStream);
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
 */
export async function landOutputs(pkgDir: string, tarBytes: Buffer, removed: string[], label: string): Promise<void> {
  const refuse = (why: string): never => {
    throw new SafeInstallError('E_SANDBOX', `the build outputs of ${label} were refused: ${why}`, 'nothing was installed; report this package, its outputs try to leave its folder');
  };
  const entries = await listOutputs(tarBytes).catch((err: unknown) => refuse(`not a valid tar (${String(err)})`));
  const why = checkOutputs(entries, removed);
  if (why) refuse(why);
  for (const rel of removed) {
    const target = path.join(pkgDir, insidePath(rel)!);
    if (throughSymlink(pkgDir, path.dirname(target))) refuse(`${rel}: removal through a symlink`);
    fs.rmSync(target, { force: true, recursive: true });
  }
  if (entries.length === 0) return;
  for (const entry of entries) {
    const target = path.join(pkgDir, insidePath(entry.path)!);
    if (throughSymlink(pkgDir, path.dirname(target))) refuse(`${entry.path}: a folder on its path is a symlink on the host`);
  }
  await pipeline(
    Readable.from([tarBytes]),
    tar.x({ cwd: pkgDir, strict: true, unlink: true, preservePaths: false, preserveOwner: false }) as unknown as NodeJS.WritableStream,
  );
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
