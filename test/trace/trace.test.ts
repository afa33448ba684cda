/** Hand-written traces for the shapes real recordings rarely show on demand. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileOps, parseText, processByPid } from './helpers.js';

const PKG = '/home/alex/code/webapp/node_modules/pkg';

describe('processes and threads', () => {
  const r = parseText(`
    100 1.000000 execve("/bin/sh", ["sh", "-c", "node x.js"], 0x1 /* 3 vars */) = 0
    100 1.100000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
    101 1.100100 openat(AT_FDCWD</work/a>, "early.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644 <unfinished ...>
    100 1.100200 <... clone resumed>, child_tidptr=0x7f) = 101
    101 1.100300 <... openat resumed>) = 3</work/a/early.txt>
    101 1.100400 execve("/usr/bin/node", ["node", "x.js"], 0x2 /* 3 vars */) = 0
    101 1.200000 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f1, parent_tid=0x7f1, exit_signal=0, stack=0x7f2, stack_size=0x7ffe80, tls=0x7f3} <unfinished ...>
    102 1.200100 openat(AT_FDCWD</work/a>, "/home/alex/.npmrc", O_RDONLY|O_CLOEXEC) = 19</home/alex/.npmrc>
    101 1.200200 <... clone3 resumed> => {parent_tid=[102]}, 88) = 102
    102 1.250000 clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 103
    103 1.250100 execve("/bin/true", ["true"], 0x3 /* 3 vars */) = 0
    103 1.250200 +++ exited with 0 +++
    102 1.300000 +++ exited with 0 +++
    101 1.400000 exit_group(7) = ?
    101 1.400100 +++ exited with 7 +++
    100 1.500000 +++ exited with 7 +++
  `, { cwd: '/work/a' });

  it('creates processes, not threads, and links parents even when the child speaks first', () => {
    assert.deepEqual(
      r.processes.map((p) => [p.id, p.pid, p.parentId, p.argv[0], p.startedAt, p.endedAt, p.exitCode]),
      [
        ['p1', 100, null, 'sh', 1.0, 1.5, 7],
        // Its openat printed before the clone returned: it started then.
        ['p2', 101, 'p1', 'node', 1.1001, 1.4001, 7],
        // Forked by a thread of node: its parent is node.
        ['p3', 103, 'p2', 'true', 1.25, 1.2502, 0],
      ],
    );
  });

  it('charges a thread’s calls to its process, even before the clone3 returns', () => {
    assert.deepEqual(fileOps(r.files), [
      'p1 exec /bin/sh execve ok',
      'p2 create /work/a/early.txt mode 0644 openat ok',
      'p2 exec /usr/bin/node execve ok',
      'p2 read /home/alex/.npmrc openat ok',
      'p3 exec /bin/true execve ok',
    ]);
  });

  it('does not end a process when one of its threads exits', () => {
    assert.equal(processByPid(r, 101).endedAt, 1.4001);
    assert.equal(r.processes.some((p) => p.pid === 102), false);
  });
});

describe('argv', () => {
  it('decodes escapes and keeps truncated strings', () => {
    const r = parseText(`
      200 5.0 execve("/bin/echo", ["echo", "a\\"b\\\\n", "tab\\there", "\\x41\\102", "caf\\303\\251", "abc"..., ...], 0x1 /* 1 var */) = 0
    `);
    assert.deepEqual(r.processes[0]?.argv, ['echo', 'a"b\\n', 'tab\there', 'AB', 'café', 'abc']);
    assert.equal(r.processes[0]?.exe, '/bin/echo');
  });

  it('inherits the parent’s argv until the child execs', () => {
    const r = parseText(`
      1 1.0 execve("/usr/bin/python3", ["python3", "setup.py"], 0x1 /* 1 var */) = 0
      1 1.1 fork() = 2
      2 1.2 openat(AT_FDCWD</p>, "x", O_RDONLY) = 3</p/x>
    `);
    assert.deepEqual(processByPid(r, 2).argv, ['python3', 'setup.py']);
    assert.equal(processByPid(r, 2).exe, '/usr/bin/python3');
    assert.deepEqual(processByPid(r, 2).images, []);
  });
});

describe('exec', () => {
  it('records failed lookups as probes and other failures as execs; argv keeps the last success', () => {
    const r = parseText(`
      1 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      1 1.1 execve("/usr/local/bin/gcc", ["gcc"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)
      1 1.2 execve("./payload", ["./payload"], 0x1 /* 1 var */) = -1 EACCES (Permission denied)
      1 1.3 execveat(5</tmp/x/bin/tool>, "", ["tool", "-v"], 0x1 /* 1 var */, AT_EMPTY_PATH) = 0
    `);
    assert.deepEqual(fileOps(r.files), [
      'p1 exec /bin/sh execve ok',
      `p1 exec ${PKG}/payload execve EACCES`,
      'p1 exec /tmp/x/bin/tool execveat ok',
    ]);
    // The gcc lookup is a PATH probe: folded away as noise, but counted.
    assert.equal(r.suppressedFiles, 1);
    assert.deepEqual(r.processes[0]?.argv, ['tool', '-v']);
    assert.deepEqual(
      r.processes[0]?.images.map((i) => i.path),
      ['/bin/sh', '/tmp/x/bin/tool'],
    );
  });

  it('leaves out the sandbox wrapper: its image, exec event and stdio plumbing', () => {
    const r = parseText(
      `
      1 1.0 execve("/usr/bin/sh", ["sh", "-c", "exec 2>&3 3>&-; exec /bin/sh -c \\"$1\\"", "sh", "node i.js"], 0x1 /* 1 var */) = 0
      1 1.1 dup2(3<TCP:[10.0.0.2:1->10.0.0.1:2]>, 2) = 2<TCP:[10.0.0.2:1->10.0.0.1:2]>
      1 1.2 execve("/bin/sh", ["/bin/sh", "-c", "node i.js"], 0x1 /* 1 var */) = 0
      1 1.3 dup2(4<TCP:[10.0.0.2:3->192.0.2.1:4]>, 1) = 1<TCP:[10.0.0.2:3->192.0.2.1:4]>
    `,
      { wrapperExecs: 1 },
    );
    const root = r.processes[0];
    assert.deepEqual(root?.images, [{ time: 1.2, path: '/bin/sh', argv: ['/bin/sh', '-c', 'node i.js'] }]);
    assert.deepEqual(fileOps(r.files), ['p1 exec /bin/sh execve ok']);
    // Only the dup2 made by the script itself counts.
    assert.deepEqual(root?.stdioSockets, [{ fd: 1, socket: 'TCP:[10.0.0.2:3->192.0.2.1:4]', time: 1.3 }]);
  });

  it('follows an execve from a non-leader thread into the leader', () => {
    const r = parseText(`
      300 1.0 execve("/usr/bin/node", ["node"], 0x1 /* 1 var */) = 0
      300 1.1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0} => {parent_tid=[301]}, 88) = 301
      301 1.2 execve("/bin/sh", ["sh", "-c", "id"], 0x1 /* 1 var */ <pid changed to 300 ...>
      300 1.3 +++ superseded by execve in pid 301 +++
      300 1.3 <... execve resumed>) = 0
      300 1.4 +++ exited with 0 +++
    `);
    assert.equal(r.processes.length, 1);
    assert.deepEqual(r.processes[0]?.argv, ['sh', '-c', 'id']);
    assert.deepEqual(
      r.processes[0]?.images.map((i) => i.path),
      ['/usr/bin/node', '/bin/sh'],
    );
    assert.equal(r.processes[0]?.endedAt, 1.4);
  });
});

describe('process ends', () => {
  it('reads kills, blocked calls and sandbox kills', () => {
    const r = parseText(
      `
      10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      10 1.1 clone(child_stack=NULL, flags=SIGCHLD) = 11
      11 1.2 setsid() = 11
      11 1.3 connect(3<TCP:[77]>, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("192.0.2.10")}, 16 <unfinished ...>
      10 1.4 exit_group(0) = ?
      10 1.5 +++ exited with 0 +++
      11 9.0 +++ killed by SIGKILL +++
    `,
      { killedPids: [11] },
    );
    const daemon = processByPid(r, 11);
    assert.deepEqual(
      [daemon.endedAt, daemon.exitCode, daemon.signal, daemon.detached, daemon.outlivedScript, daemon.killedBySandbox],
      [9.0, null, 'SIGKILL', true, true, true],
    );
    // The connect never returned before the kill: still an attempt.
    assert.deepEqual(
      r.connections.map((c) => [c.processId, c.address, c.port, c.protocol, c.result]),
      [['p2', '192.0.2.10', 4444, 'tcp', 'unfinished']],
    );
    assert.deepEqual(r.rootExit, { exitCode: 0, signal: null });
  });

  it('falls back to exit_group when the trace stops before the exit line', () => {
    const r = parseText(`
      10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      10 1.4 exit_group(2) = ?
    `);
    assert.deepEqual(r.rootExit, { exitCode: 2, signal: null });
    assert.equal(r.processes[0]?.endedAt, 1.4);
  });

  it('does not count a child whose exit the tracer reported just after the shell’s, but one that lived on', () => {
    const r = parseText(
      `
      10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      10 1.1 fork() = 11
      10 1.1 fork() = 12
      11 1.2 execve("/usr/bin/node", ["node", "x.js"], 0x1 /* 1 var */) = 0
      12 1.2 execve("/usr/bin/node", ["node", "late.js"], 0x1 /* 1 var */) = 0
      10 1.5 +++ exited with 0 +++
      11 1.6 +++ exited with 0 +++
      12 1.8 +++ exited with 0 +++
    `,
      { scriptEndedAt: 1.5 },
    );
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.outlivedScript]),
      [
        [10, false],
        [11, false],
        [12, true],
      ],
    );
  });

  it('treats a still-running child as outliving the script when the script ended', () => {
    const r = parseText(
      `
      10 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      10 1.1 fork() = 11
      11 1.2 execve("/bin/sleep", ["sleep", "99"], 0x1 /* 1 var */) = 0
    `,
      { scriptEndedAt: 1.3 },
    );
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.endedAt, p.outlivedScript]),
      [
        [10, null, false],
        [11, null, true],
      ],
    );
    assert.equal(r.rootExit, null);
  });

  it('tells two processes apart when a pid is reused', () => {
    const r = parseText(`
      1 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      1 1.1 fork() = 2
      2 1.2 execve("/bin/a", ["a"], 0x1 /* 1 var */) = 0
      2 1.3 +++ exited with 0 +++
      1 1.4 fork() = 2
      2 1.5 execve("/bin/b", ["b"], 0x1 /* 1 var */) = 0
      2 1.6 +++ exited with 1 +++
    `);
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.argv[0], p.startedAt, p.exitCode]),
      [
        [1, 'sh', 1.0, null],
        [2, 'a', 1.1, 0],
        [2, 'b', 1.4, 1],
      ],
    );
  });

  it('makes a CLONE_PARENT child its creator’s sibling, and adopts orphans under the root', () => {
    const r = parseText(`
      1 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      1 1.1 fork() = 2
      2 1.2 clone(child_stack=NULL, flags=CLONE_PARENT|SIGCHLD) = 3
      9 1.3 openat(AT_FDCWD</>, "/etc/passwd", O_RDONLY) = 3</etc/passwd>
    `);
    assert.deepEqual(
      r.processes.map((p) => [p.pid, p.parentId]),
      [
        [1, null],
        [2, 'p1'],
        [3, 'p1'],
        [9, 'p1'],
      ],
    );
    assert.deepEqual(fileOps(r.files), ['p1 exec /bin/sh execve ok', 'p4 read /etc/passwd openat ok']);
  });
});

describe('working directory', () => {
  it('follows chdir and fchdir, and prefers the kernel’s AT_FDCWD view', () => {
    const r = parseText(
      `
      1 1.0 chdir("../other//dir/.") = 0
      1 1.1 open("rel.txt", O_WRONLY|O_CREAT, 0600) = 3</w/other/dir/rel.txt>
      1 1.2 fchdir(4</opt/tools>) = 0
      1 1.3 unlink("old.log") = 0
      1 1.4 chdir("/missing") = -1 ENOENT (No such file or directory)
      1 1.5 mkdir("new", 0755) = 0
      1 1.6 openat(AT_FDCWD</real/cwd>, "x", O_RDONLY) = 3</real/cwd/x>
      1 1.7 rmdir("gone") = 0
    `,
      { cwd: '/w/pkg' },
    );
    assert.deepEqual(fileOps(r.files), [
      'p1 create /w/other/dir/rel.txt mode 0600 open ok',
      'p1 delete /opt/tools/old.log unlink ok',
      'p1 mkdir /opt/tools/new mode 0755 mkdir ok',
      'p1 read /real/cwd/x openat ok',
      'p1 delete /real/cwd/gone rmdir ok',
    ]);
    assert.equal(r.processes[0]?.cwd, '/w/pkg');
  });
});

describe('file operations', () => {
  const r = parseText(
    `
    50 1.00 openat(AT_FDCWD</w>, "link-to-secret", O_RDONLY|O_CLOEXEC) = 3</home/alex/.ssh/id_rsa>
    50 1.01 newfstatat(3</home/alex/.ssh/id_rsa>, "", {st_mode=S_IFREG|0600, st_size=411, ...}, AT_EMPTY_PATH) = 0
    50 1.02 statx(3</w/a>, "", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH, STATX_ALL, {stx_mask=STATX_ALL, ...}) = 0
    50 1.03 openat(5</etc>, "passwd", O_RDONLY) = 3</etc/passwd>
    50 1.04 openat(AT_FDCWD</w>, "/w/../etc//shadow", O_RDONLY) = -1 EACCES (Permission denied)
    50 1.05 openat(AT_FDCWD</w>, "dir", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3</w/dir>
    50 1.06 openat(AT_FDCWD</w>, "state", O_RDWR) = 3</w/state>
    50 1.07 openat(AT_FDCWD</w>, "p", O_PATH) = 3</w/p>
    50 1.08 openat2(AT_FDCWD</w>, "n.txt", {flags=O_WRONLY|O_CREAT|O_EXCL, mode=0640, resolve=0}, 24) = 3</w/n.txt>
    50 1.09 creat("/home/alex/.bashrc", 0644) = 3</home/alex/.bashrc>
    50 1.10 unlinkat(AT_FDCWD</w>, "build", AT_REMOVEDIR) = 0
    50 1.11 renameat(3</w/a>, "x", AT_FDCWD</w>, "/home/alex/.npmrc") = 0
    50 1.12 symlink("../secrets/key", "/w/lib/key") = 0
    50 1.13 link("/w/a", "/w/b") = -1 EEXIST (File exists)
    50 1.14 chmod("/w/run.sh", 04755) = 0
    50 1.15 fchmodat(AT_FDCWD</w>, "tool", 0700) = 0
    50 1.16 access("/opt/bin/docker", X_OK) = -1 ENOENT (No such file or directory)
    50 1.17 readlinkat(AT_FDCWD</w>, "/proc/1/exe", 0x7ffe, 4096) = -1 EACCES (Permission denied)
    50 1.18 openat(AT_FDCWD</w>, "/proc/self/environ", O_RDONLY) = 3</proc/50/environ>
    50 1.19 openat(AT_FDCWD</w>, "/proc/7/environ", O_RDONLY) = 3</proc/7/environ>
    50 1.20 openat(AT_FDCWD</w>, "we\\74i\\76rd", O_RDONLY) = 3</w/we\\74i\\76rd>
    50 1.21 truncate("/w/log", 0) = 0
    50 1.22 lstat("/.dockerenv", 0x7ffe) = -1 ENOENT (No such file or directory)
  `,
    { cwd: '/w', context: { projectDir: '/p', packageDir: '/pkg', home: '/home/alex', nodePrefix: '/usr/local' } },
  );

  it('classifies and resolves each call', () => {
    assert.deepEqual(fileOps(r.files), [
      'p1 read /home/alex/.ssh/id_rsa openat ok',
      'p1 read /etc/passwd openat ok',
      'p1 read /etc/shadow openat EACCES',
      'p1 read /w/dir openat ok',
      'p1 write /w/state openat ok',
      'p1 probe /w/p openat ok',
      'p1 create /w/n.txt mode 0640 openat2 ok',
      'p1 create /home/alex/.bashrc mode 0644 creat ok',
      'p1 delete /w/build unlinkat ok',
      'p1 rename /w/a/x -> /home/alex/.npmrc renameat ok',
      'p1 link /w/lib/key -> /w/secrets/key symlink ok',
      'p1 link /w/b -> /w/a link EEXIST',
      'p1 chmod /w/run.sh mode 04755 chmod ok',
      'p1 chmod /w/tool mode 0700 fchmodat ok',
      'p1 probe /opt/bin/docker access ENOENT',
      'p1 probe /proc/1/exe readlinkat EACCES',
      // Its own environ (pid 50) reads as /proc/self/environ; another's keeps its pid.
      'p1 read /proc/self/environ openat ok',
      'p1 read /proc/7/environ openat ok',
      'p1 read /w/we<i>rd openat ok',
      'p1 write /w/log truncate ok',
      'p1 probe /.dockerenv lstat ENOENT',
    ]);
    assert.equal(r.unparsedLines, 0);
  });

  it('reports the file a symlink led to, and what was asked for', () => {
    assert.equal(r.files[0]?.path, '/home/alex/.ssh/id_rsa');
    assert.equal(r.files[0]?.requestedPath, '/w/link-to-secret');
    assert.equal(r.files[1]?.requestedPath, undefined);
  });
});

describe('network', () => {
  const r = parseText(`
    1 1.00 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<socket:[501]>
    1 1.01 connect(3<socket:[501]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("198.51.100.7")}, 16) = 0
    1 1.02 sendto(3<TCP:[10.0.0.2:5->198.51.100.7:443]>, "GET / HTTP/1.1\\r\\n", 16, MSG_NOSIGNAL, NULL, 0) = 16
    1 1.03 connect(4<TCPv6:[502]>, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::5", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH (Network is unreachable)
    1 1.04 connect(5<UNIX-STREAM:[503]>, {sa_family=AF_UNIX, sun_path="/var/run/docker.sock"}, 110) = -1 ENOENT (No such file or directory)
    1 1.05 connect(6<UNIX-STREAM:[504]>, {sa_family=AF_UNIX, sun_path=@"abstract-ns"}, 14) = -1 ECONNREFUSED (Connection refused)
    1 1.06 bind(7<NETLINK:[505]>, {sa_family=AF_NETLINK, nl_pad=0x0, nl_pid=0, nl_groups=00000000}, 12) = 0
    1 1.07 sendmsg(8<UDP:[506]>, {msg_name={sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, msg_namelen=16, msg_iov=[{iov_base="ab", iov_len=2}, {iov_base="\\0cd", iov_len=3}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 5
    1 1.08 connect(9<UDP:[507]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, 16) = 0
    1 1.09 sendmmsg(9<UDP:[10.0.0.2:4000->192.0.2.53:53]>, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="Z\\240\\1\\0\\0\\1\\7example\\7invalid\\0\\0\\1\\0", iov_len=29}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=29}, {msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="AAAA", iov_len=4}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=4}], 2, MSG_NOSIGNAL) = 1
    1 1.10 connect(10<UDP:[508]>, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"}, 16) = 0
    1 1.11 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 11<socket:[509]>
    1 1.12 connect(11<socket:[509]>, {sa_family=AF_INET, sin_port=htons(9999), sin_addr=inet_addr("203.0.113.9")}, 16) = 0
    1 1.13 sendto(11<socket:[509]>, "x", 1, 0, NULL, 0) = 1
    1 1.14 bind(12<TCP:[510]>, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
    1 1.15 listen(12<TCP:[0.0.0.0:8000]>, 511) = 0
    1 1.16 accept4(12<TCP:[0.0.0.0:8000]>, 0x7ffe, [128], SOCK_CLOEXEC|SOCK_NONBLOCK) = -1 EAGAIN (Resource temporarily unavailable)
    1 1.17 accept4(12<TCP:[0.0.0.0:8000]>, {sa_family=AF_INET, sin_port=htons(50000), sin_addr=inet_addr("192.0.2.99")}, [128 => 16], SOCK_CLOEXEC) = 13<TCP:[10.0.0.2:8000->192.0.2.99:50000]>
  `);

  it('records each attempt with family, protocol, address and result', () => {
    assert.deepEqual(
      r.connections.map((c) => [c.id, c.syscall, c.family, c.protocol, c.address, c.port, c.result, c.payload]),
      [
        // protocol from the socket() that created inode 501
        ['n1', 'connect', 'inet', 'tcp', '198.51.100.7', 443, 'ok', undefined],
        ['n2', 'connect', 'inet6', 'tcp', '2001:db8::5', 8080, 'ENETUNREACH', undefined],
        ['n3', 'connect', 'unix', null, '/var/run/docker.sock', null, 'ENOENT', undefined],
        ['n4', 'connect', 'unix', null, '@abstract-ns', null, 'ECONNREFUSED', undefined],
        ['n5', 'sendmsg', 'inet', 'udp', '192.0.2.53', 53, 'ok', 'ab\0cd'],
        ['n6', 'connect', 'inet', 'udp', '192.0.2.53', 53, 'ok', undefined],
        ['n7', 'sendmmsg', 'inet', 'udp', '192.0.2.53', 53, 'ok', 'Z\xa0\x01\0\0\x01\x07example\x07invalid\0\0\x01\0'],
        ['n8', 'sendmmsg', 'inet', 'udp', '192.0.2.53', 53, 'unsent', 'AAAA'],
        ['n9', 'connect', 'inet', 'udp', '203.0.113.9', 9999, 'ok', undefined],
        // a connected UDP socket strace could only show as socket:[509]: peer from its connect()
        ['n10', 'sendto', 'inet', 'udp', '203.0.113.9', 9999, 'ok', 'x'],
        ['n11', 'bind', 'inet', 'tcp', '0.0.0.0', 8000, 'ok', undefined],
        ['n12', 'listen', 'inet', 'tcp', '0.0.0.0', 8000, 'ok', undefined],
        ['n13', 'accept4', 'inet', 'tcp', '192.0.2.99', 50000, 'ok', undefined],
      ],
    );
    assert.equal(r.unparsedLines, 0);
  });

  it('caps payloads at 4096 bytes', () => {
    const big = 'A'.repeat(5000);
    const capped = parseText(`
      1 1.0 sendto(3<UDP:[1]>, "${big}"..., 5000, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.53")}, 16) = 5000
    `);
    assert.equal(capped.connections[0]?.payload?.length, 4096);
  });
});

describe('stdio sockets', () => {
  it('flags inet sockets on fds 0-2 only', () => {
    const r = parseText(`
      1 1.0 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3<socket:[900]>
      1 1.1 dup3(3<socket:[900]>, 0, 0) = 0<socket:[900]>
      1 1.2 dup2(4<UNIX-STREAM:[22808->22807]>, 1) = 1<UNIX-STREAM:[22808->22807]>
      1 1.3 dup2(5<pipe:[1]>, 2) = 2<pipe:[1]>
      1 1.4 dup2(6<UDPv6:[[::1]:5->[::1]:6]>, 2) = 2<UDPv6:[[::1]:5->[::1]:6]>
      1 1.5 dup2(7<TCP:[10.0.0.2:1->192.0.2.1:2]>, 9) = 9<TCP:[10.0.0.2:1->192.0.2.1:2]>
      1 1.6 dup2(8<TCP:[10.0.0.2:1->192.0.2.1:2]>, 1) = -1 EBADF (Bad file descriptor)
    `);
    assert.deepEqual(r.processes[0]?.stdioSockets, [
      { fd: 0, socket: 'socket:[900]', time: 1.1 },
      { fd: 2, socket: 'UDPv6:[[::1]:5->[::1]:6]', time: 1.4 },
    ]);
  });
});

describe('robustness', () => {
  it('survives garbage, cut lines and unknown syscalls, and counts what it skipped', () => {
    const r = parseText(`
      1 1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0
      this is not strace
      1 1.1 openat(AT_FDCWD</w>, "half
      1 1.2 openat(AT_FDCWD</w>, 42, O_RDONLY) = 3
      1 1.3 prctl(PR_SET_NAME, "x") = 0
      1 1.4 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2} ---
      1 1.5 openat(AT_FDCWD</w>, "ok", O_RDONLY) = 3</w/ok>
    `);
    assert.deepEqual(fileOps(r.files), ['p1 exec /bin/sh execve ok', 'p1 read /w/ok openat ok']);
    // garbage, the cut openat, and the openat whose path is not a string
    assert.equal(r.unparsedLines, 3);
  });

  it('never throws on random input', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '0123456789 .()[]{}<>"\\,=-+|/_aAeExX?@\n';
    const valid = '12 1.5 openat(AT_FDCWD</w>, "a\\"b", O_RDONLY) = 3</w/a\\"b>';
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // Mutate a valid line, or build noise from strace's own characters.
      const base = rand(2) === 0 ? valid : '';
      let line = base.slice(0, rand(base.length + 1));
      for (let j = rand(40); j > 0; j--) line += alphabet[rand(alphabet.length)];
      lines.push(line);
    }
    assert.doesNotThrow(() => parseText('', { lines }));
  });
});
