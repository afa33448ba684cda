/**
 * The rules engine: every registered rule over every package, then verdicts. Pure: the same
 * chain always gives the same assessment.
 */
import type { SessionChain } from '../session/types.js';
import type { Assessment, PackageAssessment, Rule } from './types.js';
import { RULES } from './registry.js';
import { sandboxPathsFor } from './paths.js';
import { bySeverity, verdictOf, worstVerdict } from './verdict.js';

export function assess(chain: SessionChain, rules: readonly Rule[] = RULES): Assessment {
  const packages = chain.packages.map(({ info, session }): PackageAssessment => {
    const ctx = { pkg: info, session, chain, paths: sandboxPathsFor(chain.projectDir, info.location) };
    const findings = bySeverity(rules.flatMap((rule) => rule.evaluate(ctx)));
    return { location: info.location, verdict: verdictOf(findings), findings };
  });
  // Fail closed: a broken sandbox with no package to pin it on must still block.
  const unattributedFault = chain.errors.length > 0 && packages.length === 0;
  return { verdict: unattributedFault ? 'block' : worstVerdict(packages.map((p) => p.verdict)), packages };
}

export { RULES } from './registry.js';
export type { Assessment, Finding, PackageAssessment, Rule, RuleContext, RuleId, Severity, Verdict } from './types.js';
export { RULE_IDS, SEVERITIES } from './types.js';
