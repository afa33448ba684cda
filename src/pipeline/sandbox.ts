/**
 * The sandbox half of a scan, for packages that are already resolved and fetched: run every
 * install-time script in one container session, build the session chain, assess it. `scan`
 * resolves from specs and calls this; `install` calls it with the changed part of a project's
 * tree. Touches nothing on the host but temp folders.
 */
import crypto from 'node:crypto';
import { applyPolicy } from '../policy/apply.js';
import type { Policy } from '../policy/types.js';
import { assess } from '../rules/index.js';
import type { Assessment } from '../rules/types.js';
import { CA_DIR_PREFIX, INPUT_DIR_PREFIX, runContainer, type ContainerRun, type PackageOutputs } from '../sandbox/container.js';
import { connectDocker } from '../sandbox/docker.js';
import { reapOrphans } from '../sandbox/owner.js';
import { ensureSandboxImage, type SandboxImage } from '../sandbox/image/index.js';
import { createDecoys, generateRsaKey, realisticPackageJson } from '../sandbox/decoys/index.js';
import { SANDBOX_HOSTNAME, SANDBOX_NODE_PREFIX, SANDBOX_USER } from '../sandbox/layout.js';
import { buildPlan, DEFAULT_PLAN_LIMITS, type PlanLimits } from '../sandbox/plan.js';
import type { RunPlan } from '../sandbox/protocol.js';
import { buildChain } from '../session/build.js';
import { mergeNetworkEvents, networkFaults } from '../session/network-merge.js';
import { startSinkhole } from '../sandbox/sinkhole-container.js';
import { FORWARD_DIR_PREFIX, startForwarder, type Forwarder } from '../sandbox/forwarder.js';
import { allowedEgressOf } from '../policy/hosts.js';
import type { SinkholeEvent } from '../sandbox/sinkhole/protocol.js';
import { EventIds } from '../session/ids.js';
import type { Canary, PackageInfo, SandboxInfo, SessionChain } from '../session/types.js';
import type { ProgressListener } from './progress.js';

export interface SandboxOptions {
  baseImage?: string;
  limits?: Partial<PlanLimits>;
  onProgress?: ProgressListener;
  /** Applied to the rules' assessment. */
  policy?: Policy;
  /** Export each scripted package's build outputs (see RunPlan.exportOutputs), at most this many bytes each. */
  exportOutputsMaxBytes?: number;
  /** An image already ensured by the caller (e.g. to key a cache on it). */
  image?: SandboxImage;
  /** Fixed addresses for allowed egress hosts, like `curl --resolve` (forwarder.ts). */
  egressResolve?: Record<string, string>;
}

export interface SandboxResult {
  chain: SessionChain;
  assessment: Assessment;
  /** Build outputs by package location, when asked for. */
  outputs: Map<string, PackageOutputs>;
  /** Whether a container ran at all (not when no package has install-time code). */
  containerStarted: boolean;
}

/**
 * @param packages every package to lay out, dependencies before dependents; only those with
 *   `scripts` run anything.
 * @param rootPackageJson the project's package.json, as the sandbox's project shows it.
 */
