// conv2d and convTranspose2d: forward and every gradient against the float64 oracle on random
// configurations and at the DCGAN layer shapes (reduced channels), against PyTorch fixtures, for both
// kernel variants; poisoned outputs, bit-identical reruns, argument errors, frozen weights, modules.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { assertClose, gpu, TestRng } from "./helpers.ts";
import * as O from "./oracle_conv.ts";
import {
  conv2dGeometry,
  convKernelFile,
  convTranspose2dGeometry,
  setTexturePrograms,
} from "../core/ops/conv.ts";

const runtime = await gpu();

type Kind = "conv2d" | "convTranspose2d";
interface ConvCase {
  kind: Kind;
  x: number[]; // [N,H,W,Cin]
  kernel: number;
  outC: number;
  stride: number;
  padding: number;
  outputPadding: number;
  bias: boolean;
}

function weightShape(c: ConvCase): number[] {
  const inC = c.x[3];
  return c.kind === "conv2d" ? [c.kernel, c.kernel, inC, c.outC] : [c.kernel, c.kernel, c.outC, inC];
}

function oracle(c: ConvCase, x: Float64Array, w: Float64Array, b: Float64Array | null) {
  const args: O.ConvArgs = {
    stride: [c.stride, c.stride],
    padding: [c.padding, c.padding],
    outputPadding: [c.outputPadding, c.outputPadding],
  };
  return c.kind === "conv2d"
    ? O.conv2d(x, c.x, w, weightShape(c), b, args)
    : O.convTranspose2d(x, c.x, w, weightShape(c), b, args);
}

/** The layer; with `act`, the layer with its activation as one op (`fused`) or followed by it. */
function run(
  c: ConvCase,
  x: T.Tensor,
  w: T.Tensor,
  b?: T.Tensor,
  act?: { activation: T.Activation; fused: boolean },
): T.Tensor {
  const activation = act?.fused ? act.activation : undefined;
  const y = c.kind === "conv2d"
    ? T.conv2d(x, w, b, { stride: c.stride, padding: c.padding, activation })
    : T.convTranspose2d(x, w, b, {
      stride: c.stride,
      padding: c.padding,
      outputPadding: c.outputPadding,
      activation,
    });
  return act && !act.fused ? T.activate(y, act.activation) : y;
}

/** Hands NaN-filled buffers to the next allocations of these sizes, to catch unwritten elements. */
function poisonPool(sizes: number[]): void {
  const poisoned = sizes.flatMap((n) => [T.full([n], NaN), T.full([n], NaN)]);
  runtime.flush();
  poisoned.forEach((t) => t.dispose());
  T.zeros([1]).dispose(); // released buffers become reusable after the next submit: record one
  runtime.flush();
}

/** Forward, then backward of Σ(out ⊙ gy); host copies of the output and the gradients. */
async function runCase(
  c: ConvCase,
  data: { x: Float32Array; w: Float32Array; b: Float32Array | null; gy: Float32Array },
  act?: { activation: T.Activation; fused: boolean },
) {
  const x = T.Tensor.from(Float32Array.from(data.x), c.x);
  const w = T.Tensor.from(Float32Array.from(data.w), weightShape(c));
  const b = data.b ? T.Tensor.from(Float32Array.from(data.b), [c.outC]) : undefined;
  for (const t of [x, w, b]) if (t) t.requiresGrad = true;
  const outSize = data.gy.length;
  poisonPool([outSize, x.size, w.size, outSize * 4]);
  const y = run(c, x, w, b, act);
  const out = await y.read();
  poisonPool([x.size, w.size, w.size * 8]);
  T.backward(y, T.Tensor.from(Float32Array.from(data.gy), y.shape));
  const grads = await Promise.all([x, w, b].filter((t) => t !== undefined).map((t) => t!.grad!.read()));
  const shape = [...y.shape];
  for (const t of [x, w, b, y]) t?.dispose();
  return { out, shape, grads };
}

