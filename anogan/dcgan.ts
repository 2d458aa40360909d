// The DCGAN of Schlegl et al. (2017), after Radford et al. (2015): generator and discriminator for
// 64×64 images (four stride-2 5×5 layers, the paper's configuration) and 32×32 images (three layers,
// for 28×28 data padded to 32). Images and activations are NHWC: [N, H, W, 1].
//
// G: z [N, zDim] → linear → [N, 4, 4, 8w] (64×64; 4w at 32×32) → BN, ReLU
//    → 5×5 stride-2 transposed convs halving the channels (BN + ReLU) → 1 channel, tanh.
// D: 5×5 stride-2 convs 1 → w → 2w → 4w (→ 8w at 64×64), LeakyReLU 0.2, BN on all but the first
//    → f(x) [N, 4, 4, 8w] (the features of the mapping loss, eq. 3) → linear → one logit.

import * as T from "../core/mod.ts";
import { foldBatchNorm, type FoldedLayer } from "../core/fold.ts";

export interface DcganConfig {
  /** Image side: 64 (4 layers) or 32 (3 layers). */
  size: 32 | 64 | number;
  /** Base number of filters; the paper uses 64. */
  width: number;
  zDim: number;
}

export const DCGAN_DEFAULTS: DcganConfig = { size: 64, width: 64, zDim: 100 };

/**
 * How the DCGAN and the networks trained beside it (the aCAE, the izi_f encoder) are optimised by
 * default: Radford et al.'s Adam (lr 2·10⁻⁴, β₁ 0.5) on batches of 64, for 20 epochs.
 */
export const DCGAN_OPTIMISATION = { batch: 64, epochs: 20, lr: 2e-4, beta1: 0.5, beta2: 0.999 };

/**
 * What every training in the project records of itself: its data spec and model, Adam's settings,
 * the schedule (batch, epochs, an optional step limit), the seed, and how often losses are read back.
 */
export interface TrainingSchedule {
  /** The data spec (for the record) and the model. */
  data: string;
  model: DcganConfig;
  batch: number;
  epochs: number;
  lr: number;
  beta1: number;
  beta2: number;
  seed: number;
  /** Read losses back every this many steps. */
  logEvery: number;
  /** Stop after this many steps in total (for quick runs); 0 = no limit. */
  maxSteps: number;
}

const KERNEL = 5;

/**
 * Index map between a flattened [4, 4, C] NHWC block (ours) and PyTorch's [C, 4, 4] view:
 * `torchIndex[ours] = theirs`. G's projection and D's classifier use it so that checkpoints load
 * into the equivalent PyTorch model (which reshapes with `.view(N, C, 4, 4)`).
 */
export function nchwIndex(channels: number): Uint32Array {
  const map = new Uint32Array(16 * channels);
  for (let hw = 0; hw < 16; hw++) for (let c = 0; c < channels; c++) map[hw * channels + c] = c * 16 + hw;
  return map;
}

/** A state layout that permutes rows (`rowLength` values each) or columns of a matrix by `map`. */
export function permutedLayout(shape: number[], map: Uint32Array, axis: 0 | 1): T.StateLayout {
  const [rows, cols] = shape.length === 2 ? shape : [shape[0], 1];
  const move = (src: Float32Array<ArrayBuffer>, toTorch: boolean) => {
    const out = new Float32Array(src.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const [rr, cc] = axis === 0 ? [map[r], c] : [r, map[c]];
        if (toTorch) out[rr * cols + cc] = src[r * cols + c];
        else out[r * cols + c] = src[rr * cols + cc];
      }
    }
    return out;
  };
  return { stateShape: shape, toState: (d) => move(d, true), fromState: (d) => move(d, false) };
}
const LEAKY_SLOPE = 0.2;

function layerCount(size: number): number {
  if (size === 64) return 4;
  if (size === 32) return 3;
  throw new Error(`DCGAN image size must be 32 or 64, got ${size}`);
}

export class Generator extends T.Module {
  readonly project: T.Linear;
  readonly projectNorm: T.BatchNorm2d;
  readonly ups: T.ConvTranspose2d[] = [];
  readonly norms: T.BatchNorm2d[] = [];
  readonly #c0: number;

