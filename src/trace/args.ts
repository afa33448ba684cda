/**
 * Tokenises the argument list and return value of one strace syscall line.
 *
 * The grammar is strace's output: quoted strings with C escapes (possibly cut short: `"abc"...`),
 * arrays `[...]`, structs `{name=value, ...}`, calls such as `htons(80)` or
 * `inet_pton(AF_INET6, "::1", &sin6_addr)`, `before => after` pairs, `/* 35 vars *\/` comments,
 * `...` elisions, and `-yy` fd decorations such as `3</etc/passwd>` or
 * `5<TCP:[10.0.0.2:4444->192.0.2.7:4444]>`.
 *
 * Everything is a single forward scan: no regular expressions over the line, so a 4 KB argument
 * costs 4 KB of work, and a hostile file name cannot make the parser backtrack. Unexpected
 * characters are skipped, never thrown on.
 */
import { unescapeC } from './escapes.js';

export type Value = StrValue | ArrayValue | StructValue | AtomValue | CallValue | ChangedValue;

export interface StrValue {
  kind: 'str';
  /** Decoded bytes, one per char. */
  bytes: string;
  /** strace cut the string at its `-s` limit. */
  truncated: boolean;
  /** Printed as `@"name"`: an abstract unix socket name. */
  abstract: boolean;
}
export interface ArrayValue {
  kind: 'array';
  items: Value[];
  truncated: boolean;
}
export interface StructValue {
  kind: 'struct';
  fields: Field[];
  truncated: boolean;
}
export interface Field {
  name: string | null;
  value: Value;
}
export interface AtomValue {
  kind: 'atom';
  /** Numbers, flag sets (`O_RDONLY|O_CLOEXEC`), `NULL`, `AT_FDCWD`, `&sin6_addr`... */
  text: string;
  /** The raw (still escaped) `-yy` decoration that followed it, e.g. `/etc/passwd`. */
  decoration: string | null;
}
export interface CallValue {
  kind: 'call';
  name: string;
  args: Value[];
}
/** `in => out` values, where strace shows what the kernel wrote back. */
export interface ChangedValue {
  kind: 'changed';
  before: Value;
  after: Value;
}

export interface Ret {
  /** null when strace printed `?` (no value: exit, interrupted, still running). */
  value: number | null;
  errno: string | null;
  /** `-yy` decoration of a returned fd, e.g. `/usr/lib/x86_64-linux-gnu/libc.so.6`. */
  decoration: string | null;
  /** The call never completed as far as the trace shows. */
  unfinished: boolean;
}

export interface ParsedCall {
  args: Value[];
  /** Names of the arguments strace prints as `name=value` (clone), null for the others. */
  names: (string | null)[];
  ret: Ret;
  /** Index in the call text just after the argument list's closing `)`. */
  argsEnd: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const LPAREN = 40;
const RPAREN = 41;
const LBRACK = 91;
const RBRACK = 93;
const LBRACE = 123;
const RBRACE = 125;
const LT = 60;
const GT = 62;
const SLASH = 47;
const STAR = 42;
const AT = 64;
const EQ = 61;
const SPACE = 32;
const TAB = 9;

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 46;
}
function endsAtom(c: number): boolean {
  return (
    c === COMMA ||
    c === RPAREN ||
    c === RBRACK ||
    c === RBRACE ||
    c === SPACE ||
    c === TAB ||
    c === LT ||
    c === LPAREN ||
    c === QUOTE
  );
}

/** `<<` never opens a decoration (those start `</`, `<TCP:`, `<pipe:`...): it is strace's shift in masks. */
function isShift(s: string, i: number): boolean {
  return s.charCodeAt(i) === LT && s.charCodeAt(i + 1) === LT;
}

/**
 * Finds the end of an fd decoration that starts at `s[start] === '<'`.
 * Returns the raw text inside and the index after the closing `>`.
 *
 * strace escapes `<` and `>` inside paths, so a path decoration ends at the first `>` that is
 * not closing a nested `<char 1:3>`. Socket decorations contain `->` inside their `[...]`, so
 * there brackets are tracked; they are not tracked in paths, where `[` is an ordinary character
 * that a hostile file name could use to swallow the rest of the line.
 */