function describeCase(c: ConvCase): string {
  const t = c.kind === "convTranspose2d" ? ` outputPadding ${c.outputPadding}` : "";
  return `${c.kind} x [${c.x}] k${c.kernel} Cout ${c.outC} stride ${c.stride} pad ${c.padding}${t}${
    c.bias ? "" : " no bias"
  }`;
}

async function checkAgainstOracle(c: ConvCase, r: TestRng): Promise<void> {
  const wShape = weightShape(c);
  const x = r.normal(O_size(c.x)), w = r.normal(O_size(wShape));
  const b = c.bias ? r.normal(c.outC) : null;
  const ref = oracle(c, x, w, b);
  const gy = r.normal(ref.out.length);
  const got = await runCase(c, {
    x: Float32Array.from(x),
    w: Float32Array.from(w),
    b: b && Float32Array.from(b),
    gy: Float32Array.from(gy),
  });
  const what = describeCase(c);
  assert.deepEqual(got.shape, ref.shape, `${what}: output shape`);
  assertClose(got.out, ref.out, `${what}: forward`);
  const vjp = ref.vjp(gy);
  ["input", "weight", "bias"].slice(0, vjp.length).forEach((name, i) =>
    assertClose(got.grads[i], vjp[i], `${what}: gradient of ${name}`)
  );
}

function O_size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A random configuration: kernel 1/3/4/5, stride 1/2, padding 0–2, odd sizes, channels 1–12. */
function randomCase(r: TestRng, kind: Kind): ConvCase {
  for (;;) {
    const kernel = r.pick([1, 3, 4, 5]);
    const stride = r.pick([1, 2]);
    const padding = r.int(0, Math.min(2, kernel - 1));
    const c: ConvCase = {
      kind,
      x: [r.int(1, 5), r.int(1, 6) * 2 + 1, r.int(1, 6) * 2 + r.int(0, 1), r.int(1, 12)],
      kernel,
      outC: r.int(1, 12),
      stride,
      padding,
      outputPadding: kind === "convTranspose2d" ? r.int(0, stride - 1) : 0,
      bias: r.int(0, 3) > 0,
    };
    if (kind === "conv2d" && (c.x[1] + 2 * padding < kernel || c.x[2] + 2 * padding < kernel)) continue;
    if (kind === "convTranspose2d" && (c.x[1] - 1) * stride - 2 * padding + kernel < 1) continue;
    if (kind === "convTranspose2d" && (c.x[2] - 1) * stride - 2 * padding + kernel < 1) continue;
    return c;
  }
}

/** The paper's 64×64 DCGAN layers (5×5, stride 2, padding 2) at batch 2 with channels ÷ 16. */
const DCGAN_CASES: ConvCase[] = [
  ...[[64, 1, 4], [32, 4, 8], [16, 8, 16], [8, 16, 32]].map(([h, inC, outC]): ConvCase => ({
    kind: "conv2d",
    x: [2, h, h, inC],
    kernel: 5,
    outC,
    stride: 2,
    padding: 2,
    outputPadding: 0,
    bias: true,
  })),
  ...[[4, 32, 16], [8, 16, 8], [16, 8, 4], [32, 4, 1]].map(([h, inC, outC]): ConvCase => ({
    kind: "convTranspose2d",
    x: [2, h, h, inC],
    kernel: 5,
    outC,
    stride: 2,
    padding: 2,
    outputPadding: 1,
    bias: true,
  })),
];

const RANDOM_CASES = 32;

