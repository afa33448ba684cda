/**
 * strace prints strings (and -yy paths) with C escapes: `\n`, `\"`, `\\`, `\x41`, octal `\303`.
 * Decoding yields the original bytes, held one byte per char (a latin1 string), because payloads
 * need not be text; paths and argv are then read as UTF-8.
 */

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  v: '\v',
  f: '\f',
  a: '\x07',
  b: '\b',
  e: '\x1b',
};

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Decodes C escapes into a byte string (each char code is one byte, 0-255). */
export function unescapeC(raw: string): string {
  let slash = raw.indexOf('\\');
  if (slash === -1) return raw;
  let out = '';
  let segmentStart = 0;
  while (slash !== -1) {
    out += raw.slice(segmentStart, slash);
    let i = slash;
    const next = raw[i + 1];
    if (next === undefined) {
      // A lone trailing backslash (cut line): keep it rather than lose a byte.
      out += '\\';
      i += 1;
    } else if (isOctal(next.charCodeAt(0))) {
      let value = 0;
      let j = i + 1;
      while (j < raw.length && j < i + 4 && isOctal(raw.charCodeAt(j))) {
        value = value * 8 + (raw.charCodeAt(j) - 48);
        j++;
      }
      out += String.fromCharCode(value & 0xff);
      i = j;
    } else if (next === 'x' && hexValue(raw.charCodeAt(i + 2)) >= 0) {
      let value = hexValue(raw.charCodeAt(i + 2));
      let j = i + 3;
      const second = hexValue(raw.charCodeAt(j));
      if (second >= 0) {
        value = value * 16 + second;
        j++;
      }
      out += String.fromCharCode(value);
      i = j;
    } else {
      out += SIMPLE_ESCAPES[next] ?? next;
      i += 2;
    }
    segmentStart = i;
    slash = raw.indexOf('\\', i);
  }
  return out + raw.slice(segmentStart);
}

const NON_ASCII = /[^\x00-\x7f]/;

const BEYOND_BYTES = /[^\x00-\xff]/;

/**
 * Reads a byte string as UTF-8 (paths, argv); pure ASCII is returned as is. strace escapes every
 * non-ASCII byte, so anything beyond a byte means the input was already text: kept unchanged.
 */
export function bytesToText(bytes: string): string {
  if (!NON_ASCII.test(bytes) || BEYOND_BYTES.test(bytes)) return bytes;
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
