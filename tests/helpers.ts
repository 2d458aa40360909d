// Shared test helpers: relative error, GPU set-up, random data, and the op-checking table runner.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";

export const TOL = 1e-5;

/** ‖a − b‖ / ‖b‖ (absolute norm when b is all zeros); NaN anywhere gives Infinity. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) return Infinity;
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tol = TOL,
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} values, expected ${expected.length}`,
  );
  const e = relErr(actual, expected);
  assert.ok(e < tol, `${what}: relative error ${e.toExponential(2)} ≥ ${tol}`);
}

/** Initialises the GPU once for a test file. */
export async function gpu(): Promise<T.Runtime> {
  return await T.init();
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A test RNG for shapes and values (the project's Philox stream, CPU side). */
export class TestRng {
  #r: T.Rng;
  constructor(seed: number) {
    this.#r = new T.Rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + this.#r.int(hi - lo + 1);
  }
  normal(n: number): Float64Array {
    return Float64Array.from(this.#r.normal(n));
  }
  uniform(n: number, lo: number, hi: number): Float64Array {
    return Float64Array.from(this.#r.uniform(n, lo, hi));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.#r.int(xs.length)];
  }
}
