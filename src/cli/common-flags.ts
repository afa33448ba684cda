/**
 * Flags every verdict-giving command shares (scan, install, pip, ci, diff): checked the same
 * way everywhere, so a mistake reads the same whichever command it was made on.
 */
import { VerdictCache } from '../cache/index.js';
import { SafeInstallError } from '../errors/index.js';
import type { HostInstallOptions } from '../pipeline/builds.js';
import { loadPolicy, policyOf, type LoadedPolicy } from '../policy/index.js';
import { secondsFlag } from './args.js';
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
function sandboxRootWanted(values: { 'sandbox-root'?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): boolean {
  return values['sandbox-root'] === true || env.SAFE_INSTALL_SANDBOX_ROOT === '1' || env.SAFE_INSTALL_SANDBOX_ROOT === 'true';
}

/** HOST_INSTALL_FLAGS as parseFlags returns them (the ones the install core reads). */
export interface HostInstallValues {
  registry?: string | undefined;
  'base-image'?: string | undefined;
  'script-timeout'?: string | undefined;
  'no-cache'?: boolean | undefined;
  'sandbox-root'?: boolean | undefined;
}

/**
 * The install core's options that come from safe-install's own flags, read the same way for
 * every front-end (npm, pnpm). Called before the policy is loaded, so a bad flag is reported
 * first; `withPolicy` then adds the policy and the progress listener.
 */
export function hostInstallOptions(values: HostInstallValues): { withPolicy(policy: LoadedPolicy, onProgress: NonNullable<HostInstallOptions['onProgress']>): HostInstallOptions } {
  const scriptTimeoutMs = secondsFlag(values['script-timeout'], 'script-timeout');
  const fromFlags = {
    ...(values.registry ? { registry: values.registry } : {}),
    ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
    ...(scriptTimeoutMs ? { limits: { scriptTimeoutMs } } : {}),
    sandboxRoot: sandboxRootWanted(values),
  };
  return {
    withPolicy: (policy, onProgress) => ({ ...fromFlags, policy: policyOf(policy), policyDigest: policy.digest, cache: values['no-cache'] ? null : new VerdictCache(), onProgress }),
  };
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
