/**
 * One place that turns what npm's libraries throw (arborist, pacote, npm-registry-fetch,
 * make-fetch-happen, ssri, tar, zlib, fs) into typed errors with a hint.
 */
import { SafeInstallError, describe } from '../errors/index.js';

/** What the failing step was working on, so messages can name it. */
export interface ErrorContext {
  registry: string;
  /** The package (`name@version`) or spec being handled, when known. */
  subject?: string;
}

interface NpmError {
  code?: unknown;
  errno?: unknown;
  statusCode?: unknown;
  uri?: unknown;
  pkgid?: unknown;
  name?: unknown;
  wanted?: unknown;
  distTags?: unknown;
  requiredBy?: unknown;
  expected?: unknown;
  found?: unknown;
  algorithm?: unknown;
  tarCode?: unknown;
  path?: unknown;
  message?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'EPROTO',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_TIMEOUT',
  // @npmcli/agent's own timeouts
  'ECONNECTIONTIMEOUT',
  'EIDLETIMEOUT',
  'ERESPONSETIMEOUT',
  'ETRANSFERTIMEOUT',
  // TLS: the registry is not who it claims to be, or a proxy intercepts
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TARBALL_CODES = new Set([
  'TAR_BAD_ARCHIVE',
  'TAR_ABORT',
  'TAR_ENTRY_INVALID',
  'TAR_ENTRY_ERROR',
  'Z_DATA_ERROR',
  'Z_BUF_ERROR',
  'Z_STREAM_ERROR',
  'Z_NEED_DICT',
  'ERR_BROTLI_DECOMPRESSION_FAILED',
]);

const SPEC_CODES = new Set(['EINVALIDTAGNAME', 'EINVALIDPACKAGENAME', 'EUNSUPPORTEDPROTOCOL', 'ERR_INVALID_URL']);

export function toResolveError(err: unknown, ctx: ErrorContext): SafeInstallError {
  if (err instanceof SafeInstallError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as NpmError;
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : '';
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const detail = oneLine(describe(err));
  const registry = ctx.registry;
  const via = requiredByText(e.requiredBy);
  const make = (c: ConstructorParameters<typeof SafeInstallError>[0], message: string, hint: string) =>
    new SafeInstallError(c, oneLine(message), hint, { cause: err });

  if (code === 'EINTEGRITY') {
    const what = ctx.subject ?? 'a package';
    const algorithm = typeof e.algorithm === 'string' ? e.algorithm : 'sha512';
    return make(
      'E_INTEGRITY',
      `SECURITY: the tarball of ${what} does not match its published ${algorithm} integrity ` +
        `(expected ${String(e.expected ?? '?')}, got ${String(e.found ?? '?')})`,
      'Do not install it. The registry, a mirror/proxy on the way, or the local cache served ' +
        'different bytes than were published: report it, and retry only from a registry you trust.',
    );
  }

  if (code === 'E404' || status === 404) {
    const uri = typeof e.uri === 'string' ? e.uri : '';
    if (/\.t(ar\.)?gz$|\/-\//.test(uri)) {
      return make(
        'E_PACKAGE_NOT_FOUND',
        `the tarball of ${ctx.subject ?? 'a package'} is missing on ${registry} (404 for ${uri})${via}`,
        'The registry lists a version it cannot serve; retry later or use another registry with --registry.',
      );
    }
    const pkg = typeof e.pkgid === 'string' ? stripAnyRange(e.pkgid) : (ctx.subject ?? nameFromUri(uri, registry));
    return make(
      'E_PACKAGE_NOT_FOUND',
      `no such package ${pkg} on ${registry}${via}`,
      'Check the name for typos (squatters pick near-misses), or pass --registry if it lives on another registry.',
    );
  }

  if (code === 'ETARGET' || code === 'ENOVERSIONS') {
    const name = typeof e.name === 'string' ? e.name : undefined;
    const wanted = typeof e.wanted === 'string' ? e.wanted : undefined;
    const pkg = name ? `${name}@${wanted ?? '*'}` : (ctx.subject ?? 'the requested package');
    const latest = latestTag(e.distTags);
    return make(
      'E_PACKAGE_NOT_FOUND',
      `no such package ${pkg} on ${registry}${via}`,
      latest
        ? `No version matches "${wanted ?? '*'}"; the latest is ${latest}. Ask for an existing version or tag.`
        : 'No published version matches; ask for an existing version or tag.',
    );
  }

  if (NETWORK_CODES.has(code) || (status !== undefined && status >= 500)) {
    const why = status !== undefined ? `it answered HTTP ${status}` : code;
    return make(
      'E_REGISTRY_UNREACHABLE',
      `cannot reach the registry ${registry} (${why})${ctx.subject ? ` while fetching ${ctx.subject}` : ''}`,
      'Check the network, proxy and TLS settings, or point at a reachable registry with --registry <url>.',
    );
  }

  if (status === 401 || status === 403) {
    return make(
      'E_RESOLVE',
      `the registry ${registry} refused access (HTTP ${status})${ctx.subject ? ` to ${ctx.subject}` : ''}${via}`,
      'The package may be private; safe-install does not send npm credentials. Scan it from a tarball instead.',
    );
  }

  if (TARBALL_CODES.has(code) || typeof e.tarCode === 'string' || /^zlib: /.test(detail)) {
    return make(
      'E_BAD_TARBALL',
      `${ctx.subject ?? 'a package tarball'} is not a readable package tarball (${detail})`,
      'The file is truncated or corrupt: re-download it, or re-create it with `npm pack`.',
    );
  }

  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES') {
    const path = typeof e.path === 'string' ? e.path : (ctx.subject ?? '');
    return make(
      'E_NOT_A_PACKAGE',
      `${path} is not a package (${code})`,
      'Give a package name, a path to a .tgz made by `npm pack`, or a folder that holds a package.json.',
    );
  }

  if (code === 'EJSONPARSE') {
    return make(
      'E_NOT_A_PACKAGE',
      `${ctx.subject ?? 'a package'} has an unreadable package.json (${detail})`,
      'Fix the package.json: it must be valid JSON.',
    );
  }

  if (SPEC_CODES.has(code)) {
    return make('E_USAGE', `not a valid package spec: ${detail}`, 'Use what `npm install` accepts: name, name@range, @scope/name@tag, a .tgz path or a folder.');
  }

  if (code === 'ERESOLVE') {
    return make(
      'E_RESOLVE',
      `conflicting dependency versions while resolving ${ctx.subject ?? 'the tree'}: ${detail}`,
      'npm itself would refuse this tree; ask for versions whose peer dependencies agree.',
    );
  }

  return make(
    'E_RESOLVE',
    `could not resolve ${ctx.subject ?? 'the dependency tree'}: ${code ? `${code}: ` : ''}${detail}`,
    'Check the spec; if `npm install --ignore-scripts --dry-run` succeeds with the same registry, report this as a bug.',
  );
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

function stripAnyRange(pkgid: string): string {
  return pkgid.replace(/@\*$/, '').replace(/@$/, '');
}

function nameFromUri(uri: string, registry: string): string {
  if (!uri.startsWith(registry)) return uri || 'the requested package';
  try {
    return decodeURIComponent(uri.slice(registry.length));
  } catch {
    return uri;
  }
}

function latestTag(distTags: unknown): string | undefined {
  if (typeof distTags !== 'object' || distTags === null) return undefined;
  const latest = (distTags as Record<string, unknown>).latest;
  return typeof latest === 'string' ? latest : undefined;
}

function requiredByText(requiredBy: unknown): string {
  // Arborist gives the dependent's location, '.' for the root project: name real dependents only.
  if (typeof requiredBy !== 'string' || requiredBy === '.' || requiredBy === '') return '';
  return ` (required by ${requiredBy.replace(/^.*node_modules\//, '')})`;
}
