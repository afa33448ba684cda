/**
 * A session record: one line of the append-only store. `hash` is sha256 over the canonical
 * JSON of every other field (so it covers `prev`, chaining each record to the one before);
 * `hmac`, when a key is set, is HMAC-SHA256 over the same bytes.
 */
import type { Provenance } from '../provenance/index.js';
import type { Assessment, Verdict } from '../rules/types.js';
import type { SessionChain } from '../session/types.js';

export const RECORD_FORMAT = 1;

export type RecordKind = 'scan' | 'install' | 'bypass';

export interface SessionRecordBody {
  /** What ran: `scan`, `install`, or a shim's `npm install x` under SAFE_INSTALL_BYPASS. */
  command: string[];
  verdict: Verdict | null;
  tool: { name: string; version: string };
  /** The sandbox image the scripts ran in (Docker image id, `sha256:...`). */
  imageDigest: string | null;
  provenance: Provenance | Record<string, unknown>;
  findings: { package: string; location: string; verdict: Verdict; findings: Assessment['packages'][number]['findings'] }[];
  /** The whole session chain; null for a bypass (nothing ran in a sandbox). */
  chain: SessionChain | null;
}

export interface SessionRecord {
  format: typeof RECORD_FORMAT;
  /** 1, 2, 3... in append order. */
  seq: number;
  /** The session id (the chain's), or a generated one for records without a session. */
  id: string;
  kind: RecordKind;
  /** Unix seconds when it was appended. */
  time: number;
  /** The previous record's hash; null for the first. */
  prev: string | null;
  body: SessionRecordBody;
  hash: string;
  hmac?: string;
}

export interface RecordHead {
  seq: number;
  hash: string;
  hmac?: string;
}
