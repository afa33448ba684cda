/** Turns the resolved tree into the runner's plan: which scripts run, in npm's order, with what. */
import path from 'node:path';
import type { EventIds } from '../session/ids.js';
import { LIFECYCLE_EVENTS, type PackageInfo } from '../session/types.js';
import type { PlannedPackage, RunPlan } from './protocol.js';
import { SANDBOX_HOME, SANDBOX_NODE_PREFIX, SANDBOX_PROJECT_DIR, SANDBOX_USER } from './layout.js';
import { straceArgs } from './tracer.js';

export interface PlanLimits {
  scriptTimeoutMs: number;
  graceMs: number;
}

export const DEFAULT_PLAN_LIMITS: PlanLimits = { scriptTimeoutMs: 120_000, graceMs: 3_000 };

export interface BuiltPlan {
  plan: RunPlan;
  /** Tarball file name in the plan → host path. */
  tarballs: Map<string, string>;
}

/** The environment of an ordinary developer shell; CI variables are never invented. */
export function baseEnv(): Record<string, string> {
  return {
    HOME: SANDBOX_HOME,
    USER: SANDBOX_USER,
    LOGNAME: SANDBOX_USER,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    TMPDIR: '/tmp',
    npm_config_cache: `${SANDBOX_HOME}/.npm`,
    npm_config_nodedir: SANDBOX_NODE_PREFIX,
    npm_config_user_agent: `npm/11.6.2 node/${process.version} linux x64 workspaces/false`,
  };
}

export function buildPlan(
  packages: PackageInfo[],
  projectPackageJson: Record<string, unknown>,
  ids: EventIds,
  limits: PlanLimits,
): BuiltPlan {
  const tarballs = new Map<string, string>();
  const planned: PlannedPackage[] = packages.map((pkg, index) => {
    const file = `${index}${path.extname(pkg.tarball) || '.tgz'}`;
    tarballs.set(file, pkg.tarball);
    return {
      name: pkg.name,
      version: pkg.version,
      location: pkg.location,
      tarball: file,
      scripts: LIFECYCLE_EVENTS.filter((event) => pkg.scripts[event] !== undefined).map((event) => ({
        id: ids.next('s'),
        event,
        command: pkg.scripts[event]!,
        implicit: event === 'install' && pkg.implicitNodeGyp,
      })),
    };
  });
  // npm (arborist's rebuild) runs each event for the whole tree before the next event.
  const order = LIFECYCLE_EVENTS.flatMap((event) =>
    planned.flatMap((pkg) => pkg.scripts.filter((s) => s.event === event).map((s) => s.id)),
  );
  return {
    tarballs,
    plan: {
      projectDir: SANDBOX_PROJECT_DIR,
      home: SANDBOX_HOME,
      projectPackageJson,
      packages: planned,
      order,
      env: baseEnv(),
      seedFiles: [],
      straceArgs: straceArgs(),
      limits: {
        scriptTimeoutMs: limits.scriptTimeoutMs,
        graceMs: limits.graceMs,
        outputLimitBytes: 64 * 1024 ** 2,
        outputKeepBytes: 16 * 1024,
        traceLimitBytes: 256 * 1024 ** 2,
      },
    },
  };
}
