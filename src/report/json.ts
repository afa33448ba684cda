/**
 * The `--json` report, schemaVersion 1 (contract: ARCHITECTURE.md, schema/report-v1.schema.json).
 * Fields may be added; none may be renamed or removed without bumping `schemaVersion`.
 */
import { SafeInstallError } from '../errors/index.js';
import type { LifecycleEvent, PackageSession, SandboxInfo, SessionChain } from '../session/types.js';
import type { Assessment, Finding, SuppressedFinding, Verdict } from '../rules/types.js';
import { sandboxPathsFor } from '../rules/paths.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface JsonReportPackage {
  name: string;
  version: string;
  integrity: string;
  verdict: Verdict;
  /** Folder relative to the project root (`node_modules/a`); `''` for the project itself. */
  location: string;
  resolved: string;
  scripts: Partial<Record<LifecycleEvent, string>>;
  findings: Finding[];
  /** Added field: findings the policy hid or re-rated, each with the clause that did it. */
  suppressed: SuppressedFinding[];
  session: PackageSession;
}

/** Where the session ran; paths let readers (and the terminal view) show paths relative to them. */
export interface JsonReportSandbox {
  image: string | null;
  imageId: string | null;
  containerId?: string;
  network: SandboxInfo['network'] | null;
  projectDir: string;
  home: string;
  tmpDirs: string[];
}

export interface JsonReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: string; version: string };
  verdict: Verdict;
  packages: JsonReportPackage[];
  provenance: Record<string, unknown>;
  sandbox: JsonReportSandbox;
  /** Unix seconds (fractional). */
  startedAt: number;
  endedAt: number;
  errors: { message: string; scriptId?: string }[];
  /** Added field: the chain id, to find the session in the record log. */
  sessionId: string;
}

export function buildJsonReport(args: {
  chain: SessionChain;
  assessment: Assessment;
  tool: { name: string; version: string };
  provenance?: Record<string, unknown>;
}): JsonReport {
  const { chain, assessment, tool, provenance = {} } = args;
  const byLocation = new Map(assessment.packages.map((pkg) => [pkg.location, pkg]));
  const paths = sandboxPathsFor(chain.projectDir, '');

  const packages = chain.packages.map(({ info, session }): JsonReportPackage => {
    const assessed = byLocation.get(info.location);
    // A package the rules never saw was never judged: refuse rather than report it as allowed.
    if (!assessed) {
      throw new SafeInstallError(
        'E_INTERNAL',
        `no assessment for package ${info.name}@${info.version} at ${info.location || '(root)'}`,
        'this is a bug in safe-install: please report it with the command you ran',
      );
    }
    return {
      name: info.name,
      version: info.version,
      integrity: info.integrity,
      verdict: assessed.verdict,
      location: info.location,
      resolved: info.resolved,
      scripts: { ...info.scripts },
      findings: assessed.findings.map((finding) => ({ ...finding, evidence: [...finding.evidence] })),
      suppressed: structuredClone(assessed.suppressed ?? []),
      session: structuredClone(session),
    };
  });

  const sandbox: JsonReportSandbox = {
    image: chain.sandbox?.image ?? null,
    imageId: chain.sandbox?.imageId ?? null,
    network: chain.sandbox?.network ?? null,
    projectDir: paths.projectDir,
    home: paths.home,
    tmpDirs: paths.tmpDirs,
  };
  if (chain.sandbox?.containerId !== undefined) sandbox.containerId = chain.sandbox.containerId;

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: tool.name, version: tool.version },
    verdict: assessment.verdict,
    packages,
    provenance: structuredClone(provenance),
    sandbox,
    startedAt: chain.startedAt,
    endedAt: chain.endedAt,
    errors: chain.errors.map((error) => ({ ...error })),
    sessionId: chain.id,
  };
}
