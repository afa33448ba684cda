/**
 * Resources a session must not leave behind (containers, networks, temp dirs), so that an
 * interrupted run (Ctrl-C, SIGTERM) can still remove them before the process exits.
 */
type Disposer = () => Promise<void>;

const disposers = new Set<Disposer>();

export function onCleanup(dispose: Disposer): () => void {
  disposers.add(dispose);
  return () => disposers.delete(dispose);
}

export async function cleanupAll(): Promise<void> {
  const pending = [...disposers];
  disposers.clear();
  await Promise.allSettled(pending.map((d) => d()));
}
