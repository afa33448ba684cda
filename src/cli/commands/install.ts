/**
 * `safe-install <pkg>...`, `safe-install install [<pkg>...]`, `safe-install npm install|i|add|ci`:
 * parses npm's flags, calls the install core, shows the verdict, asks on review, applies.
 */
import readline from 'node:readline/promises';
import { SafeInstallError } from '../../errors/index.js';
import { prepareInstall, type AppliedInstall, type PreparedInstall } from '../../pipeline/install.js';
import { packageRoot } from '../../package-root.js';
import { buildJsonReport, REPORT_SCHEMA_VERSION } from '../../report/json.js';
import { renderTerminal } from '../../report/terminal.js';
import type { SaveType } from '../../install/tree.js';
import { parseFlags } from '../args.js';
import { commandPolicy, failOnFlag, HOST_INSTALL_FLAGS, hostInstallOptions } from '../common-flags.js';
import { EXIT_ALLOWED, EXIT_BLOCKED } from '../exit-codes.js';
import { createProgressView } from '../progress-view.js';
import { collectProvenance, type Provenance } from '../../provenance/index.js';
import { nonInteractiveByEnv, recordSession } from '../session-end.js';

/** npm's subcommands that install; `ci` installs the lockfile exactly. */
export const NPM_INSTALL_WORDS = new Set(['install', 'i', 'add', 'ci', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isntall', 'clean-install']);

/** `safe-install npm <sub> ...` */
export async function npmCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || !NPM_INSTALL_WORDS.has(sub)) {
    throw new SafeInstallError('E_USAGE', `safe-install npm ${sub ?? ''}: only npm's install commands go through the sandbox`, 'use `safe-install npm install|i|add|ci ...`, or run npm itself for other commands');
  }
  return installCommand(rest, sub === 'ci' || sub === 'clean-install' ? 'ci' : 'install');
}

/** A first word that is no command of ours but reads like a package spec: `safe-install esbuild`. */
export function looksLikeSpec(word: string): boolean {
  return !word.startsWith('-') && /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(@.+)?$/i.test(word);
}

export async function installCommand(argv: string[], mode: 'install' | 'ci' = 'install'): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    'save-dev': { type: 'boolean', short: 'D' },
    'save-exact': { type: 'boolean', short: 'E' },
    'save-optional': { type: 'boolean', short: 'O' },
    'save-prod': { type: 'boolean', short: 'P' },
    'save-peer': { type: 'boolean' },
    omit: { type: 'string', multiple: true },
    workspace: { type: 'string', short: 'w', multiple: true },
    ...HOST_INSTALL_FLAGS,
  });
  if (mode === 'ci' && positionals.length > 0) {
    throw new SafeInstallError('E_USAGE', '`ci` takes no package names', 'it installs exactly what package-lock.json says');
  }
  const failOn = failOnFlag(values['fail-on']);
  const omit = (values.omit ?? []).flatMap((o) => o.split(','));
  for (const o of omit) {
    if (!['dev', 'optional', 'peer'].includes(o)) throw new SafeInstallError('E_USAGE', `--omit takes dev, optional or peer, not "${o}"`, 'e.g. --omit dev');
  }
  if (process.env.NODE_ENV === 'production' && !omit.includes('dev')) omit.push('dev'); // as npm does
  const saveType: SaveType | undefined = values['save-dev'] ? 'dev' : values['save-optional'] ? 'optional' : values['save-peer'] ? 'peer' : values['save-prod'] ? 'prod' : undefined;
  const host = hostInstallOptions(values);
  const policy = await commandPolicy(values);

  // Who asked, taken before the work: the parents may be gone by the time it ends.
  const provenance = collectProvenance();
  const progress = createProgressView(process.stderr, values.quiet === true);
  let prepared: PreparedInstall;
  try {
    prepared = await prepareInstall({
      projectDir: process.cwd(),
      mode,
      specs: positionals,
      ...(saveType ? { saveType } : {}),
      ...(values['save-exact'] ? { saveExact: true } : {}),
      omit,
      workspaces: values.workspace ?? [],
      ...host.withPolicy(policy, (ev) => progress.update(ev)),
    });
  } finally {
    progress.done();
  }

  return finishInstall(prepared, { values, failOn, policyFailOn: policy.failOn, provenance });
}

