// The izi_f encoder of f-AnoGAN (Schlegl et al., Medical Image Analysis 2019): after the GAN is trained,
// an encoder E learns x → z so that G(E(x)) reproduces x, with G and D frozen (batch norm in eval
// mode). Its loss, per batch of normal images,
//   L(E) = mean (x − G(E(x)))² + κ · mean (f(x) − f(G(E(x))))²,
// where f is D's last conv block (the features of eq. 4) and κ = 1. Mapping a query then takes one
// forward pass, z = E(x), instead of Γ = 500 updates of z; or E(x) starts Γ' < Γ updates.
//
// Files, in the GAN's run directory:
//   encoder/config.json              the encoder's hyperparameters, data, provenance
//   encoder/metrics.jsonl            one line per logging window (mean losses over its steps)
//   encoder/checkpoint.safetensors   E, its optimiser and the step; written after each epoch and on Ctrl-C
//   encoder/encoder.safetensors      E's weights (PyTorch names and layouts), written at the end

import * as T from "../core/mod.ts";
import { Encoder, encoderInit } from "./acae.ts";
import type { ImageBatchSource } from "../harness/data/source.ts";
import type { Dcgan, DcganConfig } from "./dcgan.ts";
import { freeze } from "./mapping.ts";
import { runEpochs, startRun } from "../harness/training.ts";
import { requireComplete } from "../harness/folders.ts";
import { loadGan } from "../harness/scoring.ts";
import { TRAIN_DEFAULTS } from "./train.ts";

export interface EncoderTrainConfig {
  /** The GAN run's data spec (for the record) and model. */
  data: string;
  model: DcganConfig;
  batch: number;
  epochs: number;
  lr: number;
  beta1: number;
  beta2: number;
  /** κ, the weight of the feature term (f-AnoGAN: 1). */
  kappa: number;
  seed: number;
  logEvery: number;
  /** Stop after this many steps in total; 0 = no limit. */
  maxSteps: number;
}

/** The GAN's optimiser settings and epochs; κ = 1 as in f-AnoGAN. */
export const ENCODER_TRAIN_DEFAULTS: Omit<EncoderTrainConfig, "data" | "model"> = {
  batch: TRAIN_DEFAULTS.batch,
  epochs: TRAIN_DEFAULTS.epochs,
  lr: TRAIN_DEFAULTS.lr,
  beta1: TRAIN_DEFAULTS.beta1,
  beta2: TRAIN_DEFAULTS.beta2,
  kappa: 1,
  seed: 0,
  logEvery: TRAIN_DEFAULTS.logEvery,
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
  /** After trainEncoder(): whether Ctrl-C stopped it before the end. */
  interrupted?: boolean;
}

export const ENCODER_DIR = "encoder";
const CHECKPOINT = "checkpoint.safetensors";
const WEIGHTS = "encoder.safetensors";

export function createEncoderState(cfg: EncoderTrainConfig): EncoderState {
  // Its own stream: the encoder's initial weights do not repeat the GAN's (same seed).
  const gen = new T.Rng(BigInt(cfg.seed), 3n << 60n);
  const encoder = new Encoder(cfg.model, gen);
  encoderInit(encoder, gen);
  const opt = new T.Adam(encoder.parameters(), { lr: cfg.lr, betas: [cfg.beta1, cfg.beta2] });
  return { encoder, opt, step: 0, epoch: 0, stepInEpoch: 0 };
}

function meanSquaredError(a: T.Tensor, b: T.Tensor): T.Tensor {
  const d = T.sub(a, b);
  return T.mean(T.mul(d, d));
}

