/**
 * Fetches every package's tarball, integrity-checked, and reads its install scripts from it.
 *
 * Registry and remote tarballs go through pacote, which verifies them against the integrity
 * the tree recorded (from the packument) and serves them from npm's cache when it can. Local
 * tarballs are read directly and checked against the integrity arborist computed when it read
 * them, so a file swapped between resolution and fetch is caught.
 */
import { createReadStream } from 'node:fs';
import { isAbsolute, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toResolveError, type ErrorContext } from './errors.js';
import type { TreeNode } from './ideal-tree.js';
import { mapLimit } from './limit.js';
import type { NpmLibs } from './npm-libs.js';
import type { NpmOptions } from './options.js';
import { FETCH_CONCURRENCY } from './options.js';
import { repackBundled } from './bundled.js';
import { readTarball, BadTarballError, type FolderFacts, type TarballFacts } from './tarball-reader.js';

export interface FetchedPackage {
  tarball: string;
  integrity: string;
  resolved: string;
  facts: FolderFacts;
}

export interface FetchOptions {
  tarballDir: string;
  /** A fresh folder to unpack a bundler's bundled dependencies into. */
  scratchFor: (bundler: TreeNode) => string;
  npm: NpmOptions;
  libs: NpmLibs;
  ctx: ErrorContext;
  /** Absolute local tarball → what the user named, for `resolved`. */
  origins: Map<string, string>;
  /** A fresh file name in tarballDir for a package. */
  fileFor: (node: TreeNode, suffix?: string) => string;
  onFetched: (node: TreeNode, done: number, total: number) => void;
}

export async function fetchTarballs(nodes: readonly TreeNode[], opts: FetchOptions): Promise<Map<TreeNode, FetchedPackage>> {
  const own: TreeNode[] = [];
  const bundledBy = new Map<TreeNode, TreeNode[]>();
  for (const node of nodes) {
    const bundler = node.getBundler();
    if (bundler && !bundler.isRoot) {
      let list = bundledBy.get(bundler);
      if (!list) bundledBy.set(bundler, (list = []));
      list.push(node);
    } else {
      own.push(node);
    }
  }

  // The same artifact can sit at several locations (nested duplicates): fetch it once.
  const byArtifact = new Map<string, TreeNode[]>();
  for (const node of own) {
    const key = `${node.resolved ?? `${node.packageName}@${node.version}`}\0${node.integrity ?? ''}`;
    const list = byArtifact.get(key);
    if (list) list.push(node);
    else byArtifact.set(key, [node]);
  }

  const out = new Map<TreeNode, FetchedPackage>();
  const total = nodes.length;
  let done = 0;
  const report = (node: TreeNode) => opts.onFetched(node, ++done, total);

  await mapLimit([...byArtifact.values()], FETCH_CONCURRENCY, async (group) => {
    const first = group[0]!;
    const { fetched, facts } = await fetchOne(first, opts);
    for (const node of group) {
      out.set(node, { ...fetched, facts });
      report(node);
      const bundled = bundledBy.get(node);
      if (bundled) await addBundled(node, facts, bundled, out, opts, report);
    }
  });
  return out;
}

async function fetchOne(node: TreeNode, opts: FetchOptions): Promise<{ fetched: Omit<FetchedPackage, 'facts'>; facts: TarballFacts }> {
  const subject = `${node.packageName}@${node.version}`;
  const ctx = { ...opts.ctx, subject };
  try {
    const local = localTarballPath(node.resolved);
    if (local !== null) {
      // Packed folders already live in tarballDir: no second copy.
      const dest = isInside(opts.tarballDir, local) ? null : opts.fileFor(node);
      const facts = await readTarball(createReadStream(local), dest);
      if (node.integrity && !sha512Matches(node.integrity, facts.sha512)) {
        throw Object.assign(new Error(`${local} changed while it was being scanned`), {
          code: 'EINTEGRITY',
          expected: node.integrity,
          found: facts.sha512,
          algorithm: 'sha512',
        });
      }
      return {
        fetched: { tarball: dest ?? local, integrity: facts.sha512, resolved: opts.origins.get(local) ?? `file:${local}` },
        facts,
      };
    }

    const dest = opts.fileFor(node);
    // What arborist's reify passes pacote for the same node.
    const spec = node.resolved ? `${node.name}@${node.resolved}` : `${node.packageName}@${node.version}`;
    const facts = await opts.libs.pacote.tarball.stream(spec, (stream) => readTarball(stream, dest), {
      ...opts.npm,
      Arborist: opts.libs.Arborist,
      integrity: node.integrity ?? undefined,
      resolved: node.resolved ?? undefined,
    } as Parameters<NpmLibs['pacote']['tarball']['stream']>[2]);
    // Report the strongest hash: the published one when it is sha512, else ours of the same
    // verified bytes (old packuments only carry sha1; git and URL deps carry none).
    const integrity = node.integrity && hasSha512(node.integrity) ? node.integrity : facts.sha512;
    return { fetched: { tarball: dest, integrity, resolved: node.resolved ?? spec }, facts };
  } catch (err) {
    throw toResolveError(err, ctx);
  }
}

async function addBundled(
  bundler: TreeNode,
  bundlerFacts: TarballFacts,
  bundled: readonly TreeNode[],
  out: Map<TreeNode, FetchedPackage>,
  opts: FetchOptions,
  report: (node: TreeNode) => void,
): Promise<void> {
  const from = out.get(bundler)!;
  const folderOf = (node: TreeNode) => posix.relative(bundler.location, node.location);
  const ctx = { ...opts.ctx, subject: `${bundler.packageName}@${bundler.version}` };
  try {
    const facts = new Map<TreeNode, FolderFacts>();
    for (const node of bundled) {
      const f = bundlerFacts.nested(folderOf(node));
      if (!f) throw new BadTarballError(`bundled dependency ${folderOf(node)} is missing from the tarball`);
      facts.set(node, f);
    }
    const byFolder = new Map(bundled.map((n) => [folderOf(n), n]));
    const repacked = await repackBundled(
      from.tarball,
      [...byFolder.keys()],
      opts.scratchFor(bundler),
      (folder) => opts.fileFor(byFolder.get(folder)!, '-bundled'),
    );
    for (const node of bundled) {
      const r = repacked.get(folderOf(node))!;
      out.set(node, { tarball: r.tarball, integrity: r.integrity, resolved: from.resolved, facts: facts.get(node)! });
      report(node);
    }
  } catch (err) {
    throw toResolveError(err, ctx);
  }
}

function localTarballPath(resolved: string | null): string | null {
  if (!resolved?.startsWith('file:')) return null;
  return resolved.startsWith('file://') ? fileURLToPath(resolved) : resolved.slice('file:'.length);
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function hasSha512(sri: string): boolean {
  return sri.split(/\s+/).some((h) => h.startsWith('sha512-'));
}

function sha512Matches(expected: string, actual: string): boolean {
  const wanted = expected.split(/\s+/).filter((h) => h.startsWith('sha512-')).map((h) => h.replace(/\?.*$/, ''));
  return wanted.length === 0 || wanted.includes(actual);
}
