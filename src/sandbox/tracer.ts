/**
 * How scripts are traced inside the sandbox. strace runs unprivileged (no capabilities needed to
 * trace your own children); `--seccomp-bpf` keeps the overhead low by stopping only on the
 * syscalls listed here. The trace parser (src/trace) understands exactly this output format.
 */
export const TRACED_SYSCALLS = [
  // processes
  'execve', 'execveat', 'clone', 'clone3', 'fork', 'vfork', 'exit_group', 'setsid', 'setpgid',
  'chdir', 'fchdir', 'kill', 'tgkill', 'ptrace', 'prctl',
  // privilege games
  'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'capset',
  // files
  'open', 'openat', 'openat2', 'creat', 'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2',
  'mkdir', 'mkdirat', 'rmdir', 'chmod', 'fchmod', 'fchmodat', 'link', 'linkat', 'symlink',
  'symlinkat', 'truncate', 'access', 'faccessat', 'faccessat2', 'stat', 'lstat', 'newfstatat',
  // readlink is left out: frequent in toolchains (realpath), and it reveals nothing a probe does not.
  'statx',
  // fds that matter (a shell whose stdio is a socket)
  'dup2', 'dup3',
  // network
  'socket', 'connect', 'bind', 'listen', 'accept', 'accept4', 'sendto', 'sendmsg', 'sendmmsg',
] as const;

/**
 * Signals strace prints. It prints `+++ killed by SIG... +++` only for signals in this set, so
 * with none a process that died of a signal (a crash's SIGSEGV, SIGPIPE at the end of a
 * pipeline, the sandbox's own SIGKILL) would have no end in the trace and look as if it outlived
 * its script. Left out are only the signals whose default action never ends a process (ignore,
 * continue, stop): SIGCHLD is sent on every child exit, Go runtimes preempt with SIGURG.
 */
export const TRACED_SIGNALS = '!SIGCHLD,SIGCONT,SIGURG,SIGWINCH,SIGSTOP,SIGTSTP,SIGTTIN,SIGTTOU';

/** Bytes of string arguments strace prints (paths, argv, datagram payloads). */
export const TRACE_STRING_LIMIT = 4096;

/** strace arguments; the traced command follows `--`. */
export function straceArgs(): string[] {
  return [
    '-f', // follow every child, grandchild, daemon
    '-q', // no attach/detach chatter, but keep `+++ exited with N +++`
    '-ttt', // unix timestamps with microseconds
    '-yy', // print paths and socket endpoints for fds
    '-s', String(TRACE_STRING_LIMIT),
    '--seccomp-bpf',
    '-e', `signal=${TRACED_SIGNALS}`,
    '-e', `trace=${TRACED_SYSCALLS.join(',')}`,
  ];
}