  constructor(readonly cfg: DcganConfig, gen: T.Rng) {
    super();
    const layers = layerCount(cfg.size);
    const channels = Array.from({ length: layers }, (_, i) => cfg.width * 2 ** (layers - 1 - i)); // 8w,4w,2w,w
    this.#c0 = channels[0];
    this.project = this.registerModule("project", new T.Linear(cfg.zDim, 16 * this.#c0, gen));
    const map = nchwIndex(this.#c0);
    T.setStateLayout(this.project.weight, permutedLayout([16 * this.#c0, cfg.zDim], map, 0));
    T.setStateLayout(this.project.bias!, permutedLayout([16 * this.#c0], map, 0));
    this.projectNorm = this.registerModule("project_bn", new T.BatchNorm2d(this.#c0));
    for (let i = 0; i < layers; i++) {
      const last = i === layers - 1;
      const out = last ? 1 : channels[i + 1];
      const up = new T.ConvTranspose2d(channels[i], out, KERNEL, gen, {
        stride: 2,
        padding: 2,
        outputPadding: 1,
        bias: last, // a bias before batch norm is redundant
      });
      this.ups.push(this.registerModule(`up${i}`, up));
      if (!last) this.norms.push(this.registerModule(`up${i}_bn`, new T.BatchNorm2d(out)));
    }
  }

  /** z [N, zDim] → images [N, size, size, 1] in (−1, 1). */
  forward(z: T.Tensor): T.Tensor {
    return generate(z, this.#c0, this.project, this.projectNorm, this.ups, this.norms);
  }
}

/** A layer as the forward passes of G and D use it: its activation, if given, in the same op. */
interface Layer {
  forward(x: T.Tensor, activation?: T.Activation): T.Tensor;
}

const RELU: T.Activation = { op: "relu" };
const TANH: T.Activation = { op: "tanh" };
const LEAKY_RELU: T.Activation = { op: "leakyRelu", alpha: LEAKY_SLOPE };

/**
 * G's forward pass over its layers: project → [N, 4, 4, c0] → BN, ReLU, then each up-convolution
 * followed by BN and ReLU, the last by tanh. `projectNorm` and `norms[i]` (after `ups[i]`) are null
 * where batch norm is folded into the layer before it.
 */
function generate(
  z: T.Tensor,
  c0: number,
  project: Layer,
  projectNorm: Layer | null,
  ups: readonly Layer[],
  norms: readonly (Layer | null)[],
): T.Tensor {
  // Batch norm applies the activation after it; where it is folded away, the layer before does.
  let h = T.reshape(project.forward(z), [z.shape[0], 4, 4, c0]);
  h = projectNorm ? projectNorm.forward(h, RELU) : T.relu(h);
  ups.forEach((up, i) => {
    const act = i < ups.length - 1 ? RELU : TANH;
    const norm = norms[i];
    h = norm ? norm.forward(up.forward(h), act) : up.forward(h, act);
  });
  return h;
}

/**
 * D's conv stack, which the encoders share (anogan/encoder.ts): 5×5 stride-2 convs 1 → w → 2w → 4w
 * (→ 8w at 64×64), a bias on the first only, batch norm on all but the first, LeakyReLU 0.2. Its
 * layers are down{i} and down{i}_bn, PyTorch's names for D's and E's.
 */
export abstract class ConvStack extends T.Module {
  readonly downs: T.Conv2d[] = [];
  readonly norms: (T.BatchNorm2d | null)[] = [];
  /** Channels of the last block, whose output is [N, 4, 4, channels]. */
  readonly channels: number;

  constructor(readonly cfg: DcganConfig, gen: T.Rng) {
    super();
    const layers = layerCount(cfg.size);
    let inC = 1;
    for (let i = 0; i < layers; i++) {
      const out = cfg.width * 2 ** i;
      const down = new T.Conv2d(inC, out, KERNEL, gen, { stride: 2, padding: 2, bias: i === 0 });
      this.downs.push(this.registerModule(`down${i}`, down));
      this.norms.push(i === 0 ? null : this.registerModule(`down${i}_bn`, new T.BatchNorm2d(out)));
      inC = out;
    }
    this.channels = inC;
  }

  /** x [N, size, size, 1] → the last conv block's activations [N, 4, 4, channels]. */
  protected stack(x: T.Tensor): T.Tensor {
    return convStack(x, this.downs, this.norms);
  }
}

/** The conv stack's forward pass: each conv, then BN (null where folded into the conv), LeakyReLU. */
function convStack(x: T.Tensor, downs: readonly Layer[], norms: readonly (Layer | null)[]): T.Tensor {
  let h = x;
  downs.forEach((down, i) => {
    // Batch norm applies the activation after it; without one (the first layer, or norms folded), the
    // conv does.
    const bn = norms[i];
    h = bn ? bn.forward(down.forward(h), LEAKY_RELU) : down.forward(h, LEAKY_RELU);
  });
  return h;
}

export class Discriminator extends ConvStack {
  readonly classify: T.Linear;

  constructor(cfg: DcganConfig, gen: T.Rng) {
    super(cfg, gen);
    this.classify = this.registerModule("classify", new T.Linear(16 * this.channels, 1, gen));
    T.setStateLayout(
      this.classify.weight,
      permutedLayout([1, 16 * this.channels], nchwIndex(this.channels), 1),
    );
  }

  /** x [N, size, size, 1] → logits [N] and the last conv block's features f(x) [N, 4, 4, C]. */
  forward(x: T.Tensor): DiscriminatorOutput {
    return discriminate(this.stack(x), this.classify);
  }
}

export interface DiscriminatorOutput {
  logits: T.Tensor;
  features: T.Tensor;
}

/** D's head: the features f(x) = h [N, 4, 4, C] and the logit of the linear layer on them. */
function discriminate(h: T.Tensor, classify: Layer): DiscriminatorOutput {
  const n = h.shape[0];
  const logits = T.reshape(classify.forward(T.reshape(h, [n, -1])), [n]);
  return { logits, features: h };
}

export interface Dcgan {
  G: Generator;
  D: Discriminator;
}

/**
 * G and D as frozen networks are used (mapping, scoring, training an encoder against them): forward
 * passes whose gradients flow to their input alone. A Dcgan in eval mode is one; so is its FoldedDcgan.
 */
export interface FrozenDcgan {
  G: { readonly cfg: DcganConfig; forward(z: T.Tensor): T.Tensor };
  D: { forward(x: T.Tensor): DiscriminatorOutput };
}

/**
 * An inference-only copy of a DCGAN in eval mode with every batch norm folded into the layer before it
 * (core/fold.ts): G's projection and up-convolutions, D's convolutions. The same functions of z and x
 * as G and D in eval mode, gradients to the input included, with no batch-norm pass; D's features are
 * still the last conv block's activations after LeakyReLU. A snapshot of the weights when it was made;
 * the modules themselves (training, state dicts) are untouched. Free it with `dispose`.
 */
export class FoldedDcgan implements FrozenDcgan {
  readonly G: { readonly cfg: DcganConfig; forward(z: T.Tensor): T.Tensor };
  readonly D: { forward(x: T.Tensor): DiscriminatorOutput };
  readonly #layers: FoldedLayer[];

  constructor(gan: Dcgan) {
    const { G, D } = gan;
    const project = foldBatchNorm(G.project, G.projectNorm);
    const ups = G.ups.map((up, i) => foldBatchNorm(up, G.norms[i] ?? null));
    const downs = D.downs.map((down, i) => foldBatchNorm(down, D.norms[i]));
    const classify = foldBatchNorm(D.classify, null);
    const c0 = G.projectNorm.numFeatures;
    this.G = { cfg: G.cfg, forward: (z) => generate(z, c0, project, null, ups, []) };
    this.D = { forward: (x) => discriminate(convStack(x, downs, []), classify) };
    this.#layers = [project, ...ups, ...downs, classify];
  }

  dispose(): void {
    for (const layer of this.#layers) layer.dispose();
  }
}

export function createDcgan(cfg: DcganConfig, gen: T.Rng): Dcgan {
  if (!Number.isInteger(cfg.width) || cfg.width < 1) {
    throw new Error(`DCGAN width must be ≥ 1, got ${cfg.width}`);
  }
  if (!Number.isInteger(cfg.zDim) || cfg.zDim < 1) {
    throw new Error(`DCGAN z dimension must be ≥ 1, got ${cfg.zDim}`);
  }
  return { G: new Generator(cfg, gen), D: new Discriminator(cfg, gen) };
}

/**
 * DCGAN initialisation of a module's layers, in their order: conv and linear weights N(0, 0.02),
 * batch-norm γ N(1, 0.02), biases and β 0. The encoders are initialised the same way.
 */
export function dcganInitModule(module: T.Module, gen: T.Rng): void {
  for (const m of module.modules()) {
    if (m instanceof T.BatchNorm2d) {
      m.weight.write(gen.normal(m.weight.size, 1, 0.02));
      m.bias.write(new Float32Array(m.bias.size));
    } else if (m instanceof T.Linear || m instanceof T.Conv2d || m instanceof T.ConvTranspose2d) {
      m.weight.write(gen.normal(m.weight.size, 0, 0.02));
      if (m.bias) m.bias.write(new Float32Array(m.bias.size));
    }
  }
}

/** DCGAN initialisation of G, then D. */
export function dcganInit(gan: Dcgan, gen: T.Rng): void {
  for (const module of [gan.G, gan.D]) dcganInitModule(module, gen);
}
