import type { FileEvent } from '../session/types.js';
import type { Finding, Rule, Severity } from './types.js';
import { displayPath } from './paths.js';
import { classifySecret, type SecretMatch } from './secret-paths.js';

/**
 * Reads of known secret locations (table: ./secret-paths.ts), one finding per file.
 *
 * - A successful read has the table's severity (high for keys and tokens).
 * - A failed read (ENOENT, EACCES…) is still a finding, one step lower (high → medium): the code
 *   went looking for the secret even though the decoy was not there or not readable.
 * - Existence checks (`probe`: stat/access) are not reads; they belong to `recon`.
 */
export const credentialAccessRule: Rule = {
  id: 'credential-access',
  evaluate({ session, paths }) {
    const bySecret = new Map<string, { match: SecretMatch; events: FileEvent[] }>();
    for (const event of session.files) {
      if (event.op !== 'read') continue;
      const match = classifySecret(event.path, paths);
      if (!match) continue;
      const entry = bySecret.get(match.path) ?? { match, events: [] };
      entry.events.push(event);
      bySecret.set(match.path, entry);
    }

    const findings: Finding[] = [];
    for (const { match, events } of bySecret.values()) {
      const succeeded = events.some((event) => event.result === 'ok');
      const shown = `${displayPath(match.path, { home: paths.home })} (${match.location.label})`;
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

function oneStepLower(severity: Severity): Severity {
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
