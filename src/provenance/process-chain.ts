/**
 * The initiating process chain: this process and its ancestors up to pid 1, read from /proc.
 * It answers "who started this install" when nothing else does (an agent that sets no
 * variable still shows up as an ancestor). Off Linux, or with /proc hidden, the chain is empty.
 */
import fs from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number | null;
  /** The kernel's short name (comm), e.g. `node`, `claude`, `bash`. */
  name: string;
  /** The full command line; empty when the process hid it or /proc denies it. */
  argv: string[];
}

/** A cap, so a corrupt or cyclic /proc view cannot make the walk loop. */
const MAX_DEPTH = 64;

export function readProcess(pid: number, procRoot = '/proc'): ProcessInfo | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The name is in parentheses and may itself contain spaces or ')': split at the LAST ')'.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const name = stat.slice(open + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  let argv: string[] = [];
  try {
    const raw = fs.readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8');
    argv = raw.split('\0');
    if (argv.at(-1) === '') argv.pop();
  } catch {
    // Kernel threads and processes of other users may deny it: the name is still known.
  }
  return { pid, ppid: Number.isInteger(ppid) && ppid > 0 ? ppid : null, name, argv };
}

/** From `pid` (default: this process) up to pid 1, nearest first. */
export function processChain(pid = process.pid, procRoot = '/proc'): ProcessInfo[] {
  const chain: ProcessInfo[] = [];
  const seen = new Set<number>();
  for (let current: number | null = pid; current !== null && chain.length < MAX_DEPTH && !seen.has(current); ) {
    seen.add(current);
    const info = readProcess(current, procRoot);
    if (!info) break;
    chain.push(info);
    if (current === 1) break;
    current = info.ppid;
  }
  return chain;
}
