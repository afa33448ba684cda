/**
 * The sandbox image: built once from sandbox-images/npm on first use (or `safe-install setup`),
 * tagged by a digest of everything that goes into it, so a new runner or Dockerfile rebuilds
 * and an unchanged one is found in milliseconds.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import * as tar from 'tar';
import { SafeInstallError, describe } from '../../errors/index.js';
import { packageRoot } from '../../package-root.js';
import { followProgress, imageExists } from '../docker.js';
import { resolveBaseImage, type ProgressFn } from './base-image.js';

export const SANDBOX_REPO = 'safe-install-sandbox';

export interface SandboxImage {
  tag: string;
  id: string;
  base: string;
}

export interface EnsureImageOptions {
  baseImage?: string;
  /** Build even when an image with the same digest exists. */
  rebuild?: boolean;
  onProgress?: ProgressFn;
}

function sandboxSources(): { dockerfile: string; runner: string; sinkhole: string; origdst: string } {
  const root = packageRoot().dir;
  return {
    dockerfile: path.join(root, 'sandbox-images', 'npm', 'Dockerfile'),
    runner: path.join(root, 'dist', 'src', 'sandbox', 'runner', 'runner.js'),
    sinkhole: path.join(root, 'dist', 'src', 'sandbox', 'sinkhole', 'sinkhole.js'),
    origdst: path.join(root, 'src', 'sandbox', 'sinkhole', 'native', 'origdst.c'),
  };
}

/** Host node installation to copy into a base that has none: <prefix>/bin/node, lib/node_modules/npm, include/node. */
function hostNode(): { prefix: string } {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  for (const part of ['lib/node_modules/npm/package.json', 'include/node/node.h']) {
    if (!fs.existsSync(path.join(prefix, part))) {
      throw new SafeInstallError(
        'E_IMAGE_BUILD',
        `the host's node at ${prefix} has no ${part}, so it cannot be copied into the sandbox`,
        'pass --base-image with a Debian bookworm image that has node and its headers (an official node image)',
      );
    }
  }
  return { prefix };
}

export async function ensureSandboxImage(docker: Docker, opts: EnsureImageOptions = {}): Promise<SandboxImage> {
  const progress = opts.onProgress ?? (() => undefined);
  const sources = sandboxSources();
  const base = await resolveBaseImage(docker, opts.baseImage ?? process.env.SAFE_INSTALL_BASE_IMAGE, progress);
  const baseId = ((await docker.getImage(base.ref).inspect()) as { Id: string }).Id;
  const digest = crypto
    .createHash('sha256')
    .update(fs.readFileSync(sources.dockerfile))
    .update(fs.readFileSync(sources.runner))
    .update(fs.readFileSync(sources.sinkhole))
    .update(fs.readFileSync(sources.origdst))
    .update(baseId)
    .update(base.hasNode ? 'base-node' : `host-node ${process.version}`)
    .digest('hex')
    .slice(0, 16);
  const tag = `${SANDBOX_REPO}:${digest}`;
  if (!opts.rebuild && (await imageExists(docker, tag))) {
    return { tag, id: ((await docker.getImage(tag).inspect()) as { Id: string }).Id, base: base.ref };
  }

  const context = fs.mkdtempSync(path.join(os.tmpdir(), 'safe-install-image-'));
  try {
    fs.copyFileSync(sources.dockerfile, path.join(context, 'Dockerfile'));
    fs.copyFileSync(sources.runner, path.join(context, 'runner.mjs'));
    fs.copyFileSync(sources.sinkhole, path.join(context, 'sinkhole.mjs'));
    fs.copyFileSync(sources.origdst, path.join(context, 'origdst.c'));
    const nodeDir = path.join(context, 'node');
    fs.mkdirSync(nodeDir);
    if (!base.hasNode) {
      const { prefix } = hostNode();
      progress(`copying the host's node ${process.version} from ${prefix}`);
      fs.mkdirSync(path.join(nodeDir, 'bin'));
      fs.copyFileSync(process.execPath, path.join(nodeDir, 'bin', 'node'));
      fs.chmodSync(path.join(nodeDir, 'bin', 'node'), 0o755);
      fs.cpSync(path.join(prefix, 'lib', 'node_modules', 'npm'), path.join(nodeDir, 'lib', 'node_modules', 'npm'), {
        recursive: true,
        verbatimSymlinks: true,
      });
      fs.cpSync(path.join(prefix, 'include', 'node'), path.join(nodeDir, 'include', 'node'), { recursive: true });
    } else {
      fs.writeFileSync(path.join(nodeDir, '.keep'), '');
    }
    progress(`building ${tag} from ${base.ref}`);
    const stream = await docker.buildImage(tar.c({ cwd: context, portable: true }, ['.']) as unknown as NodeJS.ReadableStream, {
      t: tag,
      buildargs: { BASE_IMAGE: base.ref },
      rm: true,
      forcerm: true,
      labels: { 'org.safe-install.digest': digest },
    });
    await followProgress(docker, stream, (ev) => {
      const line = ev.stream?.trim();
      if (line) progress(line);
    });
  } catch (err) {
    if (err instanceof SafeInstallError) throw err;
    throw new SafeInstallError('E_IMAGE_BUILD', `building the sandbox image failed: ${describe(err)}`, 'run `safe-install setup` to see the full build output, and check that a Debian mirror is reachable', {
      cause: err,
    });
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  const id = ((await docker.getImage(tag).inspect()) as { Id: string }).Id;
  await removeStaleImages(docker, tag);
  return { tag, id, base: base.ref };
}

/** Older builds of the sandbox are dead weight (about 1 GB each) once a new one exists. */
async function removeStaleImages(docker: Docker, keep: string): Promise<void> {
  const images = await docker.listImages({ filters: JSON.stringify({ reference: [SANDBOX_REPO] }) }).catch(() => []);
  for (const image of images) {
    if ((image.RepoTags ?? []).includes(keep)) continue;
    await docker.getImage(image.Id).remove().catch(() => undefined);
  }
}
