/**
 * The project's own lifecycle scripts, as the package manager runs them after installing: the
 * user's code, on the host, through that package manager itself (same environment, same
 * output). npm also runs its workspaces' scripts on every install, before the project's.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SafeInstallError, describe } from '../errors/index.js';
import { hasBindingGyp, installScripts } from '../resolve/install-scripts.js';
import { WORKSPACE_LIFECYCLE_EVENTS, type LifecycleEvent, type ProjectScript } from '../session/types.js';

export interface OwnScriptsRunner {
  /** `npm`, or the path of the real pnpm. */
  program: string;
  /** The package manager, as the user calls it. */
  name: 'npm' | 'pnpm';
  /**
   * The command line, run in the project folder, that runs exactly one event's script of the
   * project or of the workspace in `dir`. `npm run install` and `pnpm run install` also run
   * preinstall and postinstall, which have their own turn: each manager needs its own switch to
   * run the one script alone.
   */
  argsFor(event: string, dir: string): string[];
}

/**
 * npm runs the named script alone under --ignore-scripts (its documented behaviour for `run`);
 * `-w` runs a workspace's in its folder with INIT_CWD the project, as `npm install` does.
 */
export const NPM_OWN_SCRIPTS: OwnScriptsRunner = { program: 'npm', name: 'npm', argsFor: (event, dir) => ['run', event, '--ignore-scripts', ...(dir === '' ? [] : ['-w', dir])] };

/** pnpm's switches go before `run`: what follows the script's name is the script's. */
export const pnpmOwnScripts = (program: string): OwnScriptsRunner => ({
  program,
  name: 'pnpm',
  argsFor: (event, dir) => [...(dir === '' ? [] : ['-C', dir]), '--config.enable-pre-post-scripts=false', 'run', event],
});

/** One script to run: an event of the project (`dir` '') or of one of its workspaces. */
export interface OwnScript {
  dir: string;
  event: string;
}

/**
 * The scripts of one of the project's packages (the project itself at `dir` '', or a workspace)
 * among `events`, in that order, with npm's implicit node-gyp build where `bindingGyp` says so.
 */
export function ownScriptsOf(dir: string, manifest: Record<string, unknown>, events: readonly LifecycleEvent[], bindingGyp: boolean): ProjectScript[] {
  const { scripts, implicitNodeGyp } = installScripts(manifest, bindingGyp, '');
  const name = typeof manifest.name === 'string' ? manifest.name : path.basename(dir);
  const version = typeof manifest.version === 'string' ? manifest.version : '';
  return events.flatMap((event) => {
    const command = scripts[event];
    return command === undefined ? [] : [{ dir, name, version, event, command, implicit: event === 'install' && implicitNodeGyp }];
  });
}

/**
 * The scripts npm runs for the workspaces (arborist rebuilds every link from the root on every
 * install): event by event, workspaces in folder order, implicit node-gyp builds included.
 * @param workspaces each workspace's folder (relative to the project) and package.json.
 */
export function workspaceScripts(projectDir: string, workspaces: { dir: string; manifest: Record<string, unknown> }[]): ProjectScript[] {
  const sorted = workspaces.map((w) => ({ ...w, dir: w.dir.split(path.sep).join('/') })).sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  const each = sorted.map(({ dir, manifest }) => ownScriptsOf(dir, manifest, WORKSPACE_LIFECYCLE_EVENTS, hasBindingGyp(path.join(projectDir, dir))));
  return WORKSPACE_LIFECYCLE_EVENTS.flatMap((event) => each.flatMap((scripts) => scripts.filter((s) => s.event === event)));
}

/** What ran, as the report says it: the project's events, and its workspaces' scripts. */
export function ranSummary(ran: OwnScript[]): { rootScripts: string[]; workspaceScripts: OwnScript[] } {
  return { rootScripts: ran.filter((s) => s.dir === '').map((s) => s.event), workspaceScripts: ran.filter((s) => s.dir !== '') };
}

/**
 * pnpm's order for its projects' own scripts: every event of one project before the next
 * project, projects dependencies first (a project's `workspace:`/`link:` dependencies on the
 * others), folder order among equals, the root first.
 * @param projects each project's folder ('' for the root) and package.json.
 */
export function pnpmProjectOrder(projects: { dir: string; manifest: Record<string, unknown> }[]): { dir: string; manifest: Record<string, unknown> }[] {
  const byName = new Map(projects.flatMap((p) => (typeof p.manifest.name === 'string' ? [[p.manifest.name, p] as const] : [])));
  const needs = new Map(
    projects.map((p) => {
      const deps = ['dependencies', 'devDependencies', 'optionalDependencies'].flatMap((field) => Object.entries((p.manifest[field] ?? {}) as Record<string, unknown>));
      const local = deps.flatMap(([name, spec]) => {
        const other = byName.get(name);
        return other && other !== p && typeof spec === 'string' && /^(workspace|link):/.test(spec) ? [other] : [];
      });
      return [p, new Set(local)] as const;
    }),
  );
  const done = new Set<(typeof projects)[number]>();
  const order: typeof projects = [];
  const byFolder = [...projects].sort((a, b) => (a.dir === '' ? -1 : b.dir === '' ? 1 : a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  while (order.length < projects.length) {
    const ready = byFolder.filter((p) => !done.has(p) && [...needs.get(p)!].every((d) => done.has(d)));
    // A cycle: pnpm runs the rest anyway; so does this, in folder order.
    const next = ready.length > 0 ? ready : byFolder.filter((p) => !done.has(p));
    for (const p of next) {
      done.add(p);
      order.push(p);
    }
  }
  return order;
}

/** Runs the scripts in order; stops at the first that fails. Returns the ones that ran. */
export async function runOwnScripts(projectDir: string, scripts: OwnScript[], runner: OwnScriptsRunner, stdio: 'inherit' | 'stderr'): Promise<OwnScript[]> {
  const ran: OwnScript[] = [];
  for (const script of scripts) {
    const where = script.dir === '' ? "the project's own" : `the workspace ${script.dir}'s`;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(runner.program, runner.argsFor(script.event, script.dir), {
        cwd: projectDir,
        stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 2, 2],
        env: { ...process.env, npm_command: 'install' },
      });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    }).catch((err: unknown) => {
      throw new SafeInstallError('E_INTERNAL', `could not run ${runner.name} for ${where} ${script.event} script: ${describe(err)}`, `check that ${runner.name} is on PATH`);
    });
    if (code !== 0) {
      throw new SafeInstallError('E_INTERNAL', `${where} ${script.event} script failed (exit ${code})`, `the packages are installed; fix the script and run it with \`${runner.name} ${runner.argsFor(script.event, script.dir).join(' ')}\``);
    }
    ran.push(script);
  }
  return ran;
}
