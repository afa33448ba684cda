import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SafeInstallError } from '../errors/index.js';

/** node's parseArgs with our error type, so a typo is a one-line usage error with exit 2. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new SafeInstallError('E_USAGE', (err as Error).message.split('\n')[0] ?? 'bad arguments', 'run `safe-install --help` for the options');
  }
}

export function secondsFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new SafeInstallError('E_USAGE', `--${name} takes a positive number of seconds, not "${value}"`, `e.g. --${name} 60`);
  }
  return Math.round(seconds * 1000);
}
