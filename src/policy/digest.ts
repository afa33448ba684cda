/**
 * A fingerprint of what a policy decides, for caching verdicts: key order and file format do not
 * change it, any value does.
 */
import crypto from 'node:crypto';
import type { Policy } from './types.js';

export function policyDigest(policy: Policy): string {
  return crypto.createHash('sha256').update(canonicalJson(policy)).digest('hex');
}

/** JSON with mapping keys sorted at every level; list order is kept (it can matter). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
