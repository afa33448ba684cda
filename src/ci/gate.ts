/**
 * The CI gate: what changed in the lockfiles between the base and the working tree, sandboxed.
 *
 * 1. Lockfiles (package-lock.json / npm-shrinkwrap.json, pnpm-lock.yaml) are read at the base
 *    commit and in the working tree and compared; an unchanged tree returns at once, without
 *    loading npm's libraries or touching Docker.
 * 2. Every added or changed package runs in one sandbox session (`name@version`, from the registry
 *    its lockfile entry came from), and each fetched tarball must have the integrity the lockfile
 *    records: the gate judges exactly what `npm ci` would install, or refuses.
 * 3. Changed packages with install-time code also run their base version (a second session: each
 *    version gets a fresh decoy machine, so one cannot prime the other) and the behaviour diff says
 *    what is new.
 * 4. Python (requirements*.txt and what they include, uv.lock, poetry.lock: ./python.ts): added
 *    and changed packages go through the pip front-end's vetting in the same run (sdists built in
 *    the sandbox, wheels inspected), and their findings join the report. Changed ones whose new
 *    version builds in the sandbox are vetted at their base version too (one more pass), and
 *    their behaviour diffs join npm's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import { scan, type ScanOptions } from '../pipeline/scan.js';
import { buildJsonReport, type JsonReport } from '../report/json.js';
import { worstVerdict } from '../rules/verdict.js';
import { diffChangedVersions, findPackage, hasInstallTimeCode } from '../diff/behaviour.js';
import type { BehaviourDiff } from '../diff/types.js';
import { fileAt, repoRoot, resolveBase } from './git.js';
import { changedVersion, diffLockfiles } from './lockfile-diff.js';
import { parsePackageLock } from './package-lock.js';
import { parsePnpmLock } from './pnpm-lock.js';
import type { CachedChange, CiResult, LockedPackage, LockfileChange, PackageLocation, ParsedLockfile } from './types.js';
import { pythonDelta, vetPythonChanges, type PythonIndexOptions, type PythonTree } from './python.js';
import { VerdictCache } from '../cache/index.js';
import { connectDocker } from '../sandbox/docker.js';
import { ensureSandboxImage } from '../sandbox/image/index.js';
import { integrityMatches } from './integrity.js';

const LOCKFILES: { file: string; parse: (text: string, path: string) => ParsedLockfile }[] = [
  { file: 'package-lock.json', parse: parsePackageLock },
  { file: 'npm-shrinkwrap.json', parse: parsePackageLock },
  { file: 'pnpm-lock.yaml', parse: parsePnpmLock },
];

export interface CiOptions {
  cwd: string;
  base?: string;
  /** Overrides the registry taken from the lockfile's `resolved` URLs. */
  registry?: string;
  tool: { name: string; version: string };
  scan: Omit<ScanOptions, 'specs' | 'registry'>;
  env?: NodeJS.ProcessEnv;
  /** Told which phase runs, for progress on stderr. */
  onPhase?: (message: string) => void;
  /** The install verdict cache and the digest of the policy in force; absent: run everything. */
  cache?: { verdicts: VerdictCache; policyDigest: string };
  /** Python indexes (`--index-url` ...) and interpreter; pip's config and PIP_* variables apply below them. */
  pip?: PythonIndexOptions;
}

export interface LockfileDelta {
  base: CiResult['base'];
  lockfiles: string[];
  changes: LockfileChange[];
  notes: string[];
  /** The Python files as read, for step 2. */
  python: PythonTree;
}

/** Step 1 alone: cheap, no network, no Docker. */
export async function lockfileDelta(opts: Pick<CiOptions, 'cwd' | 'base' | 'env'>): Promise<LockfileDelta> {
  const root = await repoRoot(opts.cwd);
  const base = await resolveBase(root, opts.base, opts.env);
  const lockfiles: string[] = [];
  const changes: LockfileChange[] = [];
  for (const { file, parse } of LOCKFILES) {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) continue;
    lockfiles.push(file);
    const headText = fs.readFileSync(full, 'utf8');
    const baseText = await fileAt(root, base.commit, file);
    if (baseText === headText) continue;
    changes.push(...diffLockfiles(baseText === null ? null : parse(baseText, file), parse(headText, file)));
  }
  const python = await pythonDelta(root, base.commit, opts.env ?? process.env);
  lockfiles.push(...python.files);
  changes.push(...python.changes);
  if (lockfiles.length === 0) {
    throw new SafeInstallError(
      'E_LOCKFILE',
      `no lockfile in ${root}`,
      'commit a package-lock.json (npm install --package-lock-only), pnpm-lock.yaml, requirements.txt, uv.lock or poetry.lock: the gate compares lockfiles',
    );
  }
  return { base, lockfiles, changes, notes: python.notes, python: python.tree };
}

