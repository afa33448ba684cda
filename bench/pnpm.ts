/**
 * `npm run bench:pnpm`: `safe-install pnpm install` against plain `pnpm install` (the pnpm
 * pinned in devDependencies) on the same real project as bench:install, in the same run with
 * the same warm pnpm store. allowBuilds lets pnpm build the five packages with install
 * scripts (esbuild, core-js, bufferutil, utf-8-validate, @swc/core), so both sides build them:
 * plain pnpm on this machine, safe-install in the sandbox. Plain pnpm keeps build results in
 * its store (side-effects cache) after the warm-up, which is its own warm path. How it
 * measures: bench/install-comparison.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/package-root.js';
import { compareInstalls, runBench } from './install-comparison.js';

const ALLOWED_BUILDS = ['esbuild', 'core-js', 'bufferutil', 'utf-8-validate', '@swc/core'];
const pnpm = path.join(packageRoot().dir, 'node_modules', '.bin', 'pnpm');

runBench(
  compareInstalls({
    label: 'pnpm install',
    baseline: [pnpm, 'install', '--reporter=append-only'],
    safeInstall: ['pnpm', 'install', '--yes'],
    projectFiles: { 'pnpm-workspace.yaml': `allowBuilds:\n${ALLOWED_BUILDS.map((n) => `  '${n}': true`).join('\n')}\n` },
    env: (tmp) => ({ ...process.env, NO_COLOR: '1', PATH: `${path.dirname(pnpm)}${path.delimiter}${process.env.PATH ?? ''}`, npm_config_store_dir: path.join(tmp, 'store') }),
    cacheName: 'pnpm store',
    describe: (dir) => {
      const lock = fs.readFileSync(path.join(dir, 'pnpm-lock.yaml'), 'utf8');
      const packages = [...lock.split('\nsnapshots:')[1]!.matchAll(/^ {2}\S.*:/gm)].length;
      return {
        project: `${packages} packages, builds allowed for ${ALLOWED_BUILDS.join(', ')}`,
        headline: `${packages} packages, ${ALLOWED_BUILDS.length} builds allowed`,
      };
    },
  }),
);