for (const variant of ["cpu", "gpu"] as const) {
  for (const kind of ["conv2d", "convTranspose2d"] as const) {
    Deno.test(`${kind} (${variant} kernels): forward and gradients match the float64 oracle on ${RANDOM_CASES} random configurations`, async () => {
      T.setConvVariant(variant);
      const r = new TestRng(kind === "conv2d" ? 101 : 202);
      try {
        for (let k = 0; k < RANDOM_CASES; k++) await checkAgainstOracle(randomCase(r, kind), r);
      } finally {
        T.setConvVariant(null);
      }
    });
  }
  Deno.test(`${variant} kernels: a split-K weight gradient whose chunks end inside an image matches the oracle`, async () => {
    T.setConvVariant(variant);
    const r = new TestRng(505);
    // 11 images of 7×7 output pixels (539): two chunks, neither a whole number of images.
    const base = { kernel: 5, outC: 8, stride: 2, padding: 2, bias: true };
    try {
      await checkAgainstOracle({ kind: "conv2d", x: [11, 13, 13, 8], outputPadding: 0, ...base }, r);
      await checkAgainstOracle({ kind: "convTranspose2d", x: [11, 7, 7, 8], outputPadding: 0, ...base }, r);
    } finally {
      T.setConvVariant(null);
    }
  });
  Deno.test(`DCGAN layer shapes (${variant} kernels, channels ÷ 16): forward and gradients match the oracle`, async () => {
    T.setConvVariant(variant);
    const r = new TestRng(303);
    try {
      for (const c of DCGAN_CASES) await checkAgainstOracle(c, r);
    } finally {
      T.setConvVariant(null);
    }
  });
}

/** The kernel files a case dispatches: forward, input gradient, weight gradient. */
function caseKernels(c: ConvCase): string[] {
  const x = T.zeros(c.x), w = T.zeros(weightShape(c));
  const args = { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding };
  const g = c.kind === "conv2d"
    ? conv2dGeometry(x, w, undefined, args)
    : convTranspose2dGeometry(x, w, undefined, args);
  x.dispose();
  w.dispose();
  // A transposed conv's forward is conv2d's input gradient and its input gradient conv2d's forward.
  const dirs = c.kind === "conv2d"
    ? (["forward", "grad_input", "grad_weight"] as const)
    : (["grad_input", "forward", "grad_weight"] as const);
  return dirs.map((d) => convKernelFile(d, g));
}

Deno.test("texture-operand conv kernels (cpu) give the buffer kernels' bits, forward and both gradients", async () => {
  T.setConvVariant("cpu");
  const r = new TestRng(606);
  const cases: ConvCase[] = [];
  for (const kind of ["conv2d", "convTranspose2d"] as const) {
    for (let k = 0; k < 6; k++) {
      const c = randomCase(r, kind);
      cases.push({ ...c, x: [c.x[0], c.x[1], c.x[2], r.pick([4, 8, 12, 32])], outC: r.pick([4, 8, 16, 36]) });
    }
  }
  // Split-K weight gradients (chunks ending inside an image), and a layer wider than one tile. Operand
  // rows of 256-byte multiples (the last case) are copied into their textures, others by a kernel.
  const base = { kernel: 5, stride: 2, padding: 2, bias: true };
  cases.push({ kind: "conv2d", x: [11, 13, 13, 8], outC: 8, outputPadding: 0, ...base });
  cases.push({ kind: "convTranspose2d", x: [11, 7, 7, 8], outC: 8, outputPadding: 1, ...base });
  cases.push({
    kind: "conv2d",
    x: [2, 8, 8, 64],
    outC: 64,
    kernel: 4,
    stride: 2,
    padding: 1,
    outputPadding: 0,
    bias: false,
  });
  try {
    for (const c of cases) {
      const what = describeCase(c);
      const x = r.normal(O_size(c.x)), w = r.normal(O_size(weightShape(c)));
      const b = c.bias ? r.normal(c.outC) : null;
      const n = O_size(oracle(c, x, w, b).shape);
      const data = {
        x: Float32Array.from(x),
        w: Float32Array.from(w),
        b: b && Float32Array.from(b),
        gy: Float32Array.from(r.normal(n)),
      };
      const results: Awaited<ReturnType<typeof runCase>>[] = [];
      for (const on of [true, false]) {
        setTexturePrograms(on);
        const files = caseKernels(c);
        assert.ok(
          files.every((f) => f.endsWith(on ? "_tile32tex.wgsl" : "_tile32.wgsl")),
          `${what}: ${files}`,
        );
        results.push(await runCase(c, data));
      }
      assert.deepEqual(results[0].out, results[1].out, `${what}: forward`);
      results[0].grads.forEach((gr, i) =>
        assert.deepEqual(gr, results[1].grads[i], `${what}: gradient ${i}`)
      );
    }
  } finally {
    setTexturePrograms(true);
    T.setConvVariant(null);
  }
});

