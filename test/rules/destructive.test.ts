import { test } from 'node:test';
import assert from 'node:assert/strict';
import { destructiveRule } from '../../src/rules/destructive.js';
import { ChainBuilder, HOME, PROJECT } from './chain-builder.js';
import { run } from './helpers.js';

test("destructive: deleting the user's files and moving the project's away is high", () => {
  const b = new ChainBuilder();
  const s = b.pkg('wiper').script('postinstall', 'node x.js');
  const notes = s.file(s.root, 'delete', `${HOME}/notes.md`, { syscall: 'unlinkat' });
  const src = s.file(s.root, 'rename', `${PROJECT}/src`, { target: '/tmp/.x', syscall: 'rename' });
  const findings = run(destructiveRule, b.build());
  assert.deepEqual(findings, [
    { rule: 'destructive', severity: 'high', message: 'deletes 2 files it does not own: ~/notes.md, ~/code/webapp/src', evidence: [notes.id, src.id] },
  ]);
});

test('destructive: more than 20 files is critical; refused attempts alone are medium', () => {
  const b = new ChainBuilder();
  const s = b.pkg('rmrf').script('postinstall', 'rm -rf ~/');
  const rm = s.process(['rm', '-rf', `${HOME}/`]);
  for (let i = 0; i < 25; i++) s.file(rm, 'delete', `${HOME}/code/other-project/file${i}.js`, { syscall: 'unlinkat' });
  const [mass] = run(destructiveRule, b.build());
  assert.equal(mass?.severity, 'critical');
  assert.equal(mass?.evidence.length, 25);
  assert.match(mass?.message ?? '', /^deletes 25 files it does not own in ~\/code\/other-project: /);

  const c = new ChainBuilder();
  const t = c.pkg('tries').script('postinstall', 'rm -f /etc/hosts');
  t.file(t.root, 'delete', '/etc/hosts', { result: 'EROFS', syscall: 'unlinkat' });
  assert.deepEqual(run(destructiveRule, c.build()).map((f) => [f.severity, f.message]), [['medium', 'tries to delete 1 file it does not own: /etc/hosts']]);
});

test('destructive: its own folder, temp dirs, files made during the session, atomic replaces and ENOENT do not fire', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('tidy');
  const s = pkg.script('postinstall', 'node x.js');
  s.file(s.root, 'delete', `${pkg.dir}/build/tmp.o`, { syscall: 'unlinkat' });
  s.file(s.root, 'delete', '/tmp/tidy/x', { syscall: 'unlinkat' });
  s.file(s.root, 'delete', `${HOME}/.cache/tidy/old`, { syscall: 'unlinkat' });
  s.file(s.root, 'delete', `${PROJECT}/node_modules/.cache/tidy`, { syscall: 'rmdir' });
  s.file(s.root, 'mkdir', `${HOME}/.config/tidy`, { mode: '0755' });
  s.file(s.root, 'create', `${HOME}/.config/tidy/lock`, { mode: '0644' });
  s.file(s.root, 'delete', `${HOME}/.config/tidy/lock`, { syscall: 'unlinkat' });
  s.file(s.root, 'delete', `${HOME}/.config/tidy`, { syscall: 'rmdir' });
  s.file(s.root, 'rename', `${HOME}/.config/app/settings.json`, { target: `${HOME}/.config/app/settings.json.bak`, syscall: 'rename' });
  s.file(s.root, 'delete', `${HOME}/never-there`, { result: 'ENOENT', syscall: 'unlinkat' });
  assert.deepEqual(run(destructiveRule, b.build()), []);
});
