/**
 * The measurement bench:install and bench:pnpm share: safe-install against the plain package
 * manager on the same real project, in the same run, with the same warm caches.
 *
 * Each measurement starts from an empty node_modules and no lockfile; the package manager's
 * cache is warmed first, so the registry's speed counts for neither.
 * - cold: an empty verdict cache, so every install script runs in the sandbox;
 * - warm: the verdict cache of an earlier run, so no container starts.
 * Prints the medians and the ratios to the plain install. Not a test: the registry changes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/package-root.js';
import { median } from './stats.js';

/** About a hundred packages, five of them with install scripts. */
export const BENCH_DEPENDENCIES: Record<string, string> = {
  esbuild: '^0.25.0',
  'core-js': '^3.40.0',
  bufferutil: '^4.0.9',
  'utf-8-validate': '^6.0.5',
  '@swc/core': '^1.11.0',
  express: '^4.21.0',
  chalk: '^5.4.0',
  commander: '^13.0.0',
  lodash: '^4.17.21',
  dayjs: '^1.11.0',
  uuid: '^11.0.0',
  ws: '^8.18.0',
  debug: '^4.4.0',
};

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

export interface InstallComparison {
  /** `npm install`, `pnpm install`: the row label of the baseline. */
  label: string;
  /** The plain install: program and arguments. */
  baseline: [string, ...string[]];
  /** safe-install's arguments for the same install. */
  safeInstall: string[];
  /** Files besides package.json a fresh project gets (relative path → content). */
  projectFiles?: Record<string, string>;
  /** More package.json fields of the project (its own scripts). */
  manifest?: Record<string, unknown>;
  /** The project's own scripts run in the sandbox (--sandbox-root): a warm run starts it too. */
  sandboxWhenWarm?: boolean;
  /** The environment of every run, given the run's temp folder. */
  env(tmp: string): NodeJS.ProcessEnv;
  /** What the warm-up install shows of the project (a line), and how the cache is called. */
  describe(warmProject: string): { project: string; headline: string };
  cacheName: string;
}

interface Timed {
  seconds: number;
  stderr: string;
}

function runTimed(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr.slice(-3000)}`));
      else resolve({ seconds, stderr });
    });
  });
}

export async function compareInstalls(cfg: InstallComparison): Promise<void> {
  const root = packageRoot().dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bench-install-'));
  const launcher = path.join(tmp, 'safe-install.mjs');
  fs.writeFileSync(launcher, `const { main } = await import(${JSON.stringify(path.join(root, 'dist', 'src', 'cli', 'main.js'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  let n = 0;
  const project = (): string => {
    const dir = path.join(tmp, `project-${++n}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, ...cfg.manifest, dependencies: BENCH_DEPENDENCIES }, null, 2)}\n`);
    for (const [name, text] of Object.entries(cfg.projectFiles ?? {})) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };
  const env = cfg.env(tmp);
  const [cmd, ...args] = cfg.baseline;
  try {
    process.stderr.write(`warming the ${cfg.cacheName}...\n`);
    const warm = project();
    await runTimed(cmd, args, warm, env);
    const { project: about, headline } = cfg.describe(warm);
    process.stderr.write(`project: ${about}\n`);
    // The sandbox image is built once, outside any measurement.
    await runTimed(process.execPath, [launcher, 'setup'], warm, env);

    const plain: number[] = [];
    const cold: number[] = [];
    const warmTimes: number[] = [];
    const verdictCache = path.join(tmp, 'xdg-warm');
    for (let i = 0; i < RUNS; i++) {
      plain.push((await runTimed(cmd, args, project(), env)).seconds);
      // Cold: a fresh verdict cache each time. The last cold run fills the one warm runs use.
      const xdg = i === RUNS - 1 ? verdictCache : path.join(tmp, `xdg-cold-${i}`);
      const c = await runTimed(process.execPath, [launcher, ...cfg.safeInstall], project(), { ...env, XDG_CACHE_HOME: xdg });
      cold.push(c.seconds);
      process.stderr.write(`  run ${i + 1}: ${cfg.label} ${plain.at(-1)!.toFixed(2)} s, safe-install cold ${c.seconds.toFixed(2)} s\n`);
    }
    for (let i = 0; i < RUNS; i++) {
      const w = await runTimed(process.execPath, [launcher, ...cfg.safeInstall], project(), { ...env, XDG_CACHE_HOME: verdictCache });
      if (/starting the sandbox for \d+ scripts?/.test(w.stderr) && !(cfg.sandboxWhenWarm && /starting the sandbox for 1 script\b/.test(w.stderr))) {
        throw new Error('a warm run sandboxed dependencies again: the verdict cache missed');
      }
      warmTimes.push(w.seconds);
      process.stderr.write(`  run ${i + 1}: safe-install warm ${w.seconds.toFixed(2)} s\n`);
    }
    const base = median(plain);
    const rows = [
      [cfg.label, base],
      ['safe-install, cold verdict cache', median(cold)],
      ['safe-install, warm verdict cache', median(warmTimes)],
    ] as const;
    process.stdout.write(`\n${headline}; median of ${RUNS} runs, warm ${cfg.cacheName}\n`);
    for (const [label, seconds] of rows) process.stdout.write(`${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  ${(seconds / base).toFixed(2)}x\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function runBench(bench: Promise<void>): void {
  bench.catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