Deno.test("5×5 weight gradients with Cin 64 and 128 run the 20-row tile (tile20) and match the oracle", async () => {
  T.setConvVariant("cpu");
  const r = new TestRng(707);
  const base = { kernel: 5, stride: 2, padding: 2, outputPadding: 0, bias: false };
  // 25·Cin/4 row blocks: 400 and 800, whole workgroups of 5 blocks × 16 invocations, not of 8 × 16.
  // The transposed conv's weight gradient runs on its conv2d view, whose input is its output (Cin 64).
  const cases: ConvCase[] = [
    { kind: "conv2d", x: [2, 9, 9, 64], outC: 8, ...base },
    { kind: "conv2d", x: [3, 6, 6, 128], outC: 36, ...base },
    { kind: "convTranspose2d", x: [2, 4, 4, 8], outC: 64, ...base, outputPadding: 1 },
  ];
  try {
    for (const c of cases) {
      for (const on of [true, false]) {
        setTexturePrograms(on);
        const weightKernel = caseKernels(c)[2];
        assert.equal(weightKernel, `conv2d_grad_weight_tile20${on ? "tex" : ""}.wgsl`, describeCase(c));
        await checkAgainstOracle(c, r);
      }
    }
    // Cin 256 (1 600 blocks in 1 664 slots of the tile32 kernel) and 512 (3 200, whole): tile32 stays.
    for (const cin of [256, 512]) {
      const wide: ConvCase = { kind: "conv2d", x: [1, 4, 4, cin], outC: 4, ...base };
      assert.equal(caseKernels(wide)[2], "conv2d_grad_weight_tile32.wgsl", `Cin ${cin}`);
    }
  } finally {
    setTexturePrograms(true);
    T.setConvVariant(null);
  }
});

Deno.test("an operand too large for a texture falls back to the buffer kernels", () => {
  T.setConvVariant("cpu");
  try {
    const max = runtime.gpu.limits.maxTextureDimension2D;
    // N·H rows of x exceed the limit by one image; the same layer one image smaller fits.
    const h = 16, images = Math.floor(max / h) + 1;
    const g = (n: number) => ({
      batch: n,
      inH: h,
      inW: h,
      inC: 8,
      outH: h / 2,
      outW: h / 2,
      outC: 8,
      kernelH: 4,
      kernelW: 4,
      strideH: 2,
      strideW: 2,
      padH: 1,
      padW: 1,
    });
    assert.equal(convKernelFile("forward", g(images)), "conv2d_forward_tile32.wgsl");
    assert.equal(convKernelFile("grad_weight", g(images)), "conv2d_grad_weight_tile32.wgsl");
    assert.equal(convKernelFile("forward", g(images - 1)), "conv2d_forward_tile32tex.wgsl");
    // dy's N·OH rows fit in both: the input gradient reads x through neither operand.
    assert.equal(convKernelFile("grad_input", g(images)), "conv2d_grad_input_tile32tex.wgsl");
  } finally {
    T.setConvVariant(null);
  }
});

