import type { Finding, Rule, Severity } from './types.js';
import { displayPath } from './paths.js';
import { secretAccesses } from './secret-reads.js';

/**
 * Reads of known secret locations (table: ./secret-paths.ts), one finding per file.
 *
 * - A successful read has the table's severity (high for keys and tokens).
 * - A failed read (ENOENT, EACCES…) is still a finding, one step lower (high → medium): the code
 *   went looking for the secret even though the decoy was not there or not readable.
 * - Existence checks (`probe`: stat/access) are not reads; they belong to `recon`.
 * - npm reading its own config for `npm run …` is not the package's doing (./secret-reads.ts).
 */
export const credentialAccessRule: Rule = {
  id: 'credential-access',
  evaluate(ctx) {
    const findings: Finding[] = [];
    for (const { match, events } of secretAccesses(ctx)) {
      const succeeded = events.some((event) => event.result === 'ok');
      const shown = `${displayPath(match.path, { home: ctx.paths.home })} (${match.location.label})`;
      const errors = [...new Set(events.map((event) => event.result))].join(', ');
      findings.push({
        rule: 'credential-access',
        severity: succeeded ? match.location.severity : oneStepLower(match.location.severity),
        message: succeeded ? `reads ${shown}` : `tries to read ${shown}: ${errors}`,
        evidence: events.map((event) => event.id),
      });
    }
    return findings;
  },
};

export function oneStepLower(severity: Severity): Severity {
  switch (severity) {
    case 'critical':
      return 'high';
    case 'high':
      return 'medium';
    case 'medium':
      return 'low';
    default:
      return severity;
  }
}
