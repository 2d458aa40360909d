// Elementwise ops: unary maps, binary arithmetic with broadcasting, fills; each with its backward.

import { grid1d, type KernelDef, Params, rt } from "../kernel.ts";
import { record, setGradKernels } from "../autograd.ts";
import { type Shape, shapeString, Tensor } from "../tensor.ts";
import { sumTo } from "./reduce.ts";

const WG = 256;
const MAX_RANK = 8;

/** Dispatches a flat kernel over n elements, one invocation each. */
export function launchFlat(def: KernelDef, bindings: GPUBuffer[], params: Params, n: number, label: string) {
  rt().dispatch(def, bindings, params, grid1d(Math.ceil(n / WG)), label);
}

// ---- unary ------------------------------------------------------------------------------------

const UNARY = {
  neg: 0,
  abs: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  clamp: 5,
  relu: 6,
  leakyRelu: 7,
  tanh: 8,
  sigmoid: 9,
  scale: 10,
  copy: 11,
  sign: 12,
  accumulate: 13,
} as const;
type UnaryOp = keyof typeof UNARY;

interface UnaryArgs {
  alpha?: number;
  lo?: number;
  hi?: number;
}

function unaryParams(n: number, a: UnaryArgs): Params {
  return new Params().u32(n).f32(a.alpha ?? 0, a.lo ?? 0, a.hi ?? 0);
}

function unaryKernel(op: UnaryOp, x: Tensor, y: Tensor, args: UnaryArgs): void {
  const def = { file: "unary.wgsl", constants: { OP: UNARY[op], WG }, storage: 2, writes: [1] };
  launchFlat(def, [x.buffer, y.buffer], unaryParams(x.size, args), x.size, op);
}

function unary(op: UnaryOp, x: Tensor, args: UnaryArgs = {}, differentiable = true): Tensor {
  const y = Tensor.empty(x.shape);
  unaryKernel(op, x, y, args);
  if (!differentiable) return y;
  return record(y, op, [x], (gy) => {
    const gx = Tensor.empty(x.shape);
    const def = { file: "unary_grad.wgsl", constants: { OP: UNARY[op], WG }, storage: 4, writes: [3] };
    launchFlat(
      def,
      [x.buffer, y.buffer, gy.buffer, gx.buffer],
      unaryParams(x.size, args),
      x.size,
      `${op}.grad`,
    );
    return [gx];
  });
}

export const neg = (x: Tensor): Tensor => unary("neg", x);
export const abs = (x: Tensor): Tensor => unary("abs", x);
export const exp = (x: Tensor): Tensor => unary("exp", x);
export const log = (x: Tensor): Tensor => unary("log", x);
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
export const relu = (x: Tensor): Tensor => unary("relu", x);
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/** max(α·x, x) for α < 1: PyTorch's LeakyReLU (gradient α where x ≤ 0). */
export const leakyRelu = (x: Tensor, alpha = 0.01): Tensor => unary("leakyRelu", x, { alpha });
/** The activations a layer's output stage may apply (kernels/activation.wgsl), LeakyReLU with its slope. */
export type Activation = { op: "relu" | "tanh" } | { op: "leakyRelu"; alpha: number };

/** An activation's code in kernels/activation.wgsl (the same as its elementwise op's) and its slope. */
export function activationParams(a: Activation): { code: number; alpha: number } {
  return { code: UNARY[a.op], alpha: a.op === "leakyRelu" ? a.alpha : 0 };
}

/** The activation `a` of x, as its elementwise op (on the tape). */
export function activate(x: Tensor, a: Activation): Tensor {
  return a.op === "leakyRelu" ? leakyRelu(x, a.alpha) : unary(a.op, x);
}

/** The activation `a` of x into a new tensor, no tape (a layer's output stage, applied after it). */
export function activateKernel(x: Tensor, a: Activation): Tensor {
  const y = Tensor.empty(x.shape);
  unaryKernel(a.op, x, y, { alpha: activationParams(a).alpha });
  return y;
}

/**
 * `a` where it is ReLU or LeakyReLU, the activations a kernel's output stage applies as it writes
 * (kernels/activation.wgsl's rectify4 and batch norm's passes); undefined otherwise.
 */
