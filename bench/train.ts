// `deno task bench train`: images/s of one DCGAN training step (anogan/train.ts's trainStep) through this
// runtime, the same step written in TensorFlow.js ops (bench/tfjs.ts's DCGAN, with our initial weights)
// and PyTorch (bench/train_torch.py). Ours and TensorFlow.js WebGPU take turns step by step, so that a
// shared machine's load falls on both alike.

import * as T from "../core/mod.ts";
import type { Dcgan } from "../anogan/dcgan.ts";
import { createTrainState, TRAIN_DEFAULTS, type TrainConfig, trainStep } from "../anogan/train.ts";
import {
  benchModel,
  machineLine,
  markdownTable,
  median,
  MODEL_BENCH_FLAGS,
  parseFlags,
  positiveInt,
  rate,
  ratio,
  runTorch,
  upsertTableRows,
  writeResults,
} from "./util.ts";
import { loadTf, missingKernels, type Tf, tfDcgan } from "./tfjs.ts";
import { profileStep, profileTable } from "./profile.ts";

const USAGE = `deno task bench train [--size 32|64] [--batch 64] [--width 64] [--iters 3] [--tfjs-iters N]
                       [--no-tfjs] [--no-wasm] [--no-torch] [--markdown FILE] [--profile]
  Images/s of one DCGAN training step (D on a real batch and G(z), then G through the updated D, Adam
  on both) through this runtime, TensorFlow.js 4.22 (WebGPU on the same adapter, and wasm where it has
  the kernels) and PyTorch (CPU, and CUDA where there is one). One first-use step (shader compilation
  included), then the median of --iters more; --tfjs-iters for TensorFlow.js, whose full-size steps
  take minutes on a CPU adapter. JSON goes to bench/results/; --markdown FILE puts the row into FILE's
  "## Training" table. --profile then breaks one step of ours down by kernel family (conv forward,
  input and weight gradients, batch norm, elementwise, reductions, matmul, Adam, host recording): ms,
  share of the measured step, GFLOP/s or GB/s, each dispatch timed by timestamp queries where the adapter
  has them, else each family replayed alone, --iters times (bench/profile.ts);
  it prints a second table and writes bench/results/train-profile-*.json.`;

interface StepTiming {
  /** Median of the timed calls. */
  ms: number;
  /** The first call: pipeline creation and shader compilation included. */
  firstMs: number;
  samplesMs: number[];
}

const parameterCount = (gan: Dcgan) =>
  [...gan.G.parameters(), ...gan.D.parameters()].reduce((n, p) => n + p.size, 0);

// ---- the training step three ways -----------------------------------------------------------------

interface TrainFigures extends StepTiming {
  imagesPerSecond: number;
  /** PyTorch's device name. */
  device?: string;
  parameters: number;
  lastLosses: [number, number];
}

/** One contender's training step, ready to run. */
interface TrainRunner {
  parameters: number;
  /** Runs one step and waits for it to finish; returns the losses of D and G. */
  step(): Promise<[number, number]>;
  dispose(): void;
}

/** Ours can also record a step without waiting for it (--profile): it returns what to dispose after. */
function oursRunner(cfg: TrainConfig, real: Float32Array): TrainRunner & { record(): () => void } {
  const s = createTrainState(cfg);
  return {
    parameters: parameterCount(s.gan),
    record() {
      const t = trainStep(s, cfg, real);
      return () => Object.values(t).forEach((x) => x.dispose());
    },
    async step() {
      const t = trainStep(s, cfg, real);
      const losses: [number, number] = [await t.lossD.item(), await t.lossG.item()]; // waits for the step
      for (const x of Object.values(t)) x.dispose();
      return losses;
    },
    dispose() {},
  };
}

