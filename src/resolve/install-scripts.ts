/**
 * Which install-time scripts npm runs for a package, decided from its tarball's package.json
 * and whether the tarball has a `binding.gyp`.
 *
 * Mirrors @npmcli/arborist (lib/arborist/rebuild.js `#addToBuildSet`) and @npmcli/run-script
 * (lib/run-script-pkg.js): a script runs when `scripts[event]` is a non-empty string (package-json
 * normalize drops non-strings); a package with a regular file `binding.gyp` at its root gets
 * `install: node-gyp rebuild` unless it has an `install` or `preinstall` script or sets
 * `gypfile: false`. Only a regular file counts: npm's `stat` follows symlinks, but pacote never
 * extracts links, so a linked binding.gyp is absent at install time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LIFECYCLE_EVENTS, lifecycleEventsOf, type PackageInfo } from '../session/types.js';

export const IMPLICIT_GYP_COMMAND = 'node-gyp rebuild';

/**
 * @param location `''` for the project itself: its own events (prepare and the rest, see
 *   PROJECT_LIFECYCLE_EVENTS), with the same implicit node-gyp build npm's run-script adds.
 */
export function installScripts(
  manifest: Record<string, unknown>,
  hasBindingGyp: boolean,
  location?: string,
): Pick<PackageInfo, 'scripts' | 'implicitNodeGyp'> {
  const events = location === undefined ? LIFECYCLE_EVENTS : lifecycleEventsOf(location);
  const declared = typeof manifest.scripts === 'object' && manifest.scripts !== null ? (manifest.scripts as Record<string, unknown>) : {};
  const scripts: PackageInfo['scripts'] = {};
  for (const event of events) {
    const cmd = Object.hasOwn(declared, event) ? declared[event] : undefined;
    if (typeof cmd === 'string' && cmd !== '') scripts[event] = cmd;
  }
  const implicitNodeGyp = hasBindingGyp && manifest.gypfile !== false && !scripts.install && !scripts.preinstall;
  if (implicitNodeGyp) scripts.install = IMPLICIT_GYP_COMMAND;
  // Key order follows npm's run order, whatever order the package.json used.
  const ordered: PackageInfo['scripts'] = {};
  for (const event of events) if (scripts[event] !== undefined) ordered[event] = scripts[event];
  return { scripts: ordered, implicitNodeGyp };
}

/** npm's cue for the implicit build in an installed folder: a regular file `binding.gyp` (see above). */
export function hasBindingGyp(dir: string): boolean {
  try {
    return fs.lstatSync(path.join(dir, 'binding.gyp')).isFile();
  } catch {
    return false;
  }
}
