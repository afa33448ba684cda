/**
 * Which process owns a sandbox container. A CLI killed outright (SIGKILL, a crash, the
 * machine's OOM killer) cannot remove its containers; the next session on the same machine
 * finds them by these labels and removes those whose owner is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { processAlive } from '../process-alive.js';

const PID_LABEL = 'org.safe-install.pid';
const HOST_LABEL = 'org.safe-install.host';

export function ownerLabels(): Record<string, string> {
  return { [PID_LABEL]: String(process.pid), [HOST_LABEL]: os.hostname() };
}

/**
 * Removes containers whose owning process on this machine no longer exists, and the host
 * folders they had mounted (tarballs, CA bundle, proxy socket) when those are temp folders of
 * ours: the names the container mounted say which, so nothing else in the temp dir is touched.
 */
export async function reapOrphans(docker: Docker, opts: { tempPrefixes?: readonly string[] } = {}): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [PID_LABEL, `${HOST_LABEL}=${os.hostname()}`] }) }).catch(() => []);
  let removed = 0;
  for (const c of containers) {
    const pid = Number(c.Labels?.[PID_LABEL]);
    if (!Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    const mounted = await docker.getContainer(c.Id).inspect().then(
      (info) => (info.Mounts ?? []).map((m) => m.Source),
      () => [] as string[],
    );
    for (const source of mounted) {
      const dir = ownTempDir(source, opts.tempPrefixes ?? []);
      if (dir) {
        fs.chmodSync(dir, 0o700);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    await docker.getContainer(c.Id).remove({ force: true, v: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** The temp folder of ours a mount source is, or is directly in; undefined for anything else. */
function ownTempDir(source: string, prefixes: readonly string[]): string | undefined {
  const tmp = os.tmpdir();
  for (const candidate of [source, path.dirname(source)]) {
    if (path.dirname(candidate) === tmp && prefixes.some((prefix) => path.basename(candidate).startsWith(prefix)) && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

