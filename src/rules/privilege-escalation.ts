import { SANDBOX_UID } from '../sandbox/layout.js';
import type { PrivilegeCall, ProcessEvent } from '../session/types.js';
import type { Finding, Rule, Severity } from './types.js';
import { contentPath, isAttempt } from './file-changes.js';
import { normalizePath } from './paths.js';
import { imagesOf, programNames } from './processes.js';
import { scriptSource } from './programs.js';
import { formatArgv, listSome } from './text.js';

/**
 * Trying to become someone more powerful, or to reach into other processes:
 * - running sudo/su/pkexec/doas/runuser (seen executing, or named at command position in an
 *   inline shell command: the sandbox has no sudo, so the exec itself never shows);
 * - set*id calls to an id other than the sandbox user's own (a no-op `setuid(1000)` or
 *   `setresuid(-1, -1, -1)` changes nothing and is ignored), capset raising capabilities,
 *   prctl raising ambient capabilities;
 * - ptrace attaching to or poking another process (PTRACE_TRACEME is a debugger check: recon);
 * - signals to processes it did not start (the tracer already dropped its own children): pid 1
 *   or every process (-1) is high, another pid medium; signal 0 only asks "alive?" and is ignored;
 * - chmod/create with the setuid or setgid bit;
 * - writes to sudoers, passwd/shadow/group, PAM and polkit config (attempts count).
 */
export const privilegeEscalationRule: Rule = {
  id: 'privilege-escalation',
  evaluate({ session }) {
    const findings: Finding[] = [];
    for (const process of session.processes) {
      const elevation = elevatorRun(process);
      if (elevation) findings.push({ rule: 'privilege-escalation', severity: 'high', message: elevation, evidence: [process.id] });
      for (const call of process.privilegeCalls ?? []) {
        const judged = judgeCall(call);
        if (judged) findings.push({ rule: 'privilege-escalation', severity: judged.severity, message: `${judged.message}: ${call.syscall}(${call.args}) = ${call.result}`, evidence: [process.id] });
      }
    }
    const setid = session.files.filter((event) => (event.op === 'chmod' || event.op === 'create') && isAttempt(event) && hasSetIdBit(event.mode));
    if (setid.length > 0) {
      findings.push({
        rule: 'privilege-escalation',
        severity: 'high',
        message: `sets the setuid/setgid bit: ${listSome(setid.map((event) => `${event.path} (${event.mode})`))}`,
        evidence: setid.map((event) => event.id),
      });
    }
    const privileged = session.files.filter((event) => {
      const path = contentPath(event) ?? (event.op === 'chmod' ? event.path : undefined);
      return path !== undefined && isAttempt(event) && isPrivilegedFile(path);
    });
    if (privileged.length > 0) {
      findings.push({
        rule: 'privilege-escalation',
        severity: 'high',
        message: `${privileged.some((e) => e.result === 'ok') ? 'changes' : 'tries to change'} who may do what: ${listSome([...new Set(privileged.map((e) => contentPath(e) ?? e.path))])}`,
        evidence: privileged.map((event) => event.id),
      });
    }
    return mergeByMessage(findings);
  },
};

const ELEVATORS = /^(sudo|su|pkexec|doas|runuser|sudoedit)$/;
/** At command position: start, after ; & | ( ` $( or a newline, optionally behind `exec`/`command`. */
const ELEVATOR_IN_TEXT = /(^|[;&|(`\n]|\$\()\s*(exec\s+|command\s+)?(sudo|su|pkexec|doas)(\s|$)/;

function elevatorRun(process: ProcessEvent): string | undefined {
  for (const image of imagesOf(process)) {
    if (programNames(image).some((name) => ELEVATORS.test(name))) return `runs ${formatArgv(image.argv, 80)}`;
    if (scriptSource(image, process.cwd)?.kind !== 'inline') continue;
    const code = image.argv.find((arg) => ELEVATOR_IN_TEXT.test(arg));
    if (code !== undefined) return `tries to run ${ELEVATOR_IN_TEXT.exec(code)?.[3]}: ${formatArgv(image.argv, 80)}`;
  }
  return undefined;
}

const SET_ID_ARGS: Record<string, number> = { setuid: 1, setgid: 1, setreuid: 2, setregid: 2, setresuid: 3, setresgid: 3 };
const PTRACE_REACH = /^PTRACE_(ATTACH|SEIZE|POKE\w*|SETREGS\w*|INTERRUPT)$/;

function judgeCall(call: PrivilegeCall): { severity: Severity; message: string } | undefined {
  const args = call.args.split(/,\s*/);
  const count = SET_ID_ARGS[call.syscall];
  if (count !== undefined) {
    // The sandbox user's uid and gid are the same number; -1 means "leave unchanged".
    const changes = args.slice(0, count).some((arg) => arg !== '-1' && Number(arg) !== SANDBOX_UID);
    return changes ? { severity: 'high', message: `tries to change its ${call.syscall.includes('gid') ? 'group' : 'user'} id` } : undefined;
  }
  if (call.syscall === 'capset') {
    const raised = /(effective|permitted|inheritable)=(?!0[,}])/.test(call.args);
    return raised ? { severity: 'high', message: 'tries to raise capabilities' } : undefined;
  }
  if (call.syscall === 'prctl') {
    if (args[0] === 'PR_CAP_AMBIENT' && args[1] === 'PR_CAP_AMBIENT_RAISE') return { severity: 'high', message: 'tries to raise an ambient capability' };
    if (args[0] === 'PR_SET_KEEPCAPS' || args[0] === 'PR_SET_SECUREBITS') return { severity: 'medium', message: 'changes how it keeps capabilities' };
    return undefined;
  }
  if (call.syscall === 'ptrace') {
    return PTRACE_REACH.test(args[0] ?? '') ? { severity: 'high', message: `reaches into another process (pid ${args[1] ?? '?'})` } : undefined;
  }
  if (call.syscall === 'kill' || call.syscall === 'tgkill') {
    const signal = args.at(-1);
    if (signal === '0') return undefined;
    const target = args[0];
    if (target === '1' || target === '-1') return { severity: 'high', message: target === '1' ? 'signals init (pid 1)' : 'signals every process it can' };
    return { severity: 'medium', message: `signals a process it did not start (pid ${target})` };
  }
  return undefined;
}

/** `04755`, `02775`, or symbolic `S_ISUID|0755`. */
export function hasSetIdBit(mode: string | undefined): boolean {
  if (mode === undefined) return false;
  if (/S_IS[UG]ID/.test(mode)) return true;
  return /^0?[0-7]+$/.test(mode) && (parseInt(mode, 8) & 0o6000) !== 0;
}

const PRIVILEGED_FILES = /^\/etc\/(sudoers(\.d\/.+)?|doas\.conf|passwd|shadow|group|gshadow|subuid|subgid|pam\.d\/.+|security\/.+|polkit-1\/.+)$/;

export function isPrivilegedFile(path: string): boolean {
  return PRIVILEGED_FILES.test(normalizePath(path));
}

/** Repeated identical attempts (a retry loop) are one finding with every process as evidence. */
function mergeByMessage(findings: Finding[]): Finding[] {
  const merged = new Map<string, Finding>();
  for (const finding of findings) {
    const known = merged.get(finding.message);
    if (known) known.evidence = [...new Set([...known.evidence, ...finding.evidence])];
    else merged.set(finding.message, { ...finding, evidence: [...finding.evidence] });
  }
  return [...merged.values()];
}
