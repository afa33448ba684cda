import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assess, RULES } from '../../src/rules/index.js';
import { RULE_IDS, type Rule } from '../../src/rules/types.js';
import { ChainBuilder, HOME, allEventIds } from './chain-builder.js';

test('assess: findings are ordered most severe first and verdicts follow the worst severity', () => {
  const b = new ChainBuilder();
  const bad = b.pkg('bad').script('postinstall', 'node x.js');
  bad.process(['sh', '-c', 'true'], { exe: '/bin/sh' });
  bad.file(bad.root, 'read', `${HOME}/.ssh/id_rsa`);
  const meh = b.pkg('meh').script('postinstall', 'node y.js');
  meh.process(['node', 'bg.js'], { detached: true });
  const info = b.pkg('info').script('install', 'node-gyp rebuild');
  info.process(['make']);
  b.pkg('quiet');
  const chain = b.build();
  const assessment = assess(chain);

  assert.deepEqual(assessment.packages.map((p) => [p.location, p.verdict]), [
    ['node_modules/bad', 'block'],
    ['node_modules/meh', 'review'],
    ['node_modules/info', 'allow'],
    ['node_modules/quiet', 'allow'],
  ]);
  assert.deepEqual(assessment.packages[0]?.findings.map((f) => f.rule), ['credential-access', 'shell-spawn']);
  assert.equal(assessment.verdict, 'block');
  const ids = allEventIds(chain);
  for (const finding of assessment.packages.flatMap((p) => p.findings)) {
    for (const id of finding.evidence) assert.ok(ids.has(id), `${finding.rule} cites unknown event ${id}`);
  }
});

test('assess: a clean tree is allowed; review is the worst of review and allow', () => {
  const b = new ChainBuilder();
  b.pkg('a');
  assert.equal(assess(b.build()).verdict, 'allow');
  const medium: Rule = { id: 'recon', evaluate: () => [{ rule: 'recon', severity: 'medium', message: 'm', evidence: [] }] };
  assert.equal(assess(b.build(), [medium]).verdict, 'review');
});

test('assess: a critical finding sorts before high and blocks', () => {
  const b = new ChainBuilder();
  b.pkg('a');
  const rules: Rule[] = [
    { id: 'recon', evaluate: () => [{ rule: 'recon', severity: 'low', message: 'l', evidence: [] }] },
    { id: 'timeout', evaluate: () => [{ rule: 'timeout', severity: 'high', message: 'h', evidence: [] }] },
    { id: 'exfiltration', evaluate: () => [{ rule: 'exfiltration', severity: 'critical', message: 'c', evidence: [] }] },
  ];
  const [pkg] = assess(b.build(), rules).packages;
  assert.deepEqual(pkg?.findings.map((f) => f.severity), ['critical', 'high', 'low']);
  assert.equal(pkg?.verdict, 'block');
});

test('assess: fails closed on a sandbox fault even with no package to pin it on', () => {
  const b = new ChainBuilder();
  b.chain.errors.push({ message: 'docker died' });
  assert.equal(assess(b.build()).verdict, 'block');
});

test('registry: every rule has a contract id, appears once, and has its own test file', () => {
  const ids = RULES.map((rule) => rule.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.ok((RULE_IDS as readonly string[]).includes(id), `${id} is not a contract rule id`);
    const testFile = fileURLToPath(new URL(`./${id}.test.js`, import.meta.url));
    assert.ok(existsSync(testFile), `rule ${id} has no test/rules/${id}.test.ts`);
  }
});
