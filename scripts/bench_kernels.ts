// `deno task bench kernels [--batch N] [--iters N] [--layers A,B] [--no-tfjs] [--no-wasm] [--no-torch] [--markdown FILE]`:
// every layer of the paper's 64×64 DCGAN — forward, input gradient and weight gradient in ms and
// GFLOP/s — through this runtime, through TensorFlow.js 4.22 (WebGPU on the same adapter, and wasm)
// and PyTorch CPU (scripts/bench_kernels_torch.py). Medians after warm-up; first-use time (shader
// compile included) reported separately. Full JSON goes to bench/results/, the markdown table to
// stdout (and into BENCHMARKS.md's "Kernels" section with --markdown BENCHMARKS.md).

import { parseArgs } from "node:util";
import * as T from "../core/mod.ts";
import { matmulKernel } from "../core/ops/matmul.ts";
import {
  conv2dGeometry,
  convForwardKernel,
  convGradInputKernel,
  convGradWeightKernel,
  convTranspose2dGeometry,
} from "../core/ops/conv.ts";
import { loadTf, type Tf } from "./tfjs_setup.ts";
import { cpuName, runTorch } from "./bench_util.ts";

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

/** The whole G forward (linear, BN, ReLU, 4 transposed convs with BN + ReLU, tanh) in ms. */
async function generatorForwardOurs(B: number, iters: number): Promise<Timing> {
  const runtime = await T.init();
  const gen = new T.Rng(2);
  const lin = new T.Linear(100, 8192, gen);
  const chans = [512, 256, 128, 64, 1];
  const bns = chans.slice(0, 4).map((c) => new T.BatchNorm2d(c));
  const convs = chans.slice(0, 4).map((c, i) =>
    new T.ConvTranspose2d(c, chans[i + 1], 5, gen, { stride: 2, padding: 2, outputPadding: 1 })
  );
  for (const m of [lin, ...bns, ...convs]) m.requiresGrad(false);
  const z = T.Tensor.from(gen.uniform(B * 100, -1, 1), [B, 100]).keep();
  const g = () => {
    let h = T.relu(bns[0].forward(T.reshape(lin.forward(z), [B, 4, 4, 512])));
    for (let i = 0; i < 4; i++) {
      h = convs[i].forward(h);
      h = i < 3 ? T.relu(bns[i + 1].forward(h)) : T.tanh(h);
    }
    return h;
  };
  return await timeIt(
    async () => {
      T.step(() => void g());
      await runtime.sync();
    },
    iters,
    0,
  );
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

async function generatorForwardTf(tf: Tf, B: number, iters: number): Promise<Timing> {
  const w0 = tf.randomNormal([100, 8192], 0, 0.02);
  const ws = [512, 256, 128, 64].map((c, i) => tf.randomNormal([5, 5, [256, 128, 64, 1][i], c], 0, 0.02));
  const z = tf.randomUniform([B, 100], -1, 1);
  const bn = (h: Tf) => {
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    return tf.batchNorm(h, mean, variance, undefined, undefined, 1e-5);
  };
  const g = () => {
    let h = tf.relu(bn(tf.reshape(tf.matMul(z, w0), [B, 4, 4, 512])));
    let size = 4;
    for (let i = 0; i < 4; i++) {
      size *= 2;
      h = tf.conv2dTranspose(h, ws[i], [B, size, size, ws[i].shape[2]], 2, "same");
      h = i < 3 ? tf.relu(bn(h)) : tf.tanh(h);
    }
    return h;
  };
  return await timeIt(
    async () => {
      const r = tf.tidy(g);
      await r.data();
      r.dispose();
    },
    iters,
    0,
  );
}

// ---- PyTorch -----------------------------------------------------------------------------------

function benchTorch(B: number, iters: number): Promise<Record<string, unknown> | null> {
  return runTorch("./bench_kernels_torch.py", ["--batch", String(B), "--iters", String(iters)]);
}

// ---- report ------------------------------------------------------------------------------------

const fmt = (t: Timing | null | undefined) => (t ? `${t.ms.toFixed(1)} / ${t.gflops.toFixed(1)}` : "—");
const ratio = (a: Timing | null | undefined, b: Timing | null | undefined) =>
  a && b ? `${(b.ms / a.ms).toFixed(1)}×` : "—";

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      batch: { type: "string", default: "64" },
      iters: { type: "string", default: "3" },
      "no-tfjs": { type: "boolean", default: false },
      "no-wasm": { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      markdown: { type: "string" },
      layers: { type: "string" },
    },
  });
  const B = Number(values.batch), iters = Number(values.iters);
  if (!Number.isInteger(B) || B < 1) {
    throw new Error(`--batch must be a positive integer, got ${values.batch}`);
  }
  // --layers "conv1,convT4": only the layers whose names contain one of these (quick re-measurements).
  const wanted = values.layers?.split(",").map((w) => w.trim()).filter(Boolean);
  const layers = dcganLayers(B).filter((l) => !wanted || wanted.some((w) => l.name.includes(w)));
  if (layers.length === 0) throw new Error(`--layers ${values.layers}: no layer name contains any of these`);
  const runtime = await T.init();
  const ourRows = await benchOurs(layers, iters);
  const ourG = await generatorForwardOurs(B, iters);
  const compileMs = runtime.compileMs;

  let tfWebgpu: Map<string, Record<string, Timing | null>> | null = null;
  let tfWasm: Map<string, Record<string, Timing | null>> | null = null;
  let tfG: Timing | null = null, tfWasmG: Timing | null = null;
  if (!values["no-tfjs"]) {
    try {
      const tf = await loadTf("webgpu");
      tfWebgpu = await benchTf(tf, layers, iters);
      tfG = await generatorForwardTf(tf, B, iters);
      if (!values["no-wasm"]) {
        const tfw = await loadTf("wasm");
        tfWasm = await benchTf(tfw, layers, iters);
        tfWasmG = await generatorForwardTf(tfw, B, iters);
      }
    } catch (e) {
      console.error(`TensorFlow.js figures incomplete: ${(e as Error).message}`);
    }
  }
  const torch = values["no-torch"] ? null : await benchTorch(B, iters);
  const torchRows = (torch?.layers ?? {}) as Record<string, Record<string, Timing>>;

  const { cpu, nproc } = await machine();
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    `Measured ${date}, batch ${B}, median of ${iters} after one warm-up; ${nproc} CPUs (\`nproc\`), ${cpu};`,
    `adapter: ${runtime.gpu.description}. Cells: ms / GFLOP/s; each direction times its own kernels`,
    "(batch norm: dX is the whole backward, forward subtracted). ×tfjs-webgpu: TensorFlow.js WebGPU time",
    "÷ ours for forward + both gradients.",
    "",
    "| layer | GFLOP | ours fwd | ours dX | ours dW | first use ms | tfjs-webgpu fwd | dX | dW | ×tfjs-webgpu | tfjs-wasm fwd | dX | dW | PyTorch fwd | dX | dW |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const total = (r: Record<string, Timing | null> | undefined) =>
    r && DIRECTIONS.every((d) => r[d]) ? DIRECTIONS.reduce((s, d) => s + r[d]!.ms, 0) : null;
  for (const l of layers) {
    const o: Record<string, Timing | null> = ourRows.get(l.name)!;
    const tw = tfWebgpu?.get(l.name), tm = tfWasm?.get(l.name), pt = torchRows[l.name];
    const first = Math.max(...DIRECTIONS.map((d) => o[d]?.firstMs ?? 0));
    const ot = total(o), tt = total(tw);
    lines.push(
      `| ${l.name} | ${(layerFlops(l) / 1e9).toFixed(2)} | ${
        DIRECTIONS.map((d) => fmt(o[d])).join(" | ")
      } | ${first.toFixed(0)} | ${DIRECTIONS.map((d) => fmt(tw?.[d])).join(" | ")} | ${
        ot && tt ? `${(tt / ot).toFixed(1)}×` : "—"
      } | ${DIRECTIONS.map((d) => fmt(tm?.[d])).join(" | ")} | ${
        DIRECTIONS.map((d) => fmt(pt?.[d])).join(" | ")
      } |`,
    );
  }
  const ptG = torch?.generatorForward as Timing | undefined;
  lines.push(
    "",
    `Whole 64×64 G forward (batch ${B}): ours ${ourG.ms.toFixed(0)} ms (first use ${
      ourG.firstMs.toFixed(0)
    } ms), ` +
      `tfjs-webgpu ${tfG ? `${tfG.ms.toFixed(0)} ms (${ratio(ourG, tfG)} ours)` : "—"}, ` +
      `tfjs-wasm ${tfWasmG ? `${tfWasmG.ms.toFixed(0)} ms` : "—"}, PyTorch ${
        ptG ? `${ptG.ms.toFixed(0)} ms` : "—"
      }. ` +
      `Pipeline creation in this runtime: ${compileMs.toFixed(0)} ms in total (shader compilation itself ` +
      "happens at first dispatch and is inside the first-use column).",
  );
  const table = lines.join("\n");

  const results = {
    date,
    batch: B,
    iters,
    machine: { cpu, nproc },
    adapter: runtime.gpu.description,
    ours: Object.fromEntries(ourRows),
    oursGeneratorForward: ourG,
    tfjsWebgpu: tfWebgpu && Object.fromEntries(tfWebgpu),
    tfjsWebgpuGeneratorForward: tfG,
    tfjsWasm: tfWasm && Object.fromEntries(tfWasm),
    tfjsWasmGeneratorForward: tfWasmG,
    torch,
  };
  const dir = new URL("../bench/results/", import.meta.url);
  Deno.mkdirSync(dir, { recursive: true });
  const file = new URL(`kernels-${new Date().toISOString().replace(/[:.]/g, "-")}.json`, dir);
  Deno.writeTextFileSync(file, JSON.stringify(results, null, 2));
  console.error(`wrote ${file.pathname}`);
  if (values.markdown) writeSection(values.markdown, table);
  console.log(table);
}

async function machine(): Promise<{ cpu: string; nproc: number }> {
  return { cpu: await cpuName(), nproc: navigator.hardwareConcurrency };
}

/** Replaces (or appends) the `## Kernels` section of a markdown file, leaving other sections alone. */
function writeSection(path: string, table: string): void {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    text = "# Benchmarks\n";
  }
  const section =
    `## Kernels\n\n\`deno task bench kernels --markdown BENCHMARKS.md\` wrote this section.\n\n${table}\n`;
  const start = text.indexOf("## Kernels");
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + section + (next < 0 ? "" : text.slice(next + 1));
  }
  Deno.writeTextFileSync(path, text);
}
