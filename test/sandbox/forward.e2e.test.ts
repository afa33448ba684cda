/**
 * Allowed egress, end to end: a package the policy lets reach one host really reaches it (a
 * local HTTP server on the host side, never an outside address), through the forwarding proxy,
 * recorded like everything else; every other destination still ends at the sinkhole, and a
 * client that names another host inside the allowed connection (domain fronting) is refused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scan, type ScanResult } from '../../src/pipeline/scan.js';
import { FORWARD_DIR_PREFIX } from '../../src/sandbox/forwarder.js';
import type { ConnectionEvent } from '../../src/session/types.js';

const ALLOWED = 'mirror.forward.test';
const OTHER = 'other.forward.test';
const FRONTED = 'evil.forward.test';

interface Received {
  method: string;
  url: string;
  host: string;
  body: string;
}

let server: http.Server;
let port = 0;
const received: Received[] = [];
let packageDir: string;
let cache: string;

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', body });
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('real-content-from-host');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'si-test-cache-'));
  packageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'si-forward-fixture-'));
  fs.writeFileSync(
    path.join(packageDir, 'package.json'),
    JSON.stringify({ name: 'forward-fixture', version: '1.0.0', scripts: { postinstall: 'node fetch.js' } }),
  );
  // Inert: reserved .test names only; the only real server is the test's own, on loopback.
  fs.writeFileSync(
    path.join(packageDir, 'fetch.js'),
    `'use strict';
const http = require('http');
function ask(label, options, body) {
  return new Promise((resolve) => {
    const req = http.request({ port: ${port}, timeout: 5000, ...options }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(label + ' ' + res.statusCode + ' [' + text + ']'));
    });
    req.on('error', (e) => resolve(label + ' ' + (e.code || e.message)));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}
(async () => {
  console.log(await ask('ALLOWED', { host: '${ALLOWED}', method: 'POST', path: '/upload' }, 'hello-through-proxy'));
  console.log(await ask('OTHER', { host: '${OTHER}', method: 'POST', path: '/upload' }, 'hello-to-sinkhole'));
  console.log(await ask('FRONTED', { host: '${ALLOWED}', method: 'GET', path: '/x', headers: { Host: '${FRONTED}' } }));
})();
`,
  );
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(packageDir, { recursive: true, force: true });
  fs.rmSync(cache, { recursive: true, force: true });
});

function connectionTo(result: ScanResult, predicate: (c: ConnectionEvent) => boolean): ConnectionEvent[] {
  return result.chain.packages.flatMap((p) => p.session.connections).filter((c) => c.observed !== undefined && predicate(c));
}

describe('allowed egress', () => {
  test('only the allowed host is reached, through the proxy, and recorded', async () => {
    const result = await scan({
      specs: [packageDir],
      cache,
      policy: { packages: { 'forward-fixture': { allowEgress: [ALLOWED] } } },
      egressResolve: { [ALLOWED]: '127.0.0.1' },
    });
    const stdout = result.chain.packages[0]!.session.scripts[0]!.stdout.head;
    assert.match(stdout, /^ALLOWED 200 \[real-content-from-host\]$/m, stdout);
    // The sinkhole answers the rest: 200 with an empty body, nothing reaches the host.
    assert.match(stdout, /^OTHER 200 \[\]$/m, stdout);
    // Same connection (keep-alive), another Host: refused, request by request.
    assert.match(stdout, /^FRONTED 421 \[\]$/m, stdout);

    assert.deepEqual(received, [{ method: 'POST', url: '/upload', host: `${ALLOWED}:${port}`, body: 'hello-through-proxy' }]);

    const [allowed] = connectionTo(result, (c) => c.hostname === ALLOWED && c.observed?.http?.method === 'POST');
    assert.ok(allowed, 'the forwarded connection is in the chain');
    assert.equal(allowed.observed?.forwarded?.ok, true);
    assert.ok((allowed.observed?.forwarded?.bytesFromHost ?? 0) > 0);
    assert.equal(allowed.observed?.http?.path, '/upload');
    assert.match(allowed.observed?.http?.body ?? '', /hello-through-proxy/);

    const [other] = connectionTo(result, (c) => c.hostname === OTHER);
    assert.ok(other, 'the connection to the other host is in the chain');
    assert.equal(other.observed?.forwarded, undefined);
    assert.match(other.observed?.http?.body ?? '', /hello-to-sinkhole/);

    const [fronted] = connectionTo(result, (c) => c.observed?.forwarded?.error !== undefined);
    assert.ok(fronted, 'the fronted request is recorded as refused');
    assert.match(fronted.observed?.forwarded?.error ?? '', /Host evil\.forward\.test is not allowed/);

    // The policy drops the allowed destination's finding; the other host is still reported.
    const findings = result.assessment.packages[0]!.findings.filter((f) => f.rule === 'network-egress');
    assert.ok(findings.some((f) => f.message.includes(OTHER)), JSON.stringify(findings));
    assert.ok(!findings.some((f) => f.message.includes(`connects to ${ALLOWED}`) && !f.message.includes('not allowed')), JSON.stringify(findings));
  });

  test('without a policy nothing is forwarded', async () => {
    const before = received.length;
    const result = await scan({ specs: [packageDir], cache, egressResolve: { [ALLOWED]: '127.0.0.1' } });
    const stdout = result.chain.packages[0]!.session.scripts[0]!.stdout.head;
    assert.match(stdout, /^ALLOWED 200 \[\]$/m, stdout);
    assert.equal(received.length, before);
    assert.deepEqual(connectionTo(result, (c) => c.observed?.forwarded !== undefined), []);
    assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(FORWARD_DIR_PREFIX)), []);
  });
});
