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
}

interface Resolution {
  packages: ResolvedDist[];
  satisfied: { name: string; version: string }[];
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
  // What the user asked for, plus the dependencies learned from builds so far (`known`).
  const resolveWith = (dest: string): Promise<Resolution> =>
    runHelper<Resolution>(python, 'resolve', {
      requirements: req.requirements,
      requirementFiles: req.requirementFiles.map((f) => path.resolve(f)),
      constraintFiles: req.constraintFiles.map((f) => path.resolve(f)),
      indexUrl: req.indexUrl ?? null,
      extraIndexUrls: req.extraIndexUrls,
      findLinks: req.findLinks.map((f) => (f.includes('://') ? f : path.resolve(f))),
      noIndex: req.noIndex,
      requireHashes: req.requireHashes,
      pre: req.pre,
      ignoreInstalled: req.ignoreInstalled === true,
      known,
      dest,
    });
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

async function vet(
  req: PipRequest,
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
  const built = new Map<string, WheelInspection>();
  const wheels = new Map<string, string>();
  const extractDir = path.join(dir, 'built');
  for (const p of sdists) {
    const pkg = chain.packages.find((c) => c.info.location === location(p));
    const script = pkg?.session.scripts[0];
    if (!script || script.outcome !== 'ok') {
      failures.push(`building ${p.name} ${p.version} in the sandbox ${script ? `ended ${script.outcome}${script.exitCode !== null ? ` (exit ${script.exitCode})` : ''}` : 'did not run'}${script?.stderr.head ? `: ${lastLine(script.stderr.head)}` : ''}`);
      continue;
    }
    const out = result.outputs.get(location(p));
    if (!out || out.error || out.tar.length === 0) {
      failures.push(`the wheel built from ${p.name} ${p.version} did not come back from the sandbox${out?.error ? `: ${out.error}` : ''}`);
      continue;
    }
    const tarFile = path.join(dir, `${p.name}.outputs.tar`);
    fs.writeFileSync(tarFile, out.tar);
    const got = await runHelper<{ wheels: string[] }>(python, 'extract-wheel', { tar: tarFile, dir: WHEEL_DIR, dest: path.join(extractDir, p.name) });
    if (got.wheels.length !== 1) {
      failures.push(`building ${p.name} ${p.version} left ${got.wheels.length} wheels instead of one`);
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
      containerStarted: result.containerStarted,
    },
  };
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
