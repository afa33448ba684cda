/**
 * The project's own lifecycle scripts, as the package manager runs them after installing: the
 * user's code, on the host, through that package manager itself (same environment, same
 * output). npm also runs its workspaces' scripts on every install, before the project's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError, describe } from '../errors/index.js';
import { installScripts } from '../resolve/install-scripts.js';
import { WORKSPACE_LIFECYCLE_EVENTS, type WorkspaceScript } from '../session/types.js';

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

/** pnpm's switch goes before `run`: what follows the script's name is the script's. */
export const pnpmOwnScripts = (program: string): OwnScriptsRunner => ({
  program,
  name: 'pnpm',
  argsFor: (event) => ['--config.enable-pre-post-scripts=false', 'run', event],
});

/** One script to run: an event of the project (`dir` '') or of one of its workspaces. */
export interface OwnScript {
  dir: string;
  event: string;
}

/** The project's events (of `events`, in that order) that have a script. */
export function projectScripts(projectDir: string, events: readonly string[]): OwnScript[] {
  const manifest = readManifest(path.join(projectDir, 'package.json'));
  return events.filter((event) => typeof manifest.scripts?.[event] === 'string' && manifest.scripts[event] !== '').map((event) => ({ dir: '', event }));
}

/**
 * The scripts npm runs for the workspaces (arborist rebuilds every link from the root on every
 * install): event by event, workspaces in folder order, implicit node-gyp builds included.
 * @param workspaces each workspace's folder (relative to the project) and package.json.
 */
export function workspaceScripts(projectDir: string, workspaces: { dir: string; manifest: Record<string, unknown> }[]): WorkspaceScript[] {
  const declared = [...workspaces]
    .map((w) => ({ ...w, dir: w.dir.split(path.sep).join('/') }))
    .sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0))
    .map(({ dir, manifest }) => {
      const { scripts, implicitNodeGyp } = installScripts(manifest, isFile(path.join(projectDir, dir, 'binding.gyp')));
      const own = (manifest.scripts ?? {}) as Record<string, unknown>;
      const prepare = typeof own.prepare === 'string' && own.prepare !== '' ? own.prepare : undefined;
      return { dir, manifest, scripts: { ...scripts, ...(prepare !== undefined ? { prepare } : {}) }, implicitNodeGyp };
    });
  return WORKSPACE_LIFECYCLE_EVENTS.flatMap((event) =>
    declared.flatMap(({ dir, manifest, scripts, implicitNodeGyp }) => {
      const command = scripts[event];
      if (command === undefined) return [];
      return [{ dir, name: typeof manifest.name === 'string' ? manifest.name : path.basename(dir), version: typeof manifest.version === 'string' ? manifest.version : '', event, command, implicit: event === 'install' && implicitNodeGyp }];
    }),
  );
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

function readManifest(file: string): { name?: unknown; version?: unknown; scripts?: Record<string, unknown> } {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { scripts?: Record<string, unknown> };
}

function isFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}
