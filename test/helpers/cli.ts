/** Running the real CLI from the tests: its compiled entry, as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/package-root.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI's own entry in `dir`, minus the bin's compile-on-first-use step (the tests run the build). */
export function writeLauncher(dir: string): string {
  const launcher = path.join(dir, 'safe-install.mjs');
  const main = path.join(packageRoot().dir, 'dist', 'src', 'cli', 'main.js');
  fs.writeFileSync(launcher, `const { main } = await import(${JSON.stringify(main)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  return launcher;
}

/** Starts the CLI with exactly this environment; `done` settles when it has closed. */
export function startCli(launcher: string, cwd: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [launcher, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
