// The izi_f encoder of f-AnoGAN (Schlegl et al., Medical Image Analysis 2019): after the GAN is trained,
// an encoder E learns x → z so that G(E(x)) reproduces x, with G and D frozen (batch norm in eval
// mode). Its loss, per batch of normal images,
//   L(E) = mean (x − G(E(x)))² + κ · mean (f(x) − f(G(E(x))))²,
// where f is D's last conv block (the features of eq. 4) and κ = 1. Mapping a query then takes one
// forward pass, z = E(x), instead of Γ = 500 updates of z; or E(x) starts Γ' < Γ updates.
//
// The same network is the aCAE's encoder (anogan/acae.ts), trained there with G as its decoder. Its
// run directory and epochs are the harness's (harness/run.ts, harness/training.ts).

import * as T from "../core/mod.ts";
import {
  ConvStack,
  DCGAN_OPTIMISATION,
  type DcganConfig,
  dcganInitModule,
  type FrozenDcgan,
  nchwIndex,
  permutedLayout,
  type TrainingSchedule,
} from "./dcgan.ts";

/**
 * E: x [N, size, size, 1] → z [N, zDim] in (−1, 1): D's conv stack (ConvStack), then linear → zDim
 * and tanh, which keeps z in the prior's support U(−1, 1)^zDim where G was trained.
 */
export class Encoder extends ConvStack {
  readonly project: T.Linear;

  constructor(cfg: DcganConfig, gen: T.Rng) {
    super(cfg, gen);
    const c = this.channels;
    this.project = this.registerModule("project", new T.Linear(16 * c, cfg.zDim, gen));
    // PyTorch flattens [C, 4, 4]; we flatten NHWC [4, 4, C]: permute the weight's columns on save/load.
    T.setStateLayout(this.project.weight, permutedLayout([cfg.zDim, 16 * c], nchwIndex(c), 1));
  }

  forward(x: T.Tensor): T.Tensor {
    return T.tanh(this.project.forward(T.reshape(this.stack(x), [x.shape[0], -1])));
  }
}

/** z = E(x) for a batch of images (eval mode, no gradients), [B, zDim]; one image's z needs no other. */
export async function encodeImages(
  encoder: Encoder,
  images: Float32Array<ArrayBuffer>,
  count: number,
): Promise<Float32Array<ArrayBuffer>> {
  const { size } = encoder.cfg;
  if (images.length !== count * size * size) {
    throw new Error(
      `encoder: ${images.length} values for ${count} images; it expects ${size}×${size} images`,
    );
  }
  encoder.eval().requiresGrad(false);
  const z = T.step(() => T.noGrad(() => encoder.forward(T.Tensor.from(images, [count, size, size, 1]))));
  const out = await z.read();
  z.dispose();
  return out as Float32Array<ArrayBuffer>;
}

// ---- training E after the GAN (izi_f) --------------------------------------------------------------

/** The data spec and model are the GAN run's. */
export interface EncoderTrainConfig extends TrainingSchedule {
  /** κ, the weight of the feature term (f-AnoGAN: 1). */
  kappa: number;
}

/** The GAN's optimiser settings and epochs; κ = 1 as in f-AnoGAN. */
export const ENCODER_TRAIN_DEFAULTS: Omit<EncoderTrainConfig, "data" | "model"> = {
  batch: DCGAN_OPTIMISATION.batch,
  epochs: DCGAN_OPTIMISATION.epochs,
  lr: DCGAN_OPTIMISATION.lr,
  beta1: DCGAN_OPTIMISATION.beta1,
  beta2: DCGAN_OPTIMISATION.beta2,
  kappa: 1,
  seed: 0,
  logEvery: 10,
  maxSteps: 0,
};

export interface EncoderMetrics {
  step: number;
  epoch: number;
  loss: number;
  /** The two terms: mean squared pixel error and mean squared feature error. */
  lossPixels: number;
  lossFeatures: number;
  imagesPerSecond: number;
}

export interface EncoderState {
  encoder: Encoder;
  opt: T.Adam;
  step: number;
  epoch: number;
  stepInEpoch: number;
  /** After training: whether Ctrl-C stopped it before the end. */
  interrupted?: boolean;
}

export function createEncoderState(cfg: EncoderTrainConfig): EncoderState {
  // Its own stream: the encoder's initial weights do not repeat the GAN's (same seed).
  const gen = new T.Rng(BigInt(cfg.seed), 3n << 60n);
  const encoder = new Encoder(cfg.model, gen);
  dcganInitModule(encoder, gen);
  const opt = new T.Adam(encoder.parameters(), { lr: cfg.lr, betas: [cfg.beta1, cfg.beta2] });
  return { encoder, opt, step: 0, epoch: 0, stepInEpoch: 0 };
}

function meanSquaredError(a: T.Tensor, b: T.Tensor): T.Tensor {
  const d = T.sub(a, b);
  return T.mean(T.mul(d, d));
}

/**
 * One izi_f step in one submit. G and D must be frozen, so that only E gets gradients: a Dcgan after
 * `freeze`, or, faster, its copy with batch norm folded in (`foldFrozen`, made once for the training).
 */
export function encoderStep(
  s: EncoderState,
  gan: FrozenDcgan,
  cfg: EncoderTrainConfig,
  realBatch: Float32Array,
) {
  const { size } = cfg.model;
  return T.step(() => {
    const x = T.Tensor.from(realBatch, [cfg.batch, size, size, 1]);
    s.opt.zeroGrad();
    const fx = T.noGrad(() => gan.D.forward(x).features);
    const reconstruction = gan.G.forward(s.encoder.forward(x));
    const lossPixels = meanSquaredError(x, reconstruction);
    const lossFeatures = meanSquaredError(fx, gan.D.forward(reconstruction).features);
    const loss = T.add(lossPixels, T.scale(lossFeatures, cfg.kappa));
    T.backward(loss);
    s.opt.step();
    return { loss, lossPixels, lossFeatures };
  });
}
