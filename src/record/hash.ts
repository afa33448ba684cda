import crypto from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { RecordHead, SessionRecord } from './types.js';

/** The bytes a record's hash and HMAC cover: everything but the hash and HMAC themselves. */
export function recordPayload(record: Omit<SessionRecord, 'hash' | 'hmac'> & { hash?: string; hmac?: string }): string {
  const { hash: _hash, hmac: _hmac, ...rest } = record;
  return canonicalJson(rest);
}

export const sha256 = (text: string): string => crypto.createHash('sha256').update(text).digest('hex');
export const hmacSha256 = (key: string, text: string): string => crypto.createHmac('sha256', key).update(text).digest('hex');

export function headPayload(head: RecordHead): string {
  return canonicalJson({ seq: head.seq, hash: head.hash });
}

/** Constant-time comparison, so checking a signature leaks nothing about the right one. */
export function sameHex(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string' || a.length !== b.length) return false;
  return crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The HMAC key, from SAFE_INSTALL_RECORD_KEY. Empty means unsigned records. */
export function recordKey(env: NodeJS.ProcessEnv = process.env): string | null {
  const key = env.SAFE_INSTALL_RECORD_KEY;
  return key && key.length > 0 ? key : null;
}
