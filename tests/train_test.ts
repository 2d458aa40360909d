// DCGAN training: architecture, reproducibility, resume, crash safety and bad input.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { createDcgan, dcganInit } from "../anogan/dcgan.ts";
import { loadTrainingSource } from "../harness/data/source.ts";
import { NanLossError, train } from "../harness/training.ts";
import { readCheckpoint } from "../harness/run.ts";
import { type TrainConfig } from "../anogan/train.ts";
import { readRunState } from "../harness/folders.ts";
import { assertSameBits, gpu, tensorBits, TINY_TRAIN, TINY_TRAIN_ARGS, tinyFmnistSource } from "./helpers.ts";
import { encode } from "fast-png";

await gpu();

const TINY: TrainConfig = {
  ...TINY_TRAIN,
  heldOutImages: 0, // these tests count steps over the whole tiny set; the check has its own test
};

const source = tinyFmnistSource;
const tensorsOf = (dir: string) => tensorBits(`${dir}/checkpoint.safetensors`);

Deno.test("DCGAN shapes: 64×64 and 32×32 generators and discriminators, features f(x) before the last layer", () => {
  for (const size of [32, 64]) {
    const gen = new T.Rng(1);
    const gan = createDcgan({ size, width: 4, zDim: 10 }, gen);
    dcganInit(gan, gen);
    T.step(() => {
      const img = gan.G.forward(T.randomUniform([3, 10], gen, -1, 1));
      assert.deepEqual(img.shape, [3, size, size, 1]);
      const { logits, features } = gan.D.forward(img);
      assert.deepEqual(logits.shape, [3]);
      assert.deepEqual(features.shape, [3, 4, 4, size === 64 ? 32 : 16]);
    });
    const convs = [...gan.G.namedParameters()].filter(([n]) => /^up\d\.weight$/.test(n));
    assert.equal(convs.length, size === 64 ? 4 : 3);
    gan.G.dispose();
    gan.D.dispose();
  }
});

Deno.test("DCGAN state dicts are in PyTorch's layouts, and round-trip", async () => {
  const gen = new T.Rng(3);
  const a = createDcgan({ size: 64, width: 2, zDim: 5 }, gen);
  const state = await a.G.hostStateDict();
  assert.deepEqual(state.get("up0.weight")!.shape, [16, 8, 5, 5]); // ConvTranspose2d [Cin, Cout, kh, kw]
  assert.deepEqual(state.get("project.weight")!.shape, [256, 5]);
  const dState = await a.D.hostStateDict();
  assert.deepEqual(dState.get("down1.weight")!.shape, [4, 2, 5, 5]); // Conv2d [Cout, Cin, kh, kw]
  const b = createDcgan({ size: 64, width: 2, zDim: 5 }, new T.Rng(4));
  b.G.loadStateDict(state);
  const z = T.randomUniform([2, 5], gen, -1, 1);
  a.G.eval();
  b.G.eval();
  const [ya, yb] = [await a.G.forward(z).read(), await b.G.forward(z).read()];
  assert.deepEqual(ya, yb);
  const wrong = createDcgan({ size: 64, width: 3, zDim: 5 }, gen);
  assert.throws(
    () => wrong.G.loadStateDict(state, "g.safetensors"),
    /g\.safetensors: tensor project\.weight has shape \[256,5\], the model expects \[384,5\]/,
  );
});

Deno.test("training is reproducible: one seed twice gives bit-identical checkpoints", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  for (const dir of dirs) await train({ dir, source: await source(), cfg: TINY, quiet: true });
  assertSameBits(await tensorsOf(dirs[0]), await tensorsOf(dirs[1]), "same seed");
  const other = await Deno.makeTempDir();
  await train({ dir: other, source: await source(), cfg: { ...TINY, seed: 1 }, quiet: true });
  assert.notDeepEqual(
    (await tensorsOf(other)).get("G.up0.weight"),
    (await tensorsOf(dirs[0])).get("G.up0.weight"),
  );
  for (const d of [...dirs, other]) await Deno.remove(d, { recursive: true });
});

