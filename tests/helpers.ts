// Shared test helpers: relative error, GPU set-up, random data, and the op-checking table runner.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { type ImageBatchSource, loadTrainingSource } from "../harness/data/source.ts";
import { auroc } from "../harness/eval/metrics.ts";
import { readScoresCsv } from "../harness/score_file.ts";
import type { QuerySet } from "../harness/query_sets.ts";
import { TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";

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

/** The bits of every tensor in a safetensors file, by name (for bit-identical comparisons). */
export async function tensorBits(path: string): Promise<Map<string, Uint32Array>> {
  const file = await T.readSafetensors(path);
  return new Map([...file.tensors].map(([k, v]) => [k, new Uint32Array(v.data.buffer)]));
}

/** Two files' tensors have the same names and the same bits. */
export function assertSameBits(a: Map<string, Uint32Array>, b: Map<string, Uint32Array>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: tensor names`);
  for (const [k, v] of a) assert.deepEqual(v, b.get(k), `${what}: ${k} differs`);
}

let tinyFmnist: ImageBatchSource | null = null;

/** 32 Fashion-MNIST sneakers padded to 32×32: the training data of the small training tests. */
export async function tinyFmnistSource(): Promise<ImageBatchSource> {
  tinyFmnist ??= await loadTrainingSource("fmnist:7", { size: 32, patchesPerImage: 1, seed: 0, limit: 32 });
  return tinyFmnist;
}

/** The small training run of the tests: sneakers, a width-4 32×32 DCGAN, batches of 8, one epoch. */
export const TINY_TRAIN: TrainConfig = {
  ...TRAIN_DEFAULTS,
  data: "fmnist:7",
  model: { size: 32, width: 4, zDim: 8 },
  batch: 8,
  epochs: 1,
  logEvery: 2,
};

/** The same data and model on `deno task train`'s command line (64 sneakers). */
export const TINY_TRAIN_ARGS = [
  "--data",
  "fmnist:7",
  "--limit",
  "64",
  "--size",
  "32",
  "--width",
  "4",
  "--z-dim",
  "8",
];

/** A query set of the first `count` images of `images` (32×32), labelled normal, anomalous, … in turn. */
export function alternatingQuerySet(images: Float32Array, count: number): QuerySet {
  return {
    description: "test",
    size: 32,
    count,
    images: images.slice(0, count * 32 * 32),
    ids: [...Array(count).keys()].map(String),
    sources: Array(count).fill("x"),
    labels: Array.from({ length: count }, (_, i) => (i % 2) as 0 | 1),
    masks: Array(count).fill(null),
  };
}

/** Scoring options of the tests: one shard, no images, quiet, the mapping's settings but `steps`. */
export function testScoreOptions(steps: number) {
  return {
    mapping: { steps, lambda: 0.1, lr: 0.05, betas: [0.9, 0.999] as [number, number], clip: true, seed: 0 },
    batch: 4,
    shard: [0, 1] as [number, number],
    images: false,
    quiet: true,
  };
}

/** AUROC of a score column, recomputed from a scores.csv's labelled rows (an independent check of a report). */
export async function aurocFromCsv(path: string, column: string): Promise<number> {
  const rows = (await readScoresCsv(path)).rows.filter((r) => r.label !== undefined);
  return auroc(rows.map((r) => r.scores[column]), rows.map((r) => r.label!));
}

/** Every file under a folder, by relative path, with its bytes: a folder before and after must be equal. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string, prefix: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`, `${prefix}${e.name}/`);
      else out.set(`${prefix}${e.name}`, (await Deno.readFile(`${d}/${e.name}`)).join(","));
    }
  };
  await walk(dir, "");
  return out;
}
