import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventIds } from '../../src/session/ids.js';
import type { NoiseContext } from '../../src/session/noise.js';
import type { FileEvent, ProcessEvent } from '../../src/session/types.js';
import { parseScriptTrace, type ScriptTraceInput, type ScriptTraceResult } from '../../src/trace/index.js';

/** Where record.sh ran the recorded scenarios. */
export const FIXTURE_DIR = '/tmp/si-trace-fixture';

/** A context under which nothing of the fixtures' own folder is noise-filtered. */
export const SANDBOX_CONTEXT: NoiseContext = {
  projectDir: '/home/alex/code/webapp',
  packageDir: '/home/alex/code/webapp/node_modules/pkg',
  home: '/home/alex',
  nodePrefix: '/usr/local',
};

// Compiled to dist/test/trace/; the fixtures stay in the source tree.
const fixtures = fileURLToPath(new URL('../../../test/fixtures/traces/', import.meta.url));

export function fixtureLines(name: string): string[] {
  return readFileSync(`${fixtures}${name}.strace`, 'utf8').split('\n');
}

/** Parses a recorded fixture the way the sandbox does (one wrapper exec). */
export function parseFixture(name: string, overrides: Partial<ScriptTraceInput> = {}): ScriptTraceResult {
  return parseScriptTrace({
    scriptId: 's1',
    cwd: FIXTURE_DIR,
    lines: fixtureLines(name),
    ids: new EventIds(),
    context: SANDBOX_CONTEXT,
    wrapperExecs: 1,
    ...overrides,
  });
}

/** Parses a hand-written trace (leading indentation removed, blank lines dropped). */
export function parseText(text: string, overrides: Partial<ScriptTraceInput> = {}): ScriptTraceResult {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return parseScriptTrace({
    scriptId: 's2',
    cwd: '/home/alex/code/webapp/node_modules/pkg',
    lines,
    ids: new EventIds(),
    context: SANDBOX_CONTEXT,
    ...overrides,
  });
}

export function processByPid(result: ScriptTraceResult, pid: number): ProcessEvent {
  const found = result.processes.filter((p) => p.pid === pid);
  if (found.length !== 1) throw new Error(`expected one process with pid ${pid}, got ${found.length}`);
  return found[0] as ProcessEvent;
}

/** File events as compact tuples, easy to compare whole. */
export function fileOps(files: FileEvent[]): string[] {
  return files.map((f) => {
    const extra = [f.target ? `-> ${f.target}` : '', f.mode ? `mode ${f.mode}` : ''].filter(Boolean).join(' ');
    return `${f.processId} ${f.op} ${f.path}${extra ? ` ${extra}` : ''} ${f.syscall} ${f.result}`;
  });
}
