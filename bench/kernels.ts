// `deno task bench kernels`: every layer of the paper's 64×64 DCGAN — forward, input gradient and weight
// gradient in ms and GFLOP/s — through this runtime's kernels, through TensorFlow.js 4.22 and PyTorch
// CPU (bench/kernels_torch.py), and the whole G forward of one DCGAN (anogan/dcgan.ts, bench/tfjs.ts's
// copy, bench/train_torch.py's model). Medians after warm-up; first-use time (shader compile included)
// reported separately.

import * as T from "../core/mod.ts";
import { matmulKernel } from "../core/ops/matmul.ts";
import {
  conv2dGeometry,
  convForwardKernel,
  convGradInputKernel,
  convGradWeightKernel,
  convTranspose2dGeometry,
} from "../core/ops/conv.ts";
import { createDcgan, type Dcgan, DCGAN_DEFAULTS, dcganInit } from "../anogan/dcgan.ts";
import { loadTf, type Tf, tfDcgan } from "./tfjs.ts";
import {
  cpuName,
  markdownTable,
  parseFlags,
  positiveInt,
  runTorch,
  upsertTableRows,
  UsageError,
  writeResults,
} from "./util.ts";

const USAGE =
  `deno task bench kernels [--batch 64] [--iters 3] [--layers A,B] [--no-tfjs] [--no-wasm] [--no-torch]
                         [--markdown FILE]
  Every layer of the paper's 64×64 DCGAN (forward, input gradient, weight gradient; ms and GFLOP/s)
  through this runtime's kernels, TensorFlow.js 4.22 (WebGPU on the same adapter, and wasm) and
  PyTorch (CPU, and CUDA where there is one), and the whole G forward. Medians of --iters after one
  warm-up; first-use time reported apart. --layers conv1,convT4: only the layers whose names contain one of these. JSON goes to
  bench/results/; --markdown FILE puts the rows into FILE's "## Kernels" table.`;

// ---- the layers --------------------------------------------------------------------------------

type Kind = "linear" | "conv2d" | "convTranspose2d" | "batchNorm2d";
interface Layer {
  name: string;
  kind: Kind;
  /** NHWC input shape (linear: [B, in]). */
  input: number[];
  /** conv: output channels; linear: output features. */
  outC: number;
}

export function dcganLayers(B: number): Layer[] {
  const convT = (i: number, h: number, cin: number, cout: number): Layer => ({
    name: `G convT${i} ${cin}→${cout} ${h}→${2 * h}`,
    kind: "convTranspose2d",
    input: [B, h, h, cin],
    outC: cout,
  });
  const conv = (i: number, h: number, cin: number, cout: number): Layer => ({
    name: `D conv${i} ${cin}→${cout} ${h}→${h / 2}`,
    kind: "conv2d",
    input: [B, h, h, cin],
    outC: cout,
  });
  const bn = (who: string, h: number, c: number): Layer => ({
    name: `${who} BN ${c}@${h}×${h}`,
    kind: "batchNorm2d",
    input: [B, h, h, c],
    outC: c,
  });
  return [
    { name: "G linear 100→8192", kind: "linear", input: [B, 100], outC: 4 * 4 * 512 },
    bn("G", 4, 512),
    convT(1, 4, 512, 256),
    bn("G", 8, 256),
    convT(2, 8, 256, 128),
    bn("G", 16, 128),
    convT(3, 16, 128, 64),
    bn("G", 32, 64),
    convT(4, 32, 64, 1),
    conv(1, 64, 1, 64),
    conv(2, 32, 64, 128),
    bn("D", 16, 128),
    conv(3, 16, 128, 256),
    bn("D", 8, 256),
    conv(4, 8, 256, 512),
    bn("D", 4, 512),
  ];
}

/** FLOPs of one direction (forward = input gradient = weight gradient for convs and linear). */
export function layerFlops(l: Layer): number {
  const [B, H, W, C] = l.input;
  if (l.kind === "linear") return 2 * B * l.input[1] * l.outC;
  if (l.kind === "conv2d") return 2 * B * (H / 2) * (W / 2) * l.outC * C * 25;
  if (l.kind === "convTranspose2d") return 2 * B * H * W * l.outC * C * 25;
  return 8 * B * H * W * C; // batch norm: a handful of flops per element, for scale only
}

const DIRECTIONS = ["forward", "gradInput", "gradWeight"] as const;
type Direction = typeof DIRECTIONS[number];