export function scanDecoration(s: string, start: number): { text: string; end: number } {
  const isPath = s.charCodeAt(start + 1) === SLASH;
  let depth = 0;
  let brackets = 0;
  let i = start;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      i += 2;
      continue;
    }
    if (!isPath && c === QUOTE) {
      i = skipString(s, i);
      continue;
    }
    if (!isPath && c === LBRACK) brackets++;
    else if (!isPath && c === RBRACK && brackets > 0) brackets--;
    else if (c === LT) depth++;
    else if (c === GT && brackets === 0) {
      depth--;
      if (depth === 0) return { text: s.slice(start + 1, i), end: i + 1 };
    }
    i++;
  }
  return { text: s.slice(start + 1), end: s.length };
}

/**
 * Index after the closing quote of the string opening at `s[start]`. Jumps between quotes and
 * backslashes with indexOf (each position is looked at once), since 4 KB strings are common.
 */
function skipString(s: string, start: number): number {
  let i = start + 1;
  let quote = s.indexOf('"', i);
  let slash = s.indexOf('\\', i);
  for (;;) {
    if (quote === -1) return s.length;
    if (slash === -1 || quote < slash) return quote + 1;
    // An escape comes first: skip the escaped character and look again past it.
    i = slash + 2;
    if (quote < i) quote = s.indexOf('"', i);
    slash = s.indexOf('\\', i);
  }
}

class ArgParser {
  i: number;

  constructor(
    readonly s: string,
    start: number,
  ) {
    this.i = start;
  }

  /**
   * Parses items up to (and including) `close`; `closed` is false if the text ran out first.
   * After `limit` items the rest is skipped unparsed.
   */
  list(close: number, limit = Number.POSITIVE_INFINITY): { fields: Field[]; truncated: boolean; closed: boolean } {
    const fields: Field[] = [];
    let truncated = false;
    const s = this.s;
    for (;;) {
      if (fields.length >= limit) return { fields, truncated, closed: this.skipRest(close) };
      this.skipSpace();
      if (this.i >= s.length) return { fields, truncated, closed: false };
      const c = s.charCodeAt(this.i);
      if (c === close) {
        this.i++;
        return { fields, truncated, closed: true };
      }
      if (c === COMMA) {
        this.i++;
        continue;
      }
      if (s.startsWith('...', this.i)) {
        truncated = true;
        this.i += 3;
        continue;
      }
      const before = this.i;
      const field = this.field();
      if (this.i === before) {
        // A character that starts nothing (a stray closer): skip it so the scan always advances.
        this.i++;
        continue;
      }
      fields.push(field);
    }
  }

  private field(): Field {
    const name = this.fieldName();
    return { name, value: this.expr() };
  }

  /** `name=` prefix of a struct field (but not the `=>` of a changed value). */
  private fieldName(): string | null {
    const s = this.s;
    const start = this.i;
    if (!isIdentStart(s.charCodeAt(start))) return null;
    let j = start + 1;
    while (j < s.length && isIdentChar(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) === EQ && s.charCodeAt(j + 1) !== GT) {
      this.i = j + 1;
      return s.slice(start, j);
    }
    return null;
  }

  private expr(): Value {
    const value = this.term();
    const save = this.i;
    this.skipSpace();
    if (this.s.startsWith('=>', this.i)) {
      this.i += 2;
      this.skipSpace();
      return { kind: 'changed', before: value, after: this.term() };
    }
    this.i = save;
    return value;
  }

  private term(): Value {
    this.skipSpace();
    const s = this.s;
    const c = s.charCodeAt(this.i);
    if (c === QUOTE) return this.string(false);
    if (c === AT && s.charCodeAt(this.i + 1) === QUOTE) {
      this.i++;
      return this.string(true);
    }
    if (c === LBRACK) {
      this.i++;
      const { fields, truncated } = this.list(RBRACK);
      return { kind: 'array', items: fields.map((f) => f.value), truncated };
    }
    if (c === LBRACE) {
      this.i++;
      const { fields, truncated } = this.list(RBRACE);
      return { kind: 'struct', fields, truncated };
    }
    return this.atom();
  }

