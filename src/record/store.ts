/**
 * The append-only record store: a JSON Lines file under the user's state directory. Each
 * append happens under the lock: read the last record, chain the new one to its hash, append
 * one line, fsync, then update the head file. Nothing ever rewrites or deletes a line.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SafeInstallError } from '../errors/index.js';
import { packageRoot } from '../package-root.js';
import type { Provenance } from '../provenance/index.js';
import type { Assessment, Verdict } from '../rules/types.js';
import type { SessionChain } from '../session/types.js';
import { headPayload, hmacSha256, recordKey, recordPayload, sha256 } from './hash.js';
import { withLock } from './lock.js';
import { storePaths, type StorePaths } from './paths.js';
import { RECORD_FORMAT, type RecordHead, type RecordKind, type SessionRecord, type SessionRecordBody } from './types.js';

export interface AppendSessionArgs {
  kind: 'scan' | 'install';
  /** Null for an install that needed no sandbox (nothing new with scripts, or all from the verdict cache). */
  chain: SessionChain | null;
  assessment: Assessment | null;
  /** The verdict when there is no assessment (e.g. allowed from the verdict cache). */
  verdict?: Verdict;
  provenance: Provenance | Record<string, unknown>;
  /** The command as the user gave it, e.g. `['npm', 'install', 'left-pad']`. */
  command: string[];
  /** The sandbox image id; defaults to the one in the chain. */
  imageDigest?: string | null;
  /** Store directory; default `$XDG_STATE_HOME/safe-install`. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Append the record of a scan or an install. The install command calls this BEFORE the host
 * install starts, so an install that crashes half-way is still on record.
 */
export async function appendRecord(args: AppendSessionArgs): Promise<SessionRecord> {
  const byLocation = new Map((args.chain?.packages ?? []).map((p) => [p.info.location, p.info]));
  const body: SessionRecordBody = {
    command: [...args.command],
    verdict: args.assessment?.verdict ?? args.verdict ?? null,
    tool: { name: 'safe-install', version: packageRoot().version },
    imageDigest: args.imageDigest !== undefined ? args.imageDigest : (args.chain?.sandbox?.imageId ?? null),
    provenance: args.provenance,
    findings: (args.assessment?.packages ?? []).map((pkg) => {
      const info = byLocation.get(pkg.location);
      return { package: info ? `${info.name}@${info.version}` : pkg.location, location: pkg.location, verdict: pkg.verdict, findings: pkg.findings };
    }),
    chain: args.chain,
  };
  return appendBody({ kind: args.kind, id: args.chain?.id ?? `${args.kind}-${crypto.randomUUID()}`, body, ...(args.dir ? { dir: args.dir } : {}), ...(args.env ? { env: args.env } : {}) });
}

/** Record that a shim ran a package manager unprotected because SAFE_INSTALL_BYPASS=1 was set. */
export async function appendBypassRecord(args: { command: string[]; provenance: Provenance | Record<string, unknown>; dir?: string; env?: NodeJS.ProcessEnv }): Promise<SessionRecord> {
  const body: SessionRecordBody = {
    command: [...args.command],
    verdict: null,
    tool: { name: 'safe-install', version: packageRoot().version },
    imageDigest: null,
    provenance: args.provenance,
    findings: [],
    chain: null,
  };
  return appendBody({ kind: 'bypass', id: `bypass-${crypto.randomUUID()}`, body, ...(args.dir ? { dir: args.dir } : {}), ...(args.env ? { env: args.env } : {}) });
}

async function appendBody(args: { kind: RecordKind; id: string; body: SessionRecordBody; dir?: string; env?: NodeJS.ProcessEnv }): Promise<SessionRecord> {
  const paths = storePaths(args.dir);
  const key = recordKey(args.env ?? process.env);
  try {
    fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new SafeInstallError('E_RECORD', `cannot create the record store ${paths.dir}: ${(err as Error).message}`, 'check that the state directory is writable, or set XDG_STATE_HOME');
  }
  return withLock(paths.lock, () => {
    const last = lastRecord(paths);
    const unsigned: Omit<SessionRecord, 'hash' | 'hmac'> = {
      format: RECORD_FORMAT,
      seq: last ? last.seq + 1 : 1,
      id: args.id,
      kind: args.kind,
      time: Date.now() / 1000,
      prev: last ? last.hash : null,
      body: args.body,
    };
    const payload = recordPayload(unsigned);
    const record: SessionRecord = { ...unsigned, hash: sha256(payload) };
    if (key) record.hmac = hmacSha256(key, payload);
    writeLine(paths, `${JSON.stringify(record)}\n`);
    writeHead(paths, { seq: record.seq, hash: record.hash }, key);
    return record;
  });
}

