/**
 * A g++-sized trace: 200k lines with long argv strings and interleaved halves. Run once by hand
 * it parses in well under 2 s; here only the counts are checked, never the time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseText } from './helpers.js';

const BUILD = '/home/alex/code/webapp/node_modules/pkg/build';

function* syntheticTrace(count: number): Generator<string> {
  let t = 1795433231;
  let pid = 1000;
  const long = `-DVALUE=\\"${'x'.repeat(3900)}\\n\\303\\251\\"`;
  yield `100 ${t.toFixed(6)} execve("/bin/sh", ["sh", "-c", "node-gyp rebuild"], 0x7ffe /* 35 vars */) = 0`;
  for (let i = 0; i < count; i++) {
    t += 0.00001;
    const ts = t.toFixed(6);
    switch (i % 8) {
      case 0:
        yield `100 ${ts} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = ${++pid}`;
        break;
      case 1: {
        const arg = i % 80 === 1 ? long : `src/file-${i}.cc`;
        yield `${pid} ${ts} execve("/usr/bin/g++", ["g++", "-c", "${arg}", "-o", "out-${i}.o", "-fPIC"], 0x55 /* 35 vars */) = 0`;
        break;
      }
      case 2:
        yield `${pid} ${ts} openat(AT_FDCWD<${BUILD}>, "/usr/include/stdio.h", O_RDONLY|O_NOCTTY) = 3</usr/include/stdio.h>`;
        break;
      case 3:
        yield `${pid} ${ts} openat(AT_FDCWD<${BUILD}>, "out-${i}.o", O_RDWR|O_CREAT|O_TRUNC, 0666 <unfinished ...>`;
        break;
      case 4:
        yield `100 ${ts} newfstatat(AT_FDCWD<${BUILD}>, "/usr/local/bin/g++", 0x7ffe, 0) = -1 ENOENT (No such file or directory)`;
        break;
      case 5:
        yield `${pid} ${ts} <... openat resumed>) = 4<${BUILD}/out-${i - 2}.o>`;
        break;
      case 6:
        yield `${pid} ${ts} exit_group(0) = ?`;
        break;
      default:
        yield `${pid} ${ts} +++ exited with 0 +++`;
    }
  }
}

describe('scale', () => {
  it('parses 200k lines in one linear pass', () => {
    const lines = [...syntheticTrace(200_000)];
    const r = parseText('', { lines });
    assert.equal(r.processes.length, 25_001);
    // per compiler: its exec and its object file; the header reads and PATH probes are noise
    assert.equal(r.files.length, 1 + 25_000 * 2);
    assert.equal(r.suppressedFiles, 25_000 * 2);
    assert.equal(r.unparsedLines, 0);
    const last = r.processes[r.processes.length - 1];
    assert.deepEqual(last?.argv.slice(0, 3), ['g++', '-c', 'src/file-199993.cc']);
    assert.equal(last?.exitCode, 0);
    const longArgv = r.processes[1]?.argv[2];
    assert.equal(longArgv?.length, `-DVALUE="`.length + 3900 + 3);
    assert.ok(longArgv?.endsWith('\né"'));
  });
});
