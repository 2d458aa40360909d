// `deno task bench mapping`: latent-mapping throughput in images·steps/s per batch size. Ours is
// anogan/mapping.ts's mapToLatent, per step: (time of Γ = N steps − time of Γ = 0) / N, which leaves out
// f(x) and the final scoring pass. TensorFlow.js (bench/tfjs.ts's DCGAN) and PyTorch
// (bench/mapping_torch.py) run the same z-step. Before timing, TensorFlow.js WebGPU's z gradient is
// checked against ours on a small model with the same weights, with its default matmul and with
// WEBGPU_MATMUL_PROGRAM_TYPE = 3 (the setting the benchmark uses).

import * as T from "../core/mod.ts";
import { createDcgan, type Dcgan, type DcganConfig, dcganInit } from "../anogan/dcgan.ts";
import {
  foldFrozen,
  freeze,
  initialLatents,
  MAPPING_DEFAULTS,
  mappingTerms,
  mapToLatent,
} from "../anogan/mapping.ts";
import { mappingLoss } from "../anogan/losses.ts";
import {
  benchModel,
  machineLine,
  markdownTable,
  MODEL_BENCH_FLAGS,
  parseFlags,
  positiveInt,
  rate,
  ratio,
  runTorch,
  upsertTableRows,
  UsageError,
  writeResults,
} from "./util.ts";
import {
  loadTf,
  type Tf,
  type TfDcgan,
  tfDcgan,
  TFJS_DEFAULT_MATMUL_PROGRAM,
  TFJS_SAFE_MATMUL_PROGRAM,
} from "./tfjs.ts";
import { profileStep, profileTable } from "./profile.ts";

const USAGE = `deno task bench mapping [--size 32|64] [--batches 1,16,64,256] [--width 64] [--steps N[,N…]]
                         [--tfjs-batches LIST] [--tfjs-steps N[,N…]] [--no-tfjs] [--no-wasm] [--no-torch]
                         [--markdown FILE] [--profile]
  Latent-mapping throughput (images·steps/s) per batch size: this runtime's mapToLatent, and the same
  z-step in TensorFlow.js 4.22 (WebGPU on the same adapter, and wasm) and PyTorch (CPU, and CUDA where
  there is one): G and D frozen, batch norm in eval mode, the gradient with respect to z alone, Adam on
  z, z clamped to [−1, 1]; one warm-up step, then N steps timed together (--steps: one count, or one
  per batch size). JSON goes to bench/results/; --markdown FILE puts the rows into FILE's "## Mapping"
  table. --profile then breaks one z-step of ours per batch size down by kernel family (conv forward,
  input gradient, batch norm, elementwise, reductions, matmul, Adam, host recording): ms, share of the
  measured step, GFLOP/s or GB/s, each dispatch timed by timestamp queries where the adapter has them,
  else each family replayed alone, --steps times (bench/profile.ts); it prints
  one more table per batch size and writes bench/results/mapping-profile-*.json.`;

const { lambda: LAMBDA, lr: LR, betas: BETAS } = MAPPING_DEFAULTS;

interface MappingFigures {
  msPerStep: number;
  firstMs: number;
  steps: number;
  imageStepsPerSecond: number;
}

const figures = (msPerStep: number, firstMs: number, steps: number, batch: number): MappingFigures => ({
  msPerStep,
  firstMs,
  steps,
  imageStepsPerSecond: (batch / msPerStep) * 1000,
});

function createModel(model: DcganConfig, seed: number): Dcgan {
  const gen = new T.Rng(seed);
  const gan = createDcgan(model, gen);
  dcganInit(gan, gen);
  freeze(gan);
  return gan;
}

const queryImages = (batch: number, size: number) => new T.Rng(11).uniform(batch * size * size, -1, 1);

async function benchOurs(gan: Dcgan, batch: number, steps: number): Promise<MappingFigures> {
  const size = gan.G.cfg.size;
  const images = queryImages(batch, size);
  const indices = Array.from({ length: batch }, (_, i) => i);
  const mapFor = async (n: number) => {
    const t = performance.now();
    await mapToLatent(gan, images, indices, { steps: n });
    return performance.now() - t;
  };
  const firstMs = await mapFor(1);
  const setupMs = await mapFor(0);
  const totalMs = await mapFor(steps);
  return figures(Math.max(totalMs - setupMs, 1e-3) / steps, firstMs, steps, batch);
}

