/**
 * `npm run bench:install`: safe-install's install against plain `npm install` on a real
 * project from the real npm registry (about 110 packages, five of them with install scripts:
 * esbuild, core-js, bufferutil, utf-8-validate, @swc/core), in the same run with the same warm
 * npm cache. How it measures: bench/install-comparison.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compareInstalls, runBench } from './install-comparison.js';

runBench(
  compareInstalls({
    label: 'npm install',
    baseline: ['npm', 'install', '--no-audit', '--no-fund'],
    safeInstall: ['install', '--yes'],
    env: () => ({ ...process.env, NO_COLOR: '1' }),
    cacheName: 'npm cache',
    describe: (dir) => {
      const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
      const locations = Object.keys(lock.packages).filter((l) => l !== '');
      const scripted = locations.filter((l) => lock.packages[l]!.hasInstallScript).map((l) => l.replace(/^.*node_modules\//, ''));
      return {
        project: `${locations.length} packages, ${scripted.length} with install scripts (${scripted.join(', ')})`,
        headline: `${locations.length} packages, ${scripted.length} with install scripts`,
      };
    },
  }),
);
