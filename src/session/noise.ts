/**
 * Which file events are noise: the loader, libraries, locales and toolchains that every program
 * reads, folded away so the chain shows what the package did. Only reads and probes can be noise;
 * anything that changes the file system (or runs a program) is always kept.
 *
 * Two tables, checked in order: NEVER_NOISE wins over NOISE, so a rule in NOISE can never hide a
 * read of a secret or a sandbox probe. Matching is on the path actually touched (`path`, after
 * symlinks); the requested path (`requestedPath`) is checked against NEVER_NOISE too.
 */
import type { FileEvent } from './types.js';

/** The fields of a file event the filter looks at (any FileEvent is one). */
export type NoiseCandidate = Pick<FileEvent, 'op' | 'path' | 'requestedPath' | 'result'>;

export interface NoiseContext {
  projectDir: string;
  packageDir: string;
  home: string;
  /** e.g. `/usr/local` */
  nodePrefix: string;
}

type Where = string | ((ctx: NoiseContext) => string);

type Match =
  /** Exactly this path. */
  | { exact: Where }
  /** This directory and everything below it. */
  | { under: Where }
  /** Any path starting with this text (a family of names, like `/etc/ld.so.*`). */
  | { prefix: Where }
  /** `/proc/<pid>/<entry>` for any pid, self, thread-self, or one of their tasks. */
  | { procEntry: string }
  | { test: (path: string, ev: NoiseCandidate, ctx: NoiseContext) => boolean };

interface Rule {
  match: Match;
  why: string;
}

export const NEVER_NOISE: readonly Rule[] = [
  {
    match: { test: (p, ev, c) => isUnder(p, c.home) && !isUnder(p, c.projectDir) && !isPathWalk(p, ev, c) },
    why: 'secrets live in the home folder (~/.npmrc, ~/.ssh, cloud and git credentials)',
  },
  { match: { under: '/root' }, why: "root's home" },
  { match: { exact: '/.dockerenv' }, why: 'container probe' },
  { match: { procEntry: 'environ' }, why: 'environment of a process: tokens, CI variables' },
  { match: { exact: '/proc/1/cgroup' }, why: 'container probe' },
  { match: { exact: '/proc/self/cgroup' }, why: 'container probe' },
  { match: { procEntry: 'mountinfo' }, why: 'container probe (overlay mounts)' },
  { match: { procEntry: 'mounts' }, why: 'container probe (overlay mounts)' },
  { match: { under: '/sys/fs/cgroup' }, why: 'container probe' },
  { match: { exact: '/etc/passwd' }, why: 'user recon' },
  { match: { exact: '/etc/shadow' }, why: 'password hashes' },
  { match: { exact: '/etc/hostname' }, why: 'machine recon' },
  { match: { exact: '/etc/hosts' }, why: 'network recon' },
  { match: { exact: '/etc/resolv.conf' }, why: 'network recon' },
  { match: { exact: '/var/run/docker.sock' }, why: 'container escape' },
  { match: { under: '/run' }, why: 'sockets and runtime state (docker.sock, secrets)' },
];

const PATH_DIRS = new Set(['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']);
const MODULE_EXTENSIONS = ['.js', '.json', '.node', '.mjs', '.cjs'];

export const NOISE: readonly Rule[] = [
  { match: { prefix: '/etc/ld.so.' }, why: 'dynamic loader cache and config' },
  { match: { under: '/lib' }, why: 'shared libraries' },
  { match: { under: '/lib64' }, why: 'shared libraries' },
  { match: { under: '/usr/lib' }, why: 'shared libraries, compilers, locale archive' },
  { match: { under: '/usr/lib64' }, why: 'shared libraries' },
  { match: { under: '/usr/libexec' }, why: 'toolchain helpers' },
  { match: { under: '/usr/include' }, why: 'C headers (native builds)' },
  { match: { under: '/usr/local/include' }, why: 'C headers (native builds)' },
  { match: { under: (c) => `${c.nodePrefix}/include/node` }, why: "node's headers (node-gyp)" },
  { match: { under: (c) => `${c.nodePrefix}/lib/node_modules/npm` }, why: 'npm and node-gyp themselves' },
  { match: { under: '/usr/share/zoneinfo' }, why: 'time zones' },
  { match: { under: '/usr/share/locale' }, why: 'locales' },
  { match: { under: '/usr/share/i18n' }, why: 'locales' },
  { match: { prefix: '/usr/share/misc/magic' }, why: 'file(1) magic' },
  { match: { exact: '/etc/locale.alias' }, why: 'where Debian links /usr/share/locale/locale.alias' },
  { match: { exact: '/etc/localtime' }, why: 'time zone' },
  { match: { exact: '/etc/nsswitch.conf' }, why: 'libc name service config' },
  { match: { exact: '/etc/host.conf' }, why: 'libc resolver config' },
  { match: { exact: '/etc/gai.conf' }, why: 'libc resolver config' },
  { match: { exact: '/etc/ssl/openssl.cnf' }, why: 'OpenSSL config (node reads it at start)' },
  { match: { exact: '/etc/selinux/config' }, why: 'libselinux, linked into coreutils' },
  { match: { exact: '/proc/filesystems' }, why: 'libselinux, linked into coreutils' },
  { match: { exact: '/dev/null' }, why: 'device' },
  { match: { exact: '/dev/urandom' }, why: 'device' },
  { match: { exact: '/dev/random' }, why: 'device' },
  { match: { exact: '/dev/tty' }, why: 'device' },
  { match: { under: '/proc/self' }, why: "a process's own maps, status, fds (environ and cgroup are never noise)" },
  { match: { under: '/sys/devices/system/cpu' }, why: 'CPU count (libuv, compilers)' },
  { match: { under: (c) => c.packageDir }, why: "the package's own files" },
  {
    match: { test: (p, ev) => ev.op === 'probe' && PATH_DIRS.has(parentOf(p)) },
    why: 'PATH lookups by shells and execvp (existence checks of commands)',
  },
  {
    match: { test: (p, ev, c) => isPathWalk(p, ev, c) },
    why: "npm's script PATH (every node_modules/.bin up to /) and realpath() checks of the folders above the package",
  },
  {
    match: { test: (p, ev, c) => isFailedLookup(ev) && isUnder(p, c.projectDir) && isModuleLookup(p) },
    why: "node's require() walk: package.json, node_modules and extension tries that do not exist",
  },
];

