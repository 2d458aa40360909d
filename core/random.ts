// Seeded counter-based random numbers (Philox 4x32-10, Salmon et al. 2011), one stream on CPU and GPU.
//
// A generator is a 64-bit key (the seed) and a 64-bit block counter. Each block gives four u32 values,
// so n numbers consume ceil(n / 4) blocks, on either side. Uniform floats take the top 24 bits and are
// bit-identical on CPU and GPU; normals (Box–Muller) use log/cos/sin and agree to float rounding.
//
// Data synthesis and sampling (phantoms, patch positions, bootstrap resamples) draw from a second,
// CPU-only stream, harness/data/rng.ts's XoshiroRng: the phantom test sets are defined by it, so the
// two generators stay distinct.

import { grid1d, Params, rt } from "./kernel.ts";
import { type Shape, sizeOf, Tensor } from "./tensor.ts";

const M0 = 0xD2511F53;
const M1 = 0xCD9E8D57;
const W0 = 0x9E3779B9;
const W1 = 0xBB67AE85;

function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff, aHi = a >>> 16, bLo = b & 0xffff, bHi = b >>> 16;
  const t = aLo * bLo;
  const m1 = aHi * bLo + (t >>> 16);
  const m2 = aLo * bHi + (m1 & 0xffff);
  return (aHi * bHi + Math.floor(m1 / 65536) + Math.floor(m2 / 65536)) >>> 0;
}

/** One Philox 4x32-10 block: 4 u32 from a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: readonly number[], key: readonly number[]): Uint32Array {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0);
  let [k0, k1] = key.map((x) => x >>> 0);
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return Uint32Array.of(c0, c1, c2, c3);
}

const U24 = 1 / 16777216;

export interface RngState {
  seed: string;
  counter: string;
}

/** A seeded stream of random numbers; its state (seed, counter) can be saved and restored exactly. */
export class Rng {
  readonly key: [number, number];
  counter: bigint;

  constructor(readonly seed: number | bigint, counter = 0n) {
    const s = BigInt(seed);
    if (s < 0n || s >= 2n ** 64n) throw new Error(`seed must be an integer in [0, 2^64), got ${seed}`);
    this.key = [Number(s & 0xffffffffn), Number(s >> 32n)];
    this.counter = counter;
  }

  state(): RngState {
    return { seed: BigInt(this.seed).toString(), counter: this.counter.toString() };
  }

  static fromState(s: RngState): Rng {
    return new Rng(BigInt(s.seed), BigInt(s.counter));
  }

  /** Reserves `blocks` counter blocks and returns the first one (for GPU sampling). */
  take(blocks: number): bigint {
    const first = this.counter;
    this.counter += BigInt(blocks);
    return first;
  }

  /** n raw u32 values. */
  u32(n: number): Uint32Array {
    const out = new Uint32Array(n);
    const base = this.take(Math.ceil(n / 4));
    for (let b = 0; b * 4 < n; b++) {
      const c = base + BigInt(b);
      const v = philox4x32([Number(c & 0xffffffffn), Number(c >> 32n), 0, 0], this.key);
      for (let j = 0; j < 4 && b * 4 + j < n; j++) out[b * 4 + j] = v[j];
    }
    return out;
  }

  /** n floats uniform in [lo, hi), float32 arithmetic as on the GPU. */
  uniform(n: number, lo = 0, hi = 1): Float32Array<ArrayBuffer> {
    const bits = this.u32(n);
    const out = new Float32Array(n);
    const span = Math.fround(Math.fround(hi) - Math.fround(lo));
    for (let i = 0; i < n; i++) out[i] = Math.fround(lo + Math.fround(span * ((bits[i] >>> 8) * U24)));
    return out;
  }

  /** n floats from N(mean, std²) by Box–Muller on consecutive pairs. */
  normal(n: number, mean = 0, std = 1): Float32Array<ArrayBuffer> {
    const bits = this.u32(Math.ceil(n / 4) * 4);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = ((bits[i] >>> 8) + 1) * U24;
      const t = 2 * Math.PI * ((bits[i + 1] >>> 8) * U24);
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(t);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(t);
    }
    return out;
  }

  /** An integer uniform in [0, n) (for shuffles and positions; rejection keeps it unbiased). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0 && n <= 2 ** 32)) {
      throw new Error(`int: bound must be in [1, 2^32], got ${n}`);
    }
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.u32(1)[0];
      if (x < limit) return x % n;
    }
  }
}

function sample(shape: Shape, gen: Rng, normal: boolean, a: number, b: number): Tensor {
  const t = Tensor.empty(shape);
  const n = sizeOf(shape);
  const blocks = Math.ceil(n / 4);
  const base = gen.take(blocks);
  const params = new Params().u32(n, gen.key[0], gen.key[1], Number(base & 0xffffffffn), Number(base >> 32n))
    .f32(a, b).u32(0);
  const def = { file: "random.wgsl", constants: { NORMAL: normal, WG: 64 }, storage: 1, writes: [0] };
  rt().dispatch(
    def,
    [t.buffer],
    params,
    grid1d(Math.ceil(blocks / 64)),
    normal ? "randomNormal" : "randomUniform",
  );
  return t;
}

/** A tensor uniform in [lo, hi), sampled on the GPU; equals `gen.uniform(n, lo, hi)` bit for bit. */
export const randomUniform = (shape: Shape, gen: Rng, lo = 0, hi = 1): Tensor =>
  sample(shape, gen, false, lo, hi);

/** A tensor from N(mean, std²), sampled on the GPU. */
export const randomNormal = (shape: Shape, gen: Rng, mean = 0, std = 1): Tensor =>
  sample(shape, gen, true, mean, std);
