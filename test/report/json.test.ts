import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assess } from '../../src/rules/index.js';
import { buildJsonReport, type JsonReport } from '../../src/report/json.js';
import { isSafeInstallError } from '../../src/errors/index.js';
import { allEventIds } from '../rules/chain-builder.js';
import { buildScan } from './fixture.js';

const TOOL = { name: 'safe-install', version: '0.1.0' };

function report(): JsonReport {
  const { chain } = buildScan();
  return buildJsonReport({ chain, assessment: assess(chain), tool: TOOL, provenance: { command: 'scan evil-helper' } });
}

test('json: the contract fields are all there with the right values', () => {
  const { chain } = buildScan();
  const doc = buildJsonReport({ chain, assessment: assess(chain), tool: TOOL, provenance: { command: 'scan evil-helper' } });
  assert.equal(doc.schemaVersion, 1);
  assert.deepEqual(doc.tool, TOOL);
  assert.equal(doc.verdict, 'block');
  assert.deepEqual(doc.provenance, { command: 'scan evil-helper' });
  assert.equal(doc.startedAt, chain.startedAt);
  assert.equal(doc.endedAt, chain.endedAt);
  assert.ok(!Number.isInteger(doc.endedAt), 'times stay fractional unix seconds');
  assert.deepEqual(doc.errors, []);
  assert.equal(doc.sessionId, chain.id);
  assert.deepEqual(doc.sandbox, {
    image: 'safe-install-sandbox:test',
    imageId: 'sha256:abc',
    containerId: 'c0ffee',
    network: 'monitored',
    projectDir: chain.projectDir,
    home: '/home/alex',
    tmpDirs: ['/tmp', '/var/tmp', '/home/alex/.cache', '/home/alex/.npm'],
  });
  for (const key of ['schemaVersion', 'tool', 'verdict', 'packages', 'provenance', 'sandbox', 'startedAt', 'endedAt', 'errors']) {
    assert.ok(key in doc, key);
  }
});

test('json: every package of the tree is listed, quiet ones with an empty session', () => {
  const doc = report();
  assert.equal(doc.packages.length, 26);
  const [evil, addon, slow, quiet] = doc.packages;
  assert.deepEqual(Object.keys(evil ?? {}), ['name', 'version', 'integrity', 'verdict', 'location', 'resolved', 'scripts', 'findings', 'suppressed', 'session']);
  assert.equal(evil?.verdict, 'block');
  assert.deepEqual(evil?.scripts, { postinstall: 'node install.js' });
  assert.deepEqual(addon?.scripts, { install: 'node-gyp rebuild' });
  assert.equal(addon?.verdict, 'allow');
  assert.equal(addon?.session.suppressed.files, 312);
  assert.equal(slow?.location, 'node_modules/native-addon/node_modules/slow-pkg');
  assert.deepEqual(slow?.findings.map((f) => f.rule), ['timeout']);
  assert.deepEqual(quiet?.session, { scripts: [], processes: [], files: [], dns: [], connections: [], suppressed: { files: 0 } });
  assert.deepEqual(quiet?.findings, []);
  assert.equal(quiet?.verdict, 'allow');
});

test('json: findings are most severe first and cite only events of the report', () => {
  const { chain } = buildScan();
  const doc = buildJsonReport({ chain, assessment: assess(chain), tool: TOOL });
  const evil = doc.packages[0];
  assert.deepEqual(evil?.findings.map((f) => `${f.severity} ${f.rule}`), [
    'critical download-execute',
    'high exfiltration',
    'high network-egress',
    'medium credential-access',
    'medium credential-access',
    'medium network-egress',
    'medium write-outside-package',
    'medium detached-process',
    'info shell-spawn',
  ]);
  const ids = allEventIds(chain);
  for (const pkg of doc.packages) for (const f of pkg.findings) for (const id of f.evidence) assert.ok(ids.has(id), id);
  assert.deepEqual(doc.provenance, {});
});

test('json: the report is a copy, so later edits to the chain do not leak into it', () => {
  const { chain } = buildScan();
  const doc = buildJsonReport({ chain, assessment: assess(chain), tool: TOOL });
  chain.packages[0]!.session.files.length = 0;
  chain.packages[0]!.info.scripts.postinstall = 'changed';
  assert.ok((doc.packages[0]?.session.files.length ?? 0) > 0);
  assert.equal(doc.packages[0]?.scripts.postinstall, 'node install.js');
});

test('json: a package the rules never assessed is an internal error, not an allowed package', () => {
  const { chain } = buildScan();
  const assessment = assess(chain);
  assessment.packages.pop();
  assert.throws(() => buildJsonReport({ chain, assessment, tool: TOOL }), (err) => isSafeInstallError(err) && err.code === 'E_INTERNAL');
});

test('json: a chain without a sandbox (nothing to run) reports null image fields', () => {
  const { chain } = buildScan();
  chain.sandbox = null;
  const doc = buildJsonReport({ chain, assessment: assess(chain), tool: TOOL });
  assert.equal(doc.sandbox.image, null);
  assert.equal(doc.sandbox.network, null);
  assert.ok(!('containerId' in doc.sandbox));
});

test('json: findings the policy hid are listed under suppressed with the clause, and validate', async () => {
  const { applyPolicy } = await import('../../src/policy/apply.js');
  const { validateReport } = await import('../../src/report/schema.js');
  const { chain } = buildScan();
  const assessment = applyPolicy(assess(chain), chain, { rules: { 'shell-spawn': 'off' } });
  const doc = buildJsonReport({ chain, assessment, tool: TOOL });
  const evil = doc.packages[0]!;
  assert.ok(!evil.findings.some((f) => f.rule === 'shell-spawn'));
  assert.deepEqual(evil.suppressed.map((s) => [s.finding.rule, s.by]), [['shell-spawn', 'policy rules["shell-spawn"]']]);
  assert.deepEqual(validateReport(JSON.parse(JSON.stringify(doc))).errors, []);
  const { renderTerminal } = await import('../../src/report/terminal.js');
  const text = renderTerminal(doc, { color: false, verbose: false, width: 200 });
  assert.match(text, /^ {2}allowed {2}shell-spawn {2}.+ \(policy rules\["shell-spawn"\]\)$/m);
});
