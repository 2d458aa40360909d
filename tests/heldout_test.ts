// What training leaves for test time: D's batch-norm statistics recomputed on normal images, and the
// per-epoch check of whether G reproduces held-out normal images.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { createDcgan, dcganInit } from "../anogan/dcgan.ts";
import {
  calibrateDiscriminatorNorms,
  heldOutFit,
  medianImage,
  TRAIN_DEFAULTS,
  type TrainConfig,
} from "../anogan/train.ts";
import { readCheckpoint } from "../harness/run.ts";
import { splitHeldOut, train } from "../harness/training.ts";
import { assertClose, gpu, tinyFmnistSource } from "./helpers.ts";

await gpu();

const MODEL = { size: 32, width: 4, zDim: 8 };
const TINY: TrainConfig = {
  ...TRAIN_DEFAULTS,
  data: "fmnist:7",
  model: MODEL,
  batch: 8,
  epochs: 2,
  logEvery: 2,
};

/** Per-channel mean and unbiased variance of an NHWC tensor's values. */
function channelStats(values: Float32Array, channels: number): { mean: number[]; variance: number[] } {
  const rows = values.length / channels;
  const mean = Array.from({ length: channels }, (_, c) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += values[r * channels + c];
    return s / rows;
  });
  const variance = mean.map((m, c) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += (values[r * channels + c] - m) ** 2;
    return s / (rows - 1);
  });
  return { mean, variance };
}

Deno.test("D's running statistics are recomputed from normal images: batch means and variances, averaged", async () => {
  const gen = new T.Rng(3);
  const gan = createDcgan(MODEL, gen);
  dcganInit(gan, gen);
  const images = (await tinyFmnistSource()).images.slice(0, 16 * 32 * 32);
  await calibrateDiscriminatorNorms(gan.D, images, 16, 8);
  // The first batch norm's input is conv → LeakyReLU → conv of the images: computed here batch by batch.
  const D = gan.D;
  const bn = D.norms[1]!;
  const batchStats = [0, 1].map((k) =>
    T.step(() =>
      T.noGrad(() => {
        const x = T.Tensor.from(images.slice(k * 8 * 1024, (k + 1) * 8 * 1024), [8, 32, 32, 1]);
        return D.downs[1].forward(T.leakyRelu(D.downs[0].forward(x), 0.2));
      })
    )
  );
  const stats = await Promise.all(batchStats.map(async (t) => channelStats(await t.read(), bn.numFeatures)));
  const average = (f: (s: { mean: number[]; variance: number[] }) => number[]) =>
    f(stats[0]).map((v, c) => (v + f(stats[1])[c]) / 2);
  assertClose(await bn.runningMean.read(), average((s) => s.mean), "running mean: average of batch means");
  assertClose(
    await bn.runningVar.read(),
    average((s) => s.variance),
    "running variance: average of batch variances",
  );
  assert.equal(D.training, true, "D's mode is left as it was");
  assert.equal(bn.opts.momentum, undefined, "the momentum is restored");
});

Deno.test("held-out images are the source's last ones, and the median image is per pixel", async () => {
  const src = await tinyFmnistSource();
  const { fit, heldOut } = splitHeldOut(src, 4);
  assert.equal(fit.count, src.count - 4);
  assert.deepEqual(heldOut, src.images.slice((src.count - 4) * 1024));
  assert.throws(() => splitHeldOut(src, src.count), /cannot hold out 32 of its 32 images/);
  const m = medianImage(Float32Array.from([1, 5, 3, 2, 9, 0, 4, 7, 8]), 9, 1); // nine 1×1 images
  assert.deepEqual(Array.from(m), [4]);
  assert.deepEqual(Array.from(medianImage(Float32Array.from([3, 1, 2, 5]), 4, 1)), [2.5]);
  // Two 2×2 images: pixel by pixel, not over the whole image.
  assert.deepEqual(Array.from(medianImage(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 2, 2)), [2, 3, 4, 5]);
});

