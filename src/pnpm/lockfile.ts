/**
 * What pnpm resolved (pnpm-lock.yaml, lockfile v9): every package once (`packages`, with its
 * tarball's integrity) and every instance of it in the graph (`snapshots`, keyed by depPath:
 * `name@1.0.0` or, with peers, `name@1.0.0(react@18.2.0)`), with the depPaths it depends on.
 */
import fs from 'node:fs';
import { parse } from 'yaml';
import { SafeInstallError } from '../errors/index.js';

export interface LockedPnpmPackage {
  /** `name@version`: the key of `packages`. */
  id: string;
  name: string;
  version: string;
  integrity: string | null;
  /** Where pnpm fetches it: a tarball URL, a local folder or git; null for the registry. */
  resolution: { tarball?: string; directory?: string; repo?: string; commit?: string; type?: string };
  /** Platform constraints (`os: [darwin]`, `cpu: ['!arm']`): pnpm skips it elsewhere. */
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

export interface PnpmSnapshot {
  depPath: string;
  /** The package it is an instance of. */
  id: string;
  /** Its dependencies (regular and optional): the name it requires them by, and their depPath. */
  dependencies: PnpmEdge[];
  optional: boolean;
}

export interface PnpmEdge {
  name: string;
  depPath: string;
}

export interface PnpmLock {
  packages: Map<string, LockedPnpmPackage>;
  snapshots: Map<string, PnpmSnapshot>;
  /** Per importer (`.`, `packages/a`): its direct dependencies. */
  importers: Map<string, PnpmEdge[]>;
}

type Deps = Record<string, string | { version?: string }> | undefined;

export function readPnpmLock(file: string): PnpmLock | null {
  if (!fs.existsSync(file)) return null;
  return parsePnpmLockV9(fs.readFileSync(file, 'utf8'), file);
}

export function parsePnpmLockV9(text: string, file: string): PnpmLock {
  let doc: {
    lockfileVersion?: unknown;
    packages?: Record<string, { resolution?: LockedPnpmPackage['resolution'] & { integrity?: string }; name?: string; version?: string; os?: string[]; cpu?: string[]; libc?: string[] }>;
    snapshots?: Record<string, { dependencies?: Deps; optionalDependencies?: Deps; optional?: boolean }>;
    importers?: Record<string, { dependencies?: Deps; devDependencies?: Deps; optionalDependencies?: Deps }>;
  };
  try {
    doc = (parse(text) ?? {}) as typeof doc;
  } catch (err) {
    throw new SafeInstallError('E_LOCKFILE', `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'regenerate it with `pnpm install --lockfile-only`');
  }
  const version = String(doc.lockfileVersion ?? '');
  if (!/^9(\.|$)/.test(version)) {
    throw new SafeInstallError('E_LOCKFILE', `${file} has lockfileVersion ${version || '(none)'}; safe-install reads pnpm's lockfile v9`, 'use pnpm 9 or later, and update the lockfile with `pnpm install --lockfile-only`');
  }
  const packages = new Map<string, LockedPnpmPackage>();
  for (const [key, value] of Object.entries(doc.packages ?? {})) {
    const parsed = splitId(key);
    if (!parsed) continue;
    const { integrity, ...resolution } = value.resolution ?? {};
    packages.set(key, {
      id: key,
      name: value.name ?? parsed.name,
      version: value.version ?? parsed.version,
      integrity: integrity ?? null,
      resolution,
      ...(Array.isArray(value.os) ? { os: value.os.map(String) } : {}),
      ...(Array.isArray(value.cpu) ? { cpu: value.cpu.map(String) } : {}),
      ...(Array.isArray(value.libc) ? { libc: value.libc.map(String) } : {}),
    });
  }
  const snapshots = new Map<string, PnpmSnapshot>();
  for (const [depPath, value] of Object.entries(doc.snapshots ?? {})) {
    const id = withoutPeers(depPath);
    snapshots.set(depPath, {
      depPath,
      id,
      dependencies: [...depPathsOf(value.dependencies), ...depPathsOf(value.optionalDependencies)],
      optional: value.optional === true,
    });
  }
  const importers = new Map<string, PnpmEdge[]>();
  for (const [dir, value] of Object.entries(doc.importers ?? {})) {
    importers.set(dir, [...depPathsOf(value.dependencies), ...depPathsOf(value.devDependencies), ...depPathsOf(value.optionalDependencies)]);
  }
  return { packages, snapshots, importers };
}

/** `name@1.0.0(peer@1)` → `name@1.0.0`. */
export function withoutPeers(depPath: string): string {
  const i = depPath.indexOf('(');
  return i === -1 ? depPath : depPath.slice(0, i);
}

/** `@a/b@1.0.0` → `{ name: '@a/b', version: '1.0.0' }`. */
export function splitId(id: string): { name: string; version: string } | null {
  const at = id.indexOf('@', id.startsWith('@') ? 1 : 0);
  if (at <= 0) return null;
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}

/**
 * A dependency map's depPaths. A value is a version (`1.0.0(peer@1)`), an alias's own depPath
 * (`other@1.0.0`), or `link:` to a workspace project (not a package: skipped).
 */
function depPathsOf(deps: Deps): PnpmEdge[] {
  const out: PnpmEdge[] = [];
  for (const [name, raw] of Object.entries(deps ?? {})) {
    const ref = typeof raw === 'string' ? raw : raw?.version;
    if (!ref || ref.startsWith('link:')) continue;
    out.push({ name, depPath: /^\d/.test(ref) ? `${name}@${ref}` : ref });
  }
  return out;
}

/** Whether pnpm installs it on this machine (its os/cpu/libc lists, `!x` excluding x). */
export function installableHere(pkg: LockedPnpmPackage, host: { os: string; cpu: string; libc: string } = hostPlatform()): boolean {
  const fits = (list: string[] | undefined, value: string): boolean => {
    if (!list || list.length === 0 || list.includes('any')) return true;
    if (list.includes(`!${value}`)) return false;
    const positive = list.filter((x) => !x.startsWith('!'));
    return positive.length === 0 || positive.includes(value);
  };
  return fits(pkg.os, host.os) && fits(pkg.cpu, host.cpu) && fits(pkg.libc, host.libc);
}

function hostPlatform(): { os: string; cpu: string; libc: string } {
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return { os: process.platform, cpu: process.arch, libc: report?.header?.glibcVersionRuntime ? 'glibc' : process.platform === 'linux' ? 'musl' : 'unknown' };
}
