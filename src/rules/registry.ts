/**
 * Every rule the engine runs. Adding a rule: write `src/rules/<id>.ts` exporting a `Rule`, list it
 * here, add its test. Order only decides how findings of equal severity are listed.
 */
import type { Rule } from './types.js';
import { timeoutRule } from './timeout.js';
import { sandboxErrorRule } from './sandbox-error.js';
import { credentialAccessRule } from './credential-access.js';
import { networkEgressRule } from './network-egress.js';
import { writeOutsidePackageRule } from './write-outside-package.js';
import { detachedProcessRule } from './detached-process.js';
import { shellSpawnRule } from './shell-spawn.js';
import { nativeBuildRule } from './native-build.js';

export const RULES: readonly Rule[] = [
  sandboxErrorRule,
  timeoutRule,
  credentialAccessRule,
  networkEgressRule,
  writeOutsidePackageRule,
  detachedProcessRule,
  shellSpawnRule,
  nativeBuildRule,
];