export function rectifier(a: Activation | undefined): Activation | undefined {
  return a && (a.op === "relu" || a.op === "leakyRelu") ? a : undefined;
}

/** y, or its activation where the kernel that wrote y did not apply it (`fused`; y is then released). */
export function activatedAfter(
  y: Tensor,
  act: Activation | undefined,
  fused: Activation | undefined,
): Tensor {
  if (!act || fused) return y;
  const out = activateKernel(y, act);
  y.dispose();
  return out;
}

/**
 * A layer's backward behind an activation applied after it: `grads` of the pre-activation gradient
 * gz = gy · a′(y) (gy itself without one), gz released once they are recorded.
 */
export function throughActivation(
  act: Activation | undefined,
  y: Tensor,
  gy: Tensor,
  grads: (gz: Tensor) => (Tensor | null)[],
): (Tensor | null)[] {
  if (!act) return grads(gy);
  const gz = activationGradKernel(act, y, gy);
  const out = grads(gz);
  gz.dispose();
  return out;
}

/**
 * gy · a′ from the activation's output y alone, no tape: the backward of a layer whose output stage
 * applied `a`. ReLU and LeakyReLU test y > 0, which holds exactly where x > 0; tanh's derivative is
 * 1 − y² either way: the same bits as the elementwise op's gradient from x.
 */
export function activationGradKernel(a: Activation, y: Tensor, gy: Tensor): Tensor {
  const gx = Tensor.empty(y.shape);
  const def = { file: "unary_grad.wgsl", constants: { OP: UNARY[a.op], WG }, storage: 4, writes: [3] };
  const params = unaryParams(y.size, { alpha: activationParams(a).alpha });
  launchFlat(def, [y.buffer, y.buffer, gy.buffer, gx.buffer], params, y.size, `${a.op}.grad`);
  return gx;
}

/** α·x. */
export const scale = (x: Tensor, alpha: number): Tensor => unary("scale", x, { alpha });
/** sign(x) ∈ {-1, 0, 1}; not differentiable (its gradient is 0 almost everywhere). */
export const sign = (x: Tensor): Tensor => unary("sign", x, {}, false);

/** min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi, as in PyTorch. */
export function clamp(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  if (lo > hi) throw new Error(`clamp: lo ${lo} is greater than hi ${hi}`);
  return unary("clamp", x, { lo: Math.max(lo, -3.4e38), hi: Math.min(hi, 3.4e38) });
}

/** A copy with its own storage (the gradient passes through). */
export function copy(x: Tensor): Tensor {
  const y = Tensor.empty(x.shape);
  unaryKernel("copy", x, y, {});
  return record(y, "copy", [x], (gy) => [gy]);
}

/** into += g, in place (no tape). Used to accumulate gradients and by optimisers. */
export function accumulate(into: Tensor, g: Tensor): void {
  if (into.size !== g.size) {
    throw new Error(`accumulate: shapes ${shapeString(into.shape)} and ${shapeString(g.shape)} differ`);
  }
  unaryKernel("accumulate", g, into, {});
}

/** dst ← src, in place (no tape): a buffer copy recorded in the current step. */
export function assign(dst: Tensor, src: Tensor): void {
  if (dst.size !== src.size) {
    throw new Error(`assign: shapes ${shapeString(dst.shape)} and ${shapeString(src.shape)} differ`);
  }
  if (dst.size > 0) rt().copy(src.buffer, 0, dst.buffer, 0, dst.size * 4);
}

// ---- fills ------------------------------------------------------------------------------------

/** Overwrites every element of `t` with `value`, in place. */
export function fill_(t: Tensor, value: number): Tensor {
  const def = { file: "fill.wgsl", constants: { WG }, storage: 1, writes: [0] };
  launchFlat(def, [t.buffer], new Params().u32(t.size).f32(value), t.size, "fill");
  return t;
}

export const full = (shape: Shape, value: number): Tensor => fill_(Tensor.empty(shape), value);
export const zeros = (shape: Shape): Tensor => full(shape, 0);
export const ones = (shape: Shape): Tensor => full(shape, 1);

// ---- binary with broadcasting -----------------------------------------------------------------

const BINARY = { add: 0, sub: 1, mul: 2, div: 3, signDiff: 4, bceWithLogits: 5, sigmoidMinus: 6 } as const;
export type BinaryOp = keyof typeof BINARY;

