// Matrix products: matmul and linear (y = x·Wᵀ + b, PyTorch's layout), each with its backward.

import { convForwardKernel, type ConvGeometry, convGradInputKernel, convGradWeightKernel } from "./conv.ts";
import { record } from "../autograd.ts";
import { grid1d, Params, rt } from "../kernel.ts";
import { shapeString, Tensor } from "../tensor.ts";
import { reduceKernel } from "./reduce.ts";
import { transposeKernel } from "./shape.ts";

/**
 * C = op(A)·op(B) (+ bias [N]), no tape. A is [M,K] (or [K,M] transposed), B is [K,N] (or [N,K]).
 * Runs on the conv kernels (`pointwiseConv`); Aᵀ·Bᵀ, and a bias with Aᵀ, are not offered.
 */
export function matmulKernel(
  a: Tensor,
  b: Tensor,
  opts: { transA?: boolean; transB?: boolean; bias?: Tensor; label?: string } = {},
): Tensor {
  const { transA = false, transB = false, bias } = opts;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== Kb) throw new Error(`matmul: inner sizes differ (${K} vs ${Kb})`);
  if (transA && (transB || bias)) throw new Error("matmul: Aᵀ·Bᵀ and Aᵀ·B + bias are not offered");
  const label = opts.label ?? "matmul";
  // A GEMM tile is rows × columns of lanes: a product with one output column, one output row, one
  // inner step or few rows would leave most of them idle, and runs another way.
  if (!transA && N === 1 && K % 4 === 0) return gemvRows(a, b, M, K, bias ?? null, label);
  if (transA && M === 1 && N % 4 === 0) return gemvColumns(a, b, K, N, label);
  if (K === 1 && N % 4 === 0 && !bias) return outer(a, b, M, N, label);
  if (transB && M < FEW_ROWS && N > M) return transposedLinear(a, b, M, N, K, bias ?? null, label);
  return pointwiseConv(a, b, M, N, K, transA, transB, bias ?? null, label);
}

/**
 * Fewer rows than this, and more columns than rows: A·Bᵀ is computed as (B·Aᵀ)ᵀ, so that the GEMM's
 * rows (a tile's lanes) are B's rows. The conv kernels' workgroups cover 512 rows ("cpu": 16 lanes × 32)
 * or 256 ("gpu"): a linear layer on a batch of 64 filled an eighth of them.
 */
const FEW_ROWS = 512;

/** Invocations per workgroup of gemv.wgsl. */
const GEMV_WG = 64;

/** y [M, 1] = A [M, K] · v (+ bias [1]), v being B [K, 1] or Bᵀ [1, K]: a fixed-order tree per row. */
function gemvRows(a: Tensor, v: Tensor, M: number, K: number, bias: Tensor | null, label: string): Tensor {
  const y = Tensor.empty([M, 1]);
  const def = { file: "gemv.wgsl", entry: "rows", constants: { WG: GEMV_WG }, storage: 4, writes: [3] };
  const params = new Params().u32(M, K, 1, bias ? 1 : 0);
  rt().dispatch(def, [a.buffer, v.buffer, (bias ?? v).buffer, y.buffer], params, grid1d(M), label);
  return y;
}

/** y [1, N] = uᵀ · B [K, N], u being Aᵀ stored as [K, 1]: k in order for each output. */
function gemvColumns(u: Tensor, b: Tensor, K: number, N: number, label: string): Tensor {
  const y = Tensor.empty([1, N]);
  const def = { file: "gemv.wgsl", entry: "columns", constants: { WG: GEMV_WG }, storage: 4, writes: [3] };
  const params = new Params().u32(1, K, N, 0);
  rt().dispatch(
    def,
    [b.buffer, u.buffer, u.buffer, y.buffer],
    params,
    grid1d(Math.ceil(N / 4 / GEMV_WG)),
    label,
  );
  return y;
}

/** y [M, N] = a ⊗ b for an inner size of 1 (a [M, 1] or Aᵀ [1, M], b [1, N] or Bᵀ [N, 1]): one product each. */
function outer(a: Tensor, b: Tensor, M: number, N: number, label: string): Tensor {
  const y = Tensor.empty([M, N]);
  const def = { file: "gemv.wgsl", entry: "outer", constants: { WG: GEMV_WG }, storage: 4, writes: [3] };
  const params = new Params().u32(M, 1, N, 0);
  rt().dispatch(
    def,
    [b.buffer, a.buffer, a.buffer, y.buffer],
    params,
    grid1d(Math.ceil(M * N / 4 / GEMV_WG)),
    label,
  );
  return y;
}

