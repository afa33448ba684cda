/**
 * The OTLP export through the real OpenTelemetry exporter to a real HTTP receiver on
 * 127.0.0.1 that decodes the OTLP/JSON payload: span names, attributes, parenting, events.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { readRecordLines } from '../../src/record/index.js';
import { exportRecordOtlp, otlpTracesUrl } from '../../src/record/otlp.js';
import type { SessionRecord } from '../../src/record/types.js';
import { appendScans, tempStore } from './support.js';

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; arrayValue?: { values: OtlpValue[] } }
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  events?: { name: string; timeUnixNano: string; attributes: { key: string; value: OtlpValue }[] }[];
  status?: { code?: number };
}

const received: { path: string; contentType: string; body: { resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] } }[] = [];
let server: http.Server;
let base: string;
let record: SessionRecord;
const dir = tempStore();

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await appendScans(dir, 1);
  record = readRecordLines(dir)[0]!.record!;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

const attr = (attrs: { key: string; value: OtlpValue }[], key: string): unknown => {
  const v = attrs.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if (v.arrayValue) return v.arrayValue.values.map((x) => x.stringValue ?? x.intValue);
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);
};

describe('OTLP export', () => {
  test('endpoint resolution follows the OpenTelemetry variables, --otlp first', () => {
    assert.equal(otlpTracesUrl(undefined, {}), null);
    assert.equal(otlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }), 'http://c:4318/v1/traces');
    assert.equal(otlpTracesUrl(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }), 'http://t/x');
    assert.equal(otlpTracesUrl('http://f:4318/v1/traces', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), 'http://f:4318/v1/traces');
    assert.throws(() => otlpTracesUrl('ftp://x', {}), /not an http\(s\) URL/);
  });

  test('a session arrives as one trace: session span, script spans, process spans, events', async () => {
    const sent = await exportRecordOtlp(record, { url: `${base}/v1/traces`, version: '9.9.9' });
    assert.equal(received.length, 1);
    const got = received[0]!;
    assert.equal(got.path, '/v1/traces');
    assert.match(got.contentType, /application\/json/);
    const rs = got.body.resourceSpans[0]!;
    assert.equal(attr(rs.resource.attributes, 'service.name'), 'safe-install');
    assert.equal(attr(rs.resource.attributes, 'service.version'), '9.9.9');
    const spans = rs.scopeSpans.flatMap((s) => s.spans);
    assert.equal(spans.length, sent);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace');

    const session = spans.find((s) => s.name === 'safe-install scan')!;
    assert.ok(session, spans.map((s) => s.name).join());
    assert.equal(session.parentSpanId || undefined, undefined);
    assert.equal(attr(session.attributes, 'safe_install.verdict'), 'block');
    assert.equal(attr(session.attributes, 'safe_install.session.id'), 'session-1');
    assert.equal(attr(session.attributes, 'safe_install.record.hash'), record.hash);
    assert.equal(attr(session.attributes, 'safe_install.image.digest'), 'sha256:abc');
    assert.equal(attr(session.attributes, 'safe_install.cwd'), process.cwd());
    assert.equal(session.status?.code, 2, 'a block is an error status');
    assert.ok(session.events!.some((e) => e.name === 'finding' && attr(e.attributes, 'safe_install.rule') === 'credential-access'));

    const script = spans.find((s) => s.name === 'evil-helper@2.1.0 postinstall')!;
    assert.equal(script.parentSpanId, session.spanId);
    assert.equal(attr(script.attributes, 'safe_install.script.command'), 'node install.js');
    const chainScript = record.body.chain!.packages.find((p) => p.info.name === 'evil-helper')!.session.scripts[0]!;
    assert.equal(BigInt(script.startTimeUnixNano) / 1_000_000n, BigInt(Math.round(chainScript.startedAt * 1000)), 'the sandbox time, not the export time');

    const children = spans.filter((s) => s.parentSpanId === script.spanId);
    const node = children.find((s) => (attr(s.attributes, 'process.command_args') as string[])?.join(' ') === 'node install.js')!;
    assert.ok(node, children.map((c) => c.name).join());
    const sh = spans.find((s) => s.parentSpanId === node.spanId && s.name === '/bin/sh')!;
    assert.ok(sh, 'the shell is a child of node');
    const curl = spans.find((s) => s.parentSpanId === sh.spanId && s.name === 'curl')!;
    assert.equal(attr(curl.attributes, 'process.exit.code'), 7);
    assert.ok(curl.events!.some((e) => e.name === 'network.connect' && attr(e.attributes, 'server.address') === '203.0.113.9' && attr(e.attributes, 'server.port') === 80));

    const reads = node.events!.filter((e) => e.name === 'file.read').map((e) => attr(e.attributes, 'file.path'));
    assert.ok(reads.includes('/home/alex/.npmrc'), reads.join());
    assert.ok(node.events!.some((e) => e.name === 'dns.query' && attr(e.attributes, 'dns.question.name') === 'collect.evil.example'));
    assert.ok(spans.some((s) => s.name === 'native-addon@1.4.0 install'));
  });

  test('a collector that refuses, or none at all, is a typed error', async () => {
    const refusing = http.createServer((_req, res) => {
      res.writeHead(400);
      res.end('bad');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.address() as AddressInfo).port;
    try {
      await assert.rejects(exportRecordOtlp(record, { url: `http://127.0.0.1:${port}/v1/traces`, version: '1', timeoutMs: 3000 }), (err: Error & { code?: string }) => err.code === 'E_RECORD');
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
    await assert.rejects(exportRecordOtlp(record, { url: `http://127.0.0.1:${port}/v1/traces`, version: '1', timeoutMs: 3000 }), /could not send the session/);
  });
});
