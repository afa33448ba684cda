import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assess } from '../../src/rules/index.js';
import { RULE_IDS, SEVERITIES } from '../../src/rules/types.js';
import { PROJECT_LIFECYCLE_EVENTS, type FileOperation, type ScriptOutcome, type SocketFamily } from '../../src/session/types.js';
import { buildJsonReport } from '../../src/report/json.js';
import { loadReportSchema, validateReport } from '../../src/report/schema.js';
import { buildScan } from './fixture.js';

/** What goes over the wire: JSON.stringify drops undefined optional fields. */
function wireReport(): any {
  const { chain } = buildScan();
  chain.errors.push({ message: 'tracer lost 3 events', scriptId: 's3' });
  const conn = chain.packages[0]!.session.connections[2]!;
  conn.observed = { protocol: 'https', sni: 'collect.evil.example', bytesReceived: 517 };
  chain.packages[0]!.session.processes[0]!.stdioSockets = [{ fd: 0, socket: 'TCP:[192.0.2.1:443]', time: 1 }];
  const doc = buildJsonReport({ chain, assessment: assess(chain), tool: { name: 'safe-install', version: '0.1.0' }, provenance: { argv: ['scan', 'x'] } });
  return JSON.parse(JSON.stringify(doc));
}

test('schema: a real report is valid', () => {
  const result = validateReport(wireReport());
  assert.deepEqual(result.errors, []);
  assert.equal(result.valid, true);
});

test('schema: added fields are allowed anywhere (the contract allows additions)', () => {
  const doc = wireReport();
  doc.newTopLevel = true;
  doc.packages[0].newField = 1;
  doc.packages[0].findings[0].confidence = 0.9;
  doc.packages[0].session.processes[0].extra = 'x';
  assert.deepEqual(validateReport(doc).errors, []);
});

const mutations: Record<string, (doc: any) => void> = {
  'a wrong verdict enum': (doc) => (doc.verdict = 'maybe'),
  'a missing schemaVersion': (doc) => delete doc.schemaVersion,
  'another schemaVersion': (doc) => (doc.schemaVersion = 2),
  'a finding with an unknown rule id': (doc) => (doc.packages[0].findings[0].rule = 'made-up'),
  'a wrong severity': (doc) => (doc.packages[0].findings[0].severity = 'severe'),
  'evidence that is not an event id': (doc) => (doc.packages[0].findings[0].evidence = ['x1']),
  'a renamed package field': (doc) => {
    doc.packages[0].integrityHash = doc.packages[0].integrity;
    delete doc.packages[0].integrity;
  },
  'an unknown file operation': (doc) => (doc.packages[0].session.files[0].op = 'sniff'),
  'an unknown lifecycle event in scripts': (doc) => (doc.packages[0].scripts.prepack = 'tsc'),
  'a string time': (doc) => (doc.startedAt = '2024-01-01'),
  'a process without argv': (doc) => delete doc.packages[0].session.processes[0].argv,
};

for (const [what, mutate] of Object.entries(mutations)) {
  test(`schema: ${what} is invalid`, () => {
    const doc = wireReport();
    mutate(doc);
    const result = validateReport(doc);
    assert.equal(result.valid, false);
    assert.ok(result.errors.length > 0);
  });
}

test('schema: errors say where and what', () => {
  const doc = wireReport();
  doc.verdict = 'maybe';
  assert.deepEqual(validateReport(doc).errors, ['/verdict must be equal to one of the allowed values (allow, review, block)']);
});

// Exhaustive records: adding a member to a TS union without updating these fails to compile.
const FILE_OPS: Record<FileOperation, true> = { read: true, write: true, create: true, delete: true, rename: true, chmod: true, exec: true, mkdir: true, link: true, probe: true };
const OUTCOMES: Record<ScriptOutcome, true> = { ok: true, failed: true, timeout: true, killed: true, 'sandbox-error': true, skipped: true };
const FAMILIES: Record<SocketFamily, true> = { inet: true, inet6: true, unix: true, netlink: true, other: true };

test('schema: enums match the TypeScript types', () => {
  const defs = loadReportSchema().$defs as Record<string, { enum: unknown[] }>;
  assert.deepEqual(defs.ruleId?.enum, [...RULE_IDS]);
  assert.deepEqual(defs.severity?.enum, [...SEVERITIES]);
  assert.deepEqual(defs.verdict?.enum, ['allow', 'review', 'block']);
  assert.deepEqual(defs.lifecycleEvent?.enum, [...PROJECT_LIFECYCLE_EVENTS]);
  assert.deepEqual(defs.fileOperation?.enum, Object.keys(FILE_OPS));
  assert.deepEqual(defs.scriptOutcome?.enum, Object.keys(OUTCOMES));
  assert.deepEqual(defs.socketFamily?.enum, Object.keys(FAMILIES));
});
