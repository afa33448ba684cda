/**
 * One pass over a package tarball's bytes: save them, hash them, and read what decides the
 * install scripts (package.json and binding.gyp), without extracting anything to disk.
 *
 * Paths are read the way pacote extracts them (tar `strip: 1`, links skipped, `..` refused,
 * later entries overwriting earlier ones), so what we read is what npm would find on disk,
 * whatever the top folder is called and however a crafted tarball repeats entries.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';

/** What a package folder holds that matters for its install scripts. */
export interface FolderFacts {
  manifest: Record<string, unknown>;
  hasBindingGyp: boolean;
}

export interface TarballFacts {
  /** The package root's package.json. */
  manifest: Record<string, unknown>;
  hasBindingGyp: boolean;
  /**
   * A bundled package's facts, by folder relative to the package root (`node_modules/b`);
   * null when the tarball holds no package there. Parsed on demand: a stray bad JSON file in
   * some bundled folder nobody asks about must not fail the scan.
   */
  nested(folder: string): FolderFacts | null;
  /** `sha512-…` of the exact bytes read. */
  sha512: string;
  bytes: number;
}

/** Anything that emits Buffers: pacote's Minipass streams and fs read streams alike. */
export interface ByteSource {
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** Raised for tarballs that npm could not install either. Carries a tar-style code for mapping. */
export class BadTarballError extends Error {
  readonly code = 'TAR_BAD_ARCHIVE';
}

/** package.json files bigger than this are not package manifests, they are an attack. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Reads `source` to its end. `dest`, when given, receives a byte-exact copy.
 *
 * A source error (pacote's EINTEGRITY arrives at the very end) rejects with that error; a
 * parse error only rejects once the source has ended cleanly. Otherwise a corrupt tarball
 * that also fails its integrity check would be reported as merely corrupt.
 */
export function readTarball(source: ByteSource, dest: string | null): Promise<TarballFacts> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha512');
    let bytes = 0;
    let parseError: Error | undefined;
    let settled = false;
    const files = new Map<string, Buffer | 'too-large' | 'not-a-file'>();

    const file: WriteStream | null = dest ? createWriteStream(dest) : null;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      if (!file || !dest) return reject(err);
      // Unverified or unreadable bytes must not stay where verified tarballs are expected. Wait
      // for the close: pacote may retry into the same path as soon as we reject.
      const discard = () => {
        rmSync(dest, { force: true });
        reject(err);
      };
      if (file.closed) return discard();
      file.once('close', discard);
      file.destroy();
    };
    file?.on('error', fail);

    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => collect(entry, files),
    });
    let parsed = false;
    const parserDone = new Promise<void>((done) => {
      parser.on('end', () => {
        parsed = true;
        done();
      });
      parser.on('error', (err: Error) => {
        parseError ??= err;
        done();
      });
    });
    parser.on('warn', (code: string, message: string | Error) => {
      // npm tolerates skipped entries (TAR_ENTRY_*), but not a damaged archive.
      if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT') {
        parseError ??= Object.assign(new Error(typeof message === 'string' ? message : message.message), { code });
      }
    });

    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      hash.update(chunk);
      bytes += chunk.length;
      // After a parse error the parser ignores input; keep reading so integrity still gets checked.
      if (!parseError) parser.write(chunk);
      if (file && !file.write(chunk)) {
        source.pause();
        file.once('drain', () => source.resume());
      }
    });
    source.on('error', fail);
    source.on('end', () => {
      if (settled) return;
      if (!parseError) parser.end();
      const fileClosed = file ? new Promise<void>((ok) => file.end(() => ok())) : Promise.resolve();
      Promise.all([parseError ? undefined : parserDone, fileClosed]).then(() => {
        if (settled) return;
        try {
          if (parseError) throw parseError;
          if (!parsed) throw new BadTarballError('the archive ended early');
          const facts = interpret(files);
          settled = true;
          resolve({ ...facts, sha512: 'sha512-' + hash.digest('base64'), bytes });
        } catch (err) {
          fail(err as Error);
        }
      }, fail);
    });
  });
}

/** Path relative to the package root as pacote's extraction would write it, or null if skipped. */
export function extractedPath(entryPath: string): string | null {
  const parts = entryPath.split('/');
  if (parts.length < 2) return null;
  const rest = parts.slice(1);
  // tar's unpack refuses any entry with a `..` part and strips absolute roots.
  if (rest.includes('..')) return null;
  const normal = posix.normalize('/' + rest.join('/')).replace(/^\/+/, '').replace(/\/+$/, '');
  return normal === '' || normal === '.' ? null : normal;
}

/** Bundled package folders: node_modules/<name>/ or node_modules/@scope/<name>/, nested. */
const BUNDLED_FILE = /^(?:node_modules\/(?:@[^/]+\/)?[^/]+\/)+(?:package\.json|binding\.gyp)$/;

function isInteresting(path: string): boolean {
  return path === 'package.json' || path === 'binding.gyp' || BUNDLED_FILE.test(path);
}

function collect(entry: ReadEntry, files: Map<string, Buffer | 'too-large' | 'not-a-file'>): void {
  const path = extractedPath(entry.path);
  if (path === null || !isInteresting(path)) {
    entry.resume();
    return;
  }
  // pacote skips links; anything else that is not a file replaces what was there.
  if (/Link$/.test(entry.type)) {
    entry.resume();
    return;
  }
  if (!/File$/.test(entry.type)) {
    files.set(path, 'not-a-file');
    entry.resume();
    return;
  }
  if (path.endsWith('binding.gyp')) {
    files.set(path, Buffer.alloc(0));
    entry.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  entry.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_MANIFEST_BYTES) chunks.push(c);
  });
  entry.on('end', () => files.set(path, size > MAX_MANIFEST_BYTES ? 'too-large' : Buffer.concat(chunks)));
}

function interpret(files: Map<string, Buffer | 'too-large' | 'not-a-file'>): Omit<TarballFacts, 'sha512' | 'bytes'> {
  const isFile = (path: string) => {
    const content = files.get(path);
    return content !== undefined && content !== 'not-a-file';
  };
  const rootManifest = files.get('package.json');
  if (rootManifest === undefined || rootManifest === 'not-a-file') {
    throw new BadTarballError('no package.json at the package root');
  }
  return {
    manifest: parseManifest(rootManifest, 'package.json'),
    hasBindingGyp: isFile('binding.gyp'),
    nested(folder) {
      const content = files.get(`${folder}/package.json`);
      if (content === undefined || content === 'not-a-file') return null;
      return { manifest: parseManifest(content, `${folder}/package.json`), hasBindingGyp: isFile(`${folder}/binding.gyp`) };
    },
  };
}

function parseManifest(content: Buffer | 'too-large', path: string): Record<string, unknown> {
  if (content === 'too-large') throw new BadTarballError(`${path} is larger than ${MAX_MANIFEST_BYTES} bytes`);
  let doc: unknown;
  try {
    // npm's JSON reader strips a byte-order mark; so must we, or we'd reject what npm installs.
    doc = JSON.parse(content.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new BadTarballError(`${path} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new BadTarballError(`${path} is not a JSON object`);
  }
  return doc as Record<string, unknown>;
}
