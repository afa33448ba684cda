import type { FileEvent } from '../session/types.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { indexChain, type ChainIndex } from './chain-index.js';
import { removedUserPath } from './destructive.js';
import { CHANGE_OPS, changedPaths, contentPath, removedPath } from './file-changes.js';
import { areaOf, displayPath, isOwnWritablePath, normalizePath } from './paths.js';
import { classifyPersistence } from './persistence-paths.js';
import { hasSetIdBit, isPrivilegedFile } from './privilege-escalation.js';
import { isPythonBytecodeCache, tamperTargetOf } from './tampering.js';
import { listSome, plural } from './text.js';

/**
 * Successful changes outside the package's own folder, temp dirs and stdio that no more specific
 * rule (persistence, tampering, destructive, privilege-escalation) reports: each change is
 * reported once, by the rule that says most about it. One finding per area (`~/.config/foo`,
 * `/etc/cron.d`) so a tool writing a whole tree is one line.
 */
export const writeOutsidePackageRule: Rule = {
  id: 'write-outside-package',
  evaluate(ctx) {
    const index = indexChain(ctx.chain);
    const { paths } = ctx;
    const byArea = new Map<string, { paths: Set<string>; events: FileEvent[] }>();
    for (const event of ctx.session.files) {
      if (!CHANGE_OPS.has(event.op) || event.result !== 'ok') continue;
      for (const path of changedPaths(event)) {
        if (isOwnWritablePath(path, paths) || claimedElsewhere(event, path, ctx, index)) continue;
        const area = areaOf(path, paths.home);
        const entry = byArea.get(area) ?? { paths: new Set<string>(), events: [] };
        entry.paths.add(displayPath(path, { home: paths.home }));
        if (!entry.events.includes(event)) entry.events.push(event);
        byArea.set(area, entry);
      }
    }

    return [...byArea].map(([area, { paths: changed, events }]): Finding => ({
      rule: 'write-outside-package',
      severity: 'medium',
      message: `changes ${plural(changed.size, 'path')} outside its folder in ${area}: ${listSome([...changed])}`,
      evidence: events.map((event) => event.id),
    }));
  },
};

/** Mirrors what each specific rule reports, so that nothing is reported twice or dropped. */
function claimedElsewhere(event: FileEvent, path: string, ctx: RuleContext, index: ChainIndex): boolean {
  const p = normalizePath(path);
  // Not a change of anyone's: see tampering.ts.
  if (isPythonBytecodeCache(event, p, index)) return true;
  const removed = removedPath(event);
  if (removed !== undefined && normalizePath(removed) === p) return removedUserPath(event, ctx, index) !== undefined;
  const written = contentPath(event);
  const isWrite = written !== undefined && normalizePath(written) === p;
  if (isWrite && classifyPersistence(p, ctx.paths)) return true;
  if ((isWrite || event.op === 'chmod') && isPrivilegedFile(p)) return true;
  if (event.op === 'chmod' && hasSetIdBit(event.mode)) return true;
  return event.op !== 'delete' && tamperTargetOf(p, ctx, index) !== undefined;
}
