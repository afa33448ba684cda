/** What the rules ask about processes: which programs a process ran, and under which script. */
import { posix } from 'node:path';
import type { PackageSession, ProcessEvent, ScriptRun } from '../session/types.js';

export interface RanImage {
  /** Index in `process.images` (0 when the process recorded no exec of its own). */
  index: number;
  path: string | null;
  argv: string[];
}

/**
 * Every image a process ran. A process that exec'd several times (`sh -c 'exec node x'`) is
 * judged on each image, not only the last, or a shell could hide behind what it exec'd.
 */
export function imagesOf(process: ProcessEvent): RanImage[] {
  if (process.images.length === 0) return [{ index: 0, path: process.exe, argv: process.argv }];
  return process.images.map((image, index) => ({ index, path: image.path, argv: image.argv }));
}

/** Basenames of the executable and of argv[0]: either may be the telling one (symlinks, busybox). */
export function programNames(image: RanImage): string[] {
  const names = new Set<string>();
  if (image.path) names.add(posix.basename(image.path));
  const argv0 = image.argv[0];
  if (argv0) names.add(posix.basename(argv0));
  return [...names];
}

export function scriptProcesses(session: PackageSession, script: ScriptRun): ProcessEvent[] {
  return session.processes.filter((process) => process.scriptId === script.id);
}

/**
 * The `sh -c '<script>'` that npm itself wraps every lifecycle script in: the package did not
 * choose that shell, so it must not count as the package spawning one.
 */
export function isLifecycleWrapper(process: ProcessEvent, image: RanImage, script: ScriptRun): boolean {
  return (
    process.id === script.rootProcess &&
    image.index === 0 &&
    image.argv.length >= 3 &&
    image.argv[image.argv.length - 1] === script.command
  );
}

/**
 * The image a process was running at `time`. Before its first exec it ran what its parent ran,
 * which the event does not keep: its first image stands in.
 */
export function imageAt(process: ProcessEvent, time: number): RanImage {
  let found: RanImage = { index: 0, path: process.exe, argv: process.argv };
  if (process.images.length > 0) found = { index: 0, path: process.images[0]?.path ?? null, argv: process.images[0]?.argv ?? [] };
  process.images.forEach((image, index) => {
    if (image.time <= time) found = { index, path: image.path, argv: image.argv };
  });
  return found;
}
