import { scan } from '../../pipeline/scan.js';
import { packageRoot } from '../../package-root.js';
import { buildJsonReport } from '../../report/json.js';
import { renderTerminal } from '../../report/terminal.js';
import { SafeInstallError } from '../../errors/index.js';
import { loadPolicy, policyOf } from '../../policy/index.js';
import { parseFlags, secondsFlag } from '../args.js';
import { exitCodeForVerdict, type FailOn } from '../exit-codes.js';
import { createProgressView } from '../progress-view.js';

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
  });
  if (positionals.length === 0) {
    throw new SafeInstallError('E_USAGE', 'scan needs at least one package', 'e.g. `safe-install scan esbuild` or `safe-install scan ./my-package`');
  }
  const failOn = values['fail-on'];
  if (failOn !== undefined && failOn !== 'review' && failOn !== 'block') {
    throw new SafeInstallError('E_USAGE', `--fail-on takes review or block, not "${failOn}"`, 'e.g. --fail-on review');
  }
  const scriptTimeoutMs = secondsFlag(values['script-timeout'], 'script-timeout');
  const graceMs = secondsFlag(values.grace, 'grace');
  // Before resolving: a bad policy must fail in milliseconds, not after a download.
  const policy = await loadPolicy({ projectDir: process.cwd(), ...(values.policy !== undefined ? { policyFile: values.policy } : {}) });
  if (values.quiet !== true) for (const warning of policy.warnings) process.stderr.write(`safe-install: warning: ${warning}\n`);

  const progress = createProgressView(process.stderr, values.quiet === true);
  let result;
  try {
    result = await scan({
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
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(renderTerminal(report, { color, verbose: values.verbose === true, width: process.stdout.columns ?? 100 }));
  }
  const effectiveFailOn = (failOn as FailOn | undefined) ?? policy.failOn;
  return exitCodeForVerdict(result.assessment.verdict, {
    ...(effectiveFailOn ? { failOn: effectiveFailOn } : {}),
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
  });
}
