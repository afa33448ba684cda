/**
 * `safe-install pnpm add|install|i [...]`: pnpm's flags that shape the resolution pass
 * through to pnpm (which resolves, and installs with scripts disabled); ours decide the rest.
 */
import path from 'node:path';
import { SafeInstallError } from '../../errors/index.js';
import { preparePnpmInstall, type PreparedPnpmInstall } from '../../pipeline/pnpm-install.js';
import { collectProvenance } from '../../provenance/index.js';
import { parseFlags } from '../args.js';
import { commandPolicy, failOnFlag, HOST_INSTALL_FLAGS, hostInstallOptions, type HostInstallValues } from '../common-flags.js';
import { createProgressView } from '../progress-view.js';
import { finishInstall } from './install.js';

const PNPM_INSTALL_WORDS: Record<string, 'add' | 'install'> = { add: 'add', install: 'install', i: 'install' };

/** pnpm's boolean flags passed through as given. */
const PASS_THROUGH: Record<string, { short?: string }> = {
  'save-dev': { short: 'D' },
  'save-exact': { short: 'E' },
  'save-optional': { short: 'O' },
  'save-prod': { short: 'P' },
  'save-peer': {},
  'frozen-lockfile': {},
  'prefer-frozen-lockfile': {},
  prod: {},
  dev: {},
  'no-optional': {},
  'workspace-root': { short: 'w' },
};

export async function pnpmCommand(argv: string[]): Promise<number> {
  // pnpm's global `-C/--dir <path>` before the command (the shims pass it on as given).
  let cwd = process.cwd();
  while (argv[0] === '-C' || argv[0] === '--dir' || argv[0]?.startsWith('--dir=')) {
    const [flag, value, ...more] = argv;
    if (flag!.startsWith('--dir=')) {
      cwd = path.resolve(cwd, flag!.slice('--dir='.length));
      argv = [value!, ...more].filter((x) => x !== undefined);
    } else {
      if (value === undefined) throw new SafeInstallError('E_USAGE', `${flag} needs a folder`, 'e.g. safe-install pnpm -C packages/app add esbuild');
      cwd = path.resolve(cwd, value);
      argv = more;
    }
  }
  const [sub, ...rest] = argv;
  const command = sub === undefined ? undefined : PNPM_INSTALL_WORDS[sub];
  if (!command) {
    throw new SafeInstallError('E_USAGE', `safe-install pnpm ${sub ?? ''}: only pnpm's add and install go through the sandbox`, 'use `safe-install pnpm add|install ...`, or run pnpm itself for other commands');
  }
  const { values, positionals } = parseFlags(rest, {
    ...Object.fromEntries(Object.entries(PASS_THROUGH).map(([name, o]) => [name, { type: 'boolean' as const, ...(o.short ? { short: o.short } : {}) }])),
    filter: { type: 'string', short: 'F', multiple: true },
    recursive: { type: 'boolean', short: 'r' },
    ...HOST_INSTALL_FLAGS,
  });
  if (values.filter || values.recursive) {
    throw new SafeInstallError('E_USAGE', '--filter and --recursive are not supported by safe-install pnpm yet', 'run it in the workspace project itself (pnpm add there), or at the root to install the whole workspace');
  }
  if (command === 'install' && positionals.length > 0) {
    throw new SafeInstallError('E_USAGE', '`pnpm install` takes no package names', 'use `safe-install pnpm add <pkg>`');
  }
  if (command === 'add' && positionals.length === 0) {
    throw new SafeInstallError('E_USAGE', '`pnpm add` needs a package name', 'e.g. `safe-install pnpm add esbuild`');
  }
  const pnpmArgs = Object.keys(PASS_THROUGH).flatMap((name) => ((values as Record<string, unknown>)[name] === true ? [`--${name}`] : []));
  const failOn = failOnFlag(values['fail-on'] as string | undefined);
  const host = hostInstallOptions(values as HostInstallValues);
  const policy = await commandPolicy(values as { policy?: string; quiet?: boolean }, cwd);
  const provenance = collectProvenance();
  const progress = createProgressView(process.stderr, values.quiet === true);
  let prepared: PreparedPnpmInstall;
  try {
    prepared = await preparePnpmInstall({
      cwd,
      command,
      specs: positionals,
      pnpmArgs,
      ...host.withPolicy(policy, (ev) => progress.update(ev)),
    });
  } finally {
    progress.done();
  }
  return finishInstall(prepared, {
    values: values as { json?: boolean; verbose?: boolean; yes?: boolean; quiet?: boolean },
    failOn,
    policyFailOn: policy.failOn,
    provenance,
    extra: { packageManager: `pnpm@${prepared.pnpmVersion}`, skipped: prepared.skipped },
    notes: prepared.skipped.map((s) => `safe-install: ${s.name}@${s.version} has install scripts that pnpm will not run (${s.reason}); not run in the sandbox either`),
  });
}
