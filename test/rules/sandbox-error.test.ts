import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxErrorRule } from '../../src/rules/sandbox-error.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('sandbox-error: killed and sandbox-error outcomes are high', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('a');
  const killed = pkg.script('preinstall', 'node a.js', { outcome: 'killed', reason: 'memory limit reached' });
  const broken = pkg.script('postinstall', 'node b.js', { outcome: 'sandbox-error' });
  const findings = run(sandboxErrorRule, b.build());
  assert.equal(findings.length, 2);
  assert.ok(findings.every((f) => f.severity === 'high' && f.rule === 'sandbox-error'));
  assert.deepEqual(findings[0]?.evidence, [killed.run.id, killed.root.id]);
  assert.match(findings[0]?.message ?? '', /killed by the sandbox: memory limit reached/);
  assert.deepEqual(findings[1]?.evidence, [broken.run.id, broken.root.id]);
});

test('sandbox-error: a chain error naming a script goes to that package only, merged with its outcome', () => {
  const b = new ChainBuilder();
  const a = b.pkg('a').script('postinstall', 'node a.js', { outcome: 'sandbox-error' });
  b.pkg('b').script('postinstall', 'node b.js');
  b.chain.errors.push({ message: 'container died', scriptId: a.run.id });
  const chain = b.build();
  const onA = run(sandboxErrorRule, chain, 'node_modules/a');
  assert.equal(onA.length, 1);
  assert.match(onA[0]?.message ?? '', /container died/);
  assert.deepEqual(run(sandboxErrorRule, chain, 'node_modules/b'), []);
});

test('sandbox-error: a chain error without a script taints every package that had scripts', () => {
  const b = new ChainBuilder();
  const a = b.pkg('a').script('postinstall', 'node a.js');
  b.pkg('b').script('install', 'node b.js');
  b.pkg('quiet');
  b.chain.errors.push({ message: 'tracer output was truncated' });
  const chain = b.build();
  const onA = run(sandboxErrorRule, chain, 'node_modules/a');
  assert.equal(onA.length, 1);
  assert.equal(onA[0]?.severity, 'high');
  assert.deepEqual(onA[0]?.evidence, [a.run.id]);
  assert.equal(run(sandboxErrorRule, chain, 'node_modules/b').length, 1);
  assert.deepEqual(run(sandboxErrorRule, chain, 'node_modules/quiet'), []);
});

test('sandbox-error: when no package had scripts, a chain error lands on every package', () => {
  const b = new ChainBuilder();
  b.pkg('a');
  b.chain.errors.push({ message: 'image missing' });
  assert.equal(run(sandboxErrorRule, b.build()).length, 1);
});

test('sandbox-error: ok, failed and skipped scripts do not fire', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('a');
  pkg.script('preinstall', 'node a.js');
  pkg.script('install', 'node b.js', { outcome: 'failed', exitCode: 2 });
  pkg.script('postinstall', 'node c.js', { outcome: 'skipped' });
  assert.deepEqual(run(sandboxErrorRule, b.build()), []);
});
