/**
 * pip through the sandbox: resolve and download on the host without building anything, build
 * every sdist into a wheel in the sandbox (traced like any install script: same chain, rules,
 * policy), inspect every wheel (built or downloaded) before it lands, and only then let pip
 * install the vetted wheels, from a local wheelhouse, with no index and binaries only.
 *
 * Resolution (helper-py.ts `resolve`) reads simple-index pages and find-links itself and picks
 * files with pip's own `packaging` (specifiers, markers, wheel tags), because `pip download`
 * and `pip install --dry-run` run sdist build backends to learn metadata: that is exactly the
 * code this tool must not run on the host. An sdist's dependencies come from its PKG-INFO
 * when PEP 643 makes them binding (Metadata-Version >= 2.2, Requires-Dist not Dynamic);
 * otherwise from the wheel the sandbox built, after which resolution runs again (and, if that
 * adds packages, the sandbox too). The resolver is greedy: highest allowed version, no
 * backtracking; a conflict is an error (exit 2), never a guess.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { SafeInstallError } from '../errors/index.js';
import { sandboxPackages } from '../pipeline/sandbox.js';
import type { ProgressListener } from '../pipeline/progress.js';
import { applyPolicy } from '../policy/apply.js';
import type { Policy } from '../policy/types.js';
import type { Assessment, PackageAssessment } from '../rules/types.js';
import { bySeverity, verdictOf, worstVerdict } from '../rules/verdict.js';
import type { PlanLimits } from '../sandbox/plan.js';
import { onCleanup } from '../sandbox/cleanup.js';
import { emptyPackageSession, type PackageInfo, type SessionChain } from '../session/types.js';
import { runHelper, targetPython } from './python.js';
import { wheelFindings, type WheelInspection } from './wheel-findings.js';

/** Where the sandbox build leaves the wheel, inside the sdist's own folder (so it is exported). */
export const WHEEL_DIR = '.safe-install-wheel';
/**
 * The build as one install script: pip's own wheel build, offline, no isolation (the image's
 * setuptools and wheel), no cache in the home, no pip config read (so pip itself never touches
 * the decoy pip.conf: a read of it is the package's doing).
 */
export const BUILD_COMMAND = `PIP_CONFIG_FILE=/dev/null PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip wheel --no-deps --no-build-isolation --no-index -w ${WHEEL_DIR} .`;
/** A wheel from the sandbox is far smaller than this; anything bigger is refused. */
const OUTPUTS_MAX_BYTES = 256 * 1024 ** 2;
const MAX_ROUNDS = 4;

/** A requirement line read elsewhere (the CI gate reads requirement files and lockfiles itself). */
export interface RequirementEntry {
  /** As pip takes it: `name==1.0`, `name[x]>=2 ; python_version < "3.12"`, a local archive path. */
  spec: string;
  /** `sha256:<hex>`: the fetched file must be one of these. */
  hashes: string[];
  /** The folder relative paths in `spec` are relative to. */
  base: string;
  /** Where it was written (`requirements.txt:3`), for messages. */
  origin: string;
}

export interface PipRequest {
  /** Interpreter to install into (default: the active virtualenv's, else python3). */
  python?: string;
  /** Requirement specifiers or paths of .whl / .tar.gz / .zip files. */
  requirements: string[];
  requirementFiles: string[];
  constraintFiles: string[];
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
  noIndex: boolean;
  requireHashes: boolean;
  pre: boolean;
  /** Scan: resolve as if nothing were installed. */
  ignoreInstalled?: boolean;
  requirementEntries?: RequirementEntry[];
  constraintEntries?: RequirementEntry[];
  /** Only what was asked for, not its dependencies (a lockfile lists those itself). */
  noDeps?: boolean;
  /** Indexes a lockfile names: used when neither a flag nor pip's config names one (then instead of PyPI). */
  sourceIndexUrls?: string[];
  /** A requirement whose files all fit other platforms is listed in `unavailable` instead of failing. */
  skipUnavailable?: boolean;
  /**
   * Give each sdist the install-time code of the version published before it (a wheel: none; an
   * sdist: its build), so `install-script-added` flags a release that suddenly builds from source.
   */
  previousBuilds?: boolean;
  baseImage?: string;
  limits?: Partial<PlanLimits>;
  policy?: Policy;
  onProgress?: ProgressListener;
}

