import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detachedProcessRule } from '../../src/rules/detached-process.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('detached-process: processes that detach or outlive the script are medium', () => {
  const b = new ChainBuilder();
  const s = b.pkg('daemon').script('postinstall', 'node start.js', { wrapperExecs: ['node', 'start.js'] });
  const daemon = s.process(['node', 'daemon.js'], { detached: true, outlivedScript: true, killedBySandbox: true, endedAt: null, exitCode: null, signal: 'SIGKILL' });
  const nohup = s.process(['sleep', '600'], { outlivedScript: true, killedBySandbox: true });
  const findings = run(detachedProcessRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'medium');
  assert.deepEqual(findings[0]?.evidence, [daemon.id, nohup.id]);
  assert.match(findings[0]?.message ?? '', /leaves 2 processes behind: node daemon\.js \(detached, outlived the script\)/);
});

test('detached-process: children that end before the script do not fire, even when killed', () => {
  const b = new ChainBuilder();
  const s = b.pkg('tidy').script('postinstall', 'node build.js');
  s.process(['node', 'worker.js']);
  s.process(['sleep', '1'], { signal: 'SIGTERM', exitCode: null });
  assert.deepEqual(run(detachedProcessRule, b.build()), []);
});

test('detached-process: says which launcher let it linger', () => {
  const b = new ChainBuilder();
  const s = b.pkg('bg').script('postinstall', 'nohup node beacon.js &');
  const p = s.process(['nohup', 'node', 'beacon.js'], { outlivedScript: true, killedBySandbox: true });
  s.exec(p, ['node', 'beacon.js'], '/usr/local/bin/node');
  assert.match(run(detachedProcessRule, b.build())[0]?.message ?? '', /node beacon\.js \(via nohup, outlived the script\)$/);
});