/** numpy broadcasting of two shapes; the error names the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeString(a)} and ${shapeString(b)} cannot be broadcast together`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Row-major strides of `shape` seen from `outShape` (right-aligned, 0 where broadcast), padded to 8. */
function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = new Array(MAX_RANK).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const at = MAX_RANK - (shape.length - i);
    strides[at] = shape[i] === 1 && outShape[outShape.length - (shape.length - i)] !== 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

function padShape(shape: Shape): number[] {
  if (shape.length > MAX_RANK) {
    throw new Error(`tensors of rank ${shape.length} exceed the maximum ${MAX_RANK}`);
  }
  return [...new Array(MAX_RANK - shape.length).fill(1), ...shape];
}

/** out = op(a, b) over `outShape`; a (and b unless it is a number) broadcast to it. No tape. */
export function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor | number, outShape: Shape): Tensor {
  const out = Tensor.empty(outShape);
  const bScalar = typeof b === "number";
  const sameShape = (t: Tensor) => t.size === out.size;
  const bcast = !sameShape(a) || (!bScalar && !sameShape(b));
  const params = new Params().u32(out.size).f32(bScalar ? b : 0).u32(0, 0)
    .vec4u(padShape(outShape), 2)
    .vec4u(broadcastStrides(a.shape, outShape), 2)
    .vec4u(bScalar ? [] : broadcastStrides(b.shape, outShape), 2);
  const def = {
    file: "binary.wgsl",
    constants: { OP: BINARY[op], BCAST: bcast, B_SCALAR: bScalar, WG },
    storage: 3,
    writes: [2],
  };
  const bBuf = bScalar ? a.buffer : b.buffer;
  launchFlat(def, [a.buffer, bBuf, out.buffer], params, out.size, op);
  return out;
}

/** x broadcast to `shape` (numpy rules), times an optional factor. */
export function broadcastTo(x: Tensor, shape: Shape, factor = 1): Tensor {
  const out = broadcastShapes("broadcastTo", x.shape, shape);
  if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
    throw new Error(`broadcastTo: ${shapeString(x.shape)} cannot be broadcast to ${shapeString(shape)}`);
  }
  const y = binaryKernel("mul", x, factor, shape);
  return record(
    y,
    "broadcastTo",
    [x],
    (gy) => [factor === 1 ? sumTo(gy, x.shape) : scale(sumTo(gy, x.shape), factor)],
  );
}

function arith(op: "add" | "sub" | "mul" | "div", a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === "number") {
    const y = binaryKernel(op, a, b, a.shape);
    return record(y, op, [a], (gy) => {
      if (op === "add" || op === "sub") return [gy];
      return [scale(gy, op === "mul" ? b : 1 / b)];
    });
  }
  const shape = broadcastShapes(op, a.shape, b.shape);
  const y = binaryKernel(op, a, b, shape);
  return record(y, op, [a, b], (gy, needs) => {
    const ga = !needs[0]
      ? null
      : op === "add" || op === "sub"
      ? sumTo(gy, a.shape)
      : sumTo(binaryKernel(op, gy, b, shape), a.shape); // gy·b or gy/b
    let gb: Tensor | null = null;
    if (needs[1]) {
      if (op === "add") gb = sumTo(gy, b.shape);
      else if (op === "sub") gb = sumTo(neg(gy), b.shape);
      else if (op === "mul") gb = sumTo(binaryKernel("mul", gy, a, shape), b.shape);
      else gb = sumTo(neg(binaryKernel("div", binaryKernel("mul", gy, y, shape), b, shape)), b.shape); // -gy·y/b
    }
    return [ga, gb];
  });
}

export const add = (a: Tensor, b: Tensor | number): Tensor => arith("add", a, b);
export const sub = (a: Tensor, b: Tensor | number): Tensor => arith("sub", a, b);
export const mul = (a: Tensor, b: Tensor | number): Tensor => arith("mul", a, b);
export const div = (a: Tensor, b: Tensor | number): Tensor => arith("div", a, b);

setGradKernels({
  accumulate,
  add: (a, b) => binaryKernel("add", a, b, a.shape),
  copy: (t) => {
    const y = Tensor.empty(t.shape);
    unaryKernel("copy", t, y, {});
    return y;
  },
  ones,
});
