/**
 * The record through the command line: a real scan (a package without install scripts, so no
 * container is needed) is recorded with its provenance and sent to a local OTLP receiver;
 * `log list|show|verify` read it back, and verify's exit code follows the chain.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/package-root.js';

const main = path.join(packageRoot().dir, 'dist', 'src', 'cli', 'main.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'si-record-cli-'));
const state = path.join(work, 'state');
const records = path.join(state, 'safe-install', 'records.jsonl');
let server: http.Server;
let otlpUrl: string;
const spansSeen: string[] = [];

before(async () => {
  fs.mkdirSync(path.join(work, 'pkg'));
  fs.writeFileSync(path.join(work, 'pkg', 'package.json'), JSON.stringify({ name: 'no-scripts-pkg', version: '1.2.3' }));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) spansSeen.push(s.name);
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  otlpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(work, { recursive: true, force: true });
});

// The compiled CLI without bin/'s bootstrap (which may recompile while others edit sources).
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv.slice(1));`, ...args], {
      cwd: work,
      env: { ...process.env, XDG_STATE_HOME: state, SAFE_INSTALL_STATE_DIR: '', SAFE_INSTALL_RECORD_KEY: '', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('log command', () => {
  test('a scan is recorded with its provenance and exported over OTLP', async () => {
    const r = await run(['scan', './pkg', '--json', '--quiet', '--otlp', otlpUrl], { CLAUDECODE: '1' });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { provenance: { initiator: string; agents: { id: string }[]; command: { argv: string[] } }; sessionId: string };
    assert.equal(report.provenance.initiator, 'agent');
    assert.deepEqual(report.provenance.agents.map((a) => a.id), ['claude-code']);
    assert.deepEqual(report.provenance.command.argv.slice(-6, -1), ['scan', './pkg', '--json', '--quiet', '--otlp']);
    assert.deepEqual(spansSeen, ['safe-install scan']);

    const shown = await run(['log', 'show', '--last', '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    const rec = JSON.parse(shown.stdout) as { seq: number; id: string; kind: string; body: { verdict: string; command: string[]; findings: { package: string }[]; provenance: { initiator: string } } };
    assert.equal(rec.seq, 1);
    assert.equal(rec.id, report.sessionId);
    assert.equal(rec.kind, 'scan');
    assert.equal(rec.body.verdict, 'allow');
    assert.deepEqual(rec.body.command, ['scan', './pkg', '--json', '--quiet', '--otlp', otlpUrl]);
    assert.equal(rec.body.findings[0]!.package, 'no-scripts-pkg@1.2.3');
    assert.equal(rec.body.provenance.initiator, 'agent');
  });

  test('an unreachable collector is a warning; the record is still written', async () => {
    const r = await run(['scan', './pkg', '--otlp', 'http://127.0.0.1:9/'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: could not send the session to http:\/\/127\.0\.0\.1:9\/v1\/traces/);
    const list = await run(['log', 'list', '--json']);
    const doc = JSON.parse(list.stdout) as { records: { seq: number; verdict: string; initiator: string }[] };
    assert.deepEqual(doc.records.map((x) => x.seq), [1, 2]);
    const text = await run(['log', 'list']);
    assert.match(text.stdout, /^ +2 +\S+Z +scan +ALLOW/m);
  });

  test('a bad --otlp URL stops before any work', async () => {
    const r = await run(['scan', './pkg', '--otlp', 'not a url']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /OTLP endpoint "not a url\/v1\/traces" is not an http\(s\) URL/);
  });

  test('verify: 0 while intact, 1 and the record named once edited', async () => {
    const ok = await run(['log', 'verify', '--json']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean; records: number }).records, 2);
    const text = fs.readFileSync(records, 'utf8');
    fs.writeFileSync(records, text.replace('"verdict":"allow"', '"verdict":"block"'));
    const broken = await run(['log', 'verify']);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /^BROKEN: 1 problem/);
    assert.match(broken.stdout, /edited +record 1 \(.+\) at line 1 was edited/);
    fs.writeFileSync(records, text);
  });

  test('bad use is exit 2 with a hint', async () => {
    for (const args of [['log'], ['log', 'show'], ['log', 'show', '999'], ['log', 'frob'], ['log', 'list', '--limit', 'x']]) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /^safe-install: .+\n  hint: /, args.join(' '));
    }
  });
});
