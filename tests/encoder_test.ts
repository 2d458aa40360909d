// The izi_f encoder: trained against a frozen run, reproducible, resumable, bad input refused, and
// the encoder mappers score at z = E(x) (one pass) or after k steps from it.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { loadTrainingSource } from "../harness/data/source.ts";
import { encodeImages, ENCODER_TRAIN_DEFAULTS, type EncoderTrainConfig } from "../anogan/encoder.ts";
import { loadEncoder, loadTrainedGan, readEncoderCheckpoint } from "../harness/run.ts";
import { train, trainEncoder } from "../harness/training.ts";
import { mapToLatent } from "../anogan/mapping.ts";
import { scoreColumns, scoreQueries } from "../harness/scoring.ts";
import { formatScoresCsv } from "../harness/score_file.ts";
import { TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";
import {
  alternatingQuerySet,
  assertSameBits,
  gpu,
  tensorBits,
  testScoreOptions,
  tinyFmnistSource,
} from "./helpers.ts";

await gpu();

const MODEL = { size: 32, width: 4, zDim: 8 };
const GAN: TrainConfig = {
  ...TRAIN_DEFAULTS,
  data: "fmnist:7",
  model: MODEL,
  batch: 8,
  epochs: 1,
  logEvery: 2,
};
const ENC: EncoderTrainConfig = {
  ...ENCODER_TRAIN_DEFAULTS,
  data: "fmnist:7",
  model: MODEL,
  batch: 8,
  epochs: 1,
};

const source = await tinyFmnistSource();

/** A finished tiny DCGAN run, shared by the tests (its files are only read). */
const runDir = await Deno.makeTempDir();
await train({ dir: runDir, source, cfg: GAN, quiet: true });

const encoderBits = (dir: string) => tensorBits(`${dir}/encoder/checkpoint.safetensors`);

/** A copy of the shared run without its encoder, for a test to train one into. */
async function runCopy(): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const f of ["config.json", "model.safetensors"]) await Deno.copyFile(`${runDir}/${f}`, `${dir}/${f}`);
  return dir;
}

Deno.test("encoder training: same seed twice is bit-identical, 1 epoch + resume equals 2 epochs", async () => {
  const [a, b, resumed] = [await runCopy(), await runCopy(), await runCopy()];
  const losses: number[] = [];
  for (const dir of [a, b]) {
    const { gan } = await loadTrainedGan(dir);
    await trainEncoder({
      runDir: dir,
      gan,
      source,
      cfg: { ...ENC, epochs: 2 },
      quiet: true,
      onMetrics: (m) => losses.push(m.loss),
    });
  }
  assertSameBits(await encoderBits(a), await encoderBits(b), "same seed");
  assert.ok(losses.every((l) => Number.isFinite(l) && l > 0), `losses ${losses}`);
  const { gan } = await loadTrainedGan(resumed);
  await trainEncoder({ runDir: resumed, gan, source, cfg: ENC, quiet: true });
  await trainEncoder({ runDir: resumed, gan, source, cfg: { ...ENC, epochs: 2 }, quiet: true, resume: true });
  assertSameBits(await encoderBits(a), await encoderBits(resumed), "resumed");
  // G and D stay frozen: the run's model file is untouched and the checkpoint holds only E.
  assert.ok([...(await encoderBits(a)).keys()].every((k) => k.startsWith("E.") || k.startsWith("opt.")));
  for (const d of [a, b, resumed]) await Deno.remove(d, { recursive: true });
});

