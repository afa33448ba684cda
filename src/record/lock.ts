/**
 * A lock file beside the store, so concurrent writers (two terminals, an agent running
 * installs in parallel) append one at a time and never chain two records to the same parent.
 * O_EXCL creation is atomic on local file systems; a lock whose owner died is taken over.
 */
import fs from 'node:fs';
import { SafeInstallError } from '../errors/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function ownerAlive(lockPath: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(lockPath, 'utf8').split('\n')[0]);
  } catch {
    return true; // gone or being written: try again rather than steal it
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    // Created but not yet filled in by its owner: only stale when old.
    try {
      return Date.now() - fs.statSync(lockPath).mtimeMs < 10_000;
    } catch {
      return true;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(lockPath: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let fd: number | undefined;
  for (let wait = 5; fd === undefined; wait = Math.min(wait * 2, 100)) {
    try {
      fd = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SafeInstallError('E_RECORD', `cannot lock the record store (${lockPath}): ${(err as Error).message}`, 'check that the state directory is writable');
      }
      if (!ownerAlive(lockPath)) {
        // Its owner died holding it. Rename-then-remove so two waiters cannot both "remove" a fresh lock.
        const stale = `${lockPath}.stale.${process.pid}`;
        try {
          fs.renameSync(lockPath, stale);
          fs.rmSync(stale, { force: true });
        } catch {
          /* another waiter took it over first */
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new SafeInstallError('E_RECORD', `the record store is locked by another safe-install (${lockPath})`, 'wait for it to finish; if none runs, remove the lock file');
      }
      await sleep(wait + Math.random() * wait);
    }
  }
  try {
    return await fn();
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lockPath, { force: true });
  }
}
