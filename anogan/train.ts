// Adversarial training of the DCGAN on normal images only (paper §2.1): one step ascends eq. 1 for D
// (discriminatorLoss) and descends the non-saturating eq. 2 for G (generatorLoss). `kind: "acae"` trains the aCAE baseline
// (anogan/acae.ts) instead: the encoder E joins the state, and optG updates E and G together.
// After training, D's batch-norm statistics are recomputed on normal images
// (calibrateDiscriminatorNorms), and after each epoch a held-out check says whether G has learned the
// normal data (heldOutFit). The epochs, checkpoints and run directory are the harness's
// (harness/training.ts, harness/run.ts).

import * as T from "../core/mod.ts";
import {
  createDcgan,
  type Dcgan,
  DCGAN_OPTIMISATION,
  dcganInit,
  dcganInitModule,
  type Discriminator,
  type TrainingSchedule,
} from "./dcgan.ts";
import { Encoder } from "./encoder.ts";
import { discriminatorLoss, generatorLoss } from "./losses.ts";
import { mapToLatent } from "./mapping.ts";

export interface TrainConfig extends TrainingSchedule {
  /** Generator updates per discriminator update (the DCGAN default is 1). */
  generatorSteps: number;
  /** What is trained: the DCGAN (default) or the aCAE baseline. */
  kind?: "dcgan" | "acae";
  /** aCAE: weight of the L1 reconstruction term (default ACAE_RECON_WEIGHT). */
  reconWeight?: number;
  /**
   * D's batch-norm running statistics in model.safetensors: "normal-images" recomputes them on the
   * training images after training (calibrateDiscriminatorNorms); "training-steps" keeps those the
   * training steps left (two thirds from generated images). Absent in older runs: "training-steps".
   */
  discriminatorNorms?: "normal-images" | "training-steps";
  /**
   * The per-epoch check of G: up to this many of the source's images (its last ones, at most an
   * eighth of them; heldOutImages) are held out of training, and after each epoch they are mapped with
   * `heldOutSteps` updates of z (λ = 0) to see whether G reproduces normal images it never saw (see
   * heldOutFit). 0 turns the check off; absent in older runs, which held nothing out.
   */
  heldOutImages?: number;
  heldOutSteps?: number;
  /**
   * Which epoch's G and D the trained model is: the last (absent, or "last"), or "held-out" — the
   * epoch whose G reproduced the held-out normal images best (the lowest heldOutResidual, the earliest
   * on a tie; see heldOutFit). The choice sees only normal training images that training never used:
   * no test image and no anomaly. Needs the held-out check (heldOutImages > 0) and a DCGAN run.
   */
  modelEpoch?: "last" | "held-out";
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, "data" | "model"> = {
  batch: DCGAN_OPTIMISATION.batch,
  epochs: DCGAN_OPTIMISATION.epochs,
  lr: DCGAN_OPTIMISATION.lr,
  beta1: DCGAN_OPTIMISATION.beta1,
  beta2: DCGAN_OPTIMISATION.beta2,
  generatorSteps: 1,
  seed: 0,
  logEvery: 10,
  maxSteps: 0,
  discriminatorNorms: "normal-images",
  heldOutImages: 64,
  heldOutSteps: 20,
};

export interface StepMetrics {
  step: number;
  epoch: number;
  lossD: number;
  lossG: number;
  /** Mean D(x) on real images and D(G(z)) on generated ones (probabilities). */
  dReal: number;
  dFake: number;
  /** aCAE: mean |x − G(E(x))| per pixel. */
  lossRecon?: number;
  imagesPerSecond: number;
}

export interface TrainState {
  gan: Dcgan;
  optG: T.Adam;
  optD: T.Adam;
  /** Draws z; its counter is part of the checkpoint. */
  zRng: T.Rng;
  /** aCAE: the encoder x → z (optG updates it with G). */
  encoder?: Encoder;
  /** Steps completed in total, and the position inside the current epoch. */
  step: number;
  epoch: number;
  stepInEpoch: number;
  /** After train(): whether Ctrl-C stopped it before the end (its state is the last checkpoint's). */
  interrupted?: boolean;
  /** After train() with modelEpoch "held-out": the epoch whose G and D the model holds. */
  modelEpoch?: number;
}

/**
 * A new run's models and optimisers. The aCAE adds the encoder E, which `optG` updates with G (one
 * autoencoder); its weights are drawn after G's and D's construction, in the order the aCAE always had.
 */
export function createTrainState(cfg: TrainConfig): TrainState {
  const gen = new T.Rng(BigInt(cfg.seed));
  const gan: Dcgan = createDcgan(cfg.model, gen);
  const encoder = cfg.kind === "acae" ? new Encoder(cfg.model, gen) : undefined;
  dcganInit(gan, gen);
  if (encoder) dcganInitModule(encoder, gen);
  const opts = { lr: cfg.lr, betas: [cfg.beta1, cfg.beta2] as [number, number] };
  return {
    gan,
    ...(encoder ? { encoder } : {}),
    optG: new T.Adam([...(encoder?.parameters() ?? []), ...gan.G.parameters()], opts),
    optD: new T.Adam(gan.D.parameters(), opts),
    zRng: new T.Rng(BigInt(cfg.seed), 1n << 60n),
    step: 0,
    epoch: 0,
    stepInEpoch: 0,
  };
}

interface StepTensors {
  lossD: T.Tensor;
  lossG: T.Tensor;
  dReal: T.Tensor;
  dFake: T.Tensor;
  lossRecon?: T.Tensor;
}

/**
 * D's half of an adversarial step: D ascends eq. 1 (discriminatorLoss) on a real batch x and a generated batch (detached:
 * G gets no gradient from it). Returns the loss and D's mean probabilities D(x) and D(generated).
 */
export function discriminatorStep(
  s: { gan: Dcgan; optD: T.Adam },
  x: T.Tensor,
  generated: T.Tensor,
): { lossD: T.Tensor; dReal: T.Tensor; dFake: T.Tensor } {
  const { D } = s.gan;
  s.optD.zeroGrad();
  const logitsReal = D.forward(x).logits;
  const logitsFake = D.forward(T.detach(generated)).logits;
  const lossD = discriminatorLoss(logitsReal, logitsFake);
  T.backward(lossD);
  s.optD.step();
  return {
    lossD,
    dReal: T.noGrad(() => T.mean(T.sigmoid(logitsReal))),
    dFake: T.noGrad(() => T.mean(T.sigmoid(logitsFake))),
  };
}

/**
 * One adversarial step of the DCGAN in one submit: D ascends eq. 1 on a real batch and G(z)
 * (discriminatorStep); then G descends the non-saturating loss −log D(G(z)) (eq. 2) through the
 * updated D, whose weights get no gradient. The aCAE's step is anogan/acae.ts's acaeStep.
 */
export function trainStep(s: TrainState, cfg: TrainConfig, realBatch: Float32Array): StepTensors {
  const { G, D } = s.gan;
  const size = cfg.model.size;
  return T.step(() => {
    const x = T.Tensor.from(realBatch, [cfg.batch, size, size, 1]);
    const z = T.randomUniform([cfg.batch, cfg.model.zDim], s.zRng, -1, 1);
    const fake = G.forward(z);
    const { lossD, dReal, dFake } = discriminatorStep(s, x, fake);

    // Generator: eq. 2, non-saturating (generatorLoss); the first update reuses this step's G(z), extra ones draw fresh z.
    D.requiresGrad(false);
    let lossG = lossD;
    for (let k = 0; k < cfg.generatorSteps; k++) {
      s.optG.zeroGrad();
      const g = k === 0 ? fake : G.forward(T.randomUniform([cfg.batch, cfg.model.zDim], s.zRng, -1, 1));
      lossG = generatorLoss(D.forward(g).logits);
      T.backward(lossG);
      s.optG.step();
    }
    D.requiresGrad(true);
    return { lossD, lossG, dReal, dFake };
  });
}

// ---- D's batch-norm statistics for test time -------------------------------------------------------

/**
 * Recomputes the running statistics of D's batch norms from normal training images alone.
 *
 * Why: each training step runs D in training mode three times — on a real batch, and twice on G's
 * samples — so the running statistics that eval mode uses at test time are about two thirds those of
 * generated images. Yet f(x) (eq. 4), PD and the encoders feed real images through D in eval mode,
 * and in training D only ever saw a real batch normalised by real statistics. Recomputing them on the
 * normal training images gives a real query the normalisation D learned to judge real images under.
 * The statistics are the cumulative average over whole batches, in data order, of each batch's mean
 * and unbiased variance (PyTorch's momentum = None, as in torch.optim.swa_utils.update_bn).
 * Only the running statistics change; D's weights and training state are untouched.
 */
export async function calibrateDiscriminatorNorms(
  D: Discriminator,
  images: Float32Array,
  count: number,
  batch: number,
): Promise<void> {
  const size = D.cfg.size, values = size * size;
  const batches = Math.max(1, Math.floor(count / batch));
  const perBatch = Math.min(batch, count);
  const norms = D.norms.filter((n): n is T.BatchNorm2d => n !== null);
  const saved = norms.map((n) => n.opts.momentum);
  const wasTraining = D.training;
  for (const n of norms) {
    n.runningMean.write(new Float32Array(n.numFeatures));
    n.runningVar.write(new Float32Array(n.numFeatures).fill(1));
  }
  D.train();
  try {
    for (let k = 0; k < batches; k++) {
      for (const n of norms) n.opts.momentum = 1 / (k + 1);
      const x = images.subarray(k * perBatch * values, (k + 1) * perBatch * values);
      T.step(() => T.noGrad(() => void D.forward(T.Tensor.from(x, [perBatch, size, size, 1]))));
    }
    await norms[0]?.runningMean.read(); // the updates are done before the caller reads the model
  } finally {
    norms.forEach((n, i) => (n.opts.momentum = saved[i]));
    if (!wasTraining) D.eval();
  }
}

// ---- has G learned the normal data? --------------------------------------------------------------

/** How many of `count` images a run holds out: heldOutImages, at most an eighth of the data. */
export function heldOutImages(cfg: TrainConfig, count: number): number {
  return Math.min(cfg.heldOutImages ?? 0, Math.floor(count / 8));
}

/** The per-pixel median of a set of images: the constant image nearest to all of them in L1. */
export function medianImage(images: Float32Array, count: number, size: number): Float32Array {
  const n = size * size, column = new Float32Array(count), out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    for (let i = 0; i < count; i++) column[i] = images[i * n + p];
    column.sort();
    out[p] = count % 2 ? column[(count - 1) / 2] : (column[count / 2 - 1] + column[count / 2]) / 2;
  }
  return out;
}

