/**
 * The one place where outcomes become exit codes (ARCHITECTURE.md): 0 allowed, 1 blocked (or
 * review when review must fail), 2 could not decide. Never 0 when the tool could not do its job.
 */
import type { Verdict } from '../rules/types.js';

export const EXIT_ALLOWED = 0;
export const EXIT_BLOCKED = 1;
export const EXIT_UNDECIDED = 2;

export type FailOn = 'review' | 'block';

export interface VerdictExitOptions {
  /** Explicit `--fail-on`; when absent, review fails unless someone is at a terminal to see it. */
  failOn?: FailOn;
  interactive: boolean;
}

export function exitCodeForVerdict(verdict: Verdict, opts: VerdictExitOptions): number {
  if (verdict === 'block') return EXIT_BLOCKED;
  if (verdict === 'review') {
    const failOn = opts.failOn ?? (opts.interactive ? 'block' : 'review');
    return failOn === 'review' ? EXIT_BLOCKED : EXIT_ALLOWED;
  }
  return EXIT_ALLOWED;
}

/** Every error, expected or not, means the tool could not decide. */
export function exitCodeForError(): number {
  return EXIT_UNDECIDED;
}