export interface ResolvedDist {
  name: string;
  displayName: string;
  version: string;
  kind: 'wheel' | 'sdist';
  filename: string;
  path: string;
  sha256: string;
  url: string;
  requires: string[] | null;
  depsKnown: boolean;
  /** The package whose dependency this is; null for what was asked for. */
  requiredBy: string | null;
  /** How the version before this one installs ('wheel', 'sdist'), null for a first release; absent for files. */
  previousKind?: 'wheel' | 'sdist' | null;
}

export interface Resolution {
  packages: ResolvedDist[];
  satisfied: { name: string; version: string }[];
  /** With `skipUnavailable`: requirements this Python has no installable file for. */
  unavailable: { name: string; spec: string; files: string[]; requiredBy: string | null }[];
  /** Requirements whose environment marker excludes this Python. */
  markerExcluded: { name: string; origin: string; marker: string }[];
}

export interface PreparedPip {
  python: string;
  chain: SessionChain;
  assessment: Assessment;
  verdict: Assessment['verdict'];
  /** What would be installed (name, version, wheel or built sdist). */
  packages: { name: string; version: string; kind: 'wheel' | 'sdist'; wheel: string | null }[];
  /** Requirements the environment already satisfies (nothing to do). */
  satisfied: { name: string; version: string }[];
  /** Builds that failed or wheels this Python cannot install: apply refuses. */
  failures: string[];
  /** The part of `failures` where what pip would install was never inspected (no wheel came back). */
  incomplete: string[];
  containerStarted: boolean;
  apply(opts?: { stdio?: 'inherit' | 'stderr' }): Promise<void>;
  discard(): void;
}

export async function preparePip(req: PipRequest): Promise<PreparedPip> {
  const python = targetPython(req.python);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-pip-'));
  const cleanup = () => fs.rmSync(workDir, { recursive: true, force: true });
  const release = onCleanup(async () => cleanup());
  try {
    const prepared = await analyse(req, python, workDir);
    const done = () => {
      release();
      cleanup();
    };
    return {
      ...prepared,
      apply: async (o) => {
        try {
          await installWheels(python, workDir, prepared, o?.stdio ?? 'inherit');
        } finally {
          done();
        }
      },
      discard: done,
    };
  } catch (err) {
    release();
    cleanup();
    throw err;
  }
}

type Analysis = Omit<PreparedPip, 'apply' | 'discard'>;

function resolutionKey(resolution: Resolution): string {
  return resolution.packages.map((p) => `${p.name}==${p.version}:${p.sha256}`).join('\n');
}

async function analyse(req: PipRequest, python: string, workDir: string): Promise<Analysis> {
  const progress = req.onProgress ?? (() => undefined);
  const known: Record<string, string[]> = {};
  let previousKey = '';
  const resolveWith = (dest: string): Promise<Resolution> => resolveOnHost(req, python, known, dest);
  for (let round = 1; ; round++) {
    progress({ stage: 'resolve', done: 0, total: 1 });
    const resolution = await resolveWith(path.join(workDir, `round-${round}`, 'downloads'));
    progress({ stage: 'resolve', done: 1, total: 1 });
    const key = resolutionKey(resolution);
    const analysis = await vet(req, python, resolution, path.join(workDir, `round-${round}`));
    // Dependencies only the build could tell: resolve again with them; stop when nothing new.
    let learned = false;
    for (const p of resolution.packages) {
      if (p.kind !== 'sdist' || p.depsKnown) continue;
      const built = analysis.built.get(p.name);
      if (built && known[p.name] === undefined) {
        known[p.name] = built.requires;
        if (built.requires.length > 0) learned = true;
      }
    }
    if (!learned || analysis.result.verdict === 'block' || analysis.result.failures.length > 0 || key === previousKey) return analysis.result;
    if (round >= MAX_ROUNDS) {
      throw new SafeInstallError('E_RESOLVE', `the dependencies of the sdists did not settle after ${MAX_ROUNDS} sandbox builds`, 'pin the dependencies in a requirements file (or use wheels) and try again');
    }
    // The same packages again after learning their dependencies: this round's analysis stands.
    const again = await resolveWith(path.join(workDir, `round-${round}`, 'recheck'));
    if (resolutionKey(again) === key) return analysis.result;
    previousKey = key;
  }
}

