/**
 * `safe-install pip install ...` and `safe-install python -m pip install ...`: parses pip's
 * flags, calls the pip core (src/pip), shows the verdict, asks on review, installs the vetted
 * wheels. Also the pip half of `safe-install scan` (sdists, wheels, `pip:<requirement>`).
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import readline from 'node:readline/promises';
import { SafeInstallError } from '../../errors/index.js';
import { packageRoot } from '../../package-root.js';
import { preparePip, type PipRequest, type PreparedPip } from '../../pip/pipeline.js';
import { policyOf } from '../../policy/index.js';
import { collectProvenance } from '../../provenance/index.js';
import { buildJsonReport } from '../../report/json.js';
import { renderTerminal } from '../../report/terminal.js';
import { parseFlags, secondsFlag } from '../args.js';
import { commandPolicy, failOnFlag } from '../common-flags.js';
import { EXIT_ALLOWED, EXIT_BLOCKED } from '../exit-codes.js';
import { createProgressView } from '../progress-view.js';
import { nonInteractiveByEnv, recordSession, refusalReason } from '../session-end.js';

const PIP_INSTALL_FLAGS = {
  requirement: { type: 'string', short: 'r', multiple: true },
  constraint: { type: 'string', short: 'c', multiple: true },
  'index-url': { type: 'string', short: 'i' },
  'extra-index-url': { type: 'string', multiple: true },
  'find-links': { type: 'string', short: 'f', multiple: true },
  'no-index': { type: 'boolean' },
  'require-hashes': { type: 'boolean' },
  pre: { type: 'boolean' },
  python: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
  policy: { type: 'string' },
  'fail-on': { type: 'string' },
  'script-timeout': { type: 'string' },
  'base-image': { type: 'string' },
  verbose: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

/** `safe-install python -m pip install ...` (also python3). */
export async function pythonCommand(interpreter: string, argv: string[]): Promise<number> {
  if (argv[0] !== '-m' || argv[1] !== 'pip') {
    throw new SafeInstallError('E_USAGE', `safe-install ${interpreter} ${argv.join(' ')}: only \`-m pip install\` goes through the sandbox`, 'use `safe-install python -m pip install ...`, or run Python itself for anything else');
  }
  const python = process.env.VIRTUAL_ENV ? undefined : interpreter;
  return pipCommand(argv.slice(2), python);
}

/** `safe-install pip <sub> ...` */
export async function pipCommand(argv: string[], python?: string): Promise<number> {
  // pip's general options may come before the sub-command: `pip -q install ...`, `pip --python X install ...`.
  const general: string[] = [];
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const flag = argv[i]!;
    if (flag === '-q' || flag === '--quiet') general.push('--quiet');
    else if (flag === '-v' || flag === '--verbose') general.push('--verbose');
    else if (flag === '--python' && argv[i + 1] !== undefined) general.push('--python', argv[++i]!);
    else if (flag.startsWith('--python=')) general.push(flag);
    else if (flag === '--isolated' || flag === '--no-input' || flag === '--disable-pip-version-check' || flag === '--no-color') continue;
    else throw new SafeInstallError('E_USAGE', `safe-install pip: the option ${flag} before the sub-command is not supported`, 'put pip install\'s own options after `install`');
  }
  const [sub, ...after] = argv.slice(i);
  const rest = [...general, ...after];
  if (sub !== 'install') {
    throw new SafeInstallError('E_USAGE', `safe-install pip ${sub ?? ''}: only pip install goes through the sandbox`, 'use `safe-install pip install <req>... | -r requirements.txt`, or run pip itself for other commands (pip download and pip wheel build sdists: they run package code)');
  }
  const { values, positionals } = parseFlags(rest, PIP_INSTALL_FLAGS);
  const failOn = failOnFlag(values['fail-on']);
  for (const f of [...(values.requirement ?? []), ...(values.constraint ?? [])]) {
    if (!fs.existsSync(f)) throw new SafeInstallError('E_USAGE', `no requirements file ${f}`, 'check the path given to -r/-c');
  }
  if (positionals.length === 0 && (values.requirement ?? []).length === 0) {
    throw new SafeInstallError('E_USAGE', 'pip install needs requirements', 'e.g. `safe-install pip install requests` or `safe-install pip install -r requirements.txt`');
  }
  const scriptTimeoutMs = secondsFlag(values['script-timeout'], 'script-timeout');
  const policy = await commandPolicy(values);
  const provenance = collectProvenance();
  const progress = createProgressView(process.stderr, values.quiet === true);
  let prepared: PreparedPip;
  try {
    prepared = await preparePip({
      ...pipRequest(values, positionals),
      ...(python ?? values.python ? { python: (values.python ?? python)! } : {}),
      ...(scriptTimeoutMs ? { limits: { scriptTimeoutMs } } : {}),
      policy: policyOf(policy),
      onProgress: (ev) => progress.update(ev),
    });
  } finally {
    progress.done();
  }
  const tool = { name: 'safe-install', version: packageRoot().version };
  const report = {
    ...(buildJsonReport({ chain: prepared.chain, assessment: prepared.assessment, tool, provenance: { ...provenance } }) as unknown as Record<string, unknown>),
    install: { installed: false, python: prepared.python, packages: prepared.packages.map(({ name, version, kind }) => ({ name, version, kind })), satisfied: prepared.satisfied, failures: prepared.failures, containerStarted: prepared.containerStarted },
  };
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && !nonInteractiveByEnv();
  if (!values.json && prepared.chain.packages.length > 0) {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(renderTerminal(report as unknown as Parameters<typeof renderTerminal>[0], { color, verbose: values.verbose === true, width: process.stdout.columns ?? 100 }));
  }
  const effectiveFailOn = failOn ?? policy.failOn;
  let proceed = prepared.verdict === 'allow';
  if (prepared.verdict === 'review' && effectiveFailOn !== 'review') {
    if (values.yes) proceed = true;
    else if (interactive && !values.json) proceed = await ask('Install anyway? The findings above need your review. [y/N] ');
  }
  try {
    await recordSession({ kind: 'install', chain: prepared.chain, assessment: prepared.assessment, verdict: prepared.verdict, provenance, command: process.argv.slice(2) });
  } catch (err) {
    prepared.discard();
    throw err;
  }
  if (!proceed) {
    prepared.discard();
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stderr.write(`safe-install: nothing was installed (${refusalReason(prepared.chain, prepared.assessment)}); the environment is unchanged\n`);
    return EXIT_BLOCKED;
  }
  try {
    await prepared.apply({ stdio: values.json ? 'stderr' : 'inherit' });
  } catch (err) {
    prepared.discard();
    throw err;
  }
  report.install.installed = true;
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (values.quiet !== true && prepared.packages.length === 0) {
    process.stderr.write(`safe-install: nothing to install; already satisfied: ${prepared.satisfied.map((p) => `${p.name} ${p.version}`).join(', ') || 'everything'}\n`);
  } else if (values.quiet !== true) {
    const built = prepared.packages.filter((p) => p.kind === 'sdist').length;
    process.stderr.write(`safe-install: installed ${prepared.packages.length} package${prepared.packages.length === 1 ? '' : 's'} into ${prepared.python} (${built} built from source in the sandbox); no package code ran on this machine\n`);
  }
  return EXIT_ALLOWED;
}

