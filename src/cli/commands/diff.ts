/** `safe-install diff <pkg>@<a> <pkg>@<b>`: what version b newly does at install time. */
import { diffVersions } from '../../diff/run.js';
import { SafeInstallError } from '../../errors/index.js';
import { packageRoot } from '../../package-root.js';
import { loadPolicy, policyOf } from '../../policy/index.js';
import { renderDiffsTerminal } from '../../report/diff-terminal.js';
import { renderHtml } from '../../report/html.js';
import { renderTerminal } from '../../report/terminal.js';
import { parseFlags, secondsFlag } from '../args.js';
import { failOnFlag } from '../common-flags.js';
import { exitCodeForVerdict } from '../exit-codes.js';
import { createProgressView } from '../progress-view.js';
import { writeReportFile } from './report-files.js';

export async function diffCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    json: { type: 'boolean' },
    html: { type: 'string' },
    'fail-on': { type: 'string' },
    registry: { type: 'string' },
    'script-timeout': { type: 'string' },
    grace: { type: 'string' },
    'base-image': { type: 'string' },
    verbose: { type: 'boolean' },
    quiet: { type: 'boolean' },
    policy: { type: 'string' },
  });
  if (positionals.length !== 2) {
    throw new SafeInstallError('E_USAGE', 'diff takes exactly two versions of one package', 'e.g. `safe-install diff left-pad@1.2.0 left-pad@1.3.0`');
  }
  const failOn = failOnFlag(values['fail-on']);
  const scriptTimeoutMs = secondsFlag(values['script-timeout'], 'script-timeout');
  const graceMs = secondsFlag(values.grace, 'grace');
  const policy = await loadPolicy({ projectDir: process.cwd(), ...(values.policy !== undefined ? { policyFile: values.policy } : {}) });
  const progress = createProgressView(process.stderr, values.quiet === true);
  let result;
  try {
    result = await diffVersions(positionals[0]!, positionals[1]!, {
      tool: { name: 'safe-install', version: packageRoot().version },
      ...(values.registry ? { registry: values.registry } : {}),
      ...(values['base-image'] ? { baseImage: values['base-image'] } : {}),
      limits: { ...(scriptTimeoutMs ? { scriptTimeoutMs } : {}), ...(graceMs ? { graceMs } : {}) },
      onProgress: (ev) => progress.update(ev),
      policy: policyOf(policy),
    });
  } finally {
    progress.done();
  }
  if (values.html) writeReportFile(values.html, renderHtml(result.to, { diffs: [result.diff], subtitle: `compared with ${result.diff.name}@${result.diff.from.version}` }), 'HTML report');
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...result.to, diff: result.diff, previous: result.from, durationsMs: result.durationsMs }, null, 2)}\n`);
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(renderDiffsTerminal([result.diff], { color }));
    process.stdout.write(renderTerminal(result.to, { color, verbose: values.verbose === true, width: process.stdout.columns ?? 100 }));
  }
  const effectiveFailOn = failOn ?? policy.failOn;
  return exitCodeForVerdict(result.to.verdict, {
    ...(effectiveFailOn ? { failOn: effectiveFailOn } : {}),
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
  });
}
