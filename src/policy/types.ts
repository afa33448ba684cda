/**
 * The policy as loaded, validated and merged: what a user decided to allow, quiet or accept.
 * The file format is schema/policy-v1.schema.json; docs/policy.md explains it.
 */
import type { RuleId, Severity } from '../rules/types.js';
import type { FailOn } from '../cli/exit-codes.js';

/**
 * Rules no policy changes or acknowledges: a script that did not finish, or that the sandbox
 * could not watch, is never allowed (ARCHITECTURE.md: fail closed).
 */
export const LOCKED_RULES: readonly RuleId[] = ['timeout', 'sandbox-error'];

/** A severity replaces the rule's own; `off` drops the finding (it stays listed as suppressed). */
export type RuleSetting = Severity | 'off';

export type RuleSettings = Partial<Record<RuleId, RuleSetting>>;

export interface PackagePolicy {
  /** Host patterns: `host`, `*.suffix`, each with an optional `:port`. Lowercase. */
  allowEgress?: string[];
  rules?: RuleSettings;
}

export interface Acknowledgement {
  /** `name@version`, one exact version. */
  package: string;
  /** One SRI hash (`sha512-…`) the tarball must have. */
  integrity: string;
  /** Absent: every finding of the package except critical ones. */
  rules?: RuleId[];
  reason: string;
}

export interface Policy {
  failOn?: FailOn;
  rules?: RuleSettings;
  /** Keyed by `name` or `name@range`. */
  packages?: Record<string, PackagePolicy>;
  acknowledge?: Acknowledgement[];
}

export interface LoadedPolicy extends Policy {
  /** The files it was read from, user first; empty when no policy exists. */
  sources: string[];
  /** sha256 (hex) of the canonical merged policy: equal for equal policies whatever their format. */
  digest: string;
  /** Things worth telling the user that are not errors, e.g. a policy file that was shadowed. */
  warnings: string[];
}
