#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies (npm ci, scripts off) and compiles the
// TypeScript when the sources are newer than the build. A published package has dist/ and no
// src/, so this does nothing there. Node builtins only: it runs before anything is installed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`safe-install: ${msg}\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function newest(dir) {
  let latest = 0;
  if (!fs.existsSync(dir)) return latest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return latest;
}

function run(what, file, args) {
  try {
    execFileSync(file, args, { cwd: root, stdio: ['ignore', 2, 2] });
  } catch {
    log(`${what} failed (see above); fix it, or reinstall safe-install`);
    process.exit(2);
  }
}

export function bootstrap() {
  if (!fs.existsSync(path.join(root, 'src'))) return;
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
    log('installing dependencies (npm ci, first run only)');
    // Our own dependencies' install scripts are not needed (ssh2's optional native crypto).
    run('installing dependencies', npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error']);
  }
  const stamp = path.join(root, 'dist', '.build-stamp');
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const sources = Math.max(...['src', 'test', 'bench'].map((d) => newest(path.join(root, d))), fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs);
  if (sources > built) {
    log('compiling TypeScript');
    run('compiling TypeScript', process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')]);
    fs.writeFileSync(stamp, new Date().toISOString());
  }
}

if (import.meta.url === `file://${process.argv[1]}`) bootstrap();
