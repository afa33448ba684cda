/** Ranking of severities and verdicts, shared by the engine and the reports. */
import { SEVERITIES, type Finding, type Severity, type Verdict } from './types.js';

export const VERDICTS: readonly Verdict[] = ['allow', 'review', 'block'];

/** 0 for critical … 4 for info: sorts most severe first. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** 0 for allow … 2 for block. */
export function verdictRank(verdict: Verdict): number {
  return VERDICTS.indexOf(verdict);
}

export function verdictOf(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.severity === 'critical' || f.severity === 'high')) return 'block';
  if (findings.some((f) => f.severity === 'medium')) return 'review';
  return 'allow';
}

export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'allow';
  for (const verdict of verdicts) if (verdictRank(verdict) > verdictRank(worst)) worst = verdict;
  return worst;
}

/** Stable: findings of equal severity keep the order the rules produced them in. */
export function bySeverity(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
}
