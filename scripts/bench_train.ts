// `deno task bench train [--size 32|64] [--batch N] [--width W] [--iters N] [--tfjs-iters N] [--no-tfjs]
// [--no-wasm] [--no-torch] [--markdown FILE]`: images/s of one DCGAN training step (anogan/train.ts's trainStep:
// D on a real batch and G(z), then G through the updated D, Adam on both) through this runtime, the
// same step written with TensorFlow.js 4.22 ops (WebGPU on the same adapter, and wasm where it has the
// kernels) and PyTorch (scripts/bench_train_torch.py: CPU, and CUDA where there is one). One
// first-use step (shader compilation included) and the median of --iters more (--tfjs-iters for
// TensorFlow.js, whose full-size steps take minutes on a CPU adapter); ours and TensorFlow.js WebGPU
// take turns step by step, so that a shared machine's load falls on both alike. JSON goes to
// bench/results/; --markdown FILE puts the row into FILE's "## Training" table.
//
// The helpers below (the TensorFlow.js DCGAN, the PyTorch call, the markdown table) are shared
// with scripts/bench_mapping.ts.

import { parseArgs } from "node:util";
import * as T from "../core/mod.ts";
import type { Dcgan, DcganConfig } from "../anogan/dcgan.ts";
import { createTrainState, TRAIN_DEFAULTS, type TrainConfig, trainStep } from "../anogan/train.ts";
import { cpuName, median, runTorch, writeResults } from "./bench_util.ts";
import { loadTf, missingKernels, type Tf } from "./tfjs_setup.ts";

// ---- timing --------------------------------------------------------------------------------------

export interface StepTiming {
  /** Median of the timed calls. */
  ms: number;
  /** The first call: pipeline creation and shader compilation included. */
  firstMs: number;
  samplesMs: number[];
}