export async function runCi(opts: CiOptions): Promise<CiResult> {
  const { python, ...delta } = await lockfileDelta(opts);
  const say = opts.onPhase ?? (() => undefined);
  if (delta.changes.length === 0) {
    return { ...delta, report: null, diffs: [], verdict: 'allow', cached: [] };
  }
  say(`${delta.changes.length} added or changed package${delta.changes.length === 1 ? '' : 's'} since ${delta.base.ref}`);
  const root = await repoRoot(opts.cwd);
  const npmChanges = delta.changes.filter((c) => c.pkg.ecosystem === undefined);
  const pythonChanges = delta.changes.filter((c) => c.pkg.ecosystem === 'pypi');
  const notes = [...delta.notes];
  const reports: JsonReport[] = [];
  const diffs: BehaviourDiff[] = [];

  // npm: the verdict cache first (its keys are npm's sha512 integrities), then one session.
  const cached = opts.cache && npmChanges.length > 0 ? await fromCache(npmChanges, opts) : [];
  const toRun = npmChanges.filter((c) => !cached.some((hit) => hit.change === c));
  if (cached.length > 0) say(`${cached.length} already decided (verdict cache), ${toRun.length} to sandbox`);
  if (toRun.length > 0) {
    const report = await scanLocked(
      toRun.map((c) => c.pkg),
      root,
      opts,
    );
    verifyIntegrity(toRun, report);
    reports.push(report);

    // The base versions of changed packages that now have install-time code.
    const toCompare = toRun.filter((c) => c.previous && findPackage([report], c.pkg.name, c.pkg.version, hasInstallTimeCode));
    if (toCompare.length > 0) {
      say(`running ${toCompare.length} base version${toCompare.length === 1 ? '' : 's'} for the behaviour diff`);
      let before: JsonReport | null = null;
      try {
        before = await scanLocked(
          toCompare.map((c) => c.previous!),
          root,
          opts,
        );
      } catch (err) {
        // The diff explains a verdict; it is not the verdict. Without it the gate still judges.
        notes.push(`the base versions could not be scanned for the behaviour diff: ${(err as Error).message}`);
      }
      diffs.push(...diffChangedVersions(toCompare.map(changedVersion), [report], before ? [before] : null));
    }
  }

  // Python: the pip front-end's vetting, nothing installed.
  let located: PackageLocation[] = [];
  if (pythonChanges.length > 0) {
    say(`vetting ${pythonChanges.length} Python package change${pythonChanges.length === 1 ? '' : 's'} (sdists built in the sandbox, wheels inspected)`);
    const vetted = await vetPythonChanges(pythonChanges, python, { root, tool: opts.tool, scan: opts.scan, onPhase: say, ...(opts.pip ? { index: opts.pip } : {}) });
    reports.push(...vetted.reports);
    located = vetted.located;
    notes.push(...vetted.notes);
    diffs.push(...vetted.diffs);
  }

  const result = { ...delta, notes, diffs, cached, ...(located.length > 0 ? { located } : {}) };
  if (reports.length === 0) return { ...result, report: null, verdict: 'allow' };
  const report = mergeReports(reports);
  return { ...result, report, verdict: report.verdict };
}

/**
 * What the install verdict cache already knows, keyed by the lockfile's integrity (sha512 only):
 * a tarball with no install-time code, or an allow verdict for these bytes under this policy and
 * this sandbox image. Only allow is ever cached, so review and block always run again. Docker is
 * asked for the image only when some package has install-time code.
 */
async function fromCache(changes: readonly LockfileChange[], opts: CiOptions): Promise<CachedChange[]> {
  const { verdicts, policyDigest } = opts.cache!;
  const out: CachedChange[] = [];
  const withScripts: LockfileChange[] = [];
  for (const change of changes) {
    const integrity = change.pkg.integrity;
    if (!VerdictCache.usable(integrity)) continue;
    const facts = verdicts.getFacts(integrity);
    if (facts && Object.keys(facts.scripts).length === 0) out.push({ change, verdict: 'allow', reason: 'no install-time code', findings: [] });
    else if (facts) withScripts.push(change);
  }
  if (withScripts.length > 0) {
    const image = await ensureSandboxImage(await connectDocker(), { ...(opts.scan.baseImage ? { baseImage: opts.scan.baseImage } : {}) });
    for (const change of withScripts) {
      const hit = verdicts.getVerdict({ integrity: change.pkg.integrity!, policyDigest, image: image.tag });
      if (hit) out.push({ change, verdict: 'allow', reason: 'allowed before', findings: hit.verdict.findings });
    }
  }
  return out;
}

