/** Which paths a file event changes, and how: shared by every rule about writes and deletes. */
import type { FileEvent, FileOperation } from '../session/types.js';

export const CHANGE_OPS = new Set<FileOperation>(['write', 'create', 'delete', 'rename', 'chmod', 'mkdir', 'link']);

/**
 * The paths an operation changes: a rename changes both ends; a link adds its new name (`path`),
 * and what it points to (`target`) is only its content.
 */
export function changedPaths(event: FileEvent): string[] {
  if (event.op === 'rename') return event.target !== undefined ? [event.path, event.target] : [event.path];
  return [event.path];
}

/**
 * The path whose content this event (re)places: the written file, a rename's destination, a
 * link's new name. Undefined for events that put no content anywhere (reads, deletes, chmod).
 */
export function contentPath(event: FileEvent): string | undefined {
  switch (event.op) {
    case 'write':
    case 'create':
      return event.path;
    case 'rename':
      return event.target;
    case 'link':
      return event.path;
    default:
      return undefined;
  }
}

/** The path that stops existing: a deleted file, a rename's source. */
export function removedPath(event: FileEvent): string | undefined {
  if (event.op === 'delete') return event.path;
  if (event.op === 'rename' && event.target !== undefined) return event.path;
  return undefined;
}

/** Failures that mean "not allowed here", not "nothing there": the attempt itself is the finding. */
const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

export function isDenied(event: FileEvent): boolean {
  return DENIED.has(event.result);
}

/** Succeeded, or was refused: either way the code tried to change that path. */
export function isAttempt(event: FileEvent): boolean {
  return event.result === 'ok' || isDenied(event) || event.result === 'ENOENT';
}
