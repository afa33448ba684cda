/**
 * The decoy machine: a developer's home and project full of credentials that look exactly like
 * real ones, made fresh for every scan. Every secret value is a canary: unique to this scan and
 * to the one place it was planted, so seeing it anywhere else proves where it came from.
 *
 * Hosts are reserved names (`*.example`); the only real service names are the ones a real
 * config must name (github.com, registry.npmjs.org, AWS regions). Nothing here is contacted.
 */
import type { KeyObject } from 'node:crypto';
import type { Canary } from '../../session/types.js';
import type { SeedFile } from '../protocol.js';
import { plantBrowsers } from './browsers.js';
import { DecoyBuilder, type Identity } from './builder.js';
import { plantCredentials } from './credentials.js';
import { plantEnv } from './env.js';
import { awsAccountId } from './formats.js';
import { plantHome } from './home.js';
import { plantProject } from './project.js';
import { Rand, type RandomBytes } from './random.js';
import { plantShell } from './shell.js';
import { plantWallets } from './wallets.js';

export { realisticPackageJson } from './project.js';
export { generateRsaKey } from './ssh.js';
export type { RandomBytes } from './random.js';

export interface DecoyOptions {
  home: string;
  projectDir: string;
  user: string;
  hostname: string;
  /** The project's package.json as the scan sees it (its dependencies are what is being installed). */
  projectPackageJson: Record<string, unknown>;
  /** Unix milliseconds that "now" is, for mtimes and history times; default Date.now(). */
  now?: number;
  /** Source of random bytes, `crypto.randomBytes` by default (tests pass a seeded one). */
  random?: RandomBytes;
  /** The real project is laid out in the project folder (`--sandbox-root`): plant only its secrets and git metadata. */
  realProject?: boolean;
  /** An RSA key made ahead with `generateRsaKey()`: making one here blocks for a quarter second. */
  rsaKey?: KeyObject;
}

export interface Decoys {
  files: SeedFile[];
  env: Record<string, string>;
  canaries: Canary[];
}

const SURNAMES = ['Morgan', 'Walker', 'Nguyen', 'Fischer', 'Kowalski', 'Rossi', 'Silva', 'Becker', 'Novak', 'Larsen', 'Dubois', 'Tanaka'];

function identity(opts: DecoyOptions, rand: Rand): Identity {
  const surname = rand.pick(SURNAMES);
  const first = opts.user.charAt(0).toUpperCase() + opts.user.slice(1);
  return {
    user: opts.user,
    hostname: opts.hostname,
    home: opts.home,
    projectDir: opts.projectDir,
    fullName: `${first} ${surname}`,
    email: `${opts.user}.${surname.toLowerCase()}@example.com`,
    login: `${opts.user}-${surname.toLowerCase()}`,
  };
}

export function createDecoys(opts: DecoyOptions): Decoys {
  const rand = new Rand(opts.random);
  const b = new DecoyBuilder(rand, identity(opts, rand), (opts.now ?? Date.now()) / 1000);
  const awsAccount = awsAccountId(rand);
  plantHome(b);
  plantShell(b);
  plantCredentials(b, { awsAccount, ...(opts.rsaKey ? { rsaKey: opts.rsaKey } : {}) });
  plantBrowsers(b);
  plantWallets(b);
  plantProject(b, opts.projectPackageJson, opts.realProject === true);
  plantEnv(b, awsAccount);
  return { files: b.files, env: b.env, canaries: b.canaries };
}
