// Adversarial training of the DCGAN on normal images only (paper §2.1, eq. 1 and the non-saturating
// generator loss of eq. 2), with a run directory that can be resumed bit for bit.
//
// Run directory:
//   config.json         every hyperparameter, seed, adapter, Deno version, project commit
//   metrics.jsonl       one line per logging window: mean losses, D(x), D(G(z)) over its steps, images/s
//   samples/epoch-NNN.png   G(z) for a fixed z after each epoch (eval mode, as used for mapping)
//   checkpoint.safetensors  G, D, both optimisers, step, RNG state; written atomically after each
//                       epoch and on Ctrl-C; a run killed mid-epoch resumes from the last one
//   model.safetensors   G and D weights only, PyTorch names and layouts, written at the end, with D's
//                       batch-norm statistics recomputed on the normal training images (see
//                       calibrateDiscriminatorNorms)
//
// `kind: "acae"` trains the aCAE baseline (anogan/acae.ts) in the same loop: the encoder E joins the
// checkpoint and model.safetensors, and optG updates E and G together.

import * as T from "../core/mod.ts";
import { type ImageBatchSource } from "../harness/data/source.ts";
import { acaeStep, Encoder, encoderInit } from "./acae.ts";
import { createDcgan, type Dcgan, type DcganConfig, dcganInit, type Discriminator } from "./dcgan.ts";
import { discriminatorLoss, generatorLoss } from "./losses.ts";
import { runEpochs, startRun, stepsPerEpoch } from "../harness/training.ts";
import { mapToLatent } from "./mapping.ts";
import { tileImages } from "../harness/data/grid.ts";
import { writeGrayPixelsPng } from "../harness/data/png.ts";