async function tfRunner(tf: Tf, cfg: TrainConfig, real: Float32Array): Promise<TrainRunner | string> {
  const missing = missingKernels(tf, ["Conv2DBackpropFilter", "Conv2DBackpropInput"]);
  if (missing.length) return `no ${missing.join(", ")} kernel`;
  const m = await tfDcgan(tf, createTrainState(cfg).gan, true);
  const { size, zDim } = cfg.model;
  const x = tf.tensor(real, [cfg.batch, size, size, 1]);
  const adam = () => tf.train.adam(cfg.lr, cfg.beta1, cfg.beta2);
  const optD = adam(), optG = adam();
  const bce = (logits: Tf, label: number) =>
    tf.losses.sigmoidCrossEntropy(tf.fill(logits.shape, label), logits);
  return {
    parameters: m.parameterCount,
    // G's update re-runs G's forward: a tfjs gradient tape lives inside one minimize() call.
    async step() {
      const z = tf.randomUniform([cfg.batch, zDim], -1, 1);
      const fake = tf.tidy(() => m.generate(z, true));
      const lossD = optD.minimize(
        () => tf.add(bce(m.discriminate(x, true).logits, 1), bce(m.discriminate(fake, true).logits, 0)),
        true,
        m.dVars,
      );
      const lossG = optG.minimize(
        () => bce(m.discriminate(m.generate(z, true), true).logits, 1),
        true,
        m.gVars,
      );
      const losses: [number, number] = [(await lossD.data())[0], (await lossG.data())[0]];
      tf.dispose([z, fake, lossD, lossG]);
      return losses;
    },
    dispose() {
      m.dispose();
      tf.dispose(x);
      optD.dispose();
      optG.dispose();
    },
  };
}

/**
 * Times runners in turns: each one's first step (the warm-up), then rounds of one timed step of every
 * runner with steps left, so that the load of a shared machine falls on all of them alike.
 */
async function timeInTurns(runs: { runner: TrainRunner; iters: number }[], batch: number) {
  const timed = async (runner: TrainRunner) => {
    const t = performance.now();
    const losses = await runner.step();
    return { ms: performance.now() - t, losses };
  };
  const firsts: { ms: number; losses: [number, number] }[] = [];
  for (const { runner } of runs) firsts.push(await timed(runner));
  const samples: number[][] = runs.map(() => []);
  const lastLosses = firsts.map((f) => f.losses);
  for (let round = 0; round < Math.max(...runs.map((r) => r.iters)); round++) {
    for (const [i, { runner, iters }] of runs.entries()) {
      if (round >= iters) continue;
      const { ms, losses } = await timed(runner);
      samples[i].push(ms);
      lastLosses[i] = losses;
    }
  }
  return runs.map(({ runner }, i): TrainFigures => ({
    ms: median(samples[i]),
    firstMs: firsts[i].ms,
    samplesMs: samples[i],
    imagesPerSecond: (batch / median(samples[i])) * 1000,
    parameters: runner.parameters,
    lastLosses: lastLosses[i],
  }));
}

