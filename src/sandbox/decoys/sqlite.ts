/**
 * A minimal writer of real SQLite 3 database files, for the browser stores stealers open with
 * sqlite (Chrome's `Login Data` and `Cookies`, Firefox's `cookies.sqlite`). No dependency: the
 * format is small when every table and index fits one leaf page, which decoys always do. Files
 * pass `PRAGMA integrity_check`, including indexes (UNIQUE constraints and explicit ones).
 */

export type SqlValue = null | number | bigint | string | Buffer;

export interface IndexSpec {
  /** Explicit indexes give their own name and SQL; UNIQUE/PRIMARY KEY constraints have none (autoindex). */
  name?: string;
  sql?: string;
  /** Positions of the indexed columns in the table's column list. */
  columns: number[];
}

export interface TableSpec {
  name: string;
  sql: string;
  /** Values in declared column order. The INTEGER PRIMARY KEY column, if any, holds the rowid. */
  rows: SqlValue[][];
  /** Position of an `INTEGER PRIMARY KEY` column (a rowid alias: stored as NULL in the record). */
  rowidColumn?: number;
  /** UNIQUE / PRIMARY KEY constraints (in declaration order), then explicit indexes. */
  indexes?: IndexSpec[];
  /** The table uses AUTOINCREMENT: SQLite keeps its counter in sqlite_sequence. */
  autoincrement?: boolean;
}

export interface DatabaseOptions {
  userVersion?: number;
  pageSize?: number;
}

const LEAF_TABLE = 0x0d;
const LEAF_INDEX = 0x0a;
/** The version of the SQLite library that last wrote the file (3.45.1, as in recent browsers). */
const SQLITE_VERSION_NUMBER = 3045001;

function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  if (v > 0x00ffffffffffffffn) {
    const out = Buffer.alloc(9);
    out[8] = Number(v & 0xffn);
    v >>= 8n;
    for (let i = 7; i >= 0; i--) {
      out[i] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    return out;
  }
  const groups: number[] = [];
  do {
    groups.unshift(Number(v & 0x7fn));
    v >>= 7n;
  } while (v > 0n);
  return Buffer.from(groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
}

function intSerial(v: bigint): { type: number; bytes: Buffer } {
  if (v === 0n) return { type: 8, bytes: Buffer.alloc(0) };
  if (v === 1n) return { type: 9, bytes: Buffer.alloc(0) };
  const sizes: [number, number][] = [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 4],
    [5, 6],
    [6, 8],
  ];
  for (const [type, size] of sizes) {
    const limit = 1n << BigInt(size * 8 - 1);
    if (v >= -limit && v < limit) {
      const bytes = Buffer.alloc(size);
      let u = v < 0n ? v + (1n << BigInt(size * 8)) : v;
      for (let i = size - 1; i >= 0; i--) {
        bytes[i] = Number(u & 0xffn);
        u >>= 8n;
      }
      return { type, bytes };
    }
  }
  throw new RangeError(`integer out of range: ${v}`);
}

function serial(value: SqlValue): { type: number; bytes: Buffer } {
  if (value === null) return { type: 0, bytes: Buffer.alloc(0) };
  if (typeof value === 'bigint') return intSerial(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      const bytes = Buffer.alloc(8);
      bytes.writeDoubleBE(value, 0);
      return { type: 7, bytes };
    }
    return intSerial(BigInt(value));
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return { type: bytes.length * 2 + 13, bytes };
  }
  return { type: value.length * 2 + 12, bytes: value };
}

/** A record: header (its own size, then one serial type per column), then the values. */
export function record(values: SqlValue[]): Buffer {
  const parts = values.map(serial);
  const types = Buffer.concat(parts.map((p) => varint(p.type)));
  let headerSize = types.length + 1;
  if (varint(headerSize).length > 1) headerSize = types.length + varint(types.length + 2).length;
  return Buffer.concat([varint(headerSize), types, ...parts.map((p) => p.bytes)]);
}

function typeRank(v: SqlValue): number {
  if (v === null) return 0;
  if (typeof v === 'number' || typeof v === 'bigint') return 1;
  if (typeof v === 'string') return 2;
  return 3;
}

/** SQLite's order for index keys with the BINARY collation. */
function compareValues(a: SqlValue, b: SqlValue): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return 0;
  if (ra === 1) {
    const x = Number(a as number | bigint);
    const y = Number(b as number | bigint);
    if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : (a as Buffer);
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : (b as Buffer);
  return Buffer.compare(x, y);
}

