/**
 * The project's own lifecycle scripts, as the package manager runs them after installing: the
 * user's code, on the host, through that package manager itself (same environment, same
 * output). Returns the events that ran.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SafeInstallError, describe } from '../errors/index.js';

export interface OwnScriptsRunner {
  /** `npm`, or the path of the real pnpm. */
  program: string;
  /** The package manager, as the user calls it. */
  name: 'npm' | 'pnpm';
  /** The lifecycle events the package manager runs for the project, in its order. */
  events: readonly string[];
  /**
   * The command line that runs exactly one event's script. `npm run install` and `pnpm run
   * install` also run preinstall and postinstall, which have their own turn in `events`: each
   * manager needs its own switch to run the one script alone.
   */
  argsFor(event: string): string[];
}

/** npm runs the named script alone under --ignore-scripts (its documented behaviour for `run`). */
export const NPM_OWN_SCRIPTS = (events: readonly string[]): OwnScriptsRunner => ({ program: 'npm', name: 'npm', events, argsFor: (event) => ['run', event, '--ignore-scripts'] });

/** pnpm's switch goes before `run`: what follows the script's name is the script's. */
export const PNPM_OWN_SCRIPTS = (program: string, events: readonly string[]): OwnScriptsRunner => ({
  program,
  name: 'pnpm',
  events,
  argsFor: (event) => ['--config.enable-pre-post-scripts=false', 'run', event],
});

export async function runOwnScripts(projectDir: string, runner: OwnScriptsRunner, stdio: 'inherit' | 'stderr'): Promise<string[]> {
  const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> };
  const ran: string[] = [];
  for (const event of runner.events) {
    if (typeof manifest.scripts?.[event] !== 'string' || manifest.scripts[event] === '') continue;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(runner.program, runner.argsFor(event), {
        cwd: projectDir,
        stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 2, 2],
        env: { ...process.env, npm_command: 'install' },
      });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    }).catch((err: unknown) => {
      throw new SafeInstallError('E_INTERNAL', `could not run ${runner.name} for the project's ${event} script: ${describe(err)}`, `check that ${runner.name} is on PATH`);
    });
    if (code !== 0) {
      throw new SafeInstallError('E_INTERNAL', `the project's own ${event} script failed (exit ${code})`, `the packages are installed; fix the script and run it with \`${runner.name} run ${event}\``);
    }
    ran.push(event);
  }
  return ran;
}