/** One izi_f step in one submit; G and D must be frozen (`freeze`), so only E gets gradients. */
export function encoderStep(s: EncoderState, gan: Dcgan, cfg: EncoderTrainConfig, realBatch: Float32Array) {
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

// ---- checkpoints --------------------------------------------------------------------------------

function sameModel(a: DcganConfig, b: DcganConfig): boolean {
  return a.size === b.size && a.width === b.width && a.zDim === b.zDim;
}

function modelString(m: DcganConfig): string {
  return `size ${m.size}, width ${m.width}, z ${m.zDim}`;
}

async function writeEncoderCheckpoint(
  dir: string,
  s: EncoderState,
  cfg: EncoderTrainConfig,
): Promise<string> {
  const tensors = new Map<string, T.HostTensor>();
  for (const [k, v] of await s.encoder.hostStateDict()) tensors.set(`E.${k}`, v);
  for (const [k, t] of s.opt.stateTensors()) {
    tensors.set(`opt.${k}`, { shape: [...t.shape], data: await t.read() });
  }
  const meta = {
    step: String(s.step),
    epoch: String(s.epoch),
    stepInEpoch: String(s.stepInEpoch),
    optSteps: String(s.opt.stepCount),
    config: JSON.stringify(cfg),
  };
  const path = `${dir}/${CHECKPOINT}`;
  await T.writeSafetensors(path, tensors, meta);
  return path;
}

function prefixed(file: T.SafetensorsFile, prefix: string): Map<string, T.HostTensor> {
  return new Map(
    [...file.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

/** Restores an encoder's training state; the checkpoint must be of the same model. */
export async function readEncoderCheckpoint(dir: string, cfg: EncoderTrainConfig): Promise<EncoderState> {
  const path = `${dir}/${CHECKPOINT}`;
  const file = await T.readSafetensors(path);
  const m = file.metadata;
  for (const key of ["step", "epoch", "stepInEpoch", "optSteps", "config"]) {
    if (m[key] === undefined) {
      throw new Error(`${path}: metadata ${key} is missing; not an encoder checkpoint`);
    }
  }
  const saved = JSON.parse(m.config) as EncoderTrainConfig;
  if (!saved.model || !sameModel(saved.model, cfg.model)) {
    throw new Error(
      `${path} is an encoder for another model (${saved.model ? modelString(saved.model) : "unknown"}); ` +
        `this run's model is ${modelString(cfg.model)}: train a new encoder without --resume`,
    );
  }
  const s = createEncoderState(cfg);
  s.encoder.loadStateDict(prefixed(file, "E."), `${path} (encoder)`);
  const state = prefixed(file, "opt.");
  for (const [name, t] of s.opt.stateTensors()) {
    const src = state.get(name);
    if (!src || src.data.length !== t.size) {
      throw new Error(`${path}: optimiser state ${name} is missing or mis-sized`);
    }
    t.write(src.data);
  }
  s.step = Number(m.step);
  s.epoch = Number(m.epoch);
  s.stepInEpoch = Number(m.stepInEpoch);
  s.opt.stepCount = Number(m.optSteps);
  return s;
}

/** Loads the trained encoder of a run directory, for a GAN of configuration `model`. */
export async function loadEncoder(runDir: string, model: DcganConfig): Promise<Encoder> {
  const path = `${runDir}/${ENCODER_DIR}/${WEIGHTS}`;
  await requireComplete(`${runDir}/${ENCODER_DIR}`, {
    finish: `deno task train-encoder --run ${runDir} --resume`,
  });
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(
      `${runDir} has no trained encoder (${path} is missing); train one with ` +
        `deno task train-encoder --run ${runDir}`,
    );
  }
  const file = await T.readSafetensors(path);
  const saved = JSON.parse(file.metadata.config ?? "null") as EncoderTrainConfig | null;
  if (!saved?.model || !sameModel(saved.model, model)) {
    throw new Error(
      `${path} is an encoder for another model (${saved?.model ? modelString(saved.model) : "unknown"}); ` +
        `the run's model is ${modelString(model)}: retrain it with deno task train-encoder --run ${runDir}`,
    );
  }
  const encoder = new Encoder(model, new T.Rng(0n));
  encoder.loadStateDict(prefixed(file, "E."), path);
  return encoder;
}

/**
 * The trained DCGAN of a run directory, for encoder training: the run must have finished (its
 * model.safetensors written) and be a DCGAN run (an aCAE has an encoder of its own).
 */
export async function loadTrainedGan(
  runDir: string,
): Promise<{ gan: Dcgan; config: Record<string, unknown> }> {
  try {
    await Deno.stat(`${runDir}/config.json`);
  } catch {
    throw new Error(
      `--run ${runDir}: no config.json; expected a training run directory (deno task train --out)`,
    );
  }
  const { gan, config, encoder } = await loadGan(runDir);
  if (encoder || config.kind === "acae") {
    encoder?.dispose();
    throw new Error(`--run ${runDir} is an aCAE run, which has its own encoder; pass a DCGAN run`);
  }
  return { gan, config };
}

// ---- the loop -----------------------------------------------------------------------------------

export interface EncoderRunOptions {
  /** The GAN's run directory; the encoder is written to RUN/encoder/. */
  runDir: string;
  /** The run's trained G and D (frozen by this call). */
  gan: Dcgan;
  /** The run's normal training images. */
  source: ImageBatchSource;
  cfg: EncoderTrainConfig;
  resume?: boolean;
  quiet?: boolean;
  provenance?: Record<string, unknown>;
  onMetrics?: (m: EncoderMetrics) => void;
}

/** Trains (or resumes) the izi_f encoder of a run; Ctrl-C writes a checkpoint and stops. */
export async function trainEncoder(o: EncoderRunOptions): Promise<EncoderState> {
  const { source, cfg, gan } = o;
  const dir = `${o.runDir}/${ENCODER_DIR}`;
  if (!sameModel(gan.G.cfg, cfg.model)) {
    throw new Error(
      `encoder model (${modelString(cfg.model)}) differs from the GAN's (${modelString(gan.G.cfg)})`,
    );
  }
  await startRun(dir, source, cfg, Boolean(o.resume), o.provenance, CHECKPOINT);
  const s = o.resume ? await readEncoderCheckpoint(dir, cfg) : createEncoderState(cfg);
  freeze(gan);
  s.encoder.train().requiresGrad(true);
  s.interrupted = "interrupted" === await runEpochs({
    dir,
    task: "train-encoder",
    source,
    position: s,
    schedule: cfg,
    label: "encoder ",
    quiet: o.quiet,
    resumedFrom: o.resume ? `${dir}/${CHECKPOINT}` : undefined,
    step: (batch) => ({ ...encoderStep(s, gan, cfg, batch) }),
    describe: ({ loss, lossPixels, lossFeatures }) => ({
      status: `loss ${loss.toFixed(4)} (pixels ${lossPixels.toFixed(4)}, features ${
        lossFeatures.toFixed(4)
      })`,
      finite: [loss],
    }),
    onMetrics: o.onMetrics as ((m: Record<string, number>) => void) | undefined,
    checkpoint: () => writeEncoderCheckpoint(dir, s, cfg),
    finish: async () => {
      const weights = new Map<string, T.HostTensor>();
      for (const [k, v] of await s.encoder.hostStateDict()) weights.set(`E.${k}`, v);
      await T.writeSafetensors(`${dir}/${WEIGHTS}`, weights, { config: JSON.stringify(cfg) });
    },
  });
  s.encoder.eval();
  return s;
}
