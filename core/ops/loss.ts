// Losses: l1Sum (Σ|a − b|, the residual loss of eq. 3) and bceWithLogits (eq. 1/2, and D̂ of GANR).

import { record } from "../autograd.ts";
import { shapeString, Tensor } from "../tensor.ts";
import { binaryKernel, broadcastTo, mul, neg } from "./elementwise.ts";
import { mean, normaliseAxes, reduceKernel, sum } from "./reduce.ts";

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes ${shapeString(a.shape)} and ${shapeString(b.shape)} must be equal`);
  }
}

/**
 * Σ|a − b| over `axes` (all when omitted; e.g. [1,2,3] gives one value per image of an [N,C,H,W]
 * batch). Fused: one pass, no |a − b| tensor.
 */
export function l1Sum(a: Tensor, b: Tensor, axes?: number | readonly number[]): Tensor {
  sameShape("l1Sum", a, b);
  const ax = normaliseAxes("l1Sum", a.shape, axes);
  const outShape = a.shape.filter((_, i) => !ax.includes(i));
  const y = reduceKernel(a, ax, 1, b).reshapeOwned(outShape);
  return record(y, "l1Sum", [a, b], (gy, needs) => {
    const kept = a.shape.map((d, i) => (ax.includes(i) ? 1 : d));
    const g = mul(broadcastTo(gy.view(kept), a.shape), binaryKernel("signDiff", a, b, a.shape));
    return [needs[0] ? g : null, needs[1] ? neg(g) : null];
  });
}

export type Reduction = "mean" | "sum" | "none";

/**
 * Binary cross-entropy on logits, −[t·log σ(x) + (1−t)·log(1−σ(x))], computed stably as
 * max(x,0) − x·t + log(1 + e^(−|x|)). `target` is a tensor of x's shape or a constant.
 */
export function bceWithLogits(
  logits: Tensor,
  target: Tensor | number,
  reduction: Reduction = "mean",
): Tensor {
  if (typeof target !== "number") sameShape("bceWithLogits", logits, target);
  const loss = binaryKernel("bceWithLogits", logits, target, logits.shape);
  const inputs = typeof target === "number" ? [logits] : [logits, target];
  const elementwise = record(loss, "bceWithLogits", inputs, (gy, needs) => [
    needs[0] ? mul(gy, binaryKernel("sigmoidMinus", logits, target, logits.shape)) : null,
    needs[1] ? mul(gy, neg(logits)) : null,
  ]);
  if (reduction === "none") return elementwise;
  return reduction === "mean" ? mean(elementwise) : sum(elementwise);
}
