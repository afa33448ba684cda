/**
 * The verdict cache: what the sandbox already decided about an exact tarball, so re-installs
 * and other projects skip known-good packages.
 *
 * Two kinds of entries under `$XDG_CACHE_HOME/safe-install` (default ~/.cache/safe-install):
 * - `facts/`: the install scripts a tarball declares, keyed by its integrity alone (a fact of
 *   the bytes), so a warm install need not re-read tarballs to learn they have no scripts.
 * - `verdicts/`: an `allow` verdict with the build outputs that land it, keyed by integrity +
 *   policy digest + sandbox image tag: a new policy or a new sandbox decides again. Only
 *   allow is ever stored; review and block are always re-run.
 *
 * Entries are written to a temp name and renamed, so a reader never sees half an entry.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Finding } from '../rules/types.js';
import type { PackageInfo } from '../session/types.js';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec: a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'safe-install');
}

export type ScriptFacts = Pick<PackageInfo, 'scripts' | 'implicitNodeGyp'>;

export interface CachedVerdict {
  name: string;
  version: string;
  integrity: string;
  verdict: 'allow';
  /** Findings that did not stop it (info, or what the policy allowed), for the report. */
  findings: Finding[];
  /** Files of its tarball its scripts deleted. */
  removed: string[];
  /** When it was decided (unix seconds). */
  at: number;
}

export interface VerdictKey {
  integrity: string;
  policyDigest: string;
  image: string;
}

export class VerdictCache {
  constructor(readonly dir: string = defaultCacheDir()) {}

  /** Only integrities npm verified (sha512) key anything: a weaker or missing one proves nothing. */
  static usable(integrity: string | null | undefined): integrity is string {
    return typeof integrity === 'string' && /^sha512-[A-Za-z0-9+/=]+$/.test(integrity.trim());
  }

  getFacts(integrity: string): ScriptFacts | null {
    const entry = readJson(this.factsFile(integrity)) as ScriptFacts | null;
    return entry && typeof entry.scripts === 'object' && typeof entry.implicitNodeGyp === 'boolean' ? entry : null;
  }

  putFacts(integrity: string, facts: ScriptFacts): void {
    writeAtomic(this.factsFile(integrity), JSON.stringify({ scripts: facts.scripts, implicitNodeGyp: facts.implicitNodeGyp }));
  }

  /** The cached allow verdict and its build outputs (a tar, maybe empty), or null. */
  getVerdict(key: VerdictKey): { verdict: CachedVerdict; outputs: Buffer } | null {
    const base = this.verdictBase(key);
    const verdict = readJson(`${base}.json`) as (CachedVerdict & { outputsSha256?: string }) | null;
    if (!verdict || verdict.verdict !== 'allow' || verdict.integrity !== key.integrity) return null;
    let outputs: Buffer;
    try {
      outputs = fs.readFileSync(`${base}.tar`);
    } catch {
      return null;
    }
    // A truncated or swapped tar is a miss, never a partial build on the host.
    if (crypto.createHash('sha256').update(outputs).digest('hex') !== verdict.outputsSha256) return null;
    return { verdict, outputs };
  }

  putVerdict(key: VerdictKey, verdict: CachedVerdict, outputs: Buffer): void {
    const base = this.verdictBase(key);
    // The tar first: a json without its tar is a miss, a tar without its json is ignored.
    writeAtomic(`${base}.tar`, outputs);
    const outputsSha256 = crypto.createHash('sha256').update(outputs).digest('hex');
    writeAtomic(`${base}.json`, JSON.stringify({ ...verdict, outputsSha256 }));
  }

  private factsFile(integrity: string): string {
    return path.join(this.dir, 'facts', `${sha256(integrity.trim())}.json`);
  }

  private verdictBase(key: VerdictKey): string {
    return path.join(this.dir, 'verdicts', sha256([key.integrity.trim(), key.policyDigest, key.image].join('\0')));
  }
}

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function writeAtomic(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}