export async function main(args: string[]): Promise<void> {
  const values = parseFlags(args, {
    ...MODEL_BENCH_FLAGS,
    batch: { type: "string", default: "64" },
    iters: { type: "string", default: "3" },
    "tfjs-iters": { type: "string" },
    profile: { type: "boolean", default: false },
  }, USAGE);
  if (!values) return;
  const model = benchModel(values);
  const batch = positiveInt("batch", values.batch), iters = positiveInt("iters", values.iters);
  const tfIters = values["tfjs-iters"] ? positiveInt("tfjs-iters", values["tfjs-iters"]) : iters;
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, data: "uniform noise", model, batch };
  const real = new T.Rng(7).uniform(batch * model.size * model.size, -1, 1);
  const label = `${model.size}×${model.size}, batch ${batch}, width ${model.width}`;

  const runtime = await T.init();
  const machine = await machineLine(runtime.gpu.description);
  console.error(`${label}; ${machine}`);
  // Ours takes turns with the first TensorFlow.js backend that runs (WebGPU); wasm, if it has the
  // kernels, runs after on its own.
  const oursRun = { runner: oursRunner(cfg, real), iters };
  let ours: TrainFigures | null = null;
  const tfjs: Record<string, TrainFigures | string> = {};
  const backends = values["no-tfjs"]
    ? []
    : values["no-wasm"]
    ? ["webgpu"] as const
    : ["webgpu", "wasm"] as const;
  for (const backend of backends) {
    try {
      const runner = await tfRunner(await loadTf(backend), cfg, real);
      if (typeof runner === "string") {
        tfjs[backend] = runner;
      } else {
        const tfRun = { runner, iters: tfIters };
        if (ours) [tfjs[backend]] = await timeInTurns([tfRun], batch);
        else [ours, tfjs[backend]] = await timeInTurns([oursRun, tfRun], batch);
        runner.dispose();
      }
    } catch (e) {
      tfjs[backend] = `failed: ${(e as Error).message.split("\n")[0]}`;
    }
    const r = tfjs[backend];
    console.error(`tfjs-${backend}: ${typeof r === "string" ? r : `${r.ms.toFixed(0)} ms/step`}`);
  }
  ours ??= (await timeInTurns([oursRun], batch))[0];
  console.error(`ours: ${ours.ms.toFixed(0)} ms/step, ${rate(ours.imagesPerSecond)} img/s`);
  const torchArgs = ["--size", `${model.size}`, "--width", `${model.width}`, "--batch", `${batch}`];
  const torch = values["no-torch"]
    ? null
    : await runTorch("./train_torch.py", [...torchArgs, "--iters", `${iters}`]);
  const torchCpu = torch?.cpu as TrainFigures | undefined,
    torchCuda = torch?.cuda as TrainFigures | undefined;

  // Rough equivalence: the same parameter count everywhere, finite losses.
  const counts = [ours, ...Object.values(tfjs), torchCpu].filter((r): r is TrainFigures =>
    typeof r === "object"
  )
    .map((r) => r.parameters);
  if (new Set(counts).size > 1) console.error(`warning: parameter counts differ: ${counts.join(", ")}`);
  for (const [who, r] of Object.entries({ ours, ...tfjs, torchCpu })) {
    if (typeof r === "object" && !r.lastLosses.every(Number.isFinite)) {
      console.error(`warning: ${who}'s losses are not finite: ${r.lastLosses}`);
    }
  }

  // The machine may be shared: the median is the figure, the best step (least disturbed) is beside it.
  const best = (r: TrainFigures | string | undefined) =>
    typeof r === "object" ? (batch / Math.min(...r.samplesMs)) * 1000 : null;
  const ips = (r: TrainFigures | string | undefined) => (typeof r === "object" ? r.imagesPerSecond : null);
  const cell = (r: TrainFigures | string | undefined) =>
    r === undefined ? "—" : typeof r === "string" ? r : `${rate(r.imagesPerSecond)} (${rate(best(r))})`;
  const ratios = (r: TrainFigures | string | undefined) =>
    `${ratio(ours.imagesPerSecond, ips(r))} (${ratio(best(ours), best(r))})`;
  const date = new Date().toISOString().slice(0, 10);
  const row = [
    label,
    cell(ours),
    cell(tfjs.webgpu),
    ratios(tfjs.webgpu),
    cell(tfjs.wasm),
    cell(torchCpu),
    ratios(torchCpu),
    torchCuda ? `${cell(torchCuda)}, ${torchCuda.device}` : "—",
    `${iters}${tfIters !== iters ? ` (tfjs ${tfIters})` : ""}`,
    `${ours.parameters}`,
    date,
    machine,
  ];
  const results = { label, cfg, machine, ours, tfjs, torch };
  console.error(`full results: ${await writeResults("train", results)}`);
  const header = [
    "configuration",
    "ours img/s",
    "tfjs-webgpu img/s",
    "ours ÷ tfjs-webgpu",
    "tfjs-wasm img/s",
    "PyTorch CPU img/s",
    "ours ÷ PyTorch CPU",
    "PyTorch CUDA img/s",
    "timed steps",
    "parameters",
    "date",
    "machine; adapter",
  ];
  if (values.markdown) {
    await upsertTableRows(
      values.markdown,
      "## Training",
      "`deno task bench train --size S --batch B --width W --markdown BENCHMARKS.md` writes one row per " +
        "configuration: images/s of one full DCGAN step (anogan/train.ts's trainStep: D on the real batch " +
        "and G(z), then G through the updated D, Adam on both): the median of the timed steps after one " +
        "first-use step, and in brackets the best step (the machine may be shared); ours and TensorFlow.js " +
        "WebGPU take turns step by step. TensorFlow.js 4.22 runs the same step in tfjs ops on the same adapter, PyTorch " +
        "1.13 on the CPU (`OPENBLAS_NUM_THREADS=1`, one torch thread per core) and on CUDA where present.",
      header,
      [row],
    );
  }
  console.log(markdownTable(header, [row]));

  // After everything above is timed and written: a replay overwrites the step's buffers (bench/profile.ts).
  if (values.profile) {
    console.error(`profiling one step of ours (${label})…`);
    const profile = await profileStep(() => oursRun.runner.record(), iters);
    const path = await writeResults("train-profile", { label, cfg, machine, benchMs: ours.ms, profile });
    console.error(`profile: ${path}`);
    console.log(`\nProfile of one training step, ${label}; ${machine}\n`);
    console.log(profileTable(profile));
    console.log(
      `The benchmark's own figure for the step above: ${
        ours.ms.toFixed(1)
      } ms (median, loss readbacks included).`,
    );
  }
}
