// Seeded CPU random numbers for data synthesis and patch sampling: xoshiro128** (Blackman & Vigna)
// seeded through splitmix32. Fast enough for the hundreds of thousands of draws one phantom B-scan
// needs.
//
// Why a second generator beside core/random.ts's Rng (Philox 4x32-10, one stream on CPU and GPU, for
// weights, z and everything a checkpoint resumes): the phantoms, patch positions, query subsets,
// bootstrap resamples and Fig. 3's picks are drawn from this stream, so the phantom test sets and every
// result computed on them are defined by it. Replacing it with Philox would change them all.

/** Mixes a 32-bit value into a well-scrambled 32-bit value (the murmur3 finaliser). */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function checkSeedPart(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${what} must be a non-negative integer, got ${value}`);
  }
}

/**
 * A 32-bit seed for a sub-stream, derived from a seed and a path of non-negative integers
 * (e.g. `deriveSeed(seed, VOLUME, 3)`), so that independent parts draw from independent streams and
 * one part can be regenerated without replaying the others.
 */
export function deriveSeed(seed: number, ...path: number[]): number {
  checkSeedPart(seed, "seed");
  // Fold both halves of a seed above 2^32 so that distinct safe-integer seeds give distinct streams.
  let h = mix32(mix32(seed >>> 0) ^ Math.floor(seed / 0x100000000));
  for (const part of path) {
    checkSeedPart(part, "seed path element");
    h = mix32((h ^ mix32(part >>> 0 ^ 0x9e3779b9)) + Math.floor(part / 0x100000000));
  }
  return h;
}

const TWO_POW_32 = 0x100000000;

/** xoshiro128**: four 32-bit words of state, period 2^128 − 1 (CPU only; not core/random.ts's Rng). */
export class XoshiroRng {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;
  #spareNormal: number | undefined;

  constructor(seed: number) {
    checkSeedPart(seed, "seed");
    // splitmix32 expands the seed so that nearby seeds give unrelated states (never all zero).
    let state = deriveSeed(seed);
    const next = () => {
      state = (state + 0x9e3779b9) >>> 0;
      return mix32(state);
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next() | 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s1 = this.#s1;
    const rotated = Math.imul(s1, 5);
    const result = Math.imul((rotated << 7) | (rotated >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = (this.#s3 << 11) | (this.#s3 >>> 21);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** A uniform integer in [0, n), without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`XoshiroRng.int needs an integer n in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** A standard normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#spareNormal !== undefined) {
      const spare = this.#spareNormal;
      this.#spareNormal = undefined;
      return spare;
    }
    const u1 = 1 - this.uniform(); // in (0, 1], so log is finite
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.#spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  }

  /** Fills `out` with independent normal draws of the given standard deviation. */
  fillNormal(out: Float64Array | Float32Array, std = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = std * this.normal();
  }
}
