/**
 * Benchmarks, as ratios against plain `npm install` measured in the same run (same machine,
 * same local registry, warm caches). Timings live here, never in tests.
 *
 *   npm run bench            all benchmarks, a table on stdout, JSON in .bench-out/results.json
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/package-root.js';
import { connectDocker } from '../src/sandbox/docker.js';
import { ensureSandboxImage } from '../src/sandbox/image/index.js';
import { straceArgs } from '../src/sandbox/tracer.js';
import { startLocalRegistry } from '../test/helpers/local-registry.js';
import { median } from './stats.js';

const root = packageRoot().dir;
const bin = path.join(root, 'bin', 'safe-install');
const fixturesDir = path.join(root, 'fixtures', 'npm', '@fixtures');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Timed {
  ms: number;
  stderr: string;
  code: number | null;
}

function timed(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Timed> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ ms: performance.now() - start, stderr, code }));
  });
}

async function repeat(fn: () => Promise<number>, runs = RUNS): Promise<number> {
  await fn(); // warm-up: caches, page cache, image layers
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await fn());
  return median(samples);
}

async function npmInstall(spec: string, registry: string, cache: string): Promise<number> {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bench-npm-'));
  try {
    // Recent npm skips dependency scripts unless allowed; the comparison is with npm running them.
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', allowScripts: { [spec]: true } }));
    const r = await timed('npm', ['install', spec, '--registry', registry, '--cache', cache, '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: project,
    });
    if (r.code !== 0) throw new Error(`npm install ${spec} failed: ${r.stderr}`);
    return r.ms;
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
}

async function scanCli(spec: string, registry: string, cache: string): Promise<Timed> {
  const r = await timed(process.execPath, [bin, 'scan', spec, '--registry', registry, '--json'], { env: { npm_config_cache: cache } });
  if (r.code === 2) throw new Error(`safe-install scan ${spec} failed: ${r.stderr}`);
  return r;
}

/** The node-gyp build of the fixture addon inside the sandbox image, with and without strace. */
async function nodeGypBuild(image: string, traced: boolean): Promise<number> {
  const addon = path.join(fixturesDir, 'native-addon');
  const trace = traced ? `strace ${straceArgs().map((a) => `'${a}'`).join(' ')} -o /dev/null -- ` : '';
  const script = `cp -r /fixture /tmp/a && cd /tmp/a && s=$(date +%s%N) && ${trace}node-gyp rebuild >/dev/null 2>&1 && e=$(date +%s%N) && echo $(( (e - s) / 1000000 ))`;
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '--rm', '--network', 'none', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '1000:1000', '-e', 'HOME=/tmp', '-v', `${addon}:/fixture:ro`, image, 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`node-gyp build failed (${code})`))));
  });
}

function sandboxSeconds(stderr: string): number | null {
  // From "starting the sandbox" to the last script's result, as the progress lines report it.
  const m = [...stderr.matchAll(/: (?:ok|failed|timeout|killed|sandbox-error) \(([\d.]+) s\)/g)].map((x) => Number(x[1]));
  return m.length ? m.reduce((a, b) => a + b, 0) : null;
}

async function main(): Promise<void> {
  const registry = await startLocalRegistry({ packages: fs.readdirSync(fixturesDir).map((n) => path.join(fixturesDir, n)) });
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bench-cache-'));
  const docker = await connectDocker();
  const image = await ensureSandboxImage(docker);
  const rows: { name: string; safeInstallMs: number; baselineMs: number; ratio: number; note: string }[] = [];
  try {
    {
      const si = await repeat(async () => (await scanCli('@fixtures/no-scripts', registry.url, cache)).ms);
      const npm = await repeat(() => npmInstall('@fixtures/no-scripts', registry.url, cache));
      rows.push({ name: 'scan, no install-time code (2 packages)', safeInstallMs: si, baselineMs: npm, ratio: si / npm, note: 'no container; target < 1500 ms' });
    }
    {
      let inSandbox: number[] = [];
      const si = await repeat(async () => {
        const r = await scanCli('@fixtures/shell-pipeline', registry.url, cache);
        const s = sandboxSeconds(r.stderr);
        if (s !== null) inSandbox.push(s * 1000);
        return r.ms;
      });
      inSandbox = inSandbox.slice(1);
      const npm = await repeat(() => npmInstall('@fixtures/shell-pipeline', registry.url, cache));
      const containerMs = median(inSandbox);
      rows.push({
        name: 'scan, trivial postinstall',
        safeInstallMs: si,
        baselineMs: npm,
        ratio: si / npm,
        note: `script in sandbox ${containerMs.toFixed(0)} ms`,
      });
    }
    {
      const traced = await repeat(() => nodeGypBuild(image.tag, true), 3);
      const plain = await repeat(() => nodeGypBuild(image.tag, false), 3);
      rows.push({ name: 'node-gyp build of a small addon, traced vs untraced', safeInstallMs: traced, baselineMs: plain, ratio: traced / plain, note: 'target < 1.5x' });
    }
  } finally {
    await registry.close();
    fs.rmSync(cache, { recursive: true, force: true });
  }
  const outDir = path.join(root, '.bench-out');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, rows }, null, 2)}\n`);
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${pad('benchmark', 52)} ${pad('safe-install', 13)} ${pad('baseline', 10)} ratio  note`);
  for (const r of rows) {
    console.log(`${pad(r.name, 52)} ${pad(`${r.safeInstallMs.toFixed(0)} ms`, 13)} ${pad(`${r.baselineMs.toFixed(0)} ms`, 10)} ${r.ratio.toFixed(2)}x  ${r.note}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
