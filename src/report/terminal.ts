/**
 * The human view of a report. Returns text (the CLI prints it); pure and deterministic, and
 * readable without colour, which is how CI logs and the tests see it.
 */
import type { ScriptRun } from '../session/types.js';
import { PROJECT_LIFECYCLE_EVENTS } from '../session/types.js';
import type { Finding, Severity } from '../rules/types.js';
import { relativeInside, sandboxPathsFor } from '../rules/paths.js';
import { shorten } from '../rules/text.js';
import { severityRank, verdictRank } from '../rules/verdict.js';
import type { JsonReport, JsonReportPackage } from './json.js';
import { printableDeep } from './escape.js';
import { painter, SEVERITY_FORMAT, VERDICT_FORMAT, type Painter } from './style.js';
import { scriptTree } from './script-tree.js';
import { drawTree } from './tree.js';

export interface TerminalOptions {
  color: boolean;
  verbose: boolean;
  /** Tree lines longer than this are cut; findings never are. */
  width?: number;
}

/** Evidence ids listed per finding line before "+N"; the JSON report has them all. */
const EVIDENCE_SHOWN = 6;

export function renderTerminal(untrusted: JsonReport, opts: TerminalOptions): string {
  // argv, paths, script text and messages come from the package: an escape sequence in them must
  // be shown, never obeyed (it could erase a line or repaint BLOCK as ALLOW).
  const report = printableDeep(untrusted);
  const paint = painter(opts.color);
  const shown = report.packages
    .map((pkg, index) => ({ pkg, index }))
    .filter(({ pkg }) => hasInstallTimeCode(pkg) || pkg.findings.length > 0)
    // Most worrying first; the tree order otherwise.
    .sort((a, b) => verdictRank(b.pkg.verdict) - verdictRank(a.pkg.verdict) || a.index - b.index)
    .map(({ pkg }) => pkg);

  const sections = shown.map((pkg) => renderPackage(pkg, report, opts, paint).join('\n'));
  const quiet = report.packages.length - shown.length;
  const footer: string[] = [];
  if (quiet > 0) {
    footer.push(paint('dim', `${quiet} ${quiet === 1 ? 'package has' : 'packages have'} no install-time code`));
  }
  if (report.errors.length > 0) {
    footer.push(paint('red', 'Sandbox errors:'));
    footer.push(...report.errors.map((error) => `  - ${error.message}${error.scriptId ? ` (script ${error.scriptId})` : ''}`));
  }
  footer.push(verdictLine(report, paint));
  return [...sections, footer.join('\n')].join('\n\n') + '\n';
}

function hasInstallTimeCode(pkg: JsonReportPackage): boolean {
  return Object.keys(pkg.scripts).length > 0 || pkg.session.scripts.length > 0;
}

function renderPackage(pkg: JsonReportPackage, report: JsonReport, opts: TerminalOptions, paint: Painter): string[] {
  const verdict = paint('bold', paint(VERDICT_FORMAT[pkg.verdict], pkg.verdict.toUpperCase()));
  const nested = pkg.location !== `node_modules/${pkg.name}` ? paint('dim', `  (${pkg.location || 'project root'})`) : '';
  const lines = [`${paint('bold', `${pkg.name}@${pkg.version}`)}  ${verdict}${nested}`];

  const ruleWidth = Math.max(0, ...pkg.findings.map((f) => f.rule.length));
  for (const finding of [...pkg.findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity))) {
    lines.push(findingLine(finding, ruleWidth, opts.verbose, paint));
  }
  // What the policy hid stays visible: a reviewer must see what was accepted, and by which line.
  for (const { finding, by, changedTo, reason } of pkg.suppressed ?? []) {
    if (changedTo !== undefined) continue;
    const why = reason ? `${by}: ${reason}` : by;
    lines.push(paint('dim', `  allowed  ${finding.rule}  ${finding.message}  (${why})`));
  }

  const paths = sandboxPathsFor(report.sandbox.projectDir, pkg.location);
  const ctx = {
    paths: { ...paths, home: report.sandbox.home, tmpDirs: report.sandbox.tmpDirs },
    verbose: opts.verbose,
    evidence: evidenceSeverities(pkg.findings),
    highlight: (severity: Severity, text: string) => paint(SEVERITY_FORMAT[severity], text),
  };
  for (const event of PROJECT_LIFECYCLE_EVENTS) {
    const declared = pkg.scripts[event];
    if (declared !== undefined && !pkg.session.scripts.some((script) => script.event === event)) lines.push(`  ${event}: ${declared}  ${paint('dim', '(not run)')}`);
  }
  // In the order they ran; a workspace's script (the project's, --sandbox-root) names its folder.
  for (const script of pkg.session.scripts) {
    const where = relativeInside(script.cwd, paths.packageDir);
    const label = where ? `${where} ${script.event}:` : `${script.event}:`;
    lines.push(`  ${paint('bold', label)} ${script.command}  ${scriptStatus(script, paint)}`);
    lines.push(...drawTree(scriptTree(pkg.session, script, ctx), '  ', opts.width));
  }
  if (opts.verbose && pkg.session.suppressed.files > 0) {
    lines.push(paint('dim', `  (${pkg.session.suppressed.files} loader and library file events not shown)`));
  }
  return lines;
}

