/**
 * The CLI loads the policy before anything else: a bad one fails in milliseconds with exit 2,
 * pointing at the file and line, without resolving (no registry is contacted).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { folder, lines, tempDir } from './support.js';

const bin = path.join(packageRoot().dir, 'bin', 'safe-install');
// Nothing listens here: were the scan to start resolving, it would fail differently.
const DEAD_REGISTRY = 'http://127.0.0.1:9/';

function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, XDG_CONFIG_HOME: tempDir('si-xdg-') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

describe('safe-install scan with a policy', () => {
  test('--policy bad.yaml exits 2 with bad.yaml:<line>: on stderr, before resolving', async () => {
    const dir = folder({ 'bad.yaml': lines('failOn: review', 'rules:', '  shel-spawn: off') });
    const r = await run(['scan', '@fixtures/net-connect', '--registry', DEAD_REGISTRY, '--policy', 'bad.yaml'], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^safe-install: bad\.yaml:3: rules: shel-spawn is not a rule id\n {2}hint: did you mean shell-spawn\?/m);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /resolv|registry|127\.0\.0\.1/i);
  });

  test('the project policy of the working directory is read', async () => {
    const dir = folder({ 'safe-install.config.json': '{\n  "packages": {\n    "esbuild@latest": {}\n  }\n}\n' });
    const r = await run(['scan', 'esbuild', '--registry', DEAD_REGISTRY], dir);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^safe-install: safe-install\.config\.json:3: packages\."esbuild@latest": "latest" is not a semver range$/m);
  });

  test('a missing --policy file exits 2', async () => {
    const r = await run(['scan', 'esbuild', '--registry', DEAD_REGISTRY, '--policy', 'nope.yaml'], tempDir());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /policy file nope\.yaml does not exist/);
  });
});
