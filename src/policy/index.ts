/** The policy: what a user allows, quiets or accepts (docs/policy.md). */
export { applyPolicy } from './apply.js';
export { defaultUserConfigDir, loadPolicy, policyOf, PROJECT_POLICY_FILES, USER_POLICY_FILES, type LoadPolicyOptions } from './load.js';
export { policyDigest } from './digest.js';
export { suggestAllow } from './suggest.js';
export { LOCKED_RULES } from './types.js';
export type { Acknowledgement, LoadedPolicy, PackagePolicy, Policy, RuleSetting, RuleSettings } from './types.js';
