/**
 * SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps). Every finding is one result,
 * located at the lockfile (or requirements file) line that brought its package in: that line is what the reviewer of a
 * pull request can act on. Rules are the contract's rule ids, all described, so a viewer can
 * explain any id. Validated against the official schema in test/report/sarif.test.ts.
 */
import crypto from 'node:crypto';
import type { CiResult, LockfileChange } from '../ci/types.js';
import { RULE_IDS, type Severity } from '../rules/types.js';
import type { JsonReportPackage } from './json.js';
import { RULE_DESCRIPTIONS, SECURITY_SEVERITY } from './rule-docs.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };

/**
 * Where a package is pinned. A Python package: where the gate located it (its requirements or
 * lock line, or the line of the requirement that pulled it in), told apart from a same-named npm
 * package by the integrity of the file sandboxed. An npm package: its own change, else the first
 * change (the dependency came in with it).
 */
export function locateInLockfile(result: CiResult, pkg: { name: string; version: string; integrity?: string }): { lockfile: string; line: number; change: LockfileChange | undefined } {
  const at = result.located?.find((l) => l.name === pkg.name && l.version === pkg.version && (pkg.integrity === undefined || l.integrity === pkg.integrity));
  if (at) {
    const change = result.changes.find((c) => c.lockfile === at.lockfile && c.pkg.line === at.line && c.pkg.name === pkg.name);
    return { lockfile: at.lockfile, line: at.line, change };
  }
  const npm = result.changes.filter((c) => c.pkg.ecosystem === undefined);
  const change = npm.find((c) => c.pkg.name === pkg.name && c.pkg.version === pkg.version) ?? npm.find((c) => c.pkg.name === pkg.name);
  if (change) return { lockfile: change.lockfile, line: change.pkg.line, change };
  const first = npm[0] ?? result.changes[0];
  return { lockfile: first?.lockfile ?? result.lockfiles[0] ?? 'package-lock.json', line: first?.pkg.line ?? 1, change: undefined };
}

export function buildSarif(result: CiResult, tool: { name: string; version: string }): Record<string, unknown> {
  const packages: JsonReportPackage[] = result.report?.packages ?? [];
  const results = packages.flatMap((pkg) =>
    pkg.findings.map((finding) => {
      const where = locateInLockfile(result, pkg);
      const diff = result.diffs.find((d) => d.name === pkg.name && d.to.version === pkg.version);
      const evidence = finding.evidence.length > 0 ? ` [evidence: ${finding.evidence.join(', ')}]` : '';
      return {
        ruleId: finding.rule,
        ruleIndex: RULE_IDS.indexOf(finding.rule),
        level: LEVEL[finding.severity],
        message: { text: `${pkg.name}@${pkg.version}: ${finding.message}${evidence}${diff ? `. Behaviour diff: ${diff.summary}` : ''}` },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: where.lockfile, uriBaseId: '%SRCROOT%' },
              region: { startLine: where.line },
            },
            logicalLocations: [{ name: `${pkg.name}@${pkg.version}`, kind: 'module' }],
          },
        ],
        partialFingerprints: {
          'safeInstallFinding/v1': crypto.createHash('sha256').update(`${pkg.name}@${pkg.version}\0${finding.rule}\0${finding.message}`).digest('hex'),
        },
        properties: {
          severity: finding.severity,
          'security-severity': SECURITY_SEVERITY[finding.severity],
          package: pkg.name,
          version: pkg.version,
          integrity: pkg.integrity,
          verdict: pkg.verdict,
          evidence: finding.evidence,
        },
      };
    }),
  );
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            semanticVersion: tool.version,
            rules: RULE_IDS.map((id) => ({
              id,
              name: id,
              shortDescription: { text: RULE_DESCRIPTIONS[id] },
              fullDescription: { text: RULE_DESCRIPTIONS[id] },
              help: { text: `${RULE_DESCRIPTIONS[id]} See docs/ci.md in safe-install for how to read the evidence.` },
              properties: { tags: ['security', 'supply-chain'] },
            })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The repository root.' } } },
        invocations: [{ executionSuccessful: true }],
        results,
        properties: {
          verdict: result.verdict,
          base: result.base,
          changes: result.changes.map((c) => ({ kind: c.kind, lockfile: c.lockfile, line: c.pkg.line, package: c.pkg.name, version: c.pkg.version, previous: c.previous?.version ?? null, ...(c.pkg.ecosystem ? { ecosystem: c.pkg.ecosystem } : {}) })),
          behaviourDiffs: result.diffs,
          notes: result.notes,
          cached: result.cached.map((hit) => ({ package: hit.change.pkg.name, version: hit.change.pkg.version, line: hit.change.pkg.line, reason: hit.reason })),
        },
      },
    ],
  };
}