export interface PipVetting {
  python: string;
  /** One per sandbox session: a name resolved to two different files (two requests) needs two. */
  sessions: Analysis[];
  /** The last resolution of each request, in the order given. */
  resolutions: Resolution[];
}

/**
 * Several installs judged together, none applied (the CI gate: one per requirements file and
 * lockfile that changed). Each request is resolved on the host as its own `pip install` would be;
 * the union of what they would install is vetted once: sdists built and traced in one sandbox
 * session, every wheel inspected. As in `preparePip`, dependencies that only a build tells are
 * resolved again afterwards, and what that adds is vetted in a further session.
 */
export async function vetPipRequests(reqs: readonly PipRequest[], opts: VetOptions & { python?: string }): Promise<PipVetting> {
  const python = targetPython(opts.python);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-pip-'));
  const release = onCleanup(async () => fs.rmSync(workDir, { recursive: true, force: true }));
  const progress = opts.onProgress ?? (() => undefined);
  try {
    const known: Record<string, string[]> = {};
    const vetted = new Set<string>();
    const sessions: Analysis[] = [];
    let resolutions: Resolution[] = [];
    for (let round = 1; ; round++) {
      resolutions = [];
      for (const [i, req] of reqs.entries()) {
        progress({ stage: 'resolve', done: i, total: reqs.length });
        resolutions.push(await resolveOnHost(req, python, known, path.join(workDir, `round-${round}`, `request-${i + 1}`)));
      }
      progress({ stage: 'resolve', done: reqs.length, total: reqs.length });
      const fresh = new Map<string, ResolvedDist>();
      for (const dist of resolutions.flatMap((r) => r.packages)) {
        const id = `${dist.name}==${dist.version}:${dist.sha256}`;
        if (!vetted.has(id) && !fresh.has(id)) fresh.set(id, dist);
      }
      if (fresh.size === 0) break;
      // A session's sandbox project holds one folder per name.
      const groups: ResolvedDist[][] = [];
      for (const dist of fresh.values()) {
        const group = groups.find((g) => !g.some((d) => d.name === dist.name));
        if (group) group.push(dist);
        else groups.push([dist]);
      }
      let learned = false;
      for (const [j, group] of groups.entries()) {
        const dir = path.join(workDir, `round-${round}`, `session-${j + 1}`);
        fs.mkdirSync(dir, { recursive: true });
        const { result, built } = await vet(opts, python, { packages: group, satisfied: [], unavailable: [], markerExcluded: [] }, dir);
        sessions.push(result);
        for (const dist of group) {
          vetted.add(`${dist.name}==${dist.version}:${dist.sha256}`);
          const inspection = built.get(dist.name);
          if (dist.kind !== 'sdist' || dist.depsKnown || !inspection || known[dist.name] !== undefined) continue;
          known[dist.name] = inspection.requires;
          if (inspection.requires.length > 0) learned = true;
        }
      }
      if (!learned || sessions.some((s) => s.verdict === 'block' || s.incomplete.length > 0)) break;
      if (round >= MAX_ROUNDS) {
        throw new SafeInstallError('E_RESOLVE', `the dependencies of the sdists did not settle after ${MAX_ROUNDS} sandbox builds`, 'pin the dependencies in the requirements file (or use wheels) and try again');
      }
    }
    return { python, sessions, resolutions };
  } finally {
    release();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * What the user asked for, plus the dependencies learned from builds so far (`known`): chosen on
 * the host from index pages and find-links, downloaded and hash-checked, nothing built.
 */
export function resolveOnHost(req: PipRequest, python: string, known: Record<string, string[]>, dest: string): Promise<Resolution> {
  return runHelper<Resolution>(python, 'resolve', {
    requirements: req.requirements,
    requirementFiles: req.requirementFiles.map((f) => path.resolve(f)),
    constraintFiles: req.constraintFiles.map((f) => path.resolve(f)),
    requirementEntries: req.requirementEntries ?? [],
    constraintEntries: req.constraintEntries ?? [],
    indexUrl: req.indexUrl ?? null,
    extraIndexUrls: req.extraIndexUrls,
    findLinks: req.findLinks.map((f) => (f.includes('://') ? f : path.resolve(f))),
    noIndex: req.noIndex,
    requireHashes: req.requireHashes,
    pre: req.pre,
    ignoreInstalled: req.ignoreInstalled === true,
    noDeps: req.noDeps === true,
    sourceIndexUrls: req.sourceIndexUrls ?? [],
    skipUnavailable: req.skipUnavailable === true,
    known,
    dest,
  });
}

type VetOptions = Pick<PipRequest, 'baseImage' | 'limits' | 'policy' | 'onProgress' | 'previousBuilds'>;

async function vet(
  req: VetOptions,
  python: string,
  resolution: Resolution,
  dir: string,
): Promise<{ result: Analysis; built: Map<string, WheelInspection> }> {
  const progress = req.onProgress ?? (() => undefined);
  const location = (p: ResolvedDist) => `node_modules/${p.name}`;
  const info = (p: ResolvedDist, tarball: string, scripts: PackageInfo['scripts']): PackageInfo => ({
    name: p.name,
    version: p.version,
    integrity: `sha256-${Buffer.from(p.sha256, 'hex').toString('base64')}`,
    resolved: p.url,
    location: location(p),
    scripts,
    implicitNodeGyp: false,
    dependencies: [],
    tarball,
    ...(req.previousBuilds && p.previousKind !== undefined ? { previousScripts: previousScriptsOf(p.previousKind) } : {}),
  });
  const sdists = resolution.packages.filter((p) => p.kind === 'sdist');
  const sdistInfos: PackageInfo[] = [];
  for (const p of sdists) {
    let tarball = p.path;
    if (p.filename.endsWith('.zip')) {
      // The runner unpacks with tar: a zip sdist is rewritten (entries checked) as .tar.gz.
      tarball = path.join(dir, 'repacked', `${p.name}-${p.version}.tar.gz`);
      fs.mkdirSync(path.dirname(tarball), { recursive: true });
      await runHelper(python, 'repack', { path: p.path, dest: tarball });
    }
    sdistInfos.push(info(p, tarball, { install: BUILD_COMMAND }));
  }
  const result = await sandboxPackages(sdistInfos, { name: 'webapp', version: '1.0.0', private: true }, {
    ...(req.baseImage ? { baseImage: req.baseImage } : {}),
    ...(req.limits ? { limits: req.limits } : {}),
    exportOutputsMaxBytes: OUTPUTS_MAX_BYTES,
    onProgress: progress,
  });
  const chain = result.chain;
  const byLocation = new Map(result.assessment.packages.map((a) => [a.location, a]));
  const failures: string[] = [];
  const incomplete: string[] = [];
  const built = new Map<string, WheelInspection>();
  const wheels = new Map<string, string>();
  const extractDir = path.join(dir, 'built');
  for (const p of sdists) {
    const pkg = chain.packages.find((c) => c.info.location === location(p));
    const script = pkg?.session.scripts[0];
    const fail = (message: string) => {
      failures.push(message);
      incomplete.push(message);
    };
    if (!script || script.outcome !== 'ok') {
      fail(`building ${p.name} ${p.version} in the sandbox ${script ? `ended ${script.outcome}${script.exitCode !== null ? ` (exit ${script.exitCode})` : ''}` : 'did not run'}${script?.stderr.head ? `: ${lastLine(script.stderr.head)}` : ''}`);
      continue;
    }
    const out = result.outputs.get(location(p));
    if (!out || out.error || out.tar.length === 0) {
      fail(`the wheel built from ${p.name} ${p.version} did not come back from the sandbox${out?.error ? `: ${out.error}` : ''}`);
      continue;
    }
    const tarFile = path.join(dir, `${p.name}.outputs.tar`);
    fs.writeFileSync(tarFile, out.tar);
    const got = await runHelper<{ wheels: string[] }>(python, 'extract-wheel', { tar: tarFile, dir: WHEEL_DIR, dest: path.join(extractDir, p.name) });
    if (got.wheels.length !== 1) {
      fail(`building ${p.name} ${p.version} left ${got.wheels.length} wheels instead of one`);
      continue;
    }
    const wheel = got.wheels[0]!;
    const inspection = await runHelper<WheelInspection>(python, 'inspect', { wheel });
    built.set(p.name, inspection);
    wheels.set(p.name, wheel);
    if (!inspection.compatible) failures.push(`the wheel built from ${p.name} ${p.version} (${inspection.tags.join('.')}) does not fit ${python}`);
    const assessed = byLocation.get(location(p));
    if (assessed) assessed.findings.push(...wheelFindings(inspection, { name: p.name, version: p.version }));
  }
  for (const p of resolution.packages.filter((d) => d.kind === 'wheel')) {
    const inspection = await runHelper<WheelInspection>(python, 'inspect', { wheel: p.path, filename: p.filename });
    wheels.set(p.name, p.path);
    chain.packages.push({ info: info(p, p.path, {}), session: emptyPackageSession() });
    const findings = wheelFindings(inspection, { name: p.name, version: p.version });
    const assessed: PackageAssessment = { location: location(p), verdict: 'allow', findings };
    result.assessment.packages.push(assessed);
    byLocation.set(assessed.location, assessed);
  }
  for (const a of result.assessment.packages) {
    a.findings = bySeverity(a.findings);
    a.verdict = verdictOf(a.findings);
  }
  const rawVerdict = result.assessment.verdict === 'block' ? 'block' : worstVerdict(result.assessment.packages.map((a) => a.verdict));
  let assessment: Assessment = { verdict: rawVerdict, packages: result.assessment.packages };
  if (req.policy) assessment = applyPolicy(assessment, chain, req.policy);
  progress({ stage: 'verdict', verdict: assessment.verdict });
  return {
    built,
    result: {
      python,
      chain,
      assessment,
      verdict: assessment.verdict,
      packages: resolution.packages.map((p) => ({ name: p.name, version: p.version, kind: p.kind, wheel: wheels.get(p.name) ?? null })),
      satisfied: resolution.satisfied,
      failures,
      incomplete,
      containerStarted: result.containerStarted,
    },
  };
}

/** The install-time code of the version before: a wheel runs none, an sdist its build. */
function previousScriptsOf(kind: 'wheel' | 'sdist' | null): PackageInfo['previousScripts'] {
  if (kind === null) return null;
  return kind === 'sdist' ? { install: BUILD_COMMAND } : {};
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  return (lines.pop() ?? '').slice(0, 200);
}

/**
 * The host install: only the vetted wheels, from a wheelhouse of exactly those files, with no
 * index, binaries only (nothing can be built here) and no pip config (which could add an index).
 */
async function installWheels(python: string, workDir: string, prepared: Analysis, stdio: 'inherit' | 'stderr'): Promise<void> {
  if (prepared.failures.length > 0) {
    throw new SafeInstallError('E_SANDBOX', prepared.failures.join('; '), 'pip would fail this install too; nothing was installed');
  }
  if (prepared.packages.length === 0) return;
  const house = path.join(workDir, 'wheelhouse');
  fs.mkdirSync(house, { recursive: true });
  for (const p of prepared.packages) {
    if (!p.wheel) throw new SafeInstallError('E_INTERNAL', `no vetted wheel for ${p.name} ${p.version}`, 'this is a bug in safe-install; nothing was installed');
    fs.copyFileSync(p.wheel, path.join(house, path.basename(p.wheel)));
  }
  const args = ['-I', '-m', 'pip', 'install', '--no-index', '--find-links', house, '--only-binary', ':all:', '--no-cache-dir', '--disable-pip-version-check', ...prepared.packages.map((p) => `${p.name}==${p.version}`)];
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_CONFIG_FILE: os.devNull, PIP_NO_INPUT: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('PIP_') && !['PIP_CONFIG_FILE', 'PIP_NO_INPUT'].includes(k)) delete env[k];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(python, args, { stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 2, 2], env });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  if (code !== 0) {
    throw new SafeInstallError('E_INTERNAL', `pip could not install the vetted wheels (exit ${code})`, 'see pip\'s message above; pip installs all or nothing, so the environment is unchanged');
  }
}