export interface TrainConfig {
  /** The data spec (for the record) and the model. */
  data: string;
  model: DcganConfig;
  batch: number;
  epochs: number;
  lr: number;
  beta1: number;
  beta2: number;
  /** Generator updates per discriminator update (the DCGAN default is 1). */
  generatorSteps: number;
  seed: number;
  /** Read losses back every this many steps. */
  logEvery: number;
  /** Stop after this many steps in total (for quick runs); 0 = no limit. */
  maxSteps: number;
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
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, "data" | "model"> = {
  batch: 64,
  epochs: 20,
  lr: 2e-4,
  beta1: 0.5,
  beta2: 0.999,
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

export { epochPermutation, NanLossError } from "../harness/training.ts";

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
  if (encoder) encoderInit(encoder, gen);
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
 * One adversarial step in one submit: D ascends eq. 1 on a real batch and G(z); then G descends the
 * non-saturating loss −log D(G(z)) (eq. 2) through the updated D, whose weights get no gradient.
 */
export function trainStep(s: TrainState, cfg: TrainConfig, realBatch: Float32Array): StepTensors {
  if (cfg.kind === "acae") return acaeStep(s, cfg, realBatch);
  const { G, D } = s.gan;
  const size = cfg.model.size;
  return T.step(() => {
    const x = T.Tensor.from(realBatch, [cfg.batch, size, size, 1]);
    const z = T.randomUniform([cfg.batch, cfg.model.zDim], s.zRng, -1, 1);

    // Discriminator: eq. 1, G(z) detached.
    s.optD.zeroGrad();
    const fake = G.forward(z);
    const logitsReal = D.forward(x).logits;
    const logitsFake = D.forward(T.detach(fake)).logits;
    const lossD = discriminatorLoss(logitsReal, logitsFake);
    T.backward(lossD);
    s.optD.step();

    // Generator: eq. 2, non-saturating; the first update reuses this step's G(z), extra ones draw fresh z.
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
    return {
      lossD,
      lossG,
      dReal: T.noGrad(() => T.mean(T.sigmoid(logitsReal))),
      dFake: T.noGrad(() => T.mean(T.sigmoid(logitsFake))),
    };
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

/** The source without its last `count` images, and those images: training never sees them. */
export function splitHeldOut(
  source: ImageBatchSource,
  count: number,
): { fit: ImageBatchSource; heldOut: Float32Array<ArrayBuffer> | null } {
  if (count === 0) return { fit: source, heldOut: null };
  const n = source.size * source.size;
  if (!Number.isInteger(count) || count < 0 || count >= source.count) {
    throw new Error(
      `${source.description}: cannot hold out ${count} of its ${source.count} images for the check of G; ` +
        `expected an integer from 0 to ${source.count - 1} (set heldOutImages lower, or 0)`,
    );
  }
  const kept = source.count - count;
  return {
    fit: {
      ...source,
      description: `${source.description}, the last ${count} held out`,
      count: kept,
      images: source.images.subarray(0, kept * n),
    },
    heldOut: source.images.slice(kept * n, source.count * n),
  };
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

// ---- checkpoints --------------------------------------------------------------------------------

const CHECKPOINT = "checkpoint.safetensors";

export async function writeCheckpoint(dir: string, s: TrainState, cfg: TrainConfig): Promise<string> {
  const tensors = new Map<string, T.HostTensor>();
  const add = (prefix: string, state: Map<string, T.HostTensor>) => {
    for (const [name, t] of state) tensors.set(`${prefix}.${name}`, t);
  };
  // Models in PyTorch's names and layouts; optimiser moments as stored (they mirror the parameters).
  const raw = async (state: Map<string, T.Tensor>) => {
    const out = new Map<string, T.HostTensor>();
    for (const [name, t] of state) out.set(name, { shape: [...t.shape], data: await t.read() });
    return out;
  };
  add("G", await s.gan.G.hostStateDict());
  add("D", await s.gan.D.hostStateDict());
  if (s.encoder) add("E", await s.encoder.hostStateDict());
  add("optG", await raw(s.optG.stateTensors()));
  add("optD", await raw(s.optD.stateTensors()));
  const meta = {
    step: String(s.step),
    epoch: String(s.epoch),
    stepInEpoch: String(s.stepInEpoch),
    optGSteps: String(s.optG.stepCount),
    optDSteps: String(s.optD.stepCount),
    zRng: JSON.stringify(s.zRng.state()),
    config: JSON.stringify(cfg),
  };
  const path = `${dir}/${CHECKPOINT}`;
  await T.writeSafetensors(path, tensors, meta);
  return path;
}

function section(file: T.SafetensorsFile, prefix: string): Map<string, T.HostTensor> {
  const out = new Map<string, T.HostTensor>();
  for (const [k, v] of file.tensors) if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), v);
  return out;
}

/** Restores a training state from a run directory's checkpoint; the config must match the run's. */
export async function readCheckpoint(dir: string, cfg: TrainConfig): Promise<TrainState> {
  const path = `${dir}/${CHECKPOINT}`;
  const file = await T.readSafetensors(path);
  const savedKind = file.metadata.config ? JSON.parse(file.metadata.config).kind ?? "dcgan" : undefined;
  if (savedKind !== undefined && savedKind !== (cfg.kind ?? "dcgan")) {
    throw new Error(
      `${path} is a checkpoint of a ${savedKind} run; this run trains a ${cfg.kind ?? "dcgan"}`,
    );
  }
  const s = createTrainState(cfg);
  s.gan.G.loadStateDict(section(file, "G"), `${path} (generator)`);
  s.gan.D.loadStateDict(section(file, "D"), `${path} (discriminator)`);
  s.encoder?.loadStateDict(section(file, "E"), `${path} (encoder)`);
  const loadOpt = (opt: T.Adam, prefix: string) => {
    const state = section(file, prefix);
    for (const [name, t] of opt.stateTensors()) {
      const src = state.get(name);
      if (!src || src.data.length !== t.size) {
        throw new Error(`${path}: optimiser state ${prefix}.${name} is missing or mis-sized`);
      }
      t.write(src.data);
    }
  };
  loadOpt(s.optG, "optG");
  loadOpt(s.optD, "optD");
  const m = file.metadata;
  for (const key of ["step", "epoch", "stepInEpoch", "optGSteps", "optDSteps", "zRng"]) {
    if (m[key] === undefined) {
      throw new Error(`${path}: metadata ${key} is missing; not a training checkpoint`);
    }
  }
  s.step = Number(m.step);
  s.epoch = Number(m.epoch);
  s.stepInEpoch = Number(m.stepInEpoch);
  s.optG.stepCount = Number(m.optGSteps);
  s.optD.stepCount = Number(m.optDSteps);
  s.zRng = T.Rng.fromState(JSON.parse(m.zRng));
  return s;
}

// ---- the loop -----------------------------------------------------------------------------------

export interface TrainRunOptions {
  dir: string;
  source: ImageBatchSource;
  cfg: TrainConfig;
  /** Continue from the run directory's checkpoint. */
  resume?: boolean;
  quiet?: boolean;
  /** Extra fields for config.json (adapter, Deno version, commit, data options). */
  provenance?: Record<string, unknown>;
  /** Called after every logged step (tests, reports). */
  onMetrics?: (m: StepMetrics) => void;
}

async function writeSamples(dir: string, s: TrainState, fixedZ: T.Tensor, epoch: number, size: number) {
  s.gan.G.eval();
  const images = T.scope(() => T.noGrad(() => s.gan.G.forward(fixedZ)));
  const data = await images.read();
  images.dispose();
  s.gan.G.train();
  const grid = tileImages(data, fixedZ.shape[0], size, size, { cols: 8 });
  await writeGrayPixelsPng(`${dir}/samples/epoch-${String(epoch).padStart(3, "0")}.png`, grid);
}

/** Throws, before any write, when `source` cannot train `cfg` (image size; a batch after the held-out images). */
export function checkTrainable(source: ImageBatchSource, cfg: TrainConfig): void {
  stepsPerEpoch(splitHeldOut(source, heldOutImages(cfg, source.count)).fit, cfg.model.size, cfg.batch);
}

/**
 * Trains (or resumes) a run; returns the final state. Ctrl-C writes a checkpoint and stops
 * (`interrupted` is then true). The caller owns `dir` (OwnedFolder); state.json follows the run.
 */
export async function train(o: TrainRunOptions): Promise<TrainState> {
  const { dir, cfg } = o;
  const heldOutCount = heldOutImages(cfg, o.source.count);
  const { fit: source, heldOut } = splitHeldOut(o.source, heldOutCount);
  await startRun(dir, source, cfg, Boolean(o.resume), o.provenance);
  const median = heldOut && medianImage(source.images, source.count, source.size);
  const fits: (HeldOutFit & { epoch: number; learned: boolean })[] = [];
  await Deno.mkdir(`${dir}/samples`, { recursive: true });
  const s = o.resume ? await readCheckpoint(dir, cfg) : createTrainState(cfg);
  const fixedZ = T.Tensor.from(new T.Rng(BigInt(cfg.seed), 1n << 61n).uniform(64 * cfg.model.zDim, -1, 1), [
    64,
    cfg.model.zDim,
  ]).keep();
  try {
    s.interrupted = "interrupted" === await runEpochs({
      dir,
      task: "train",
      source,
      position: s,
      schedule: cfg,
      quiet: o.quiet,
      resumedFrom: o.resume ? `${dir}/${CHECKPOINT}` : undefined,
      step: (batch) => ({ ...trainStep(s, cfg, batch) }),
      describe: ({ lossD, lossG, dReal, dFake, lossRecon }) => ({
        status:
          `D ${lossD.toFixed(3)} G ${lossG.toFixed(3)} D(x) ${dReal.toFixed(2)} D(G(z)) ${dFake.toFixed(2)}` +
          (lossRecon === undefined ? "" : ` |x−G(E(x))| ${lossRecon.toFixed(3)}`),
        finite: [lossD, lossG],
      }),
      onMetrics: o.onMetrics as ((m: Record<string, number>) => void) | undefined,
      onEpochEnd: async (epoch) => {
        await writeSamples(dir, s, fixedZ, epoch, cfg.model.size);
        if (!heldOut || !median) return;
        const f = await heldOutFit(s.gan, heldOut, median, cfg.heldOutSteps ?? 20, cfg.seed);
        const learned = f.heldOutResidual < f.constantResidual;
        fits.push({ epoch, learned, ...f });
        const line = { epoch, step: s.step, ...f, learned, heldOutImages: heldOut.length / median.length };
        await Deno.writeTextFile(`${dir}/metrics.jsonl`, JSON.stringify(line) + "\n", { append: true });
        const figure = `; held-out |x − G(z)| ${f.heldOutResidual.toFixed(3)} per pixel ` +
          `(a constant image: ${f.constantResidual.toFixed(3)})`;
        return learned ? figure : `${figure} — G does no better than the constant (yet)`;
      },
      checkpoint: () => writeCheckpoint(dir, s, cfg),
      finish: async () => {
        if (cfg.discriminatorNorms === "normal-images") {
          await calibrateDiscriminatorNorms(s.gan.D, source.images, source.count, cfg.batch);
        }
        const weights = new Map<string, T.HostTensor>();
        for (const [k, v] of await s.gan.G.hostStateDict()) weights.set(`G.${k}`, v);
        for (const [k, v] of await s.gan.D.hostStateDict()) weights.set(`D.${k}`, v);
        for (const [k, v] of await s.encoder?.hostStateDict() ?? []) weights.set(`E.${k}`, v);
        await T.writeSafetensors(`${dir}/model.safetensors`, weights, {
          config: JSON.stringify(cfg.model),
          discriminatorNorms: cfg.discriminatorNorms ?? "training-steps",
        });
      },
    });
  } finally {
    fixedZ.dispose();
  }
  const lastFit = fits.at(-1);
  if (lastFit && !lastFit.learned) {
    console.warn(
      `warning: after epoch ${lastFit.epoch}, G reproduces the ${heldOutCount} held-out normal images no better ` +
        `than a constant image (|x − G(z)| ${lastFit.heldOutResidual.toFixed(3)} against ` +
        `${
          lastFit.constantResidual.toFixed(3)
        } per pixel, the constant being the training images' per-pixel ` +
        `median): it has learned no more of the normal data than their average look, and its scores may mean ` +
        `little. Train longer, check that the images are what the model should learn, or try another --lr ` +
        `or --seed.`,
    );
  }
  return s;
}
