import type { FileEvent, FileOperation } from '../session/types.js';
import type { Finding, Rule } from './types.js';
import { areaOf, displayPath, isOwnWritablePath } from './paths.js';
import { listSome, plural } from './text.js';

const WRITE_OPS = new Set<FileOperation>(['write', 'create', 'delete', 'rename', 'chmod', 'mkdir', 'link']);

/**
 * Successful changes outside the package's own folder, temp dirs and stdio. More specific write
 * rules (persistence, tampering, destructive) come later; this one catches the rest. One finding
 * per area (`~/.config/foo`, `/etc/cron.d`) so a tool writing a whole tree is one line.
 */
export const writeOutsidePackageRule: Rule = {
  id: 'write-outside-package',
  evaluate({ session, paths }) {
    const byArea = new Map<string, { paths: Set<string>; events: FileEvent[] }>();
    for (const event of session.files) {
      if (!WRITE_OPS.has(event.op) || event.result !== 'ok') continue;
      for (const path of changedPaths(event)) {
        if (isOwnWritablePath(path, paths)) continue;
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

/** The paths an operation changes: a rename changes both ends; a symlink's target is only its content. */
function changedPaths(event: FileEvent): string[] {
  if (event.op === 'rename') return event.target !== undefined ? [event.path, event.target] : [event.path];
  if (event.op === 'link' && !event.syscall.startsWith('symlink')) return [event.target ?? event.path];
  return [event.path];
}
