import type { Finding, Rule } from './types.js';
import { scriptProcesses } from './processes.js';
import { formatArgv, listSome } from './text.js';

/** A process that detaches or outlives its script keeps running after npm thinks the install is done. */
export const detachedProcessRule: Rule = {
  id: 'detached-process',
  evaluate({ session }) {
    const findings: Finding[] = [];
    for (const script of session.scripts) {
      const lingering = scriptProcesses(session, script).filter((process) => process.outlivedScript || process.detached);
      if (lingering.length === 0) continue;
      const described = lingering.map((process) => {
        const how = [process.detached ? 'detached' : '', process.outlivedScript ? 'outlived the script' : ''].filter(Boolean).join(', ');
        return `${formatArgv(process.argv, 60)} (${how})`;
      });
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
