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
  /** Arguments after `run <event>`. */
  extraArgs?: string[];
}

export async function runOwnScripts(projectDir: string, runner: OwnScriptsRunner, stdio: 'inherit' | 'stderr'): Promise<string[]> {
  const manifest = JSON.parse(fs.readFileSync(path.join(projectDir, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> };
  const ran: string[] = [];
  for (const event of runner.events) {
    if (typeof manifest.scripts?.[event] !== 'string' || manifest.scripts[event] === '') continue;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(runner.program, ['run', event, ...(runner.extraArgs ?? [])], {
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
