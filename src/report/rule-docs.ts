/** One line per rule id, as ARCHITECTURE.md defines them: SARIF rule descriptions, report legends. */
import type { RuleId, Severity } from '../rules/types.js';

export const RULE_DESCRIPTIONS: Record<RuleId, string> = {
  'credential-access': 'Reads a secret: npm/pip/docker/git/cloud/ssh/gh credentials, wallets, browser profiles, .env outside its package.',
  exfiltration: 'Secret-derived data leaves the machine: a decoy value seen in egress, or a secret read followed by egress.',
  'network-egress': 'A DNS lookup or connection to a destination the policy does not allow.',
  'download-execute': 'A file fetched or written during the session is then executed, loaded or piped to a shell.',
  'reverse-shell': 'A shell or interpreter whose stdio is a network socket.',
  persistence: 'Writes shell rc files, crontabs, systemd/launchd units, autostart entries, git hooks or package-manager config.',
  tampering: "Writes another package, the host project's files, or its lockfile.",
  'write-outside-package': "Writes outside the package's own folder and temp dirs.",
  destructive: 'Deletes or overwrites user files outside its package.',
  'detached-process': 'Leaves a process running after its script exits (daemon, nohup, setsid).',
  'privilege-escalation': 'sudo/su/setuid/capability games.',
  recon: 'Fingerprints the machine or probes for a sandbox (/.dockerenv, cgroups, /proc/*/environ, CI variables).',
  'shell-spawn': 'Runs a shell with an inline command (informational: common and usually benign).',
  'native-build': 'Compiles native code (informational).',
  'install-script-added': 'A version adds install scripts its previous version did not have.',
  timeout: 'An install script did not finish in time: never silently allowed.',
  'sandbox-error': 'The sandbox failed while running an install script: never silently allowed.',
};

/** GitHub code scanning reads `security-severity` (0-10) to rank alerts. */
export const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '1.0' };