/** Mean per-pixel |x − c| of images against one constant image c. */
function constantResidual(images: Float32Array, constant: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < images.length; i++) sum += Math.abs(images[i] - constant[i % constant.length]);
  return sum / images.length;
}

/** The better of two held-out fits for choosing an epoch (modelEpoch "held-out"): the lower residual, else the first. */
export function betterHeldOutFit<F extends HeldOutFit>(best: F | null, candidate: F): F {
  return best === null || candidate.heldOutResidual < best.heldOutResidual ? candidate : best;
}

export interface HeldOutFit {
  /** Mean per-pixel |x − G(z)| of the held-out normal images after a short mapping (λ = 0). */
  heldOutResidual: number;
  /** The same against the training images' per-pixel median: what a G that learned nothing reaches. */
  constantResidual: number;
}

/**
 * Whether G reproduces normal images it never saw: the held-out images are mapped with `steps`
 * updates of z on the residual alone (λ = 0, so D's state plays no part), and their mean residual is
 * compared with that of the best constant image. A G that drew noise, or one image for every z, does
 * no better than the constant. G and D are left in training mode with their gradients on.
 */
export async function heldOutFit(
  gan: Dcgan,
  heldOut: Float32Array<ArrayBuffer>,
  constant: Float32Array,
  steps: number,
  seed: number,
): Promise<HeldOutFit> {
  const count = heldOut.length / constant.length;
  const indices = Array.from({ length: count }, (_, i) => i);
  try {
    const r = await mapToLatent(gan, heldOut, indices, { steps, lambda: 0, lr: 0.1, seed });
    const pixels = heldOut.length;
    return {
      heldOutResidual: r.residual.reduce((a, b) => a + b, 0) / pixels,
      constantResidual: constantResidual(heldOut, constant),
    };
  } finally {
    for (const m of [gan.G, gan.D]) m.train().requiresGrad(true);
  }
}
