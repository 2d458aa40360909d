// Eval-mode batch norm folded into the layer before it, for networks that are only run forward (and
// differentiated with respect to their input) while frozen. In eval mode batch norm is an affine map
// per channel c,
//   BN(u)_c = γ_c·(u_c − μ_c)/√(σ²_c + eps) + β_c = s_c·u_c + t_c,   s = γ/√(σ² + eps),  t = β − s·μ,
// so a layer u = W ⊛ x + b followed by it is one layer with W' = W·s along W's output-channel axis and
// b' = s·b + t: the same function of x, hence the same input gradient, with no batch-norm pass.
// The output-channel axis of each layout (core/ops/conv.ts, core/ops/matmul.ts):
//   conv2d           [kh, kw, Cin, Cout]   axis 3
//   convTranspose2d  [kh, kw, Cout, Cin]   axis 2
//   linear           [out, in]             axis 0; batch norm sees the output as [..., C] (channels
//                                          last), so row o belongs to channel o mod C
// The folded tensors are computed on the device, in float32, by fixed elementwise kernels: no read-back
// and no sync, so the fold can be recorded from synchronous code, and the same adapter gives the same
// bits every time. A folded layer owns copies of its tensors: a snapshot, unaffected by later updates
// of the module it came from, and freed by `dispose`.

import { noGrad } from "./autograd.ts";
import { step, Tensor } from "./tensor.ts";
import { activate, type Activation, add, broadcastTo, copy, div, mul, sqrt, sub } from "./ops/elementwise.ts";
import { linear } from "./ops/matmul.ts";
import { conv2d, type Conv2dOptions, convTranspose2d, type ConvTranspose2dOptions } from "./ops/conv.ts";
import { BatchNorm2d, Conv2d, ConvTranspose2d, Linear } from "./nn.ts";

/** A layer that batch norm may follow. */
export type FoldableLayer = Conv2d | ConvTranspose2d | Linear;

/** An inference-only layer: weight and bias constants (no gradient of their own), forward only. */
export class FoldedLayer {
  constructor(
    readonly kind: "conv2d" | "convTranspose2d" | "linear",
    readonly weight: Tensor,
    readonly bias: Tensor | null,
    readonly options: Conv2dOptions & ConvTranspose2dOptions = {},
  ) {}

  /** The layer, then `activation` if given (a conv's in one op, a linear layer's after it). */
  forward(x: Tensor, activation?: Activation): Tensor {
    const bias = this.bias ?? undefined;
    const opts = { ...this.options, activation };
    if (this.kind === "conv2d") return conv2d(x, this.weight, bias, opts);
    if (this.kind === "convTranspose2d") return convTranspose2d(x, this.weight, bias, opts);
    const y = linear(x, this.weight, bias);
    return activation ? activate(y, activation) : y;
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}

/**
 * The per-channel affine map of `norm` in eval mode: scale s = γ/√(σ² + eps) and shift t = β − s·μ,
 * each [C], from its running statistics.
 */
export function batchNormAffine(norm: BatchNorm2d): { scale: Tensor; shift: Tensor } {
  return noGrad(() => {
    const scale = div(norm.weight, sqrt(add(norm.runningVar, norm.opts.eps ?? 1e-5)));
    const shift = sub(norm.bias, mul(scale, norm.runningMean));
    return { scale, shift };
  });
}

/** Views of the weight and of a [C] scale under which the scale broadcasts along the output channels. */
function channelView(layer: FoldableLayer, channels: number): { weight: number[]; scale: number[] } {
  const shape = layer.weight.shape;
  if (layer instanceof Conv2d) return { weight: [...shape], scale: [channels] };
  if (layer instanceof ConvTranspose2d) return { weight: [...shape], scale: [channels, 1] };
  const [out, inp] = shape;
  return { weight: [out / channels, channels, inp], scale: [channels, 1] };
}

function outputChannels(layer: FoldableLayer): number {
  return layer instanceof Linear ? layer.outFeatures : layer.outChannels;
}

/**
 * `layer` followed by eval-mode `norm` as one layer (W' = W·s, b' = s·b + t), or a copy of `layer`
 * alone when `norm` is null. `norm` must be in eval mode, the only mode in which it is a fixed affine map
 * (of its running statistics). A linear layer's outputs must be a whole number of channel groups.
 */
export function foldBatchNorm(layer: FoldableLayer, norm: BatchNorm2d | null): FoldedLayer {
  const kind = layer instanceof Conv2d
    ? "conv2d"
    : layer instanceof ConvTranspose2d
    ? "convTranspose2d"
    : "linear";
  const options = layer instanceof Linear ? {} : layer.options;
  const out = outputChannels(layer);
  if (norm?.training) {
    throw new Error(
      `foldBatchNorm: batch norm over ${norm.numFeatures} channels is in training mode; folding uses ` +
        `the running statistics of eval mode: call .eval() on the module first`,
    );
  }
  if (norm && out % norm.numFeatures !== 0) {
    throw new Error(
      `foldBatchNorm: a ${kind} layer with ${out} outputs cannot be followed by batch norm over ` +
        `${norm.numFeatures} channels (${out} is not a multiple of it)`,
    );
  }
  const [weight, bias] = step(() =>
    noGrad(() => {
      if (!norm) return [copy(layer.weight), layer.bias ? copy(layer.bias) : null];
      const { scale, shift } = batchNormAffine(norm);
      const view = channelView(layer, norm.numFeatures);
      const weight = mul(layer.weight.view(view.weight), scale.view(view.scale));
      const groups = [out / norm.numFeatures, norm.numFeatures];
      const bias = layer.bias ? add(mul(layer.bias.view(groups), scale), shift) : broadcastTo(shift, groups);
      return [weight.reshapeOwned(layer.weight.shape), bias.reshapeOwned([out])];
    })
  );
  return new FoldedLayer(kind, weight.keep(), bias?.keep() ?? null, options);
}
