/**
 * The contract between the host and the runner inside the sandbox. The runner is a single
 * self-contained file (node builtins only) so it can be copied into the image as is.
 *
 * Host → runner: a plan file, mounted read-only with the verified tarballs.
 * Runner → host: lines on the container's stdout. `T <scriptId> <strace line>` streams the
 * trace as it happens (so a script cannot erase what it already did), `M <json>` carries a
 * RunnerMessage. The scripts' own output never reaches this stream. When the plan asks for
 * them, `O <packageIndex> <base64>` lines then carry each package's build outputs (a tar of
 * what its scripts created or changed inside its own folder), closed by an `outputs` message.
 * No host folder is ever mounted writable: this stream is the only way out.
 */
import type { LifecycleEvent, CapturedOutput, ScriptOutcome } from '../session/types.js';

export interface PlannedScript {
  id: string;
  event: LifecycleEvent;
  command: string;
  implicit: boolean;
  /** A script of one of the project's workspaces: run in that folder (relative to the project), as that package. */
  workspace?: { dir: string; name: string; version: string };
}

export interface PlannedPackage {
  name: string;
  version: string;
  location: string;
  /**
   * File name of its tarball inside the input dir; absent when the project's tarball (location
   * `''`, extracted first) already holds it.
   */
  tarball?: string;
  scripts: PlannedScript[];
}

export interface RunPlan {
  projectDir: string;
  home: string;
  /** package.json of the project the packages are installed into. */
  projectPackageJson: Record<string, unknown>;
  /** Every package of the tree (laid out as node_modules), deps before dependents. */
  packages: PlannedPackage[];
  /** Script ids in the order npm runs them: every preinstall, then every install, then every postinstall. */
  order: string[];
  /** Environment every script starts from (npm_* variables are added per script). */
  env: Record<string, string>;
  /** Files the runner writes before any script runs: the decoy home and the realistic project. */
  seedFiles: SeedFile[];
  straceArgs: string[];
  /** Programs whose work counts as compiling, for `limits.buildTimeoutMs` (see plan.ts). */
  compilers: string[];
  /**
   * Export build outputs after the last script: per package with scripts, a tar of the files
   * created or changed in its folder (its own node_modules excluded), at most `maxBytes` each.
   */
  exportOutputs?: { maxBytes: number };
  limits: {
    scriptTimeoutMs: number;
    /**
     * A script still compiling when `scriptTimeoutMs` is up goes on, up to this long in all (at
     * least `scriptTimeoutMs`), while a compiler started or used CPU within `buildIdleMs`.
     */
    buildTimeoutMs: number;
    buildIdleMs: number;
    /** How long processes may outlive their script before they are killed. */
    graceMs: number;
    /** Bytes of stdout+stderr a script may print before it is stopped. */
    outputLimitBytes: number;
    /** Bytes of captured output kept per stream. */
    outputKeepBytes: number;
    /** Bytes of trace a script may produce before it is stopped. */
    traceLimitBytes: number;
  };
}

export interface SeedFile {
  /** Absolute path inside the sandbox (under the home or the project). */
  path: string;
  /** UTF-8 text, or base64 when `encoding` says so (binary decoys: wallets, browser stores). */
  content: string;
  encoding?: 'utf8' | 'base64';
  /** Octal file mode, e.g. `0600`; default `0644`. */
  mode?: string;
  /** Modification time (unix seconds), so decoys do not all look created a second ago. */
  mtime?: number;
  /**
   * `dir`: a folder (content ignored), for the ones whose mode must differ from 0755 (`~/.ssh`
   * is 0700) or that are empty (`~/Downloads`). Folders made for files get the newest mtime
   * of what is in them, as on a disk that has been in use.
   */
  type?: 'file' | 'dir';
}

export type RunnerMessage =
  | { type: 'ready'; extractMs: number; time: number }
  | { type: 'script-start'; id: string; cwd: string; time: number }
  | {
      type: 'script-end';
      id: string;
      time: number;
      /** When the script's top process exited (or was killed). */
      rootEndedAt: number;
      rootPid: number | null;
      exitCode: number | null;
      signal: string | null;
      outcome: ScriptOutcome;
      reason?: string;
      killedPids: number[];
      /**
       * Processes (but the runner's own) still in /proc after the final kill sweep: 0 means
       * every process the script started is gone, whatever the trace managed to report.
       */
      survivors?: number;
      stdout: CapturedOutput;
      stderr: CapturedOutput;
      traceBytes: number;
    }
  | {
      type: 'outputs';
      /** Index of the package in the plan; its `O` lines came before this message. */
      index: number;
      /** Bytes of the tar (before base64), and its sha256 in hex. */
      bytes: number;
      sha256: string;
      /** Files of its tarball its scripts deleted (relative to its folder). */
      removed: string[];
      /** Set when no tar could be made (too large, unreadable files): the outputs are unusable. */
      error?: string;
    }
  | { type: 'error'; message: string; scriptId?: string }
  | { type: 'done'; time: number };

export const TRACE_LINE_PREFIX = 'T ';
export const MESSAGE_LINE_PREFIX = 'M ';
export const OUTPUT_LINE_PREFIX = 'O ';
/** Bytes of tar per `O` line (before base64): short lines keep the host's line splitting cheap. */
export const OUTPUT_CHUNK_BYTES = 48 * 1024;
