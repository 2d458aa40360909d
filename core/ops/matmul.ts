// Matrix products: matmul and linear (y = x·Wᵀ + b, PyTorch's layout), each with its backward.

import { Params, rt } from "../kernel.ts";
import { record } from "../autograd.ts";
import { shapeString, Tensor } from "../tensor.ts";
import { reduceKernel } from "./reduce.ts";

/** C = op(A)·op(B) (+ bias), no tape. A is [M,K] (or [K,M] transposed), B is [K,N] (or [N,K]). */
export function matmulKernel(
  a: Tensor,
  b: Tensor,
  opts: { transA?: boolean; transB?: boolean; bias?: Tensor; label?: string } = {},
): Tensor {
  const { transA = false, transB = false, bias } = opts;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  const c = Tensor.empty([M, N]);
  const def = {
    file: "matmul.wgsl",
    constants: { TRANS_A: transA, TRANS_B: transB, HAS_BIAS: bias !== undefined },
    storage: 4,
    writes: [3],
  };
  if (K !== Kb) throw new Error(`matmul: inner sizes differ (${K} vs ${Kb})`);
  const params = new Params().u32(M, N, K, 0);
  const buffers = [a.buffer, b.buffer, (bias ?? a).buffer, c.buffer];
  rt().dispatch(def, buffers, params, [Math.ceil(N / 32), Math.ceil(M / 32)], opts.label ?? "matmul");
  return c;
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
