/**
 * A compact set of string keys with a few flag bits each, stored as 64-bit hashes in typed arrays
 * (about 9-18 bytes per key instead of ~100 for a Set of strings), so the importer can remember a
 * million dedupe keys without its memory growing with their text. Two different keys share a hash
 * with probability ~n²/2^65 (1e-8 at a million keys); callers use the flags only as hints that a
 * database lookup confirms (KNOWN) or for counting (SEEN).
 */
export class KeyFlags {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private flags: Uint8Array;
  private count = 0;

  constructor(capacity = 1 << 14) {
    let c = 1;
    while (c < capacity * 2) c <<= 1;
    this.hi = new Uint32Array(c);
    this.lo = new Uint32Array(c);
    this.flags = new Uint8Array(c);
  }

  get size(): number {
    return this.count;
  }

  private static hash(key: string): [number, number] {
    // FNV-1a and a murmur-style mix over UTF-16 code units, with different seeds.
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    return [a >>> 0, (b ^ (b >>> 16)) >>> 0];
  }

  private slot(hi: number, lo: number): number {
    const mask = this.flags.length - 1;
    let i = (hi ^ Math.imul(lo, 0x9e3779b1)) & mask;
    while (this.flags[i] !== 0 && (this.hi[i] !== hi || this.lo[i] !== lo)) i = (i + 1) & mask;
    return i;
  }

  /** The flags of a key (0: not present). */
  get(key: string): number {
    const [hi, lo] = KeyFlags.hash(key);
    return this.flags[this.slot(hi, lo)];
  }

  /** Adds flag bits (1..255) to a key. */
  add(key: string, flag: number): void {
    const [hi, lo] = KeyFlags.hash(key);
    let i = this.slot(hi, lo);
    if (this.flags[i] === 0) {
      if ((this.count + 1) * 4 > this.flags.length * 3) {
        this.grow();
        i = this.slot(hi, lo);
      }
      this.count++;
      this.hi[i] = hi;
      this.lo[i] = lo;
    }
    this.flags[i] |= flag;
  }

  private grow(): void {
    const { hi, lo, flags } = this;
    this.hi = new Uint32Array(flags.length * 2);
    this.lo = new Uint32Array(flags.length * 2);
    this.flags = new Uint8Array(flags.length * 2);
    for (let j = 0; j < flags.length; j++) {
      if (flags[j] === 0) continue;
      const i = this.slot(hi[j], lo[j]);
      this.hi[i] = hi[j];
      this.lo[i] = lo[j];
      this.flags[i] = flags[j];
    }
  }
}
