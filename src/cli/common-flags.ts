/**
 * Flags every verdict-giving command shares (scan, install, pip, ci, diff): checked the same
 * way everywhere, so a mistake reads the same whichever command it was made on.
 */
import { SafeInstallError } from '../errors/index.js';
import { loadPolicy, type LoadedPolicy } from '../policy/index.js';
import type { FailOn } from './exit-codes.js';

/** safe-install's own flags on every command that installs on the host (npm, pnpm). */
export const HOST_INSTALL_FLAGS = {
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
  policy: { type: 'string' },
  'fail-on': { type: 'string' },
  'no-cache': { type: 'boolean' },
  registry: { type: 'string' },
  'sandbox-root': { type: 'boolean' },
  'script-timeout': { type: 'string' },
  'base-image': { type: 'string' },
  verbose: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

/**
 * `--sandbox-root`, or SAFE_INSTALL_SANDBOX_ROOT=1 in the environment: an agent's shell (the PATH
 * shims) installs in checkouts nobody reviewed, whose own scripts should not run on the host either.
 */
export function sandboxRootWanted(values: { 'sandbox-root'?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): boolean {
  return values['sandbox-root'] === true || env.SAFE_INSTALL_SANDBOX_ROOT === '1' || env.SAFE_INSTALL_SANDBOX_ROOT === 'true';
}

export function failOnFlag(value: string | undefined): FailOn | undefined {
  if (value === undefined || value === 'review' || value === 'block') return value;
  throw new SafeInstallError('E_USAGE', `--fail-on takes review or block, not "${value}"`, 'e.g. --fail-on review');
}

/** `--policy FILE` or the project's and user's policy; its warnings go to stderr unless --quiet. */
export async function commandPolicy(values: { policy?: string | undefined; quiet?: boolean | undefined }, projectDir = process.cwd()): Promise<LoadedPolicy> {
  const policy = await loadPolicy({ projectDir, ...(values.policy !== undefined ? { policyFile: values.policy } : {}) });
  if (values.quiet !== true) for (const warning of policy.warnings) process.stderr.write(`safe-install: warning: ${warning}\n`);
  return policy;
}
