/** The session record: append-only, hash-chained, optionally signed; and its OTLP export. */
export { appendRecord, appendBypassRecord, findRecord, readRecordLines, readHead, type AppendSessionArgs } from './store.js';
export { verifyRecords, type VerifyResult, type VerifyProblem } from './verify.js';
export { stateDir, storePaths } from './paths.js';
export { canonicalJson } from './canonical.js';
export type { SessionRecord, SessionRecordBody, RecordKind } from './types.js';
