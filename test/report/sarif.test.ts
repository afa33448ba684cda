import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSarif } from '../../src/report/sarif.js';
import { RULE_IDS } from '../../src/rules/types.js';
import { ciResult } from './ci-fixture.js';
import { validateSarif } from './sarif-schema.js';

const tool = { name: 'safe-install', version: '0.0.0-test' };

test('SARIF: valid 2.1.0, every rule id described, each result at the lockfile line of its package', () => {
  const result = ciResult();
  const log = buildSarif(result, tool) as { version: string; runs: { tool: { driver: { rules: { id: string; shortDescription: { text: string } }[] } }; results: Record<string, any>[] }[] };
  assert.deepEqual(validateSarif(log), []);
  assert.equal(log.version, '2.1.0');
  const run = log.runs[0]!;
  assert.deepEqual(run.tool.driver.rules.map((r) => r.id), [...RULE_IDS]);
  assert.ok(run.tool.driver.rules.every((r) => r.shortDescription.text.length > 10));
  const rules = run.results.map((r) => r.ruleId as string);
  assert.ok(rules.includes('credential-access') && rules.includes('install-script-added') && rules.includes('network-egress'), rules.join(','));
  for (const r of run.results) {
    assert.equal(run.tool.driver.rules[r.ruleIndex]!.id, r.ruleId, 'ruleIndex points at its rule');
    assert.deepEqual(r.locations[0].physicalLocation, { artifactLocation: { uri: 'package-lock.json', uriBaseId: '%SRCROOT%' }, region: { startLine: 42 } });
    assert.match(r.message.text, /^popular-lib@1\.0\.1: /);
  }
  const cred = run.results.find((r) => r.ruleId === 'credential-access')!;
  // ~/.npmrc is medium (it is also where proxy and registry settings live): a warning.
  assert.equal(cred.level, 'warning');
  assert.match(cred.message.text, /Behaviour diff: popular-lib@1\.0\.1 \(was 1\.0\.0\) started reading ~\/\.npmrc/);
  assert.equal(run.results.find((r) => r.ruleId === 'install-script-added')!.level, 'warning');
});

test('SARIF: the validator is real: a broken log fails it', () => {
  const log = buildSarif(ciResult(), tool) as { runs: { results: Record<string, any>[] }[] };
  log.runs[0]!.results[0]!.level = 'catastrophic';
  delete (log as Record<string, unknown>).version;
  const errors = validateSarif(log);
  assert.ok(errors.some((e) => /version/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /level/.test(e)), errors.join('\n'));
});

test('SARIF: nothing changed is a valid log with no results', () => {
  const result = { ...ciResult(), changes: [], report: null, diffs: [], verdict: 'allow' as const };
  const log = buildSarif(result, tool) as { runs: { results: unknown[] }[] };
  assert.deepEqual(validateSarif(log), []);
  assert.deepEqual(log.runs[0]!.results, []);
});
