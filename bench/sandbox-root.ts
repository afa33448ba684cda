/**
 * `npm run bench:sandbox-root`: a project whose own `prepare` bundles its sources with esbuild
 * (a dependency), installed by plain `npm install` (prepare on the host) and by
 * `safe-install install --sandbox-root` (prepare in the sandbox, on the whole installed tree,
 * packed and laid out there). Same project as bench:install otherwise; with a warm verdict
 * cache only the project's own script still starts a container.
 */
import { compareInstalls, runBench } from './install-comparison.js';

runBench(
  compareInstalls({
    label: 'npm install (prepare on the host)',
    baseline: ['npm', 'install', '--no-audit', '--no-fund'],
    safeInstall: ['install', '--yes', '--sandbox-root'],
    manifest: { scripts: { prepare: 'esbuild src/index.js --bundle --platform=node --outfile=dist/index.js --log-level=warning' } },
    projectFiles: {
      'src/index.js': "const express = require('express');\nconst { v4 } = require('uuid');\nmodule.exports = () => express().get('/', (_req, res) => res.send(v4()));\n",
    },
    sandboxWhenWarm: true,
    env: () => ({ ...process.env, NO_COLOR: '1' }),
    cacheName: 'npm cache',
    describe: () => ({
      project: 'the bench:install project, plus a prepare that bundles src/ with esbuild',
      headline: 'bench:install project + esbuild prepare, --sandbox-root',
    }),
  }),
);
