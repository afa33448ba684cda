/** What the ci e2e tests share: running a program in the temp repository, and git there. */
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export interface CiRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** No CI provider's base ref and no step summary from the machine the tests run on. */
export const NO_CI_CONTEXT = { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', GITHUB_BASE_REF: '', CI_MERGE_REQUEST_DIFF_BASE_SHA: '' };

/** pip's own configuration of this machine kept out, so only what the repository says counts. */
export const NO_PIP_CONFIG = { PIP_CONFIG_FILE: os.devNull, PIP_FIND_LINKS: '', PIP_INDEX_URL: '', PIP_EXTRA_INDEX_URL: '' };

/** The environment of a Python gate run: its own caches and state under `work`, nothing of this machine's pip or CI. */
export function pythonGateEnv(work: string): NodeJS.ProcessEnv {
  return { ...process.env, ...NO_CI_CONTEXT, XDG_CACHE_HOME: path.join(work, 'xdg-cache'), XDG_STATE_HOME: path.join(work, 'xdg-state'), ...NO_PIP_CONFIG };
}

/** Async: a registry or index the test serves answers from this very process meanwhile. */
export function runIn(cwd: string, file: string, args: string[], env: NodeJS.ProcessEnv): Promise<CiRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

export function gitIn(repo: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'ci', GIT_AUTHOR_EMAIL: 'ci@example.invalid', GIT_COMMITTER_NAME: 'ci', GIT_COMMITTER_EMAIL: 'ci@example.invalid' },
  }).trim();
}
