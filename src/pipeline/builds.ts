/**
 * The sandbox half every host install shares (npm, pnpm): run the builds in one session, check
 * that each came back, and remember the allowed ones in the verdict cache. The front-ends differ
 * in how they lay packages out and where the outputs land, not in this.
 */
import { SafeInstallError } from '../errors/index.js';
import { VerdictCache, type CachedVerdict } from '../cache/index.js';
import type { Policy } from '../policy/types.js';
import type { Assessment } from '../rules/types.js';
import type { PackageOutputs } from '../sandbox/container.js';
import { connectDocker } from '../sandbox/docker.js';
import { ensureSandboxImage, type SandboxImage } from '../sandbox/image/index.js';
import type { PlanLimits } from '../sandbox/plan.js';
import type { PackageInfo, SessionChain } from '../session/types.js';
import type { ProgressListener } from './progress.js';
import { sandboxPackages } from './sandbox.js';

/** What every host install (npm, pnpm) takes beyond its package manager's own request. */
export interface HostInstallOptions {
  registry?: string;
  baseImage?: string;
  limits?: Partial<PlanLimits>;
  policy?: Policy;
  /** Digest of the policy, part of the verdict cache key. */
  policyDigest: string;
  /** The verdict cache; null with `--no-cache` (nothing read, nothing written). */
  cache: VerdictCache | null;
  /**
   * The project's own lifecycle scripts (prepare and the rest, its workspaces' too) run in the
   * sandbox, after the dependencies' scripts, on the whole installed tree, and are judged with
   * them; only what they make in the project's folder lands, on allow. Without it they run on
   * the host, as the package manager runs them.
   */
  sandboxRoot?: boolean;
  onProgress?: ProgressListener;
}

/** Build outputs one package may export (node-gyp builds keep their object files, as npm does). */
export const OUTPUTS_MAX_BYTES = 256 * 1024 ** 2;

export interface BuildsRun {
  session: { chain: SessionChain; assessment: Assessment };
  /** Build outputs by package location. */
  outputs: Map<string, PackageOutputs>;
  containerStarted: boolean;
  /** Scripts that failed (the package manager would fail the install too). */
  failures: string[];
}

/**
 * One sandbox session for the packages (dependencies before dependents); with none, still an
 * (empty) session, so the report has the same shape every time.
 */
export async function sandboxBuilds(
  packages: PackageInfo[],
  rootPackageJson: Record<string, unknown>,
  opts: { baseImage?: string | undefined; limits?: Partial<PlanLimits> | undefined; policy?: Policy | undefined; image?: SandboxImage | undefined; onProgress: ProgressListener },
): Promise<BuildsRun> {
  if (packages.length === 0) {
    const empty = await sandboxPackages([], rootPackageJson, opts.policy ? { policy: opts.policy } : {});
    return { session: { chain: empty.chain, assessment: empty.assessment }, outputs: new Map(), containerStarted: false, failures: [] };
  }
  const result = await sandboxPackages(packages, rootPackageJson, {
    ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.image ? { image: opts.image } : {}),
    exportOutputsMaxBytes: OUTPUTS_MAX_BYTES,
    onProgress: opts.onProgress,
  });
  const failures: string[] = [];
  for (const { info, session } of result.chain.packages) {
    for (const script of session.scripts) {
      if (script.outcome === 'failed') failures.push(`${info.name}@${info.version} ${script.event} exited with ${script.exitCode ?? script.signal ?? 'an error'}`);
    }
  }
  return { session: { chain: result.chain, assessment: result.assessment }, outputs: result.outputs, containerStarted: result.containerStarted, failures };
}

/** Before anything lands: no failed script, and every sandboxed package's outputs came back. */
export function assertBuildsBack(run: Pick<BuildsRun, 'failures' | 'outputs'>, built: { id: string; location: string }[], manager: 'npm' | 'pnpm'): void {
  if (run.failures.length > 0) {
    throw new SafeInstallError('E_SANDBOX', `install scripts failed in the sandbox: ${run.failures.join('; ')}`, `${manager} would fail this install too; nothing was changed`);
  }
  for (const { id, location } of built) {
    const out = run.outputs.get(location);
    if (!out || out.error) {
      throw new SafeInstallError('E_SANDBOX', `the build outputs of ${id} did not come back from the sandbox${out?.error ? `: ${out.error}` : ''}`, 'nothing was changed; retry, or report it if it persists');
    }
  }
}

/** Only allow is remembered, and only from a session whose verdict was allow as a whole. */
export function rememberAllowed(
  cache: VerdictCache | null,
  run: Pick<BuildsRun, 'session' | 'outputs'>,
  key: { policyDigest: string; image: SandboxImage | undefined },
  built: { name: string; version: string; integrity: string | null; location: string }[],
): void {
  if (!cache || !key.image || run.session.assessment.verdict !== 'allow') return;
  const byLocation = new Map(run.session.assessment.packages.map((p) => [p.location, p]));
  for (const p of built) {
    const assessed = byLocation.get(p.location);
    if (!assessed || assessed.verdict !== 'allow' || !VerdictCache.usable(p.integrity)) continue;
    const out = run.outputs.get(p.location)!;
    cache.putVerdict(
      { integrity: p.integrity, policyDigest: key.policyDigest, image: key.image.tag },
      { name: p.name, version: p.version, integrity: p.integrity, verdict: 'allow', findings: assessed.findings, removed: out.removed, at: Math.floor(Date.now() / 1000) },
      out.tar,
    );
  }
}

/**
 * What the verdict cache already allowed, among the packages with scripts (the image is ensured
 * only when there are any: it is part of the key). A cached package that a package still to be
 * sandboxed depends on runs again, since its build must be there: `closureOf` tells what a set of
 * packages to sandbox brings into the session.
 */
export async function cachedBuilds<P extends { integrity: string | null }>(
  scripted: P[],
  closureOf: (toSandbox: P[]) => Set<P>,
  opts: { cache: VerdictCache | null; policyDigest: string; baseImage?: string | undefined; onProgress: ProgressListener },
): Promise<{ image: SandboxImage | undefined; hits: Map<P, { verdict: CachedVerdict; outputs: Buffer }>; toSandbox: P[] }> {
  let image: SandboxImage | undefined;
  const hits = new Map<P, { verdict: CachedVerdict; outputs: Buffer }>();
  if (scripted.length > 0) {
    image = await ensureSandboxImage(await connectDocker(), {
      ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
      onProgress: (message) => opts.onProgress({ stage: 'image', message }),
    });
    for (const p of scripted) {
      if (!opts.cache || !VerdictCache.usable(p.integrity)) continue;
      const hit = opts.cache.getVerdict({ integrity: p.integrity, policyDigest: opts.policyDigest, image: image.tag });
      if (hit) hits.set(p, hit);
    }
  }
  let toSandbox = scripted.filter((p) => !hits.has(p));
  for (;;) {
    const closure = closureOf(toSandbox);
    const again = [...hits.keys()].filter((p) => closure.has(p));
    if (again.length === 0) break;
    for (const p of again) hits.delete(p);
    toSandbox = scripted.filter((p) => !hits.has(p));
  }
  opts.onProgress({ stage: 'cache', hits: hits.size, total: scripted.length });
  return { image, hits, toSandbox };
}
