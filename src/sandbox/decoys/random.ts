/**
 * Randomness for decoys. Every draw goes through one byte source (crypto by default) so a test
 * can make a whole decoy set reproducible, and every draw is unbiased: a skewed alphabet would
 * let a careful script tell our tokens from real ones statistically.
 */
import crypto from 'node:crypto';

export type RandomBytes = (size: number) => Buffer;

export class Rand {
  constructor(private readonly source: RandomBytes = crypto.randomBytes) {}

  bytes(size: number): Buffer {
    const out = this.source(size);
    if (out.length !== size) throw new Error(`random source returned ${out.length} bytes, wanted ${size}`);
    return out;
  }

  /** Uniform integer in [0, n), n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`bad range ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const v = this.bytes(4).readUInt32BE(0);
      if (v < limit) return v % n;
    }
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** `length` characters drawn uniformly from `alphabet` (rejection sampling per byte). */
  chars(alphabet: string, length: number): string {
    const size = alphabet.length;
    if (size < 2 || size > 256) throw new RangeError('alphabet must have 2..256 characters');
    const limit = 256 - (256 % size);
    let out = '';
    while (out.length < length) {
      for (const b of this.bytes(Math.ceil((length - out.length) * 1.3) + 4)) {
        if (b < limit) out += alphabet[b % size];
        if (out.length === length) break;
      }
    }
    return out;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('nothing to pick from');
    return items[this.int(items.length)]!;
  }

  /** `count` distinct items in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, Math.min(count, pool.length));
  }

  chance(p: number): boolean {
    return this.int(1_000_000) < p * 1_000_000;
  }

  hex(bytes: number): string {
    return this.bytes(bytes).toString('hex');
  }

  uuid(): string {
    const b = this.bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}
