// Convolutions: conv2d and convTranspose2d, each with its backward. Three kernels serve both:
//   kernels/conv2d_forward.wgsl      implicit GEMM, im2col computed in the load
//   kernels/conv2d_grad_input.wgsl   implicit GEMM over the flipped weight, stride phases, no zero taps
//   kernels/conv2d_grad_weight.wgsl  GEMM with a fixed split-K, partials summed in order
// (the first two have *_vec4 twins that read channels as vec4 when Cin and Cout are multiples of 4;
// in the "cpu" variant, which lavapipe gets, all three have *_tile32 twins for that case, with the
// register tile written out, and a one-channel image has kernels of its own: conv2d_forward_c1.wgsl,
// conv2d_grad_input_c1.wgsl and conv2d_grad_weight_c1.wgsl).
// convTranspose2d forward is conv2d's input gradient, its input gradient is conv2d forward, and its
// weight gradient is conv2d's with x and dy swapped.
//
// Layouts (every op here):
//   activations              [N, H, W, C]        NHWC, channels fastest
//   conv2d weight            [kh, kw, Cin, Cout] TensorFlow's HWIO; PyTorch's [Cout,Cin,kh,kw] permuted
//   convTranspose2d weight   [kh, kw, Cout, Cin] TensorFlow's conv2dTranspose filter; PyTorch's
//                                                [Cin,Cout,kh,kw] permuted
//   bias                     [Cout]
// Output sizes are PyTorch's: conv2d OH = ⌊(H + 2·pad − kh) / stride⌋ + 1; convTranspose2d
// OH = (H − 1)·stride − 2·pad + kh + outputPadding. The modules in core/nn.ts store weights in these
// layouts and convert to PyTorch's in state dicts (see `toTorchConvWeight`).

import { type AdapterIdentity, driverOf } from "../device.ts";
import { grid1d, KernelCompileError, type KernelDef, onInit, Params, rt } from "../kernel.ts";
import { record } from "../autograd.ts";
import { shapeString, Tensor } from "../tensor.ts";
import { sum } from "./reduce.ts";

export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns on the bottom/right of the output (0 ≤ outputPadding < stride). */
  outputPadding?: Pair;
}

/** x [N,H,W,Cin] ⊛ weight [kh,kw,Cin,Cout] (+ bias [Cout]) → [N,OH,OW,Cout]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = conv2dGeometry(x, weight, bias, opts);
  const y = convForwardKernel(x, weight, bias ?? null, g, "conv2d.forward");
  return record(y, "conv2d", bias ? [x, weight, bias] : [x, weight], (gy, needs) => [
    needs[0] ? convGradInputKernel(gy, weight, null, g, "conv2d.gradInput") : null,
    needs[1] ? convGradWeightKernel(x, gy, g, "conv2d.gradWeight") : null,
    needs[2] ? sum(gy, [0, 1, 2]) : null,
  ]);
}

/** x [N,H,W,Cin] with weight [kh,kw,Cout,Cin] (+ bias [Cout]) → [N,OH,OW,Cout], the adjoint of conv2d. */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  const g = convTranspose2dGeometry(x, weight, bias, opts);
  const y = convGradInputKernel(x, weight, bias ?? null, g, "convTranspose2d.forward");
  return record(y, "convTranspose2d", bias ? [x, weight, bias] : [x, weight], (gy, needs) => [
    needs[0] ? convForwardKernel(gy, weight, null, g, "convTranspose2d.gradInput") : null,
    needs[1] ? convGradWeightKernel(gy, x, g, "convTranspose2d.gradWeight") : null,
    needs[2] ? sum(gy, [0, 1, 2]) : null,
  ]);
}

// ---- geometry and argument checks ----------------------------------------------------------------

/** A convolution in conv2d terms: `in*` is the image convolved, `out*` the conv2d result. */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

function pair(op: string, name: string, v: Pair, min: number, shapes: string): [number, number] {
  const [a, b] = typeof v === "number" ? [v, v] : v;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < min || b < min) {
    throw new Error(`${op}: ${name} must be integers ≥ ${min}, got ${JSON.stringify(v)} (${shapes})`);
  }
  return [a, b];
}

