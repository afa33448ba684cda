/**
 * The policy lines that would allow one destination, for messages and reports: pinned to the
 * version seen, so allowing it does not also allow what a later version does.
 */
import semver from 'semver';
import type { PackageInfo } from '../session/types.js';
import { normalizeHost, parseHostPattern } from './hosts.js';

export function suggestAllow(pkg: Pick<PackageInfo, 'name' | 'version'>, host: string): string {
  const name = normalizeHost(host);
  if (parseHostPattern(name) === null) return `# ${host} cannot be allowed by a policy: only host names can (not IP addresses)`;
  // A git or file dependency's version is not a semver version: then the name alone selects it.
  const key = semver.valid(pkg.version) ? `${pkg.name}@${pkg.version}` : pkg.name;
  return `packages:\n  ${JSON.stringify(key)}:\n    allowEgress: [${JSON.stringify(name)}]`;
}

/** The same, on one line (YAML flow style), for a finding's message: `packages: { "x@1.2.3": { allowEgress: ["a.example"] } }`. */
export function allowEgressLine(pkg: Pick<PackageInfo, 'name' | 'version'>, hosts: string[]): string {
  const key = semver.valid(pkg.version) ? `${pkg.name}@${pkg.version}` : pkg.name;
  const names = hosts.map((host) => JSON.stringify(normalizeHost(host))).join(', ');
  return `packages: { ${JSON.stringify(key)}: { allowEgress: [${names}] } }`;
}