Deno.test("each epoch logs the held-out fit of that epoch's G, and an untrained G is flagged", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (line: string) => warnings.push(line);
  try {
    await train({ dir, source: await tinyFmnistSource(), cfg: { ...TINY, heldOutImages: 4 }, quiet: true });
  } finally {
    console.warn = warn;
  }
  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const fits = lines.filter((l) => "heldOutResidual" in l);
  assert.deepEqual(fits.map((l) => l.epoch), [1, 2]);
  assert.ok(fits.every((l) => l.heldOutImages === 4));
  // The logged figure is heldOutFit of the final weights on the last 4 images, bit for bit.
  const state = await readCheckpoint(dir, { ...TINY, heldOutImages: 4 });
  const { fit, heldOut } = splitHeldOut(await tinyFmnistSource(), 4);
  const again = await heldOutFit(state.gan, heldOut!, medianImage(fit.images, fit.count, 32), 20, TINY.seed);
  assert.equal(fits[1].heldOutResidual, again.heldOutResidual);
  assert.equal(fits[1].constantResidual, again.constantResidual);
  // Two epochs of 3 steps teach a G nothing: worse than the median image, and the run says so.
  assert.ok(fits[1].heldOutResidual > fits[1].constantResidual, JSON.stringify(fits[1]));
  assert.equal(fits[1].learned, false);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /after epoch 2, G reproduces the 4 held-out normal images no better than a constant/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--model-epoch held-out keeps the G of the epoch with the lowest held-out residual", async () => {
  const dir = await Deno.makeTempDir();
  // At lr 0.01 this tiny G drifts away from the data after its first epoch: the best epoch is not the last.
  const cfg: TrainConfig = { ...TINY, epochs: 4, lr: 0.01, heldOutImages: 4, modelEpoch: "held-out" };
  const warn = console.warn;
  console.warn = () => {};
  try {
    await train({ dir, source: await tinyFmnistSource(), cfg, quiet: true });
  } finally {
    console.warn = warn;
  }
  const fits = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) => JSON.parse(l))
    .filter((l) => "heldOutResidual" in l);
  assert.equal(fits.length, 4);
  const lowest = Math.min(...fits.map((f) => f.heldOutResidual));
  const chosen = fits.find((f) => f.heldOutResidual === lowest).epoch;
  assert.notEqual(chosen, 4, "the case must choose an epoch before the last");
  const model = await T.readSafetensors(`${dir}/model.safetensors`);
  assert.equal(model.metadata.epoch, String(chosen));
  // G is that epoch's, bit for bit (D's statistics are recomputed after): the held-out fit of the
  // kept G is the logged one.
  const best = await T.readSafetensors(`${dir}/heldout-best.safetensors`);
  assert.equal(best.metadata.epoch, String(chosen));
  for (const [name, t] of best.tensors) {
    if (name.startsWith("G.")) assert.deepEqual(model.tensors.get(name)!.data, t.data, name);
  }
  const gan = createDcgan(MODEL, new T.Rng(0n));
  const part = (prefix: string) =>
    new Map(
      [...model.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]),
    );
  gan.G.loadStateDict(part("G."), "model G");
  gan.D.loadStateDict(part("D."), "model D");
  const { fit, heldOut } = splitHeldOut(await tinyFmnistSource(), 4);
  const again = await heldOutFit(gan, heldOut!, medianImage(fit.images, fit.count, 32), 20, TINY.seed);
  assert.equal(again.heldOutResidual, lowest);
  // Without the held-out check there is nothing to choose by, and an aCAE has no such check.
  await assert.rejects(
    () => train({ dir: `${dir}/x`, source: fit, cfg: { ...cfg, heldOutImages: 0 }, quiet: true }),
    /keeping the held-out best epoch needs the held-out check/,
  );
  await assert.rejects(
    () => train({ dir: `${dir}/y`, source: fit, cfg: { ...cfg, kind: "acae" }, quiet: true }),
    /an aCAE run has none/,
  );
  await Deno.remove(dir, { recursive: true });
});
