/**
 * `safe-install log list | show <ref> | show --last | verify`: read and check the session
 * record. `--json` everywhere. verify exits 1 when the chain is broken, 0 when it holds.
 */
import { SafeInstallError } from '../../errors/index.js';
import { collectProvenance } from '../../provenance/index.js';
import { appendBypassRecord, findRecord, readRecordLines, storePaths, verifyRecords, type SessionRecord } from '../../record/index.js';
import { parseFlags } from '../args.js';
import { EXIT_ALLOWED, EXIT_BLOCKED } from '../exit-codes.js';

const LOG_USAGE = 'usage: safe-install log list [--limit N] | show <seq|id|hash> | show --last | verify   (each takes --json)';

export async function logCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
      return list(rest);
    case 'show':
      return show(rest);
    case 'verify':
      return verify(rest);
    case 'bypass':
      return bypass(rest);
    default:
      throw new SafeInstallError('E_USAGE', sub ? `unknown log command "${sub}"` : 'log needs a command', LOG_USAGE);
  }
}

function summary(r: SessionRecord): Record<string, unknown> {
  const findings = r.body.findings.reduce((n, p) => n + p.findings.length, 0);
  const prov = r.body.provenance as { initiator?: string; agents?: { id: string }[]; cwd?: string };
  return {
    seq: r.seq,
    id: r.id,
    time: r.time,
    kind: r.kind,
    verdict: r.body.verdict,
    command: r.body.command,
    packages: r.body.chain?.packages.length ?? 0,
    findings,
    initiator: prov.initiator ?? null,
    agents: (prov.agents ?? []).map((a) => a.id),
    cwd: prov.cwd ?? null,
    hash: r.hash,
    signed: r.hmac !== undefined,
  };
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function list(argv: string[]): number {
  const { values } = parseFlags(argv, { json: { type: 'boolean' }, limit: { type: 'string' } });
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!Number.isInteger(limit) && limit !== Infinity) throw new SafeInstallError('E_USAGE', `--limit takes a whole number, not "${values.limit}"`, 'e.g. --limit 20');
  const records = readRecordLines().flatMap((l) => (l.record ? [l.record] : []));
  const shown = records.slice(Math.max(0, records.length - limit));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ store: storePaths().records, records: shown.map(summary) }, null, 2)}\n`);
    return EXIT_ALLOWED;
  }
  if (shown.length === 0) {
    process.stdout.write(`no records yet (${storePaths().records})\n`);
    return EXIT_ALLOWED;
  }
  for (const r of shown) {
    const s = summary(r);
    const who = s.agents && (s.agents as string[]).length > 0 ? `agent:${(s.agents as string[]).join(',')}` : String(s.initiator ?? '?');
    process.stdout.write(`${String(r.seq).padStart(4)}  ${iso(r.time)}  ${r.kind.padEnd(7)}  ${String(r.body.verdict ?? '-').toUpperCase().padEnd(6)}  ${who.padEnd(18)}  ${r.body.command.join(' ')}\n`);
  }
  return EXIT_ALLOWED;
}

function show(argv: string[]): number {
  const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' }, last: { type: 'boolean' } });
  if ((positionals.length === 0) === (values.last !== true) || positionals.length > 1) {
    throw new SafeInstallError('E_USAGE', 'log show takes one record reference, or --last', 'e.g. `safe-install log show 12` or `safe-install log show --last`');
  }
  const ref = values.last ? 'last' : positionals[0]!;
  const record = findRecord(ref);
  if (!record) throw new SafeInstallError('E_USAGE', ref === 'last' ? 'the record is empty' : `no record "${ref}"`, 'list them with `safe-install log list`');
  if (values.json) {
    process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
    return EXIT_ALLOWED;
  }
  const s = summary(record);
  const prov = record.body.provenance as Partial<import('../../provenance/index.js').Provenance>;
  const lines = [
    `record ${record.seq}  ${record.kind}  ${iso(record.time)}`,
    `  id        ${record.id}`,
    `  command   ${record.body.command.join(' ')}`,
    `  verdict   ${String(record.body.verdict ?? 'none (not scanned)')}`,
    `  started   ${prov.command?.line ?? '?'}`,
    `  by        ${prov.initiator ?? '?'}${prov.agents?.length ? ` (${prov.agents.map((a) => `${a.name}: ${a.evidence.join(', ')}`).join('; ')})` : ''}${prov.user?.name ? `, user ${prov.user.name}` : ''}`,
    `  cwd       ${prov.cwd ?? '?'}`,
  ];
  if (prov.git) lines.push(`  git       ${prov.git.remote ?? '(no remote)'} ${prov.git.head ?? ''}`.trimEnd());
  if (prov.ci) lines.push(`  ci        ${prov.ci.provider}${prov.ci.runId ? ` run ${prov.ci.runId}` : ''}${prov.ci.url ? ` ${prov.ci.url}` : ''}`);
  if (prov.shim) lines.push(`  via shim  ${prov.shim.tool}${prov.shim.realBinary ? ` (real: ${prov.shim.realBinary})` : ''}`);
  if (prov.processChain?.length) lines.push(`  parents   ${prov.processChain.slice(1).map((p) => `${p.name}[${p.pid}]`).join(' < ')}`);
  lines.push(`  image     ${record.body.imageDigest ?? '-'}`, `  tool      ${record.body.tool.name} ${record.body.tool.version}`);
  for (const pkg of record.body.findings) {
    lines.push(`  ${pkg.package}  ${pkg.verdict.toUpperCase()}`);
    for (const f of pkg.findings) lines.push(`    ${f.severity.padEnd(8)} ${f.rule}  ${f.message}`);
  }
  lines.push(`  hash      ${record.hash}${s.signed ? '  (signed)' : ''}`, `  prev      ${record.prev ?? '(first record)'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_ALLOWED;
}

async function verify(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' } });
  const result = await verifyRecords();
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.ok) {
    process.stdout.write(`ok: ${result.records} record${result.records === 1 ? '' : 's'}, chain intact${result.signed ? ', signatures valid' : ' (unsigned: set SAFE_INSTALL_RECORD_KEY to sign and check)'}  ${result.store}\n`);
  } else {
    process.stdout.write(`BROKEN: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${result.store}\n`);
    for (const p of result.problems) process.stdout.write(`  ${p.kind.padEnd(9)} ${p.message}\n`);
  }
  return result.ok ? EXIT_ALLOWED : EXIT_BLOCKED;
}

/** Used by the PATH shims when SAFE_INSTALL_BYPASS=1 let a package manager run unprotected. */
async function bypass(argv: string[]): Promise<number> {
  const command = argv[0] === '--' ? argv.slice(1) : argv;
  if (command.length === 0) throw new SafeInstallError('E_USAGE', 'log bypass needs the command that bypassed', 'e.g. `safe-install log bypass -- npm install left-pad` (the shims call this)');
  await appendBypassRecord({ command, provenance: collectProvenance() });
  return EXIT_ALLOWED;
}
