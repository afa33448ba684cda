import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeOutsidePackageRule } from '../../src/rules/write-outside-package.js';
import { ChainBuilder, HOME, PROJECT } from './chain-builder.js';
import { run } from './helpers.js';

test('write-outside-package: successful changes outside the folder are medium, one finding per area', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('sprawl');
  const s = pkg.script('postinstall', 'node install.js');
  const mkdir = s.file(s.root, 'mkdir', `${HOME}/.config/sprawl`);
  const a = s.file(s.root, 'create', `${HOME}/.config/sprawl/a.json`, { mode: '644' });
  const b2 = s.file(s.root, 'write', `${HOME}/.config/sprawl/b.json`);
  const etc = s.file(s.root, 'chmod', '/etc/profile.d/x.sh', { mode: '755', syscall: 'fchmodat' });
  const linked = s.file(s.root, 'link', `${HOME}/.local/share/sprawl/data`, { target: `${pkg.dir}/data`, syscall: 'linkat' });
  const findings = run(writeOutsidePackageRule, b.build());
  assert.equal(findings.length, 3);
  assert.ok(findings.every((f) => f.severity === 'medium'));
  assert.deepEqual(findings[0]?.evidence, [mkdir.id, a.id, b2.id]);
  assert.equal(findings[0]?.message, 'changes 3 paths outside its folder in ~/.config/sprawl: ~/.config/sprawl, ~/.config/sprawl/a.json, ~/.config/sprawl/b.json');
  // A chmod is not a persistence write: it stays here.
  assert.deepEqual(findings[1]?.evidence, [etc.id]);
  // A hard link adds its new name; what it points to is unchanged.
  assert.deepEqual(findings[2]?.evidence, [linked.id]);
  assert.match(findings[2]?.message ?? '', /~\/\.local\/share\/sprawl\/data$/);
});

test('write-outside-package: changes a more specific rule reports are left to it', () => {
  const b = new ChainBuilder();
  b.pkg('other');
  const pkg = b.pkg('sprawl');
  const s = pkg.script('postinstall', 'node install.js');
  s.file(s.root, 'rename', `${pkg.dir}/out.bin`, { target: `${PROJECT}/out.bin`, syscall: 'rename' }); // tampering: project file
  s.file(s.root, 'write', `${PROJECT}/node_modules/other/index.js`); // tampering: another package
  s.file(s.root, 'write', `${HOME}/.bashrc`); // persistence
  s.file(s.root, 'delete', `${HOME}/notes.txt`, { syscall: 'unlinkat' }); // destructive
  s.file(s.root, 'chmod', `${HOME}/.local/lib/tool`, { mode: '04755', syscall: 'chmod' }); // privilege-escalation
  const mine = s.file(s.root, 'create', `${HOME}/.config/sprawl/x`, { mode: '0644' });
  s.file(s.root, 'delete', `${HOME}/.config/sprawl/x`, { syscall: 'unlinkat' }); // its own scratch file: stays here
  const findings = run(writeOutsidePackageRule, b.build(), pkg.info.location);
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.evidence[0], mine.id);
  assert.equal(findings[0]?.evidence.length, 2);
});

test('write-outside-package: own folder, temp dirs, stdio, failed writes and escapes via .. are judged correctly', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('tidy');
  const s = pkg.script('postinstall', 'node install.js');
  s.file(s.root, 'write', `${pkg.dir}/build/result.json`);
  s.file(s.root, 'mkdir', `${pkg.dir}/build`);
  s.file(s.root, 'write', '/tmp/tidy-123/x');
  s.file(s.root, 'write', `${HOME}/.cache/node-gyp/20.0.0/include/node.h`);
  s.file(s.root, 'write', `${HOME}/.npm/_logs/1.log`);
  s.file(s.root, 'write', '/dev/null');
  s.file(s.root, 'write', '/dev/tty');
  s.file(s.root, 'write', '/dev/stderr');
  s.file(s.root, 'write', '/proc/self/fd/1');
  s.file(s.root, 'write', `${HOME}/.bashrc`, { result: 'EACCES' });
  s.file(s.root, 'read', `${HOME}/.bashrc`);
  s.file(s.root, 'link', `${pkg.dir}/bin/tool`, { target: '/usr/bin/env', syscall: 'symlink' });
  assert.deepEqual(run(writeOutsidePackageRule, b.build()), []);

  // A sibling folder that merely starts with the package's name is not inside it.
  const escape = s.file(s.root, 'write', `${pkg.dir}/../tidy-evil/index.js`);
  const sibling = s.file(s.root, 'write', `${pkg.dir}-evil/index.js`);
  const findings = run(writeOutsidePackageRule, b.build());
  assert.deepEqual(findings.flatMap((f) => f.evidence), [escape.id, sibling.id]);
});
