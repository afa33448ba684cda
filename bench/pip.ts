/**
 * `npm run bench:pip`: `safe-install pip install -r requirements.txt` against plain
 * `pip install -r requirements.txt` of the same local sdists (one a C extension, one whose
 * dependency only setup.py names) and a wheel, from the same find-links folder, no index.
 * Each run installs into a fresh venv (made before the clock starts). Plain pip builds the
 * sdists on this machine (these are the repository's benign fixtures; never do that with
 * untrusted ones), with setuptools and wheel put in its venv beforehand (--no-build-isolation:
 * its fastest case). Prints the medians and the ratio.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/package-root.js';
import { makeSdist, makeWheel } from '../test/pip/pip-index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = packageRoot().dir;

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - start) / 1000) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr.slice(-2000)}`))));
  });
}

/** pip config and PIP_* variables of this machine left out: both sides see only the find-links folder. */
const HERMETIC = { PIP_CONFIG_FILE: os.devNull, PIP_FIND_LINKS: '', PIP_INDEX_URL: '', PIP_EXTRA_INDEX_URL: '' };

function venv(dir: string, builder = false): NodeJS.ProcessEnv {
  const r = spawnSync('python3', ['-m', 'venv', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const env = { ...process.env, ...HERMETIC, VIRTUAL_ENV: dir, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, SAFE_INSTALL_NONINTERACTIVE: '1' };
  if (builder) {
    // Plain pip builds on the host: give it setuptools and wheel up front (from BENCH_PIP_INDEX,
    // default this machine's mirror), so it needs no isolated build env: its best case.
    const index = process.env.BENCH_PIP_INDEX ?? 'file:///opt/pypi/simple';
    const w = spawnSync(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '--index-url', index, 'setuptools', 'wheel'], { encoding: 'utf8', env });
    if (w.status !== 0) throw new Error(`cannot install setuptools and wheel from ${index} (set BENCH_PIP_INDEX): ${w.stderr}`);
  }
  return env;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'si-bench-pip-'));
  try {
    const files = path.join(tmp, 'files');
    fs.mkdirSync(files);
    makeSdist('benign-cext', files);
    makeSdist('benign-pure', files);
    makeWheel('benign-tool-wheel', files);
    const req = path.join(tmp, 'requirements.txt');
    fs.writeFileSync(req, 'benign-pure==1.0.0\nbenign-cext==1.0.0\nbenign-tool-wheel==1.0.0\n');
    // The compiled CLI itself (bin/safe-install would recompile when sources change mid-run).
    const cli = path.join(tmp, 'safe-install.mjs');
    fs.writeFileSync(cli, `const { main } = await import(${JSON.stringify(path.join(root, 'dist', 'src', 'cli', 'main.js'))});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    const state = { XDG_STATE_HOME: path.join(tmp, 'state') };
    // Warm: the sandbox image exists and the CLI is compiled.
    const warm = venv(path.join(tmp, 'warm'));
    await timed(process.execPath, [cli, 'pip', 'install', '--no-index', '--find-links', files, '-r', req, '--quiet'], { ...warm, ...state });
    const safe: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const a = venv(path.join(tmp, `safe-${i}`));
      safe.push(await timed(process.execPath, [cli, 'pip', 'install', '--no-index', '--find-links', files, '-r', req, '--quiet'], { ...a, ...state }));
      const b = venv(path.join(tmp, `plain-${i}`), true);
      plain.push(await timed(path.join(tmp, `plain-${i}`, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--find-links', files, '--no-build-isolation', '--no-cache-dir', '-r', req], b));
    }
    const s = median(safe);
    const p = median(plain);
    process.stdout.write(`pip install -r requirements.txt (2 sdists, one a C extension, + 1 wheel; ${RUNS} runs, medians)\n`);
    process.stdout.write(`  safe-install pip install: ${s.toFixed(2)} s   [${safe.map((x) => x.toFixed(2)).join(', ')}]\n`);
    process.stdout.write(`  plain pip install:        ${p.toFixed(2)} s   [${plain.map((x) => x.toFixed(2)).join(', ')}]\n`);
    process.stdout.write(`  ratio: ${(s / p).toFixed(2)}x\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
