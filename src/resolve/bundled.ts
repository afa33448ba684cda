/**
 * Bundled dependencies ship inside their bundler's tarball, not as tarballs of their own, and
 * npm runs their install scripts too. Fetching them from the registry instead would scan
 * different bytes than npm installs, so each bundled folder is cut out of the bundler's
 * verified tarball and packed as a tarball of its own (`package/` prefix, like npm pack).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { extractedPath } from './tarball-reader.js';

export interface RepackedBundle {
  tarball: string;
  /** `sha512-…` of the repacked tarball (derived from the bundler's verified bytes). */
  integrity: string;
}

/**
 * Extracts the bundler's `node_modules/` (links skipped, as pacote does) into `scratchDir`,
 * then packs each requested folder into `destFor(folder)`.
 */
export async function repackBundled(
  bundlerTarball: string,
  folders: readonly string[],
  scratchDir: string,
  destFor: (folder: string) => string,
): Promise<Map<string, RepackedBundle>> {
  await mkdir(scratchDir, { recursive: true });
  await tar.x({
    file: bundlerTarball,
    cwd: scratchDir,
    strip: 1,
    preserveOwner: false,
    noMtime: true,
    filter: (path, entry) => {
      const type = 'type' in entry ? entry.type : '';
      return !/Link$/.test(type) && (extractedPath(path)?.startsWith('node_modules/') ?? false);
    },
  });

  const out = new Map<string, RepackedBundle>();
  for (const folder of folders) {
    const cwd = join(scratchDir, folder);
    const dest = destFor(folder);
    const entries = (await readdir(cwd)).sort();
    await tar.c({ file: dest, cwd, gzip: true, portable: true, prefix: 'package' }, entries);
    const integrity = 'sha512-' + createHash('sha512').update(await readFile(dest)).digest('base64');
    out.set(folder, { tarball: dest, integrity });
  }
  return out;
}