Deno.test("one-channel layers (cpu): conv2d from and convTranspose2d to one channel, on their columns, match the oracle", async () => {
  T.setConvVariant("cpu");
  const r = new TestRng(404);
  try {
    for (let k = 0; k < 12; k++) {
      const c = randomCase(r, k % 2 === 0 ? "conv2d" : "convTranspose2d");
      // conv2d: x has one channel; convTranspose2d: the output has one (its input gradient is conv2d
      // forward from one channel). The other side has a multiple of 4 channels, as the kernels need.
      // The forward and input gradient run on the layer's columns; the weight gradient of these narrow
      // layers (Cout < 64) on its own kernel.
      const one: ConvCase = c.kind === "conv2d"
        ? { ...c, x: [c.x[0], c.x[1], c.x[2], 1], outC: 4 * r.int(1, 5) }
        // No bias: its gradient, a plain sum over one channel, is checked elsewhere and can cancel.
        : { ...c, x: [c.x[0], c.x[1], c.x[2], 4 * r.int(1, 5)], outC: 1, bias: false };
      assert.deepEqual(
        caseKernels(one).sort(),
        ["conv2d_col2im_c1.wgsl", "conv2d_grad_weight_c1.wgsl", "conv2d_im2col_c1.wgsl"],
        describeCase(one),
      );
      await checkAgainstOracle(one, r);
    }
    // 32 and 64 channels on the other side (the lane-per-tap kernel's 8-group form; from 64 channels
    // the weight gradient runs on the columns too, as the 1×1 weight gradient of dy against them,
    // transposed), and split-K chunks that start inside an image (1 995 output pixels).
    const base = { kernel: 5, stride: 2, padding: 2, outputPadding: 0, bias: false };
    const wide: ConvCase = { ...base, kind: "conv2d", x: [5, 41, 37, 1], outC: 64 };
    const wideT: ConvCase = {
      ...base,
      kind: "convTranspose2d",
      x: [3, 9, 11, 64],
      outC: 1,
      outputPadding: 1,
    };
    for (const c of [wide, wideT]) {
      assert.deepEqual(
        caseKernels(c).sort(),
        ["conv2d_col2im_c1.wgsl", "conv2d_grad_weight_tile32tex.wgsl", "conv2d_im2col_c1.wgsl"],
        describeCase(c),
      );
      await checkAgainstOracle(c, r);
    }
    await checkAgainstOracle({
      ...base,
      kind: "convTranspose2d",
      x: [3, 9, 11, 32],
      outC: 1,
      outputPadding: 1,
    }, r);
  } finally {
    T.setConvVariant(null);
  }
});

/** A case's output shape [N, OH, OW, Cout]. */
function outputShape(c: ConvCase): number[] {
  const [n, h, w] = c.x;
  const size = (i: number) =>
    c.kind === "conv2d"
      ? Math.floor((i + 2 * c.padding - c.kernel) / c.stride) + 1
      : (i - 1) * c.stride - 2 * c.padding + c.kernel + c.outputPadding;
  return [n, size(h), size(w), c.outC];
}