Deno.test("encoder mappers: A_encoder at z = E(x), A_encoder_iter after k steps from it, per-method times", async () => {
  const dir = await runCopy();
  const { gan } = await loadTrainedGan(dir);
  await trainEncoder({ runDir: dir, gan, source, cfg: ENC, quiet: true });
  const encoder = await loadEncoder(dir, MODEL);
  const set = alternatingQuerySet(source.images, 5);
  const options = {
    ...testScoreOptions(3),
    methods: ["anogan" as const, "encoder" as const, "encoder+iter" as const],
    encoder,
    encoderSteps: 2,
  };
  const r = await scoreQueries(gan, set, dir, options);
  const head = formatScoresCsv(r.rows, scoreColumns(options.methods, r.rows)).split("\n")[0];
  assert.match(head, /,A,R,D,A_encoder,R_encoder,D_encoder,A_encoder_iter,R_encoder_iter,D_encoder_iter$/);
  assert.deepEqual(Object.keys(r.seconds).sort(), ["anogan", "encoder", "encoder+iter"]);
  for (const row of r.rows) {
    const s = row.scores;
    assert.ok(Math.abs(s.A_encoder - (0.9 * s.R_encoder + 0.1 * s.D_encoder)) <= 1e-4 * s.A_encoder);
  }
  // encoder+iter is k = 2 mapping steps from z₁ = E(x): the same as mapping from E(x) directly.
  const firstTwo = set.images.slice(0, 2 * 32 * 32);
  const fromE = await mapToLatent(gan, firstTwo, [0, 1], {
    ...options.mapping,
    steps: 2,
    initialZ: await encodeImages(encoder, firstTwo, 2),
  });
  assert.deepEqual(r.rows.slice(0, 2).map((row) => row.scores.A_encoder_iter), Array.from(fromE.score));
  assert.notDeepEqual(Array.from(fromE.score), r.rows.slice(0, 2).map((row) => row.scores.A_encoder));
  // mapToLatent from a given z₁ with 0 steps scores exactly there; the default start is unchanged.
  const images = set.images.slice(0, 2 * 32 * 32);
  const z1 = new T.Rng(4).uniform(2 * 8, -0.5, 0.5);
  const at = await mapToLatent(gan, images, [0, 1], { steps: 0, initialZ: z1 });
  assert.deepEqual(at.z, z1);
  await assert.rejects(
    () => mapToLatent(gan, images, [0, 1], { initialZ: z1.slice(1) }),
    /initial z has 15 values/,
  );
  // Batch-independent: one image alone scores as in its batch.
  const alone = await scoreQueries(gan, set, dir, { ...options, batch: 1 });
  assert.deepEqual(alone.rows.map((x) => x.scores), r.rows.map((x) => x.scores));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("encoder bad input: no trained model, no encoder, another configuration, wrong image size", async () => {
  const empty = await Deno.makeTempDir();
  await assert.rejects(() => loadTrainedGan(empty), /no config\.json; expected a training run directory/);
  await Deno.copyFile(`${runDir}/config.json`, `${empty}/config.json`);
  await assert.rejects(
    () => loadTrainedGan(empty),
    /no trained model \(model\.safetensors is missing: its training did not complete\)/,
  );
  await assert.rejects(
    () => loadEncoder(runDir, MODEL),
    /has no trained encoder .* deno task train-encoder --run/,
  );

  const dir = await runCopy();
  const { gan } = await loadTrainedGan(dir);
  await trainEncoder({ runDir: dir, gan, source, cfg: { ...ENC, maxSteps: 1 }, quiet: true });
  const other = { ...MODEL, width: 2 };
  await assert.rejects(
    () => readEncoderCheckpoint(`${dir}/encoder`, { ...ENC, model: other }),
    /is an encoder for another model \(size 32, width 4, z 8\); this run's model is size 32, width 2, z 8/,
  );
  await assert.rejects(
    () => trainEncoder({ runDir: dir, gan, source, cfg: { ...ENC, model: other }, quiet: true }),
    /encoder model \(size 32, width 2, z 8\) differs from the GAN's \(size 32, width 4, z 8\)/,
  );
  const big = await loadTrainingSource("fmnist:7", { size: 64, patchesPerImage: 1, seed: 0, limit: 8 });
  await assert.rejects(
    () => trainEncoder({ runDir: dir, gan, source: big, cfg: ENC, quiet: true }),
    /data images are 64×64, the model expects 32×32/,
  );
  const cli = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../scripts/train_encoder.ts", import.meta.url).pathname, "--run", empty],
  }).output();
  assert.equal(cli.code, 1);
  assert.match(new TextDecoder().decode(cli.stderr), /error: .*: no trained model/);
  for (const d of [empty, dir]) await Deno.remove(d, { recursive: true });
});

globalThis.addEventListener("unload", () => Deno.removeSync(runDir, { recursive: true }));

Deno.test("deno task train-encoder trains an encoder for a finished run, as a user calls it", async () => {
  const dir = await runCopy();
  const script = new URL("../scripts/train_encoder.ts", import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--run", dir, "--epochs", "1", "--max-steps", "2", "--batch", "8", "--quiet"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  const weights = await T.readSafetensors(`${dir}/encoder/encoder.safetensors`);
  assert.ok(weights.tensors.has("E.project.weight"), [...weights.tensors.keys()].join(", "));
  await Deno.remove(dir, { recursive: true });
});
