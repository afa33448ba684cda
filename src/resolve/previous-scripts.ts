/**
 * `previousScripts`: the install-time scripts of the version published before each package, so
 * the `install-script-added` rule can see a release that suddenly carries a postinstall (the
 * shape of a hijacked maintainer account).
 *
 * Cheap on purpose: only packages that have install-time code and came from a registry are
 * looked up (one packument each, usually already in pacote's cache from arborist's resolution),
 * and nothing of the previous version is downloaded. Its scripts are computed like
 * `installScripts` from the packument's manifest: the registry (and `npm publish`) record
 * `gypfile` / `hasInstallScript`, and a `hasInstallScript` without any lifecycle script can
 * only mean npm's implicit `node-gyp rebuild`.
 *
 * A failed lookup leaves `previousScripts` absent ("not looked up"): history is a signal for
 * one rule, never a reason to fail the scan.
 */
import semver from 'semver';
import type { PackageInfo } from '../session/types.js';
import { installScripts } from './install-scripts.js';
import { mapLimit } from './limit.js';
import type { NpmLibs } from './npm-libs.js';
import type { NpmOptions } from './options.js';
import { FETCH_CONCURRENCY } from './options.js';

type Manifest = Record<string, unknown>;
export interface Packument {
  versions?: Record<string, Manifest>;
  time?: Record<string, string>;
}

/** Fills `previousScripts` in place for every registry package with install-time code. */
export async function addPreviousScripts(packages: PackageInfo[], libs: NpmLibs, npm: NpmOptions): Promise<void> {
  const wanted = packages.filter((pkg) => Object.keys(pkg.scripts).length > 0 && isRegistryTarball(pkg));
  const byName = new Map<string, PackageInfo[]>();
  for (const pkg of wanted) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg]);
  await mapLimit([...byName], FETCH_CONCURRENCY, async ([name, pkgs]) => {
    let packument: Packument;
    try {
      // fullMetadata: the abbreviated document has no `scripts`.
      packument = (await libs.pacote.packument(name, { ...npm, fullMetadata: true } as never)) as unknown as Packument;
    } catch {
      return;
    }
    for (const pkg of pkgs) {
      const previous = previousVersion(packument, pkg.version);
      pkg.previousScripts = previous === null ? null : scriptsOfManifest(packument.versions?.[previous] ?? {});
    }
  });
}

/**
 * The version published before `version`: the highest lower semver version that was not
 * published after it (a 1.x backport released after 2.0.0 is not 2.0.0's predecessor).
 * null for a first release.
 */
export function previousVersion(packument: Packument, version: string): string | null {
  const published = packument.time?.[version];
  const candidates = Object.keys(packument.versions ?? {}).filter((v) => {
    if (!semver.valid(v) || !semver.lt(v, version)) return false;
    const at = packument.time?.[v];
    return published === undefined || at === undefined || Date.parse(at) <= Date.parse(published);
  });
  return candidates.sort(semver.rcompare)[0] ?? null;
}

export function scriptsOfManifest(manifest: Manifest): PackageInfo['scripts'] {
  const declared = typeof manifest.scripts === 'object' && manifest.scripts !== null ? (manifest.scripts as Manifest) : {};
  const hasLifecycle = ['preinstall', 'install', 'postinstall'].some((e) => typeof declared[e] === 'string' && declared[e] !== '');
  const gyp = manifest.gypfile === true || (manifest.hasInstallScript === true && !hasLifecycle);
  return installScripts(manifest, gyp).scripts;
}

/** A registry tarball URL ends in `/<name>/-/<unscoped>-<version>.tgz`; git, file: and links do not. */
function isRegistryTarball(pkg: PackageInfo): boolean {
  if (!/^https?:\/\//.test(pkg.resolved)) return false;
  const unscoped = pkg.name.startsWith('@') ? pkg.name.slice(pkg.name.indexOf('/') + 1) : pkg.name;
  return pkg.resolved.split('?')[0]!.endsWith(`/-/${unscoped}-${pkg.version}.tgz`);
}
