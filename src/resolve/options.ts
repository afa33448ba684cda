/**
 * Defaults and the option bag handed to arborist and pacote. Both share it, so the registry,
 * cache, timeouts and the no-scripts guarantee are decided once.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SafeInstallError } from '../errors/index.js';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** Explicit option, then npm's own environment variable, then the public registry. */
export function effectiveRegistry(explicit?: string): string {
  const raw = explicit ?? process.env.npm_config_registry ?? process.env.NPM_CONFIG_REGISTRY ?? DEFAULT_REGISTRY;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SafeInstallError('E_USAGE', `not a registry URL: ${raw}`, 'Pass --registry an http(s) URL, e.g. https://registry.npmjs.org/');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SafeInstallError('E_USAGE', `not a registry URL: ${raw}`, 'Pass --registry an http(s) URL, e.g. https://registry.npmjs.org/');
  }
  // npm-registry-fetch joins paths onto the registry; without the slash a path prefix is lost.
  return url.href.endsWith('/') ? url.href : url.href + '/';
}

/** npm's own content cache, so a warm `npm install` cache makes scans fast. */
export function effectiveCache(explicit?: string): string {
  if (explicit) return explicit;
  const npmCache = process.env.npm_config_cache ?? process.env.NPM_CONFIG_CACHE;
  if (npmCache) return join(npmCache, '_cacache');
  if (process.platform === 'win32') {
    const base = process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local');
    return join(base, 'npm-cache', '_cacache');
  }
  return join(homedir(), '.npm', '_cacache');
}

/**
 * Options understood by arborist, pacote and npm-registry-fetch alike.
 *
 * Fail fast: npm's defaults (2 retries up to 60 s apart, 5 min idle timeout) turn a dead
 * registry into minutes of silence. One quick retry still absorbs a dropped connection.
 * `timeout` is an idle timeout in @npmcli/agent, so large tarballs that keep flowing are fine.
 */
export function npmOptions(registry: string, cache: string) {
  return {
    registry,
    cache,
    ignoreScripts: true,
    audit: false,
    fund: false,
    progress: false,
    fetchRetries: 1,
    fetchRetryFactor: 2,
    fetchRetryMintimeout: 300,
    fetchRetryMaxtimeout: 1500,
    timeout: 15_000,
  };
}

export type NpmOptions = ReturnType<typeof npmOptions>;

/** Tarballs fetched at once: enough to fill a link, few enough not to trip registry rate limits. */
export const FETCH_CONCURRENCY = 8;