export function isNoise(ev: NoiseCandidate, ctx: NoiseContext): boolean {
  if (ev.op !== 'read' && ev.op !== 'probe') return false;
  const rules = compiled(ctx);
  if (rules.never(ev.path, ev) || (ev.requestedPath !== undefined && rules.never(ev.requestedPath, ev))) return false;
  return rules.noise(ev.path, ev);
}

type Test = (path: string, ev: NoiseCandidate) => boolean;

/** The tables with this context's paths filled in, built once per context (a parse checks thousands of events). */
const cache = new WeakMap<NoiseContext, { never: Test; noise: Test }>();

function compiled(ctx: NoiseContext): { never: Test; noise: Test } {
  let rules = cache.get(ctx);
  if (!rules) {
    const never = NEVER_NOISE.map((r) => compile(r.match, ctx));
    const noise = NOISE.map((r) => compile(r.match, ctx));
    rules = {
      never: (path, ev) => never.some((t) => t(path, ev)),
      noise: (path, ev) => noise.some((t) => t(path, ev)),
    };
    cache.set(ctx, rules);
  }
  return rules;
}

function compile(m: Match, ctx: NoiseContext): Test {
  if ('exact' in m) {
    const exact = resolve(m.exact, ctx);
    return (path) => path === exact;
  }
  if ('under' in m) {
    const dir = resolve(m.under, ctx);
    return (path) => isUnder(path, dir);
  }
  if ('prefix' in m) {
    const prefix = resolve(m.prefix, ctx);
    return (path) => path.startsWith(prefix);
  }
  if ('procEntry' in m) {
    const entry = m.procEntry;
    return (path) => isProcEntry(path, entry);
  }
  const test = m.test;
  return (path, ev) => test(path, ev, ctx);
}

function resolve(where: Where, ctx: NoiseContext): string {
  return typeof where === 'string' ? where : where(ctx);
}

function isUnder(path: string, dir: string): boolean {
  if (dir === '' || dir === '/') return dir === '/';
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

/** `/proc/<anything>/<entry>` or `/proc/<anything>/task/<tid>/<entry>`. */
function isProcEntry(path: string, entry: string): boolean {
  if (!path.startsWith('/proc/')) return false;
  const parts = path.split('/'); // ['', 'proc', pid, entry] or ['', 'proc', pid, 'task', tid, entry]
  if (parts.length === 4) return parts[3] === entry;
  if (parts.length === 6) return parts[3] === 'task' && parts[5] === entry;
  return false;
}

/**
 * Lookups every script makes before doing anything of its own: a shell searching npm's PATH for
 * a command (failed checks of node_modules/.bin/<cmd> in every folder up to /) and realpath()
 * stat-ing each folder above the package. Only existence checks of those exact places.
 */
function isPathWalk(path: string, ev: NoiseCandidate, ctx: NoiseContext): boolean {
  if (ev.op !== 'probe') return false;
  if (isFailedLookup(ev) && parentOf(path).endsWith('/node_modules/.bin')) return true;
  return ev.result === 'ok' && path !== ctx.packageDir && isUnder(ctx.packageDir, path);
}

function isFailedLookup(ev: NoiseCandidate): boolean {
  return ev.result === 'ENOENT' || ev.result === 'ENOTDIR';
}

function isModuleLookup(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === 'package.json') return true;
  if (path.includes('/node_modules/') || path.endsWith('/node_modules')) return true;
  return MODULE_EXTENSIONS.some((ext) => name.endsWith(ext));
}
