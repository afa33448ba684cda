/**
 * Reads of secret locations, grouped by file: what `credential-access` reports and what
 * `exfiltration` composes with later egress. One definition, so the two can never disagree.
 *
 * One exception: the package manager reading its own config. A script that runs `npm run build`
 * makes npm read ~/.npmrc and the project's .npmrc like any npm start does; that is npm doing
 * its job, not the package reaching for a token. It is exempt only when all of these hold:
 * - the reader is the real CLI (node running npm/yarn/pnpm from the image's own install, which a
 *   package cannot replace: the root file system is read-only), not a look-alike `npm-cli.js`;
 * - the subcommand does not print or use credentials (`npm config get`, `npm token`, `whoami`…);
 * - nothing leaves the sandbox after the read (no egress in the package's session).
 */
import { posix } from 'node:path';
import { SANDBOX_NODE_PREFIX } from '../sandbox/layout.js';
import type { FileEvent, ProcessEvent } from '../session/types.js';
import type { RuleContext } from './types.js';
import { egressOf } from './egress.js';
import { imageAt } from './processes.js';
import { classifySecret, type SecretMatch } from './secret-paths.js';

export interface SecretAccess {
  match: SecretMatch;
  /** Every read of that file, failed ones included. */
  events: FileEvent[];
}

export function secretAccesses({ session, paths }: Pick<RuleContext, 'session' | 'paths'>): SecretAccess[] {
  const processes = new Map(session.processes.map((process) => [process.id, process]));
  const lastEgress = Math.max(...egressOf(session).map((egress) => egress.time), Number.NEGATIVE_INFINITY);
  const bySecret = new Map<string, SecretAccess>();
  for (const event of session.files) {
    if (event.op !== 'read') continue;
    const match = classifySecret(event.path, paths);
    if (!match) continue;
    if (match.location.packageManagerConfig && lastEgress <= event.time && isPackageManagerReading(processes.get(event.processId), event.time)) {
      continue;
    }
    const entry = bySecret.get(match.path) ?? { match, events: [] };
    entry.events.push(event);
    bySecret.set(match.path, entry);
  }
  return [...bySecret.values()];
}

const CLI_NAMES = /^(npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack)$/;
const CLI_PACKAGES = /^(npm|yarn|pnpm|corepack)$/;
const CLI_PREFIXES = [SANDBOX_NODE_PREFIX, '/usr'];
/** Subcommands that print, set or send credentials: a script can capture what they give it. */
const CREDENTIAL_COMMANDS = new Set([
  'config', 'c', 'get', 'set', 'token', 'whoami', 'login', 'logout', 'adduser', 'add-user', 'owner', 'profile',
  'publish', 'unpublish', 'access', 'team', 'org', 'hook', 'deprecate', 'dist-tag', 'star', 'npm', 'auth',
]);

function isPackageManagerReading(process: ProcessEvent | undefined, time: number): boolean {
  if (!process || !isPackageManagerCli(process, time)) return false;
  const command = imageAt(process, time).argv.slice(2).find((arg) => !arg.startsWith('-'));
  return command === undefined || !CREDENTIAL_COMMANDS.has(command);
}

/** The process was running the image's own npm/yarn/pnpm at `time`. */
export function isPackageManagerCli(process: ProcessEvent, time: number): boolean {
  const argv = imageAt(process, time).argv;
  return /^(node|nodejs)$/.test(posix.basename(argv[0] ?? '')) && isRealCli(argv[1]);
}

function isRealCli(script: string | undefined): boolean {
  if (script === undefined || !script.startsWith('/')) return false;
  const path = posix.normalize(script);
  return CLI_PREFIXES.some((prefix) => {
    if (posix.dirname(path) === `${prefix}/bin`) return CLI_NAMES.test(posix.basename(path));
    const modules = `${prefix}/lib/node_modules/`;
    return path.startsWith(modules) && CLI_PACKAGES.test(path.slice(modules.length).split('/')[0] ?? '');
  });
}
