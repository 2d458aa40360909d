// Modules: named parameters and buffers, train/eval mode, and state dicts in PyTorch's names and layouts.

import { Tensor } from "./tensor.ts";
import { type Rng } from "./random.ts";
import { linear } from "./ops/matmul.ts";
import {
  conv2d,
  type Conv2dOptions,
  convTranspose2d,
  type ConvTranspose2dOptions,
  fromTorchConvWeight,
  type Pair,
  toTorchConvWeight,
} from "./ops/conv.ts";
import { type Activation } from "./ops/elementwise.ts";
import { batchNorm2d } from "./ops/batchnorm.ts";
import { type HostTensor } from "./io/safetensors.ts";

/** A leaf tensor that requires a gradient and lives until disposed. */
export function parameter(data: Float32Array<ArrayBuffer>, shape: number[], name = ""): Tensor {
  const t = Tensor.from(data, shape).keep();
  t.requiresGrad = true;
  t.name = name;
  return t;
}

/**
 * How a parameter stored in a runtime layout appears in state dicts (PyTorch's layout): its state
 * shape and the permutations between the two. Parameters without one are stored as in PyTorch.
 */
export interface StateLayout {
  stateShape: number[];
  toState(data: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer>;
  fromState(data: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer>;
}

const stateLayouts = new WeakMap<Tensor, StateLayout>();

/** Marks `t` as stored in a runtime layout that state dicts convert to and from PyTorch's. */
export function setStateLayout(t: Tensor, layout: StateLayout): Tensor {
  stateLayouts.set(t, layout);
  return t;
}

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  protected registerParameter(name: string, t: Tensor): Tensor {
    this.#params.set(name, t);
    return t;
  }

  /** A persistent tensor that is part of the state but not trained (e.g. batch-norm running stats). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    t.keep();
    this.#buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ""): Generator<[string, Tensor]> {
    for (const [n, t] of this.#params) yield [prefix + n, t];
    for (const [n, m] of this.#children) yield* m.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ""): Generator<[string, Tensor]> {
    for (const [n, t] of this.#buffers) yield [prefix + n, t];
    for (const [n, m] of this.#children) yield* m.namedBuffers(`${prefix}${n}.`);
  }

  *modules(): Generator<Module> {
    yield this;
    for (const m of this.#children.values()) yield* m.modules();
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  /**
   * Parameters and buffers by their PyTorch names (e.g. `main.0.weight`), as the runtime stores them
   * (convolution weights in the layouts of core/ops/conv.ts); `hostStateDict` and `loadStateDict`
   * speak PyTorch's layouts.
   */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies the state to the host in PyTorch's names and layouts, e.g. to write a checkpoint. */
  async hostStateDict(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const [name, t] of this.stateDict()) {
      const layout = stateLayouts.get(t);
      const data = await t.read();
      out.set(
        name,
        layout
          ? { shape: [...layout.stateShape], data: layout.toState(data) }
          : { shape: [...t.shape], data },
      );
    }
    return out;
  }

  /**
   * Loads a state dict; every name must be present with the same shape (the error names the tensor
   * and both shapes) and finite values: a NaN or ±Inf weight (a diverged run's checkpoint, a corrupt
   * file) would otherwise turn every output into NaN without an error. `source` names where the state
   * came from in errors.
   */
  loadStateDict(state: Map<string, HostTensor>, source = "state dict"): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `${source} does not match the model: ` +
          [
            missing.length ? `missing ${missing.join(", ")}` : "",
            unexpected.length ? `unexpected ${unexpected.join(", ")}` : "",
          ].filter(Boolean).join("; "),
      );
    }
    for (const [name, t] of own) {
      const src = state.get(name)!;
      const shape = stateLayouts.get(t)?.stateShape ?? t.shape;
      if (src.shape.length !== shape.length || src.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`${source}: tensor ${name} has shape [${src.shape}], the model expects [${shape}]`);
      }
      const bad = src.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new Error(
          `${source}: tensor ${name} holds ${src.data[bad]} at index ${bad} (of ${src.data.length}, shape ` +
            `[${src.shape}]); expected finite weights: the run that wrote it diverged or the file is corrupt`,
        );
      }
    }
    for (const [name, t] of own) {
      const layout = stateLayouts.get(t);
      const data = state.get(name)!.data;
      t.write(layout ? layout.fromState(data) : data);
    }
  }

  /** Training mode (batch statistics) or eval mode (running statistics), recursively. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freezes (false) or unfreezes every parameter. */
  requiresGrad(flag: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }
}

