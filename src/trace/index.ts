/**
 * strace output of one lifecycle script → session-chain events (processes, file events,
 * connections). See parse.ts for the entry point and the modules next to it for each concern.
 */
export { parseScriptTrace, type ScriptTraceInput, type ScriptTraceResult } from './parse.js';
export type { NoiseContext } from '../session/noise.js';
