/** The report's provenance, as collected for real, against the published JSON Schema. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectProvenance } from '../../src/provenance/index.js';
import { buildJsonReport } from '../../src/report/json.js';
import { validateReport } from '../../src/report/schema.js';
import { assess } from '../../src/rules/index.js';
import { buildScan } from '../report/fixture.js';

test('a report with real provenance is valid; a wrong initiator or agent is not', () => {
  const { chain } = buildScan();
  const provenance = collectProvenance({ env: { CLAUDECODE: '1', GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '5' } });
  const report = buildJsonReport({ chain, assessment: assess(chain), tool: { name: 'safe-install', version: '0.0.0' }, provenance: { ...provenance } });
  assert.deepEqual(validateReport(report).errors, []);
  assert.equal((report.provenance as { ci: { runId: string } }).ci.runId, '5');
  const bad = structuredClone(report);
  bad.provenance.initiator = 'robot';
  assert.notDeepEqual(validateReport(bad).errors, []);
  const bad2 = structuredClone(report);
  bad2.provenance.agents = [{ id: 'x' }];
  assert.notDeepEqual(validateReport(bad2).errors, []);
});
