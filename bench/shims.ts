/**
 * PATH shim overhead: `npm --version` through the shim vs the real npm directly, and the sh
 * part alone (a shim whose real program is `true`). Timings live here, never in tests.
 *
 *   node dist/bench/shims.js        (BENCH_RUNS=N, default 30; interleaved, median)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/package-root.js';
import { installShims } from '../src/shims/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bench-shims-'));
const shimDir = path.join(tmp, 'shims');
installShims({ dir: shimDir, node: process.execPath, bin: path.join(packageRoot().dir, 'bin', 'safe-install') });
const realNpm = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
if (!realNpm) throw new Error('no npm on PATH');

// A "real npm" that does nothing: isolates what the shim itself costs.
const trueDir = path.join(tmp, 'true-bin');
fs.mkdirSync(trueDir);
fs.symlinkSync('/bin/true', path.join(trueDir, 'npm'));

function time(cmd: string, args: string[], PATH: string): number {
  const start = performance.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, PATH }, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return performance.now() - start;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const basePath = process.env.PATH ?? '';
const direct: number[] = [];
const shimmed: number[] = [];
const trueDirect: number[] = [];
const trueShimmed: number[] = [];
time(realNpm, ['--version'], basePath); // warm the page cache
for (let i = 0; i < RUNS; i++) {
  direct.push(time(realNpm, ['--version'], basePath));
  shimmed.push(time(path.join(shimDir, 'npm'), ['--version'], `${shimDir}:${basePath}`));
  trueDirect.push(time(path.join(trueDir, 'npm'), ['--version'], basePath));
  trueShimmed.push(time(path.join(shimDir, 'npm'), ['--version'], `${shimDir}:${trueDir}:${basePath}`));
}
fs.rmSync(tmp, { recursive: true, force: true });

const rows = [
  ['npm --version', median(direct), median(shimmed)],
  ['shim alone (real program: true)', median(trueDirect), median(trueShimmed)],
] as const;
process.stdout.write(`runs: ${RUNS} (median)\n| command | direct | through the shim | ratio | added |\n| --- | --- | --- | --- | --- |\n`);
for (const [name, d, s] of rows) process.stdout.write(`| ${name} | ${d.toFixed(1)} ms | ${s.toFixed(1)} ms | ${(s / d).toFixed(3)}x | ${(s - d).toFixed(1)} ms |\n`);