function findingLine(finding: Finding, ruleWidth: number, verbose: boolean, paint: Painter): string {
  const severity = paint(SEVERITY_FORMAT[finding.severity], finding.severity.padEnd(8));
  const ids =
    verbose || finding.evidence.length <= EVIDENCE_SHOWN
      ? finding.evidence
      : [...finding.evidence.slice(0, EVIDENCE_SHOWN), `+${finding.evidence.length - EVIDENCE_SHOWN}`];
  const evidence = ids.length > 0 ? paint('dim', `  [${ids.join(', ')}]`) : '';
  return `  ${severity} ${finding.rule.padEnd(ruleWidth)}  ${finding.message}${evidence}`;
}

/** The most severe finding citing each event decides how its tree line is highlighted. */
function evidenceSeverities(findings: readonly Finding[]): Map<string, Severity> {
  const map = new Map<string, Severity>();
  for (const finding of findings) {
    for (const id of finding.evidence) {
      const current = map.get(id);
      if (current === undefined || severityRank(finding.severity) < severityRank(current)) map.set(id, finding.severity);
    }
  }
  return map;
}

function scriptStatus(script: ScriptRun, paint: Painter): string {
  const took = seconds(script.endedAt - script.startedAt);
  const reason = script.reason ? `: ${shorten(script.reason, 120)}` : '';
  switch (script.outcome) {
    case 'ok':
    case 'failed': {
      const end = script.signal ? `signal ${script.signal}` : `exit ${script.exitCode ?? '?'}`;
      const text = `(${end}, ${took})`;
      return script.outcome === 'ok' ? paint('dim', text) : paint('red', text);
    }
    case 'timeout':
      return paint('red', `(timed out after ${took}${reason})`);
    case 'killed':
      return paint('red', `(killed by the sandbox after ${took}${reason})`);
    case 'sandbox-error':
      return paint('red', `(sandbox error${reason})`);
    case 'skipped':
      return paint('dim', `(skipped${reason})`);
  }
}

function seconds(value: number): string {
  const s = Math.max(0, value);
  return `${s < 10 ? s.toFixed(2) : s < 100 ? s.toFixed(1) : s.toFixed(0)} s`;
}

function verdictLine(report: JsonReport, paint: Painter): string {
  const count = (verdict: JsonReport['verdict']) => report.packages.filter((pkg) => pkg.verdict === verdict).length;
  const parts = [
    `${count('block')} ${count('block') === 1 ? 'package' : 'packages'} blocked`,
    `${count('review')} to review`,
    `${count('allow')} allowed`,
  ];
  const verdict = paint('bold', paint(VERDICT_FORMAT[report.verdict], report.verdict.toUpperCase()));
  return `${paint('bold', 'Verdict:')} ${verdict}  (${parts.join(', ')})`;
}