/** Specs for locked packages: `name@version` from their registry, local folders and git as-is. */
function specFor(pkg: LockedPackage, root: string): string {
  const resolved = pkg.resolved ?? '';
  if (resolved.startsWith('file:')) return path.resolve(root, resolved.slice('file:'.length));
  if (/^git(\+|:)/.test(resolved)) return resolved;
  return `${pkg.name}@${pkg.version}`;
}

/** `https://r.example/npm/@s/n/-/n-1.0.0.tgz` → `https://r.example/npm/`: where the lockfile's packages came from. */
export function registryOf(pkgs: readonly LockedPackage[]): string | undefined {
  const bases = new Set<string>();
  for (const pkg of pkgs) {
    const resolved = pkg.resolved ?? '';
    const marker = `/${pkg.name}/-/`;
    const at = resolved.indexOf(marker);
    if (/^https?:\/\//.test(resolved) && at > 0) bases.add(resolved.slice(0, at + 1));
  }
  // Several registries in one change: the user must say which one resolves `name@version`.
  return bases.size === 1 ? [...bases][0] : undefined;
}

/**
 * One session per round; a round never holds two versions of one name (they would share
 * `node_modules/<name>` in the sandbox's project). Rounds merge into one report: evidence ids are
 * per package, so packages from different sessions never cite each other's events.
 */
async function scanLocked(pkgs: readonly LockedPackage[], root: string, opts: CiOptions): Promise<JsonReport> {
  const rounds: LockedPackage[][] = [];
  const seen = new Set<string>();
  for (const pkg of pkgs) {
    // The same package in two lockfiles (or twice in pnpm's) runs once.
    const id = `${pkg.name}@${pkg.version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const round = rounds.find((r) => !r.some((p) => p.name === pkg.name));
    if (round) round.push(pkg);
    else rounds.push([pkg]);
  }
  const registry = opts.registry ?? registryOf(pkgs);
  const reports: JsonReport[] = [];
  for (const round of rounds) {
    const result = await scan({ ...opts.scan, specs: [...new Set(round.map((p) => specFor(p, root)))], ...(registry ? { registry } : {}) });
    reports.push(buildJsonReport({ chain: result.chain, assessment: result.assessment, tool: opts.tool, provenance: { command: 'ci', registry: registry ?? null } }));
  }
  return mergeReports(reports);
}

function mergeReports(reports: JsonReport[]): JsonReport {
  const [first, ...rest] = reports;
  if (!first) throw new Error('no report to merge');
  if (rest.length === 0) return first;
  return {
    ...first,
    verdict: worstVerdict(reports.map((r) => r.verdict)),
    packages: reports.flatMap((r) => r.packages),
    errors: reports.flatMap((r) => r.errors),
    startedAt: Math.min(...reports.map((r) => r.startedAt)),
    endedAt: Math.max(...reports.map((r) => r.endedAt)),
  };
}

/** The gate judged what the lockfile pins, or nothing: a different tarball is an error (exit 2). */
function verifyIntegrity(changes: readonly LockfileChange[], report: JsonReport): void {
  for (const { pkg, lockfile } of changes) {
    const scanned = report.packages.filter((p) => p.name === pkg.name && p.version === pkg.version);
    if (scanned.length === 0) {
      throw new SafeInstallError('E_RESOLVE', `${pkg.name}@${pkg.version} (${lockfile}:${pkg.line}) was not part of the sandboxed tree`, 'this is a bug in safe-install; please report it with the lockfile change');
    }
    if (pkg.integrity === undefined) continue;
    if (!scanned.some((p) => integrityMatches(pkg.integrity!, p.integrity))) {
      throw new SafeInstallError(
        'E_INTEGRITY',
        `${pkg.name}@${pkg.version}: the registry's tarball (${scanned[0]!.integrity.slice(0, 24)}…) does not match ${lockfile}:${pkg.line} (${pkg.integrity.slice(0, 24)}…)`,
        'the lockfile and the registry disagree: check --registry, or regenerate the lockfile if the change is expected',
      );
    }
  }
}
