/**
 * The real pnpm: `SAFE_INSTALL_PNPM`, else the first `pnpm` on PATH outside any shim folder
 * (the PATH shims send `pnpm install` here, so finding the shim again would loop).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { SafeInstallError, describe } from '../errors/index.js';
import { SHIM_DIR_MARKER } from '../shims/script.js';

export interface PnpmBinary {
  file: string;
  version: string;
  major: number;
}

/** Lockfile v9 and the `--ignore-scripts` / `pendingBuilds` behaviour we rely on. */
export const MIN_PNPM_MAJOR = 9;

export async function findPnpm(env: NodeJS.ProcessEnv = process.env): Promise<PnpmBinary> {
  const file = env.SAFE_INSTALL_PNPM || onPath('pnpm', env.PATH ?? '');
  if (!file) {
    throw new SafeInstallError('E_USAGE', 'pnpm was not found on PATH', 'install pnpm (`npm install -g pnpm`, or `corepack enable pnpm`), or point SAFE_INSTALL_PNPM at it');
  }
  let version: string;
  try {
    version = (await execa(file, ['--version'], { env: { ...env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' }, timeout: 30_000 })).stdout.trim();
  } catch (err) {
    throw new SafeInstallError('E_USAGE', `could not run ${file} --version: ${describe(err).split('\n')[0]}`, 'check your pnpm installation, or point SAFE_INSTALL_PNPM at a working pnpm');
  }
  const major = Number(/^(\d+)\./.exec(version)?.[1]);
  if (!Number.isInteger(major) || major < MIN_PNPM_MAJOR) {
    throw new SafeInstallError('E_USAGE', `pnpm ${version} is too old for safe-install (it needs pnpm ${MIN_PNPM_MAJOR} or later)`, 'upgrade pnpm: `npm install -g pnpm@latest`');
  }
  return { file, version, major };
}

function onPath(name: string, pathVar: string): string | null {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir || fs.existsSync(path.join(dir, SHIM_DIR_MARKER))) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}
