/**
 * Where policies come from: the user's config dir and the project (or `--policy FILE` in its
 * place). Every file is validated on its own, so an error names the file and line it is in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SafeInstallError } from '../errors/index.js';
import { policyDigest } from './digest.js';
import { mergePolicies } from './merge.js';
import { displayPath, readPolicySource, type PolicySource } from './source.js';
import type { LoadedPolicy, Policy } from './types.js';
import { validatePolicy } from './validate.js';

export const PROJECT_POLICY_FILES = ['safe-install.config.yaml', 'safe-install.config.yml', 'safe-install.config.json'] as const;
export const USER_POLICY_FILES = ['config.yaml', 'config.yml', 'config.json'] as const;

export interface LoadPolicyOptions {
  /** Where to look for the project policy; absent: no project policy. */
  projectDir?: string;
  /** `--policy FILE`: replaces the project policy (relative to the working directory). */
  policyFile?: string;
  /** The safe-install folder of the user's config; default `$XDG_CONFIG_HOME/safe-install`. */
  userConfigDir?: string;
}

export function defaultUserConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.config'), 'safe-install');
}

export async function loadPolicy(opts: LoadPolicyOptions = {}): Promise<LoadedPolicy> {
  const warnings: string[] = [];
  const user = firstFound(opts.userConfigDir ?? defaultUserConfigDir(), USER_POLICY_FILES, warnings);
  const project = opts.policyFile !== undefined ? explicitPolicy(opts.policyFile) : opts.projectDir !== undefined ? projectPolicy(opts.projectDir, warnings) : null;
  const sources = [user, project].filter((s): s is PolicySource => s !== null);
  const policy = mergePolicies(...sources.map(validatePolicy));
  return { ...policy, sources: sources.map((s) => s.file), digest: policyDigest(policy), warnings };
}

/** Strips what loading added, leaving the policy that decides (and that the digest covers). */
export function policyOf(loaded: LoadedPolicy): Policy {
  const { sources: _sources, digest: _digest, warnings: _warnings, ...policy } = loaded;
  return policy;
}

function firstFound(dir: string, names: readonly string[], warnings: string[]): PolicySource | null {
  const found = names.map((name) => path.join(dir, name)).filter((file) => fs.existsSync(file));
  const [first, ...shadowed] = found;
  for (const file of shadowed) warnings.push(`${displayPath(file)} is ignored: ${displayPath(first ?? '')} comes first`);
  return first === undefined ? null : readPolicySource(first);
}

function projectPolicy(dir: string, warnings: string[]): PolicySource | null {
  const file = firstFound(dir, PROJECT_POLICY_FILES, warnings);
  const manifest = packageJsonPolicy(path.join(dir, 'package.json'));
  if (file && manifest) warnings.push(`the safeInstall key of ${manifest.display} is ignored: ${file.display} comes first`);
  return file ?? manifest;
}

function packageJsonPolicy(file: string): PolicySource | null {
  // A project's package.json is not ours: a broken one only concerns us if it holds a policy.
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  if (!text.includes('"safeInstall"')) return null;
  const source = readPolicySource(file, { packageJson: true });
  return source && source.value !== undefined ? source : null;
}

function explicitPolicy(file: string): PolicySource {
  const absolute = path.resolve(file);
  const packageJson = path.basename(absolute) === 'package.json';
  const source = readPolicySource(absolute, { packageJson });
  if (!source) throw new SafeInstallError('E_POLICY', `policy file ${file} does not exist`, 'check the path given to --policy');
  if (source.value === undefined) throw new SafeInstallError('E_POLICY', `${source.display} has no safeInstall key`, 'add one, or give --policy a safe-install.config.yaml');
  return source;
}
