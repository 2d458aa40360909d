// Latent mapping and scoring: batch independence, z-only gradients, shards, and bad input.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { createDcgan, type Dcgan, dcganInit } from "../anogan/dcgan.ts";
import { discriminatorScore, initialLatents, mapToLatent } from "../anogan/mapping.ts";
import { type QuerySet, subsetQueries } from "../harness/query_sets.ts";
import { loadGan } from "../harness/run.ts";
import { scoreColumns, scoreQueries, shardRange } from "../harness/scoring.ts";
import { formatScoresCsv } from "../harness/score_file.ts";
import { gpu } from "./helpers.ts";

await gpu();

const MODEL = { size: 32, width: 4, zDim: 8 };

function tinyGan(seed = 5): Dcgan {
  const gen = new T.Rng(seed);
  const gan = createDcgan(MODEL, gen);
  dcganInit(gan, gen);
  return gan;
}

/** Random query images in [−1, 1]. */
function queries(count: number, seed = 9): Float32Array<ArrayBuffer> {
  return new T.Rng(seed).uniform(count * 32 * 32, -1, 1);
}

const gan = tinyGan();

Deno.test("an image's scores mapped in a batch of 64 equal its scores mapped alone", async () => {
  const images = queries(64);
  const indices = Array.from({ length: 64 }, (_, i) => 100 + i);
  const batch = await mapToLatent(gan, images, indices, { steps: 20 });
  for (const k of [0, 17, 63]) {
    const alone = await mapToLatent(gan, images.slice(k * 1024, (k + 1) * 1024), [indices[k]], { steps: 20 });
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    assert.ok(
      rel(alone.score[0], batch.score[k]) < 1e-5,
      `image ${k}: ${alone.score[0]} vs ${batch.score[k]}`,
    );
    assert.ok(rel(alone.residual[0], batch.residual[k]) < 1e-5);
    assert.ok(rel(alone.discrimination[0], batch.discrimination[k]) < 1e-5);
  }
});

Deno.test("mapping descends the loss, keeps z in the prior's support, and starts from the seeded z₁", async () => {
  const images = queries(8, 3);
  const indices = [0, 1, 2, 3, 4, 5, 6, 7];
  const before = await mapToLatent(gan, images, indices, { steps: 0 });
  const after = await mapToLatent(gan, images, indices, { steps: 40, lr: 0.05 });
  const total = (s: Float32Array) => s.reduce((a, b) => a + b, 0);
  assert.ok(total(after.score) < total(before.score), `${total(after.score)} ≥ ${total(before.score)}`);
  assert.ok(after.z.every((v) => v >= -1 && v <= 1));
  assert.deepEqual(before.z, initialLatents(indices, MODEL.zDim, 0));
  const ganr = await mapToLatent(gan, images, indices, { steps: 5, method: "ganr" });
  assert.ok(ganr.discrimination.every((d) => d > 0 && Number.isFinite(d)), "D̂ is a cross-entropy > 0");
  // PD in eval mode: an image's score does not depend on the batch it is scored in.
  const pd = await discriminatorScore(gan, images, 8);
  const third = await discriminatorScore(gan, images.slice(3 * 1024, 4 * 1024), 1);
  assert.equal(third[0], pd[3], "PD of image 3 alone and in its batch");
});

Deno.test("mapping dispatches no weight-gradient kernel, and only the input gradients of G and D", async () => {
  T.resetDispatchCounts();
  await mapToLatent(gan, queries(4), [0, 1, 2, 3], { steps: 3 });
  const counts = Object.fromEntries(T.dispatchCounts);
  const weightGradients = [
    "conv2d.gradWeight",
    "convTranspose2d.gradWeight",
    "linear.gradWeight",
    "linear.gradBias",
    "batchNorm2d.gradSums",
  ];
  for (const k of weightGradients) {
    assert.equal(counts[k], undefined, `${k} dispatched: ${JSON.stringify(counts)}`);
  }
  assert.equal(counts.adam, 3, "one Adam update (of z) per step");
  assert.ok(
    Object.keys(counts).some((k) => /gradInput/.test(k)),
    `no input gradients: ${JSON.stringify(counts)}`,
  );
  for (const p of [...gan.G.parameters(), ...gan.D.parameters()]) assert.equal(p.grad, null);
});

