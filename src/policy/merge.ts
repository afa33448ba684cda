/**
 * User and project policies combine: mappings merge key by key, lists add up, and for a plain
 * value the project wins. So a user's acknowledgements and allowed hosts stay in force inside
 * every project, and a project can still set its own failOn or severity.
 */
import type { Policy } from './types.js';

export function mergePolicies(...policies: Policy[]): Policy {
  return policies.reduce<unknown>((merged, next) => mergeValues(merged, next), {}) as Policy;
}

function mergeValues(base: unknown, over: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  if (isPlainObject(base) && isPlainObject(over)) {
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) merged[key] = key in merged ? mergeValues(merged[key], value) : value;
    return merged;
  }
  return over;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