export interface FinishFlags {
  values: { json?: boolean | undefined; verbose?: boolean | undefined; yes?: boolean | undefined; quiet?: boolean | undefined };
  failOn: ReturnType<typeof failOnFlag>;
  policyFailOn: ReturnType<typeof failOnFlag>;
  provenance: Provenance;
  /** Front-end specific lines of the report's `install` section (pnpm's skipped builds). */
  extra?: Record<string, unknown>;
  /** Lines printed before the verdict prompt (e.g. builds pnpm's settings skip). */
  notes?: string[];
}

/** Shows the verdict, asks on review, records the session, applies or discards: every front-end. */
export async function finishInstall(prepared: PreparedInstall, flags: FinishFlags): Promise<number> {
  const { values, failOn, provenance } = flags;
  const report = installReport(prepared, provenance);
  Object.assign(report.install, flags.extra ?? {});
  if (!values.json) for (const line of flags.notes ?? []) process.stderr.write(`${line}\n`);
  // SAFE_INSTALL_NONINTERACTIVE=1 (set by the PATH shims): nobody is asked, review is refused.
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && !nonInteractiveByEnv();
  if (!values.json) {
    if (prepared.session && prepared.session.chain.packages.length > 0) {
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(renderTerminal(report as unknown as Parameters<typeof renderTerminal>[0], { color, verbose: values.verbose === true, width: process.stdout.columns ?? 100 }));
    }
    for (const c of prepared.cached) process.stdout.write(`${c.name}@${c.version}: allowed before (verdict cache)\n`);
  }

  const effectiveFailOn = failOn ?? flags.policyFailOn;
  let proceed = prepared.verdict === 'allow';
  if (prepared.verdict === 'review' && effectiveFailOn !== 'review') {
    if (values.yes) proceed = true;
    else if (interactive && !values.json) proceed = await ask('Install anyway? The findings above need your review. [y/N] ');
  }
  // On record before anything lands on the host: an install that crashes half-way is still there.
  try {
    await recordSession({ kind: 'install', chain: prepared.session?.chain ?? null, assessment: prepared.session?.assessment ?? null, verdict: prepared.verdict, provenance, command: process.argv.slice(2) });
  } catch (err) {
    await prepared.discard();
    throw err;
  }
  if (!proceed) {
    await prepared.discard();
    report.install.installed = false;
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stderr.write(`${notInstalledMessage(prepared)}\n`);
    return EXIT_BLOCKED;
  }
  let applied: AppliedInstall;
  try {
    applied = await prepared.apply({ rootScriptsStdio: values.json ? 'stderr' : 'inherit' });
  } catch (err) {
    await prepared.discard();
    throw err;
  }
  report.install.installed = true;
  report.install.rootScripts = applied.rootScripts;
  report.install.rootScriptsIn = applied.rootScriptsIn;
  if (applied.workspaceScripts) report.install.workspaceScripts = applied.workspaceScripts;
  if (applied.project) report.install.project = applied.project;
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (values.quiet !== true) for (const line of projectNotes(applied)) process.stderr.write(`${line}\n`);
  if (!values.json && values.quiet !== true) process.stderr.write(`safe-install: installed ${prepared.changed.length} package${prepared.changed.length === 1 ? '' : 's'} (${prepared.sandboxed.length} sandboxed, ${prepared.cached.length} from the verdict cache); no install script ran on this machine\n`);
  return EXIT_ALLOWED;
}

interface InstallSection {
  installed: boolean;
  changed: { name: string; version: string; location: string }[];
  sandboxed: { name: string; version: string; location: string }[];
  cached: { name: string; version: string; location: string }[];
  containerStarted: boolean;
  rootScripts: string[];
  rootScriptsIn?: AppliedInstall['rootScriptsIn'];
  workspaceScripts?: AppliedInstall['workspaceScripts'];
  project?: AppliedInstall['project'];
}