  private string(abstract: boolean): StrValue {
    const s = this.s;
    const start = this.i + 1;
    const end = skipString(s, this.i);
    // end is after the closing quote unless the text ran out.
    const closed = end <= s.length && s.charCodeAt(end - 1) === QUOTE && end - 1 >= start;
    const raw = s.slice(start, closed ? end - 1 : end);
    this.i = end;
    let truncated = false;
    if (s.startsWith('...', this.i)) {
      truncated = true;
      this.i += 3;
    }
    return { kind: 'str', bytes: unescapeC(raw), truncated: truncated || !closed, abstract };
  }

  private atom(): Value {
    const s = this.s;
    const start = this.i;
    for (;;) {
      while (this.i < s.length && !endsAtom(s.charCodeAt(this.i))) this.i++;
      // `1<<CAP_NET_RAW` (capability masks): a shift, not the start of a decoration.
      if (!isShift(s, this.i)) break;
      this.i += 2;
    }
    const text = s.slice(start, this.i);
    const next = s.charCodeAt(this.i);
    if (text.length > 0 && next === LPAREN) {
      this.i++;
      const { fields } = this.list(RPAREN);
      return { kind: 'call', name: text, args: fields.map((f) => f.value) };
    }
    if (text.length > 0 && next === LT) {
      const { text: decoration, end } = scanDecoration(s, this.i);
      this.i = end;
      return { kind: 'atom', text, decoration };
    }
    return { kind: 'atom', text, decoration: null };
  }

  /**
   * Moves past the `close` that ends the current list, stepping over nested lists, strings,
   * decorations and comments exactly as the full parse would.
   */
  private skipRest(close: number): boolean {
    const s = this.s;
    let depth = 0;
    let i = this.i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        i = skipString(s, i);
      } else if (isShift(s, i)) {
        i += 2;
      } else if (c === LT && i > 0 && !endsAtom(s.charCodeAt(i - 1))) {
        i = scanDecoration(s, i).end;
      } else if (c === SLASH && s.charCodeAt(i + 1) === STAR) {
        const end = s.indexOf('*/', i + 2);
        i = end === -1 ? s.length : end + 2;
      } else if (c === LPAREN || c === LBRACK || c === LBRACE) {
        depth++;
        i++;
      } else if (c === RPAREN || c === RBRACK || c === RBRACE) {
        i++;
        if (depth === 0 && c === close) {
          this.i = i;
          return true;
        }
        if (depth > 0) depth--;
      } else {
        i++;
      }
    }
    this.i = i;
    return false;
  }

  /** Skips blanks and `/* ... *\/` comments (strace's `/* 35 vars *\/`). */
  skipSpace(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === SPACE || c === TAB) {
        this.i++;
      } else if (c === SLASH && s.charCodeAt(this.i + 1) === STAR) {
        const end = s.indexOf('*/', this.i + 2);
        this.i = end === -1 ? s.length : end + 2;
      } else {
        return;
      }
    }
  }
}

const ERRNO_START = /^[A-Z][A-Z0-9_]+/;

/** Parses the `= value<decoration> ERRNO (text)` tail that starts at `s[start]`. */
export function parseRet(s: string, start: number): Ret | null {
  let i = start;
  while (s.charCodeAt(i) === SPACE || s.charCodeAt(i) === TAB) i++;
  if (s.charCodeAt(i) !== EQ) return null;
  i++;
  while (s.charCodeAt(i) === SPACE) i++;
  const tokenStart = i;
  while (i < s.length && s.charCodeAt(i) !== SPACE && s.charCodeAt(i) !== LT) i++;
  const token = s.slice(tokenStart, i);
  if (token.length === 0) return null;
  let value: number | null = null;
  if (token !== '?') {
    const n = Number(token);
    if (Number.isNaN(n)) return null;
    value = n;
  }
  let decoration: string | null = null;
  if (s.charCodeAt(i) === LT) {
    const scanned = scanDecoration(s, i);
    decoration = scanned.text;
    i = scanned.end;
  }
  while (s.charCodeAt(i) === SPACE) i++;
  let errno: string | null = null;
  if (value === null || value < 0) {
    const m = ERRNO_START.exec(s.slice(i, i + 32));
    if (m) errno = m[0];
  }
  return { value, errno, decoration, unfinished: value === null && errno === null };
}

