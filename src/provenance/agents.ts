/**
 * Known coding agents and how each one shows itself: a variable it sets for the commands it
 * runs, or its own process among our ancestors. Matching is on evidence only (a name, a
 * variable's presence); variable values are never copied into the record, they may be secrets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProcessInfo } from './process-chain.js';

export interface AgentSignature {
  id: string;
  name: string;
  /** Variables whose presence means the agent started us (values are ignored). */
  env: string[];
  /** Executable or script basenames, compared with a process's name and argv[0..1]. */
  processes: string[];
}

export interface DetectedAgent {
  id: string;
  name: string;
  /** `env:CLAUDECODE`, or `process:1234 claude` */
  evidence: string[];
}

export const KNOWN_AGENTS: readonly AgentSignature[] = [
  { id: 'claude-code', name: 'Claude Code', env: ['CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT'], processes: ['claude'] },
  { id: 'codex', name: 'OpenAI Codex CLI', env: ['CODEX_SANDBOX', 'CODEX_SANDBOX_NETWORK_DISABLED', 'CODEX_MANAGED_BY_NPM'], processes: ['codex'] },
  { id: 'cursor', name: 'Cursor', env: ['CURSOR_AGENT', 'CURSOR_TRACE_ID'], processes: ['cursor', 'cursor-agent', 'Cursor'] },
  { id: 'gemini-cli', name: 'Gemini CLI', env: ['GEMINI_CLI'], processes: ['gemini'] },
  { id: 'copilot', name: 'GitHub Copilot', env: ['COPILOT_AGENT_ACTION', 'COPILOT_CLI', 'GITHUB_COPILOT_AGENT'], processes: ['copilot', 'github-copilot-cli'] },
  { id: 'aider', name: 'Aider', env: ['AIDER_MODEL', 'AIDER_CHAT_HISTORY_FILE'], processes: ['aider'] },
  { id: 'windsurf', name: 'Windsurf', env: ['WINDSURF_AGENT'], processes: ['windsurf'] },
  { id: 'cline', name: 'Cline', env: ['CLINE_ACTIVE'], processes: ['cline'] },
  { id: 'amp', name: 'Amp', env: ['AMP_CLI'], processes: ['amp'] },
  { id: 'opencode', name: 'opencode', env: ['OPENCODE'], processes: ['opencode'] },
  { id: 'goose', name: 'Goose', env: ['GOOSE_TERMINAL'], processes: ['goose'] },
  { id: 'devin', name: 'Devin', env: ['DEVIN'], processes: [] },
];

/**
 * Extra signatures from `SAFE_INSTALL_AGENTS`: comma-separated entries, each a process name
 * (`myagent`) or a variable (`env:MY_AGENT_SESSION`). Teams add their in-house agents this way.
 */
export function parseAgentList(value: string | undefined): AgentSignature[] {
  if (!value) return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const isEnv = entry.startsWith('env:');
      const key = isEnv ? entry.slice(4) : entry;
      return { id: `custom:${key}`, name: key, env: isEnv ? [key] : [], processes: isEnv ? [] : [key] };
    });
}

/**
 * The user's list: `$XDG_CONFIG_HOME/safe-install/agents` (default ~/.config/safe-install/agents),
 * one entry per line in the SAFE_INSTALL_AGENTS syntax, `#` starts a comment. A separate file,
 * not a policy key: it describes the machine's tools, not a decision about packages.
 */
export function readAgentsFile(env: NodeJS.ProcessEnv): AgentSignature[] {
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME || os.homedir(), '.config');
  let text: string;
  try {
    text = fs.readFileSync(path.join(config, 'safe-install', 'agents'), 'utf8');
  } catch {
    return [];
  }
  return parseAgentList(text.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean).join(','));
}

/** Basenames a process is known by: its kernel name and the programs of argv[0] and argv[1] (`node /usr/bin/claude`). */
function namesOf(proc: ProcessInfo): string[] {
  const names = [proc.name];
  for (const arg of proc.argv.slice(0, 2)) {
    if (arg && !arg.startsWith('-')) names.push(path.basename(arg).replace(/\.(c?js|mjs|py|exe)$/, ''));
  }
  return names;
}

export function detectAgents(
  chain: ProcessInfo[],
  env: NodeJS.ProcessEnv,
  signatures: readonly AgentSignature[],
): DetectedAgent[] {
  const found: DetectedAgent[] = [];
  for (const sig of signatures) {
    const evidence: string[] = [];
    for (const name of sig.env) if (env[name] !== undefined && env[name] !== '') evidence.push(`env:${name}`);
    for (const proc of chain) {
      const names = namesOf(proc);
      const hit = sig.processes.find((p) => names.includes(p));
      if (hit) evidence.push(`process:${proc.pid} ${hit}`);
    }
    if (evidence.length > 0) found.push({ id: sig.id, name: sig.name, evidence });
  }
  return found;
}
