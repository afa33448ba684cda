/**
 * Which locked packages are new in the working tree. A package counts once per
 * name@version+integrity wherever it sits: moving it (hoisting) is no new code, a new version or a
 * new tarball for the same version is. "changed" means the base locked other versions of the same
 * name; its previous version is the one at the same install path (for Python: the same name and
 * environment marker), else the highest.
 */
import semver from 'semver';
import type { ChangedVersion } from '../diff/behaviour.js';
import type { LockedPackage, LockfileChange, ParsedLockfile } from './types.js';

// Python entries also count as new when what pip is asked for (extras, markers) or the hashes it
// accepts change: either can bring other files.
const identity = (pkg: LockedPackage): string =>
  `${pkg.name}@${pkg.version}\0${pkg.integrity ?? pkg.resolved ?? ''}\0${pkg.requirement ?? ''}\0${(pkg.hashes ?? []).join(' ')}`;

export function diffLockfiles(base: ParsedLockfile | null, head: ParsedLockfile): LockfileChange[] {
  const before = new Set((base?.packages ?? []).map(identity));
  const byName = new Map<string, LockedPackage[]>();
  for (const pkg of base?.packages ?? []) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg]);

  const seen = new Set<string>();
  const changes: LockfileChange[] = [];
  for (const pkg of [...head.packages].sort((a, b) => a.line - b.line)) {
    const id = identity(pkg);
    if (before.has(id) || seen.has(id)) continue;
    seen.add(id);
    const olds = byName.get(pkg.name) ?? [];
    const previous = olds.find((old) => old.key === pkg.key) ?? [...olds].sort(byVersionDesc)[0];
    changes.push(previous ? { kind: 'changed', lockfile: head.path, pkg, previous } : { kind: 'added', lockfile: head.path, pkg });
  }
  return changes;
}

/** A changed package as the behaviour diff takes it: this version against its previous one. */
export function changedVersion(change: LockfileChange): ChangedVersion {
  return { name: change.pkg.name, version: change.pkg.version, previous: { name: change.previous!.name, version: change.previous!.version } };
}

function byVersionDesc(a: LockedPackage, b: LockedPackage): number {
  if (semver.valid(a.version) && semver.valid(b.version)) return semver.rcompare(a.version, b.version);
  return b.version.localeCompare(a.version);
}
