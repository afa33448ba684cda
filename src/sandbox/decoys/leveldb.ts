/**
 * The files of a small LevelDB database as Chrome leaves them for an extension's storage
 * (`Local Extension Settings/<id>/`): a write-ahead log holding one write batch, a manifest,
 * CURRENT, LOCK and LOG. Wallet stealers grep the log for the vault; a log with valid record
 * checksums is also what a LevelDB reader would accept.
 */

const BLOCK_SIZE = 32768;
const HEADER_SIZE = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

let table: Uint32Array | undefined;

/** CRC-32C (Castagnoli), the checksum LevelDB uses. */
export function crc32c(data: Buffer): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** LevelDB stores checksums masked, so a CRC of data that embeds CRCs stays well distributed. */
function mask(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function varint32(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function lengthPrefixed(data: Buffer): Buffer {
  return Buffer.concat([varint32(data.length), data]);
}

/** A log file: each payload becomes one logical record, split across 32 KiB blocks as LevelDB does. */
export function logFile(payloads: Buffer[]): Buffer {
  const out: Buffer[] = [];
  let offset = 0;
  for (const payload of payloads) {
    let rest = payload;
    let first = true;
    do {
      const left = BLOCK_SIZE - (offset % BLOCK_SIZE);
      if (left < HEADER_SIZE) {
        out.push(Buffer.alloc(left));
        offset += left;
        continue;
      }
      const room = left - HEADER_SIZE;
      const chunk = rest.subarray(0, room);
      const end = chunk.length === rest.length;
      const type = first && end ? FULL : first ? FIRST : end ? LAST : MIDDLE;
      const header = Buffer.alloc(HEADER_SIZE);
      header.writeUInt32LE(mask(crc32c(Buffer.concat([Buffer.from([type]), chunk]))), 0);
      header.writeUInt16LE(chunk.length, 4);
      header[6] = type;
      out.push(header, chunk);
      offset += HEADER_SIZE + chunk.length;
      rest = rest.subarray(chunk.length);
      first = false;
    } while (rest.length > 0);
  }
  return Buffer.concat(out);
}

/** A WriteBatch of puts, as the log stores it: sequence, count, then (type, key, value) entries. */
export function writeBatch(sequence: number, entries: [string, string][]): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(sequence), 0);
  head.writeUInt32LE(entries.length, 8);
  return Buffer.concat([
    head,
    ...entries.map(([key, value]) => Buffer.concat([Buffer.from([1]), lengthPrefixed(Buffer.from(key)), lengthPrefixed(Buffer.from(value))])),
  ]);
}

/** The VersionEdit a fresh database writes to MANIFEST-000001. */
function versionEdit(logNumber: number, nextFile: number, lastSequence: number): Buffer {
  return Buffer.concat([
    Buffer.from([1]),
    lengthPrefixed(Buffer.from('leveldb.BytewiseComparator')),
    Buffer.from([2]),
    varint32(logNumber),
    Buffer.from([3]),
    varint32(nextFile),
    Buffer.from([4]),
    varint32(lastSequence),
  ]);
}

export interface LevelDbFiles {
  /** File name → content. */
  files: Record<string, Buffer>;
  /** The name of the log that holds the entries. */
  log: string;
}

/** `dir` is the database folder as Chrome names it in its LOG; `when` the time the database was created. */
export function levelDb(entries: [string, string][], dir: string, when: Date): LevelDbFiles {
  const log = '000003.log';
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const stamp = `${when.getUTCFullYear()}/${pad(when.getUTCMonth() + 1)}/${pad(when.getUTCDate())}-${pad(when.getUTCHours())}:${pad(when.getUTCMinutes())}:${pad(when.getUTCSeconds())}.${pad(when.getUTCMilliseconds() * 1000, 6)}`;
  const thread = (0x7f00 + (when.getTime() % 0xff)).toString(16);
  return {
    log,
    files: {
      CURRENT: Buffer.from('MANIFEST-000001\n'),
      LOCK: Buffer.alloc(0),
      LOG: Buffer.from(`${stamp} ${thread} Creating DB ${dir} since it was missing.\n${stamp} ${thread} Reusing MANIFEST ${dir}/MANIFEST-000001\n`),
      'MANIFEST-000001': logFile([versionEdit(3, 4, 0)]),
      [log]: logFile([writeBatch(1, entries)]),
    },
  };
}
