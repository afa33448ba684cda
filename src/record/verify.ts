/**
 * Verify the record store: every record's hash (edited?), its HMAC when a key is set
 * (forged?), the sequence numbers (removed, reordered, inserted?), the hash chain (a record
 * rewritten and re-hashed breaks its successor's link) and the head file (records cut off the
 * end). Each problem names the line and the record so a reviewer knows where to look.
 */
import fs from 'node:fs';
import { headPayload, hmacSha256, recordKey, recordPayload, sameHex, sha256 } from './hash.js';
import { withLock } from './lock.js';
import { storePaths } from './paths.js';
import { readHead, readRecordLines, type ReadLine } from './store.js';

export type ProblemKind = 'corrupt' | 'edited' | 'forged' | 'unsigned' | 'removed' | 'reordered' | 'inserted' | 'truncated' | 'head';

export interface VerifyProblem {
  kind: ProblemKind;
  /** Line in records.jsonl (1-based); null for problems of the head file. */
  line: number | null;
  seq: number | null;
  id: string | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  store: string;
  records: number;
  /** Whether HMACs were checked (SAFE_INSTALL_RECORD_KEY set). */
  signed: boolean;
  head: { seq: number; hash: string } | null;
  problems: VerifyProblem[];
}

export async function verifyRecords(opts: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<VerifyResult> {
  const paths = storePaths(opts.dir);
  // Under the lock, so a writer between its line and its head update is never seen half-done.
  if (!fs.existsSync(paths.dir)) return { ok: true, store: paths.records, records: 0, signed: recordKey(opts.env) !== null, head: null, problems: [] };
  return withLock(paths.lock, () => check(readRecordLines(opts.dir), readHead(opts.dir), recordKey(opts.env ?? process.env), paths.records));
}

export function check(lines: ReadLine[], head: ReturnType<typeof readHead>, key: string | null, store = ''): VerifyResult {
  const problems: VerifyProblem[] = [];
  const at = (l: ReadLine, kind: ProblemKind, message: string): void => {
    problems.push({ kind, line: l.line, seq: l.record?.seq ?? null, id: l.record?.id ?? null, message });
  };
  const allSeqs = new Set(lines.flatMap((l) => (l.record ? [l.record.seq] : [])));
  const seenAt = new Map<number, number>();
  let previous: ReadLine | null = null;
  let maxSeq = 0;

  for (const l of lines) {
    const rec = l.record;
    if (!rec) {
      at(l, 'corrupt', `line ${l.line} is not a record (${l.error ?? 'unreadable'}): damaged, or written by something else`);
      continue;
    }
    const name = `record ${rec.seq} (${rec.id})`;
    const payload = recordPayload(rec);
    const hashOk = sha256(payload) === rec.hash;
    if (!hashOk) at(l, 'edited', `${name} at line ${l.line} was edited: its content no longer matches its hash`);
    if (key) {
      if (rec.hmac === undefined) at(l, 'unsigned', `${name} at line ${l.line} has no signature, but a key is set: it was written without the key, or its signature was stripped`);
      else if (!sameHex(rec.hmac, hmacSha256(key, payload))) at(l, 'forged', `${name} at line ${l.line} has a wrong signature: forged, or signed with another key`);
    }

    if (!Number.isInteger(rec.seq) || rec.seq < 1) {
      at(l, 'inserted', `line ${l.line} has an impossible sequence number (${String(rec.seq)}): inserted by hand`);
    } else if (seenAt.has(rec.seq)) {
      at(l, 'inserted', `${name} at line ${l.line} repeats sequence number ${rec.seq} of line ${seenAt.get(rec.seq)}: one of them was inserted`);
    } else if (rec.seq < maxSeq) {
      at(l, 'reordered', `${name} at line ${l.line} comes after record ${maxSeq}: records were reordered`);
    } else if (rec.seq > maxSeq + 1) {
      const missing: number[] = [];
      for (let s = maxSeq + 1; s < rec.seq; s++) if (!allSeqs.has(s)) missing.push(s);
      if (missing.length > 0) at(l, 'removed', `${describeRange(missing)} removed before ${name} at line ${l.line}`);
      else at(l, 'reordered', `${name} at line ${l.line} comes before record ${maxSeq + 1}: records were reordered`);
    } else if (previous?.record && rec.prev !== previous.record.hash) {
      // Sequence is right, the link is not: the record before was rewritten and re-hashed,
      // or this one replaces what was there.
      at(l, 'edited', `${name} at line ${l.line} does not chain to record ${previous.record.seq}: record ${previous.record.seq} was rewritten after ${rec.seq} was written, or ${rec.seq} was replaced`);
    } else if (!previous?.record && rec.seq === 1 && rec.prev !== null) {
      at(l, 'edited', `${name} at line ${l.line} claims a predecessor but is the first record: earlier records were removed`);
    }
    if (Number.isInteger(rec.seq)) {
      if (!seenAt.has(rec.seq)) seenAt.set(rec.seq, l.line);
      maxSeq = Math.max(maxSeq, rec.seq);
    }
    previous = l;
  }

  // The newest record by sequence, not by position: a reordering is reported above, not as a cut.
  const lastRecord = lines.find((l) => l.record && l.record.seq === maxSeq)?.record ?? null;
  if (lines.length > 0 || head) {
    if (!head) {
      problems.push({ kind: 'head', line: null, seq: null, id: null, message: 'the head file (head.json) is missing: records at the end may have been removed' });
    } else {
      if (key && (head.hmac === undefined || !sameHex(head.hmac, hmacSha256(key, headPayload(head))))) {
        problems.push({ kind: 'forged', line: null, seq: head.seq, id: null, message: 'the head file has a missing or wrong signature' });
      }
      const lastSeq = maxSeq;
      if (head.seq > lastSeq) {
        problems.push({ kind: 'truncated', line: null, seq: head.seq, id: null, message: `${describeRange(range(lastSeq + 1, head.seq))} removed from the end (the head says the last record is ${head.seq})` });
      } else if (head.seq < lastSeq) {
        problems.push({ kind: 'inserted', line: null, seq: lastSeq, id: lastRecord?.id ?? null, message: `records after ${head.seq} were appended without updating the head: appended by hand, or a write was interrupted` });
      } else if (lastRecord && head.hash !== lastRecord.hash) {
        problems.push({ kind: 'edited', line: null, seq: head.seq, id: lastRecord.id, message: `record ${head.seq} is not the one the head recorded: it was replaced` });
      }
    }
  }

  return {
    ok: problems.length === 0,
    store,
    records: lines.filter((l) => l.record).length,
    signed: key !== null,
    head: head ? { seq: head.seq, hash: head.hash } : null,
    problems,
  };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}

function describeRange(seqs: number[]): string {
  if (seqs.length === 1) return `record ${seqs[0]} was`;
  const contiguous = seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1);
  return contiguous ? `records ${seqs[0]}-${seqs.at(-1)} were` : `records ${seqs.join(', ')} were`;
}
