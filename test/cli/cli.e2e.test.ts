/**
 * The command line as users and CI run it: the real bin, a real (local) registry, the real
 * sandbox. Checks the contracts: exit codes, JSON on stdout only, one-line errors with a hint.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { validateReport } from '../../src/report/schema.js';
import { startLocalRegistry } from '../helpers/local-registry.js';

const root = packageRoot().dir;
const bin = path.join(root, 'bin', 'safe-install');
const fixturesDir = path.join(root, 'fixtures', 'npm', '@fixtures');
let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let cache: string;

before(async () => {
  registry = await startLocalRegistry({ packages: fs.readdirSync(fixturesDir).map((name) => path.join(fixturesDir, name)) });
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-cli-cache-'));
});

after(async () => {
  await registry.close();
  fs.rmSync(cache, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Async, not spawnSync: the local registry serves from this very process.
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, npm_config_cache: cache, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('safe-install: '));

describe('safe-install CLI', () => {
  test('scan --json prints one valid report on stdout and exits 1 on block', async () => {
    const r = await run(['scan', '@fixtures/net-connect', '--registry', registry.url, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { verdict: string; schemaVersion: number; packages: { name: string; findings: { rule: string }[] }[] };
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.verdict, 'block');
    assert.deepEqual(validateReport(report).errors, []);
    const pkg = report.packages.find((p) => p.name === '@fixtures/net-connect')!;
    assert.ok(pkg.findings.some((f) => f.rule === 'network-egress'));
    assert.match(r.stderr, /sandboxing 1\/1 @fixtures\/net-connect@1\.0\.0 postinstall/, 'progress goes to stderr');
  });

  test('scan of a benign package prints the tree and exits 0', async () => {
    const r = await run(['scan', '@fixtures/shell-pipeline', '--registry', registry.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /@fixtures\/shell-pipeline@1\.0\.0 +ALLOW/);
    assert.match(r.stdout, /└─ tr a-z A-Z|├─ tr a-z A-Z/);
    assert.match(r.stdout, /Verdict: ALLOW/);
  });

  test('review exits 1 without a TTY, 0 with --fail-on block', async () => {
    const review = await run(['scan', '@fixtures/detached', '--registry', registry.url, '--json']);
    assert.equal((JSON.parse(review.stdout) as { verdict: string }).verdict, 'review');
    assert.equal(review.code, 1);
    const lenient = await run(['scan', '@fixtures/detached', '--registry', registry.url, '--json', '--fail-on', 'block']);
    assert.equal(lenient.code, 0);
  });

  test('an unknown package is a one-line error with a hint and exit 2', async () => {
    const r = await run(['scan', '@fixtures/does-not-exist', '--registry', registry.url, '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /@fixtures\/does-not-exist/);
    assert.match(r.stderr, /hint: /);
  });

  test('an error naming something with terminal escapes shows them, never obeys them', async () => {
    const r = await run(['frob\u001b[2J\u001b]0;owned\u0007']);
    assert.equal(r.code, 2);
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.stderr), JSON.stringify(r.stderr));
    assert.match(r.stderr, /unknown command "frob\\x1b\[2J\\x1b\]0;owned\\x07"/);
  });

  test('a directory that is not a package is exit 2', async () => {
    const r = await run(['scan', path.join(root, 'fixtures', 'bad', 'not-a-package')]);
    assert.equal(r.code, 2);
    assert.equal(errorLines(r.stderr).length, 1);
  });

  test('Docker unreachable is exit 2 and says how to start it and mentions DOCKER_HOST', async () => {
    const r = await run(['scan', '@fixtures/shell-pipeline', '--registry', registry.url], { DOCKER_HOST: 'unix:///tmp/safe-install-no-docker.sock' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Docker is not reachable/);
    assert.match(r.stderr, /DOCKER_HOST/);
    assert.match(r.stderr, /dockerd|systemctl start docker/);
  });

  test('a package without install-time code needs no Docker at all', async () => {
    const r = await run(['scan', '@fixtures/no-scripts', '--registry', registry.url, '--json'], { DOCKER_HOST: 'unix:///tmp/safe-install-no-docker.sock' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { verdict: string }).verdict, 'allow');
  });

  test('bad flags are usage errors with exit 2', async () => {
    assert.equal((await run(['scan', '--bogus', 'x'])).code, 2);
    assert.equal((await run(['scan', 'x', '--fail-on', 'maybe'])).code, 2);
    assert.equal((await run(['scan'])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
  });
});
