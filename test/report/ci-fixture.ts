/** A CI gate result as the reports see it: one hijacked patch release, located in its lockfile. */
import { diffPackages } from '../../src/diff/behaviour.js';
import type { CiResult } from '../../src/ci/types.js';
import { honestReport, hijackedReport } from '../diff/support.js';

export function ciResult(): CiResult {
  const before = honestReport();
  const report = hijackedReport();
  const diff = diffPackages({ pkg: before.packages[0]!, report: before }, { pkg: report.packages[0]!, report }, '1.0.0');
  return {
    base: { ref: 'origin/main', commit: '0123456789abcdef0123456789abcdef01234567', reason: 'merge-base with origin/HEAD' },
    lockfiles: ['package-lock.json'],
    changes: [
      {
        kind: 'changed',
        lockfile: 'package-lock.json',
        pkg: { name: 'popular-lib', version: '1.0.1', key: 'node_modules/popular-lib', line: 42, integrity: report.packages[0]!.integrity },
        previous: { name: 'popular-lib', version: '1.0.0', key: 'node_modules/popular-lib', line: 42 },
      },
    ],
    report,
    diffs: [diff],
    verdict: report.verdict,
    notes: [],
    cached: [],
  };
}
