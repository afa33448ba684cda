/** What the CI gate reads from lockfiles and hands to its reports. */
import type { BehaviourDiff } from '../diff/types.js';
import type { JsonReport } from '../report/json.js';
import type { Finding, Verdict } from '../rules/types.js';

export type LockfileKind = 'package-lock' | 'pnpm-lock';

/** One installed package as a lockfile records it. */
export interface LockedPackage {
  name: string;
  version: string;
  /** Where the lockfile says it comes from (a registry tarball URL, git URL...). */
  resolved?: string;
  /** The lockfile's SRI string: what the fetched tarball must match. */
  integrity?: string;
  /** Install path (`node_modules/a/node_modules/b`) or pnpm key: where it sits in the lockfile. */
  key: string;
  /** 1-based line of its entry in the lockfile text, for SARIF locations and annotations. */
  line: number;
  /** The lockfile says it has install scripts (npm's `hasInstallScript`, pnpm's `requiresBuild`). */
  hasInstallScript?: boolean;
}

export interface ParsedLockfile {
  kind: LockfileKind;
  /** Repository-relative path, forward slashes. */
  path: string;
  packages: LockedPackage[];
}

export interface LockfileChange {
  kind: 'added' | 'changed';
  lockfile: string;
  /** As locked in the working tree. */
  pkg: LockedPackage;
  /** The version(s) of the same name in the base lockfile, for a changed package (highest first). */
  previous?: LockedPackage;
}

export interface CiBase {
  /** What the user or the environment named (`origin/main`, `HEAD~1`...). */
  ref: string;
  /** The commit it resolved to; null when the repository has no such history (all packages new). */
  commit: string | null;
  /** Why this base was chosen, shown in reports. */
  reason: string;
}

export interface CiResult {
  base: CiBase;
  lockfiles: string[];
  changes: LockfileChange[];
  /** The sandbox report of every added or changed package; null when nothing changed. */
  report: JsonReport | null;
  /** What changed packages newly do compared with their base version. */
  diffs: BehaviourDiff[];
  verdict: Verdict;
  /** Lockfile kinds found but not sandboxed (yet), with why: never silently "allowed". */
  notes: string[];
  /**
   * Changed packages not run again: the verdict cache already allowed these exact tarballs under
   * the same policy and sandbox image (or knows they have no install-time code).
   */
  cached: CachedChange[];
}

export interface CachedChange {
  change: LockfileChange;
  verdict: 'allow';
  /** `allowed before` or `no install-time code`. */
  reason: string;
  findings: Finding[];
}
