/**
 * privilegeCalls: identity, capability and cross-process calls. The call lines are copied from a
 * recording made on this host (python3 under strace as uid 1000, the sandbox user), pids renamed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFixture, parseText, processByPid } from './helpers.js';

describe('privilege calls', () => {
  const r = parseText(`
    10 1.000000 execve("/usr/bin/python3", ["python3", "priv.py"], 0x1 /* 3 vars */) = 0
    10 1.000100 setuid(0)       = -1 EPERM (Operation not permitted)
    10 1.000200 setuid(1000)    = 0
    10 1.000300 setresuid(-1, -1, -1) = 0
    10 1.000400 setregid(-1, 0) = -1 EPERM (Operation not permitted)
    10 1.000500 ptrace(PTRACE_TRACEME) = -1 EPERM (Operation not permitted)
    10 1.000600 ptrace(PTRACE_ATTACH, 1) = -1 EPERM (Operation not permitted)
    10 1.000700 prctl(PR_SET_NAME, "kworker/0:1") = 0
    10 1.000800 prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) = -1 EPERM (Operation not permitted)
    10 1.000900 prctl(PR_SET_PDEATHSIG, SIGKILL) = 0
    10 1.001000 prctl(PR_GET_DUMPABLE) = 1
    10 1.001100 capset({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_NET_RAW, permitted=1<<CAP_NET_RAW, inheritable=0}) = -1 EPERM (Operation not permitted)
    10 1.001200 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 11
    11 1.001300 execve("/usr/bin/sleep", ["sleep", "5"], 0x1 /* 3 vars */) = 0
    10 1.001400 kill(11, SIGTERM) = 0
    11 1.001500 +++ killed by SIGTERM +++
    10 1.001600 kill(1, SIGKILL) = -1 EPERM (Operation not permitted)
    10 1.001700 kill(-1, 0)     = 0
    10 1.001800 kill(0, SIGTERM) = 0
    10 1.001900 kill(-10, SIGHUP) = 0
    10 1.002000 tgkill(10, 10, 0) = 0
    10 1.002100 kill(4242, SIGKILL) = -1 ESRCH (No such process)
    10 1.002200 +++ exited with 0 +++
  `);

  it('records set*id, ptrace, capset and privilege prctls as strace printed them', () => {
    const calls = processByPid(r, 10).privilegeCalls ?? [];
    assert.deepEqual(
      calls.map((c) => [c.syscall, c.args, c.result]),
      [
        ['setuid', '0', 'EPERM'],
        ['setuid', '1000', 'ok'],
        ['setresuid', '-1, -1, -1', 'ok'],
        ['setregid', '-1, 0', 'EPERM'],
        ['ptrace', 'PTRACE_TRACEME', 'EPERM'],
        ['ptrace', 'PTRACE_ATTACH, 1', 'EPERM'],
        ['prctl', 'PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0', 'EPERM'],
        [
          'capset',
          '{version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_NET_RAW, permitted=1<<CAP_NET_RAW, inheritable=0}',
          'EPERM',
        ],
        ['kill', '1, SIGKILL', 'EPERM'],
        ['kill', '-1, 0', 'ok'],
        ['kill', '4242, SIGKILL', 'ESRCH'],
      ],
    );
    assert.equal(calls[0]?.time, 1.0001);
  });

  it('drops prctls about the caller alone and signals to itself, its children and its own group', () => {
    const kept = (processByPid(r, 10).privilegeCalls ?? []).map((c) => `${c.syscall}(${c.args})`);
    for (const dropped of ['prctl(PR_SET_NAME, "kworker/0:1")', 'prctl(PR_SET_PDEATHSIG, SIGKILL)', 'prctl(PR_GET_DUMPABLE)', 'kill(11, SIGTERM)', 'kill(0, SIGTERM)', 'kill(-10, SIGHUP)', 'tgkill(10, 10, 0)']) {
      assert.ok(!kept.includes(dropped), dropped);
    }
    assert.equal(processByPid(r, 11).privilegeCalls, undefined);
  });

  it("keeps the wrapper's calls out, as with its other plumbing", () => {
    const wrapped = parseText(
      `
      1 1.0 execve("/usr/bin/sh", ["sh", "-c", "exec 2>&3 3>&-; exec /bin/sh -c \\"$1\\"", "sh", "x"], 0x1 /* 1 var */) = 0
      1 1.1 prctl(PR_SET_KEEPCAPS, 1) = 0
      1 1.2 execve("/bin/sh", ["/bin/sh", "-c", "x"], 0x1 /* 1 var */) = 0
      1 1.3 setgid(0) = -1 EPERM (Operation not permitted)
    `,
      { wrapperExecs: 1 },
    );
    assert.deepEqual(wrapped.processes[0]?.privilegeCalls?.map((c) => c.syscall), ['setgid']);
  });

  it('npm naming its process (recorded: prctl(PR_SET_NAME, "npm run x")) leaves nothing', () => {
    const npm = parseText(`
      5 1.0 execve("/usr/local/bin/node", ["node", "/usr/local/bin/npm", "run", "x"], 0x1 /* 9 vars */) = 0
      5 1.1 prctl(PR_SET_NAME, "npm run x") = 0
    `);
    assert.equal(npm.processes[0]?.privilegeCalls, undefined);
  });

  it('recorded fixtures of ordinary programs (sh, node, python3, coreutils) have no privilege calls', () => {
    for (const name of ['pipeline', 'node-fs', 'detached', 'cd-relative', 'files', 'net', 'revshell']) {
      const calls = parseFixture(name).processes.flatMap((p) => p.privilegeCalls ?? []);
      assert.deepEqual(calls, [], name);
    }
  });
});