interface Timing {
  ms: number;
  firstMs: number;
  gflops: number;
}
type Row = { layer: string; flops: number } & Partial<Record<string, Timing | null>>;

/** A timing minus another (backward calls that include their forward). */
function minus(
  t: Timing | null | undefined,
  forward: Timing | null | undefined,
  flops: number,
): Timing | null {
  if (!t || !forward) return null;
  const ms = Math.max(t.ms - forward.ms, 1e-3);
  return { ms, firstMs: t.firstMs, gflops: flops / ms / 1e6 };
}

async function timeIt(fn: () => Promise<void>, iters: number, flops: number): Promise<Timing> {
  const t0 = performance.now();
  await fn();
  const firstMs = performance.now() - t0;
  await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  return { ms: median, firstMs, gflops: flops / median / 1e6 };
}

// ---- this runtime ------------------------------------------------------------------------------

/** One layer's three directions as calls into the kernels themselves (no tape). */
function ours(l: Layer, gen: T.Rng): Record<Direction, (() => void) | null> & { dispose(): void } {
  const x = T.Tensor.from(gen.normal(l.input.reduce((a, b) => a * b, 1)), l.input).keep();
  const C = l.input.at(-1)!;
  const keep: T.Tensor[] = [x];
  const randn = (shape: number[]) => {
    const t = T.Tensor.from(gen.normal(shape.reduce((a, b) => a * b, 1), 0, 0.02), shape).keep();
    keep.push(t);
    return t;
  };
  const dispose = () => keep.forEach((t) => t.dispose());
  if (l.kind === "linear") {
    const w = randn([l.outC, C]), gy = randn([l.input[0], l.outC]);
    return {
      forward: () => void matmulKernel(x, w, { transB: true }),
      gradInput: () => void matmulKernel(gy, w),
      gradWeight: () => void matmulKernel(gy, x, { transA: true }),
      dispose,
    };
  }
  if (l.kind === "batchNorm2d") {
    const g = T.ones([C]).keep(), b = T.zeros([C]).keep(), rm = T.zeros([C]).keep(), rv = T.ones([C]).keep();
    keep.push(g, b, rm, rv);
    const gy = randn(l.input);
    const bn = () => T.batchNorm2d(x, g, b, { training: true, runningMean: rm, runningVar: rv });
    return {
      forward: () => void bn(),
      // Forward + backward for x, γ, β (the gradients share their reductions).
      gradInput: () => {
        x.requiresGrad = g.requiresGrad = b.requiresGrad = true;
        T.backward(bn(), gy);
        for (const t of [x, g, b]) {
          t.grad?.dispose();
          t.grad = null;
          t.requiresGrad = false;
        }
      },
      gradWeight: null,
      dispose,
    };
  }
  const opts = { stride: 2, padding: 2, outputPadding: 1 };
  if (l.kind === "conv2d") {
    const w = randn([5, 5, C, l.outC]);
    const g = conv2dGeometry(x, w, undefined, opts);
    const gy = randn([g.batch, g.outH, g.outW, g.outC]);
    return {
      forward: () => void convForwardKernel(x, w, null, g, "conv2d.forward"),
      gradInput: () => void convGradInputKernel(gy, w, null, g, "conv2d.gradInput"),
      gradWeight: () => void convGradWeightKernel(x, gy, g, "conv2d.gradWeight"),
      dispose,
    };
  }
  const w = randn([5, 5, l.outC, C]);
  const g = convTranspose2dGeometry(x, w, undefined, opts);
  const gy = randn([g.batch, g.inH, g.inW, g.inC]);
  return {
    forward: () => void convGradInputKernel(x, w, null, g, "convTranspose2d.forward"),
    gradInput: () => void convForwardKernel(gy, w, null, g, "convTranspose2d.gradInput"),
    gradWeight: () => void convGradWeightKernel(gy, x, g, "convTranspose2d.gradWeight"),
    dispose,
  };
}

async function benchOurs(layers: Layer[], iters: number): Promise<Map<string, Record<string, Timing>>> {
  const runtime = await T.init();
  const gen = new T.Rng(1);
  const out = new Map<string, Record<string, Timing>>();
  for (const l of layers) {
    const fns = ours(l, gen);
    const flops = layerFlops(l);
    const row: Record<string, Timing> = {};
    for (const d of DIRECTIONS) {
      const fn = fns[d];
      if (!fn) continue;
      row[d] = await timeIt(
        async () => {
          T.step(fn);
          await runtime.sync();
        },
        iters,
        flops,
      );
    }
    if (l.kind === "batchNorm2d") row.gradInput = minus(row.gradInput, row.forward, flops)!;
    fns.dispose();
    out.set(l.name, row);
    console.error(
      `ours ${l.name}: ${DIRECTIONS.map((d) => `${d} ${row[d]?.ms.toFixed(1) ?? "—"} ms`).join(", ")}`,
    );
  }
  return out;
}

