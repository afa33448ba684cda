/**
 * Traces recorded on a real machine with the sandbox's exact strace flags and wrapper
 * (test/fixtures/traces/record.sh). Values below are those of that recording.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRACED_SIGNALS, straceArgs } from '../../src/sandbox/tracer.js';
import { FIXTURE_DIR, fileOps, parseFixture, processByPid } from './helpers.js';

const D = FIXTURE_DIR;

describe('recorded trace: shell pipeline', () => {
  const r = parseFixture('pipeline');

  it('builds the tree: tr is a child of the sh running the pipeline', () => {
    assert.deepEqual(
      r.processes.map((p) => [p.id, p.pid, p.parentId, p.argv]),
      [
        ['p1', 2377, null, ['/bin/sh', '-c', 'echo hello | tr a-z A-Z > upper.txt']],
        // dash forks a subshell for `echo` that never execs: it keeps its parent's argv.
        ['p2', 2378, 'p1', ['/bin/sh', '-c', 'echo hello | tr a-z A-Z > upper.txt']],
        ['p3', 2379, 'p1', ['tr', 'a-z', 'A-Z']],
      ],
    );
    assert.equal(r.rootProcess, 'p1');
    assert.deepEqual(r.rootExit, { exitCode: 0, signal: null });
  });

  it('drops the sandbox wrapper image and keeps the script shell', () => {
    const root = processByPid(r, 2377);
    assert.deepEqual(root.images, [
      { time: 1795434609.930873, path: '/bin/sh', argv: ['/bin/sh', '-c', 'echo hello | tr a-z A-Z > upper.txt'] },
    ]);
    assert.equal(root.exe, '/bin/sh');
    assert.equal(root.startedAt, 1795434609.923258);
    assert.equal(root.endedAt, 1795434609.956489);
    assert.equal(processByPid(r, 2378).images.length, 0);
    assert.equal(processByPid(r, 2379).exe, '/usr/bin/tr');
  });

  it('charges the redirect to the forked child, before its exec', () => {
    assert.deepEqual(fileOps(r.files), [
      // dash stats $PWD and "." at start, once in the wrapper and once as the script shell.
      `p1 probe ${D} newfstatat ok`,
      `p1 probe ${D} newfstatat ok`,
      'p1 exec /bin/sh execve ok',
      `p1 probe ${D} newfstatat ok`,
      `p1 probe ${D} newfstatat ok`,
      `p3 create ${D}/upper.txt mode 0666 openat ok`,
      'p3 exec /usr/bin/tr execve ok',
    ]);
    // Loader, libc and locale reads of sh and tr.
    assert.equal(r.suppressedFiles, 39);
    assert.equal(r.unparsedLines, 0);
  });
});

describe('recorded trace: node reading, writing and spawning', () => {
  const r = parseFixture('node-fs');

  it('links node to the shell and echo to node', () => {
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.parentId, p.exe, p.exitCode]),
      [
        [2388, null, '/bin/sh', 3],
        [2389, 'p1', '/usr/bin/node', 3],
        [2404, 'p2', '/bin/echo', 0],
      ],
    );
    assert.deepEqual(processByPid(r, 2404).argv, ['/bin/echo', 'child', 'says', 'hi']);
  });

  it('handles the vfork child whose execve prints before the vfork returns', () => {
    const node = processByPid(r, 2389);
    // Its first line (the execve, opened before the vfork returned) dates its start.
    assert.equal(node.startedAt, 1795434609.973609);
    assert.equal(node.parentId, 'p1');
    assert.deepEqual(node.images, [{ time: 1795434609.973609, path: '/usr/bin/node', argv: ['node', 'app.js'] }]);
  });

  it('creates no process for the libuv worker threads', () => {
    assert.equal(r.processes.length, 3);
    assert.ok(!r.processes.some((p) => p.pid >= 2390 && p.pid <= 2403));
  });

  it('charges thread-pool file I/O to the node process', () => {
    // Both of these were done by thread 2399, not by node's main thread 2389.
    const byPath = (path: string) => r.files.filter((f) => f.path === path);
    assert.deepEqual(
      byPath(`${D}/async-in.txt`).map((f) => [f.processId, f.op, f.result]),
      [['p2', 'read', 'ok']],
    );
    assert.deepEqual(
      byPath(`${D}/async-out.txt`).map((f) => [f.processId, f.op, f.mode]),
      [['p2', 'create', '0666']],
    );
  });

  it('records synchronous reads and writes with absolute paths', () => {
    const ops = fileOps(r.files);
    assert.ok(ops.includes(`p2 create ${D}/out.json mode 0666 openat ok`));
    assert.ok(ops.includes(`p2 read ${D}/in.txt openat ok`));
    assert.ok(ops.includes('p3 exec /bin/echo execve ok'));
  });

  it('writes /proc/<own pid> as /proc/self', () => {
    // The trace shows `/proc/self/cgroup` opened as fd `</proc/2389/cgroup>`.
    const cgroup = r.files.find((f) => f.path === '/proc/self/cgroup');
    assert.equal(cgroup?.processId, 'p2');
    assert.equal(cgroup?.requestedPath, undefined);
  });

  it('folds away reads of the package folder, but never its writes', () => {
    const inPackage = parseFixture('node-fs', {
      context: { projectDir: D, packageDir: D, home: '/home/alex', nodePrefix: '/usr/local' },
    });
    assert.deepEqual(
      fileOps(inPackage.files.filter((f) => f.path.startsWith(`${D}/`))),
      [`p2 create ${D}/out.json mode 0666 openat ok`, `p2 create ${D}/async-out.txt mode 0666 openat ok`],
    );
    // 11 reads inside the package folder, and realpath()'s check of the folder above it.
    assert.equal(inPackage.suppressedFiles, r.suppressedFiles + 12);
  });
});

describe('recorded trace: setsid and nohup children', () => {
  const r = parseFixture('detached');

  it('marks processes still running after the script exited', () => {
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.parentId, p.argv[0], p.detached, p.outlivedScript]),
      [
        [2409, null, '/bin/sh', false, false],
        [2410, 'p1', 'sh', true, true], // setsid: detached, and alive after the root exited
        [2411, 'p1', 'sleep', false, true], // nohup does not setsid, but it outlived too
        [2414, 'p2', 'sleep', false, true],
      ],
    );
    assert.equal(processByPid(r, 2409).endedAt, 1795434610.107174);
    assert.equal(processByPid(r, 2410).endedAt, 1795434610.44269);
  });

  it('keeps every image of a process that exec’d several times', () => {
    assert.deepEqual(
      processByPid(r, 2410).images.map((i) => i.path),
      ['/usr/bin/setsid', '/usr/bin/sh'],
    );
    assert.deepEqual(
      processByPid(r, 2411).images.map((i) => i.argv),
      [
        ['nohup', 'sleep', '0.2'],
        ['sleep', '0.2'],
      ],
    );
  });

  it('uses the given scriptEndedAt and killedPids', () => {
    const late = parseFixture('detached', { scriptEndedAt: 1795434610.3, killedPids: [2410] });
    assert.deepEqual(
      late.processes.map((p) => [p.pid, p.outlivedScript, p.killedBySandbox]),
      [
        [2409, false, false],
        [2410, true, true],
        [2411, false, false],
        [2414, true, false],
      ],
    );
  });

  it('records the detached child’s late write', () => {
    assert.deepEqual(fileOps(r.files.filter((f) => f.path.endsWith('detached.txt'))), [
      `p2 create ${D}/detached.txt mode 0666 openat ok`,
    ]);
  });
});

describe('recorded trace: processes that end by a signal', () => {
  // node crashes with SIGSEGV (as node-gyp-build-test did loading argon2's prebuilt addon), then
  // `yes` dies of SIGPIPE once `head` has its line; the script itself exits 0.
  const rootEnd = 1795447570.467657;
  const r = parseFixture('signalled', { scriptEndedAt: rootEnd });

  it('ends them when the signal did, so nothing outlived the script', () => {
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.parentId, p.argv[0], p.endedAt, p.exitCode, p.signal, p.outlivedScript]),
      [
        [409, null, '/bin/sh', rootEnd, 0, null, false],
        [410, 'p1', 'node', 1795447570.453139, null, 'SIGSEGV', false],
        [417, 'p1', 'yes', 1795447570.467214, null, 'SIGPIPE', false],
        [418, 'p1', 'head', 1795447570.467043, 0, null, false],
      ],
    );
    assert.equal(r.unparsedLines, 0);
  });

  it('is traced with a signal filter that prints every signal that can end a process', () => {
    const filter = straceArgs().find((arg) => arg.startsWith('signal='));
    assert.equal(filter, `signal=${TRACED_SIGNALS}`);
    assert.ok(TRACED_SIGNALS.startsWith('!'), 'a list of the signals left out');
    const left = TRACED_SIGNALS.slice(1).split(',');
    for (const fatal of ['SIGKILL', 'SIGSEGV', 'SIGPIPE', 'SIGTERM', 'SIGABRT', 'SIGBUS', 'SIGHUP', 'SIGINT', 'SIGALRM', 'SIGSYS', 'SIGUSR1']) {
      assert.ok(!left.includes(fatal), `${fatal} can end a process: its +++ killed by line is printed`);
    }
  });
});

describe('recorded trace: cd then relative paths', () => {
  const r = parseFixture('cd-relative');

  it('tracks chdir for later relative writes and reads', () => {
    assert.deepEqual(fileOps(r.files.filter((f) => f.op !== 'probe' && f.op !== 'exec')), [
      `p2 mkdir ${D}/sub mode 0777 mkdir ok`,
      `p2 read ${D}/sub openat ok`,
      // mkdir -p moves with fchdir(3</tmp/si-trace-fixture/sub>) before the second mkdir.
      `p2 mkdir ${D}/sub/deeper mode 0777 mkdir ok`,
      `p1 create ${D}/sub/rel.txt mode 0666 openat ok`,
      `p1 create ${D}/sub/rel2.txt mode 0666 openat ok`,
      'p1 create /dev/null mode 0666 openat ok',
      `p3 read ${D}/sub/rel.txt openat ok`,
    ]);
  });

  it('gives a child the cwd its parent had when it forked', () => {
    assert.equal(processByPid(r, 2517).cwd, D);
    assert.equal(processByPid(r, 2523).cwd, D);
    assert.equal(processByPid(r, 2524).cwd, `${D}/sub/deeper`);
    assert.deepEqual(processByPid(r, 2524).argv, ['cat', './../rel.txt']);
  });
});

describe('recorded trace: rename, link, chmod, delete', () => {
  const r = parseFixture('files');

  it('records every change with its operation, target and mode', () => {
    const changes = fileOps(r.files.filter((f) => f.op !== 'probe' && f.op !== 'read' && f.op !== 'exec'));
    assert.deepEqual(changes, [
      `p2 create ${D}/a.txt mode 0666 openat ok`,
      `p3 rename ${D}/a.txt -> ${D}/b.txt renameat2 ok`,
      `p4 chmod ${D}/b.txt mode 0755 fchmodat ok`,
      `p5 link ${D}/c.lnk -> ${D}/b.txt symlinkat ok`,
      `p6 link ${D}/d.txt -> ${D}/b.txt linkat ok`,
      `p7 delete ${D}/c.lnk unlinkat ok`,
      `p7 delete ${D}/d.txt unlinkat ok`,
      `p7 delete ${D}/b.txt unlinkat ok`,
      `p8 mkdir ${D}/dd mode 0777 mkdir ok`,
      `p9 delete ${D}/dd rmdir ok`,
      `p10 create ${D}/e.txt mode 0600 openat ok`,
      // fchmod names only an fd: the path comes from its decoration.
      `p10 chmod ${D}/e.txt mode 0640 fchmod ok`,
      `p10 write ${D}/e.txt truncate ok`,
      `p10 delete ${D}/e.txt unlink ok`,
    ]);
  });

  it('keeps failed lookups with their errno', () => {
    const pyvenv = r.files.find((f) => f.path === '/usr/bin/pyvenv.cfg' && f.syscall === 'openat');
    assert.deepEqual([pyvenv?.op, pyvenv?.result], ['read', 'ENOENT']);
  });

  it('one process per command, all children of the script shell', () => {
    assert.deepEqual(
      r.processes.map((p) => p.argv[0]),
      ['/bin/sh', 'touch', 'mv', 'chmod', 'ln', 'ln', 'rm', 'mkdir', 'rmdir', '/usr/bin/python3'],
    );
    assert.ok(r.processes.slice(1).every((p) => p.parentId === 'p1'));
  });
});

describe('recorded trace: network attempts', () => {
  const r = parseFixture('net');

  it('records the TCP connect with address, port, protocol and result', () => {
    assert.deepEqual(r.connections[0], {
      id: 'n1',
      scriptId: 's1',
      processId: 'p2',
      time: 1795434610.721419,
      syscall: 'connect',
      family: 'inet',
      protocol: 'tcp',
      address: '192.0.2.1',
      port: 80,
      result: 'EINPROGRESS',
    });
  });

  it('records the UDP datagram and decodes its payload', () => {
    const udp = r.connections[1];
    assert.deepEqual(
      [udp?.syscall, udp?.family, udp?.protocol, udp?.address, udp?.port, udp?.result],
      ['sendto', 'inet', 'udp', '192.0.2.53', 53, 'ok'],
    );
    // strace printed "\0224exfil:c2VjcmV0\n\"q\"\\": octal \022 then a literal 4.
    assert.equal(udp?.payload, '\x124exfil:c2VjcmV0\n"q"\\');
    assert.equal(r.connections.length, 2);
  });
});

describe('recorded trace: reverse-shell shape', () => {
  const r = parseFixture('revshell');

  it('records the TCP socket dup’d onto stdin, stdout and stderr', () => {
    const shell = processByPid(r, 2678);
    const socket = 'TCP:[10.0.0.2:36412->192.0.2.10:4444]';
    assert.deepEqual(shell.stdioSockets, [
      { fd: 0, socket, time: 1795434610.806739 },
      { fd: 1, socket, time: 1795434610.808901 },
      { fd: 2, socket, time: 1795434610.80903 },
    ]);
    assert.deepEqual(shell.argv, ['/bin/true']);
    assert.deepEqual(
      shell.images.map((i) => i.path),
      ['/usr/bin/python3', '/bin/true'],
    );
  });

  it('ignores the wrapper’s own dup2 of fd 3 onto stderr', () => {
    assert.equal(processByPid(r, 2677).stdioSockets, undefined);
  });

  it('records the connect to the listener', () => {
    assert.deepEqual(
      r.connections.map((c) => [c.processId, c.address, c.port, c.protocol, c.result]),
      [['p2', '192.0.2.10', 4444, 'tcp', 'EINPROGRESS']],
    );
  });
});

describe('recorded trace: strace writing to stderr', () => {
  // `[pid N]` prefixes while several tasks live, none while only one does.
  const r = parseFixture('stderr-format');

  it('recovers pids, tree and events as with -o', () => {
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.parentId, p.argv[0], p.exitCode]),
      [
        [2684, null, '/bin/sh', 0],
        [2685, 'p1', '/bin/sh', 0],
        [2686, 'p1', 'tr', 0],
      ],
    );
    assert.deepEqual(fileOps(r.files.filter((f) => f.op !== 'probe')), [
      'p1 exec /bin/sh execve ok',
      'p3 create /dev/null mode 0666 openat ok',
      'p3 exec /usr/bin/tr execve ok',
    ]);
    assert.equal(processByPid(r, 2684).endedAt, 1795434610.828706);
    assert.equal(r.unparsedLines, 0);
  });
});
