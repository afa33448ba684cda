import type { SessionChain } from '../session/types.js';
import type { Finding, Rule } from './types.js';

const FAILED_OUTCOMES = new Set(['sandbox-error', 'killed']);

/**
 * When the sandbox failed, nothing proves the scripts were harmless: the package gets a high
 * finding. A chain-level error names its script when it can; otherwise it taints every package
 * that had scripts (and, if none had, every package) so that it can never vanish unattributed.
 */
export const sandboxErrorRule: Rule = {
  id: 'sandbox-error',
  evaluate({ pkg, session, chain }) {
    const byScript = new Map<string, Finding>();
    for (const script of session.scripts) {
      if (!FAILED_OUTCOMES.has(script.outcome)) continue;
      const what =
        script.outcome === 'killed'
          ? `${script.event} script was killed by the sandbox`
          : `sandbox failed while running the ${script.event} script`;
      byScript.set(script.id, {
        rule: 'sandbox-error',
        severity: 'high',
        message: script.reason ? `${what}: ${script.reason}` : what,
        evidence: script.rootProcess ? [script.id, script.rootProcess] : [script.id],
      });
    }

    const fromChain: Finding[] = [];
    const ownScriptIds = new Set(session.scripts.map((script) => script.id));
    for (const error of chain.errors) {
      if (!ownersOf(error.scriptId, chain).has(pkg.location)) continue;
      const sameScript = error.scriptId !== undefined ? byScript.get(error.scriptId) : undefined;
      if (sameScript) {
        sameScript.message += `; ${error.message}`;
      } else if (error.scriptId !== undefined && ownScriptIds.has(error.scriptId)) {
        fromChain.push({ rule: 'sandbox-error', severity: 'high', message: `sandbox failed: ${error.message}`, evidence: [error.scriptId] });
      } else {
        fromChain.push({
          rule: 'sandbox-error',
          severity: 'high',
          message: `sandbox failed during the session: ${error.message}`,
          evidence: [...ownScriptIds],
        });
      }
    }
    return [...byScript.values(), ...fromChain];
  },
};

function ownersOf(scriptId: string | undefined, chain: SessionChain): Set<string> {
  if (scriptId !== undefined) {
    const owner = chain.packages.find(({ session }) => session.scripts.some((script) => script.id === scriptId));
    if (owner) return new Set([owner.info.location]);
  }
  const withScripts = chain.packages.filter(({ session }) => session.scripts.length > 0);
  const owners = withScripts.length > 0 ? withScripts : chain.packages;
  return new Set(owners.map(({ info }) => info.location));
}