export async function sandboxPackages(packages: PackageInfo[], rootPackageJson: Record<string, unknown>, opts: SandboxOptions = {}): Promise<SandboxResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const startedAt = Date.now() / 1000;
  const ids = new EventIds();
  let plan: RunPlan | null = null;
  let run: ContainerRun | null = null;
  let sandbox: SandboxInfo | null = null;
  let canaries: Canary[] = [];
  let networkEvents: SinkholeEvent[] = [];
  const outputs = new Map<string, PackageOutputs>();
  const withScripts = packages.filter((p) => Object.keys(p.scripts).length > 0 || (p.projectScripts?.length ?? 0) > 0);
  let forwarder: Forwarder | null = null;
  try {
    // A tree without install-time code needs no container at all.
    if (withScripts.length > 0) {
      // The decoy home's RSA key takes a quarter second to make: make it while Docker answers.
      const rsaKey = generateRsaKey();
      rsaKey.catch(() => undefined);
      const docker = await connectDocker();
      // Containers of runs that were killed outright (no cleanup ran) go first.
      await reapOrphans(docker, { tempPrefixes: [INPUT_DIR_PREFIX, CA_DIR_PREFIX, FORWARD_DIR_PREFIX] });
      const image =
        opts.image ??
        (await ensureSandboxImage(docker, {
          ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
          onProgress: (message) => progress({ stage: 'image', message }),
        }));
      // The monitored network starts while the plan and decoys are made.
      // Nothing leaves unless the policy allows it for a package of this session; then only
      // through the proxy, which checks again.
      const allow = allowedEgressOf(opts.policy, withScripts);
      forwarder = allow.length > 0 ? await startForwarder({ allow, ...(opts.egressResolve ? { resolve: opts.egressResolve } : {}) }) : null;
      const sinkholeStarting = startSinkhole(docker, image.tag, SANDBOX_HOSTNAME, forwarder ? { forward: { allow, dir: forwarder.dir } } : {});
      sinkholeStarting.catch(() => undefined);
      // The real project, when it is laid out itself (--sandbox-root), keeps its own package.json.
      const projectPackageJson = packages.some((p) => p.location === '') ? rootPackageJson : realisticPackageJson(rootPackageJson);
      const built = buildPlan(packages, projectPackageJson, ids, { ...DEFAULT_PLAN_LIMITS, ...opts.limits });
      plan = built.plan;
      if (opts.exportOutputsMaxBytes !== undefined) plan.exportOutputs = { maxBytes: opts.exportOutputsMaxBytes };
      // Fresh decoys for every session: a value seen leaving proves it left this sandbox.
      const decoys = createDecoys({
        home: plan.home,
        projectDir: plan.projectDir,
        user: SANDBOX_USER,
        hostname: SANDBOX_HOSTNAME,
        projectPackageJson: plan.projectPackageJson,
        realProject: packages.some((p) => p.location === ''),
        rsaKey: await rsaKey,
      });
      plan.seedFiles.push(...decoys.files);
      plan.env = { ...plan.env, ...decoys.env };
      canaries = decoys.canaries;
      const total = plan.order.length;
      const where = new Map(plan.packages.flatMap((p) => p.scripts.map((s) => [s.id, { pkg: p, script: s }] as const)));
      let index = 0;
      const startedAtById = new Map<string, number>();
      progress({ stage: 'sandbox', message: `starting the sandbox for ${total} script${total === 1 ? '' : 's'}` });
      const sinkhole = await sinkholeStarting;
      try {
        run = await runContainer(docker, {
          image: image.tag,
          plan,
          tarballs: built.tarballs,
          network: { sinkholeId: sinkhole.id, ca: sinkhole.ready.ca },
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
      } finally {
        networkEvents = await sinkhole.stop();
      }
      sandbox = { image: image.tag, imageId: image.id, containerId: run.containerId, network: 'monitored' };
      for (const [i, out] of run.outputs) {
        const pkg = packages[i];
        if (pkg) outputs.set(pkg.location, out);
      }
    }
  } finally {
    await forwarder?.stop();
  }
  const chain = buildChain({
    id: crypto.randomUUID(),
    startedAt,
    packages,
    plan,
    run,
    sandbox,
    ids,
    nodePrefix: SANDBOX_NODE_PREFIX,
    canaries,
  });
  mergeNetworkEvents(
    chain.packages.map((p) => p.session),
    networkEvents,
    ids,
  );
  chain.errors.push(...networkFaults(networkEvents));
  const assessment = assess(chain);
  return {
    chain,
    assessment: opts.policy ? applyPolicy(assessment, chain, opts.policy) : assessment,
    outputs,
    containerStarted: run !== null,
  };
}
