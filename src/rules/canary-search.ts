/**
 * Finds decoy values (canaries) in egress text, however the sender encoded them.
 *
 * Canaries are long random tokens, so a substring hit is proof, never coincidence: the search
 * can afford to be generous. Two complementary strategies:
 * - Look for the canary in several spellings directly: raw (case-insensitive: DNS may fold
 *   case), hex, reversed, and base64 in all three byte alignments (std and url-safe alphabets),
 *   which finds it inside a longer base64 text without decoding that text.
 * - Decode what looks encoded and search the result again, recursively (depth-limited): every
 *   base64 run (at each of the 4 possible starting offsets, so a run glued to other text still
 *   decodes), hex runs, base32 runs, %-escapes, JSON string escapes, gzip. That finds nesting:
 *   base64 of base64, base64 of a JSON that holds the canary, hex of a url-encoded value.
 *
 * Work is bounded: a depth limit, a budget of decoded bytes per haystack (a hostile 64 KiB body
 * costs ~100 ms at worst), and a budget shared by all the haystacks of one package. Once the
 * shared budget is spent, only the direct spellings are searched: a package flooding the
 * network to exhaust it is blocked by network-egress anyway.
 */
import { gunzipSync } from 'node:zlib';
import type { Canary } from '../session/types.js';

export interface Needle {
  canary: Canary;
  /** The text searched for (the value, or a window of a long value), as latin1 bytes. */
  text: string;
  lower: string;
  hex: string;
  reversedLower: string;
  /** Base64 of the needle in each alignment, std and url-safe, without the partial edge chars. */
  base64: string[];
}

export interface CanaryHit {
  canary: Canary;
  /** Decodings applied before the match, outermost first, then how it was spelled: e.g. `['base64', 'base64']`, `['url-encoded', 'hex']`. */
  encodings: string[];
}

/** Shorter values could occur by chance; decoys are far longer. */
export const MIN_NEEDLE = 12;
const WINDOW = 32;
const MAX_DEPTH = 4;
const BUDGET = 4 << 20;
/** Decoded bytes for all the haystacks of one package. */
export const SHARED_BUDGET = 64 << 20;

export interface Budget {
  left: number;
}
const MIN_RUN = 16;

export function needlesFor(canaries: readonly Canary[]): Needle[] {
  const needles: Needle[] = [];
  for (const canary of canaries) {
    const value = Buffer.from(canary.value.trim(), 'utf8').toString('latin1');
    if (value.length < MIN_NEEDLE) continue;
    for (const text of new Set([value, ...windowsOf(value)])) needles.push(needle(canary, text));
  }
  return needles;
}

/**
 * A long value (a PEM key, a JSON credentials file) may leave in part: windows from the start,
 * middle and end of its longest line stand for it, each still long enough to be proof.
 */
function windowsOf(value: string): string[] {
  if (value.length <= 2 * WINDOW) return [];
  const line = value.split(/\r?\n/).filter((l) => !l.startsWith('-----')).sort((a, b) => b.length - a.length)[0] ?? '';
  if (line.length < WINDOW) return [];
  const middle = Math.floor((line.length - WINDOW) / 2);
  return [line.slice(0, WINDOW), line.slice(middle, middle + WINDOW), line.slice(-WINDOW)];
}

function needle(canary: Canary, text: string): Needle {
  const bytes = Buffer.from(text, 'latin1');
  return {
    canary,
    text,
    lower: text.toLowerCase(),
    hex: bytes.toString('hex'),
    reversedLower: [...text].reverse().join('').toLowerCase(),
    base64: base64Forms(bytes),
  };
}

function base64Forms(bytes: Buffer): string[] {
  const forms = new Set<string>();
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
    // Only characters made entirely of the needle's bits are the same whatever surrounds it.
    const core = encoded.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + bytes.length)) / 6));
    if (core.length < MIN_NEEDLE) continue;
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms];
}