/**
 * Parses `args) = ret`, the text after `name(` of a complete (or merged resumed) syscall line.
 * Only the first `wanted` arguments are built into values; the rest are skipped without
 * allocating (a stat buffer, an environment pointer). Returns null when the shape is not that of
 * a syscall line.
 */
export function parseCallText(text: string, wanted = Number.POSITIVE_INFINITY): ParsedCall | null {
  const parser = new ArgParser(text, 0);
  const { fields, closed } = parser.list(RPAREN, wanted);
  if (!closed) return null;
  const argsEnd = parser.i;
  const ret = parseRet(text, argsEnd);
  if (!ret) return null;
  const args: Value[] = new Array<Value>(fields.length);
  const names: (string | null)[] = new Array<string | null>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as Field;
    args[i] = field.value;
    names[i] = field.name;
  }
  return { args, names, ret, argsEnd };
}

/** A top-level argument printed as `name=value`. */
export function namedArg(call: ParsedCall, name: string): Value | undefined {
  const index = call.names.indexOf(name);
  return index === -1 ? undefined : call.args[index];
}

/** `ok`, the errno name, or `unfinished` when the trace never showed the call return. */
export function resultOf(call: ParsedCall): string {
  const { ret } = call;
  if (ret.errno) return ret.errno;
  if (ret.unfinished) return 'unfinished';
  return 'ok';
}

export function succeeded(call: ParsedCall): boolean {
  return call.ret.errno === null && call.ret.value !== null && call.ret.value >= 0;
}

// Small accessors, so handlers read like the syscall's signature.

export function strArg(v: Value | undefined): StrValue | null {
  return v?.kind === 'str' ? v : null;
}

export function atomArg(v: Value | undefined): AtomValue | null {
  return v?.kind === 'atom' ? v : null;
}

/** A struct field by name; for `a => b` values, the `before` side unless `after` is asked. */
export function fieldOf(v: Value | undefined, name: string, side: 'before' | 'after' = 'before'): Value | undefined {
  const s = unchanged(v, side);
  if (s?.kind !== 'struct') return undefined;
  for (const f of s.fields) if (f.name === name) return unchanged(f.value, side);
  return undefined;
}

export function unchanged(v: Value | undefined, side: 'before' | 'after' = 'before'): Value | undefined {
  if (v?.kind === 'changed') return side === 'before' ? v.before : v.after;
  return v;
}

/** Whether a `|`-joined flag atom such as `O_WRONLY|O_CREAT|O_TRUNC` contains `flag`. */
export function hasFlag(v: Value | undefined, flag: string): boolean {
  const a = atomArg(unchanged(v));
  if (!a) return false;
  const text = a.text;
  // Whole names only: O_RDWR must not match inside some O_RDWR_X.
  for (let at = text.indexOf(flag); at !== -1; at = text.indexOf(flag, at + 1)) {
    const before = at === 0 || text.charCodeAt(at - 1) === 124;
    const end = at + flag.length;
    const after = end === text.length || text.charCodeAt(end) === 124;
    if (before && after) return true;
  }
  return false;
}

/** An integer atom (decimal, hex or octal as strace prints it), or null. */
export function intArg(v: Value | undefined): number | null {
  const a = atomArg(unchanged(v));
  if (!a || a.text.length === 0) return null;
  const n = Number(a.text);
  return Number.isInteger(n) ? n : null;
}
