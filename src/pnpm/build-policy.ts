/**
 * Which dependency builds pnpm itself would run, from its settings: `allowBuilds`,
 * `onlyBuiltDependencies` (+ `onlyBuiltDependenciesFile`), `neverBuiltDependencies` and
 * `dangerouslyAllowAllBuilds`, read where pnpm reads them (pnpm-workspace.yaml, the root
 * package.json's `pnpm` field, .npmrc). Mirrors pnpm's createAllowBuildFunction: a package
 * pnpm would not build is not run in the sandbox either, and is reported as skipped.
 */
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { parse } from 'yaml';
import { SafeInstallError } from '../errors/index.js';

export interface PnpmBuildSettings {
  allowBuilds?: Record<string, boolean>;
  onlyBuiltDependencies?: string[];
  onlyBuiltDependenciesFile?: string;
  neverBuiltDependencies?: string[];
  dangerouslyAllowAllBuilds?: boolean;
}

export interface BuildDecision {
  build: boolean;
  /** Which setting decided, for the report. */
  why: string;
}

export function readBuildSettings(rootDir: string): PnpmBuildSettings {
  const settings: PnpmBuildSettings = {};
  const manifestFile = path.join(rootDir, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { pnpm?: Record<string, unknown> };
  const workspaceFile = path.join(rootDir, 'pnpm-workspace.yaml');
  let workspace: Record<string, unknown> = {};
  if (fs.existsSync(workspaceFile)) {
    try {
      workspace = (parse(fs.readFileSync(workspaceFile, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new SafeInstallError('E_USAGE', `pnpm-workspace.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`, 'fix the file; pnpm would refuse it too');
    }
  }
  // pnpm-workspace.yaml wins over package.json's `pnpm` field, as in pnpm 10.
  for (const source of [manifest.pnpm ?? {}, workspace]) {
    if (isBoolMap(source.allowBuilds)) settings.allowBuilds = { ...settings.allowBuilds, ...source.allowBuilds };
    if (isStrings(source.onlyBuiltDependencies)) settings.onlyBuiltDependencies = source.onlyBuiltDependencies;
    if (typeof source.onlyBuiltDependenciesFile === 'string') settings.onlyBuiltDependenciesFile = path.join(rootDir, source.onlyBuiltDependenciesFile);
    if (isStrings(source.neverBuiltDependencies)) settings.neverBuiltDependencies = source.neverBuiltDependencies;
    if (typeof source.dangerouslyAllowAllBuilds === 'boolean') settings.dangerouslyAllowAllBuilds = source.dangerouslyAllowAllBuilds;
  }
  const npmrc = path.join(rootDir, '.npmrc');
  if (fs.existsSync(npmrc)) {
    for (const line of fs.readFileSync(npmrc, 'utf8').split(/\r?\n/)) {
      const m = /^\s*([\w-]+)(\[\])?\s*=\s*(.*?)\s*$/.exec(line);
      if (!m) continue;
      const [, key, , value] = m;
      if (key === 'dangerously-allow-all-builds') settings.dangerouslyAllowAllBuilds = value === 'true';
      if (key === 'only-built-dependencies') settings.onlyBuiltDependencies = [...(settings.onlyBuiltDependencies ?? []), value!];
      if (key === 'never-built-dependencies') settings.neverBuiltDependencies = [...(settings.neverBuiltDependencies ?? []), value!];
    }
  }
  return settings;
}

export function buildDecider(settings: PnpmBuildSettings, pnpmMajor: number): (name: string, version: string) => BuildDecision {
  if (settings.dangerouslyAllowAllBuilds) return () => ({ build: true, why: 'dangerouslyAllowAllBuilds' });
  let only = settings.onlyBuiltDependencies ? [...settings.onlyBuiltDependencies] : undefined;
  for (const [pattern, build] of Object.entries(settings.allowBuilds ?? {})) {
    if (build) (only ??= []).push(pattern);
  }
  if (settings.onlyBuiltDependenciesFile) {
    let fromFile: unknown;
    try {
      fromFile = JSON.parse(fs.readFileSync(settings.onlyBuiltDependenciesFile, 'utf8'));
    } catch (err) {
      throw new SafeInstallError('E_USAGE', `onlyBuiltDependenciesFile ${settings.onlyBuiltDependenciesFile} cannot be read: ${(err as Error).message}`, 'fix the path or the JSON; pnpm would fail too');
    }
    if (!isStrings(fromFile)) throw new SafeInstallError('E_USAGE', `onlyBuiltDependenciesFile ${settings.onlyBuiltDependenciesFile} is not a JSON array of names`, 'it must hold e.g. ["esbuild"]');
    (only ??= []).push(...fromFile);
  }
  if (only) {
    const allowed = expandSpecs(only);
    return (name, version) =>
      allowed.has(name) || allowed.has(`${name}@${version}`)
        ? { build: true, why: 'listed in allowBuilds/onlyBuiltDependencies' }
        : { build: false, why: 'not in allowBuilds/onlyBuiltDependencies' };
  }
  if (settings.neverBuiltDependencies && settings.neverBuiltDependencies.length > 0) {
    const never = new Set(settings.neverBuiltDependencies);
    return (name) => (never.has(name) ? { build: false, why: 'listed in neverBuiltDependencies' } : { build: true, why: 'not in neverBuiltDependencies' });
  }
  // pnpm 10 stopped running dependency builds unless allowed; pnpm 9 ran them all.
  if (pnpmMajor >= 10) return () => ({ build: false, why: `pnpm ${pnpmMajor} builds only dependencies listed in allowBuilds` });
  return () => ({ build: true, why: `pnpm ${pnpmMajor} builds every dependency` });
}

/** `a`, `a@1.0.0`, `a@1.0.0 || 2.0.0` → the names and name@versions they allow. */
function expandSpecs(specs: string[]): Set<string> {
  const out = new Set<string>();
  for (const spec of specs) {
    const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
    if (at === -1) {
      out.add(spec);
      continue;
    }
    const name = spec.slice(0, at);
    for (const raw of spec.slice(at + 1).split('||')) {
      const v = semver.valid(raw.trim());
      // A peer suffix or a depPath key: its version still counts.
      if (v) out.add(`${name}@${v}`);
      else out.add(`${name}@${raw.trim().replace(/\(.*$/, '')}`);
    }
  }
  return out;
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isBoolMap(v: unknown): v is Record<string, boolean> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'boolean');
}
