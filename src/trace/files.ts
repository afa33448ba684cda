/**
 * File syscalls → file events. Every path comes out absolute and normalised: relative paths are
 * resolved against the dirfd's -yy decoration (`AT_FDCWD</tmp/x>` is the cwd as the kernel sees
 * it), falling back to the tracked cwd.
 *
 * For successful opens the returned fd's decoration names the file actually opened, after
 * symlinks: that is the event's `path` (`requestedPath` keeps what was asked for), so a symlink
 * planted in the package folder cannot pass a read of ~/.npmrc off as a package read.
 */
import type { FileEvent, FileOperation } from '../session/types.js';
import { atomArg, fieldOf, hasFlag, resultOf, strArg, succeeded, type ParsedCall, type Value } from './args.js';
import { decorationPath } from './decoration.js';
import { bytesToText } from './escapes.js';
import { canonicalProcPath, resolvePath } from './paths.js';

export type FileFacts = Omit<FileEvent, 'id' | 'scriptId' | 'processId' | 'time'>;

/** Argument positions of the path a syscall names: a dirfd/path pair, or an fd alone. */
interface PathSpec {
  dirfd?: number;
  path?: number;
  fd?: number;
}

export interface FileSpec extends PathSpec {
  /** `open` is decided by its flags. */
  op: FileOperation | 'open';
  flags?: number;
  /** openat2's `struct open_how` (flags and mode inside). */
  how?: number;
  mode?: number;
  /** rename/link: the second name. */
  target?: PathSpec;
  /** symlink: the string stored in the link. */
  linkText?: number;
}

export const FILE_SYSCALLS: Readonly<Record<string, FileSpec>> = {
  open: { op: 'open', path: 0, flags: 1, mode: 2 },
  openat: { op: 'open', dirfd: 0, path: 1, flags: 2, mode: 3 },
  openat2: { op: 'open', dirfd: 0, path: 1, how: 2 },
  creat: { op: 'create', path: 0, mode: 1 },
  unlink: { op: 'delete', path: 0 },
  unlinkat: { op: 'delete', dirfd: 0, path: 1 },
  rmdir: { op: 'delete', path: 0 },
  rename: { op: 'rename', path: 0, target: { path: 1 } },
  renameat: { op: 'rename', dirfd: 0, path: 1, target: { dirfd: 2, path: 3 } },
  renameat2: { op: 'rename', dirfd: 0, path: 1, target: { dirfd: 2, path: 3 } },
  mkdir: { op: 'mkdir', path: 0, mode: 1 },
  mkdirat: { op: 'mkdir', dirfd: 0, path: 1, mode: 2 },
  chmod: { op: 'chmod', path: 0, mode: 1 },
  fchmod: { op: 'chmod', fd: 0, mode: 1 },
  fchmodat: { op: 'chmod', dirfd: 0, path: 1, mode: 2 },
  // Links: `path` is the new name that appears, `target` what it refers to.
  link: { op: 'link', path: 1, target: { path: 0 } },
  linkat: { op: 'link', dirfd: 2, path: 3, target: { dirfd: 0, path: 1 } },
  symlink: { op: 'link', path: 1, linkText: 0 },
  symlinkat: { op: 'link', dirfd: 1, path: 2, linkText: 0 },
  truncate: { op: 'write', path: 0 },
  access: { op: 'probe', path: 0 },
  faccessat: { op: 'probe', dirfd: 0, path: 1 },
  faccessat2: { op: 'probe', dirfd: 0, path: 1 },
  stat: { op: 'probe', path: 0 },
  lstat: { op: 'probe', path: 0 },
  newfstatat: { op: 'probe', dirfd: 0, path: 1 },
  statx: { op: 'probe', dirfd: 0, path: 1 },
  readlink: { op: 'probe', path: 0 },
  readlinkat: { op: 'probe', dirfd: 0, path: 1 },
};

/** What a file handler needs to know about the calling process. */
export interface PathContext {
  cwd: string;
  pid: number;
}

/** The directory a dirfd argument stands for, if the trace says. */
export function dirOf(v: Value | undefined): string | null {
  const a = atomArg(v);
  return a ? decorationPath(a.decoration) : null;
}

/**
 * Resolves a `(dirfd, path)` pair to an absolute path. null for an empty name (the call acts on
 * the fd itself), undefined when the argument is not a string at all.
 */
