/** Shared by the resolve tests: temp folders, hand-made tarballs, error assertions. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { isSafeInstallError, type ErrorCode, type SafeInstallError } from '../../src/errors/index.js';

const made: string[] = [];

export async function tempDir(prefix = 'safe-install-resolve-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A fresh workDir and cache per call, so no test sees another's (or the user's) npm cache. */
export async function scratch(): Promise<{ workDir: string; cache: string }> {
  return { workDir: await tempDir('safe-install-work-'), cache: await tempDir('safe-install-cache-') };
}

export async function sha512Of(file: string): Promise<string> {
  return 'sha512-' + createHash('sha512').update(await readFile(file)).digest('base64');
}

export interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  body?: string;
  linkpath?: string;
}

/**
 * A tarball byte by byte, so tests can make what `tar.c` refuses to: repeated entries, odd
 * top folders, `..` paths, links named binding.gyp.
 */
export function rawTarball(entries: RawEntry[], opts: { gzip?: boolean } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new Header({
      path: e.path,
      mode: type === 'Directory' ? 0o755 : 0o644,
      size: type === 'File' ? body.length : 0,
      type,
      linkpath: e.linkpath,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  const tarBytes = Buffer.concat(blocks);
  return opts.gzip === false ? tarBytes : gzipSync(tarBytes);
}

/** Awaits `promise`, asserts it rejects with a SafeInstallError of `code`, and returns it. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<SafeInstallError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected ${code}, but it resolved`);
  assert.ok(isSafeInstallError(caught), `expected a SafeInstallError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  assert.doesNotMatch(caught.message, /\n/, 'message is one line');
  assert.ok(caught.hint.length > 10, 'has a hint');
  return caught;
}