function checkRanks(op: string, x: Tensor, weight: Tensor, bias: Tensor | undefined, shapes: string) {
  if (x.rank !== 4) throw new Error(`${op}: input must be 4-D [N,H,W,C] (NHWC), got ${shapes}`);
  if (weight.rank !== 4) throw new Error(`${op}: weight must be 4-D, got ${shapes}`);
  const outC = op === "conv2d" ? weight.shape[3] : weight.shape[2];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outC)) {
    throw new Error(`${op}: bias must be [${outC}] (one per output channel), got ${shapes}`);
  }
}

function describe(x: Tensor, weight: Tensor, bias: Tensor | undefined, layout: string): string {
  const b = bias ? `, bias ${shapeString(bias.shape)}` : "";
  return `input ${shapeString(x.shape)} [N,H,W,C], weight ${shapeString(weight.shape)} ${layout}${b}`;
}

export function conv2dGeometry(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  opts: Conv2dOptions,
): ConvGeometry {
  const shapes = describe(x, weight, bias, "[kh,kw,Cin,Cout]");
  checkRanks("conv2d", x, weight, bias, shapes);
  const [strideH, strideW] = pair("conv2d", "stride", opts.stride ?? 1, 1, shapes);
  const [padH, padW] = pair("conv2d", "padding", opts.padding ?? 0, 0, shapes);
  const [batch, inH, inW, inC] = x.shape;
  const [kernelH, kernelW, wIn, outC] = weight.shape;
  if (wIn !== inC) {
    throw new Error(
      `conv2d: channel mismatch, the input has ${inC} channels, the weight expects ${wIn} (${shapes})`,
    );
  }
  if (kernelH > inH + 2 * padH || kernelW > inW + 2 * padW) {
    throw new Error(
      `conv2d: kernel ${kernelH}×${kernelW} is larger than the padded input ${inH + 2 * padH}×${
        inW + 2 * padW
      } (padding ${padH},${padW}; ${shapes})`,
    );
  }
  const outH = Math.floor((inH + 2 * padH - kernelH) / strideH) + 1;
  const outW = Math.floor((inW + 2 * padW - kernelW) / strideW) + 1;
  return { batch, inH, inW, inC, outH, outW, outC, kernelH, kernelW, strideH, strideW, padH, padW };
}

export function convTranspose2dGeometry(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  opts: ConvTranspose2dOptions,
): ConvGeometry {
  const op = "convTranspose2d";
  const shapes = describe(x, weight, bias, "[kh,kw,Cout,Cin]");
  checkRanks(op, x, weight, bias, shapes);
  const [strideH, strideW] = pair(op, "stride", opts.stride ?? 1, 1, shapes);
  const [padH, padW] = pair(op, "padding", opts.padding ?? 0, 0, shapes);
  const [opH, opW] = pair(op, "outputPadding", opts.outputPadding ?? 0, 0, shapes);
  if (opH >= strideH || opW >= strideW) {
    throw new Error(
      `${op}: outputPadding ${opH},${opW} must be smaller than the stride ${strideH},${strideW} (${shapes})`,
    );
  }
  const [batch, xH, xW, xC] = x.shape;
  const [kernelH, kernelW, outC, wIn] = weight.shape;
  if (wIn !== xC) {
    throw new Error(
      `${op}: channel mismatch, the input has ${xC} channels, the weight expects ${wIn} (${shapes})`,
    );
  }
  const outH = (xH - 1) * strideH - 2 * padH + kernelH + opH;
  const outW = (xW - 1) * strideW - 2 * padW + kernelW + opW;
  if (xH < 1 || xW < 1 || outH < 1 || outW < 1) {
    throw new Error(
      `${op}: output would be ${outH}×${outW}; padding ${padH},${padW} is too large (${shapes})`,
    );
  }
  // The conv2d whose adjoint this is maps [N,outH,outW,outC] to x's [N,xH,xW,xC].
  return {
    batch,
    inH: outH,
    inW: outW,
    inC: outC,
    outH: xH,
    outW: xW,
    outC: xC,
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
  };
}