/**
 * --profile: one z-step of mapToLatent, recorded on its own (the body of mapToLatent's loop, with its
 * defaults: AnoGAN's loss, Adam on z, z clamped, on G and D with batch norm folded in), to be profiled
 * step by step; `dispose` frees it all.
 */
function oursMappingStep(model: Dcgan, batch: number) {
  const gan = foldFrozen(model);
  const { size, zDim } = gan.G.cfg;
  const x = T.Tensor.from(queryImages(batch, size), [batch, size, size, 1]).keep();
  const fx = T.step(() => gan.D.forward(x).features).keep();
  const indices = Array.from({ length: batch }, (_, i) => i);
  const z = T.Tensor.from(initialLatents(indices, zDim, MAPPING_DEFAULTS.seed), [batch, zDim]).keep();
  z.requiresGrad = true;
  const opt = new T.Adam([z], { lr: LR, betas: BETAS });
  return {
    record(): () => void {
      T.step(() => {
        opt.zeroGrad();
        const { residual, discrimination } = mappingTerms(gan, "anogan", x, fx, z);
        T.backward(T.sum(mappingLoss(residual, discrimination, LAMBDA)));
        opt.step();
        T.assign(z, T.noGrad(() => T.clamp(z, -1, 1)));
      });
      return () => {};
    },
    dispose() {
      opt.zeroGrad();
      for (const t of opt.stateTensors().values()) t.dispose();
      for (const t of [x, fx, z]) t.dispose();
      gan.dispose();
    },
  };
}

/** The AnoGAN loss (eq. 5) summed over the batch, as a function of z, in tfjs ops. */
function tfMappingLoss(tf: Tf, m: TfDcgan, x: Tf, fx: Tf) {
  return (z: Tf) => {
    const g = m.generate(z, false);
    const residual = tf.sum(tf.abs(tf.sub(x, g)));
    const discrimination = tf.sum(tf.abs(tf.sub(fx, m.discriminate(g, false).features)));
    return tf.add(tf.mul(residual, 1 - LAMBDA), tf.mul(discrimination, LAMBDA));
  };
}

async function benchTf(tf: Tf, gan: Dcgan, batch: number, steps: number): Promise<MappingFigures> {
  const size = gan.G.cfg.size;
  const m = await tfDcgan(tf, gan, false);
  const x = tf.tensor(queryImages(batch, size), [batch, size, size, 1]);
  const fx = tf.tidy(() => m.discriminate(x, false).features);
  const z = tf.variable(tf.randomUniform([batch, gan.G.cfg.zDim], -1, 1));
  const opt = tf.train.adam(LR, BETAS[0], BETAS[1]);
  const loss = tfMappingLoss(tf, m, x, fx);
  const step = () => {
    opt.minimize(() => loss(z), false, [z]);
    tf.tidy(() => z.assign(tf.clipByValue(z, -1, 1)));
  };
  const run = async (n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) step();
    await z.data(); // waits for the queued steps
    return performance.now() - t;
  };
  const firstMs = await run(1);
  const totalMs = await run(steps);
  tf.dispose([x, fx, z]);
  opt.dispose();
  m.dispose();
  return figures(totalMs / steps, firstMs, steps, batch);
}

/** Relative error ‖a − b‖ / ‖b‖. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * TensorFlow.js WebGPU's z gradient against ours, same weights, same x and z. The default matmul
 * picks split-K for G's projection backward when K = 16·C0 ≥ 2000 and B·zDim > 128: width 32 at 32×32
 * (K = 2048) and batch 2 hit it.
 */
