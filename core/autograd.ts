// Reverse-mode autograd: ops record a node on their output; backward() walks the tape in reverse.
//
// An op records a node only when gradients are enabled and at least one input requires a gradient,
// and each node remembers which inputs need one (decided at record time), so a backward pass computes
// exactly the gradients that reach a leaf with `requiresGrad` — nothing for frozen parameters.

import { type Shape, shapeString, Tensor } from "./tensor.ts";

/** Returns the gradient of each input (null where `needs[i]` is false), given the output's gradient. */
export type BackwardFn = (gradOut: Tensor, needs: readonly boolean[]) => (Tensor | null)[];

export interface Node {
  op: string;
  inputs: readonly Tensor[];
  needs: readonly boolean[];
  backward: BackwardFn;
}

let gradDepth = 0; // > 0 inside noGrad

export function isGradEnabled(): boolean {
  return gradDepth === 0;
}

/** Runs `fn` without recording any op on the tape. */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}

/** Attaches a node to `out` when any input requires a gradient; returns `out`. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: BackwardFn): Tensor {
  if (gradDepth > 0) return out;
  const needs = inputs.map((t) => t.requiresGrad);
  if (!needs.some(Boolean)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, needs, backward };
  return out;
}

// Set by ops/elementwise.ts (autograd cannot import the ops without a cycle).
let accumulate: ((into: Tensor, g: Tensor) => void) | null = null;
let addGrads: ((a: Tensor, b: Tensor) => Tensor) | null = null;
let copyOf: ((t: Tensor) => Tensor) | null = null;
let onesLike: ((shape: Shape) => Tensor) | null = null;

export function setGradKernels(k: {
  accumulate: (into: Tensor, g: Tensor) => void;
  add: (a: Tensor, b: Tensor) => Tensor;
  copy: (t: Tensor) => Tensor;
  ones: (shape: Shape) => Tensor;
}): void {
  accumulate = k.accumulate;
  addGrads = k.add;
  copyOf = k.copy;
  onesLike = k.ones;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    const node = t.node;
    if (node) {
      node.inputs.forEach((inp, i) => {
        if (node.needs[i] && inp.node && !seen.has(inp)) stack.push([inp, false]);
      });
    }
  }
  return order; // inputs before outputs
}

/**
 * Accumulates d(root)/d(leaf) into `leaf.grad` for every leaf that requires a gradient. `gradient`
 * defaults to 1 and is required when `root` has more than one element. Leaf gradients persist
 * (outside every scope) until the leaf is disposed or its grad is reset.
 */
export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(`backward: ${root} does not require a gradient (no input on its tape requires one)`);
  }
  if (!gradient && root.size !== 1) {
    throw new Error(`backward: ${root} is not a scalar; pass the gradient of the output explicitly`);
  }
  if (gradient && gradient.size !== root.size) {
    throw new Error(
      `backward: gradient shape ${shapeString(gradient.shape)} does not match output ${
        shapeString(root.shape)
      }`,
    );
  }
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, gradient ? gradient.view(root.shape) : onesLike!(root.shape));
    if (!root.node) {
      deliver(root, grads.get(root)!);
      return;
    }
    const order = topoOrder(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const node = t.node!;
      const g = grads.get(t);
      if (!g) continue;
      const inputGrads = node.backward(g, node.needs);
      node.inputs.forEach((inp, k) => {
        const gi = inputGrads[k];
        if (!node.needs[k] || !gi) return;
        if (gi.size !== inp.size) {
          throw new Error(
            `backward of ${node.op}: gradient ${shapeString(gi.shape)} for input ${shapeString(inp.shape)}`,
          );
        }
        if (inp.node) {
          const prev = grads.get(inp);
          grads.set(inp, prev ? addGrads!(prev, gi) : gi);
        } else {
          deliver(inp, gi);
        }
      });
    }
  });
}

function deliver(leaf: Tensor, g: Tensor): void {
  if (!leaf.requiresGrad) return;
  if (leaf.grad) accumulate!(leaf.grad, g.view(leaf.shape));
  else leaf.grad = copyOf!(g.view(leaf.shape)).keep();
}