Deno.test("a conv with its activation as one op gives the bits of the conv, then the activation", async () => {
  const r = new TestRng(707);
  const activations: T.Activation[] = [{ op: "relu" }, { op: "leakyRelu", alpha: 0.2 }, { op: "tanh" }];
  const base = { kernel: 5, stride: 2, padding: 2, outputPadding: 0, bias: true };
  const cases: ConvCase[] = [
    { ...base, kind: "conv2d", x: [3, 9, 9, 8], outC: 12 }, // tile32 forward: its output stage
    { ...base, kind: "convTranspose2d", x: [3, 5, 5, 8], outC: 4, outputPadding: 1 }, // tile32 input gradient
    { ...base, kind: "conv2d", x: [2, 11, 11, 1], outC: 8 }, // one channel: the 1×1 forward's
    { ...base, kind: "convTranspose2d", x: [2, 6, 6, 8], outC: 1, outputPadding: 1 }, // col2im's
    { ...base, kind: "conv2d", x: [2, 7, 7, 3], outC: 5 }, // scalar kernels: applied after
  ];
  for (const variant of ["cpu", "gpu"] as const) {
    T.setConvVariant(variant);
    try {
      for (const c of cases) {
        for (const activation of activations) {
          const what = `${variant} ${describeCase(c)} ${activation.op}`;
          const n = O_size(outputShape(c));
          const data = {
            x: Float32Array.from(r.normal(O_size(c.x))),
            w: Float32Array.from(r.normal(O_size(weightShape(c)))),
            b: Float32Array.from(r.normal(c.outC)),
            gy: Float32Array.from(r.normal(n)),
          };
          const fused = await runCase(c, data, { activation, fused: true });
          const after = await runCase(c, data, { activation, fused: false });
          const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
          assert.deepEqual(bits(fused.out), bits(after.out), `${what}: forward`);
          fused.grads.forEach((g, i) =>
            assert.deepEqual(bits(g), bits(after.grads[i]), `${what}: gradient ${i}`)
          );
          // Both are the activation of the layer's own output, computed here in float64 from it.
          const plain = await runCase(c, data);
          const f = activation.op === "relu"
            ? (v: number) => Math.max(v, 0)
            : activation.op === "leakyRelu"
            ? (v: number) => (v > 0 ? v : activation.alpha * v)
            : Math.tanh;
          assertClose(
            fused.out,
            Float64Array.from(plain.out, f),
            `${what}: the activation of the layer's output`,
          );
        }
      }
    } finally {
      T.setConvVariant(null);
    }
  }
});

// ---- PyTorch fixtures -----------------------------------------------------------------------------

const fixture = await T.readSafetensors(new URL("../fixtures/conv.safetensors", import.meta.url).pathname);