// ---- weight layouts ------------------------------------------------------------------------------

/**
 * PyTorch's conv weight [A,B,kh,kw] → the runtime's [kh,kw,B,A]. For conv2d A = Cout, B = Cin; for
 * convTranspose2d A = Cin, B = Cout: one permutation serves both.
 */
export function fromTorchConvWeight(
  data: Float32Array,
  torchShape: readonly number[],
): Float32Array<ArrayBuffer> {
  const [A, B, kh, kw] = torchShape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < kh * kw; t++) out[(t * B + b) * A + a] = data[(a * B + b) * kh * kw + t];
    }
  }
  return out;
}

/** The runtime's conv weight [kh,kw,B,A] → PyTorch's [A,B,kh,kw] (inverse of fromTorchConvWeight). */
export function toTorchConvWeight(data: Float32Array, shape: readonly number[]): Float32Array<ArrayBuffer> {
  const [kh, kw, B, A] = shape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < kh * kw; t++) out[(a * B + b) * kh * kw + t] = data[(t * B + b) * A + a];
    }
  }
  return out;
}

// ---- kernels (no tape) ---------------------------------------------------------------------------

/** Register tile per invocation: TM rows (pixels, or weight rows) × TN columns (channels). */
export interface ConvTile {
  TM: number;
  TN: number;
  WG: number;
}

/**
 * "cpu": big register tiles, no workgroup memory (barriers are costly on a CPU adapter; loads per
 * FMA set the speed). "gpu": small register tiles, many invocations. The "cpu" kernels were written
 * and measured on lavapipe, and only there: SwiftShader, also a CPU driver, grows to tens of GB
 * compiling the written-out tiles. So lavapipe gets "cpu" and every other driver "gpu", which
 * compiles on each driver tried. ANOGAN_CONV_VARIANT=cpu|gpu overrides the driver's choice (and
 * still goes through the compile check at init); `setConvVariant` forces one (tests run both).
 */
export type ConvVariant = "cpu" | "gpu";
let forcedVariant: ConvVariant | null = null;
/** The variant chosen at init(): the driver's (or the environment's), unless it failed to compile. */
let checkedVariant: ConvVariant | null = null;

export function setConvVariant(v: ConvVariant | null): void {
  forcedVariant = v;
}

/** The variant an adapter gets by its driver, before any compile check: a pure function of its info. */
export function convVariantFor(info: AdapterIdentity): ConvVariant {
  return driverOf(info) === "lavapipe" ? "cpu" : "gpu";
}

/** ANOGAN_CONV_VARIANT, if readable (without --allow-env it counts as unset). */
export function convVariantEnv(): string | undefined {
  try {
    return Deno.env.get("ANOGAN_CONV_VARIANT");
  } catch {
    return undefined;
  }
}

/** The variant to try on an adapter: the environment's override if set, else its driver's. */
export function preferredConvVariant(info: AdapterIdentity, override: string | undefined): ConvVariant {
  if (override === undefined || override === "") return convVariantFor(info);
  if (override !== "cpu" && override !== "gpu") {
    throw new Error(
      `ANOGAN_CONV_VARIANT must be "cpu" or "gpu", got "${override}"; unset it to choose by driver`,
    );
  }
  return override;
}

export function convVariant(): ConvVariant {
  return forcedVariant ?? checkedVariant ?? preferredConvVariant(rt().gpu.info, convVariantEnv());
}

/** The variant that always compiles: its kernels are small loops, as on any GPU. */
const KNOWN_GOOD: ConvVariant = "gpu";

/**
 * A "cpu" kernel that takes longer than this to compile is given up for the "gpu" variant. What the
 * check sees is pipeline creation: SwiftShader compiles there, lavapipe mostly at the first dispatch.
 */
export const CONV_COMPILE_BUDGET_MS = 60_000;

