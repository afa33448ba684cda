/**
 * Package selectors of the policy: `name`, `name@range` (packages keys) and `name@version`
 * (acknowledgements). Versions match with npm's own semver rules, so a range here means what it
 * means in a package.json (prereleases only match ranges that name them).
 */
import semver from 'semver';

export interface PackageSelector {
  name: string;
  /** Absent: any version. */
  range?: string;
}

// npm's rules for new names, relaxed to allow the uppercase of legacy packages (JSONStream).
const NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/i;

/** The `@` that separates name and range: a leading `@` belongs to the scope. */
function splitAt(key: string): [string, string | undefined] {
  const at = key.indexOf('@', 1);
  return at === -1 ? [key, undefined] : [key.slice(0, at), key.slice(at + 1)];
}

export function isPackageName(name: string): boolean {
  return NAME.test(name) && name.length <= 214;
}

/** Null when the key is not `name` or `name@<valid semver range>`. */
export function parsePackageKey(key: string): PackageSelector | null {
  const [name, range] = splitAt(key);
  if (!isPackageName(name)) return null;
  if (range === undefined) return { name };
  if (range.trim() === '' || semver.validRange(range) === null) return null;
  return { name, range };
}

/** Null unless `name@<exact version>`. */
export function parsePackageVersion(key: string): { name: string; version: string } | null {
  const [name, version] = splitAt(key);
  if (!isPackageName(name) || version === undefined || semver.valid(version) !== version) return null;
  return { name, version };
}

export function selectorMatches(selector: PackageSelector, pkg: { name: string; version: string }): boolean {
  if (selector.name !== pkg.name) return false;
  return selector.range === undefined || semver.satisfies(pkg.version, selector.range);
}
