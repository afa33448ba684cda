/**
 * A real npm registry on loopback, for tests that must never touch registry.npmjs.org or the
 * user's npm cache.
 *
 * Fixture convention: a fixture is any directory with a package.json; its name and version come
 * from that package.json, never from the folder name. Registry fixtures live in
 * `fixtures/npm/@fixtures/<name>/`; a further version of the same name goes in
 * `fixtures/npm/@fixtures/<name>@<version>/`. Every version of a name given to
 * `startLocalRegistry` lands in one packument; `latest` is the highest version.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Arborist from '@npmcli/arborist';
import pacote from 'pacote';
import semver from 'semver';
import * as tar from 'tar';

export interface LocalRegistryOptions {
  /** Fixture directories to publish. */
  packages: string[];
  /**
   * `name@version`s whose tarball is served tampered: a valid tarball with different content,
   * while the packument keeps the original integrity (what a compromised mirror would do).
   */
  corrupt?: string[];
  /** `name@version`s whose tarball is served cut in half (integrity not updated either). */
  truncate?: string[];
}

export interface LocalRegistry {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  close(): Promise<void>;
  /** `name@version` → path of the genuine tarball (the one the packument's integrity describes). */
  tarballs: Map<string, string>;
  /** `name@version` → the integrity the packument advertises. */
  integrity: Map<string, string>;
  /** Every request path served, in order (decoded), so tests can assert what was fetched. */
  requests: string[];
}

interface Published {
  manifest: Record<string, unknown>;
  tarballPath: string;
  body: Buffer;
}

/** The repository's `fixtures/` folder, found from this file whether run from src or dist. */
export function fixturesRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'fixtures', 'npm')) && existsSync(join(dir, 'package.json'))) {
      return join(dir, 'fixtures');
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('fixtures/ not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Folder of a registry fixture by package name, e.g. `@fixtures/with-dep`. */
export function fixtureDir(name: string): string {
  return join(fixturesRoot(), 'npm', name);
}

/** Every registry fixture folder (`fixtures/npm/@fixtures/*`). */
export function allRegistryFixtureDirs(): string[] {
  const scopeDir = join(fixturesRoot(), 'npm', '@fixtures');
  return readdirSync(scopeDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(scopeDir, d.name))
    .sort();
}

export async function startLocalRegistry(opts: LocalRegistryOptions): Promise<LocalRegistry> {
  const tmp = await mkdtemp(join(tmpdir(), 'safe-install-registry-'));
  const byName = new Map<string, Map<string, Published>>();
  const tarballs = new Map<string, string>();
  const integrity = new Map<string, string>();
  const bodies = new Map<string, Buffer>();
  const corrupt = new Set(opts.corrupt ?? []);
  const truncate = new Set(opts.truncate ?? []);

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const requests: string[] = [];

  try {
    for (const dir of opts.packages) {
      const { manifest, tgz } = await packFixture(resolve(dir));
      const name = String(manifest.name);
      const version = String(manifest.version);
      const id = `${name}@${version}`;
      const unscoped = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
      const urlPath = `/${name}/-/${unscoped}-${version}.tgz`;
      const tarballPath = join(tmp, `${name.replace('/', '__')}-${version}.tgz`);
      await writeFile(tarballPath, tgz);

      const sri = 'sha512-' + createHash('sha512').update(tgz).digest('base64');
      let body = tgz;
      if (corrupt.has(id)) body = await tamper(tgz);
      if (truncate.has(id)) body = tgz.subarray(0, Math.floor(tgz.length / 2));

      const scripts = (manifest.scripts ?? {}) as Record<string, unknown>;
      const versionDoc: Record<string, unknown> = {
        ...manifest,
        _id: id,
        dist: {
          tarball: base + urlPath,
          integrity: sri,
          shasum: createHash('sha1').update(tgz).digest('hex'),
        },
      };
      // The public registry sets this at publish time; arborist reads it to decide whether a
      // node may have install scripts, so a faithful fake must set it too.
      const gyp = manifest.gypfile !== false && existsSync(join(resolve(dir), 'binding.gyp'));
      if (scripts.preinstall || scripts.install || scripts.postinstall || gyp) {
        versionDoc.hasInstallScript = true;
      }

      let versions = byName.get(name);
      if (!versions) byName.set(name, (versions = new Map()));
      if (versions.has(version)) throw new Error(`fixture ${id} given twice (${dir})`);
      versions.set(version, { manifest: versionDoc, tarballPath, body });
      tarballs.set(id, tarballPath);
      integrity.set(id, sri);
      bodies.set(urlPath, body);
    }
  } catch (err) {
    await closeServer(server);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = new URL(req.url ?? '/', base).pathname;
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return sendJson(res, 400, { error: 'bad path' });
    }
    requests.push(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'read-only registry' });

    const body = bodies.get(path);
    if (body) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }

    // `/@scope%2fname` and `/@scope/name` both decode to `/@scope/name`.
    const versions = byName.get(path.slice(1));
    if (!versions) return sendJson(res, 404, { error: 'Not found' });
    sendJson(res, 200, packument(path.slice(1), versions));
  }

  return {
    url: base + '/',
    tarballs,
    integrity,
    requests,
    async close() {
      await closeServer(server);
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

function packument(name: string, versions: Map<string, Published>): Record<string, unknown> {
  const sorted = [...versions.keys()].sort(semver.compare);
  const latest = sorted[sorted.length - 1];
  const now = new Date().toISOString();
  // The full document also answers `Accept: application/vnd.npm.install-v1+json`: a corgi is a
  // subset of it, and clients ignore the extra fields.
  return {
    _id: name,
    name,
    'dist-tags': { latest },
    versions: Object.fromEntries(sorted.map((v) => [v, versions.get(v)!.manifest])),
    time: { created: now, modified: now, ...Object.fromEntries(sorted.map((v) => [v, now])) },
    modified: now,
  };
}

/**
 * npm-pack semantics (npm-packlist, `package/` prefix) without running anything: pacote's dir
 * fetcher runs `prepare` unless ignoreScripts is set, and never runs prepack/postpack. No cache
 * option, so nothing is written to the user's npm cache.
 */
async function packFixture(dir: string): Promise<{ manifest: Record<string, unknown>; tgz: Buffer }> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') {
    throw new Error(`fixture ${dir}: package.json needs a name and a version`);
  }
  const tgz = await pacote.tarball(`file:${dir}`, { Arborist, ignoreScripts: true } as pacote.Options);
  return { manifest, tgz: Buffer.from(tgz) };
}

/** A valid tarball with different bytes: the original entries plus one extra file. */
async function tamper(tgz: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'safe-install-tamper-'));
  try {
    await new Promise<void>((ok, fail) => {
      const x = tar.x({ cwd: dir });
      x.on('error', fail).on('finish', () => ok());
      x.end(tgz);
    });
    await writeFile(join(dir, 'package', 'TAMPERED'), 'served by a compromised mirror\n');
    const chunks: Buffer[] = [];
    const packed = tar.c({ cwd: dir, portable: true }, ['package']);
    for await (const chunk of packed) chunks.push(Buffer.from(chunk as Uint8Array));
    return gzipSync(Buffer.concat(chunks));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function closeServer(server: ReturnType<typeof createServer>): Promise<void> {
  // Keep-alive sockets from npm's agent would otherwise hold close() open.
  server.closeAllConnections();
  return new Promise((ok) => server.close(() => ok()));
}