/**
 * Settles the variant to use: `wanted`, if each kernel that only it dispatches compiles, else the
 * known-good one, with a one-line notice saying which kernel failed and why.
 */
export async function settleConvVariant(
  wanted: ConvVariant,
  adapter: string,
  compile: (def: KernelDef) => Promise<unknown>,
  kernels: readonly KernelDef[] = variantOnlyKernels(wanted),
): Promise<{ variant: ConvVariant; notice: string | null }> {
  for (const def of kernels) {
    try {
      await compile(def);
    } catch (e) {
      const reason = e instanceof KernelCompileError ? e.reason : (e as Error).message;
      // One line: a WGSL error's first line names it; the rest is a source excerpt.
      const first = reason.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "no reason given";
      const line = e instanceof KernelCompileError ? `${e.kernel}: ${first}` : first;
      const notice = `conv kernels: the "${wanted}" variant does not compile on ${adapter} ` +
        `(${line}); using the "${KNOWN_GOOD}" variant`;
      return { variant: KNOWN_GOOD, notice };
    }
  }
  return { variant: wanted, notice: null };
}

onInit(async (runtime) => {
  const wanted = preferredConvVariant(runtime.gpu.info, convVariantEnv());
  const settled = await settleConvVariant(
    wanted,
    runtime.gpu.description,
    (def) => runtime.compileChecked(def, CONV_COMPILE_BUDGET_MS),
  );
  if (settled.notice) console.error(settled.notice);
  checkedVariant = settled.variant;
});

/** The tile for a GEMM with `rows` rows and `cols` columns (narrow shapes get narrow tiles). */
export function convTile(kind: "pixels" | "weightRows", rows: number, cols: number): ConvTile {
  if (convVariant() === "gpu") return { TM: 4, TN: 4, WG: 64 };
  const TN = cols <= 4 ? 4 : 32;
  // Few rows: smaller tiles, or most of a 32-row tile would compute clamped duplicates.
  const TM = kind === "weightRows" ? (rows <= 64 ? 2 : 32) : (rows < 1024 ? 8 : 32);
  return { TM, TN, WG: 16 };
}

/** Both channel counts are multiples of 4: the kernels read channels as vec4 (fewer, wider loads). */
function vec4Channels(g: ConvGeometry): boolean {
  return g.inC % 4 === 0 && g.outC % 4 === 0;
}

/**
 * The *_tile32 kernels: 32 × 32 register tiles written out statement by statement, 16 invocations
 * per workgroup. On lavapipe a looped tile of the same size stays in memory and runs at half the
 * speed; one pipeline per direction serves every shape (geometry is uniform).
 */
const TILE32 = { rows: 32, cols: 32, WG: 16 };

function tile32Kernel(role: "forward" | "grad_input" | "grad_weight"): KernelDef {
  const file = `conv2d_${role}_tile32.wgsl`;
  const constants = { WG: TILE32.WG };
  return role === "grad_weight"
    ? { file, constants, storage: 3, writes: [2] }
    : { file, constants, storage: 4, writes: [3] };
}

/** The one-channel forward and input-gradient kernels: 64 invocations per workgroup. */
function oneChannelKernel(role: "forward" | "grad_input"): KernelDef {
  return { file: `conv2d_${role}_c1.wgsl`, constants: { WG: 64 }, storage: 4, writes: [3] };
}

/** Channel groups of 4 per lane in the one-channel weight gradient: fewer for narrow outputs. */
function oneChannelGroups(outC: number): number {
  return outC >= 64 ? 16 : outC >= 32 ? 8 : 4;
}

function oneChannelGradWeightKernel(taps: number, groups: number): KernelDef {
  const constants = { WG: taps <= 32 ? 32 : 64, GROUPS: groups };
  return { file: "conv2d_grad_weight_c1.wgsl", constants, storage: 3, writes: [2] };
}

/**
 * Every specialisation of the kernels that only this variant dispatches, compiled at init() to
 * check that the driver takes them. The looped kernels both variants share are not in it.
 */
