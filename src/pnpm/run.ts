/** Runs the real pnpm on the host, never with scripts (`query`: a command that runs none, e.g. ls); output captured for errors. */
import { execa } from 'execa';
import { SafeInstallError } from '../errors/index.js';
import type { PnpmBinary } from './binary.js';

export async function runPnpm(pnpm: PnpmBinary, args: string[], opts: { cwd: string; what: string; hint: string; env?: NodeJS.ProcessEnv; query?: boolean }): Promise<string> {
  const result = await execa(pnpm.file, opts.query ? args : [...args, '--ignore-scripts', '--reporter=append-only'], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', npm_config_ignore_scripts: 'true', npm_config_update_notifier: 'false' },
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  if (result.exitCode !== 0 || result.failed) {
    const lines = String(result.all ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
    const reason = lines.find((l) => /ERR_PNPM_|ERROR|error/i.test(l)) ?? lines.at(-1) ?? result.shortMessage;
    throw new SafeInstallError('E_RESOLVE', `${opts.what} failed: ${reason}`, opts.hint);
  }
  return String(result.stdout ?? '');
}
