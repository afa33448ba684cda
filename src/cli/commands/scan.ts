import { scan } from '../../pipeline/scan.js';
import { printable } from '../../report/escape.js';
import { isPipScanSpec, scanPip } from './pip.js';
import { packageRoot } from '../../package-root.js';
import { buildJsonReport } from '../../report/json.js';
import { renderTerminal } from '../../report/terminal.js';
import { renderHtml } from '../../report/html.js';
import { writeReportFile } from './report-files.js';
import { SafeInstallError } from '../../errors/index.js';
import { policyOf } from '../../policy/index.js';
import { parseFlags, secondsFlag } from '../args.js';
import { commandPolicy, failOnFlag } from '../common-flags.js';
import { EXIT_ALLOWED, EXIT_UNDECIDED, exitCodeForVerdict } from '../exit-codes.js';
import { createProgressView } from '../progress-view.js';
import { collectProvenance } from '../../provenance/index.js';
import { otlpTracesUrl } from '../../record/otlp.js';
import { isInteractive, recordSession, refusalReason } from '../session-end.js';

export async function scanCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    json: { type: 'boolean' },
    'fail-on': { type: 'string' },
    registry: { type: 'string' },
    'script-timeout': { type: 'string' },
    grace: { type: 'string' },
    'base-image': { type: 'string' },
    verbose: { type: 'boolean' },
    quiet: { type: 'boolean' },
    policy: { type: 'string' },
    html: { type: 'string' },
    otlp: { type: 'string' },
    'index-url': { type: 'string' },
    'find-links': { type: 'string', multiple: true },
  });
  if (positionals.length === 0) {
    throw new SafeInstallError('E_USAGE', 'scan needs at least one package', 'e.g. `safe-install scan esbuild` or `safe-install scan ./my-package`');
  }
  const failOn = failOnFlag(values['fail-on']);
  otlpTracesUrl(values.otlp); // a bad --otlp URL fails now, not after the scan
  // Who asked, taken before the scan: the parents may be gone by the time it ends.
  const provenance = collectProvenance();
  const scriptTimeoutMs = secondsFlag(values['script-timeout'], 'script-timeout');
  const graceMs = secondsFlag(values.grace, 'grace');
  // Before resolving: a bad policy must fail in milliseconds, not after a download.
  const policy = await commandPolicy(values);

  const progress = createProgressView(process.stderr, values.quiet === true);
  let result;
  try {
    // sdists, wheels and pip:<requirement> go through the pip front-end; the rest through npm's.
    const pip = positionals.filter(isPipScanSpec);
    if (pip.length > 0 && pip.length !== positionals.length) {
      throw new SafeInstallError('E_USAGE', 'scan takes either npm packages or Python distributions, not both at once', 'run two scans');
    }
    result = pip.length > 0 ? await scanPip(pip, {
      ...(values['index-url'] ? { indexUrl: values['index-url'] } : {}),
      findLinks: values['find-links'] ?? [],
      ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
      limits: { ...(scriptTimeoutMs ? { scriptTimeoutMs } : {}), ...(graceMs ? { graceMs } : {}) },
      onProgress: (ev) => progress.update(ev),
      policy: policyOf(policy),
    }) : await scan({
      specs: positionals,
      ...(values.registry ? { registry: values.registry } : {}),
      ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
      limits: { ...(scriptTimeoutMs ? { scriptTimeoutMs } : {}), ...(graceMs ? { graceMs } : {}) },
      onProgress: (ev) => progress.update(ev),
      policy: policyOf(policy),
    });
  } finally {
    progress.done();
  }
  const report = buildJsonReport({
    chain: result.chain,
    assessment: result.assessment,
    tool: { name: 'safe-install', version: packageRoot().version },
    provenance: { ...provenance },
  });
  // Recorded before anything is printed: a session that is not on record is an error (exit 2).
  const ended = await recordSession({ kind: 'scan', chain: result.chain, assessment: result.assessment, provenance, command: ['scan', ...argv], ...(values.otlp ? { otlp: values.otlp } : {}) });
  if (ended.otlpError && values.quiet !== true) process.stderr.write(`safe-install: warning: ${ended.otlpError}\n`);
  if (values.html) writeReportFile(values.html, renderHtml(report), 'HTML report');
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(renderTerminal(report, { color, verbose: values.verbose === true, width: process.stdout.columns ?? 100 }));
  }
  const effectiveFailOn = failOn ?? policy.failOn;
  const interactive = isInteractive();
  const code = exitCodeForVerdict(result.assessment.verdict, {
    ...(effectiveFailOn ? { failOn: effectiveFailOn } : {}),
    interactive,
  });
  if (code !== 0 && !interactive) process.stderr.write(`safe-install: refused: ${refusalReason(result.chain, result.assessment)}\n`);
  // A Python build that failed left a wheel nobody inspected: what pip would install is unknown.
  const uninspected: string[] = 'incomplete' in result ? (result.incomplete as string[]) : [];
  if (code === EXIT_ALLOWED && uninspected.length > 0) {
    process.stderr.write(`safe-install: could not decide: ${printable(uninspected.join('; '))}\n  hint: pip would fail to install it too; fix the build (see the report) and scan again\n`);
    return EXIT_UNDECIDED;
  }
  return code;
}
