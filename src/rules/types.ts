import type { PackageInfo, PackageSession, SessionChain } from '../session/types.js';

/** The rule ids are a public contract (ARCHITECTURE.md): findings' `rule` field. */
export const RULE_IDS = [
  'credential-access',
  'exfiltration',
  'network-egress',
  'download-execute',
  'reverse-shell',
  'persistence',
  'tampering',
  'write-outside-package',
  'destructive',
  'detached-process',
  'privilege-escalation',
  'recon',
  'shell-spawn',
  'native-build',
  'install-script-added',
  'timeout',
  'sandbox-error',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type Verdict = 'allow' | 'review' | 'block';

export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  /** Event ids (`p3`, `f12`, `n1`, `d2`, `s1`) that prove the finding. */
  evidence: string[];
}

/** What a rule sees: one package with its session, plus the whole chain for context. */
export interface RuleContext {
  pkg: PackageInfo;
  session: PackageSession;
  chain: SessionChain;
  /** Sandbox paths the rules need to judge locations. */
  paths: { projectDir: string; packageDir: string; home: string; tmpDirs: string[] };
}

export interface Rule {
  id: RuleId;
  evaluate(ctx: RuleContext): Finding[];
}

/** A finding the policy hid or changed, kept so reports can show what the policy did and why. */
export interface SuppressedFinding {
  /** As the rules reported it. */
  finding: Finding;
  /** The policy clause, e.g. `policy packages["esbuild@>=0.20"].allowEgress`, `policy acknowledge[0]`. */
  by: string;
  /** Set when the finding was kept with this severity instead of being hidden. */
  changedTo?: Severity;
  /** The acknowledgement's reason. */
  reason?: string;
}

export interface PackageAssessment {
  location: string;
  verdict: Verdict;
  findings: Finding[];
  /** What the policy hid or changed; absent when it did nothing to this package. */
  suppressed?: SuppressedFinding[];
}

export interface Assessment {
  verdict: Verdict;
  packages: PackageAssessment[];
}