/** y = x·Wᵀ + b, weight [out, in] as in PyTorch; default init U(−1/√in, 1/√in) as torch.nn.Linear. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    gen: Rng,
    opts: { bias?: boolean } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter(
      "weight",
      parameter(gen.uniform(outFeatures * inFeatures, -bound, bound), [outFeatures, inFeatures], "weight"),
    );
    this.bias = opts.bias === false ? null : this.registerParameter(
      "bias",
      parameter(gen.uniform(outFeatures, -bound, bound), [outFeatures], "bias"),
    );
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}

/** A conv weight parameter in the runtime layout [kh,kw,B,A], drawn in PyTorch's [A,B,kh,kw] order. */
function convWeight(torchShape: number[], bound: number, gen: Rng): Tensor {
  const [A, B, kh, kw] = torchShape;
  const data = fromTorchConvWeight(gen.uniform(A * B * kh * kw, -bound, bound), torchShape);
  return setStateLayout(parameter(data, [kh, kw, B, A], "weight"), {
    stateShape: torchShape,
    toState: (d) => toTorchConvWeight(d, [kh, kw, B, A]),
    fromState: (d) => fromTorchConvWeight(d, torchShape),
  });
}

function kernelPair(k: Pair): [number, number] {
  return typeof k === "number" ? [k, k] : [k[0], k[1]];
}

/**
 * 2-D convolution on NHWC activations: x [N,H,W,Cin] → [N,OH,OW,Cout]. The weight is stored as
 * [kh,kw,Cin,Cout] and appears in state dicts as PyTorch's [Cout,Cin,kh,kw]. Default init
 * U(−1/√fan_in, 1/√fan_in), fan_in = Cin·kh·kw, as torch.nn.Conv2d.
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: Conv2dOptions;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    gen: Rng,
    opts: Conv2dOptions & { bias?: boolean } = {},
  ) {
    super();
    const [kh, kw] = kernelPair(kernelSize);
    const bound = 1 / Math.sqrt(inChannels * kh * kw);
    this.weight = this.registerParameter("weight", convWeight([outChannels, inChannels, kh, kw], bound, gen));
    this.bias = opts.bias === false ? null : this.registerParameter(
      "bias",
      parameter(gen.uniform(outChannels, -bound, bound), [outChannels], "bias"),
    );
    this.options = { stride: opts.stride, padding: opts.padding };
  }

  /** The convolution, then `activation` if given (one op: see Conv2dOptions.activation). */
  forward(x: Tensor, activation?: Activation): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, { ...this.options, activation });
  }
}

/**
 * Transposed 2-D convolution on NHWC activations: x [N,H,W,Cin] → [N,OH,OW,Cout] with
 * OH = (H − 1)·stride − 2·padding + kh + outputPadding. The weight is stored as [kh,kw,Cout,Cin] and
 * appears in state dicts as PyTorch's [Cin,Cout,kh,kw]. Default init U(−1/√fan_in, 1/√fan_in) with
 * PyTorch's fan_in = Cout·kh·kw.
 */
export class ConvTranspose2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly options: ConvTranspose2dOptions;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    gen: Rng,
    opts: ConvTranspose2dOptions & { bias?: boolean } = {},
  ) {
    super();
    const [kh, kw] = kernelPair(kernelSize);
    const bound = 1 / Math.sqrt(outChannels * kh * kw);
    this.weight = this.registerParameter("weight", convWeight([inChannels, outChannels, kh, kw], bound, gen));
    this.bias = opts.bias === false ? null : this.registerParameter(
      "bias",
      parameter(gen.uniform(outChannels, -bound, bound), [outChannels], "bias"),
    );
    this.options = { stride: opts.stride, padding: opts.padding, outputPadding: opts.outputPadding };
  }

  /** The transposed convolution, then `activation` if given (one op: see Conv2dOptions.activation). */
  forward(x: Tensor, activation?: Activation): Tensor {
    return convTranspose2d(x, this.weight, this.bias ?? undefined, { ...this.options, activation });
  }
}

/**
 * Batch norm over the channels of NHWC activations [N,H,W,C], as torch.nn.BatchNorm2d: γ = 1, β = 0,
 * running mean 0 and variance 1, momentum 0.1, eps 1e-5; training mode uses (and updates) batch
 * statistics, eval mode the running ones. State names: weight, bias, running_mean, running_var,
 * num_batches_tracked (stored as float32).
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;

  constructor(readonly numFeatures: number, readonly opts: { momentum?: number; eps?: number } = {}) {
    super();
    const c = numFeatures;
    this.weight = this.registerParameter("weight", parameter(new Float32Array(c).fill(1), [c], "weight"));
    this.bias = this.registerParameter("bias", parameter(new Float32Array(c), [c], "bias"));
    this.runningMean = this.registerBuffer("running_mean", Tensor.from(new Float32Array(c), [c]));
    this.runningVar = this.registerBuffer("running_var", Tensor.from(new Float32Array(c).fill(1), [c]));
    this.numBatchesTracked = this.registerBuffer("num_batches_tracked", Tensor.from([0], []));
  }

  /** Batch norm of x, then `activation` if given, in the same op (core/ops/batchnorm.ts). */
  forward(x: Tensor, activation?: Activation): Tensor {
    return batchNorm2d(x, this.weight, this.bias, {
      training: this.training,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      numBatchesTracked: this.numBatchesTracked,
      momentum: this.opts.momentum,
      eps: this.opts.eps,
      activation,
    });
  }
}
