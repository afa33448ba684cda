/**
 * `safe-install diff pkg@a pkg@b`: both versions sandboxed, then the behaviour diff.
 *
 * Two sessions, one after the other, not one: two versions of one name cannot share the sandbox
 * project's `node_modules/<name>`, and each version deserves a fresh decoy machine (one version's
 * writes, e.g. a marker in ~/.cache, must not change what the other does). The second session
 * reuses the image, and the registry documents and tarballs the first one cached; the cost is one
 * more container start (measured in docs/ci.md).
 */
import { SafeInstallError } from '../errors/index.js';
import { scan, type ScanOptions } from '../pipeline/scan.js';
import { buildJsonReport, type JsonReport, type JsonReportPackage } from '../report/json.js';
import { diffPackages } from './behaviour.js';
import type { BehaviourDiff } from './types.js';

export interface VersionDiffResult {
  from: JsonReport;
  to: JsonReport;
  diff: BehaviourDiff;
  durationsMs: { from: number; to: number };
}

/** `@s/n@1.2.3` → `{ name: '@s/n', version: '1.2.3' }`; a version or tag is required. */
export function splitSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  if (at <= 0 || at === spec.length - 1) {
    throw new SafeInstallError('E_USAGE', `"${spec}" names no version`, 'give both versions, e.g. `safe-install diff left-pad@1.2.0 left-pad@1.3.0`');
  }
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

export async function diffVersions(
  fromSpec: string,
  toSpec: string,
  opts: Omit<ScanOptions, 'specs'> & { tool: { name: string; version: string } },
): Promise<VersionDiffResult> {
  const from = splitSpec(fromSpec);
  const to = splitSpec(toSpec);
  if (from.name !== to.name) {
    throw new SafeInstallError('E_USAGE', `diff compares two versions of one package, not ${from.name} and ${to.name}`, `e.g. safe-install diff ${to.name}@<old> ${to.name}@<new>`);
  }
  const { tool, ...scanOpts } = opts;
  const run = async (spec: string): Promise<{ report: JsonReport; ms: number }> => {
    const started = Date.now();
    const result = await scan({ ...scanOpts, specs: [spec] });
    return { report: buildJsonReport({ chain: result.chain, assessment: result.assessment, tool, provenance: { command: 'diff', spec } }), ms: Date.now() - started };
  };
  const a = await run(fromSpec);
  const b = await run(toSpec);
  const before = topLevel(a.report, from.name);
  const after = topLevel(b.report, to.name);
  return {
    from: a.report,
    to: b.report,
    diff: diffPackages({ pkg: before, report: a.report }, { pkg: after, report: b.report }, before.version),
    durationsMs: { from: a.ms, to: b.ms },
  };
}

function topLevel(report: JsonReport, name: string): JsonReportPackage {
  const pkg = report.packages.find((p) => p.name === name && p.location === `node_modules/${name}`) ?? report.packages.find((p) => p.name === name);
  if (!pkg) throw new SafeInstallError('E_INTERNAL', `${name} is missing from its own scan`, 'this is a bug in safe-install; please report it with the command you ran');
  return pkg;
}
