import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { dir: string; version: string } | undefined;

/** The installed safe-install package (the repo in development): where its files are, and its version. */
export function packageRoot(): { dir: string; version: string } {
  if (cached) return cached;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'safe-install') return (cached = { dir, version: pkg.version ?? '0.0.0' });
    }
    if (path.dirname(dir) === dir) throw new Error('cannot find the safe-install package root');
  }
}
