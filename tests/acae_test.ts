// The aCAE baseline: trained by the training loop, reproducible, resumable, scored as A_acae at z = E(x).

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { Encoder } from "../anogan/encoder.ts";
import { loadGan, readCheckpoint } from "../harness/run.ts";
import { train } from "../harness/training.ts";
import { type TrainConfig } from "../anogan/train.ts";
import { scoreColumns, scoreQueries } from "../harness/scoring.ts";
import { formatScoresCsv } from "../harness/score_file.ts";
import {
  alternatingQuerySet,
  assertSameBits,
  gpu,
  tensorBits,
  testScoreOptions,
  TINY_TRAIN,
  tinyFmnistSource,
} from "./helpers.ts";

await gpu();

const ACAE: TrainConfig = {
  ...TINY_TRAIN,
  kind: "acae",
  reconWeight: 100,
};

const source = tinyFmnistSource;
const checkpointBits = (dir: string) => tensorBits(`${dir}/checkpoint.safetensors`);

Deno.test("encoder maps [N, size, size, 1] images to z in (−1, 1) at 32×32 and 64×64", async () => {
  for (const size of [32, 64]) {
    const gen = new T.Rng(2);
    const e = new Encoder({ size, width: 2, zDim: 6 }, gen);
    const z = T.step(() => e.forward(T.randomUniform([3, size, size, 1], gen, -1, 1)));
    assert.deepEqual(z.shape, [3, 6]);
    assert.ok((await z.read()).every((v) => v > -1 && v < 1));
    const state = await e.hostStateDict();
    assert.deepEqual(state.get("project.weight")!.shape, [6, 16 * 2 * (size === 64 ? 8 : 4)]);
    e.dispose();
  }
});

Deno.test("aCAE: same seed twice is bit-identical, and 1 epoch + resume equals 2 epochs", async () => {
  const [a, b, resumed] = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
  const metrics: number[] = [];
  await train({ dir: a, source: await source(), cfg: { ...ACAE, epochs: 2 }, quiet: true });
  await train({
    dir: b,
    source: await source(),
    cfg: { ...ACAE, epochs: 2 },
    quiet: true,
    onMetrics: (m) => metrics.push(m.lossRecon!),
  });
  assertSameBits(await checkpointBits(a), await checkpointBits(b), "same seed");
  assert.ok((await checkpointBits(a)).has("E.project.weight"), "the checkpoint holds the encoder");
  // The autoencoder learns: the reconstruction L1 of the last logging window is below the first's.
  assert.ok(metrics.length >= 2 && metrics.at(-1)! < metrics[0], `reconstruction L1 per window: ${metrics}`);
  await train({ dir: resumed, source: await source(), cfg: ACAE, quiet: true });
  await train({
    dir: resumed,
    source: await source(),
    cfg: { ...ACAE, epochs: 2 },
    quiet: true,
    resume: true,
  });
  assertSameBits(await checkpointBits(a), await checkpointBits(resumed), "resumed");
  const config = JSON.parse(await Deno.readTextFile(`${a}/config.json`));
  assert.equal(config.kind, "acae");

  // Scored at z = E(x) with no iteration: columns A_acae, R_acae, D_acae, A = 0.9·R + 0.1·D (eq. 6).
  const { gan, encoder } = await loadGan(a);
  assert.ok(encoder, "loadGan returns the aCAE's encoder");
  const src = await source();
  const set = alternatingQuerySet(src.images, 6);
  const opts = { ...testScoreOptions(500), methods: ["acae" as const], encoder };
  const r = await scoreQueries(gan, set, a, opts);
  assert.ok(r.seconds.acae > 0);
  const csv = formatScoresCsv(r.rows, scoreColumns(opts.methods, r.rows)).split("\n");
  assert.match(csv[0], /,A_acae,R_acae,D_acae$/);
  for (const row of r.rows) {
    const { A_acae, R_acae, D_acae } = row.scores;
    assert.ok(Math.abs(A_acae - (0.9 * R_acae + 0.1 * D_acae)) <= 1e-4 * A_acae);
  }
  // Batch-independent: the same scores in batches of 1.
  const single = await scoreQueries(gan, set, a, { ...opts, batch: 1 });
  assert.deepEqual(single.rows.map((x) => x.scores), r.rows.map((x) => x.scores));
  for (const d of [a, b, resumed]) await Deno.remove(d, { recursive: true });
});

Deno.test("aCAE bad input: a DCGAN checkpoint resumed as an aCAE is refused with a clear message", async () => {
  const dir = await Deno.makeTempDir();
  await train({ dir, source: await source(), cfg: { ...ACAE, kind: undefined }, quiet: true });
  await assert.rejects(() => readCheckpoint(dir, ACAE), /checkpoint of a dcgan run; this run trains a acae/);
  await assert.rejects(
    async () =>
      train({
        dir,
        source: await source(),
        cfg: { ...ACAE, model: { ...ACAE.model, size: 64 } },
        quiet: true,
      }),
    /data images are 32×32, the model expects 64×64/,
  );
  await Deno.remove(dir, { recursive: true });
});