async function checkZGradient(tf: Tf): Promise<Record<string, number>> {
  const model: DcganConfig = { size: 32, width: 32, zDim: 100 };
  const batch = 2;
  const gan = createModel(model, 3);
  const images = queryImages(batch, model.size);
  const zData = new T.Rng(5).uniform(batch * model.zDim, -1, 1);

  const z = T.Tensor.from(zData, [batch, model.zDim]).keep();
  z.requiresGrad = true;
  T.step(() => {
    const x = T.Tensor.from(images, [batch, model.size, model.size, 1]);
    const fx = T.noGrad(() => gan.D.forward(x).features);
    const g = gan.G.forward(z);
    const residual = T.l1Sum(x, g, [1, 2, 3]);
    const discrimination = T.l1Sum(fx, gan.D.forward(g).features, [1, 2, 3]);
    T.backward(T.sum(T.add(T.scale(residual, 1 - LAMBDA), T.scale(discrimination, LAMBDA))));
  });
  const ours = await z.grad!.read();
  z.grad!.dispose();
  z.dispose();

  const m = await tfDcgan(tf, gan, false);
  const x = tf.tensor(images, [batch, model.size, model.size, 1]);
  const fx = tf.tidy(() => m.discriminate(x, false).features);
  const loss = tfMappingLoss(tf, m, x, fx);
  const errors: Record<string, number> = {};
  for (const program of [TFJS_DEFAULT_MATMUL_PROGRAM, TFJS_SAFE_MATMUL_PROGRAM]) {
    tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", program);
    const grad = tf.tidy(() => tf.grad(loss)(tf.tensor(zData, [batch, model.zDim])));
    errors[`WEBGPU_MATMUL_PROGRAM_TYPE=${program}`] = relativeError(await grad.data(), ours);
    grad.dispose();
  }
  tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", TFJS_SAFE_MATMUL_PROGRAM);
  tf.dispose([x, fx]);
  m.dispose();
  return errors;
}

/** "5" or "5,5,3,2" (one per batch size) → one count per batch size. */
function perBatch(flag: string, value: string, batches: number[]): number[] {
  const counts = value.split(",").map((s) => positiveInt(flag, s));
  if (counts.length === 1) return batches.map(() => counts[0]);
  if (counts.length !== batches.length) {
    throw new UsageError(`--${flag} needs one count or one per batch size (${batches.length}), got ${value}`);
  }
  return counts;
}

