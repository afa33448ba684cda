import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCallText, parseRet, type Value } from '../../src/trace/args.js';
import { describeFd } from '../../src/trace/decoration.js';
import { bytesToText, unescapeC } from '../../src/trace/escapes.js';

function args(text: string): Value[] {
  const call = parseCallText(text);
  assert.ok(call, `should parse: ${text}`);
  return call.args;
}

describe('C string escapes', () => {
  it('decodes simple, hex and octal escapes to bytes', () => {
    assert.equal(unescapeC('a\\"b\\\\n'), 'a"b\\n');
    assert.equal(unescapeC('tab\\there\\n'), 'tab\there\n');
    assert.equal(unescapeC('\\x41\\102\\0'), 'AB\0');
    // Octal takes at most three digits: \0224 is \022 then "4".
    assert.equal(unescapeC('\\0224'), '\x124');
    assert.equal(unescapeC('\\1\\33['), '\x01\x1b[');
  });

  it('reads escaped UTF-8 bytes as text', () => {
    assert.equal(bytesToText(unescapeC('caf\\303\\251')), 'café');
    assert.equal(bytesToText('plain'), 'plain');
  });
});

describe('argument lists', () => {
  it('parses strings, flags, decorations and comments', () => {
    const [dirfd, path, flags, mode] = args(
      'AT_FDCWD</tmp/x>, "out.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</tmp/x/out.txt>',
    );
    assert.deepEqual(dirfd, { kind: 'atom', text: 'AT_FDCWD', decoration: '/tmp/x' });
    assert.deepEqual(path, { kind: 'str', bytes: 'out.txt', truncated: false, abstract: false });
    assert.deepEqual(flags, { kind: 'atom', text: 'O_WRONLY|O_CREAT|O_TRUNC', decoration: null });
    assert.deepEqual(mode, { kind: 'atom', text: '0666', decoration: null });
  });

  it('parses argv arrays with escapes, truncation and elision', () => {
    const [, argv, envp] = args(
      '"/bin/sh", ["sh", "-c", "a\\"b\\\\n", "abc"..., ...], 0x7ffe /* 35 vars */) = 0',
    );
    assert.deepEqual(argv, {
      kind: 'array',
      truncated: true,
      items: [
        { kind: 'str', bytes: 'sh', truncated: false, abstract: false },
        { kind: 'str', bytes: '-c', truncated: false, abstract: false },
        { kind: 'str', bytes: 'a"b\\n', truncated: false, abstract: false },
        { kind: 'str', bytes: 'abc', truncated: true, abstract: false },
      ],
    });
    assert.deepEqual(envp, { kind: 'atom', text: '0x7ffe', decoration: null });
  });

  it('parses sockaddr structs with calls inside', () => {
    const [, addr] = args(
      '3<TCPv6:[1]>, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
    );
    assert.equal(addr?.kind, 'struct');
    if (addr?.kind !== 'struct') return;
    assert.deepEqual(
      addr.fields.map((f) => f.name),
      ['sa_family', 'sin6_port', 'sin6_flowinfo', null, 'sin6_scope_id'],
    );
    assert.deepEqual(addr.fields[1]?.value, {
      kind: 'call',
      name: 'htons',
      args: [{ kind: 'atom', text: '443', decoration: null }],
    });
    const pton = addr.fields[3]?.value;
    assert.equal(pton?.kind === 'call' && pton.args[1]?.kind === 'str' ? pton.args[1].bytes : null, '::1');
  });

  it('parses `before => after` values (clone3, socklen)', () => {
    const call = parseCallText('{flags=CLONE_VM|CLONE_THREAD, exit_signal=0} => {parent_tid=[9172]}, 88) = 9172');
    assert.equal(call?.args[0]?.kind, 'changed');
    assert.equal(call?.ret.value, 9172);
    const [, , len] = args('3<TCP:[1]>, {sa_family=AF_INET}, [128 => 16], SOCK_CLOEXEC) = 5');
    assert.equal(len?.kind === 'array' ? len.items[0]?.kind : null, 'changed');
  });

  it('keeps parens and `) = ` inside strings out of the structure', () => {
    const call = parseCallText('AT_FDCWD</tmp>, "x) = 0 (y", O_RDONLY) = -1 ENOENT (No such file or directory)');
    assert.equal(call?.args[1]?.kind === 'str' ? call.args[1].bytes : null, 'x) = 0 (y');
    assert.deepEqual(call?.ret, { value: -1, errno: 'ENOENT', decoration: null, unfinished: false });
  });

  it('does not let a `[` in a path swallow the rest of the line', () => {
    // A directory named `x[` must not hide the secret read that follows it.
    const call = parseCallText('AT_FDCWD</tmp/x[>, "/home/alex/.npmrc", O_RDONLY) = 3</home/alex/.npmrc>');
    assert.equal(call?.args[0]?.kind === 'atom' ? call.args[0].decoration : null, '/tmp/x[');
    assert.equal(call?.args[1]?.kind === 'str' ? call.args[1].bytes : null, '/home/alex/.npmrc');
    assert.equal(call?.ret.decoration, '/home/alex/.npmrc');
  });

  it('reads socket decorations whose `->` sits inside brackets', () => {
    const [fd] = args('3<TCP:[10.0.0.2:4444->192.0.2.7:4444]>, 0</dev/null<char 1:3>>) = 0');
    assert.deepEqual(fd, { kind: 'atom', text: '3', decoration: 'TCP:[10.0.0.2:4444->192.0.2.7:4444]' });
  });

  it('skips unwanted arguments without changing the result', () => {
    const text = 'AT_FDCWD</x>, "a", {st_mode=S_IFREG|0644, st_rdev=makedev(0x1, 0x3), ...}, 0) = -1 EACCES (Permission denied)';
    const partial = parseCallText(text, 2);
    const full = parseCallText(text);
    assert.equal(partial?.args.length, 2);
    assert.equal(full?.args.length, 4);
    assert.deepEqual(partial?.ret, full?.ret);
  });

  it('refuses text that is not a syscall tail', () => {
    assert.equal(parseCallText('"unterminated'), null);
    assert.equal(parseCallText('3, 4'), null);
    assert.equal(parseCallText('3) garbage'), null);
  });
});

