/** `safe-install shims install [--dir DIR] | uninstall [--dir DIR] | env [--shell bash|zsh|fish] [--dir DIR]` */
import path from 'node:path';
import { SafeInstallError } from '../../errors/index.js';
import { packageRoot } from '../../package-root.js';
import { defaultShimDir, installShims, pathLine, shellFromEnv, uninstallShims, type ShellName } from '../../shims/index.js';
import { parseFlags } from '../args.js';
import { EXIT_ALLOWED } from '../exit-codes.js';

const SHIMS_USAGE = 'usage: safe-install shims install [--dir DIR] | uninstall [--dir DIR] | env [--shell bash|zsh|fish] [--dir DIR]';

export async function shimsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseFlags(rest, { dir: { type: 'string' }, shell: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new SafeInstallError('E_USAGE', `unexpected argument "${positionals[0]}"`, SHIMS_USAGE);
  const dir = path.resolve(values.dir ?? defaultShimDir());
  switch (sub) {
    case 'install': {
      const result = installShims({ dir, node: process.execPath, bin: path.join(packageRoot().dir, 'bin', 'safe-install') });
      if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else {
        process.stdout.write(
          `wrote ${result.written.join(', ')} to ${result.dir}\n` +
            `put them first on PATH (add to your shell's rc file):\n  ${pathLine(shellFromEnv(), result.dir)}\n` +
            `or: eval "$(safe-install shims env)"\n` +
            `not covered: \`python -m pip install\` and \`uv run\` (they bypass PATH lookups or install implicitly); use \`pip install\` / \`uv sync\` through the shims\n`,
        );
      }
      return EXIT_ALLOWED;
    }
    case 'uninstall': {
      const result = uninstallShims({ dir });
      if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(result.removed.length > 0 ? `removed ${result.removed.join(', ')} from ${result.dir}\nremove the PATH line from your shell's rc file too\n` : `no shims in ${result.dir}\n`);
      return EXIT_ALLOWED;
    }
    case 'env': {
      const shell = (values.shell ?? shellFromEnv()) as ShellName;
      if (!['bash', 'zsh', 'fish', 'sh'].includes(shell)) throw new SafeInstallError('E_USAGE', `--shell takes bash, zsh or fish, not "${shell}"`, 'e.g. --shell fish');
      process.stdout.write(`${pathLine(shell, dir)}\n`);
      return EXIT_ALLOWED;
    }
    default:
      throw new SafeInstallError('E_USAGE', sub ? `unknown shims command "${sub}"` : 'shims needs a command', SHIMS_USAGE);
  }
}

/** The answer to `safe-install pnpm|pip|uv ...` while those front-ends do not exist: a clear refusal, exit 2. */
export function frontendMissing(tool: string, args: string[]): never {
  throw new SafeInstallError(
    'E_USAGE',
    `safe-install cannot install with ${tool} yet, so \`${[tool, ...args].join(' ')}\` was refused`,
    `run it through npm if you can; otherwise SAFE_INSTALL_BYPASS=1 ${tool} ... runs the real ${tool} unprotected (logged in the record)`,
  );
}
