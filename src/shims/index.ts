/**
 * Install, list and remove the PATH shims, and print the PATH line for a shell. Writes only
 * into the shim folder, and removes only files that carry the shim marker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import { SHIM_DIR_MARKER, SHIM_MARKER, SHIM_TOOLS, shimScript, shQuote, type ShimTool } from './script.js';

export { SHIM_TOOLS, SHIM_MARKER, SHIM_DIR_MARKER, shimScript, type ShimTool } from './script.js';

export function defaultShimDir(env: NodeJS.ProcessEnv = process.env): string {
  const data = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'safe-install', 'shims');
}

function isShim(file: string): boolean {
  try {
    const head = fs.readFileSync(file, 'utf8').slice(0, 200).split('\n');
    return head[1]?.startsWith(SHIM_MARKER) === true;
  } catch {
    return false;
  }
}

export interface InstallShimsResult {
  dir: string;
  written: ShimTool[];
}

/**
 * Write every shim into `dir`. A file of the same name that is not a shim is never
 * overwritten (it may be the user's own wrapper): that is an error, with the path.
 */
export function installShims(opts: { dir: string; node: string; bin: string }): InstallShimsResult {
  const dir = path.resolve(opts.dir);
  if (!path.isAbsolute(opts.node) || !path.isAbsolute(opts.bin)) throw new SafeInstallError('E_INTERNAL', 'shims need absolute paths for node and safe-install', 'this is a bug in safe-install');
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new SafeInstallError('E_USAGE', `cannot create the shim folder ${dir}: ${(err as Error).message}`, 'choose another with --dir');
  }
  for (const tool of SHIM_TOOLS) {
    const file = path.join(dir, tool);
    if (fs.existsSync(file) && !isShim(file)) {
      throw new SafeInstallError('E_USAGE', `${file} exists and is not a safe-install shim`, 'move it away, or choose another folder with --dir');
    }
  }
  // Marks the folder for every shim (this one's and any other install's): skipped when looking
  // for real programs, and taken off PATH when safe-install runs.
  fs.writeFileSync(path.join(dir, SHIM_DIR_MARKER), 'safe-install PATH shims: this folder is never searched for real package managers\n');
  for (const tool of SHIM_TOOLS) {
    const file = path.join(dir, tool);
    // Write then rename: a shell running the old shim never reads a half-written one.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, shimScript({ tool, dir, node: opts.node, bin: opts.bin }), { mode: 0o755 });
    fs.renameSync(tmp, file);
  }
  return { dir, written: [...SHIM_TOOLS] };
}

export function uninstallShims(opts: { dir: string }): { dir: string; removed: string[]; keptFolder: boolean } {
  const dir = path.resolve(opts.dir);
  const removed: string[] = [];
  for (const tool of SHIM_TOOLS) {
    const file = path.join(dir, tool);
    if (isShim(file)) {
      fs.rmSync(file);
      removed.push(tool);
    }
  }
  if (removed.length > 0 || SHIM_TOOLS.every((tool) => !fs.existsSync(path.join(dir, tool)))) fs.rmSync(path.join(dir, SHIM_DIR_MARKER), { force: true });
  let keptFolder = true;
  try {
    fs.rmdirSync(dir); // only when empty
    keptFolder = false;
  } catch {
    /* not empty, or absent */
  }
  return { dir, removed, keptFolder: keptFolder && fs.existsSync(dir) };
}

export type ShellName = 'bash' | 'zsh' | 'fish' | 'sh';

export function shellFromEnv(env: NodeJS.ProcessEnv = process.env): ShellName {
  const name = path.basename(env.SHELL ?? '');
  return name === 'zsh' || name === 'fish' || name === 'bash' ? name : 'sh';
}

/** The line that puts the shims first on PATH, for the rc file of that shell. */
export function pathLine(shell: ShellName, dir: string): string {
  if (shell === 'fish') return `set -gx PATH ${shQuote(dir)} $PATH`;
  return `export PATH=${shQuote(dir)}:"$PATH"`;
}
