/** Turns the resolved tree into the runner's plan: which scripts run, in npm's order, with what. */
import path from 'node:path';
import type { EventIds } from '../session/ids.js';
import { LIFECYCLE_EVENTS, lifecycleEventsOf, type PackageInfo } from '../session/types.js';
import type { PlannedPackage, RunPlan } from './protocol.js';
import { SANDBOX_HOME, SANDBOX_NODE_PREFIX, SANDBOX_PROJECT_DIR, SANDBOX_USER } from './layout.js';
import { straceArgs } from './tracer.js';

export interface PlanLimits {
  scriptTimeoutMs: number;
  graceMs: number;
  /**
   * The limit for a script that is still compiling when `scriptTimeoutMs` is up (never less than
   * that): it goes on while compilers keep working (BUILD_IDLE_MS), up to this long in all.
   */
  buildTimeoutMs: number;
}

/**
 * The script limit is there to stop code that stalls or hangs, and to bound the session. A native
 * build that is still compiling is neither: SQLite's amalgamation alone takes over two minutes of
 * one core. Stopping it would not make the verdict safer (a timeout is never allowed, and a build
 * cut short leaves nothing to install); giving it the time it needs, traced all along, does. A
 * script that does nothing, or whose "compiler" does no work, is still stopped at
 * `scriptTimeoutMs`, and one that compiles for longer than `buildTimeoutMs` at that.
 */
export const DEFAULT_PLAN_LIMITS: PlanLimits = { scriptTimeoutMs: 120_000, graceMs: 3_000, buildTimeoutMs: 600_000 };

/** A script past its limit counts as compiling while a compiler started or used CPU within this long. */
export const BUILD_IDLE_MS = 30_000;

/**
 * Programs whose work is compiling (exec basenames; a cross prefix like `x86_64-linux-gnu-` and a
 * version suffix like `-12` are allowed): the compilers proper, the assembler and the linkers
 * (gcc's drivers run these), clang (which compiles in its own process) and rustc.
 */
export const COMPILER_PROGRAMS = [
  'cc', 'c++', 'gcc', 'g++', 'cc1', 'cc1plus', 'cc1obj', 'cc1objplus', 'lto1', 'lto-wrapper', 'as', 'collect2',
  'ld', 'ld.bfd', 'ld.gold', 'ld.lld', 'lld', 'clang', 'clang++', 'rustc',
];

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
    let file: string | undefined;
    if (pkg.tarball !== undefined) {
      file = `${index}${path.extname(pkg.tarball) || '.tgz'}`;
      tarballs.set(file, pkg.tarball);
    }
    return {
      name: pkg.name,
      version: pkg.version,
      location: pkg.location,
      ...(file !== undefined ? { tarball: file } : {}),
      // The project's own scripts come as one list in its package manager's order.
      scripts: pkg.projectScripts
        ? pkg.projectScripts.map((p) => ({
            id: ids.next('s'),
            event: p.event,
            command: p.command,
            implicit: p.implicit,
            ...(p.dir !== '' ? { workspace: { dir: p.dir, name: p.name, version: p.version } } : {}),
          }))
        : lifecycleEventsOf(pkg.location)
            .filter((event) => pkg.scripts[event] !== undefined)
            .map((event) => ({ id: ids.next('s'), event, command: pkg.scripts[event]!, implicit: event === 'install' && pkg.implicitNodeGyp })),
    };
  });
  // npm (arborist's rebuild) runs each event for the whole tree before the next event; the
  // project's own scripts (its workspaces' and its own) come after all of that, in their order.
  const dependencies = planned.filter((pkg) => pkg.location !== '');
  const project = planned.filter((pkg) => pkg.location === '');
  const order = [
    ...LIFECYCLE_EVENTS.flatMap((event) => dependencies.flatMap((pkg) => pkg.scripts.filter((s) => s.event === event).map((s) => s.id))),
    ...project.flatMap((pkg) => pkg.scripts.map((s) => s.id)),
  ];
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
      compilers: COMPILER_PROGRAMS,
      limits: {
        scriptTimeoutMs: limits.scriptTimeoutMs,
        graceMs: limits.graceMs,
        buildTimeoutMs: Math.max(limits.buildTimeoutMs, limits.scriptTimeoutMs),
        buildIdleMs: BUILD_IDLE_MS,
        outputLimitBytes: 64 * 1024 ** 2,
        outputKeepBytes: 16 * 1024,
        traceLimitBytes: 256 * 1024 ** 2,
      },
    },
  };
}
