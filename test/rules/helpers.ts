/** Runs one rule on one package of a built chain, as the engine would. */
import type { SessionChain } from '../../src/session/types.js';
import { sandboxPathsFor } from '../../src/rules/paths.js';
import type { Finding, Rule } from '../../src/rules/types.js';

export function run(rule: Rule, chain: SessionChain, location?: string): Finding[] {
  const entry = location === undefined ? chain.packages[0] : chain.packages.find((p) => p.info.location === location);
  if (!entry) throw new Error(`no package at ${location}`);
  return rule.evaluate({ pkg: entry.info, session: entry.session, chain, paths: sandboxPathsFor(chain.projectDir, entry.info.location) });
}
