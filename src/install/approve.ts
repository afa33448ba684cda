/**
 * `safe-install approve`: the allowlists npm and pnpm read (which dependencies may run install
 * scripts), written from sandbox evidence: a package goes on them only when the verdict cache
 * holds an allow verdict for its exact tarball under the current policy and sandbox, and only
 * pinned to that version.
 *
 * npm 11: package.json `allowScripts: { "name@version": true }`.
 * pnpm 10.19+: package.json `pnpm.onlyBuiltDependencies: ["name@version"]`.
 * A pnpm project (pnpm-lock.yaml, no package-lock.json): `allowBuilds: { "name@version": true }`
 * in pnpm-workspace.yaml, where pnpm 10.26+ keeps its settings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import type { VerdictCache, VerdictKey } from '../cache/index.js';
import { VerdictCache as Cache } from '../cache/index.js';
import { parseDocument } from 'yaml';
import { readPnpmLock } from '../pnpm/lockfile.js';
import { hasBindingGyp, installScripts } from '../resolve/install-scripts.js';

export interface ScriptedPackage {
  name: string;
  version: string;
  integrity: string | null;
}

/** Which lockfile a project has: approve writes the allowlist of that package manager. */
export function projectKind(projectDir: string): 'npm' | 'pnpm' {
  return !fs.existsSync(path.join(projectDir, 'package-lock.json')) && fs.existsSync(path.join(projectDir, 'pnpm-lock.yaml')) ? 'pnpm' : 'npm';
}

/**
 * Every package of pnpm's lockfile with install-time code, read from the files pnpm installed
 * (its lockfile does not say): `node_modules/.pnpm/<id>/node_modules/<name>`.
 */
export function scriptedPnpmPackages(projectDir: string): ScriptedPackage[] {
  const lock = readPnpmLock(path.join(projectDir, 'pnpm-lock.yaml'));
  if (!lock) throw new SafeInstallError('E_USAGE', `no pnpm-lock.yaml in ${projectDir}`, 'install with `safe-install pnpm install` first');
  const store = path.join(projectDir, 'node_modules', '.pnpm');
  if (!fs.existsSync(store)) throw new SafeInstallError('E_USAGE', `nothing is installed in ${projectDir}`, 'install with `safe-install pnpm install` first; approve works from what the sandbox saw');
  const folders = fs.readdirSync(store);
  const out: ScriptedPackage[] = [];
  for (const p of lock.packages.values()) {
    const prefix = p.id.replace(/\//g, '+');
    const folder = folders.find((f) => f === prefix || f.startsWith(`${prefix}_`));
    if (!folder) continue;
    const dir = path.join(store, folder, 'node_modules', p.name);
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (Object.keys(installScripts(manifest, hasBindingGyp(dir)).scripts).length === 0) continue;
    out.push({ name: p.name, version: p.version, integrity: p.integrity });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every package of the lockfile that has install scripts (npm records `hasInstallScript`). */
export function scriptedPackages(projectDir: string): ScriptedPackage[] {
  const file = path.join(projectDir, 'package-lock.json');
  let lock: { packages?: Record<string, { name?: string; version?: string; integrity?: string; hasInstallScript?: boolean; link?: boolean; inBundle?: boolean }> };
  try {
    lock = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof lock;
  } catch {
    throw new SafeInstallError('E_USAGE', `no readable package-lock.json in ${projectDir}`, 'install with `safe-install install` first; approve works from what the sandbox saw');
  }
  const out: ScriptedPackage[] = [];
  const seen = new Set<string>();
  for (const [location, entry] of Object.entries(lock.packages ?? {})) {
    if (location === '' || !entry.hasInstallScript || entry.link || entry.inBundle || !entry.version) continue;
    const name = entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const id = `${name}@${entry.version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ name, version: entry.version, integrity: entry.integrity ?? null });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface Approval {
  /** `name@version` with an allow verdict for that exact tarball. */
  approved: string[];
  /** `name@version` without one: never sandboxed, or not allowed. */
  unproven: string[];
}

export function approvals(packages: ScriptedPackage[], cache: VerdictCache, key: Omit<VerdictKey, 'integrity'>): Approval {
  const approved: string[] = [];
  const unproven: string[] = [];
  for (const p of packages) {
    const id = `${p.name}@${p.version}`;
    const hit = Cache.usable(p.integrity) ? cache.getVerdict({ ...key, integrity: p.integrity }) : null;
    (hit ? approved : unproven).push(id);
  }
  return { approved, unproven };
}

/**
 * Adds the approved entries to package.json, keeping everything else (key order, indentation,
 * final newline, entries the user wrote) as it was. Written to a temp file and renamed.
 */
export function writeApprovals(projectDir: string, approved: string[]): { changed: boolean } {
  const file = path.join(projectDir, 'package.json');
  const text = fs.readFileSync(file, 'utf8');
  const manifest = JSON.parse(text) as Record<string, unknown>;
  const allowScripts = { ...((manifest.allowScripts as Record<string, boolean> | undefined) ?? {}) };
  const pnpm = { ...((manifest.pnpm as Record<string, unknown> | undefined) ?? {}) };
  const built = [...((pnpm.onlyBuiltDependencies as string[] | undefined) ?? [])];
  for (const id of approved) {
    // A deny the user wrote wins: approve never turns a false into true.
    if (allowScripts[id] === undefined) allowScripts[id] = true;
    if (!built.includes(id)) built.push(id);
  }
  manifest.allowScripts = allowScripts;
  manifest.pnpm = { ...pnpm, onlyBuiltDependencies: built };
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const next = JSON.stringify(manifest, null, indent).replace(/\n/g, eol) + (text.endsWith('\n') ? eol : '');
  if (next === text) return { changed: false };
  const tmp = `${file}.safe-install-${process.pid}.tmp`;
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
  return { changed: true };
}

/**
 * Adds the approved entries to pnpm-workspace.yaml's `allowBuilds` (made if absent), keeping
 * the rest of the file, comments included. A `false` the user wrote wins.
 */
export function writePnpmApprovals(projectDir: string, approved: string[]): { changed: boolean } {
  const file = path.join(projectDir, 'pnpm-workspace.yaml');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new SafeInstallError('E_USAGE', `pnpm-workspace.yaml is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, 'fix the file; pnpm would refuse it too');
  for (const id of approved) {
    if (doc.getIn(['allowBuilds', id]) === undefined) doc.setIn(['allowBuilds', id], true);
  }
  const next = approved.length === 0 ? text : doc.toString();
  if (next === text) return { changed: false };
  const tmp = `${file}.safe-install-${process.pid}.tmp`;
  fs.writeFileSync(tmp, next);
  fs.renameSync(tmp, file);
  return { changed: true };
}