function compareKeys(a: SqlValue[], b: SqlValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** One leaf page: header, cell pointers in key order, cells packed at the end of the page. */
function leafPage(type: number, cells: Buffer[], pageSize: number, offset: number): Buffer {
  const page = Buffer.alloc(pageSize);
  const headerAt = offset;
  let contentStart = pageSize;
  const pointers: number[] = [];
  for (const cell of cells) {
    contentStart -= cell.length;
    pointers.push(contentStart);
    cell.copy(page, contentStart);
  }
  if (headerAt + 8 + cells.length * 2 > contentStart) throw new Error('decoy table does not fit one SQLite page');
  page[headerAt] = type;
  page.writeUInt16BE(0, headerAt + 1);
  page.writeUInt16BE(cells.length, headerAt + 3);
  page.writeUInt16BE(contentStart === 65536 ? 0 : contentStart, headerAt + 5);
  page[headerAt + 7] = 0;
  pointers.forEach((p, i) => page.writeUInt16BE(p, headerAt + 8 + i * 2));
  return page;
}

function tableCell(rowid: number | bigint, payload: Buffer, pageSize: number): Buffer {
  if (payload.length > pageSize - 35) throw new Error('decoy row needs an overflow page');
  return Buffer.concat([varint(payload.length), varint(rowid), payload]);
}

function indexCell(payload: Buffer, pageSize: number): Buffer {
  if (payload.length > Math.floor(((pageSize - 12) * 64) / 255) - 23) throw new Error('decoy index key needs an overflow page');
  return Buffer.concat([varint(payload.length), payload]);
}

interface Tree {
  root: number;
  type: number;
  cells: Buffer[];
}

export function sqliteDatabase(tables: TableSpec[], opts: DatabaseOptions = {}): Buffer {
  const pageSize = opts.pageSize ?? 4096;
  const schema: SqlValue[][] = [];
  const trees: Tree[] = [];
  let nextPage = 2;
  const sequences: [string, number][] = [];
  let sequenceAt: number | null = null;

  for (const table of tables) {
    const root = nextPage++;
    schema.push(['table', table.name, table.name, root, table.sql]);
    const rows = table.rows.map((values, i) => {
      const rowid = table.rowidColumn !== undefined ? (values[table.rowidColumn] as number) : i + 1;
      const stored = values.map((v, col) => (col === table.rowidColumn ? null : v));
      return { rowid, values, stored };
    });
    rows.sort((a, b) => Number(a.rowid) - Number(b.rowid));
    trees.push({ root, type: LEAF_TABLE, cells: rows.map((r) => tableCell(r.rowid, record(r.stored), pageSize)) });
    const addIndex = (index: IndexSpec, name: string): void => {
      const indexRoot = nextPage++;
      schema.push(['index', name, table.name, indexRoot, index.sql ?? null]);
      const keys = rows.map((r) => [...index.columns.map((c) => (c === table.rowidColumn ? r.rowid : r.values[c]!)), r.rowid]);
      keys.sort(compareKeys);
      trees.push({ root: indexRoot, type: LEAF_INDEX, cells: keys.map((k) => indexCell(record(k), pageSize)) });
    };
    // The order CREATE TABLE leaves in sqlite_schema: the table, its constraint indexes, then
    // sqlite_sequence if this is the first AUTOINCREMENT table; explicit indexes come after.
    let auto = 0;
    for (const index of table.indexes ?? []) if (!index.name) addIndex(index, `sqlite_autoindex_${table.name}_${++auto}`);
    if (table.autoincrement) {
      if (sequenceAt === null) {
        sequenceAt = nextPage++;
        schema.push(['table', 'sqlite_sequence', 'sqlite_sequence', sequenceAt, 'CREATE TABLE sqlite_sequence(name,seq)']);
      }
      if (rows.length > 0) sequences.push([table.name, Math.max(...rows.map((r) => Number(r.rowid)))]);
    }
    for (const index of table.indexes ?? []) if (index.name) addIndex(index, index.name);
  }
  if (sequenceAt !== null) {
    trees.push({
      root: sequenceAt,
      type: LEAF_TABLE,
      cells: sequences.map(([name, seq], i) => tableCell(i + 1, record([name, seq]), pageSize)),
    });
  }

  const pageCount = nextPage - 1;
  const pages: Buffer[] = new Array(pageCount);
  const first = leafPage(
    LEAF_TABLE,
    schema.map((row, i) => tableCell(i + 1, record(row), pageSize)),
    pageSize,
    100,
  );
  writeHeader(first, pageSize, pageCount, schema.length, opts.userVersion ?? 0);
  pages[0] = first;
  for (const tree of trees) pages[tree.root - 1] = leafPage(tree.type, tree.cells, pageSize, 0);
  return Buffer.concat(pages);
}

function writeHeader(page: Buffer, pageSize: number, pageCount: number, schemaCookie: number, userVersion: number): void {
  page.write('SQLite format 3\0', 0, 'latin1');
  page.writeUInt16BE(pageSize === 65536 ? 1 : pageSize, 16);
  page[18] = 1; // legacy (rollback journal) write version
  page[19] = 1;
  page[20] = 0;
  page[21] = 64;
  page[22] = 32;
  page[23] = 32;
  const changeCounter = schemaCookie + 3;
  page.writeUInt32BE(changeCounter, 24);
  page.writeUInt32BE(pageCount, 28);
  page.writeUInt32BE(0, 32);
  page.writeUInt32BE(0, 36);
  page.writeUInt32BE(schemaCookie, 40);
  page.writeUInt32BE(4, 44);
  page.writeUInt32BE(0, 48);
  page.writeUInt32BE(0, 52);
  page.writeUInt32BE(1, 56); // UTF-8
  page.writeUInt32BE(userVersion, 60);
  page.writeUInt32BE(0, 64);
  page.writeUInt32BE(0, 68);
  page.writeUInt32BE(changeCounter, 92);
  page.writeUInt32BE(SQLITE_VERSION_NUMBER, 96);
}