export function variantOnlyKernels(variant: ConvVariant): KernelDef[] {
  if (variant === "gpu") return [];
  const roles = ["forward", "grad_input", "grad_weight"] as const;
  return [
    ...roles.map(tile32Kernel),
    oneChannelKernel("forward"),
    oneChannelKernel("grad_input"),
    ...[32, 64].flatMap((taps) => [4, 8, 16].map((groups) => oneChannelGradWeightKernel(taps, groups))),
  ];
}

function useTile32(g: ConvGeometry): boolean {
  return convVariant() === "cpu" && vec4Channels(g);
}

function geometryParams(g: ConvGeometry, last: number): Params {
  return new Params().u32(
    g.batch,
    g.inH,
    g.inW,
    g.inC,
    g.outH,
    g.outW,
    g.outC,
    last,
    g.kernelH,
    g.kernelW,
    g.strideH,
    g.strideW,
    g.padH,
    g.padW,
    0,
    0,
  );
}

/** conv2d forward: x [N,inH,inW,inC], w [kh,kw,inC,outC] → [N,outH,outW,outC]. */
export function convForwardKernel(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, label: string) {
  const y = Tensor.empty([g.batch, g.outH, g.outW, g.outC]);
  const pixels = g.batch * g.outH * g.outW;
  const bindings = [x.buffer, w.buffer, (bias ?? w).buffer, y.buffer];
  if (convVariant() === "cpu" && g.inC === 1 && g.outC % 4 === 0) {
    // One image channel: 4 pixels × 16 channels per invocation (a 32-channel Cin·kh·kw tile would idle).
    rt().dispatch(oneChannelKernel("forward"), bindings, geometryParams(g, bias ? 1 : 0), [
      Math.ceil(pixels / (4 * 64)),
      Math.ceil(g.outC / 16),
    ], label);
    return y;
  }
  if (useTile32(g)) {
    rt().dispatch(tile32Kernel("forward"), bindings, geometryParams(g, bias ? 1 : 0), [
      Math.ceil(pixels / (TILE32.rows * TILE32.WG)),
      Math.ceil(g.outC / TILE32.cols),
    ], label);
    return y;
  }
  const t = convTile("pixels", pixels, g.outC);
  const file = vec4Channels(g) ? "conv2d_forward_vec4.wgsl" : "conv2d_forward.wgsl";
  const def = { file, constants: { ...t }, storage: 4, writes: [3] };
  rt().dispatch(def, bindings, geometryParams(g, bias ? 1 : 0), [
    Math.ceil(pixels / (t.TM * t.WG)),
    Math.ceil(g.outC / t.TN),
  ], label);
  return y;
}

/** conv2d input gradient: dy [N,outH,outW,outC], w [kh,kw,inC,outC] → [N,inH,inW,inC] (+ bias [inC]). */
export function convGradInputKernel(
  dy: Tensor,
  w: Tensor,
  bias: Tensor | null,
  g: ConvGeometry,
  label: string,
) {
  const dx = Tensor.empty([g.batch, g.inH, g.inW, g.inC]);
  // Phase (0, 0) has the most pixels: ⌈H / stride⌉ rows and ⌈W / stride⌉ columns.
  const phasePixels = g.batch * Math.ceil(g.inH / g.strideH) * Math.ceil(g.inW / g.strideW);
  const bindings = [dy.buffer, w.buffer, (bias ?? w).buffer, dx.buffer];
  if (convVariant() === "cpu" && g.inC === 1 && g.outC % 4 === 0) {
    // One image channel: 4 pixels per invocation, Cout read as vec4 (a 32-channel tile would idle).
    rt().dispatch(oneChannelKernel("grad_input"), bindings, geometryParams(g, bias ? 1 : 0), [
      Math.ceil(phasePixels / (4 * 64)),
      1,
      g.strideH * g.strideW,
    ], label);
    return dx;
  }
  if (useTile32(g)) {
    rt().dispatch(tile32Kernel("grad_input"), bindings, geometryParams(g, bias ? 1 : 0), [
      Math.ceil(phasePixels / (TILE32.rows * TILE32.WG)),
      Math.ceil(g.inC / TILE32.cols),
      g.strideH * g.strideW,
    ], label);
    return dx;
  }
  const t = convTile("pixels", phasePixels, g.inC);
  const file = vec4Channels(g) ? "conv2d_grad_input_vec4.wgsl" : "conv2d_grad_input.wgsl";
  const def = { file, constants: { ...t }, storage: 4, writes: [3] };
  rt().dispatch(def, bindings, geometryParams(g, bias ? 1 : 0), [
    Math.ceil(phasePixels / (t.TM * t.WG)),
    Math.ceil(g.inC / t.TN),
    g.strideH * g.strideW,
  ], label);
  return dx;
}

