import type { ProcessEvent } from '../session/types.js';
import type { Finding, Rule } from './types.js';
import { imagesOf, programNames, scriptProcesses } from './processes.js';
import { formatArgv, listSome } from './text.js';

/** Launchers whose only job is to let a command outlive the shell that started it. */
const DETACHERS = new Set(['nohup', 'setsid', 'daemonize', 'start-stop-daemon', 'disown', 'screen', 'tmux', 'at', 'batch']);

/**
 * A process that detaches (setsid, daemon(3), nohup and friends) or outlives its script keeps
 * running after npm thinks the install is done. A detacher that ran and ended with the script
 * left nothing behind and is not reported.
 */
export const detachedProcessRule: Rule = {
  id: 'detached-process',
  evaluate({ session }) {
    const findings: Finding[] = [];
    for (const script of session.scripts) {
      const lingering = scriptProcesses(session, script).filter((process) => process.outlivedScript || process.detached);
      if (lingering.length === 0) continue;
      const described = lingering.map((process) => `${formatArgv(process.argv, 60)} (${howItLingers(process)})`);
      findings.push({
        rule: 'detached-process',
        severity: 'medium',
        message: `${script.event} script leaves ${lingering.length === 1 ? 'a process' : `${lingering.length} processes`} behind: ${listSome(described, 2)}`,
        evidence: lingering.map((process) => process.id),
      });
    }
    return findings;
  },
};

function howItLingers(process: ProcessEvent): string {
  const via = imagesOf(process)
    .flatMap(programNames)
    .find((name) => DETACHERS.has(name));
  return [process.detached ? 'detached' : '', via && via !== 'setsid' ? `via ${via}` : '', process.outlivedScript ? 'outlived the script' : '']
    .filter(Boolean)
    .join(', ');
}
