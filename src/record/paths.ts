/** Where records live: `$XDG_STATE_HOME/safe-install/` (default `~/.local/state/safe-install/`). */
import os from 'node:os';
import path from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SAFE_INSTALL_STATE_DIR) return path.resolve(env.SAFE_INSTALL_STATE_DIR);
  // The XDG spec says a relative value is invalid and must be ignored.
  const xdg = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(xdg, 'safe-install');
}

export interface StorePaths {
  dir: string;
  /** One record per line (JSON Lines), never rewritten, only appended. */
  records: string;
  /** The last record's seq and hash: makes removing records from the end detectable. */
  head: string;
  lock: string;
  /** Plain-text lines the PATH shims append when SAFE_INSTALL_BYPASS=1 skipped protection. */
  bypassLog: string;
}

export function storePaths(dir = stateDir()): StorePaths {
  return {
    dir,
    records: path.join(dir, 'records.jsonl'),
    head: path.join(dir, 'head.json'),
    lock: path.join(dir, 'records.lock'),
    bypassLog: path.join(dir, 'bypass.log'),
  };
}
