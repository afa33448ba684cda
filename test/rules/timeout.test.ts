import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeoutRule } from '../../src/rules/timeout.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('timeout: a script that timed out is high, citing the script and its root process', () => {
  const b = new ChainBuilder();
  const s = b.pkg('slowpoke').script('postinstall', 'node wait.js', { outcome: 'timeout', exitCode: null, signal: 'SIGKILL', reason: 'exceeded the 60 s limit' });
  const [finding, ...rest] = run(timeoutRule, b.build());
  assert.equal(rest.length, 0);
  assert.equal(finding?.rule, 'timeout');
  assert.equal(finding?.severity, 'high');
  assert.deepEqual(finding?.evidence, [s.run.id, s.root.id]);
  assert.match(finding?.message ?? '', /postinstall script \(node wait\.js\).*exceeded the 60 s limit/);
});

test('timeout: scripts that finished or failed do not fire', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('fine');
  pkg.script('preinstall', 'node a.js');
  pkg.script('postinstall', 'node b.js', { outcome: 'failed', exitCode: 1 });
  assert.deepEqual(run(timeoutRule, b.build()), []);
});
