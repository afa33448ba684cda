/**
 * The few git questions the gate asks: where the repository is, which commit is the base, and
 * what a lockfile looked like there. Plain `git` on PATH, no library: CI images all have it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SafeInstallError } from '../errors/index.js';
import type { CiBase } from './types.js';

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SafeInstallError('E_GIT', 'git is not installed', 'install git: `safe-install ci` compares lockfiles between commits');
    }
    return null;
  }
}

export async function repoRoot(cwd: string): Promise<string> {
  const out = await git(cwd, ['rev-parse', '--show-toplevel']);
  if (out === null) {
    throw new SafeInstallError('E_GIT', `${cwd} is not inside a git repository`, 'run `safe-install ci` in a checkout of your project (in CI: after the checkout step)');
  }
  return out.trim();
}

async function commitOf(cwd: string, ref: string): Promise<string | null> {
  const out = await git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return out === null ? null : out.trim();
}

async function mergeBase(cwd: string, ref: string): Promise<string | null> {
  const out = await git(cwd, ['merge-base', 'HEAD', ref]);
  return out === null ? null : out.trim() || null;
}

/**
 * The base to compare against, most specific first:
 * 1. `--base REF` as given (an unknown ref is an error, never a silent "everything is new");
 * 2. the pull/merge request's target, from the CI's own variables (GitHub `GITHUB_BASE_REF`,
 *    GitLab `CI_MERGE_REQUEST_DIFF_BASE_SHA`), via merge-base so commits that landed on the
 *    target meanwhile are not blamed on this change;
 * 3. merge-base of HEAD with `origin/HEAD` (the remote's default branch) when it is not HEAD
 *    itself, so a feature branch is compared with where it forked;
 * 4. `HEAD~1`: on the default branch (a push build), the last commit's change;
 * 5. no history at all (a first commit): an empty base, every package is new.
 */
export async function resolveBase(cwd: string, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<CiBase> {
  if (explicit !== undefined) {
    const commit = await commitOf(cwd, explicit);
    if (commit === null) {
      throw new SafeInstallError('E_GIT', `--base ${explicit} is not a commit in this repository`, 'fetch it first (`git fetch origin main`, or `fetch-depth: 0` in actions/checkout) or pass another ref');
    }
    return { ref: explicit, commit, reason: '--base' };
  }
  const head = await commitOf(cwd, 'HEAD');
  if (env.GITHUB_BASE_REF) {
    const ref = `origin/${env.GITHUB_BASE_REF}`;
    const commit = (await commitOf(cwd, ref)) ? await mergeBase(cwd, ref) : null;
    if (commit) return { ref, commit, reason: 'merge-base with the pull request target (GITHUB_BASE_REF)' };
  }
  if (env.CI_MERGE_REQUEST_DIFF_BASE_SHA) {
    const commit = await commitOf(cwd, env.CI_MERGE_REQUEST_DIFF_BASE_SHA);
    if (commit) return { ref: env.CI_MERGE_REQUEST_DIFF_BASE_SHA, commit, reason: 'merge request base (CI_MERGE_REQUEST_DIFF_BASE_SHA)' };
  }
  if (await commitOf(cwd, 'origin/HEAD')) {
    const commit = await mergeBase(cwd, 'origin/HEAD');
    if (commit && commit !== head) return { ref: 'origin/HEAD', commit, reason: 'merge-base with origin/HEAD' };
  }
  const parent = await commitOf(cwd, 'HEAD~1');
  if (parent) return { ref: 'HEAD~1', commit: parent, reason: 'the previous commit (no other base found)' };
  if (head) return { ref: 'HEAD', commit: head, reason: 'the only commit' };
  return { ref: '(none)', commit: null, reason: 'no commits yet: every locked package is new' };
}

/** The file's content at `commit`, or null when it did not exist there. */
export async function fileAt(cwd: string, commit: string | null, repoPath: string): Promise<string | null> {
  if (commit === null) return null;
  return git(cwd, ['show', `${commit}:${repoPath}`]);
}