/** Pixels per split-K chunk never fall below this (partials cost memory and a second pass). */
const MIN_CHUNK_PIXELS = 256;

/**
 * The fixed split-K partition of the weight gradient: a pure function of the geometry and the tile,
 * so results are bit-identical run after run. `groups` is the number of workgroups per chunk;
 * chunks are multiples of `align` pixels.
 */
export function gradWeightSplit(
  g: ConvGeometry,
  groups: number,
  align = 1,
): { chunk: number; parts: number } {
  const pixels = g.batch * g.outH * g.outW;
  const wanted = convVariant() === "cpu" ? 32 : 512; // workgroups that keep the device busy
  const parts = Math.max(1, Math.min(Math.ceil(wanted / groups), Math.floor(pixels / MIN_CHUNK_PIXELS)));
  const chunk = Math.ceil(Math.ceil(pixels / parts) / align) * align;
  return { chunk, parts: Math.ceil(pixels / chunk) };
}

/** conv2d weight gradient: x [N,inH,inW,inC], dy [N,outH,outW,outC] → [kh,kw,inC,outC]. */
export function convGradWeightKernel(x: Tensor, dy: Tensor, g: ConvGeometry, label: string) {
  const rows = g.kernelH * g.kernelW * g.inC;
  const dw = Tensor.empty([g.kernelH, g.kernelW, g.inC, g.outC]);
  let def: KernelDef, grid: [number, number], split;
  const taps = g.kernelH * g.kernelW;
  if (convVariant() === "cpu" && g.inC === 1 && g.outC % 4 === 0 && taps <= 64) {
    // One image channel: a lane per tap, all walking the same pixels, up to 64 channels each.
    const groups = oneChannelGroups(g.outC);
    def = oneChannelGradWeightKernel(taps, groups);
    grid = [1, Math.ceil(g.outC / (4 * groups))];
    split = gradWeightSplit(g, grid[1]);
  } else if (useTile32(g)) {
    // Row blocks of 4 input channels at one tap; pixels walked four at a time.
    def = tile32Kernel("grad_weight");
    grid = [Math.ceil(rows / (TILE32.rows * TILE32.WG)), Math.ceil(g.outC / TILE32.cols)];
    split = gradWeightSplit(g, grid[0] * grid[1], 4);
  } else {
    const t = convTile("weightRows", rows, g.outC);
    def = { file: "conv2d_grad_weight.wgsl", constants: { ...t }, storage: 3, writes: [2] };
    grid = [Math.ceil(rows / (t.TM * t.WG)), Math.ceil(g.outC / t.TN)];
    split = gradWeightSplit(g, grid[0] * grid[1]);
  }
  const { chunk, parts } = split;
  const partial = parts === 1 ? dw : Tensor.empty([parts, rows, g.outC]);
  rt().dispatch(
    def,
    [x.buffer, dy.buffer, partial.buffer],
    geometryParams(g, chunk),
    [...grid, parts],
    label,
  );
  if (parts > 1) {
    const count = rows * g.outC;
    const sumDef = { file: "conv2d_sum_partials.wgsl", constants: { WG: 64 }, storage: 2, writes: [1] };
    const params = new Params().u32(count, parts, 0, 0);
    rt().dispatch(sumDef, [partial.buffer, dw.buffer], params, grid1d(Math.ceil(count / 64)), `${label}.sum`);
    partial.dispose();
  }
  return dw;
}
