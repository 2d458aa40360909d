// Reductions over axes (sum, mean) in a fixed order, and sumTo (the backward of broadcasting).

import { grid1d, Params, rt } from "../kernel.ts";
import { record } from "../autograd.ts";
import { type Shape, shapeString, sizeOf, Tensor } from "../tensor.ts";
import { broadcastTo } from "./elementwise.ts";

const WG = 64;
/** Reductions longer than this are split into chunks summed by a second pass (fixed partition). */
const CHUNK = 1024;

/** Normalises axes (negative allowed) for a tensor of rank `rank`; all axes when undefined. */
export function normaliseAxes(op: string, shape: Shape, axes?: number | readonly number[]): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = new Set<number>();
  for (const a of list) {
    const ax = a < 0 ? a + shape.length : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= shape.length) {
      throw new Error(`${op}: axis ${a} is out of range for shape ${shapeString(shape)}`);
    }
    out.add(ax);
  }
  return [...out].sort((x, y) => x - y);
}

function rowMajorStrides(shape: Shape): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function pad8(xs: number[], fill: number): number[] {
  if (xs.length > 8) throw new Error(`reductions support at most 8 dimensions, got ${xs.length}`);
  return [...new Array(8 - xs.length).fill(fill), ...xs];
}

/**
 * Raw reduction kernel (no tape): sums `pre(x, y)` over `axes` of `x`, times `factor`; the result has
 * the kept dimensions in order. `y` (same shape as x) is only read for pre = |x − y|.
 */
export function reduceKernel(
  x: Tensor,
  axes: number[],
  factor: number,
  absDiffWith?: Tensor,
  label = absDiffWith ? "l1Sum" : "sum",
): Tensor {
  const strides = rowMajorStrides(x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = kept.map((i) => x.shape[i]);
  const redShape = axes.map((i) => x.shape[i]);
  const outCount = sizeOf(keptShape);
  const redCount = sizeOf(redShape);
  const chunks = redCount > CHUNK * 2 ? Math.ceil(redCount / CHUNK) : 1;
  const chunk = chunks > 1 ? CHUNK : Math.max(redCount, 1);
  const partial = Tensor.empty(chunks > 1 ? [...keptShape, chunks] : keptShape);
  const pre = absDiffWith ? 1 : 0;
  const y = absDiffWith ?? x;
  const groups = grid1d(Math.ceil((outCount * chunks) / WG));
  const scale = chunks > 1 ? 1 : factor;
  if (axes.every((a, i) => a === i)) {
    // The reduced axes lead: rows of outCount values (reduce_rows.wgsl, the same sums in the same order).
    const def = { file: "reduce_rows.wgsl", constants: { PRE: pre, WG }, storage: 3, writes: [2] };
    const params = new Params().u32(redCount, outCount, chunk, chunks).f32(scale);
    rt().dispatch(def, [x.buffer, y.buffer, partial.buffer], params, groups, label);
  } else {
    const params = new Params().u32(outCount, redCount, chunk, chunks).f32(scale).u32(0, 0, 0)
      .vec4u(pad8(keptShape, 1), 2)
      .vec4u(pad8(kept.map((i) => strides[i]), 0), 2)
      .vec4u(pad8(redShape, 1), 2)
      .vec4u(pad8(axes.map((i) => strides[i]), 0), 2);
    const def = { file: "reduce.wgsl", constants: { PRE: pre, WG }, storage: 3, writes: [2] };
    rt().dispatch(def, [x.buffer, y.buffer, partial.buffer], params, groups, label);
  }
  if (chunks === 1) return partial;
  const out = reduceKernel(partial, [keptShape.length], factor, undefined, label);
  partial.dispose();
  return out;
}

function keptShapeOf(shape: Shape, axes: number[], keepDims: boolean): number[] {
  return keepDims
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

function reduceOp(
  op: "sum" | "mean",
  x: Tensor,
  axesArg: number | readonly number[] | undefined,
  keepDims: boolean,
) {
  const axes = normaliseAxes(op, x.shape, axesArg);
  const count = sizeOf(axes.map((i) => x.shape[i]));
  const factor = op === "mean" ? 1 / count : 1;
  const outShape = keptShapeOf(x.shape, axes, keepDims);
  const y = reduceKernel(x, axes, factor).reshapeOwned(outShape);
  const keptDims = keptShapeOf(x.shape, axes, true);
  return record(y, op, [x], (gy) => [broadcastTo(gy.view(keptDims), x.shape, factor)]);
}

/** Σ over `axes` (all when omitted). */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
  reduceOp("sum", x, axes, keepDims);

/** Mean over `axes` (all when omitted). */
export const mean = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
  reduceOp("mean", x, axes, keepDims);

/** Sums a broadcast gradient back to `shape` (the inverse of numpy broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  if (lead < 0) throw new Error(`sumTo: cannot reduce ${shapeString(g.shape)} to ${shapeString(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return sum(g, axes).reshapeOwned(shape);
}