describe('return values', () => {
  it('reads values, errnos, decorations and `?`', () => {
    assert.deepEqual(parseRet(' = 0', 0), { value: 0, errno: null, decoration: null, unfinished: false });
    assert.deepEqual(parseRet(' = 3</etc/ld.so.cache>', 0), {
      value: 3,
      errno: null,
      decoration: '/etc/ld.so.cache',
      unfinished: false,
    });
    assert.deepEqual(parseRet(' = -1 EINPROGRESS (Operation now in progress)', 0)?.errno, 'EINPROGRESS');
    assert.deepEqual(parseRet(' = ? ERESTARTSYS (To be restarted if SA_RESTART is set)', 0)?.errno, 'ERESTARTSYS');
    assert.deepEqual(parseRet(' = ?', 0), { value: null, errno: null, decoration: null, unfinished: true });
    assert.equal(parseRet(' = 0x7f12', 0)?.value, 0x7f12);
  });
});

describe('fd decorations', () => {
  it('tells paths, inet sockets and other fds apart', () => {
    assert.deepEqual(describeFd('/dev/null<char 1:3>'), { kind: 'path', path: '/dev/null' });
    assert.deepEqual(describeFd('/tmp/gone (deleted)'), { kind: 'path', path: '/tmp/gone' });
    assert.deepEqual(describeFd('/tmp/we\\74i\\76rd \\"q\\"\\n\\303\\251'), { kind: 'path', path: '/tmp/we<i>rd "q"\né' });
    assert.deepEqual(describeFd('TCP:[10.0.0.2:37064->192.0.2.10:4444]'), {
      kind: 'socket',
      label: 'TCP',
      inode: null,
      local: { address: '10.0.0.2', port: 37064 },
      remote: { address: '192.0.2.10', port: 4444 },
      text: 'TCP:[10.0.0.2:37064->192.0.2.10:4444]',
    });
    const v6 = describeFd('TCPv6:[[::1]:5000->[2001:db8::1]:443]');
    assert.deepEqual(v6.kind === 'socket' ? [v6.local, v6.remote] : null, [
      { address: '::1', port: 5000 },
      { address: '2001:db8::1', port: 443 },
    ]);
    const unbound = describeFd('UDP:[9897]');
    assert.deepEqual(unbound.kind === 'socket' ? [unbound.label, unbound.inode] : null, ['UDP', 9897]);
    assert.equal(describeFd('pipe:[10237]').kind, 'other');
    assert.deepEqual(describeFd('UNIX-STREAM:[22808->22807]').kind, 'socket');
  });
});
