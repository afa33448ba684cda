/**
 * Identity, capability and cross-process calls → `ProcessEvent.privilegeCalls`.
 *
 * The parser records facts and leaves judgement to the privilege-escalation and recon rules,
 * with two exceptions that keep the chain readable:
 * - prctl options that only name, query or restrict the caller itself are dropped: npm sets its
 *   process name (`PR_SET_NAME`) every time it starts.
 * - kill/tgkill aimed at the caller, its own descendants or its own process group are dropped:
 *   shells reap and signal their children constantly (`kill $!`, `trap 'kill 0' EXIT`).
 * Everything else is kept as strace printed it, including no-op set*id calls; recordings on this
 * host (node, npm, sh, bash, python3, gcc, make, git as uid 1000) show none of these calls except
 * npm's prctl(PR_SET_NAME), so the rules see real attempts, not startup chatter.
 */
import type { PrivilegeCall } from '../session/types.js';
import { atomArg, intArg, resultOf, type ParsedCall } from './args.js';

export const PRIVILEGE_SYSCALLS = [
  'setuid',
  'setgid',
  'setreuid',
  'setregid',
  'setresuid',
  'setresgid',
  'capset',
  'ptrace',
  'prctl',
  'kill',
  'tgkill',
] as const;

const SELF_ONLY_PRCTL = new Set([
  'PR_SET_NAME',
  'PR_SET_PDEATHSIG',
  'PR_SET_NO_NEW_PRIVS',
  'PR_SET_VMA',
  'PR_SET_TIMERSLACK',
  'PR_SET_THP_DISABLE',
  'PR_SET_CHILD_SUBREAPER',
  'PR_CAPBSET_READ',
  'PR_CAPBSET_DROP',
  'PR_SET_DUMPABLE',
  'PR_SET_TSC',
  'PR_SET_FP_MODE',
  'PR_SET_IO_FLUSHER',
]);

/** Answers whether a pid (or process group) is the caller itself or something it started. */
export type OwnTarget = (pid: number) => boolean;

/** The privilege call of one traced line, or null when it is not worth recording. */
export function privilegeCall(name: string, text: string, call: ParsedCall, time: number, isOwn: OwnTarget): PrivilegeCall | null {
  if (name === 'prctl') {
    const option = atomArg(call.args[0])?.text ?? '';
    if (option.startsWith('PR_GET_') || SELF_ONLY_PRCTL.has(option)) return null;
  }
  if (name === 'kill' || name === 'tgkill') {
    const target = intArg(call.args[0]);
    if (target !== null && isOwnTarget(target, isOwn)) return null;
  }
  return { time, syscall: name, args: text.slice(0, Math.max(0, call.argsEnd - 1)).trim(), result: resultOf(call) };
}

function isOwnTarget(target: number, isOwn: OwnTarget): boolean {
  if (target === 0) return true; // its own process group
  if (target === -1) return false; // every process it may signal
  return isOwn(Math.abs(target)); // a negative pid names the group that process leads
}
