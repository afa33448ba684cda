import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader, type TraceEvent } from '../../src/trace/line.js';

function read(lines: string[]): { events: TraceEvent[]; unparsed: number } {
  const reader = new LineReader();
  const events: TraceEvent[] = [];
  for (const line of lines) reader.feed(line, (e) => events.push(e));
  reader.finish((e) => events.push(e));
  return { events, unparsed: reader.unparsed };
}

describe('line reader', () => {
  it('joins unfinished and resumed halves per thread', () => {
    const { events, unparsed } = read([
      '9953  1795433338.969572 newfstatat(AT_FDCWD</tmp/tr>, "/root/.cargo/bin/tr",  <unfinished ...>',
      '9954  1795433338.969602 dup2(4<pipe:[10237]>, 1</tmp/out> <unfinished ...>',
      '9953  1795433338.969657 <... newfstatat resumed>0x7fff264f8b30, 0) = -1 ENOENT (No such file or directory)',
      '9954  1795433338.969711 <... dup2 resumed>) = 1<pipe:[10237]>',
    ]);
    assert.equal(unparsed, 0);
    assert.deepEqual(events, [
      {
        kind: 'syscall',
        tid: 9953,
        time: 1795433338.969572,
        endTime: 1795433338.969657,
        name: 'newfstatat',
        text: 'AT_FDCWD</tmp/tr>, "/root/.cargo/bin/tr", 0x7fff264f8b30, 0) = -1 ENOENT (No such file or directory)',
      },
      {
        kind: 'syscall',
        tid: 9954,
        time: 1795433338.969602,
        endTime: 1795433338.969711,
        name: 'dup2',
        text: '4<pipe:[10237]>, 1</tmp/out>) = 1<pipe:[10237]>',
      },
    ]);
  });

  it('reads exits, kills and superseded threads; ignores signals and strace chatter', () => {
    const { events, unparsed } = read([
      '10 1.000001 +++ exited with 3 +++',
      '[pid    11] 1.000002 +++ killed by SIGKILL +++',
      '12 1.000003 +++ killed by SIGSEGV (core dumped) +++',
      '13 1.000004 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=10, si_uid=0, si_status=3} ---',
      'strace: Process 14 detached',
      '',
    ]);
    assert.equal(unparsed, 0);
    assert.deepEqual(events, [
      { kind: 'exit', tid: 10, time: 1.000001, exitCode: 3, signal: null },
      { kind: 'exit', tid: 11, time: 1.000002, exitCode: null, signal: 'SIGKILL' },
      { kind: 'exit', tid: 12, time: 1.000003, exitCode: null, signal: 'SIGSEGV' },
    ]);
  });

  it('emits a call still running when its task dies or the trace ends', () => {
    const { events } = read([
      '20 1.5 connect(3<TCP:[5]>, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("192.0.2.10")}, 16 <unfinished ...>',
      '20 9.5 +++ killed by SIGKILL +++',
      '21 1.6 openat(AT_FDCWD</x>, "fifo", O_RDONLY <unfinished ...>',
    ]);
    assert.deepEqual(
      events.map((e) => (e.kind === 'syscall' ? `${e.tid} ${e.name}(${e.text}` : `${e.tid} ${e.kind}`)),
      [
        '20 connect(3<TCP:[5]>, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("192.0.2.10")}, 16) = ?',
        '20 exit',
        '21 openat(AT_FDCWD</x>, "fifo", O_RDONLY) = ?',
      ],
    );
  });

  it('moves an exec’ing thread’s pending execve to the leader', () => {
    const { events } = read([
      '301 1.2 execve("/bin/sh", ["sh"], 0x1 /* 1 var */ <pid changed to 300 ...>',
      '300 1.3 +++ superseded by execve in pid 301 +++',
      '300 1.3 <... execve resumed>) = 0',
    ]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.tid]),
      [
        ['superseded', 300],
        ['syscall', 300],
      ],
    );
    const exec = events[1];
    assert.equal(exec?.kind === 'syscall' ? exec.text : '', '"/bin/sh", ["sh"], 0x1 /* 1 var */) = 0');
  });

  it('counts lines it cannot read, and never throws', () => {
    const { unparsed } = read([
      'complete garbage',
      '123 not-a-time openat()',
      '123 1.0 <... openat resumed>) = 3', // nothing pending
      '123 1.0 )(*&^%',
      '123 1.0 +++ exploded +++',
    ]);
    assert.equal(unparsed, 5);
  });

  it('binds the unprefixed first task to its pid once forks make strace print pids', () => {
    const { events } = read([
      '1.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0',
      '1.1 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
      '[pid   201] 1.2 execve("/bin/true", ["true"], 0x1 /* 1 var */) = 0',
      '[pid   200] 1.3 <... clone resumed>, child_tidptr=0x1) = 201',
      '[pid   201] 1.4 +++ exited with 0 +++',
      '1.5 +++ exited with 0 +++',
    ]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.tid]),
      [
        ['syscall', 0],
        ['syscall', 201],
        ['pid', 0],
        ['syscall', 0],
        ['exit', 201],
        ['exit', 0],
      ],
    );
    assert.deepEqual(events[2], { kind: 'pid', tid: 0, pid: 200 });
  });
});
