/**
 * Markdown for people reading a pull request (a comment, or GitHub's job summary). Order is the
 * reading order: the verdict, then what is NEW in changed packages (the hijacked-release signal),
 * then every finding, most severe first, each with its lockfile line and its evidence ids.
 * Every value from the chain goes through `escapeMarkdown`.
 */
import type { CiResult } from '../ci/types.js';
import { hasNewBehaviour } from '../diff/behaviour.js';
import type { Finding } from '../rules/types.js';
import { severityRank, verdictRank } from '../rules/verdict.js';
import { escapeMarkdown as md } from './escape.js';
import { locateInLockfile } from './sarif.js';

const ICON = { block: '⛔', review: '⚠️', allow: '✅' } as const;

export function renderMarkdown(result: CiResult, opts: { failing: boolean }): string {
  const out: string[] = [];
  const verdict = result.verdict.toUpperCase();
  out.push(`## ${ICON[result.verdict]} safe-install: ${verdict}${opts.failing ? ' (fails this check)' : ''}`);
  out.push('');
  const base = `\`${result.base.ref.replace(/`/g, '')}\`${result.base.commit ? ` (${result.base.commit.slice(0, 12)})` : ''}`;
  if (result.changes.length === 0) {
    out.push(`No added or changed packages in ${result.lockfiles.map((f) => `\`${f}\``).join(', ')} since ${base}: nothing to sandbox.`);
  } else {
    const added = result.changes.filter((c) => c.kind === 'added').length;
    out.push(`${result.changes.length} package${result.changes.length === 1 ? '' : 's'} added or changed since ${base} (${added} added, ${result.changes.length - added} changed); every install-time script ran in the sandbox.`);
  }
  out.push('');

  const news = result.diffs.filter(hasNewBehaviour);
  if (news.length > 0) {
    out.push('### New behaviour since the base version');
    out.push('');
    for (const diff of news) {
      out.push(`- **${md(diff.summary)}**`);
      for (const s of diff.scriptsAdded) out.push(`  - new \`${s.event}\` script: ${md(s.command)}`);
      for (const t of diff.secretReads) out.push(`  - reads ${md(t.what)} (${md(t.evidence.join(', '))})`);
      for (const t of diff.hosts) out.push(`  - contacts ${md(t.what)} (${md(t.evidence.join(', '))})`);
      for (const t of diff.processes) out.push(`  - runs ${md(t.what)} (${md(t.evidence.join(', '))})`);
      if (diff.newRules.length > 0) out.push(`  - new findings: ${diff.newRules.map((r) => `\`${r}\``).join(', ')}`);
    }
    out.push('');
  }

  const packages = [...(result.report?.packages ?? [])]
    .filter((pkg) => pkg.findings.length > 0 || Object.keys(pkg.scripts).length > 0)
    .sort((a, b) => verdictRank(b.verdict) - verdictRank(a.verdict));
  if (packages.length > 0) {
    out.push('### Packages');
    out.push('');
    out.push('| verdict | package | lockfile | install-time scripts | findings |');
    out.push('| --- | --- | --- | --- | --- |');
    for (const pkg of packages) {
      const where = locateInLockfile(result, pkg);
      const scripts = Object.entries(pkg.scripts).map(([event, command]) => `${event}: ${md(command)}`).join('<br>') || 'none';
      out.push(`| ${ICON[pkg.verdict]} ${pkg.verdict} | ${md(`${pkg.name}@${pkg.version}`)} | ${md(`${where.lockfile}:${where.line}`)} | ${scripts} | ${pkg.findings.length} |`);
    }
    out.push('');
    const withFindings = packages.filter((pkg) => pkg.findings.length > 0);
    if (withFindings.length > 0) {
      out.push('### Findings');
      out.push('');
      for (const pkg of withFindings) {
        const where = locateInLockfile(result, pkg);
        out.push(`**${md(`${pkg.name}@${pkg.version}`)}** ${pkg.verdict.toUpperCase()} (${md(`${where.lockfile}:${where.line}`)})`);
        out.push('');
        for (const finding of [...pkg.findings].sort(bySeverity)) {
          const evidence = finding.evidence.length > 0 ? ` (evidence: ${md(finding.evidence.join(', '))})` : '';
          out.push(`- \`${finding.severity}\` \`${finding.rule}\`: ${md(finding.message)}${evidence}`);
        }
        out.push('');
      }
    }
  }
  if (result.cached.length > 0) {
    out.push('### Decided before (verdict cache)');
    out.push('');
    for (const hit of result.cached) {
      out.push(`- ✅ ${md(`${hit.change.pkg.name}@${hit.change.pkg.version}`)} (${md(`${hit.change.lockfile}:${hit.change.pkg.line}`)}): ${md(hit.reason)}`);
    }
    out.push('');
  }
  if (result.report && result.report.errors.length > 0) {
    out.push('### Sandbox errors');
    out.push('');
    for (const error of result.report.errors) out.push(`- ${md(error.message)}`);
    out.push('');
  }
  for (const note of result.notes) out.push(`> ${md(note)}`);
  if (result.notes.length > 0) out.push('');
  return `${out.join('\n').trimEnd()}\n`;
}

function bySeverity(a: Finding, b: Finding): number {
  return severityRank(a.severity) - severityRank(b.severity);
}
