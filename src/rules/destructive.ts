import { posix } from 'node:path';
import type { FileEvent } from '../session/types.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { indexChain, type ChainIndex } from './chain-index.js';
import { isDenied, removedPath } from './file-changes.js';
import { areaOf, displayPath, isInTmp, isInside, isStdioLike, normalizePath } from './paths.js';
import { listSome, plural } from './text.js';

/** More distinct files than this is a wipe, not a cleanup. */
export const MASS_DELETION = 20;

/**
 * Deleting or moving away files that were there before the install and are not the package's:
 * the user's home, the project, other packages. Truncating writes cannot be told from ordinary
 * ones in the trace (contents are not recorded), so deletes and renames-away are the signal.
 *
 * - high for any such removal; medium when every attempt was refused (EACCES, EROFS…);
 *   critical above MASS_DELETION files, refused or not: `rm -rf ~` or `/` is the intent.
 * - Not counted: the package's own folder, temp dirs and caches, files created during the
 *   session (its own scratch files, a lock it took), a rename within one folder (a backup or an
 *   atomic replace), and ENOENT (`rm -f` of nothing).
 * - A package deleting its own shipped files to hide what it ran is `tampering`.
 */
export const destructiveRule: Rule = {
  id: 'destructive',
  evaluate(ctx) {
    const index = indexChain(ctx.chain);
    const removed = new Map<string, FileEvent[]>();
    for (const event of ctx.session.files) {
      const path = removedUserPath(event, ctx, index);
      if (path !== undefined) removed.set(path, [...(removed.get(path) ?? []), event]);
    }
    if (removed.size === 0) return [];

    const events = [...removed.values()].flat();
    const done = [...removed].filter(([, list]) => list.some((event) => event.result === 'ok')).map(([path]) => path);
    const areas = [...new Set([...removed.keys()].map((path) => areaOf(path, ctx.paths.home)))];
    const mass = removed.size > MASS_DELETION;
    const shown = (done.length > 0 ? done : [...removed.keys()]).map((path) => displayPath(path, { home: ctx.paths.home }));
    const verb = done.length > 0 ? 'deletes' : 'tries to delete';
    const finding: Finding = {
      rule: 'destructive',
      severity: mass ? 'critical' : done.length > 0 ? 'high' : 'medium',
      message: `${verb} ${plural(mass ? removed.size : shown.length, 'file')} it does not own${mass ? ` in ${listSome(areas, 3)}` : ''}: ${listSome(shown)}`,
      evidence: events.map((event) => event.id),
    };
    return [finding];
  },
};

/** The pre-existing, not-its-own path this event removes (or tries to), if any. */
export function removedUserPath(event: FileEvent, ctx: RuleContext, index: ChainIndex): string | undefined {
  const path = removedPath(event);
  if (path === undefined || (event.result !== 'ok' && !isDenied(event))) return undefined;
  const p = normalizePath(path);
  const inOwnFolder = isInside(p, ctx.paths.packageDir) && index.packageOwning(p) === ctx.pkg.location;
  if (inOwnFolder || isInTmp(p, ctx.paths) || isStdioLike(p) || isInside(p, `${ctx.paths.projectDir}/node_modules/.cache`)) return undefined;
  if (event.op === 'rename' && event.target !== undefined && posix.dirname(normalizePath(event.target)) === posix.dirname(p)) return undefined;
  return index.madeBefore(p, event.time) ? undefined : p;
}
