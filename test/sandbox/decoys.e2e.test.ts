/**
 * End to end: the decoys are really planted in the sandbox for every scan, a script reads them
 * as it would on a laptop, the chain records the reads, and the chain carries the canaries.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';
import { scan, type ScanResult } from '../../src/pipeline/scan.js';
import { startLocalRegistry } from '../helpers/local-registry.js';

const fixturesDir = path.join(packageRoot().dir, 'fixtures', 'npm', '@fixtures');
const HOME = '/home/alex';
let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let cache: string;

before(async () => {
  registry = await startLocalRegistry({ packages: [path.join(fixturesDir, 'decoy-reader')] });
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-test-cache-'));
});

after(async () => {
  await registry.close();
  fs.rmSync(cache, { recursive: true, force: true });
});

interface ReaderFacts {
  npmrc: number | string;
  sshKey: number | string;
  npmToken: number;
  dockerenv: boolean;
  hostname: string;
  whoami: string;
  tracerPid: number | null;
  init: string;
  tarballsListable: boolean | string;
}

async function readDecoys(): Promise<{ result: ScanResult; facts: ReaderFacts }> {
  const result = await scan({ specs: ['@fixtures/decoy-reader'], registry: registry.url, cache });
  const session = result.chain.packages.find((p) => p.info.name === '@fixtures/decoy-reader')!.session;
  const script = session.scripts[0]!;
  assert.equal(script.outcome, 'ok', `${script.reason ?? ''} ${script.stderr.head}`);
  return { result, facts: JSON.parse(script.stdout.head.trim()) as ReaderFacts };
}

describe('decoys in the sandbox', () => {
  test('a script finds the planted credentials, the chain records the reads and carries the canaries', async () => {
    const { result, facts } = await readDecoys();
    const { canaries } = result.chain;
    const bySource = (source: string) => canaries.filter((c) => c.source === source);

    const key = bySource(`${HOME}/.ssh/id_ed25519`).find((c) => c.kind === 'ssh private key (ed25519)');
    assert.ok(key, 'the whole key is a canary');
    assert.equal(facts.sshKey, Buffer.byteLength(key.value), 'the key file holds exactly the planted key');

    const envToken = bySource('env:NPM_TOKEN')[0];
    assert.ok(envToken);
    assert.match(envToken.value, /^npm_[0-9A-Za-z]{36}$/);
    assert.equal(facts.npmToken, envToken.value.length);

    const npmrcTokens = bySource(`${HOME}/.npmrc`);
    assert.equal(npmrcTokens.length, 2);
    const tokenLine = `//registry.npmjs.org/:_authToken=${npmrcTokens[0]!.value}\n`;
    assert.equal(typeof facts.npmrc, 'number');
    assert.ok((facts.npmrc as number) > tokenLine.length + npmrcTokens[1]!.value.length, `.npmrc is ${facts.npmrc} bytes`);

    const session = result.chain.packages[0]!.session;
    for (const file of [`${HOME}/.npmrc`, `${HOME}/.ssh/id_ed25519`]) {
      assert.ok(
        session.files.some((f) => f.op === 'read' && f.result === 'ok' && f.path === file),
        `a successful read of ${file} is in the chain`,
      );
    }

    assert.ok(canaries.length >= 40, `${canaries.length} canaries`);
    assert.equal(new Set(canaries.map((c) => c.value)).size, canaries.length, 'every value is unique');
    assert.equal(new Set(canaries.map((c) => c.id)).size, canaries.length);
  });

  test('what a sandbox probe sees: the laptop identity, and the container facts that remain (docs/sandbox-detection.md)', async () => {
    const { facts } = await readDecoys();
    assert.equal(facts.hostname, 'alex-thinkpad');
    assert.equal(facts.whoami, 'alex');
    assert.equal(facts.init, 'init', 'PID 1 is not named docker-init');
    assert.equal(facts.tarballsListable, 'EACCES', 'the inputs cannot be listed');
    // Known and documented: Docker always creates /.dockerenv, and strace is a visible tracer.
    assert.equal(facts.dockerenv, true);
    assert.ok(typeof facts.tracerPid === 'number' && facts.tracerPid > 0);
  });

  test('every scan plants fresh values', async () => {
    const [a, b] = [await readDecoys(), await readDecoys()];
    const first = new Set(a.result.chain.canaries.map((c) => c.value));
    assert.deepEqual(
      b.result.chain.canaries.filter((c) => first.has(c.value)),
      [],
    );
  });
});
