import { test } from 'node:test';
import assert from 'node:assert/strict';
import { privilegeEscalationRule } from '../../src/rules/privilege-escalation.js';
import type { PrivilegeCall } from '../../src/session/types.js';
import { ChainBuilder, HOME } from './chain-builder.js';
import { run } from './helpers.js';

const call = (syscall: string, args: string, result = 'EPERM'): PrivilegeCall => ({ time: 1, syscall, args, result });

test('privilege-escalation: running sudo (seen, or at command position in a shell command) is high', () => {
  const b = new ChainBuilder();
  const s = b.pkg('root-me').script('postinstall', 'sudo chmod u+s /usr/bin/find || true');
  const sudo = s.process(['sudo', '-n', 'true']);
  const findings = run(privilegeEscalationRule, b.build());
  assert.deepEqual(findings.map((f) => [f.severity, f.message, f.evidence]), [
    ['high', "tries to run sudo: sh -c 'sudo chmod u+s /usr/bin/find || true'", [s.root.id]],
    ['high', 'runs sudo -n true', [sudo.id]],
  ]);
});

test('privilege-escalation: chmod with the setuid bit is high', () => {
  const b = new ChainBuilder();
  const s = b.pkg('suid').script('postinstall', 'node x.js');
  const chmod = s.file(s.root, 'chmod', `${HOME}/.local/lib/helper`, { mode: '04755', syscall: 'fchmodat' });
  const [finding] = run(privilegeEscalationRule, b.build());
  assert.equal(finding?.severity, 'high');
  assert.deepEqual(finding?.evidence, [chmod.id]);
  assert.equal(finding?.message, 'sets the setuid/setgid bit: /home/alex/.local/lib/helper (04755)');
});

test('privilege-escalation: setuid(0), capset raising, ptrace attach, kill 1, sudoers writes', () => {
  const b = new ChainBuilder();
  const s = b.pkg('games').script('postinstall', 'python3 x.py');
  const py = s.process(['python3', 'x.py'], {
    exe: '/usr/bin/python3',
    privilegeCalls: [
      call('setuid', '0'),
      call('setresgid', '-1, 0, -1'),
      call('capset', '{version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_NET_RAW, permitted=1<<CAP_NET_RAW, inheritable=0}'),
      call('prctl', 'PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0'),
      call('ptrace', 'PTRACE_ATTACH, 812'),
      call('kill', '1, SIGKILL'),
      call('kill', '4242, SIGTERM', 'ok'),
    ],
  });
  const sudoers = s.file(py, 'write', '/etc/sudoers.d/90-x', { result: 'EROFS' });
  const messages = run(privilegeEscalationRule, b.build()).map((f) => `${f.severity} ${f.message}`);
  assert.deepEqual(messages, [
    'high tries to change its user id: setuid(0) = EPERM',
    'high tries to change its group id: setresgid(-1, 0, -1) = EPERM',
    'high tries to raise capabilities: capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_NET_RAW, permitted=1<<CAP_NET_RAW, inheritable=0}) = EPERM',
    'high tries to raise an ambient capability: prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) = EPERM',
    'high reaches into another process (pid 812): ptrace(PTRACE_ATTACH, 812) = EPERM',
    'high signals init (pid 1): kill(1, SIGKILL) = EPERM',
    'medium signals a process it did not start (pid 4242): kill(4242, SIGTERM) = ok',
    'high tries to change who may do what: /etc/sudoers.d/90-x',
  ]);
  assert.ok(run(privilegeEscalationRule, b.build()).at(-1)?.evidence.includes(sudoers.id));
});

test('privilege-escalation: no-op identity calls, capability drops, liveness checks and ordinary modes do not fire', () => {
  const b = new ChainBuilder();
  const s = b.pkg('benign').script('postinstall', 'node x.js && echo "if this fails, run: sudo npm i -g"');
  s.process(['python3', 'x.py'], {
    exe: '/usr/bin/python3',
    privilegeCalls: [
      call('setuid', '1000', 'ok'),
      call('setresuid', '-1, -1, -1', 'ok'),
      call('setresgid', '1000, 1000, 1000', 'ok'),
      call('capset', '{version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=0, permitted=0, inheritable=0}', 'ok'),
      call('kill', '-1, 0', 'ok'),
      call('ptrace', 'PTRACE_TRACEME'),
      call('prctl', 'PR_SET_PTRACER, PR_SET_PTRACER_ANY', 'EINVAL'),
    ],
  });
  s.file(s.root, 'chmod', `${s.pkg.dir}/bin/cli`, { mode: '0755', syscall: 'fchmodat' });
  s.file(s.root, 'create', `${s.pkg.dir}/out`, { mode: '0644' });
  s.file(s.root, 'read', '/etc/passwd');
  s.process(['sh', '-c', 'echo use sudo to install globally; su_helper --check'], { exe: '/bin/sh' });
  assert.deepEqual(run(privilegeEscalationRule, b.build()), []);
});
