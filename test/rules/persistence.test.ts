import { test } from 'node:test';
import assert from 'node:assert/strict';
import { persistenceRule } from '../../src/rules/persistence.js';
import { ChainBuilder, HOME, PROJECT } from './chain-builder.js';
import { run } from './helpers.js';

test('persistence: appending to ~/.bashrc and ~/.profile is one high finding', () => {
  const b = new ChainBuilder();
  const s = b.pkg('rc').script('postinstall', 'node x.js');
  const bashrc = s.file(s.root, 'write', `${HOME}/.bashrc`);
  const profile = s.file(s.root, 'create', `${HOME}/.profile`, { mode: '0644' });
  const findings = run(persistenceRule, b.build());
  assert.deepEqual(findings, [
    { rule: 'persistence', severity: 'high', message: 'writes shell startup file: ~/.bashrc, ~/.profile', evidence: [bashrc.id, profile.id] },
  ]);
});

test("persistence: a git hook in the project, or dropped by a rename, is high", () => {
  const b = new ChainBuilder();
  const s = b.pkg('hooker').script('postinstall', 'node x.js');
  const tmp = s.file(s.root, 'create', `${PROJECT}/.git/hooks/.tmp`, { mode: '0755' });
  const hook = s.file(s.root, 'rename', `${PROJECT}/.git/hooks/.tmp`, { target: `${PROJECT}/.git/hooks/pre-commit`, syscall: 'rename' });
  const [finding] = run(persistenceRule, b.build());
  assert.equal(finding?.severity, 'high');
  assert.deepEqual(finding?.evidence, [tmp.id, hook.id]);
  assert.equal(finding?.message, 'writes git hook: ~/code/webapp/.git/hooks/.tmp, ~/code/webapp/.git/hooks/pre-commit');
});

test('persistence: overwriting coding-agent config (home and project) is persistence', () => {
  const b = new ChainBuilder();
  const s = b.pkg('agent-hijack').script('postinstall', 'node x.js');
  const claude = s.file(s.root, 'write', `${HOME}/.claude/settings.json`);
  const mcp = s.file(s.root, 'create', `${PROJECT}/.mcp.json`, { mode: '0644' });
  const vscode = s.file(s.root, 'write', `${PROJECT}/.vscode/tasks.json`);
  const code = s.file(s.root, 'write', `${HOME}/.config/Code/User/settings.json`);
  const [finding] = run(persistenceRule, b.build());
  assert.equal(finding?.message, 'writes coding-agent config: ~/.claude/settings.json, ~/code/webapp/.mcp.json, ~/code/webapp/.vscode/tasks.json (+1 more)');
  assert.deepEqual(finding?.evidence, [claude.id, mcp.id, vscode.id, code.id]);
});

test('persistence: cron, systemd, autostart, authorized_keys, npmrc, PATH shadowing and refused attempts', () => {
  const b = new ChainBuilder();
  const s = b.pkg('everywhere').script('postinstall', 'node x.js');
  s.file(s.root, 'create', '/etc/cron.d/update', { result: 'EROFS', mode: '0644' });
  s.file(s.root, 'create', `${HOME}/.config/systemd/user/updater.service`, { mode: '0644' });
  s.file(s.root, 'create', `${HOME}/.config/autostart/updater.desktop`, { mode: '0644' });
  s.file(s.root, 'write', `${HOME}/.ssh/authorized_keys`);
  s.file(s.root, 'write', `${HOME}/.npmrc`);
  s.file(s.root, 'link', `${HOME}/.local/bin/git`, { target: '/tmp/fakegit', syscall: 'symlink' });
  s.file(s.root, 'create', `${HOME}/Library/LaunchAgents/com.x.plist`, { result: 'ENOENT', mode: '0644' });
  s.process(['crontab', '/tmp/jobs']);
  const messages = run(persistenceRule, b.build()).map((f) => `${f.severity} ${f.message}`);
  assert.deepEqual(messages, [
    'high tries to write crontab: /etc/cron.d/update (EROFS)',
    'high writes systemd unit: ~/.config/systemd/user/updater.service',
    'high writes autostart entry: ~/.config/autostart/updater.desktop',
    'high writes SSH access: ~/.ssh/authorized_keys',
    'high writes package-manager config: ~/.npmrc',
    'high writes command on PATH: ~/.local/bin/git',
    'high tries to write launchd agent: ~/Library/LaunchAgents/com.x.plist (ENOENT)',
    'high installs a scheduled or startup job: crontab /tmp/jobs',
  ]);
});

test('persistence: look-alikes do not fire', () => {
  const b = new ChainBuilder();
  const pkg = b.pkg('benign');
  const s = pkg.script('postinstall', 'node x.js');
  s.file(s.root, 'read', `${HOME}/.bashrc`);
  s.file(s.root, 'read', `${HOME}/.npmrc`);
  s.file(s.root, 'probe', `${PROJECT}/.git/hooks/pre-commit`, { syscall: 'newfstatat', result: 'ENOENT' });
  // `git init` in a temp dir or in its own folder writes sample hooks nobody runs.
  s.file(s.root, 'create', '/tmp/repo/.git/hooks/pre-commit.sample', { mode: '0755' });
  s.file(s.root, 'create', `${pkg.dir}/.git/hooks/pre-push.sample`, { mode: '0755' });
  s.file(s.root, 'write', `${pkg.dir}/.npmrc`);
  s.file(s.root, 'write', `${HOME}/.cache/tool/settings.json`);
  s.file(s.root, 'write', `${HOME}/.bashrc_history_backup_not_rc`);
  s.process(['crontab', '-l']);
  s.process(['systemctl', '--user', 'status']);
  assert.deepEqual(run(persistenceRule, b.build()), []);
});
