/**
 * `npm run bench:pnpm`: `safe-install pnpm install` against plain `pnpm install` (the pnpm
 * pinned in devDependencies) on the same real project as bench:install, in the same run with
 * the same warm pnpm store. allowBuilds lets pnpm build the five packages with install
 * scripts (esbuild, core-js, bufferutil, utf-8-validate, @swc/core), so both sides build them:
 * plain pnpm on this machine, safe-install in the sandbox.
 *
 * Each measurement starts from an empty node_modules and no lockfile; the store is warmed
 * first, so the registry's speed counts for neither.
 * - cold: an empty verdict cache, so every build runs in the sandbox;
 * - warm: the verdict cache of an earlier run, so no container starts.
 * Plain pnpm keeps build results in its store (side-effects cache) after the warm-up, which
 * is its own warm path. Not a test: the registry changes under it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/package-root.js';

const DEPENDENCIES: Record<string, string> = {
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

const ALLOWED_BUILDS = ['esbuild', 'core-js', 'bufferutil', 'utf-8-validate', '@swc/core'];

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  const root = packageRoot().dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bench-pnpm-'));
  const launcher = path.join(tmp, 'safe-install.mjs');
  fs.writeFileSync(launcher, `const { main } = await import(${JSON.stringify(path.join(root, 'dist', 'src', 'cli', 'main.js'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  let n = 0;
  const project = (): string => {
    const dir = path.join(tmp, `project-${++n}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies: DEPENDENCIES }, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, 'pnpm-workspace.yaml'), `allowBuilds:\n${ALLOWED_BUILDS.map((n) => `  '${n}': true`).join('\n')}\n`);
    return dir;
  };
  const pnpm = path.join(root, 'node_modules', '.bin', 'pnpm');
  const env = { ...process.env, NO_COLOR: '1', PATH: `${path.dirname(pnpm)}${path.delimiter}${process.env.PATH ?? ''}`, npm_config_store_dir: path.join(tmp, 'store') };
  const npmArgs = ['install', '--reporter=append-only'];
  try {
    process.stderr.write('warming the pnpm store...\n');
    const warm = project();
    await runTimed(pnpm, npmArgs, warm, env);
    const lock = fs.readFileSync(path.join(warm, 'pnpm-lock.yaml'), 'utf8');
    const locations = [...lock.split('\nsnapshots:')[1]!.matchAll(/^ {2}\S.*:/gm)];
    const scripted = ALLOWED_BUILDS;
    process.stderr.write(`project: ${locations.length} packages, builds allowed for ${scripted.join(', ')}\n`);
    // The sandbox image is built once, outside any measurement.
    await runTimed(process.execPath, [launcher, 'setup'], warm, env);

    const npmTimes: number[] = [];
    const cold: number[] = [];
    const warmTimes: number[] = [];
    const verdictCache = path.join(tmp, 'xdg-warm');
    for (let i = 0; i < RUNS; i++) {
      npmTimes.push((await runTimed(pnpm, npmArgs, project(), env)).seconds);
      // Cold: a fresh verdict cache each time. The last cold run fills the one warm runs use.
      const xdg = i === RUNS - 1 ? verdictCache : path.join(tmp, `xdg-cold-${i}`);
      const c = await runTimed(process.execPath, [launcher, 'pnpm', 'install', '--yes'], project(), { ...env, XDG_CACHE_HOME: xdg });
      cold.push(c.seconds);
      process.stderr.write(`  run ${i + 1}: pnpm ${npmTimes.at(-1)!.toFixed(2)} s, safe-install cold ${c.seconds.toFixed(2)} s\n`);
    }
    for (let i = 0; i < RUNS; i++) {
      const w = await runTimed(process.execPath, [launcher, 'pnpm', 'install', '--yes'], project(), { ...env, XDG_CACHE_HOME: verdictCache });
      if (/starting the sandbox/.test(w.stderr)) throw new Error('a warm run started the sandbox: the verdict cache missed');
      warmTimes.push(w.seconds);
      process.stderr.write(`  run ${i + 1}: safe-install warm ${w.seconds.toFixed(2)} s\n`);
    }
    const base = median(npmTimes);
    const rows = [
      ['pnpm install', base],
      ['safe-install, cold verdict cache', median(cold)],
      ['safe-install, warm verdict cache', median(warmTimes)],
    ] as const;
    process.stdout.write(`\n${locations.length} packages, ${scripted.length} builds allowed; median of ${RUNS} runs, warm pnpm store\n`);
    for (const [label, seconds] of rows) process.stdout.write(`${label.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  ${(seconds / base).toFixed(2)}x\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
