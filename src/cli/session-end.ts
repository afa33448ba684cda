/**
 * What every command that ends a session (scan, install) does after the verdict: write the
 * record (fail closed: an unrecorded session is an error), send it over OTLP when asked
 * (best effort: the local record already holds it), and know whether anyone can be asked.
 */
import { packageRoot } from '../package-root.js';
import type { Provenance } from '../provenance/index.js';
import { appendRecord, type SessionRecord } from '../record/index.js';
import { exportRecordOtlp, otlpTracesUrl } from '../record/otlp.js';
import type { Assessment, Verdict } from '../rules/types.js';
import type { SessionChain } from '../session/types.js';

/**
 * A person can be asked only at a terminal, and never when SAFE_INSTALL_NONINTERACTIVE=1 (set
 * by the PATH shims: an agent must get a verdict and an exit code, never a prompt).
 */
export function isInteractive(env: NodeJS.ProcessEnv = process.env): boolean {
  return !nonInteractiveByEnv(env) && process.stdin.isTTY === true && process.stdout.isTTY === true;
}

export function nonInteractiveByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SAFE_INSTALL_NONINTERACTIVE === '1' || env.SAFE_INSTALL_NONINTERACTIVE === 'true';
}

/** One short line saying why the session was refused, for stderr (agents read it). */
export function refusalReason(chain: SessionChain, assessment: Assessment): string {
  const names = new Map(chain.packages.map((p) => [p.info.location, `${p.info.name}@${p.info.version}`]));
  const flagged = assessment.packages.filter((p) => p.verdict !== 'allow');
  const parts = flagged.slice(0, 3).map((p) => `${names.get(p.location) ?? p.location}: ${[...new Set(p.findings.filter((f) => f.severity !== 'info').map((f) => f.rule))].join(', ') || p.verdict}`);
  const more = flagged.length > 3 ? ` (+${flagged.length - 3} more)` : '';
  return `verdict ${assessment.verdict.toUpperCase()}: ${parts.join('; ')}${more}`;
}

export interface SessionEndResult {
  record: SessionRecord;
  /** Set when an OTLP export was asked for and failed: a warning, not an error. */
  otlpError?: string;
  otlpSpans?: number;
}

export async function recordSession(args: {
  kind: 'scan' | 'install';
  chain: SessionChain | null;
  assessment: Assessment | null;
  verdict?: Verdict;
  provenance: Provenance;
  command: string[];
  otlp?: string;
}): Promise<SessionEndResult> {
  const record = await appendRecord({
    kind: args.kind,
    chain: args.chain,
    assessment: args.assessment,
    ...(args.verdict ? { verdict: args.verdict } : {}),
    provenance: args.provenance,
    command: args.command,
  });
  const url = otlpTracesUrl(args.otlp);
  if (!url) return { record };
  try {
    return { record, otlpSpans: await exportRecordOtlp(record, { url, version: packageRoot().version, timeoutMs: 5000 }) };
  } catch (err) {
    return { record, otlpError: (err as Error).message };
  }
}
