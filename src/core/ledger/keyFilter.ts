/**
 * A Bloom filter of keys: "certainly not among them" in about ten bits a key, so a chain of millions of
 * records is asked about a key without holding its keys. A "maybe" is checked where the keys are (the
 * ledger). This file cannot depend on the vscode API.
 */

/** Bits per key and hashes per key: about 1 % of the keys not added answer "maybe". */
const BITS_PER_KEY = 10;
const HASHES = 7;

export class KeyFilter {
  private readonly bits: Uint8Array;
  private readonly size: number;

  constructor(expectedKeys: number) {
    this.size = Math.max(64, Math.ceil(expectedKeys * BITS_PER_KEY));
    this.bits = new Uint8Array(Math.ceil(this.size / 8));
  }

  add(key: string): void {
    for (const bit of this.positions(key)) this.bits[bit >>> 3]! |= 1 << (bit & 7);
  }

  /** False when `key` was certainly never added; true when it may have been. */
  mayHave(key: string): boolean {
    for (const bit of this.positions(key)) if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    return true;
  }

  /** Double hashing of two 32-bit FNV-1a variants: HASHES positions in the bit array. */
  private *positions(key: string): Generator<number> {
    let a = 0x811c9dc5;
    let b = 0x01000193 ^ key.length;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      a = Math.imul(a ^ code, 0x01000193);
      b = Math.imul(b ^ code, 0x5bd1e995);
      b ^= b >>> 15;
    }
    b |= 1;
    for (let i = 0; i < HASHES; i++) yield ((a + Math.imul(i, b)) >>> 0) % this.size;
  }
}
