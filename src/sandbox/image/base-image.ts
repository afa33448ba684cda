/**
 * The base the sandbox image is built FROM. Users who can pull get an official node image;
 * machines that reach no container registry (but do reach a Debian mirror) get a Debian
 * bookworm made with debootstrap and imported. `--base-image` / SAFE_INSTALL_BASE_IMAGE wins.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { SafeInstallError, describe } from '../../errors/index.js';
import { followProgress, imageExists, withTimeout } from '../docker.js';

export const DEBOOTSTRAP_IMAGE = 'safe-install-base:bookworm';

export interface BaseImage {
  ref: string;
  /** False when the base has no node and the host's must be copied in. */
  hasNode: boolean;
}

export type ProgressFn = (line: string) => void;

export function officialNodeImage(): string {
  return `node:${process.versions.node.split('.')[0]}-bookworm-slim`;
}

export async function resolveBaseImage(docker: Docker, requested: string | undefined, progress: ProgressFn): Promise<BaseImage> {
  if (requested) {
    if (!(await imageExists(docker, requested))) await pull(docker, requested, progress, true);
    return { ref: requested, hasNode: await baseHasNode(docker, requested) };
  }
  const official = officialNodeImage();
  if (await imageExists(docker, official)) return { ref: official, hasNode: true };
  if (await imageExists(docker, DEBOOTSTRAP_IMAGE)) return { ref: DEBOOTSTRAP_IMAGE, hasNode: false };
  if (await pull(docker, official, progress, false)) return { ref: official, hasNode: true };
  await debootstrapBase(docker, progress);
  return { ref: DEBOOTSTRAP_IMAGE, hasNode: false };
}

async function pull(docker: Docker, ref: string, progress: ProgressFn, required: boolean): Promise<boolean> {
  progress(`pulling ${ref}`);
  try {
    const stream = await withTimeout(docker.pull(ref), 30_000);
    await followProgress(docker, stream, (ev) => {
      if (ev.status && !ev.progress) progress(`${ev.id ? `${ev.id}: ` : ''}${ev.status}`);
    });
    return true;
  } catch (err) {
    if (required) {
      throw new SafeInstallError('E_IMAGE_BUILD', `cannot pull base image ${ref}: ${describe(err)}`, 'check the image name and your registry access, or omit --base-image');
    }
    progress(`cannot pull ${ref} (${describe(err)}); building a Debian base with debootstrap instead`);
    return false;
  }
}

async function baseHasNode(docker: Docker, ref: string): Promise<boolean> {
  const container = await docker.createContainer({
    Image: ref,
    Cmd: ['sh', '-c', 'command -v node >/dev/null && test -f "$(dirname "$(dirname "$(command -v node)")")/include/node/node.h"'],
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return StatusCode === 0;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The Debian mirror this machine's apt already uses, so debootstrap works wherever apt does. */
export function debianMirror(): string {
  const sources = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of sources) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822?.[1]) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\s/m.exec(text);
    if (oneLine?.[1]) return oneLine[1];
  }
  return 'http://deb.debian.org/debian';
}

async function debootstrapBase(docker: Docker, progress: ProgressFn): Promise<void> {
  const hint =
    'install debootstrap and run `safe-install setup` as root once, or pass --base-image with a Debian bookworm image that has node (e.g. ' +
    `${officialNodeImage()})`;
  if (process.getuid?.() !== 0) {
    throw new SafeInstallError('E_IMAGE_BUILD', 'no base image for the sandbox: cannot pull one, and building one with debootstrap needs root', hint);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-base-'));
  try {
    const mirror = debianMirror();
    progress(`debootstrap bookworm from ${mirror} (about a minute)`);
    const run = execa('debootstrap', ['--variant=minbase', 'bookworm', path.join(dir, 'root'), mirror], { all: true });
    run.all?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('I: ')) progress(line.slice(3));
    });
    try {
      await run;
    } catch (err) {
      const missing = (err as { code?: string }).code === 'ENOENT';
      throw new SafeInstallError(
        'E_IMAGE_BUILD',
        missing ? 'debootstrap is not installed, and no base image could be pulled' : `debootstrap failed: ${describe(err)}`,
        hint,
        { cause: err },
      );
    }
    progress(`importing ${DEBOOTSTRAP_IMAGE}`);
    // GNU tar, not node-tar: a root filesystem needs owners, setuid bits and device nodes kept exactly.
    const packer = execa('tar', ['-C', path.join(dir, 'root'), '-c', '.'], { buffer: false, stdout: 'pipe' });
    const out = await docker.importImage(packer.stdout as NodeJS.ReadableStream, { repo: 'safe-install-base', tag: 'bookworm' });
    await followProgress(docker, out, () => undefined);
    await packer;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
