/**
 * Provenance: who asked for this session. The process chain, a coding agent if one is in it
 * or in the environment, a human at a terminal or not, the user, the directory, the git
 * repository, the CI run and the exact command line. It goes into the JSON report and the record.
 */
import os from 'node:os';
import { detectAgents, KNOWN_AGENTS, parseAgentList, readAgentsFile, type DetectedAgent } from './agents.js';
import { detectCi, type CiInfo } from './ci.js';
import { gitInfo, type GitInfo } from './git.js';
import { processChain, type ProcessInfo } from './process-chain.js';

export type { DetectedAgent, AgentSignature } from './agents.js';
export type { CiInfo } from './ci.js';
export type { GitInfo } from './git.js';
export type { ProcessInfo } from './process-chain.js';
export { KNOWN_AGENTS, parseAgentList, detectAgents, readAgentsFile } from './agents.js';
export { detectCi } from './ci.js';
export { processChain } from './process-chain.js';

/** Best single answer to "who started it": an agent wins over CI, CI over a human at a TTY. */
export type Initiator = 'agent' | 'ci' | 'human' | 'unknown';

export interface Provenance {
  /** The exact command line of this safe-install run (argv as the OS gave it, node and script included). */
  command: { argv: string[]; line: string };
  initiator: Initiator;
  agents: DetectedAgent[];
  /** A person at a terminal: stdin and stdout are TTYs. */
  interactive: boolean;
  tty: { stdin: boolean; stdout: boolean; stderr: boolean };
  user: { name: string | null; uid: number | null };
  host: string;
  cwd: string;
  git: GitInfo | null;
  ci: CiInfo | null;
  /** Set when a safe-install PATH shim routed the command here (`npm`, `pip`...). */
  shim: { tool: string; realBinary: string | null } | null;
  /** This process and its ancestors up to pid 1, nearest first. */
  processChain: ProcessInfo[];
  /** Unix seconds. */
  collectedAt: number;
}

export interface CollectOptions {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  pid?: number;
  tty?: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** More agent signatures (e.g. from a config file), added to the built-in list and SAFE_INSTALL_AGENTS. */
  extraAgents?: { id: string; name: string; env: string[]; processes: string[] }[];
}

/** Quote an argument for a POSIX shell only when it needs it, so the line reads like what was typed. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function currentUser(env: NodeJS.ProcessEnv): { name: string | null; uid: number | null } {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  try {
    return { name: os.userInfo().username, uid };
  } catch {
    // A uid with no passwd entry (common in containers).
    return { name: env.USER ?? env.LOGNAME ?? null, uid };
  }
}

export function collectProvenance(opts: CollectOptions = {}): Provenance {
  const env = opts.env ?? process.env;
  const argv = opts.argv ?? process.argv;
  const cwd = opts.cwd ?? process.cwd();
  const tty = opts.tty ?? { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true };
  const chain = processChain(opts.pid ?? process.pid);
  const signatures = [...KNOWN_AGENTS, ...parseAgentList(env.SAFE_INSTALL_AGENTS), ...readAgentsFile(env), ...(opts.extraAgents ?? [])];
  const agents = detectAgents(chain, env, signatures);
  const ci = detectCi(env);
  const interactive = tty.stdin && tty.stdout;
  const initiator: Initiator = agents.length > 0 ? 'agent' : ci ? 'ci' : interactive ? 'human' : 'unknown';
  return {
    command: { argv: [...argv], line: argv.map(shellQuote).join(' ') },
    initiator,
    agents,
    interactive,
    tty,
    user: currentUser(env),
    host: os.hostname(),
    cwd,
    git: gitInfo(cwd),
    ci,
    shim: env.SAFE_INSTALL_SHIM ? { tool: env.SAFE_INSTALL_SHIM, realBinary: env.SAFE_INSTALL_REAL_BIN || null } : null,
    processChain: chain,
    collectedAt: Date.now() / 1000,
  };
}
