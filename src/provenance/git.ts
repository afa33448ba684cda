/**
 * The repository the command ran in: remote URL and HEAD. Runs git with a short timeout and
 * tolerates everything (no git, no repository, no remote, a detached HEAD).
 */
import { execFileSync } from 'node:child_process';

export interface GitInfo {
  root: string;
  remote: string | null;
  head: string | null;
  branch: string | null;
}

function git(cwd: string, args: string[]): string | null {
  try {
    const out = execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    const text = out.trim();
    return text.length > 0 ? text : null;
  } catch {
    return null;
  }
}

/** Remote URLs can embed a token (`https://user:ghp_x@github.com/...`): keep the host and path only. */
export function redactRemote(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '';
      parsed.password = '';
      return parsed.toString();
    }
    return url;
  } catch {
    return url; // scp-like `git@host:path` carries no secret
  }
}

export function gitInfo(cwd: string): GitInfo | null {
  const root = git(cwd, ['rev-parse', '--show-toplevel']);
  if (!root) return null;
  const branch = git(cwd, ['symbolic-ref', '--short', '-q', 'HEAD']);
  // The branch's upstream remote when it has one, else origin.
  const remoteName = (branch && git(cwd, ['config', '--get', `branch.${branch}.remote`])) || 'origin';
  const remote = git(cwd, ['remote', 'get-url', remoteName]);
  return { root, remote: remote ? redactRemote(remote) : null, head: git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']), branch };
}