export function resolveAt(
  dirfd: Value | undefined,
  pathArg: Value | undefined,
  ctx: PathContext,
): string | null | undefined {
  const str = strArg(pathArg);
  if (!str) return undefined;
  const name = bytesToText(str.bytes);
  if (name === '') return null;
  if (name.startsWith('/')) return canonicalProcPath(resolvePath('/', name), ctx.pid);
  const base = dirfd === undefined ? ctx.cwd : (dirOf(dirfd) ?? ctx.cwd);
  return canonicalProcPath(resolvePath(base, name), ctx.pid);
}

type Resolved = { path: string } | 'skip' | 'unparsed';

function resolveSpec(spec: PathSpec, args: Value[], ctx: PathContext, allowFdOnly: boolean): Resolved {
  if (spec.fd !== undefined) {
    const path = dirOf(args[spec.fd]);
    return path === null ? 'skip' : { path: canonicalProcPath(path, ctx.pid) };
  }
  if (spec.path === undefined) return 'unparsed';
  const dirfd = spec.dirfd === undefined ? undefined : args[spec.dirfd];
  const path = resolveAt(dirfd, args[spec.path], ctx);
  if (path === undefined) return 'unparsed';
  if (path !== null) return { path };
  // Empty name with AT_EMPTY_PATH: the call acts on the dirfd itself (fchmodat, linkat of an
  // O_TMPFILE). For probes that is just an fstat of an open file: not an event of its own.
  const fdPath = allowFdOnly ? dirOf(dirfd) : null;
  return fdPath === null ? 'skip' : { path: canonicalProcPath(fdPath, ctx.pid) };
}

/** How an open's flags read: what the call can do to the file. */
function openOperation(flags: Value | undefined): FileOperation {
  const has = (flag: string): boolean => hasFlag(flags, flag);
  if (has('O_CREAT') || has('O_TMPFILE')) return 'create';
  if (has('O_PATH')) return 'probe';
  if (has('O_WRONLY') || has('O_RDWR') || has('O_TRUNC')) return 'write';
  return 'read';
}

function modeText(v: Value | undefined): string | undefined {
  const a = atomArg(v);
  return a && a.text.length > 0 ? a.text : undefined;
}

/**
 * The file event of one file syscall: facts, `null` when the call is not an event (an fstat on
 * an open fd), or `'unparsed'` when the arguments are not what the syscall prints.
 */
export function fileFacts(name: string, call: ParsedCall, ctx: PathContext): FileFacts | null | 'unparsed' {
  const spec = FILE_SYSCALLS[name];
  if (!spec) return null;
  const { args } = call;
  const resolved = resolveSpec(spec, args, ctx, spec.op !== 'probe' && spec.op !== 'open');
  if (resolved === 'unparsed') return 'unparsed';
  if (resolved === 'skip') return null;

  const facts: FileFacts = { op: 'read', path: resolved.path, syscall: name, result: resultOf(call) };

  if (spec.op === 'open') {
    const how = spec.how === undefined ? undefined : args[spec.how];
    facts.op = openOperation(how ? fieldOf(how, 'flags') : args[spec.flags ?? -1]);
    if (facts.op === 'create') {
      const mode = modeText(how ? fieldOf(how, 'mode') : args[spec.mode ?? -1]);
      if (mode !== undefined) facts.mode = mode;
    }
    const real = succeeded(call) ? decorationPath(call.ret.decoration) : null;
    if (real !== null) {
      const realPath = canonicalProcPath(real, ctx.pid);
      if (realPath !== facts.path) {
        facts.requestedPath = facts.path;
        facts.path = realPath;
      }
    }
    return facts;
  }

  facts.op = spec.op;
  if (spec.mode !== undefined && (spec.op === 'create' || spec.op === 'chmod' || spec.op === 'mkdir')) {
    const mode = modeText(args[spec.mode]);
    if (mode !== undefined) facts.mode = mode;
  }
  if (spec.target) {
    const target = resolveSpec(spec.target, args, ctx, true);
    if (target === 'unparsed') return 'unparsed';
    if (target !== 'skip') facts.target = target.path;
  }
  if (spec.linkText !== undefined) {
    const text = strArg(args[spec.linkText]);
    if (!text) return 'unparsed';
    // A relative symlink is relative to the directory holding the link.
    const linkDir = resolvePath(facts.path, '..');
    facts.target = resolvePath(linkDir, bytesToText(text.bytes));
  }
  return facts;
}
