/**
 * Collects the decoy files, environment and canaries of one scan. Every secret goes through
 * `secret()`, so no planted value can miss its canary.
 */
import path from 'node:path';
import type { Canary } from '../../session/types.js';
import type { SeedFile } from '../protocol.js';
import type { Rand } from './random.js';

export interface Identity {
  user: string;
  hostname: string;
  home: string;
  projectDir: string;
  /** "Alex Morgan" */
  fullName: string;
  /** alex.morgan@example.com */
  email: string;
  /** The GitHub (and other services') login. */
  login: string;
}

export interface FileOptions {
  mode?: string;
  /** Unix seconds. */
  mtime?: number;
}

const DAY = 86_400;

export class DecoyBuilder {
  readonly files: SeedFile[] = [];
  readonly env: Record<string, string> = {};
  readonly canaries: Canary[] = [];
  private readonly paths = new Set<string>();

  constructor(
    readonly rand: Rand,
    readonly id: Identity,
    /** Unix seconds: "now" for every mtime and history timestamp. */
    readonly now: number,
  ) {}

  /** `rel` is relative to the home folder unless absolute. */
  abs(rel: string): string {
    return path.isAbsolute(rel) ? rel : path.posix.join(this.id.home, rel);
  }

  file(rel: string, content: string | Buffer, opts: FileOptions = {}): string {
    const p = this.abs(rel);
    if (this.paths.has(p)) throw new Error(`decoy ${p} planted twice`);
    this.paths.add(p);
    const binary = Buffer.isBuffer(content);
    this.files.push({
      path: p,
      content: binary ? content.toString('base64') : content,
      ...(binary ? { encoding: 'base64' as const } : {}),
      mode: opts.mode ?? '0644',
      mtime: Math.floor(opts.mtime ?? this.ago(3, 40)),
    });
    return p;
  }

  /** A folder that must exist with this mode even when nothing is planted in it. */
  dir(rel: string, opts: FileOptions = {}): string {
    const p = this.abs(rel);
    this.paths.add(p);
    this.files.push({ path: p, type: 'dir', content: '', mode: opts.mode ?? '0755', mtime: Math.floor(opts.mtime ?? this.ago(3, 40)) });
    return p;
  }

  /** Registers a planted value; `where` is the file (relative to home, or absolute) or `env:NAME`. */
  secret(value: string, where: string, kind: string): string {
    const source = where.startsWith('env:') ? where : this.abs(where);
    this.canaries.push({ id: `k${this.canaries.length + 1}`, value, source, kind });
    return value;
  }

  setEnv(name: string, value: string, kind?: string): void {
    this.env[name] = kind ? this.secret(value, `env:${name}`, kind) : value;
  }

  /** A unix time between `minDays` and `maxDays` ago. */
  ago(minDays: number, maxDays: number): number {
    return this.now - minDays * DAY - this.rand.int(Math.max(1, Math.round((maxDays - minDays) * DAY)));
  }
}
