import type { ProcessEvent } from '../session/types.js';
import type { Finding, Rule } from './types.js';
import { imagesOf, isLifecycleWrapper, programNames, scriptProcesses } from './processes.js';
import { formatArgv, listSome } from './text.js';

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh']);

/**
 * A shell given an inline command (`sh -c '…'`, also bundled flags like `-ec`). Info only: build
 * scripts do this all the time; it matters as context for other findings. npm's own `sh -c`
 * wrapper around the lifecycle script is not the package's doing and is not counted.
 */
export const shellSpawnRule: Rule = {
  id: 'shell-spawn',
  evaluate({ session }) {
    const findings: Finding[] = [];
    for (const script of session.scripts) {
      const shells: { process: ProcessEvent; argv: string[] }[] = [];
      for (const process of scriptProcesses(session, script)) {
        const image = imagesOf(process).find(
          (candidate) => isInlineShell(candidate.argv, programNames(candidate)) && !isLifecycleWrapper(process, candidate, script),
        );
        if (image) shells.push({ process, argv: image.argv });
      }
      if (shells.length === 0) continue;
      const commands = shells.map(({ argv }) => formatArgv(argv, 80));
      findings.push({
        rule: 'shell-spawn',
        severity: 'info',
        message: `${script.event} script runs ${shells.length === 1 ? 'a shell' : `${shells.length} shells`} with an inline command: ${listSome(commands, 2)}`,
        evidence: shells.map(({ process }) => process.id),
      });
    }
    return findings;
  },
};

function isInlineShell(argv: readonly string[], names: readonly string[]): boolean {
  if (!names.some((name) => SHELLS.has(name))) return false;
  // Only options before the first operand belong to the shell; later `-c`s belong to the command.
  for (const arg of argv.slice(1)) {
    if (arg === '--' || !arg.startsWith('-') || arg.startsWith('--')) return false;
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(arg)) return true;
  }
  return false;
}
