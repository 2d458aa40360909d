// The tensor runtime's public surface: `import * as T from "../core/mod.ts"`.

export { describeAdapter, getGpu, GpuError, INSTALL_HINT, NoAdapterError } from "./device.ts";
export { dispatchCounts, init, Params, resetDispatchCounts, rt } from "./kernel.ts";
export { scope, type Shape, shapeString, sizeOf, step, Tensor } from "./tensor.ts";
export { backward, isGradEnabled, noGrad } from "./autograd.ts";
export * from "./ops/elementwise.ts";
export { mean, sum, sumTo } from "./ops/reduce.ts";
export { linear, matmul } from "./ops/matmul.ts";
export { detach, reshape, transpose } from "./ops/shape.ts";
export { bceWithLogits, l1Sum, type Reduction } from "./ops/loss.ts";
export { philox4x32, randomNormal, randomUniform, Rng, type RngState } from "./random.ts";
export { Adam, type AdamOptions, Optimizer, SGD, type SgdOptions } from "./optim.ts";
export { Linear, Module, parameter } from "./nn.ts";
export * from "./io/safetensors.ts";
export type { Runtime } from "./kernel.ts";
export {
  conv2d,
  type Conv2dOptions,
  convTranspose2d,
  type ConvTranspose2dOptions,
  type ConvVariant,
  fromTorchConvWeight,
  type Pair,
  setConvVariant,
  toTorchConvWeight,
} from "./ops/conv.ts";
export { batchNorm2d, type BatchNormOptions } from "./ops/batchnorm.ts";
export { BatchNorm2d, Conv2d, ConvTranspose2d, setStateLayout, type StateLayout } from "./nn.ts";