/**
 * The paper's DCGAN (64×64, width 64) with the DCGAN initialisation and G frozen: the one model whose G
 * forward all three frameworks time, in training mode (batch statistics) as in a training step.
 */
function generatorModel(): Dcgan {
  const gen = new T.Rng(2);
  const gan = createDcgan(DCGAN_DEFAULTS, gen);
  dcganInit(gan, gen);
  gan.G.requiresGrad(false);
  return gan;
}

/** The whole G forward (linear, BN, ReLU, transposed convs with BN + ReLU, tanh) in ms. */
async function generatorForwardOurs(gan: Dcgan, B: number, iters: number, flops: number): Promise<Timing> {
  const runtime = await T.init();
  const z = T.Tensor.from(new T.Rng(3).uniform(B * gan.G.cfg.zDim, -1, 1), [B, gan.G.cfg.zDim]).keep();
  const timing = await timeIt(
    async () => {
      T.step(() => void gan.G.forward(z));
      await runtime.sync();
    },
    iters,
    flops,
  );
  z.dispose();
  return timing;
}

// ---- TensorFlow.js -----------------------------------------------------------------------------

async function benchTf(tf: Tf, layers: Layer[], iters: number) {
  const out = new Map<string, Record<string, Timing | null>>();
  for (const l of layers) {
    const row: Record<string, Timing | null> = { forward: null, gradInput: null, gradWeight: null };
    const flops = layerFlops(l);
    const C = l.input.at(-1)!;
    const x = tf.randomNormal(l.input);
    const [B, H, W] = l.input;
    const pad = [[0, 0], [2, 2], [2, 2], [0, 0]];
    const run = async (fn: () => Tf) => {
      const r = tf.tidy(fn);
      await r.data();
      r.dispose();
    };
    const filterGrad = (input: Tf, dy: Tf, filterShape: number[], p: unknown) =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: input, dy }, {
        strides: [2, 2],
        pad: p,
        dataFormat: "NHWC",
        filterShape,
      });
    let w: Tf, gy: Tf;
    let dirs: Record<Direction, (() => Tf) | null>;
    if (l.kind === "linear") {
      w = tf.randomNormal([C, l.outC], 0, 0.02);
      gy = tf.randomNormal([B, l.outC]);
      dirs = {
        forward: () => tf.matMul(x, w),
        gradInput: () => tf.matMul(gy, w, false, true),
        gradWeight: () => tf.matMul(x, gy, true, false),
      };
    } else if (l.kind === "batchNorm2d") {
      w = tf.ones([C]);
      gy = tf.randomNormal(l.input);
      const bn = (x: Tf, g: Tf) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.batchNorm(x, mean, variance, tf.zeros([C]), g, 1e-5);
      };
      dirs = {
        forward: () => bn(x, w),
        gradInput: () => tf.grads((a: Tf, g: Tf) => bn(a, g))([x, w], gy)[0],
        gradWeight: null,
      };
    } else if (l.kind === "conv2d") {
      w = tf.randomNormal([5, 5, C, l.outC], 0, 0.02);
      gy = tf.randomNormal([B, H / 2, W / 2, l.outC]);
      dirs = {
        forward: () => tf.conv2d(x, w, 2, pad),
        gradInput: () => tf.conv2dTranspose(gy, w, l.input, 2, "same"),
        gradWeight: () => filterGrad(x, gy, [5, 5, C, l.outC], pad),
      };
    } else {
      w = tf.randomNormal([5, 5, l.outC, C], 0, 0.02);
      gy = tf.randomNormal([B, 2 * H, 2 * W, l.outC]);
      dirs = {
        forward: () => tf.conv2dTranspose(x, w, [B, 2 * H, 2 * W, l.outC], 2, "same"),
        gradInput: () => tf.conv2d(gy, w, 2, "same"),
        gradWeight: () => filterGrad(gy, x, [5, 5, l.outC, C], "same"),
      };
    }
    for (const d of DIRECTIONS) {
      const fn = dirs[d];
      if (!fn) continue;
      try {
        row[d] = await timeIt(() => run(fn), iters, flops);
      } catch (e) {
        console.error(`tfjs-${tf.getBackend()} ${l.name} ${d}: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    if (l.kind === "batchNorm2d") row.gradInput = minus(row.gradInput, row.forward, flops);
    tf.dispose([x, w, gy]);
    out.set(l.name, row);
    console.error(
      `tfjs-${tf.getBackend()} ${l.name}: ${
        DIRECTIONS.map((d) => `${d} ${row[d]?.ms.toFixed(1) ?? "—"} ms`).join(", ")
      }`,
    );
  }
  return out;
}

/** The same G forward, on bench/tfjs.ts's copy of the same model. */
async function generatorForwardTf(
  tf: Tf,
  gan: Dcgan,
  B: number,
  iters: number,
  flops: number,
): Promise<Timing> {
  const m = await tfDcgan(tf, gan, false);
  const z = tf.randomUniform([B, gan.G.cfg.zDim], -1, 1);
  const timing = await timeIt(
    async () => {
      const r = tf.tidy(() => m.generate(z, true));
      await r.data();
      r.dispose();
    },
    iters,
    flops,
  );
  tf.dispose(z);
  m.dispose();
  return timing;
}

// ---- PyTorch -----------------------------------------------------------------------------------

function benchTorch(B: number, iters: number): Promise<Record<string, unknown> | null> {
  return runTorch("./kernels_torch.py", ["--batch", String(B), "--iters", String(iters)]);
}

// ---- report ------------------------------------------------------------------------------------

const fmt = (t: Timing | null | undefined) => (t ? `${t.ms.toFixed(1)} / ${t.gflops.toFixed(1)}` : "—");
const timesFaster = (a: Timing | null | undefined, b: Timing | null | undefined) =>
  a && b ? `${(b.ms / a.ms).toFixed(1)}×` : "—";

export async function main(args: string[]): Promise<void> {
  const values = parseFlags(args, {
    batch: { type: "string", default: "64" },
    iters: { type: "string", default: "3" },
    "no-tfjs": { type: "boolean", default: false },
    "no-wasm": { type: "boolean", default: false },
    "no-torch": { type: "boolean", default: false },
    markdown: { type: "string" },
    layers: { type: "string" },
  }, USAGE);
  if (!values) return;
  const B = positiveInt("batch", values.batch), iters = positiveInt("iters", values.iters);
  // Quick re-measurements: only the layers whose names contain one of these.
  const wanted = values.layers?.split(",").map((w) => w.trim()).filter(Boolean);
  const layers = dcganLayers(B).filter((l) => !wanted || wanted.some((w) => l.name.includes(w)));
  if (layers.length === 0) {
    throw new UsageError(`--layers ${values.layers}: no layer name contains any of these`);
  }
  const runtime = await T.init();
  const ourRows = await benchOurs(layers, iters);
  const gan = generatorModel();
  const gFlops = dcganLayers(B).filter((l) => l.name.startsWith("G ")).reduce((n, l) => n + layerFlops(l), 0);
  const ourG = await generatorForwardOurs(gan, B, iters, gFlops);
  const compileMs = runtime.compileMs;

  let tfWebgpu: Map<string, Record<string, Timing | null>> | null = null;
  let tfWasm: Map<string, Record<string, Timing | null>> | null = null;
  let tfG: Timing | null = null, tfWasmG: Timing | null = null;
  if (!values["no-tfjs"]) {
    try {
      const tf = await loadTf("webgpu");
      tfWebgpu = await benchTf(tf, layers, iters);
      tfG = await generatorForwardTf(tf, gan, B, iters, gFlops);
      if (!values["no-wasm"]) {
        const tfw = await loadTf("wasm");
        tfWasm = await benchTf(tfw, layers, iters);
        tfWasmG = await generatorForwardTf(tfw, gan, B, iters, gFlops);
      }
    } catch (e) {
      console.error(`TensorFlow.js figures incomplete: ${(e as Error).message}`);
    }
  }
  const torch = values["no-torch"] ? null : await benchTorch(B, iters);
  const torchRows = (torch?.layers ?? {}) as Record<string, Record<string, Timing>>;
  // PyTorch on CUDA, where the machine has it: three more columns.
  const cuda = torch?.cuda as { device: string; layers: Record<string, Record<string, Timing>> } | undefined;
  const cudaCells = (name: string) => cuda ? DIRECTIONS.map((d) => fmt(cuda.layers[name]?.[d])) : [];

  const cpu = await cpuName(), nproc = navigator.hardwareConcurrency;
  const date = new Date().toISOString().slice(0, 10);
  const total = (r: Record<string, Timing | null> | undefined) =>
    r && DIRECTIONS.every((d) => r[d]) ? DIRECTIONS.reduce((s, d) => s + r[d]!.ms, 0) : null;
  const rows = layers.map((l) => {
    const o: Record<string, Timing | null> = ourRows.get(l.name)!;
    const tw = tfWebgpu?.get(l.name), tm = tfWasm?.get(l.name), pt = torchRows[l.name];
    const first = Math.max(...DIRECTIONS.map((d) => o[d]?.firstMs ?? 0));
    const ot = total(o), tt = total(tw);
    return [
      l.name,
      (layerFlops(l) / 1e9).toFixed(2),
      ...DIRECTIONS.map((d) => fmt(o[d])),
      first.toFixed(0),
      ...DIRECTIONS.map((d) => fmt(tw?.[d])),
      ot && tt ? `${(tt / ot).toFixed(1)}×` : "—",
      ...DIRECTIONS.map((d) => fmt(tm?.[d])),
      ...DIRECTIONS.map((d) => fmt(pt?.[d])),
      ...cudaCells(l.name),
    ];
  });
  const header = [
    "layer",
    "GFLOP",
    "ours fwd",
    "ours dX",
    "ours dW",
    "first use ms",
    "tfjs-webgpu fwd",
    "dX",
    "dW",
    "×tfjs-webgpu",
    "tfjs-wasm fwd",
    "dX",
    "dW",
    "PyTorch fwd",
    "dX",
    "dW",
    ...(cuda ? ["PyTorch CUDA fwd", "dX", "dW"] : []),
  ];
  // The whole G forward as one more row (its GFLOP: the G layers' above); PyTorch reports no FLOPs.
  const ptRaw = torch?.generatorForward as Timing | undefined;
  const ptG = ptRaw && { ...ptRaw, gflops: gFlops / ptRaw.ms / 1e6 };
  const cudaRaw = (cuda as { generatorForward?: Timing } | undefined)?.generatorForward;
  const cudaG = cudaRaw && { ...cudaRaw, gflops: gFlops / cudaRaw.ms / 1e6 };
  rows.push([
    "G forward, whole model",
    (gFlops / 1e9).toFixed(2),
    fmt(ourG),
    "—",
    "—",
    ourG.firstMs.toFixed(0),
    fmt(tfG),
    "—",
    "—",
    timesFaster(ourG, tfG),
    fmt(tfWasmG),
    "—",
    "—",
    fmt(ptG),
    "—",
    "—",
    ...(cuda ? [fmt(cudaG), "—", "—"] : []),
  ]);
  const intro = `\`deno task bench kernels --markdown FILE\` writes one row per layer, and one for the ` +
    "whole G forward (anogan/dcgan.ts's G at width 64, batch statistics; the same model in TensorFlow.js " +
    `and PyTorch). Latest run ${date}${wanted ? ` (layers ${wanted.join(", ")})` : ""}, batch ${B}, ` +
    `median of ${iters} after one warm-up; ${nproc} CPUs (\`nproc\`), ${cpu}; adapter: ` +
    `${runtime.gpu.description}. Cells: ms / GFLOP/s; each direction times its own kernels (batch ` +
    "norm: dX is the whole backward, forward subtracted). ×tfjs-webgpu: TensorFlow.js WebGPU time ÷ " +
    "ours for forward + both gradients. Pipeline creation in this runtime (latest run): " +
    `${compileMs.toFixed(0)} ms in total; shader compilation itself happens at first dispatch and is ` +
    "inside the first-use column." +
    (cuda ? ` PyTorch CUDA: ${cuda.device} (float32, TF32 off), synchronised after each call.` : "");

  const results = {
    batch: B,
    iters,
    adapter: runtime.gpu.description,
    ours: Object.fromEntries(ourRows),
    oursGeneratorForward: ourG,
    tfjsWebgpu: tfWebgpu && Object.fromEntries(tfWebgpu),
    tfjsWebgpuGeneratorForward: tfG,
    tfjsWasm: tfWasm && Object.fromEntries(tfWasm),
    tfjsWasmGeneratorForward: tfWasmG,
    torch,
  };
  console.error(`full results: ${await writeResults("kernels", results)}`);
  if (values.markdown) await upsertTableRows(values.markdown, "## Kernels", intro, header, rows);
  console.log(`${intro}\n\n${markdownTable(header, rows)}`);
}