function writeLine(paths: StorePaths, line: string): void {
  const fd = fs.openSync(paths.records, 'a', 0o600);
  try {
    // A line cut short by a crash would glue itself to ours: start on a fresh line.
    const size = fs.fstatSync(fd).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(paths.records, 'r');
      try {
        fs.readSync(rfd, last, 0, 1, size - 1);
      } finally {
        fs.closeSync(rfd);
      }
      if (last[0] !== 0x0a) prefix = '\n';
    }
    fs.writeSync(fd, prefix + line);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeHead(paths: StorePaths, head: RecordHead, key: string | null): void {
  const value: RecordHead = { ...head, ...(key ? { hmac: hmacSha256(key, headPayload(head)) } : {}) };
  const tmp = `${paths.head}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, paths.head);
}

/** The last complete record of the file (lines read backwards, so a large store costs nothing). */
function lastRecord(paths: StorePaths): SessionRecord | null {
  let fd: number;
  try {
    fd = fs.openSync(paths.records, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    let end = fs.fstatSync(fd).size;
    let tail = Buffer.alloc(0);
    let chunk = 64 * 1024;
    while (end > 0 || tail.length > 0) {
      // Split what we have into lines; try the last non-empty one that is complete.
      const text = tail.toString('utf8');
      const lines = text.split('\n');
      // lines[0] may be partial unless we reached the start of the file.
      for (let i = lines.length - 1; i >= (end === 0 ? 0 : 1); i--) {
        const line = lines[i]!.trim();
        if (!line) continue;
        try {
          const parsed = JSON.parse(line) as SessionRecord;
          if (typeof parsed.seq === 'number' && typeof parsed.hash === 'string') return parsed;
        } catch {
          /* a torn or foreign line: keep looking further up; verify will name it */
        }
      }
      if (end === 0) return null;
      const start = Math.max(0, end - chunk);
      const buf = Buffer.alloc(end - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      // Keep only the first (possibly partial) line of what we had, plus the new bytes.
      const firstNewline = tail.indexOf(0x0a);
      tail = Buffer.concat([buf, firstNewline >= 0 ? tail.subarray(0, firstNewline) : tail]);
      end = start;
      chunk *= 2; // a record can be megabytes: grow, so a long line costs O(n), not O(n²)
    }
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

export interface ReadLine {
  /** 1-based line number in records.jsonl. */
  line: number;
  record: SessionRecord | null;
  /** Set when the line is not a JSON record. */
  error?: string;
  raw: string;
}

/** Every line of the store, parsed, in file order. */
export function readRecordLines(dir?: string): ReadLine[] {
  const paths = storePaths(dir);
  let text: string;
  try {
    text = fs.readFileSync(paths.records, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SafeInstallError('E_RECORD', `cannot read ${paths.records}: ${(err as Error).message}`, 'check the file permissions');
  }
  const out: ReadLine[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    try {
      const record = JSON.parse(raw) as SessionRecord;
      if (typeof record !== 'object' || record === null || typeof record.seq !== 'number') throw new Error('not a record');
      out.push({ line: index + 1, record, raw });
    } catch (err) {
      out.push({ line: index + 1, record: null, error: (err as Error).message, raw });
    }
  });
  return out;
}

export function readHead(dir?: string): RecordHead | null {
  try {
    return JSON.parse(fs.readFileSync(storePaths(dir).head, 'utf8')) as RecordHead;
  } catch {
    return null;
  }
}

/**
 * Find a record by reference: its seq (`42`), its id (the session id), or a prefix of its hash
 * (at least 6 hex digits). `last` for the newest.
 */
export function findRecord(ref: string, dir?: string): SessionRecord | null {
  const records = readRecordLines(dir).flatMap((l) => (l.record ? [l.record] : []));
  if (ref === 'last') return records.at(-1) ?? null;
  // A number is a seq; a hash prefix can be all digits too (about 1 in 100 for ten of them).
  if (/^\d+$/.test(ref)) {
    const bySeq = records.find((r) => r.seq === Number(ref));
    if (bySeq || ref.length < 6) return bySeq ?? null;
  }
  const byId = records.filter((r) => r.id === ref);
  if (byId.length > 0) return byId.at(-1)!;
  if (/^[0-9a-f]{6,64}$/i.test(ref)) {
    const byHash = records.filter((r) => typeof r.hash === 'string' && r.hash.startsWith(ref.toLowerCase()));
    if (byHash.length > 1) throw new SafeInstallError('E_USAGE', `"${ref}" matches ${byHash.length} records`, 'give more digits of the hash, or the seq number');
    return byHash[0] ?? null;
  }
  return null;
}
