import fs from 'node:fs';
import Docker from 'dockerode';
import { SafeInstallError, describe } from '../errors/index.js';

const START_HINT =
  'start the Docker engine (`sudo systemctl start docker`, or run `dockerd` as root), or point DOCKER_HOST at a running one';

/** Connects to the Docker engine (DOCKER_HOST or the local socket) and checks it answers. */
export async function connectDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    await withTimeout(docker.ping(), 5000);
  } catch (err) {
    const socket = '/var/run/docker.sock';
    const installed = process.env.DOCKER_HOST !== undefined || fs.existsSync(socket) || onPath('dockerd') || onPath('docker');
    if (!installed) {
      throw new SafeInstallError(
        'E_DOCKER_MISSING',
        'Docker is not installed: safe-install runs install scripts in a Docker sandbox',
        'install Docker (Debian/Ubuntu: `sudo apt-get install docker.io`), start it, then try again',
        { cause: err },
      );
    }
    const where = process.env.DOCKER_HOST ?? socket;
    throw new SafeInstallError('E_DOCKER_UNREACHABLE', `Docker is not reachable at ${where} (${describe(err)})`, START_HINT, {
      cause: err,
    });
  }
  return docker;
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && fs.existsSync(`${dir}/${bin}`));
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Follows a build/pull/import progress stream to its end, surfacing the daemon's error messages. */
export function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (ev: { stream?: string; status?: string; progress?: string; id?: string }) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        if (err) return reject(err);
        const failed = output.find((o) => o.error || o.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
        resolve();
      },
      onEvent,
    );
  });
}