/**
 * A [M, K] · Bᵀ (+ bias) with B [N, K], as (B · Aᵀ)ᵀ: B's N rows are the GEMM's pixels, Aᵀ [K, M] its
 * 1×1 weight, and the transpose back adds the bias. Each output is the same fused sum over K in the
 * same order as the direct route, and the bias is added once at the end in both: the same bits.
 */
function transposedLinear(
  a: Tensor,
  b: Tensor,
  M: number,
  N: number,
  K: number,
  bias: Tensor | null,
  label: string,
): Tensor {
  const aT = transposeKernel(a, undefined, `${label}.transpose`);
  const yT = convForwardKernel(b, aT, null, pointwise(N, K, M), label).reshapeOwned([N, M]);
  aT.dispose();
  const y = transposeKernel(yT, bias ?? undefined, `${label}.transpose`);
  yT.dispose();
  return y;
}

/** A 1×1 convolution over `pixels` one-pixel images, `inC` channels in, `outC` out. */
function pointwise(pixels: number, inC: number, outC: number): ConvGeometry {
  return {
    batch: pixels,
    inH: 1,
    inW: 1,
    inC,
    outH: 1,
    outW: 1,
    outC,
    kernelH: 1,
    kernelW: 1,
    strideH: 1,
    strideW: 1,
    padH: 0,
    padW: 0,
  };
}

/**
 * A matmul as the 1×1 convolution it is, on the conv kernels (the runtime's fastest GEMMs: register
 * tiles written out, operands read as storage textures on lavapipe). Rows are pixels, the
 * other two sizes channels: A·B is conv2d's forward (B a [1,1,K,N] weight), A·Bᵀ its input gradient
 * (B a [1,1,N,K] weight, N the conv's input channels), Aᵀ·B its weight gradient (A and B images
 * [K,1,1,M] and [K,1,1,N]). Each sums over K in a fixed order (deterministic).
 */
function pointwiseConv(
  a: Tensor,
  b: Tensor,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  bias: Tensor | null,
  label: string,
): Tensor {
  const out = transA
    ? convGradWeightKernel(a, b, pointwise(K, M, N), label)
    : transB
    ? convGradInputKernel(a, b, bias, pointwise(M, N, K), label)
    : convForwardKernel(a, b, bias, pointwise(M, K, N), label);
  return out.reshapeOwned([M, N]);
}

function check2d(op: string, name: string, t: Tensor): void {
  if (t.rank !== 2) throw new Error(`${op}: ${name} must be 2-D, got shape ${shapeString(t.shape)}`);
}

/** a [M,K] · b [K,N] → [M,N]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  check2d("matmul", "a", a);
  check2d("matmul", "b", b);
  if (a.shape[1] !== b.shape[0]) {
    throw new Error(`matmul: shapes ${shapeString(a.shape)} and ${shapeString(b.shape)} do not chain`);
  }
  const y = matmulKernel(a, b);
  return record(y, "matmul", [a, b], (gy, needs) => [
    needs[0] ? matmulKernel(gy, b, { transB: true, label: "matmul.gradA" }) : null,
    needs[1] ? matmulKernel(a, gy, { transA: true, label: "matmul.gradB" }) : null,
  ]);
}

/** x [B,in] · weightᵀ (+ bias) with weight [out,in] and bias [out] → [B,out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  check2d("linear", "input", x);
  check2d("linear", "weight", weight);
  if (x.shape[1] !== weight.shape[1]) {
    throw new Error(
      `linear: input ${shapeString(x.shape)} has ${x.shape[1]} features, weight ${
        shapeString(weight.shape)
      } expects ${weight.shape[1]}`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(
      `linear: bias ${shapeString(bias.shape)} does not match weight ${shapeString(weight.shape)}`,
    );
  }
  const y = matmulKernel(x, weight, { transB: true, bias, label: "linear" });
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, "linear", inputs, (gy, needs) => [
    needs[0] ? matmulKernel(gy, weight, { label: "linear.gradInput" }) : null,
    needs[1] ? matmulKernel(gy, x, { transA: true, label: "linear.gradWeight" }) : null,
    needs[2] ? reduceKernel(gy, [0], 1, undefined, "linear.gradBias") : null,
  ]);
}