export async function main(args: string[]): Promise<void> {
  const values = parseFlags(args, {
    ...MODEL_BENCH_FLAGS,
    batches: { type: "string", default: "1,16,64,256" },
    steps: { type: "string", default: "5" },
    "tfjs-batches": { type: "string" },
    "tfjs-steps": { type: "string" },
    profile: { type: "boolean", default: false },
  }, USAGE);
  if (!values) return;
  const model = benchModel(values);
  const batches = values.batches.split(",").map((b) => positiveInt("batches", b));
  const steps = perBatch("steps", values.steps, batches);
  const tfBatches = values["tfjs-batches"]
    ? values["tfjs-batches"].split(",").map((b) => positiveInt("tfjs-batches", b))
    : batches;
  const tfSteps = perBatch("tfjs-steps", values["tfjs-steps"] ?? values.steps, tfBatches);
  const label = (b: number) => `${model.size}×${model.size}, batch ${b}, width ${model.width}`;

  const runtime = await T.init();
  const machine = await machineLine(runtime.gpu.description);
  console.error(`mapping ${model.size}×${model.size}, width ${model.width}; ${machine}`);
  const gan = createModel(model, 0);
  const ours = new Map<number, MappingFigures>();
  for (const [i, b] of batches.entries()) {
    ours.set(b, await benchOurs(gan, b, steps[i]));
    console.error(`ours batch ${b}: ${ours.get(b)!.msPerStep.toFixed(0)} ms/step`);
  }

  const tfjs: Record<string, Map<number, MappingFigures | string>> = {};
  let gradientCheck: Record<string, number> | string | null = null;
  if (!values["no-tfjs"]) {
    for (const backend of values["no-wasm"] ? ["webgpu"] as const : ["webgpu", "wasm"] as const) {
      const rows = tfjs[backend] = new Map();
      try {
        const tf = await loadTf(backend);
        if (backend === "webgpu") {
          gradientCheck = await checkZGradient(tf).catch((e) => `failed: ${(e as Error).message}`);
          console.error(`tfjs-webgpu z gradient vs ours, relative error: ${JSON.stringify(gradientCheck)}`);
        }
        for (const [i, b] of tfBatches.entries()) {
          rows.set(b, await benchTf(tf, gan, b, tfSteps[i]));
          const r = rows.get(b);
          console.error(
            `tfjs-${backend} batch ${b}: ${typeof r === "string" ? r : `${r.msPerStep.toFixed(0)} ms/step`}`,
          );
        }
      } catch (e) {
        const message = `failed: ${(e as Error).message.split("\n")[0]}`;
        console.error(`tfjs-${backend}: ${message}`);
        for (const b of tfBatches) if (!rows.has(b)) rows.set(b, message);
      }
    }
  }
  const torch = values["no-torch"] ? null : await runTorch("./mapping_torch.py", [
    ...["--size", `${model.size}`, "--width", `${model.width}`],
    ...["--batches", batches.join(","), "--steps", steps.join(",")],
  ]);
  type TorchRun = { device: string; batches: Record<string, MappingFigures> } | undefined;
  const torchCpu = torch?.cpu as TorchRun, torchCuda = torch?.cuda as TorchRun;

  const ips = (
    r: MappingFigures | string | undefined,
  ) => (typeof r === "object" ? r.imageStepsPerSecond : null);
  const cell = (r: MappingFigures | string | undefined) =>
    r === undefined ? "not run" : typeof r === "string" ? r : rate(r.imageStepsPerSecond);
  const date = new Date().toISOString().slice(0, 10);
  const rows = batches.map((b, i) => {
    const o = ours.get(b)!.imageStepsPerSecond;
    const webgpu = tfjs.webgpu?.get(b), wasm = tfjs.wasm?.get(b);
    const cpu = torchCpu?.batches[b], cuda = torchCuda?.batches[b];
    const tfIndex = tfBatches.indexOf(b);
    return [
      label(b),
      rate(o),
      cell(webgpu),
      ratio(o, ips(webgpu)),
      cell(wasm),
      ratio(o, ips(wasm)),
      rate(cpu?.imageStepsPerSecond),
      ratio(o, cpu?.imageStepsPerSecond),
      cuda ? `${rate(cuda.imageStepsPerSecond)} (${torchCuda!.device})` : "—",
      `${steps[i]} / ${tfIndex >= 0 ? tfSteps[tfIndex] : "—"} / ${steps[i]}`,
      date,
      machine,
    ];
  });
  const results = {
    model,
    machine,
    gradientCheck,
    ours: Object.fromEntries(ours),
    tfjs: Object.fromEntries(Object.entries(tfjs).map(([k, v]) => [k, Object.fromEntries(v)])),
    torch,
  };
  console.error(`full results: ${await writeResults("mapping", results)}`);
  const header = [
    "configuration",
    "ours img·steps/s",
    "tfjs-webgpu img·steps/s",
    "ours ÷ tfjs-webgpu",
    "tfjs-wasm img·steps/s",
    "ours ÷ tfjs-wasm",
    "PyTorch CPU img·steps/s",
    "ours ÷ PyTorch CPU",
    "PyTorch CUDA img·steps/s",
    "timed steps (ours / tfjs / PyTorch)",
    "date",
    "machine; adapter",
  ];
  const check = typeof gradientCheck === "object" && gradientCheck
    ? Object.entries(gradientCheck).map(([k, v]) => `${k}: ${v.toExponential(1)}`).join(", ")
    : gradientCheck ?? "not run";
  if (values.markdown) {
    await upsertTableRows(
      values.markdown,
      "## Mapping",
      "`deno task bench mapping --size S --batches 1,16,64,256 --markdown BENCHMARKS.md` writes one row per " +
        "configuration: images·steps/s of the AnoGAN z-step (G and D frozen, batch norm in eval mode, " +
        "gradient to z alone, Adam on z, λ = 0.1). Ours is anogan/mapping.ts's mapToLatent, per step " +
        "(Γ = N run minus Γ = 0 run); TensorFlow.js 4.22 and PyTorch 1.13 run the same step, one warm-up " +
        "then N timed together. TensorFlow.js WebGPU's z gradient against ours on a 32×32, width-32, " +
        `batch-2 model with the same weights, relative error (latest run): ${check}.`,
      header,
      rows,
    );
  }
  console.log(markdownTable(header, rows));

  // After everything above is timed and written (G and D are frozen: a replay writes only the
  // profiled step's own buffers and the pool's free ones; bench/profile.ts).
  if (values.profile) {
    const profiles = [];
    for (const [i, b] of batches.entries()) {
      console.error(`profiling one mapping step of ours (${label(b)})…`);
      const step = oursMappingStep(gan, b);
      try {
        const profile = await profileStep(() => step.record(), steps[i]);
        profiles.push({ label: label(b), batch: b, benchMsPerStep: ours.get(b)!.msPerStep, profile });
        console.log(`\nProfile of one mapping step, ${label(b)}; ${machine}\n`);
        console.log(profileTable(profile));
        console.log(
          `The benchmark's own figure for the step above: ${ours.get(b)!.msPerStep.toFixed(1)} ms ` +
            "((Γ = N run − Γ = 0 run) / N).",
        );
      } finally {
        step.dispose();
      }
    }
    console.error(`profile: ${await writeResults("mapping-profile", { model, machine, profiles })}`);
  }
}