/** With --sandbox-root: what of the project's scripts' work stayed in the sandbox. */
function projectNotes(applied: AppliedInstall): string[] {
  if (!applied.project) return [];
  const names = [...(applied.workspaceScripts ?? []).map((w) => `${w.dir} ${w.event}`), ...applied.rootScripts];
  const scripts = names.length === 1 ? `script (${names[0]}) ran` : `scripts (${names.join(', ')}) ran`;
  const lines = [`safe-install: the project's own ${scripts} in the sandbox; what ${names.length === 1 ? 'it' : 'they'} made in the project folder was copied in`];
  if (applied.project.notLanded.length > 0) {
    lines.push(`safe-install: not copied in (secrets and git metadata stay on the host as they were): ${applied.project.notLanded.slice(0, 10).join(', ')}${applied.project.notLanded.length > 10 ? ', ...' : ''}`);
  }
  return lines;
}

/** The scan report (schemaVersion 1) of the session, plus an `install` section. */
function installReport(prepared: PreparedInstall, provenance: Provenance): Record<string, unknown> & { install: InstallSection } {
  const tool = { name: 'safe-install', version: packageRoot().version };
  const base = prepared.session
    ? (buildJsonReport({ chain: prepared.session.chain, assessment: prepared.session.assessment, tool, provenance: { ...provenance } }) as unknown as Record<string, unknown>)
    : { schemaVersion: REPORT_SCHEMA_VERSION, tool, verdict: prepared.verdict, packages: [], provenance: { ...provenance } };
  return {
    ...base,
    install: {
      installed: false,
      changed: prepared.changed,
      sandboxed: prepared.sandboxed,
      cached: prepared.cached.map(({ name, version, location }) => ({ name, version, location })),
      containerStarted: prepared.containerStarted,
      rootScripts: [],
    },
  };
}

/** Which package did what, and the policy lines that would let it through. */
function notInstalledMessage(prepared: PreparedInstall): string {
  const lines = [`safe-install: nothing was installed (verdict: ${prepared.verdict}); package.json, the lockfile and node_modules are unchanged`];
  const session = prepared.session;
  if (!session) return lines.join('\n');
  const infoAt = new Map(session.chain.packages.map((p) => [p.info.location, p.info]));
  for (const pkg of session.assessment.packages) {
    if (pkg.verdict === 'allow') continue;
    const info = infoAt.get(pkg.location);
    if (!info) continue;
    lines.push(`  ${info.name}@${info.version} (${pkg.verdict}):`);
    for (const f of pkg.findings) lines.push(`    ${f.severity} ${f.rule}: ${f.message}`);
  }
  // The project itself (--sandbox-root) has no published tarball to pin an acknowledgment to.
  const packages = session.assessment.packages.filter((pkg) => pkg.verdict !== 'allow' && pkg.location !== '' && infoAt.has(pkg.location));
  if (packages.length > 0) {
    lines.push('  to accept these after reviewing them, add to safe-install.config.yaml:');
    lines.push('    acknowledge:');
  }
  for (const pkg of packages) {
    const info = infoAt.get(pkg.location)!;
    const rules = [...new Set(pkg.findings.map((f) => f.rule))];
    lines.push(`      - { package: "${info.name}@${info.version}", integrity: "${info.integrity}", rules: [${rules.join(', ')}], reason: "<why>" }`);
  }
  if (session.assessment.packages.some((pkg) => pkg.verdict !== 'allow' && pkg.location === '')) {
    lines.push("  the project's own scripts did this (--sandbox-root): read them before running them anywhere; trusted, they run on the host without --sandbox-root");
  }
  lines.push('  (allowed network destinations go under packages: { "<name>@<version>": { allowEgress: [host] } }; see docs/policy.md)');
  return lines.join('\n');
}

async function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
