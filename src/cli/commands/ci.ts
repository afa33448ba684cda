/**
 * `safe-install ci`: the lockfile gate. Parses flags, runs src/ci, writes the requested reports.
 * Exit codes as everywhere: 0 allowed, 1 blocked (or review: no one is at a CI terminal to ask),
 * 2 could not decide.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { runCi } from '../../ci/gate.js';
import type { CiResult } from '../../ci/types.js';
import { VerdictCache } from '../../cache/index.js';
import { SafeInstallError } from '../../errors/index.js';
import { packageRoot } from '../../package-root.js';
import { policyOf } from '../../policy/index.js';
import { renderDiffsTerminal } from '../../report/diff-terminal.js';
import { printable } from '../../report/escape.js';
import { renderHtml } from '../../report/html.js';
import { buildJsonReport, type JsonReport } from '../../report/json.js';
import { renderJunit } from '../../report/junit.js';
import { renderMarkdown } from '../../report/markdown.js';
import { buildSarif, locateInLockfile } from '../../report/sarif.js';
import { renderTerminal } from '../../report/terminal.js';
import { SANDBOX_PROJECT_DIR } from '../../sandbox/layout.js';
import { parseFlags, secondsFlag } from '../args.js';
import { commandPolicy, failOnFlag } from '../common-flags.js';
import { exitCodeForVerdict } from '../exit-codes.js';
import { createProgressView } from '../progress-view.js';
import { appendStepSummary, writeReportFile } from './report-files.js';

export async function ciCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    base: { type: 'string' },
    json: { type: 'boolean' },
    sarif: { type: 'string' },
    junit: { type: 'string' },
    markdown: { type: 'string' },
    html: { type: 'string' },
    'fail-on': { type: 'string' },
    registry: { type: 'string' },
    'script-timeout': { type: 'string' },
    grace: { type: 'string' },
    'base-image': { type: 'string' },
    verbose: { type: 'boolean' },
    quiet: { type: 'boolean' },
    policy: { type: 'string' },
    'no-cache': { type: 'boolean' },
    // Python: where requirement lines and lockfile entries are fetched from (as pip's own flags).
    'index-url': { type: 'string', short: 'i' },
    'extra-index-url': { type: 'string', multiple: true },
    'find-links': { type: 'string', short: 'f', multiple: true },
    'no-index': { type: 'boolean' },
    python: { type: 'string' },
  });
  if (positionals.length > 0) {
    throw new SafeInstallError('E_USAGE', `ci takes no packages (got "${positionals[0]}")`, 'run it in the repository: `safe-install ci [--base origin/main]`');
  }
  const failOn = failOnFlag(values['fail-on']);
  const scriptTimeoutMs = secondsFlag(values['script-timeout'], 'script-timeout');
  const graceMs = secondsFlag(values.grace, 'grace');
  const policy = await commandPolicy(values);

  const tool = { name: 'safe-install', version: packageRoot().version };
  const progress = createProgressView(process.stderr, values.quiet === true);
  let result: CiResult;
  try {
    result = await runCi({
      cwd: process.cwd(),
      ...(values.base !== undefined ? { base: values.base } : {}),
      ...(values.registry ? { registry: values.registry } : {}),
      tool,
      scan: {
        ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
        limits: { ...(scriptTimeoutMs ? { scriptTimeoutMs } : {}), ...(graceMs ? { graceMs } : {}) },
        onProgress: (ev) => progress.update(ev),
        policy: policyOf(policy),
      },
      onPhase: (message) => progress.update({ stage: 'sandbox', message }),
      // The install verdict cache: tarballs already allowed under this policy and image are not run again.
      ...(values['no-cache'] ? {} : { cache: { verdicts: new VerdictCache(), policyDigest: policy.digest } }),
      pip: {
        ...(values['index-url'] ? { indexUrl: values['index-url'] } : {}),
        extraIndexUrls: values['extra-index-url'] ?? [],
        findLinks: (values['find-links'] ?? []).map((f) => (f.includes('://') ? f : path.resolve(f))),
        noIndex: values['no-index'] === true,
        ...(values.python ? { python: values.python } : {}),
      },
    });
  } finally {
    progress.done();
  }

  const effectiveFailOn = failOn ?? policy.failOn;
  // A CI job has no one to ask: review fails unless --fail-on block says otherwise.
  const exit = exitCodeForVerdict(result.verdict, { ...(effectiveFailOn ? { failOn: effectiveFailOn } : {}), interactive: false });
  const fails = (verdict: CiResult['verdict']) => exitCodeForVerdict(verdict, { ...(effectiveFailOn ? { failOn: effectiveFailOn } : {}), interactive: false }) !== 0;
  const report = result.report ?? emptyReport(tool);

  if (values.sarif) writeReportFile(values.sarif, `${JSON.stringify(buildSarif(result, tool), null, 2)}\n`, 'SARIF log');
  if (values.junit) writeReportFile(values.junit, renderJunit(result, { fails }), 'JUnit report');
  const markdown = renderMarkdown(result, { failing: exit !== 0 });
  if (values.markdown) writeReportFile(values.markdown, markdown, 'Markdown report');
  appendStepSummary(markdown);
  if (values.html) {
    const locations = new Map(report.packages.map((p) => {
      const where = locateInLockfile(result, p);
      return [`${p.name}@${p.version}`, `${where.lockfile}:${where.line}`] as const;
    }));
    const subtitle = `lockfile changes since ${result.base.ref}${result.base.commit ? ` (${result.base.commit.slice(0, 12)})` : ''}: ${result.changes.length} added or changed`;
    writeReportFile(values.html, renderHtml(report, { diffs: result.diffs, subtitle, locations }), 'HTML report');
  }

  if (values.json) {
    const doc = { ...report, ci: { base: result.base, lockfiles: result.lockfiles, changes: result.changes, diffs: result.diffs, notes: result.notes, cached: result.cached, located: result.located ?? [] } };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    const base = `${result.base.ref}${result.base.commit ? ` (${result.base.commit.slice(0, 12)}, ${result.base.reason})` : ` (${result.base.reason})`}`;
    if (result.changes.length === 0) {
      process.stdout.write(`No added or changed packages in ${result.lockfiles.join(', ')} since ${base}: nothing to sandbox.\nVerdict: ALLOW\n`);
    } else {
      process.stdout.write(`${result.changes.length} added or changed package${result.changes.length === 1 ? '' : 's'} since ${base}\n\n`);
      process.stdout.write(renderDiffsTerminal(result.diffs, { color }));
      process.stdout.write(renderTerminal(report, { color, verbose: values.verbose === true, width: process.stdout.columns ?? 100 }));
    }
    for (const hit of result.cached) process.stdout.write(`${printable(`${hit.change.pkg.name}@${hit.change.pkg.version}`)}  ALLOW  (verdict cache: ${hit.reason})\n`);
    for (const note of result.notes) process.stdout.write(`note: ${printable(note)}\n`);
  }
  return exit;
}

/** The report of a gate with nothing to sandbox: no packages, allowed, still schema-valid. */
function emptyReport(tool: { name: string; version: string }): JsonReport {
  const now = Date.now() / 1000;
  return buildJsonReport({
    chain: { id: crypto.randomUUID(), startedAt: now, endedAt: now, projectDir: SANDBOX_PROJECT_DIR, sandbox: null, packages: [], errors: [], canaries: [] },
    assessment: { verdict: 'allow', packages: [] },
    tool,
    provenance: { command: 'ci' },
  });
}