function syntheticSet(count: number): QuerySet {
  return {
    description: "synthetic",
    size: 32,
    count,
    images: queries(count, 21),
    ids: Array.from({ length: count }, (_, i) => `q${i}`),
    sources: Array.from({ length: count }, (_, i) => `synthetic:${i}`),
    labels: Array.from({ length: count }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    masks: new Array(count).fill(null),
  };
}

Deno.test("sharded runs give the unsharded scores, and their CSVs concatenate to the unsharded CSV", async () => {
  const set = syntheticSet(10);
  const opts = {
    methods: ["anogan", "pd"] as ("anogan" | "pd")[],
    mapping: {
      steps: 4,
      lambda: 0.1,
      lr: 0.02,
      betas: [0.9, 0.999] as [number, number],
      clip: true,
      seed: 0,
    },
    batch: 4,
    images: false,
    quiet: true,
  };
  const whole = await scoreQueries(gan, set, "/nonexistent", { ...opts, shard: [0, 1] });
  const parts = [];
  for (let i = 0; i < 3; i++) {
    parts.push(await scoreQueries(gan, set, "/nonexistent", { ...opts, batch: 3, shard: [i, 3] }));
  }
  const wholeCsv = formatScoresCsv(whole.rows, scoreColumns(opts.methods, whole.rows));
  const body = (csv: string) => csv.split("\n").slice(1).join("\n");
  const header = wholeCsv.split("\n")[0];
  assert.equal(
    header + "\n" +
      parts.map((p) => body(formatScoresCsv(p.rows, scoreColumns(opts.methods, p.rows)))).join(""),
    wholeCsv,
  );
  assert.deepEqual(shardRange(10, [2, 3]), [6, 10]);
  assert.throws(() => shardRange(10, [3, 3]), /--shard 3\/3: expected i\/n with 0 ≤ i < n/);
});

Deno.test("a subset for --limit is seeded and keeps data set order", () => {
  const set = syntheticSet(50);
  const a = subsetQueries(set, 7, 1), b = subsetQueries(set, 7, 1);
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual([...a.ids].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))), a.ids);
  assert.equal(a.images.length, 7 * 1024);
});

Deno.test("bad input: another configuration's checkpoint, a corrupt checkpoint, wrong query size", async () => {
  const dir = await Deno.makeTempDir();
  const weights = new Map<string, T.HostTensor>();
  for (const [k, v] of await gan.G.hostStateDict()) weights.set(`G.${k}`, v);
  for (const [k, v] of await gan.D.hostStateDict()) weights.set(`D.${k}`, v);
  await T.writeSafetensors(`${dir}/model.safetensors`, weights);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ model: { ...MODEL, width: 8 } }));
  await assert.rejects(
    () => loadGan(dir),
    /model\.safetensors \(generator\): tensor project\.weight has shape \[256,8\], the model expects \[512,8\]/,
  );
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ model: MODEL }));
  const loaded = await loadGan(dir);
  assert.equal(loaded.gan.G.cfg.width, 4);
  const bytes = await Deno.readFile(`${dir}/model.safetensors`);
  await Deno.writeFile(`${dir}/model.safetensors`, bytes.slice(0, bytes.length - 100));
  await assert.rejects(() => loadGan(dir), /model\.safetensors: .*truncated/);
  await assert.rejects(() => loadGan(`${dir}/none`), /cannot read .*config\.json/);
  await assert.rejects(
    () => mapToLatent(gan, queries(2).slice(0, 2 * 28 * 28), [0, 1]),
    /the model expects 32×32 images/,
  );
  const wrong = { ...syntheticSet(2), size: 28 };
  await assert.rejects(
    () =>
      scoreQueries(gan, wrong, dir, {
        methods: ["pd"],
        mapping: { steps: 1, lambda: 0.1, lr: 0.1, betas: [0.9, 0.999], clip: true, seed: 0 },
        batch: 2,
        shard: [0, 1],
        images: false,
        quiet: true,
      }),
    /query images are 28×28; the model expects 32×32/,
  );
  await Deno.remove(dir, { recursive: true });
});
