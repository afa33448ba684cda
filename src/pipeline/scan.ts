/**
 * `safe-install scan`: resolve and fetch on the host (nothing runs), run every install-time
 * script in the sandbox, build the session chain, assess it. Touches no host project.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveSpecs } from '../resolve/index.js';
import { assess } from '../rules/index.js';
import type { Assessment } from '../rules/types.js';
import { runContainer, type ContainerRun } from '../sandbox/container.js';
import { connectDocker } from '../sandbox/docker.js';
import { ensureSandboxImage } from '../sandbox/image/index.js';
import { SANDBOX_NODE_PREFIX } from '../sandbox/layout.js';
import { buildPlan, DEFAULT_PLAN_LIMITS, type PlanLimits } from '../sandbox/plan.js';
import type { RunPlan } from '../sandbox/protocol.js';
import { buildChain } from '../session/build.js';
import { EventIds } from '../session/ids.js';
import type { SandboxInfo, SessionChain } from '../session/types.js';
import type { ProgressListener } from './progress.js';

export interface ScanOptions {
  specs: string[];
  registry?: string;
  cache?: string;
  baseImage?: string;
  limits?: Partial<PlanLimits>;
  onProgress?: ProgressListener;
}

export interface ScanResult {
  chain: SessionChain;
  assessment: Assessment;
}

export async function scan(opts: ScanOptions): Promise<ScanResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const startedAt = Date.now() / 1000;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-scan-'));
  try {
    const tree = await resolveSpecs(opts.specs, {
      workDir,
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.cache ? { cache: opts.cache } : {}),
      onProgress: (ev) => progress({ stage: ev.phase, done: ev.done, total: ev.total, ...(ev.name ? { name: ev.name } : {}) }),
    });
    const ids = new EventIds();
    let plan: RunPlan | null = null;
    let run: ContainerRun | null = null;
    let sandbox: SandboxInfo | null = null;
    const withScripts = tree.packages.filter((p) => Object.keys(p.scripts).length > 0);
    // A tree without install-time code needs no container at all.
    if (withScripts.length > 0) {
      const docker = await connectDocker();
      const image = await ensureSandboxImage(docker, {
        ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
        onProgress: (message) => progress({ stage: 'image', message }),
      });
      const built = buildPlan(tree.packages, tree.rootPackageJson, ids, { ...DEFAULT_PLAN_LIMITS, ...opts.limits });
      plan = built.plan;
      const total = plan.order.length;
      const where = new Map(plan.packages.flatMap((p) => p.scripts.map((s) => [s.id, { pkg: p, script: s }] as const)));
      let index = 0;
      const startedAtById = new Map<string, number>();
      progress({ stage: 'sandbox', message: `starting the sandbox for ${total} script${total === 1 ? '' : 's'}` });
      run = await runContainer(docker, {
        image: image.tag,
        plan,
        tarballs: built.tarballs,
        onMessage: (msg) => {
          const entry = 'id' in msg ? where.get(msg.id) : undefined;
          if (!entry) return;
          const label = `${entry.pkg.name}@${entry.pkg.version}`;
          if (msg.type === 'script-start') {
            index += 1;
            startedAtById.set(msg.id, msg.time);
            progress({ stage: 'script', index, total, package: label, event: entry.script.event, command: entry.script.command });
          } else if (msg.type === 'script-end') {
            progress({ stage: 'script-done', index, total, package: label, event: entry.script.event, outcome: msg.outcome, seconds: msg.time - (startedAtById.get(msg.id) ?? msg.time) });
          }
        },
      });
      sandbox = { image: image.tag, imageId: image.id, containerId: run.containerId, network: 'none' };
    }
    const chain = buildChain({
      id: crypto.randomUUID(),
      startedAt,
      packages: tree.packages,
      plan,
      run,
      sandbox,
      ids,
      nodePrefix: SANDBOX_NODE_PREFIX,
    });
    return { chain, assessment: assess(chain) };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
