/** What the CI gate reads from lockfiles and hands to its reports. */
import type { BehaviourDiff } from '../diff/types.js';
import type { SafeInstallError } from '../errors/index.js';
import type { JsonReport } from '../report/json.js';
import type { Finding, Verdict } from '../rules/types.js';

export type LockfileKind = 'package-lock' | 'pnpm-lock' | 'requirements' | 'uv-lock' | 'poetry-lock';

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
  /** `pypi` for Python packages (requirements files, uv.lock, poetry.lock); absent for npm's. */
  ecosystem?: 'pypi';
  /**
   * Python: what pip is asked for, as written (`name[extra]>=1.0 ; python_version < "3.12"`, a
   * local archive path), without options. For a line that pins no single version, `version` is
   * that specifier until the gate has resolved it on the index, then the version it resolved to.
   */
  requirement?: string;
  /** Python: the file hashes the entry allows (`sha256:<hex>`): whatever is fetched must be one of them. */
  hashes?: string[];
  /** Python: the line pins no single version (`x>=1`, `x`): the index decides, at the gate's run. */
  unpinned?: boolean;
}

export interface ParsedLockfile {
  kind: LockfileKind;
  /** Repository-relative path, forward slashes. */
  path: string;
  packages: LockedPackage[];
}

/** A pip option or include line of a requirements file, in file order (pip applies them in that order). */
export type RequirementsDirective =
  | { line: number; kind: 'index-url' | 'extra-index-url' | 'find-links'; value: string }
  | { line: number; kind: 'no-index' | 'pre' | 'require-hashes' }
  /** `-r` / `-c`: `path` is repository-relative (forward slashes), resolved against the including file. */
  | { line: number; kind: 'requirement' | 'constraint'; path: string };

export interface ParsedRequirements extends ParsedLockfile {
  kind: 'requirements';
  directives: RequirementsDirective[];
  /** Lines the gate does not sandbox, with why (an editable install of a local folder). */
  skipped: { line: number; why: string }[];
  /** Lines it could not read faithfully (only when asked to collect them rather than refuse at once). */
  problems: SafeInstallError[];
}

/** Where a sandboxed package is pinned when no lockfile change names it (a Python dependency pulled in by a requirement line). */
export interface PackageLocation {
  name: string;
  version: string;
  /** The sandboxed artifact's integrity, which tells it apart from a same-named package of the other ecosystem. */
  integrity: string;
  lockfile: string;
  line: number;
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
  /** What was found but not sandboxed, with why: never silently "allowed". */
  notes: string[];
  /** Sandboxed Python packages and the requirements / lock line each is located at (reports point there). */
  located?: PackageLocation[];
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
