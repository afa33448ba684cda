/**
 * Which process owns a sandbox container. A CLI killed outright (SIGKILL, a crash, the
 * machine's OOM killer) cannot remove its containers; the next session on the same machine
 * finds them by these labels and removes those whose owner is gone.
 */
import os from 'node:os';
import type Docker from 'dockerode';

const PID_LABEL = 'org.safe-install.pid';
const HOST_LABEL = 'org.safe-install.host';

export function ownerLabels(): Record<string, string> {
  return { [PID_LABEL]: String(process.pid), [HOST_LABEL]: os.hostname() };
}

/** Removes containers whose owning process on this machine no longer exists. */
export async function reapOrphans(docker: Docker): Promise<number> {
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [PID_LABEL, `${HOST_LABEL}=${os.hostname()}`] }) }).catch(() => []);
  let removed = 0;
  for (const c of containers) {
    const pid = Number(c.Labels?.[PID_LABEL]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    await docker.getContainer(c.Id).remove({ force: true, v: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
