/**
 * `safe-install scan`: resolve and fetch on the host (nothing runs), run every install-time
 * script in the sandbox (pipeline/sandbox.ts), build the session chain, assess it. Touches no
 * host project.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveSpecs } from '../resolve/index.js';
import type { Policy } from '../policy/types.js';
import type { Assessment } from '../rules/types.js';
import type { PlanLimits } from '../sandbox/plan.js';
import type { SessionChain } from '../session/types.js';
import type { ProgressListener } from './progress.js';
import { sandboxPackages } from './sandbox.js';

export interface ScanOptions {
  specs: string[];
  registry?: string;
  cache?: string;
  baseImage?: string;
  limits?: Partial<PlanLimits>;
  onProgress?: ProgressListener;
  /** Applied to the rules' assessment; load it before calling, so a bad one fails before any work. */
  policy?: Policy;
  /** Fixed addresses for allowed egress hosts, like `curl --resolve` (forwarder.ts). */
  egressResolve?: Record<string, string>;
}

export interface ScanResult {
  chain: SessionChain;
  assessment: Assessment;
}

export async function scan(opts: ScanOptions): Promise<ScanResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-scan-'));
  try {
    const tree = await resolveSpecs(opts.specs, {
      workDir,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.cache ? { cache: opts.cache } : {}),
      onProgress: (ev) => progress({ stage: ev.phase, done: ev.done, total: ev.total, ...(ev.name ? { name: ev.name } : {}) }),
    });
    const { chain, assessment } = await sandboxPackages(tree.packages, tree.rootPackageJson, {
      ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
      ...(opts.limits ? { limits: opts.limits } : {}),
      onProgress: progress,
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.egressResolve ? { egressResolve: opts.egressResolve } : {}),
    });
    return { chain, assessment };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
