/**
 * Where each package sits in the sandbox's project. pnpm's own layout is symlinks into
 * `node_modules/.pnpm`; the sandbox lays packages out from their tarballs, so the packages to
 * build and their dependency closure get an npm-style tree instead, which Node resolves the
 * same way: first come at the top, a different version of a taken name nested under the
 * package that needs it. Packages to build that share a name each get a folder of their own.
 * Build outputs are relative to the package folder, so they land in pnpm's layout unchanged.
 */
import type { PnpmLock } from './lockfile.js';

export interface Placed {
  depPath: string;
  location: string;
  /** Locations of its dependencies in this layout. */
  dependencies: string[];
}

/** @param installs whether pnpm installs a depPath here (platform-specific optional packages are skipped). */
export function sandboxLayout(lock: PnpmLock, toBuild: readonly string[], installs: (depPath: string) => boolean = () => true): Placed[] {
  const occupant = new Map<string, string>();
  const placed: Placed[] = [];
  const queue: Placed[] = [];
  const nameOf = (depPath: string): string => lock.packages.get(lock.snapshots.get(depPath)?.id ?? '')?.name ?? depPath;
  const put = (depPath: string, location: string): Placed => {
    occupant.set(location, depPath);
    const p: Placed = { depPath, location, dependencies: [] };
    placed.push(p);
    queue.push(p);
    return p;
  };
  let spare = 0;
  for (const depPath of toBuild) {
    const name = nameOf(depPath);
    const top = `node_modules/${name}`;
    const taken = occupant.get(top);
    if (taken === depPath) continue;
    put(depPath, taken === undefined ? top : `node_modules/.safe-install-${++spare}/node_modules/${name}`);
  }
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const edge of lock.snapshots.get(parent.depPath)?.dependencies ?? []) {
      if (!lock.snapshots.has(edge.depPath) || !installs(edge.depPath)) continue;
      const top = `node_modules/${edge.name}`;
      const atTop = occupant.get(top);
      if (atTop === edge.depPath) {
        parent.dependencies.push(top);
        continue;
      }
      const nested = `${parent.location}/node_modules/${edge.name}`;
      const location = atTop === undefined ? top : nested;
      if (occupant.get(location) !== edge.depPath) put(edge.depPath, location);
      parent.dependencies.push(location);
    }
  }
  return placed;
}