/** Every canary found in `haystack`, each once, with the first way it was found. */
export function findCanaries(haystack: string, needles: readonly Needle[], shared: Budget = { left: SHARED_BUDGET }): CanaryHit[] {
  const found = new Map<Canary, CanaryHit>();
  const wanted = new Set(needles.map((n) => n.canary)).size;
  const seen = new Set<string>();
  let budget = BUDGET;

  const visit = (text: string, encodings: string[], depth: number): void => {
    if (found.size === wanted) return;
    const lower = text.toLowerCase();
    for (const n of needles) {
      if (found.has(n.canary)) continue;
      const spelled = spelling(text, lower, n);
      if (spelled) found.set(n.canary, { canary: n.canary, encodings: [...encodings, ...spelled] });
    }
    if (depth >= MAX_DEPTH) return;
    for (const [encoding, decoded] of decodings(text)) {
      if (decoded.length < MIN_NEEDLE / 2 || seen.has(decoded) || budget <= 0 || shared.left <= 0) continue;
      seen.add(decoded);
      budget -= decoded.length;
      shared.left -= decoded.length;
      visit(decoded, [...encodings, encoding], depth + 1);
    }
  };
  visit(haystack, [], 0);
  return [...found.values()];
}

function spelling(text: string, lower: string, n: Needle): string[] | null {
  if (lower.includes(n.lower)) return [];
  if (lower.includes(n.hex)) return ['hex'];
  if (lower.includes(n.reversedLower)) return ['reversed'];
  if (n.base64.some((form) => text.includes(form))) return ['base64'];
  return null;
}

const BASE64_RUN = new RegExp(`[A-Za-z0-9+/_-]{${MIN_RUN},}`, 'g');
const HEX_RUN = new RegExp(`[0-9a-fA-F]{${MIN_RUN},}`, 'g');
const BASE32_RUN = new RegExp(`[A-Za-z2-7]{${MIN_RUN},}`, 'g');
const PERCENT = /%[0-9a-fA-F]{2}/;
const JSON_ESCAPE = /\\(u[0-9a-fA-F]{4}|[/"\\bfnrt])/;

function* decodings(text: string): Generator<[string, string]> {
  if (PERCENT.test(text)) yield ['url-encoded', percentDecode(text)];
  if (JSON_ESCAPE.test(text)) yield ['JSON-escaped', jsonUnescape(text)];
  if (text.charCodeAt(0) === 0x1f && text.charCodeAt(1) === 0x8b) {
    const inflated = gunzip(text);
    if (inflated !== null) yield ['gzip', inflated];
  }
  for (const [run] of text.matchAll(BASE64_RUN)) {
    for (let offset = 0; offset < 4 && run.length - offset >= MIN_RUN; offset++) {
      yield ['base64', Buffer.from(run.slice(offset), 'base64').toString('latin1')];
    }
  }
  for (const [run] of text.matchAll(HEX_RUN)) {
    for (let offset = 0; offset < 2; offset++) yield ['hex', hexDecode(run.slice(offset))];
  }
  for (const [run] of text.matchAll(BASE32_RUN)) yield ['base32', base32Decode(run)];
}

function percentDecode(text: string): string {
  return text.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const JSON_SIMPLE: Record<string, string> = { '/': '/', '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function jsonUnescape(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|[/"\\bfnrt])/g, (_, esc: string) =>
    esc.length === 5 ? String.fromCharCode(parseInt(esc.slice(1), 16)) : (JSON_SIMPLE[esc] ?? esc),
  );
}

function hexDecode(run: string): string {
  return Buffer.from(run.slice(0, run.length - (run.length % 2)), 'hex').toString('latin1');
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(run: string): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const char of run.toUpperCase()) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return out;
}

function gunzip(text: string): string | null {
  try {
    return gunzipSync(Buffer.from(text, 'latin1'), { maxOutputLength: 1 << 20 }).toString('latin1');
  } catch {
    return null;
  }
}
