/**
 * The behaviour diff for the terminal, printed before everything else: the one line a reviewer
 * must not miss ("1.0.1 started reading ~/.npmrc and calling a new host"), then what exactly is
 * new, each with the evidence ids that show it in the report below.
 */
import type { BehaviourDiff } from '../diff/types.js';
import { hasNewBehaviour } from '../diff/behaviour.js';
import { printable } from './escape.js';
import { painter } from './style.js';

export function renderDiffsTerminal(diffs: readonly BehaviourDiff[], opts: { color: boolean }): string {
  const paint = painter(opts.color);
  const lines: string[] = [];
  for (const diff of diffs) {
    if (!hasNewBehaviour(diff)) {
      lines.push(paint('dim', printable(diff.summary)));
      continue;
    }
    lines.push(paint('bold', paint('red', `NEW  ${printable(diff.summary)}`)));
    const ids = (evidence: string[]) => paint('dim', `  [${evidence.join(', ')}]`);
    for (const s of diff.scriptsAdded) lines.push(`  + ${s.event} script: ${printable(s.command)}`);
    for (const t of diff.secretReads) lines.push(`  + reads ${printable(t.what)}${ids(t.evidence)}`);
    for (const t of diff.hosts) lines.push(`  + contacts ${printable(t.what)}${ids(t.evidence)}`);
    for (const t of diff.processes) lines.push(`  + runs ${printable(t.what)}${ids(t.evidence)}`);
    if (diff.newRules.length > 0) lines.push(`  + new findings: ${diff.newRules.join(', ')}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n\n` : '';
}
