/**
 * Assembles the session chain from what the sandbox streamed back: each script's trace is
 * parsed into processes, file events and network attempts attributed to that script, and so
 * to its package. A script that never reported back is a sandbox error, never a clean run.
 */
import type { ContainerRun } from '../sandbox/container.js';
import type { RunPlan } from '../sandbox/protocol.js';
import { SANDBOX_PROJECT_DIR } from '../sandbox/layout.js';
import { parseScriptTrace } from '../trace/index.js';
import type { EventIds } from './ids.js';
import {
  emptyPackageSession,
  type Canary,
  type CapturedOutput,
  type PackageInfo,
  type PackageSession,
  type SandboxInfo,
  type ScriptRun,
  type SessionChain,
} from './types.js';

export interface BuildChainInput {
  id: string;
  startedAt: number;
  packages: PackageInfo[];
  plan: RunPlan | null;
  run: ContainerRun | null;
  sandbox: SandboxInfo | null;
  ids: EventIds;
  nodePrefix: string;
  canaries?: Canary[];
}

const NO_OUTPUT: CapturedOutput = { bytes: 0, head: '', truncated: false };

export function buildChain(input: BuildChainInput): SessionChain {
  const sessions = new Map<string, PackageSession>(input.packages.map((p) => [p.location, emptyPackageSession()]));
  const errors: SessionChain['errors'] = input.run ? [...input.run.errors] : [];
  const plan = input.plan;
  if (plan) {
    const planned = new Map(plan.packages.flatMap((pkg) => pkg.scripts.map((s) => [s.id, { pkg, script: s }] as const)));
    for (const id of plan.order) {
      const entry = planned.get(id);
      if (!entry) continue;
      const session = sessions.get(entry.pkg.location)!;
      const result = input.run?.scripts.get(id);
      const packageDir = `${plan.projectDir}/${entry.pkg.location}`;
      const base = {
        id,
        packageLocation: entry.pkg.location,
        event: entry.script.event,
        command: entry.script.command,
        implicit: entry.script.implicit,
        // A workspace's script runs in its folder, as the project's.
        cwd: entry.script.workspace ? `${packageDir}/${entry.script.workspace.dir}`.replace(/\/+/g, '/') : packageDir,
      };
      if (!result) {
        const why = errors.find((e) => e.scriptId === id)?.message ?? errors[0]?.message ?? 'the sandbox ended before this script ran';
        session.scripts.push({
          ...base,
          startedAt: input.startedAt,
          endedAt: input.startedAt,
          exitCode: null,
          signal: null,
          outcome: 'sandbox-error',
          reason: `did not run: ${why}`,
          stdout: NO_OUTPUT,
          stderr: NO_OUTPUT,
          rootProcess: null,
        });
        continue;
      }
      const end = result.end;
      const parsed = parseScriptTrace({
        scriptId: id,
        cwd: result.start.cwd,
        lines: result.lines,
        ids: input.ids,
        context: { projectDir: plan.projectDir, packageDir, home: plan.home, nodePrefix: input.nodePrefix },
        ...(end ? { scriptEndedAt: end.rootEndedAt, killedPids: end.killedPids } : {}),
        wrapperExecs: 1,
      });
      // The tracer may not live to report a kill it did not cause; the runner knows when it killed.
      // Under a fork bomb it can also lose exits outright (pids reused thousands of times, a
      // backlog cut at the drain limit): when the runner found no process left after its sweep,
      // every one of them had ended by the time it said so. (Whether it outlived its script was
      // judged from the trace, and stays as judged.)
      for (const proc of parsed.processes) {
        if (proc.killedBySandbox && proc.endedAt === null && end) {
          proc.endedAt = end.time;
          proc.signal ??= 'SIGKILL';
        } else if (proc.endedAt === null && end?.survivors === 0) {
          proc.endedAt = end.time;
        }
      }
      session.processes.push(...parsed.processes);
      session.files.push(...parsed.files);
      session.connections.push(...parsed.connections);
      session.suppressed.files += parsed.suppressedFiles;
      const script: ScriptRun = {
        ...base,
        cwd: result.start.cwd,
        startedAt: result.start.time,
        endedAt: end?.time ?? result.start.time,
        exitCode: end?.exitCode ?? parsed.rootExit?.exitCode ?? null,
        signal: end?.signal ?? parsed.rootExit?.signal ?? null,
        outcome: end?.outcome ?? 'sandbox-error',
        stdout: end?.stdout ?? NO_OUTPUT,
        stderr: end?.stderr ?? NO_OUTPUT,
        rootProcess: parsed.rootProcess,
      };
      const reason = end ? end.reason : 'the sandbox stopped while this script was running';
      if (reason) script.reason = reason;
      session.scripts.push(script);
    }
  }
  return {
    id: input.id,
    startedAt: input.startedAt,
    endedAt: Date.now() / 1000,
    // No plan (nothing had install-time code): the folder a sandbox would have used, so the
    // report's sandbox paths stay absolute as its schema requires.
    projectDir: plan?.projectDir ?? SANDBOX_PROJECT_DIR,
    sandbox: input.sandbox,
    packages: input.packages.map((info) => ({ info, session: sessions.get(info.location)! })),
    errors,
    canaries: input.canaries ?? [],
  };
}