Deno.test("2 epochs equal 1 epoch, resume, 1 more; metrics, samples and weights are written", async () => {
  const straight = await Deno.makeTempDir(), resumed = await Deno.makeTempDir();
  await train({ dir: straight, source: await source(), cfg: { ...TINY, epochs: 2 }, quiet: true });
  await train({ dir: resumed, source: await source(), cfg: TINY, quiet: true });
  await train({
    dir: resumed,
    source: await source(),
    cfg: { ...TINY, epochs: 2 },
    quiet: true,
    resume: true,
  });
  assertSameBits(await tensorsOf(straight), await tensorsOf(resumed), "resumed");
  const lines = (await Deno.readTextFile(`${resumed}/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.equal(lines.at(-1).step, 8);
  assert.ok(lines.every((m) => Number.isFinite(m.lossD) && m.dReal > 0 && m.dReal < 1));
  for (const f of ["config.json", "model.safetensors", "samples/epoch-001.png", "samples/epoch-002.png"]) {
    await Deno.stat(`${resumed}/${f}`);
  }
  const cfg = JSON.parse(await Deno.readTextFile(`${straight}/config.json`));
  assert.equal(cfg.lr, 2e-4);
  for (const d of [straight, resumed]) await Deno.remove(d, { recursive: true });
});

Deno.test("logged losses are exact means over each logging window, summed on the device", async () => {
  const every = await Deno.makeTempDir(), windowed = await Deno.makeTempDir();
  const cfg = { ...TINY, epochs: 2 };
  await train({ dir: every, source: await source(), cfg: { ...cfg, logEvery: 1 }, quiet: true });
  await train({ dir: windowed, source: await source(), cfg: { ...cfg, logEvery: 3 }, quiet: true });
  const read = async (dir: string) =>
    (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));
  const steps = await read(every), windows = await read(windowed);
  // 4 steps an epoch, logged every 3: windows end at steps 3, 4 (epoch end), 6, 8.
  assert.deepEqual(windows.map((m) => [m.step, m.steps]), [[3, 3], [4, 1], [6, 2], [8, 2]]);
  let first = 0;
  for (const w of windows) {
    const inside = steps.slice(first, w.step);
    for (const name of ["lossD", "lossG", "dReal", "dFake"]) {
      const mean = inside.reduce((sum, m) => sum + m[name], 0) / inside.length;
      assert.ok(
        Math.abs(w[name] - mean) <= 1e-6 * Math.abs(mean),
        `${name} at step ${w.step}: ${w[name]} vs ${mean}`,
      );
    }
    first = w.step;
  }
  assertSameBits(await tensorsOf(every), await tensorsOf(windowed), "logging period");
  for (const d of [every, windowed]) await Deno.remove(d, { recursive: true });
});

Deno.test("a NaN loss stops training with the step number and keeps the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const good = await source();
  await train({ dir, source: good, cfg: TINY, quiet: true });
  const before = await tensorsOf(dir);
  const poisoned = { ...good, images: good.images.map(() => NaN) };
  await assert.rejects(
    () => train({ dir, source: poisoned, cfg: { ...TINY, epochs: 2 }, quiet: true, resume: true }),
    (e: Error) =>
      e instanceof NanLossError && /NaN at step 6; the last good checkpoint is kept/.test(e.message),
  );
  assertSameBits(before, await tensorsOf(dir), "after NaN");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a resume drops the metrics a killed run logged after its checkpoint, and records its state", async () => {
  const straight = await Deno.makeTempDir(), resumed = await Deno.makeTempDir();
  await train({ dir: straight, source: await source(), cfg: { ...TINY, epochs: 2 }, quiet: true });
  await train({ dir: resumed, source: await source(), cfg: TINY, quiet: true });
  assert.equal((await readRunState(resumed))?.state, "complete");
  // A process killed mid-epoch 2 logged steps 5 and 6 (one line cut short) after the checkpoint of step 4.
  const junk = '{"step":5,"epoch":2,"lossD":1}\n{"step":6,"epoch":2,"lossD":1}\n{"step":7,"ep';
  await Deno.writeTextFile(`${resumed}/metrics.jsonl`, junk, { append: true });
  await train({
    dir: resumed,
    source: await source(),
    cfg: { ...TINY, epochs: 2 },
    quiet: true,
    resume: true,
  });
  const steps = async (dir: string) =>
    (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) => JSON.parse(l).step);
  assert.deepEqual(await steps(resumed), await steps(straight), "each step logged once, as without the kill");
  const state = (await readRunState(resumed))!;
  assert.deepEqual([state.task, state.state, state.step, state.totalSteps], ["train", "complete", 8, 8]);
  for (const d of [straight, resumed]) await Deno.remove(d, { recursive: true });
});

Deno.test("a resume without a checkpoint says so; a failed run records its error", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    async () => train({ dir, source: await source(), cfg: TINY, quiet: true, resume: true }),
    /no checkpoint\.safetensors to resume from \(the run stopped before its first checkpoint/,
  );
  await assert.rejects(Deno.stat(`${dir}/state.json`), "nothing written");
  const good = await source();
  const poisoned = { ...good, images: good.images.map(() => NaN) };
  await assert.rejects(() => train({ dir, source: poisoned, cfg: TINY, quiet: true }), NanLossError);
  const state = (await readRunState(dir))!;
  assert.equal(state.state, "failed");
  assert.match(state.message!, /NaN at step \d+/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a run killed with SIGKILL resumes from its last complete checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const script = new URL("../scripts/train.ts", import.meta.url).pathname;
  const args = [
    "run",
    "-A",
    script,
    ...TINY_TRAIN_ARGS,
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, "--batch", "8", "--epochs", "1000", "--out", dir, "--quiet"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Wait for two checkpoints, then kill mid-epoch.
  let seen = 0;
  for (let i = 0; i < 600 && seen < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const metrics = await Deno.readTextFile(`${dir}/metrics.jsonl`).catch(() => "");
    seen = metrics.split("\n").filter((l) => l.includes('"step":')).length >= 10 ? 2 : 0;
  }
  child.kill("SIGKILL");
  await child.status;
  await child.stderr.cancel();
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.ok(names.includes("checkpoint.safetensors"), `files: ${names}`);
  const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  const state = await readCheckpoint(dir, cfg); // parses completely: never half-written
  assert.ok(state.step > 0 && state.stepInEpoch === 0, `resumable at step ${state.step}`);
  const resume = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--resume", dir, "--epochs", String(state.epoch + 1), "--quiet"],
  }).output();
  assert.equal(resume.code, 0, new TextDecoder().decode(resume.stderr));
  const after = await readCheckpoint(dir, cfg);
  assert.equal(after.epoch, state.epoch + 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bad input fails with clear messages", async () => {
  const dir = await Deno.makeTempDir();
  const o = { size: 64, patchesPerImage: 2, seed: 0 };
  await assert.rejects(() => loadTrainingSource(`png:${dir}/missing`, o), /missing/);
  await assert.rejects(() => loadTrainingSource(`png:${dir}`, o), /no \.png files/);
  await Deno.writeTextFile(`${dir}/not-an-image.png`, "hello");
  await assert.rejects(() => loadTrainingSource(`png:${dir}`, o), /not-an-image\.png is not a readable PNG/);
  const rgb = encode({ width: 80, height: 80, data: new Uint8Array(80 * 80 * 3), channels: 3 });
  await Deno.writeFile(`${dir}/not-an-image.png`, rgb);
  await assert.rejects(() => loadTrainingSource(`png:${dir}`, o), /not-an-image\.png has 3 channels \(RGB\)/);
  await Deno.writeFile(
    `${dir}/not-an-image.png`,
    encode({ width: 40, height: 80, data: new Uint8Array(3200), channels: 1 }),
  );
  await assert.rejects(() => loadTrainingSource(`png:${dir}`, o), /is 40×80, smaller than the 64×64 patch/);
  // A Fashion-MNIST folder whose images are all of class 0: class 3 is empty.
  const idx = (magic: number, dims: number[], body: Uint8Array) => {
    const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
    head.setUint32(0, magic);
    dims.forEach((d, i) => head.setUint32(4 + 4 * i, d));
    return new Uint8Array([...new Uint8Array(head.buffer), ...body]);
  };
  await Deno.writeFile(`${dir}/train-images-idx3-ubyte`, idx(0x803, [2, 28, 28], new Uint8Array(2 * 784)));
  await Deno.writeFile(`${dir}/train-labels-idx1-ubyte`, idx(0x801, [2], new Uint8Array(2)));
  await assert.rejects(
    () => loadTrainingSource("fmnist:3", { ...o, fmnistDir: dir }),
    /no images of class 3/,
  );
  const src = await source();
  const tooFew = { ...src, count: 4, images: src.images.slice(0, 4 * 32 * 32) };
  await assert.rejects(
    () => train({ dir, source: tooFew, cfg: TINY, quiet: true }),
    /fewer than one batch of 8/,
  );
  await assert.rejects(
    () =>
      train({
        dir,
        source: src,
        cfg: { ...TINY, model: { ...TINY.model, size: 64 } },
        quiet: true,
      }),
    /data images are 32×32, the model expects 64×64/,
  );
  await Deno.remove(dir, { recursive: true });
});
