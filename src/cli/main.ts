/**
 * The command line. Each command parses its flags and calls the core; this file routes,
 * prints errors as one line with a hint, and turns outcomes into exit codes.
 */
import { isSafeInstallError, SafeInstallError } from '../errors/index.js';
import { packageRoot } from '../package-root.js';
import { cleanupAll } from '../sandbox/cleanup.js';
import { approveCommand } from './commands/approve.js';
import { installCommand, looksLikeSpec, npmCommand } from './commands/install.js';
import { pnpmCommand } from './commands/pnpm.js';
import { printable } from '../report/escape.js';
import { ciCommand } from './commands/ci.js';
import { diffCommand } from './commands/diff.js';
import { scanCommand } from './commands/scan.js';
import { pipCommand, pythonCommand } from './commands/pip.js';
import { setupCommand } from './commands/setup.js';
import { logCommand } from './commands/log.js';
import { frontendMissing, shimsCommand } from './commands/shims.js';
import { exitCodeForError, EXIT_ALLOWED } from './exit-codes.js';

const USAGE = `usage: safe-install <command> [options]

commands:
  scan <spec|tarball|dir>...   run every install-time script of the packages in the sandbox and report
                               (touches no project; a spec is anything npm install accepts)
  setup                        build the sandbox image now (otherwise built on first use)
  log list|show <ref>|show --last|verify   the session record: every scan and install, hash-chained
                               (docs/record.md)
  shims install|uninstall|env  PATH shims for npm, npx, pnpm, pnpx, pip, pip3, uv, uvx: installs go
                               through safe-install, everything else runs unchanged (docs/shims.md)
  ci [--base REF]              CI gate: sandbox every package added or changed in package-lock.json /
                               pnpm-lock.yaml since REF; --sarif/--junit/--markdown/--html FILE
                               (docs/ci.md). npm's clean install is \`safe-install npm ci\`
  diff <pkg>@<a> <pkg>@<b>     what version b newly does at install time compared with version a
  install [<pkg>...]           install into the project here: every new install script runs in the
                               sandbox first, none on this machine (also: safe-install <pkg>...,
                               safe-install npm install|i|add|ci ...)
  pnpm add|install [...]       the same through pnpm: pnpm resolves, every build pnpm's settings allow
                               runs in the sandbox, pnpm installs with scripts disabled, the builds'
                               outputs land in its store layout
  approve                      write npm's allowScripts and pnpm's onlyBuiltDependencies (package.json)
                               for the lockfile's packages the sandbox allowed, pinned to versions
  pip install <req>... | -r FILE   pip through the sandbox: sdists built into wheels there, every wheel
                               inspected, then only vetted wheels installed (also: python -m pip install;
                               -i/--index-url, --extra-index-url, -f/--find-links, --no-index,
                               --require-hashes, -c, --pre, --python)

install options: -D/--save-dev, -E/--save-exact, -O/--save-optional, --omit TYPE, -w/--workspace NAME,
  --yes (install on review without asking), --no-cache (decide again), --sandbox-root (run the
  project's own scripts in the sandbox too, not on the host; or SAFE_INSTALL_SANDBOX_ROOT=1), --json, --policy, --fail-on, --registry as for scan

scan options:
  --json                       print the JSON report (schemaVersion 1) on stdout
  --fail-on review|block       exit 1 on this verdict or worse (default: block; review too without a TTY)
  --policy FILE                policy file (default: safe-install.config.{yaml,yml,json} or the
                               "safeInstall" key of package.json here, plus ~/.config/safe-install/)
  --registry URL               npm registry to resolve from
  --script-timeout SECONDS     wall-clock limit per script (default 120; a script still
                               compiling goes on while it compiles, up to 600 s or this)
  --grace SECONDS              how long processes may outlive their script (default 3)
  --base-image IMAGE           base for the sandbox image (default: node:<major>-bookworm-slim, else debootstrap)
  --html FILE                  also write a self-contained HTML report (scan, ci, diff)
  --otlp URL                   also send the session as an OpenTelemetry trace (OTLP/HTTP collector;
                               default: OTEL_EXPORTER_OTLP_ENDPOINT when set)
  --verbose                    show every event of the chain
  --quiet                      no progress on stderr

exit codes: 0 allowed, 1 blocked (or review, see --fail-on), 2 could not decide
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nsafe-install: interrupted (${signal}); removing the sandbox\n`);
    void cleanupAll().finally(() => process.exit(2));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    switch (command) {
      case 'scan':
        return await scanCommand(rest);
      case 'setup':
        return await setupCommand(rest);
      case 'install':
      case 'i':
      case 'add':
        return await installCommand(rest);
      case 'ci':
        // The lockfile gate (issue 8); npm's clean install is `safe-install npm ci`.
        return await ciCommand(rest);
      case 'diff':
        return await diffCommand(rest);
      case 'npm':
        return await npmCommand(rest);
      case 'approve':
        return await approveCommand(rest);
      case 'log':
        return await logCommand(rest);
      case 'shims':
        return await shimsCommand(rest);
      case 'pip':
      case 'pip3':
        return await pipCommand(rest);
      case 'python':
      case 'python3':
        return await pythonCommand(command, rest);
      case 'pnpm':
        return await pnpmCommand(rest);
      // Where the PATH shims send uv installs: refused until that front-end exists (never
      // taken for a package name, never run unprotected).
      case 'uv':
        return frontendMissing(command, rest);
      case '--version':
      case '-v':
      case 'version':
        process.stdout.write(`${packageRoot().version}\n`);
        return EXIT_ALLOWED;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? exitCodeForError() : EXIT_ALLOWED;
      default:
        // `safe-install esbuild`: a package, not a command.
        if (looksLikeSpec(command)) return await installCommand(argv);
        throw new SafeInstallError('E_USAGE', `unknown command "${command}"`, 'run `safe-install --help` for the commands');
    }
  } catch (err) {
    printError(err);
    await cleanupAll();
    return exitCodeForError();
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
}

/** One line each: messages can carry names from a lockfile or a registry, never obeyed as escapes. */
function printError(err: unknown): void {
  if (isSafeInstallError(err)) {
    process.stderr.write(`safe-install: ${printable(err.message)}\n  hint: ${printable(err.hint)}\n`);
    if (process.env.SAFE_INSTALL_DEBUG && err.cause) process.stderr.write(`${String((err.cause as Error).stack ?? err.cause)}\n`);
    return;
  }
  const message = printable(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));
  process.stderr.write(`safe-install: internal error: ${message}\n  hint: this is a bug; rerun with SAFE_INSTALL_DEBUG=1 and report it\n`);
  if (process.env.SAFE_INSTALL_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
}
