/**
 * Every rule the engine runs. Adding a rule: write `src/rules/<id>.ts` exporting a `Rule`, list it
 * here, add its test. Order only decides how findings of equal severity are listed.
 */
import type { Rule } from './types.js';
import { timeoutRule } from './timeout.js';
import { sandboxErrorRule } from './sandbox-error.js';
import { exfiltrationRule } from './exfiltration.js';
import { reverseShellRule } from './reverse-shell.js';
import { downloadExecuteRule } from './download-execute.js';
import { credentialAccessRule } from './credential-access.js';
import { persistenceRule } from './persistence.js';
import { tamperingRule } from './tampering.js';
import { destructiveRule } from './destructive.js';
import { privilegeEscalationRule } from './privilege-escalation.js';
import { networkEgressRule } from './network-egress.js';
import { writeOutsidePackageRule } from './write-outside-package.js';
import { detachedProcessRule } from './detached-process.js';
import { reconRule } from './recon.js';
import { installScriptAddedRule } from './install-script-added.js';
import { shellSpawnRule } from './shell-spawn.js';
import { nativeBuildRule } from './native-build.js';

export const RULES: readonly Rule[] = [
  sandboxErrorRule,
  timeoutRule,
  exfiltrationRule,
  reverseShellRule,
  downloadExecuteRule,
  credentialAccessRule,
  persistenceRule,
  tamperingRule,
  destructiveRule,
  privilegeEscalationRule,
  networkEgressRule,
  writeOutsidePackageRule,
  detachedProcessRule,
  reconRule,
  installScriptAddedRule,
  shellSpawnRule,
  nativeBuildRule,
];
