/**
 * The npm settings that change what `npm install` writes (package.json, lockfile) or where it
 * resolves from, read the way npm reads them: project `.npmrc`, then the user's, then the
 * global one, with `npm_config_*` environment variables over all files. Without them, a user
 * with `save-exact` or `omit-lockfile-registry-resolved` in ~/.npmrc would get a different
 * lockfile from us than from npm.
 *
 * Only settings with a known effect on arborist are mapped; auth and the rest stay npm's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** npm key → [arborist option, kind]. */
const KNOWN: Record<string, [string, 'bool' | 'string' | 'number' | 'list']> = {
  'save-exact': ['saveExact', 'bool'],
  'save-prefix': ['savePrefix', 'string'],
  'omit-lockfile-registry-resolved': ['omitLockfileRegistryResolved', 'bool'],
  'legacy-peer-deps': ['legacyPeerDeps', 'bool'],
  'strict-peer-deps': ['strictPeerDeps', 'bool'],
  'install-strategy': ['installStrategy', 'string'],
  'install-links': ['installLinks', 'bool'],
  'prefer-dedupe': ['preferDedupe', 'bool'],
  'lockfile-version': ['lockfileVersion', 'number'],
  'package-lock': ['packageLock', 'bool'],
  'engine-strict': ['engineStrict', 'bool'],
  'replace-registry-host': ['replaceRegistryHost', 'string'],
  registry: ['registry', 'string'],
  omit: ['omit', 'list'],
  include: ['include', 'list'],
  // Not for arborist (the stage always installs with scripts off): whether npm would run the project's own.
  'ignore-scripts': ['ignoreScripts', 'bool'],
};

export interface NpmSettings {
  /** Arborist options (camelCase) from the files and environment. */
  options: Record<string, unknown>;
  /** Per-scope registries (`@scope:registry`), which npm-registry-fetch reads as is. */
  scoped: Record<string, string>;
}

export function readNpmSettings(projectDir: string, env: NodeJS.ProcessEnv = process.env): NpmSettings {
  const raw = new Map<string, string>();
  // Lowest first: later sources override.
  const globalPrefix = env.PREFIX ?? path.resolve(path.dirname(process.execPath), '..');
  const files = [
    env.npm_config_globalconfig ?? env.NPM_CONFIG_GLOBALCONFIG ?? path.join(globalPrefix, 'etc', 'npmrc'),
    env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? path.join(os.homedir(), '.npmrc'),
    path.join(projectDir, '.npmrc'),
  ];
  for (const file of files) for (const [k, v] of parseIni(file, env)) raw.set(k, v);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !/^npm_config_/i.test(name)) continue;
    // npm_config_save_exact → save-exact (npm turns _ into - for env keys).
    raw.set(name.slice('npm_config_'.length).toLowerCase().replace(/_/g, '-'), value);
  }
  const options: Record<string, unknown> = {};
  const scoped: Record<string, string> = {};
  for (const [key, value] of raw) {
    if (/^@[^:]+:registry$/.test(key)) {
      scoped[key] = value;
      continue;
    }
    const known = KNOWN[key];
    if (!known) continue;
    const [option, kind] = known;
    if (kind === 'bool') options[option] = value === 'true' || value === '';
    else if (kind === 'number') {
      const n = Number(value);
      if (Number.isInteger(n)) options[option] = n;
    } else if (kind === 'list') options[option] = value.split(/[,\s]+/).filter(Boolean);
    else options[option] = value;
  }
  return { options, scoped };
}

function parseIni(file: string, env: NodeJS.ProcessEnv): [string, string][] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#') || trimmed.startsWith('[')) continue;
    const eq = trimmed.indexOf('=');
    const key = (eq === -1 ? trimmed : trimmed.slice(0, eq)).trim().toLowerCase();
    let value = eq === -1 ? 'true' : trimmed.slice(eq + 1).trim();
    if (/^".*"$/.test(value)) value = value.slice(1, -1);
    // ${VAR} from the environment, as npm expands it.
    value = value.replace(/\$\{([^}]+)\}/g, (_, name: string) => env[name] ?? '');
    out.push([key, value]);
  }
  return out;
}