function fixtureTensor(name: string): T.HostTensor {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture tensor ${name} is missing`);
  return t;
}

/** NCHW → NHWC. */
export function toNhwc(t: T.HostTensor): { data: Float32Array; shape: number[] } {
  const [N, C, H, W] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H * W; i++) out[(n * H * W + i) * C + c] = t.data[(n * C + c) * H * W + i];
    }
  }
  return { data: out, shape: [N, H, W, C] };
}

Deno.test("PyTorch fixtures: conv2d and convTranspose2d forward and gradients match", async () => {
  const cases = JSON.parse(fixture.metadata.cases) as {
    name: string;
    kind: Kind;
    stride: number;
    padding: number;
    outputPadding: number;
    bias: boolean;
  }[];
  assert.ok(cases.length >= 10);
  for (const fc of cases) {
    const get = (k: string) => fixtureTensor(`${fc.name}.${k}`);
    const x = toNhwc(get("x"));
    const torchW = get("weight");
    const [A, B, kh] = torchW.shape;
    const c: ConvCase = {
      kind: fc.kind,
      x: x.shape,
      kernel: kh,
      outC: fc.kind === "conv2d" ? A : B,
      stride: fc.stride,
      padding: fc.padding,
      outputPadding: fc.outputPadding,
      bias: fc.bias,
    };
    const got = await runCase(c, {
      x: x.data,
      w: T.fromTorchConvWeight(torchW.data, torchW.shape),
      b: fc.bias ? get("bias").data : null,
      gy: toNhwc(get("gy")).data,
    });
    assertClose(got.out, toNhwc(get("out")).data, `${fc.name}: forward vs PyTorch`);
    assertClose(got.grads[0], toNhwc(get("grad_x")).data, `${fc.name}: input gradient vs PyTorch`);
    assertClose(
      T.toTorchConvWeight(got.grads[1], weightShape(c)),
      get("grad_weight").data,
      `${fc.name}: weight gradient vs PyTorch`,
    );
    if (fc.bias) assertClose(got.grads[2], get("grad_bias").data, `${fc.name}: bias gradient vs PyTorch`);
  }
});

// ---- determinism, errors, frozen weights ---------------------------------------------------------

Deno.test("conv2d and convTranspose2d are bit-identical across two runs (split-K weight gradient included)", async () => {
  const r = new TestRng(404);
  for (const c of [DCGAN_CASES[0], DCGAN_CASES[2], DCGAN_CASES[6]]) {
    const data = {
      x: Float32Array.from(r.normal(O_size(c.x))),
      w: Float32Array.from(r.normal(O_size(weightShape(c)))),
      b: Float32Array.from(r.normal(c.outC)),
      gy: new Float32Array(0),
    };
    data.gy = Float32Array.from(
      r.normal(oracle(c, new Float64Array(data.x), new Float64Array(data.w), null).out.length),
    );
    const first = await runCase(c, data);
    const second = await runCase(c, data);
    assert.deepEqual(new Uint8Array(second.out.buffer), new Uint8Array(first.out.buffer), describeCase(c));
    first.grads.forEach((g, i) =>
      assert.deepEqual(
        new Uint8Array(second.grads[i].buffer),
        new Uint8Array(g.buffer),
        `${describeCase(c)} grad ${i}`,
      )
    );
  }
});

Deno.test("bad conv arguments fail with a message naming the op, the argument and the shapes", () => {
  const x = T.zeros([2, 5, 5, 3]);
  const w = T.zeros([3, 3, 3, 4]);
  assert.throws(
    () => T.conv2d(x, w, undefined, { padding: -1 }),
    /conv2d: padding must be integers ≥ 0, got -1 \(input \[2,5,5,3\].*weight \[3,3,3,4\]/,
  );
  assert.throws(() => T.conv2d(x, w, undefined, { stride: 0 }), /conv2d: stride must be integers ≥ 1, got 0/);
  assert.throws(
    () => T.conv2d(x, T.zeros([7, 7, 3, 4])),
    /conv2d: kernel 7×7 is larger than the padded input 5×5 \(padding 0,0; input \[2,5,5,3\].*weight \[7,7,3,4\]/,
  );
  assert.throws(
    () => T.conv2d(x, T.zeros([3, 3, 2, 4])),
    /conv2d: channel mismatch, the input has 3 channels, the weight expects 2 \(input \[2,5,5,3\].*weight \[3,3,2,4\]/,
  );
  assert.throws(() => T.conv2d(x, w, T.zeros([3])), /conv2d: bias must be \[4\].*bias \[3\]/);
  assert.throws(
    () => T.conv2d(T.zeros([5, 5, 3]), w),
    /conv2d: input must be 4-D \[N,H,W,C\] \(NHWC\), got input \[5,5,3\]/,
  );
  const wt = T.zeros([5, 5, 4, 3]);
  assert.throws(
    () => T.convTranspose2d(x, wt, undefined, { padding: -2 }),
    /convTranspose2d: padding must be integers ≥ 0, got -2 \(input \[2,5,5,3\].*weight \[5,5,4,3\]/,
  );
  assert.throws(
    () => T.convTranspose2d(x, T.zeros([5, 5, 4, 2])),
    /convTranspose2d: channel mismatch, the input has 3 channels, the weight expects 2/,
  );
  assert.throws(
    () => T.convTranspose2d(x, wt, undefined, { stride: 2, outputPadding: 2 }),
    /convTranspose2d: outputPadding 2,2 must be smaller than the stride 2,2/,
  );
  assert.throws(
    () => T.convTranspose2d(T.zeros([1, 1, 1, 3]), T.zeros([1, 1, 4, 3]), undefined, { padding: 1 }),
    /convTranspose2d: output would be -1×-1; padding 1,1 is too large/,
  );
});

Deno.test("with frozen weights only input gradients are dispatched, no weight-gradient kernel", async () => {
  const gen = new T.Rng(5);
  const conv = new T.Conv2d(3, 4, 5, gen, { stride: 2, padding: 2 }).requiresGrad(false);
  const deconv = new T.ConvTranspose2d(4, 3, 5, gen, { stride: 2, padding: 2, outputPadding: 1 })
    .requiresGrad(false);
  const x = T.Tensor.from(gen.normal(2 * 9 * 9 * 3), [2, 9, 9, 3]);
  x.requiresGrad = true;
  T.resetDispatchCounts();
  const loss = T.sum(deconv.forward(conv.forward(x)));
  T.backward(loss);
  await x.grad!.read();
  const labels = [...T.dispatchCounts.keys()];
  assert.ok(
    labels.includes("conv2d.gradInput") && labels.includes("convTranspose2d.gradInput"),
    labels.join(),
  );
  assert.ok(!labels.some((l) => l.includes("gradWeight")), labels.join());
  // The only "sum" dispatch is the loss itself, not a bias gradient.
  assert.equal(T.dispatchCounts.get("sum"), 1);
  x.dispose();
  conv.dispose();
  deconv.dispose();
});

// ---- modules --------------------------------------------------------------------------------------

Deno.test("Conv2d and ConvTranspose2d state dicts use PyTorch's layouts and round-trip through safetensors", async () => {
  const gen = new T.Rng(6);
  const make = () => ({
    conv: new T.Conv2d(3, 5, [5, 3], gen, { stride: 2, padding: [2, 1] }),
    deconv: new T.ConvTranspose2d(5, 2, 4, gen, { stride: 2, padding: 1 }),
  });
  const a = make(), b = make();
  const state = new Map([
    ...[...await a.conv.hostStateDict()].map(([k, v]) => [`conv.${k}`, v] as const),
    ...[...await a.deconv.hostStateDict()].map(([k, v]) => [`deconv.${k}`, v] as const),
  ]);
  assert.deepEqual(state.get("conv.weight")!.shape, [5, 3, 5, 3]);
  assert.deepEqual(state.get("deconv.weight")!.shape, [5, 2, 4, 4]);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await T.writeSafetensors(path, state, { format: "pt" });
  const file = await T.readSafetensors(path);
  await Deno.remove(path);
  const part = (prefix: string) =>
    new Map(
      [...file.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]),
    );
  b.conv.loadStateDict(part("conv."));
  b.deconv.loadStateDict(part("deconv."));
  for (const [name, t] of a.conv.stateDict()) {
    assert.deepEqual(await b.conv.stateDict().get(name)!.read(), await t.read(), `conv ${name}`);
  }
  const x = T.Tensor.from(gen.normal(2 * 7 * 6 * 3), [2, 7, 6, 3]);
  const ya = await a.deconv.forward(a.conv.forward(x)).read();
  const yb = await b.deconv.forward(b.conv.forward(x)).read();
  assert.deepEqual(yb, ya);
  // A PyTorch-layout weight of the wrong shape names both shapes.
  const bad = part("conv.");
  bad.set("weight", { shape: [3, 5, 5, 3], data: bad.get("weight")!.data });
  assert.throws(
    () => b.conv.loadStateDict(bad, "ckpt"),
    /ckpt: tensor weight has shape \[3,5,5,3\], the model expects \[5,3,5,3\]/,
  );
  for (const m of [a.conv, a.deconv, b.conv, b.deconv]) m.dispose();
});

Deno.test("Conv2d loaded from a PyTorch state dict reproduces PyTorch's output", async () => {
  const gen = new T.Rng(7);
  const conv = new T.Conv2d(4, 8, 5, gen, { stride: 2, padding: 2 });
  const name = "conv_5x5_s2_p2_dcgan";
  conv.loadStateDict(
    new Map([["weight", fixtureTensor(`${name}.weight`)], ["bias", fixtureTensor(`${name}.bias`)]]),
  );
  const x = toNhwc(fixtureTensor(`${name}.x`));
  const y = await conv.forward(T.Tensor.from(x.data, x.shape)).read();
  assertClose(y, toNhwc(fixtureTensor(`${name}.out`)).data, "Conv2d module vs PyTorch");
  conv.dispose();
});
