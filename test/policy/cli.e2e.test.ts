/**
 * A real scan (local registry, real sandbox) with a project policy: the policy changes the
 * verdict and the exit code, and its failOn stands in for a missing --fail-on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { startLocalRegistry } from '../helpers/local-registry.js';
import { folder, lines, tempDir } from './support.js';

const root = packageRoot().dir;
const bin = path.join(root, 'bin', 'safe-install');
let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let cache: string;

before(async () => {
  registry = await startLocalRegistry({ packages: [path.join(root, 'fixtures', 'npm', '@fixtures', 'detached')] });
  cache = tempDir('si-policy-cache-');
});

after(async () => {
  await registry.close();
  fs.rmSync(cache, { recursive: true, force: true });
});

// Async: the local registry serves from this very process.
function scan(cwd: string, ...extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'scan', '@fixtures/detached', '--registry', registry.url, '--json', '--quiet', ...extra], {
      cwd,
      env: { ...process.env, npm_config_cache: cache, XDG_CONFIG_HOME: tempDir('si-xdg-') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const verdictOf = (stdout: string): string => (JSON.parse(stdout) as { verdict: string }).verdict;

describe('scan with a project policy', () => {
  test('without a policy: review, exit 1 without a TTY', async () => {
    const r = await scan(tempDir());
    assert.equal(verdictOf(r.stdout), 'review', r.stderr);
    assert.equal(r.code, 1);
  });

  test('failOn: block from the policy lets review pass; --fail-on still wins', async () => {
    const dir = folder({ 'safe-install.config.yaml': lines('failOn: block') });
    const r = await scan(dir);
    assert.equal(verdictOf(r.stdout), 'review', r.stderr);
    assert.equal(r.code, 0);
    assert.equal((await scan(dir, '--fail-on', 'review')).code, 1);
  });

  test('a rule turned off for the package by range makes it allow', async () => {
    const dir = folder({ 'safe-install.config.yaml': lines('packages:', '  "@fixtures/detached@^1":', '    rules: { detached-process: off }') });
    const r = await scan(dir);
    assert.equal(verdictOf(r.stdout), 'allow', r.stderr);
    assert.equal(r.code, 0);
  });
});