type PipFlagValues = {
  requirement?: string[];
  constraint?: string[];
  'index-url'?: string;
  'extra-index-url'?: string[];
  'find-links'?: string[];
  'no-index'?: boolean;
  'require-hashes'?: boolean;
  pre?: boolean;
};

function pipRequest(values: PipFlagValues, positionals: string[]): Omit<PipRequest, 'policy' | 'onProgress'> {
  return {
    requirements: positionals,
    requirementFiles: values.requirement ?? [],
    constraintFiles: values.constraint ?? [],
    ...(values['index-url'] ? { indexUrl: values['index-url'] } : {}),
    extraIndexUrls: values['extra-index-url'] ?? [],
    findLinks: values['find-links'] ?? [],
    noIndex: values['no-index'] === true,
    requireHashes: values['require-hashes'] === true,
    pre: values.pre === true,
  };
}

/** A scan argument that is pip's: `pip:<requirement>`, a .whl, or an sdist (.tar.gz/.zip without package/package.json). */
export function isPipScanSpec(spec: string): boolean {
  if (spec.startsWith('pip:')) return true;
  if (/\.whl$/i.test(spec)) return true;
  if (/\.zip$/i.test(spec)) return true;
  if (/\.tar\.gz$/i.test(spec) && fs.existsSync(spec)) return !isNpmTarball(spec);
  return false;
}

function isNpmTarball(file: string): boolean {
  // npm tarballs keep everything under package/; an sdist has <name>-<version>/PKG-INFO or setup.py.
  const name = /(^|\/)package\/package\.json$/;
  try {
    const tar = zlib.gunzipSync(fs.readFileSync(file));
    for (let off = 0; off + 512 <= tar.length; ) {
      const entry = tar.subarray(off, off + 100).toString('latin1').replace(/\0.*$/s, '');
      if (entry === '') break;
      if (name.test(entry)) return true;
      const size = parseInt(tar.subarray(off + 124, off + 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
      off += 512 + Math.ceil(size / 512) * 512;
    }
  } catch {
    return false;
  }
  return false;
}

/** The pip part of a scan: what installing these would build and land, nothing installed. */
export async function scanPip(specs: string[], opts: { indexUrl?: string; findLinks?: string[]; baseImage?: string; limits?: PipRequest['limits']; policy?: PipRequest['policy']; onProgress?: PipRequest['onProgress'] }) {
  const prepared = await preparePip({
    requirements: specs.map((s) => (s.startsWith('pip:') ? s.slice(4) : s)),
    requirementFiles: [],
    constraintFiles: [],
    ...(opts.indexUrl ? { indexUrl: opts.indexUrl } : {}),
    extraIndexUrls: [],
    findLinks: opts.findLinks ?? [],
    noIndex: false,
    requireHashes: false,
    pre: false,
    ignoreInstalled: true,
    ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  prepared.discard();
  return { chain: prepared.chain, assessment: prepared.assessment, failures: prepared.failures, incomplete: prepared.incomplete };
}

async function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
