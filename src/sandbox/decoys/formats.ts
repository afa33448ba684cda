/**
 * Secret formats exactly as the real services issue them: prefix, length, alphabet, and the
 * checksum where the format has one. Stealers and secret scanners validate shapes (GitHub's
 * and npm's CRC32, AWS's account-id encoding); a value that fails such a check would tell the
 * script it is being watched.
 */
import crypto from 'node:crypto';
import type { Rand } from './random.js';

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, the one zlib and GitHub use). */
export function crc32(data: Buffer | string): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0xffffffff;
  for (const byte of buf) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** `value` in base62 (0-9A-Za-z), left-padded with `0` to `width`. */
export function base62(value: number, width: number): string {
  let out = '';
  let v = value;
  do {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  } while (v > 0);
  return out.padStart(width, '0');
}

/**
 * GitHub's token format (2021), which npm adopted for its tokens: prefix, 30 random base62
 * characters, then the CRC32 of those 30 characters in base62, 6 characters.
 */
export function checksummedToken(prefix: string, rand: Rand): string {
  const body = rand.chars(BASE62, 30);
  return `${prefix}${body}${base62(crc32(body), 6)}`;
}

export function hasValidTokenChecksum(token: string): boolean {
  const m = /^[a-z]{3}_([0-9A-Za-z]{30})([0-9A-Za-z]{6})$/.exec(token);
  return m !== null && base62(crc32(m[1]!), 6) === m[2];
}

export type GitHubTokenKind = 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr';

export function githubToken(rand: Rand, kind: GitHubTokenKind = 'ghp'): string {
  return checksummedToken(`${kind}_`, rand);
}

export function npmToken(rand: Rand): string {
  return checksummedToken('npm_', rand);
}

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * An IAM access key id. Keys issued since 2019 carry the account id: the 16 characters after
 * `AKIA` are base32 of 80 bits whose bits 78..39 are the account number, which tools decode
 * (`aws sts get-access-key-info` does it offline). So the id encodes `accountId`.
 */
export function awsAccessKeyId(rand: Rand, accountId: string): string {
  const account = BigInt(accountId);
  if (account >= 1n << 40n) throw new RangeError('account id does not fit in 40 bits');
  const low = BigInt(`0x${rand.hex(5)}`) & ((1n << 39n) - 1n);
  const value = (1n << 79n) | (account << 39n) | low;
  const bytes = Buffer.from(value.toString(16).padStart(20, '0'), 'hex');
  return `AKIA${base32(bytes)}`;
}

export function awsAccountFromKeyId(keyId: string): string {
  const chars = keyId.slice(4);
  let value = 0n;
  for (const c of chars) value = (value << 5n) | BigInt(BASE32.indexOf(c));
  return ((value >> 39n) & ((1n << 40n) - 1n)).toString().padStart(12, '0');
}

/** A 12-digit AWS account number. */
export function awsAccountId(rand: Rand): string {
  return String(rand.between(1, 9)) + rand.chars('0123456789', 11);
}

export function awsSecretAccessKey(rand: Rand): string {
  return rand.chars(BASE64, 40);
}

/** Stripe live secret key: `sk_live_51` + account/key material, 107 characters in all. */
export function stripeSecretKey(rand: Rand): string {
  return `sk_live_51${rand.chars(BASE62, 97)}`;
}

/** OpenAI project key: 74 + `T3BlbkFJ` (base64 of "OpenAI") + 74 characters of base64url. */
export function openaiProjectKey(rand: Rand): string {
  return `sk-proj-${rand.chars(BASE64URL, 74)}T3BlbkFJ${rand.chars(BASE64URL, 73)}A`;
}

/** Anthropic API key: `sk-ant-api03-` + 93 base64url characters + `AA`, 108 in all. */
export function anthropicApiKey(rand: Rand): string {
  return `sk-ant-api03-${rand.chars(BASE64URL, 93)}AA`;
}

export function dockerHubToken(rand: Rand): string {
  return `dckr_pat_${rand.chars(BASE64URL, 27)}`;
}

function macaroonField(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), varint(data.length), data]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

/** A PyPI API token: `pypi-` + base64url of a v2 macaroon for pypi.org, as warehouse mints it. */
export function pypiToken(rand: Rand): string {
  const caveat = JSON.stringify([0, rand.uuid()]);
  const macaroon = Buffer.concat([
    Buffer.from([2]),
    macaroonField(1, Buffer.from('pypi.org')),
    macaroonField(2, Buffer.from(rand.uuid())),
    Buffer.from([0]),
    macaroonField(2, Buffer.from(caveat)),
    Buffer.from([0]),
    Buffer.from([0]),
    macaroonField(6, rand.bytes(32)),
  ]);
  return `pypi-${macaroon.toString('base64url')}`;
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A signed-looking JWT (RS256 shape); nothing can verify it, as with any token from elsewhere. */
export function jwt(rand: Rand, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64url(header)}.${b64url(payload)}.${rand.bytes(256).toString('base64url')}`;
}

/** A password as a password manager makes it: letters and digits only, so it is safe in URLs and ini files. */
export function password(rand: Rand, length = 24): string {
  return rand.chars(BASE62, length);
}

function base58(bytes: Buffer): string {
  let value = BigInt(`0x${bytes.toString('hex') || '0'}`);
  let out = '';
  while (value > 0n) {
    out = BASE58[Number(value % 58n)] + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

export function base58check(payload: Buffer): string {
  const sum = crypto.createHash('sha256').update(crypto.createHash('sha256').update(payload).digest()).digest();
  return base58(Buffer.concat([payload, sum.subarray(0, 4)]));
}

/** A BIP32 master key pair as wallets serialise it (`xprv…`, `xpub…`), with a real secp256k1 public key. */
export function bip32MasterKeys(rand: Rand): { xprv: string; xpub: string } {
  const seed = rand.bytes(64);
  const digest = crypto.createHmac('sha512', 'Bitcoin seed').update(seed).digest();
  const key = digest.subarray(0, 32);
  const chainCode = digest.subarray(32);
  const ecdh = crypto.createECDH('secp256k1');
  ecdh.setPrivateKey(key);
  const pub = ecdh.getPublicKey(null, 'compressed');
  const head = (version: number): Buffer => {
    const b = Buffer.alloc(13);
    b.writeUInt32BE(version, 0);
    return b;
  };
  return {
    xprv: base58check(Buffer.concat([head(0x0488ade4), chainCode, Buffer.from([0]), key])),
    xpub: base58check(Buffer.concat([head(0x0488b21e), chainCode, pub])),
  };
}
