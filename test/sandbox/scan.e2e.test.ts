/**
 * End to end: real fixture packages served by a real (local) npm registry, resolved with
 * arborist, fetched with pacote, run in the real sandbox container under real strace.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { scan, type ScanResult } from '../../src/pipeline/scan.js';
import { packageRoot } from '../../src/package-root.js';
import { buildJsonReport } from '../../src/report/json.js';
import { validateReport } from '../../src/report/schema.js';
import { CA_DIR_PREFIX, INPUT_DIR_PREFIX } from '../../src/sandbox/container.js';
import type { PlanLimits } from '../../src/sandbox/plan.js';
import type { PackageSession, ProcessEvent } from '../../src/session/types.js';
import { startLocalRegistry } from '../helpers/local-registry.js';

const fixturesDir = path.join(packageRoot().dir, 'fixtures', 'npm', '@fixtures');
let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let cache: string;

before(async () => {
  registry = await startLocalRegistry({ packages: fs.readdirSync(fixturesDir).map((name) => path.join(fixturesDir, name)) });
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-test-cache-'));
});

after(async () => {
  await registry.close();
  fs.rmSync(cache, { recursive: true, force: true });
});

async function scanFixture(name: string, limits?: Partial<PlanLimits>): Promise<ScanResult> {
  return scan({ specs: [`@fixtures/${name}`], registry: registry.url, cache, ...(limits ? { limits } : {}) });
}

function sessionOf(result: ScanResult, name: string): PackageSession {
  const entry = result.chain.packages.find((p) => p.info.name === `@fixtures/${name}`);
  assert.ok(entry, `package @fixtures/${name} is in the chain`);
  return entry.session;
}

function byArgv(session: PackageSession, first: string): ProcessEvent[] {
  return session.processes.filter((p) => path.basename(p.argv[0] ?? '') === first);
}

function rules(result: ScanResult, name: string): string[] {
  const loc = result.chain.packages.find((p) => p.info.name === `@fixtures/${name}`)!.info.location;
  return result.assessment.packages.find((p) => p.location === loc)!.findings.map((f) => f.rule);
}

function peakConcurrency(processes: ProcessEvent[]): number {
  const edges = processes.flatMap((p) => [
    [p.startedAt, 1],
    [p.endedAt ?? Number.POSITIVE_INFINITY, -1],
  ]) as [number, number][];
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, delta] of edges) peak = Math.max(peak, (now += delta));
  return peak;
}

const pkgDir = (name: string): string => `/home/alex/code/webapp/node_modules/@fixtures/${name}`;

describe('sandbox scan', () => {
  test('a package with no install-time code is reported without starting a container', async () => {
    const result = await scanFixture('no-scripts');
    assert.equal(result.chain.sandbox, null);
    assert.deepEqual(
      result.chain.packages.map((p) => p.info.name).sort(),
      ['@fixtures/no-scripts', '@fixtures/no-scripts-dep'],
    );
    assert.ok(result.chain.packages.every((p) => p.session.scripts.length === 0));
    assert.equal(result.assessment.verdict, 'allow');
  });

  test('a shell pipeline is recorded as a process tree with its writes', async () => {
    const result = await scanFixture('shell-pipeline');
    const session = sessionOf(result, 'shell-pipeline');
    assert.equal(session.scripts.length, 1);
    const script = session.scripts[0]!;
    assert.equal(script.event, 'postinstall');
    assert.equal(script.outcome, 'ok');
    assert.equal(script.exitCode, 0);
    const root = session.processes.find((p) => p.id === script.rootProcess);
    assert.ok(root, 'the script has a root process');
    assert.deepEqual(root.argv.slice(0, 2), ['/bin/sh', '-c']);
    const [tr] = byArgv(session, 'tr');
    const [wc] = byArgv(session, 'wc');
    assert.ok(tr && wc, 'tr and wc ran');
    assert.deepEqual(tr.argv, ['tr', 'a-z', 'A-Z']);
    // The pipeline runs in the inner `sh -c "echo ... "` started by the script's own shell.
    const inner = session.processes.find((p) => p.id === tr.parentId)!;
    assert.equal(path.basename(inner.argv[0]!), 'sh');
    assert.equal(wc.parentId, inner.id);
    assert.equal(inner.parentId, root.id);
    const out = session.files.find((f) => f.path === `${pkgDir('shell-pipeline')}/out.txt`);
    assert.ok(out, 'the write of out.txt is recorded');
    assert.equal(out.op, 'create');
    assert.equal(out.result, 'ok');
    assert.ok(rules(result, 'shell-pipeline').includes('shell-spawn'));
  });

  test('file reads, writes, renames and deletes are attributed to the process that made them', async () => {
    const result = await scanFixture('file-io');
    const session = sessionOf(result, 'file-io');
    const node = byArgv(session, 'node')[0]!;
    assert.deepEqual(node.argv, ['node', 'install.js']);
    assert.equal(node.cwd, pkgDir('file-io'));
    const find = (op: string, p: string) => session.files.find((f) => f.op === op && f.path === p);
    const npmrc = find('read', '/home/alex/.npmrc');
    assert.ok(npmrc, 'the attempt to read ~/.npmrc is recorded');
    assert.equal(npmrc.processId, node.id);
    assert.ok(find('create', `${pkgDir('file-io')}/build/result.json`));
    assert.ok(find('create', '/tmp/fixture-tmp.txt'));
    assert.ok(session.files.some((f) => f.op === 'rename' && f.path.startsWith(pkgDir('file-io')) && f.target?.startsWith(pkgDir('file-io'))));
    assert.ok(session.files.some((f) => f.op === 'delete' && f.path.startsWith(pkgDir('file-io'))));
    assert.ok(rules(result, 'file-io').includes('credential-access'));
  });

  test('network attempts are recorded with destination, protocol, payload and result', async () => {
    const result = await scanFixture('net-connect');
    const session = sessionOf(result, 'net-connect');
    const tcp = session.connections.find((c) => c.address === '192.0.2.1' && c.port === 443);
    assert.ok(tcp, 'the TCP connect is recorded');
    assert.equal(tcp.protocol, 'tcp');
    assert.equal(tcp.syscall, 'connect');
    // The monitored network answers: a non-blocking connect is under way, and the sinkhole
    // (not the internet) accepted it, under the address the script asked for.
    assert.equal(tcp.result, 'EINPROGRESS');
    assert.ok(tcp.observed, 'the sinkhole saw the connection');
    const udp = session.connections.find((c) => c.address === '192.0.2.53' && c.port === 53);
    assert.ok(udp, 'the UDP datagram is recorded');
    assert.equal(udp.protocol, 'udp');
    assert.match(udp.payload ?? '', /hello-from-fixture/);
    assert.equal(result.chain.sandbox?.network, 'monitored');
    const node = session.processes.find((p) => p.id === tcp.processId)!;
    assert.deepEqual(node.argv, ['node', 'connect.js']);
    assert.ok(rules(result, 'net-connect').includes('network-egress'));
    assert.notEqual(result.assessment.verdict, 'allow');
  });

  test('a dependency runs its postinstall before its dependent, each attributed to its own package', async () => {
    const result = await scanFixture('with-dep');
    const dep = sessionOf(result, 'dep-postinstall');
    const top = sessionOf(result, 'with-dep');
    assert.equal(dep.scripts[0]?.outcome, 'ok');
    assert.equal(top.scripts[0]?.outcome, 'ok', 'the dependent could require its dependency');
    assert.ok(dep.scripts[0]!.endedAt <= top.scripts[0]!.startedAt, 'dependency first');
    assert.ok(dep.files.some((f) => f.op === 'create' && f.path === `${pkgDir('dep-postinstall')}/marker.txt`));
    assert.ok(!top.files.some((f) => f.path.endsWith('/marker.txt') && f.op === 'create'));
  });

  test("a native addon with binding.gyp is built by npm's implicit node-gyp rebuild", async () => {
    const result = await scanFixture('native-addon');
    const session = sessionOf(result, 'native-addon');
    const script = session.scripts[0]!;
    assert.equal(script.event, 'install');
    assert.equal(script.implicit, true);
    assert.equal(script.command, 'node-gyp rebuild');
    assert.equal(script.outcome, 'ok', `node-gyp failed: ${script.stderr.head.slice(-500)}`);
    assert.ok(session.processes.some((p) => ['g++', 'cc1plus'].includes(path.basename(p.argv[0] ?? ''))), 'the compiler ran');
    // node-gyp's Makefile hard-links the linker's output into build/Release.
    const built = `${pkgDir('native-addon')}/build/Release/obj.target/addon.node`;
    assert.ok(session.files.some((f) => f.path === built && f.op === 'create' && f.result === 'ok'));
    assert.ok(session.files.some((f) => f.path === `${pkgDir('native-addon')}/build/Release/addon.node` && f.op === 'link' && f.target === built));
    assert.ok(rules(result, 'native-addon').includes('native-build'));
  });

  test('a process that outlives its script is watched for the grace period and recorded', async () => {
    const result = await scanFixture('detached', { graceMs: 4000 });
    const session = sessionOf(result, 'detached');
    const late = session.files.find((f) => f.path === '/tmp/late.txt' && f.op === 'create');
    assert.ok(late, 'the late write one second after the script ended is still caught');
    const writer = session.processes.find((p) => p.id === late.processId)!;
    assert.equal(writer.outlivedScript, true);
    assert.ok(rules(result, 'detached').includes('detached-process'));
  });

  test('a hanging script is stopped at the timeout and never allowed', async () => {
    const result = await scanFixture('hang', { scriptTimeoutMs: 3000, graceMs: 500 });
    const script = sessionOf(result, 'hang').scripts[0]!;
    assert.equal(script.outcome, 'timeout');
    assert.ok(script.endedAt - script.startedAt < 10, 'stopped promptly');
    assert.ok(rules(result, 'hang').includes('timeout'));
    assert.notEqual(result.assessment.verdict, 'allow');
  });

  test('a native build still compiling at the script limit goes on, up to the build limit', async () => {
    const result = await scanFixture('slow-build', { scriptTimeoutMs: 3000 });
    const script = sessionOf(result, 'slow-build').scripts[0]!;
    assert.equal(script.outcome, 'ok', `${script.reason ?? ''} ${script.stderr.head.slice(-300)}`);
    assert.ok(script.endedAt - script.startedAt > 6, 'it ran well past the 3 s script limit');
    assert.ok(!rules(result, 'slow-build').includes('timeout'));
    assert.equal(result.assessment.verdict, 'allow');

    const capped = await scanFixture('slow-build', { scriptTimeoutMs: 2000, buildTimeoutMs: 4000, graceMs: 500 });
    const stopped = sessionOf(capped, 'slow-build').scripts[0]!;
    assert.equal(stopped.outcome, 'timeout');
    assert.match(stopped.reason ?? '', /did not finish within 4 s, the limit for a script still compiling \(2 s for others\)/);
    assert.ok(stopped.endedAt - stopped.startedAt < 8, 'stopped at the build limit');
    assert.ok(rules(capped, 'slow-build').includes('timeout'));
    assert.equal(capped.assessment.verdict, 'block');
  });

  test('a "compiler" that does no work does not stretch the limit', async () => {
    const result = await scanFixture('idle-compiler', { scriptTimeoutMs: 3000, graceMs: 500 });
    const session = sessionOf(result, 'idle-compiler');
    const script = session.scripts[0]!;
    assert.ok(session.processes.some((p) => p.argv[0] === './cc1'), 'the fake compiler ran');
    assert.equal(script.outcome, 'timeout');
    assert.equal(script.reason, 'did not finish within 3 s');
    assert.ok(script.endedAt - script.startedAt < 8, 'stopped at the script limit');
    assert.equal(result.assessment.verdict, 'block');
  });

  test('a script that floods its output is stopped with a recorded finding', async () => {
    const result = await scanFixture('flood');
    const script = sessionOf(result, 'flood').scripts[0]!;
    assert.equal(script.outcome, 'killed');
    assert.match(script.reason ?? '', /MiB of output/);
    assert.ok(script.stdout.truncated);
    assert.ok(script.stdout.head.length <= 16 * 1024);
    assert.ok(rules(result, 'flood').includes('sandbox-error'));
    assert.notEqual(result.assessment.verdict, 'allow');
  });

  test('a fork bomb hits the pids limit and is stopped', async () => {
    const result = await scanFixture('fork-bomb', { scriptTimeoutMs: 6000, graceMs: 500 });
    const session = sessionOf(result, 'fork-bomb');
    const script = session.scripts[0]!;
    assert.equal(script.outcome, 'timeout');
    const peak = peakConcurrency(session.processes);
    assert.ok(peak > 200, `the bomb really forked (peak ${peak} processes at once)`);
    assert.ok(peak <= 512, `never more processes at once than the pids limit (peak ${peak})`);
    assert.ok(session.processes.every((p) => p.endedAt !== null), 'every process ended or was killed');
    assert.ok(session.processes.some((p) => p.killedBySandbox));
    assert.notEqual(result.assessment.verdict, 'allow');
  });

  test('the sandbox is hardened: unprivileged, no capabilities, read-only root, only the sinkhole to talk to, no Docker socket', async () => {
    const result = await scanFixture('sandbox-probe');
    const script = sessionOf(result, 'sandbox-probe').scripts[0]!;
    const line = /SANDBOX-PROBE (.*)/.exec(script.stdout.head)?.[1];
    assert.ok(line, `probe output: ${script.stdout.head} ${script.stderr.head}`);
    const facts = JSON.parse(line) as Record<string, unknown>;
    assert.equal(facts.uid, 1000);
    assert.equal(facts.capEff, '0000000000000000');
    assert.equal(facts.capBnd, '0000000000000000');
    assert.equal(facts.noNewPrivs, '1');
    assert.equal(facts.writeRootfs, 'EROFS');
    assert.equal(facts.writeEtc, 'EROFS');
    assert.equal(facts.writeOwnFolder, 'ok');
    assert.equal(facts.dockerSocket, false);
    // The sinkhole's namespace has loopback only: every connection ends at the sinkhole, which
    // accepts it; no interface leads anywhere else.
    assert.deepEqual(facts.interfaces, ['lo']);
    assert.equal(facts.connect, 'connected');
    assert.notEqual(facts.memoryLimit, '9223372036854771712', 'a memory limit is set');
    assert.match(String(facts.pidsLimit), /^\d+$/);
  });

  test('the JSON report of a real scan validates against the schema', async () => {
    const result = await scanFixture('net-connect');
    const report = buildJsonReport({ chain: result.chain, assessment: result.assessment, tool: { name: 'safe-install', version: '0.0.0-test' } });
    const { valid, errors } = validateReport(JSON.parse(JSON.stringify(report)));
    assert.deepEqual(errors, []);
    assert.equal(valid, true);
  });

  test('no container or input dir is left behind', async () => {
    const docker = new Docker();
    const leftovers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['org.safe-install.session'] }) });
    assert.deepEqual(leftovers.map((c) => c.Id), []);
    const inputs = fs.readdirSync(os.tmpdir()).filter((n) => [INPUT_DIR_PREFIX, CA_DIR_PREFIX, 'safe-install-scan-'].some((prefix) => n.startsWith(prefix)));
    assert.deepEqual(inputs, []);
  });
});