export function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, got ${value}`);
  return n;
}

export function imageSize(value: string | undefined): 32 | 64 {
  if (value !== "32" && value !== "64") throw new Error(`--size must be 32 or 64, got ${value}`);
  return Number(value) as 32 | 64;
}

export const parameterCount = (gan: Dcgan) =>
  [...gan.G.parameters(), ...gan.D.parameters()].reduce((n, p) => n + p.size, 0);

// ---- the DCGAN in TensorFlow.js ------------------------------------------------------------------

/** PyTorch's padding 2 for a 5×5 stride-2 conv (tfjs's "same" pads 1 before and 2 after). */
const PAD_2 = [[0, 0], [2, 2], [2, 2], [0, 0]];
const BN_EPS = 1e-5;

interface TfNorm {
  gamma: Tf;
  beta: Tf;
  runningMean: Tf;
  runningVar: Tf;
}

/** anogan/dcgan.ts's G and D in TensorFlow.js ops, NHWC; weights copied from one of our models. */
export interface TfDcgan {
  /** Trainable variables (empty when built frozen). */
  gVars: Tf[];
  dVars: Tf[];
  parameterCount: number;
  /** z [N, zDim] → [N, size, size, 1]; batch norm on batch statistics when `training`. */
  generate(z: Tf, training: boolean): Tf;
  /** x [N, size, size, 1] → logits [N] and f(x), the last conv block's features. */
  discriminate(x: Tf, training: boolean): { logits: Tf; features: Tf };
  dispose(): void;
}

/**
 * Builds the TensorFlow.js DCGAN with our model's weights, so that both compute the same function:
 * our conv weights are stored as tfjs wants them ([5,5,Cin,Cout]; transposed convs [5,5,Cout,Cin]),
 * linear weights [out,in] are transposed. Batch-norm running statistics are used in eval mode and
 * not updated in training mode (a few hundred values per layer, no measurable cost).
 */
export async function tfDcgan(tf: Tf, gan: Dcgan, trainable: boolean): Promise<TfDcgan> {
  const gVars: Tf[] = [], dVars: Tf[] = [], all: Tf[] = [];
  let parameterCount = 0;
  /** A copy of one of our tensors; a parameter (`vars` given) becomes a variable when `trainable`. */
  const load = async (t: T.Tensor, vars: Tf[] | null, transpose = false): Promise<Tf> => {
    const host = await t.read();
    let value = tf.tidy(() => {
      const x = tf.tensor(host, t.shape);
      return transpose ? tf.transpose(x) : x;
    });
    if (vars) {
      parameterCount += value.size;
      if (trainable) {
        const v = tf.variable(value);
        value.dispose();
        vars.push(value = v);
      }
    }
    all.push(value);
    return value;
  };
  const linear = async (l: T.Linear, into: Tf[]) => ({
    w: await load(l.weight, into, true),
    b: l.bias ? await load(l.bias, into) : null,
  });
  const conv = async (c: T.Conv2d | T.ConvTranspose2d, into: Tf[]) => ({
    w: await load(c.weight, into),
    b: c.bias ? await load(c.bias, into) : null,
  });
  const norm = async (n: T.BatchNorm2d, into: Tf[]): Promise<TfNorm> => ({
    gamma: await load(n.weight, into),
    beta: await load(n.bias, into),
    runningMean: await load(n.runningMean, null),
    runningVar: await load(n.runningVar, null),
  });
  const { G, D } = gan;
  const project = await linear(G.project, gVars);
  const projectNorm = await norm(G.projectNorm, gVars);
  type TfConv = { w: Tf; b: Tf | null };
  const ups: TfConv[] = [], downs: TfConv[] = [], gNorms: TfNorm[] = [], dNorms: (TfNorm | null)[] = [];
  for (const up of G.ups) ups.push(await conv(up, gVars));
  for (const n of G.norms) gNorms.push(await norm(n, gVars));
  for (const down of D.downs) downs.push(await conv(down, dVars));
  for (const n of D.norms) dNorms.push(n ? await norm(n, dVars) : null);
  const classify = await linear(D.classify, dVars);

  const bn = (h: Tf, n: TfNorm, training: boolean) => {
    if (!training) return tf.batchNorm(h, n.runningMean, n.runningVar, n.beta, n.gamma, BN_EPS);
    const { mean, variance } = tf.moments(h, [0, 1, 2]); // biased variance, as ours and PyTorch's
    return tf.batchNorm(h, mean, variance, n.beta, n.gamma, BN_EPS);
  };
  const addBias = (h: Tf, b: Tf | null) => (b ? tf.add(h, b) : h);
  const c0 = G.project.outFeatures / 16;
  return {
    gVars,
    dVars,
    parameterCount,
    generate(z, training) {
      const n = z.shape[0];
      let h = tf.reshape(addBias(tf.matMul(z, project.w), project.b), [n, 4, 4, c0]);
      h = tf.relu(bn(h, projectNorm, training));
      ups.forEach((up, i) => {
        const [, height, width] = h.shape;
        const outShape = [n, 2 * height, 2 * width, up.w.shape[2]];
        h = addBias(tf.conv2dTranspose(h, up.w, outShape, 2, PAD_2), up.b);
        h = i < gNorms.length ? tf.relu(bn(h, gNorms[i], training)) : tf.tanh(h);
      });
      return h;
    },
    discriminate(x, training) {
      let h = x;
      downs.forEach((down, i) => {
        h = addBias(tf.conv2d(h, down.w, 2, PAD_2), down.b);
        const n = dNorms[i];
        if (n) h = bn(h, n, training);
        h = tf.leakyRelu(h, 0.2);
      });
      const flat = tf.reshape(h, [x.shape[0], -1]);
      const logits = tf.reshape(addBias(tf.matMul(flat, classify.w), classify.b), [x.shape[0]]);
      return { logits, features: h };
    },
    dispose: () => tf.dispose(all),
  };
}

// ---- PyTorch and the report ------------------------------------------------------------------------

/** "AMD EPYC …, 2 cores; llvmpipe (…)": the machine as the tables name it. */
export async function machineLine(adapter: string): Promise<string> {
  const cpu = await cpuName();
  return `${cpu}, ${navigator.hardwareConcurrency} cores; ${adapter}`;
}

export const ratio = (ours: number | null | undefined, other: number | null | undefined) =>
  ours && other ? `${ours >= other ? (ours / other).toFixed(1) : (ours / other).toPrecision(2)}×` : "—";
export const rate = (x: number | null | undefined) => (x ? x.toPrecision(3) : "—");

async function formatMarkdown(text: string): Promise<string> {
  const fmt = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "--line-width=110", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = fmt.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout } = await fmt.output();
  return `${(code === 0 ? new TextDecoder().decode(stdout) : text).trimEnd()}\n`;
}

/**
 * Puts `rows` into the table of FILE's `heading` section: a row replaces the one with the same first
 * cell, others are kept; the intro above the table is rewritten, notes below it are kept. The section
 * goes through `deno fmt`, so that the file stays as `deno task check` wants it.
 */
export async function upsertTableRows(
  path: string,
  heading: string,
  intro: string,
  header: string[],
  rows: string[][],
): Promise<void> {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    text = "# Benchmarks\n";
  }
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const start = text.indexOf(`\n${heading}\n`);
  const end = start < 0 ? -1 : text.indexOf("\n## ", start + 1);
  const old = start < 0 ? "" : text.slice(start + 1, end < 0 ? undefined : end + 1);
  const oldLines = old.split("\n");
  const tableStart = oldLines.findIndex((l) => l.startsWith("|"));
  let tableEnd = tableStart;
  while (tableEnd >= 0 && tableEnd < oldLines.length && oldLines[tableEnd].startsWith("|")) tableEnd++;
  const kept = new Map<string, string>();
  if (tableStart >= 0) {
    for (const l of oldLines.slice(tableStart + 2, tableEnd)) kept.set(l.split("|")[1].trim(), l);
  }
  for (const r of rows) kept.set(r[0], line(r));
  const notes = tableStart >= 0 ? oldLines.slice(tableEnd).join("\n").trim() : "";
  const section = await formatMarkdown([
    heading,
    "",
    intro,
    "",
    line(header),
    line(header.map(() => "---")),
    ...kept.values(),
    ...(notes ? ["", notes] : []),
    "",
  ].join("\n"));
  text = start < 0
    ? `${text.trimEnd()}\n\n${section}`
    : text.slice(0, start + 1) + section + (end < 0 ? "" : text.slice(end));
  Deno.writeTextFileSync(path, text);
}

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

function oursRunner(cfg: TrainConfig, real: Float32Array): TrainRunner {
  const s = createTrainState(cfg);
  return {
    parameters: parameterCount(s.gan),
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
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "64" },
      batch: { type: "string", default: "64" },
      width: { type: "string", default: "64" },
      iters: { type: "string", default: "3" },
      "tfjs-iters": { type: "string" },
      "no-tfjs": { type: "boolean", default: false },
      "no-wasm": { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      markdown: { type: "string" },
    },
  });
  const model: DcganConfig = {
    size: imageSize(values.size),
    width: positiveInt("width", values.width),
    zDim: 100,
  };
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
    : await runTorch("./bench_train_torch.py", [...torchArgs, "--iters", `${iters}`]);
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
  console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|\n| ${row.join(" | ")} |`);
}
