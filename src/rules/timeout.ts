import type { Finding, Rule } from './types.js';
import { shorten } from './text.js';

/** A script that never finished may have been stalling until the sandbox gave up: never allowed. */
export const timeoutRule: Rule = {
  id: 'timeout',
  evaluate({ session }) {
    return session.scripts
      .filter((script) => script.outcome === 'timeout')
      .map((script): Finding => ({
        rule: 'timeout',
        severity: 'high',
        message:
          `${script.event} script (${shorten(script.command, 60)}) did not finish` +
          (script.reason ? `: ${script.reason}` : ' before the time limit'),
        evidence: script.rootProcess ? [script.id, script.rootProcess] : [script.id],
      }));
  },
};
