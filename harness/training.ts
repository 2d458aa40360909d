// Training runs: the epoch loop shared by every training in the project (the DCGAN, the aCAE, the
// izi_f encoder) — seeded per-epoch shuffles, batches, losses summed on the device and their means
// over each logging window read back into metrics.jsonl, a NaN stop, progress with each epoch's
// means, a checkpoint after each epoch and on Ctrl-C, exact resumption — and the two runs built on
// it: train (the DCGAN or the aCAE, anogan/train.ts) and trainEncoder (izi_f, anogan/encoder.ts).
// The files they write are harness/run.ts's.

import * as T from "../core/mod.ts";
import { Rng } from "../core/random.ts";
import {
  createEncoderState,
  type EncoderMetrics,
  type EncoderState,
  encoderStep,
  type EncoderTrainConfig,
} from "../anogan/encoder.ts";
import { acaeStep } from "../anogan/acae.ts";
import type { Dcgan } from "../anogan/dcgan.ts";
import { foldFrozen } from "../anogan/mapping.ts";
import {
  betterHeldOutFit,
  calibrateDiscriminatorNorms,
  createTrainState,
  type HeldOutFit,
  heldOutFit,
  heldOutImages,
  medianImage,
  type StepMetrics,
  type TrainConfig,
  type TrainState,
  trainStep,
} from "../anogan/train.ts";
import { tileImages } from "./data/grid.ts";
import { writeGrayPixelsPng } from "./data/png.ts";
import type { ImageBatchSource } from "./data/source.ts";
import { writeRunState } from "./folders.ts";
import { Progress } from "./progress.ts";
import {
  appendMetrics,
  CHECKPOINT,
  ENCODER_DIR,
  loadHeldOutBest,
  modelString,
  readCheckpoint,
  readEncoderCheckpoint,
  readHeldOutBest,
  sameModel,
  startRun,
  truncateMetrics,
  writeCheckpoint,
  writeEncoderCheckpoint,
  writeEncoderWeights,
  writeHeldOutBest,
  writeModel,
} from "./run.ts";

/** Where a run stands: steps done in total, and the position inside the current epoch. */
export interface LoopPosition {
  step: number;
  epoch: number;
  stepInEpoch: number;
}

export class NanLossError extends Error {
  constructor(readonly step: number, checkpoint: string) {
    super(
      `training diverged: a loss became NaN at step ${step}; the last good checkpoint is kept at ${checkpoint} ` +
        `(try a lower --lr or another --seed)`,
    );
    this.name = "NanLossError";
  }
}

/**
 * Sums of a step's logged scalars, kept on the device: each step adds to them inside its own submit
 * (fixed order, no readback), and the loop reads the means once per logging window. A window never
 * spans two epochs, so windows weighted by their steps give each epoch's exact means.
 */
class DeviceSums {
  #sums = new Map<string, T.Tensor>();
  steps = 0;

  /** Adds this step's values; call inside the step. */
  add(values: Record<string, T.Tensor | undefined>): void {
    T.noGrad(() => {
      for (const [name, value] of Object.entries(values)) {
        if (!value) continue;
        const previous = this.#sums.get(name);
        this.#sums.set(name, (previous ? T.add(previous, value) : T.copy(value)).keep());
        previous?.dispose();
      }
    });
    this.steps++;
  }

  /** The means since the last read, and a fresh start. */
  async readMeans(): Promise<Record<string, number>> {
    const names = [...this.#sums.keys()];
    const sums = await Promise.all(names.map((name) => this.#sums.get(name)!.item()));
    const means = Object.fromEntries(names.map((name, i) => [name, sums[i] / this.steps]));
    for (const t of this.#sums.values()) t.dispose();
    this.#sums.clear();
    this.steps = 0;
    return means;
  }
}

/** Means of several windows, weighted by their steps: an epoch's means. */
class WeightedMeans {
  #sums: Record<string, number> = {};
  steps = 0;

  add(means: Record<string, number>, steps: number): void {
    for (const [name, mean] of Object.entries(means)) {
      this.#sums[name] = (this.#sums[name] ?? 0) + mean * steps;
    }
    this.steps += steps;
  }

  take(): Record<string, number> {
    const means = Object.fromEntries(
      Object.entries(this.#sums).map(([name, sum]) => [name, sum / this.steps]),
    );
    this.#sums = {};
    this.steps = 0;
    return means;
  }
}

/** The order of the images in an epoch: a stream of its own per (seed, epoch), so resuming is exact. */
export function epochPermutation(seed: number, epoch: number, count: number): Uint32Array {
  const rng = new Rng(BigInt(seed), BigInt(epoch + 1) << 40n);
  const perm = new Uint32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  const bits = rng.u32(count);
  for (let i = count - 1; i > 0; i--) {
    const j = bits[i] % (i + 1); // modulo bias < 2^-20 for data sets below a million images
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

/** Steps per epoch (whole batches only); errors name the data and the sizes. */
export function stepsPerEpoch(source: ImageBatchSource, size: number, batch: number): number {
  if (source.size !== size) {
    throw new Error(`data images are ${source.size}×${source.size}, the model expects ${size}×${size}`);
  }
  const steps = Math.floor(source.count / batch);
  if (steps < 1) {
    throw new Error(
      `${source.description}: ${source.count} images are fewer than one batch of ${batch}; lower --batch`,
    );
  }
  return steps;
}

export interface LoopSchedule {
  batch: number;
  epochs: number;
  /** Stop after this many steps in total; 0 = no limit. */
  maxSteps: number;
  seed: number;
  logEvery: number;
}

export interface EpochLoopOptions {
  /** Where metrics.jsonl and state.json live. */
  dir: string;
  /** The task named in state.json: "train", "train-encoder". */
  task: string;
  source: ImageBatchSource;
  position: LoopPosition;
  /** Batch size, epochs, step limit, seed of the shuffles, logging period: the run's config. */
  schedule: LoopSchedule;
  /** Prefix of progress lines, e.g. "encoder ". */
  label?: string;
  quiet?: boolean;
  /** Path of the run's checkpoint when resuming, for the NaN message. */
  resumedFrom?: string;
  /** One optimisation step on a batch [B, size, size] (one T.step); returns the scalars to log. */
  step: (batch: Float32Array) => Record<string, T.Tensor | undefined>;
  /**
   * The progress status for logged values (means over a logging window, or over an epoch); `finite`
   * lists the values that must not be NaN.
   */
  describe: (values: Record<string, number>) => { status: string; finite: number[] };
  onMetrics?: (m: Record<string, number>) => void;
  /**
   * After the last step of an epoch (e.g. a sample grid), before the epoch counter moves on; what it
   * returns is added to the epoch's progress line.
   */
  onEpochEnd?: (epoch: number) => Promise<string | void>;
  /** Writes the checkpoint of the current position; returns its path. */
  checkpoint: () => Promise<string>;
  /** After a run that was not interrupted: final weights. */
  finish: () => Promise<void>;
}

/**
 * Runs (or resumes) epochs until done, Ctrl-C or a NaN loss; checkpoints after each epoch. The run's
 * state.json follows: running (with the step of the last checkpoint), then complete, interrupted
 * (Ctrl-C; returns "interrupted") or failed (the error, rethrown).
 */
export async function runEpochs(o: EpochLoopOptions): Promise<"complete" | "interrupted"> {
  const pos = o.position;
  const { batch: batchSize, epochs, maxSteps, seed, logEvery } = o.schedule;
  const size = o.source.size;
  const perEpoch = stepsPerEpoch(o.source, size, batchSize);
  const totalSteps = maxSteps > 0 ? Math.min(maxSteps, epochs * perEpoch) : epochs * perEpoch;
  const progress = new Progress({ total: totalSteps, unit: "img", unitsPerStep: batchSize, quiet: o.quiet });
  progress.resumeAt(pos.step);
  let interrupted = false;
  const onSigint = () => (interrupted = true);
  Deno.addSignalListener("SIGINT", onSigint);
  const values = size * size;
  const batch = new Float32Array(batchSize * values);
  let lastCheckpoint = o.resumedFrom ?? "(none yet)";
  let rateStart = performance.now(), rateStep = pos.step;
  const sums = new DeviceSums(), epochMeans = new WeightedMeans();
  const label = o.label ?? "";
  const record = (state: "running" | "interrupted" | "failed" | "complete", step: number, message?: string) =>
    writeRunState(o.dir, o.task, state, { step, totalSteps, ...(message ? { message } : {}) });
  if (o.resumedFrom) await truncateMetrics(o.dir, pos.step);
  await record("running", pos.step);
  let checkpointStep = pos.step;
  try {
    while (pos.epoch < epochs && pos.step < totalSteps && !interrupted) {
      const perm = epochPermutation(seed, pos.epoch, o.source.count);
      while (pos.stepInEpoch < perEpoch && pos.step < totalSteps && !interrupted) {
        for (let b = 0; b < batchSize; b++) {
          const src = perm[pos.stepInEpoch * batchSize + b] * values;
          batch.set(o.source.images.subarray(src, src + values), b * values);
        }
        T.step(() => {
          const tensors = o.step(batch);
          sums.add(tensors);
          for (const t of Object.values(tensors)) t?.dispose();
        });
        pos.step++;
        pos.stepInEpoch++;
        if (pos.step % logEvery === 0 || pos.stepInEpoch === perEpoch || pos.step === totalSteps) {
          const steps = sums.steps;
          const logged = await sums.readMeans();
          epochMeans.add(logged, steps);
          const now = performance.now();
          const m = {
            step: pos.step,
            epoch: pos.epoch + 1,
            ...logged,
            steps,
            imagesPerSecond: ((pos.step - rateStep) * batchSize) / ((now - rateStart) / 1000),
          };
          rateStart = now;
          rateStep = pos.step;
          const { status, finite } = o.describe(logged);
          if (!finite.every(Number.isFinite)) throw new NanLossError(pos.step, lastCheckpoint);
          await appendMetrics(o.dir, m);
          o.onMetrics?.(m);
          progress.update(pos.step, `${label}epoch ${pos.epoch + 1}/${epochs} ${status}`);
        }
      }
      let means = "";
      if (pos.stepInEpoch === perEpoch) {
        // After a resume inside the epoch, its means cover the steps of this process only.
        const whole = epochMeans.steps === perEpoch ? "" : ` of its last ${epochMeans.steps} steps`;
        means = `, means${whole} ${o.describe(epochMeans.take()).status}`;
        means += (await o.onEpochEnd?.(pos.epoch + 1)) ?? "";
        pos.epoch++;
        pos.stepInEpoch = 0;
      }
      lastCheckpoint = await o.checkpoint();
      checkpointStep = pos.step;
      await record("running", checkpointStep);
      progress.log(`${label}epoch ${pos.epoch}${means}; checkpoint written: ${lastCheckpoint}`);
    }
    if (interrupted) {
      progress.log(`interrupted at step ${pos.step}: checkpoint written; continue with --resume`);
      await record("interrupted", pos.step, "stopped by SIGINT (Ctrl-C)");
    } else {
      await o.finish();
      await record("complete", pos.step);
    }
    progress.finish();
    return interrupted ? "interrupted" : "complete";
  } catch (e) {
    await record("failed", checkpointStep, (e as Error).message).catch(() => {});
    throw e;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}

// ---- the DCGAN's (or the aCAE's) run ---------------------------------------------------------------

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
  const heldOut = heldOutImages(cfg, source.count);
  stepsPerEpoch(splitHeldOut(source, heldOut).fit, cfg.model.size, cfg.batch);
  if (cfg.modelEpoch === "held-out" && (heldOut === 0 || cfg.kind === "acae")) {
    throw new Error(
      `keeping the held-out best epoch needs the held-out check of a DCGAN's G: ` +
        (cfg.kind === "acae" ? "an aCAE run has none" : `${source.description} holds out no images`),
    );
  }
}

/**
 * Trains (or resumes) a run; returns the final state. Ctrl-C writes a checkpoint and stops
 * (`interrupted` is then true). The caller owns `dir` (OwnedFolder); state.json follows the run.
 */
export async function train(o: TrainRunOptions): Promise<TrainState> {
  const { dir, cfg } = o;
  checkTrainable(o.source, cfg); // before anything is written
  const heldOutCount = heldOutImages(cfg, o.source.count);
  const { fit: source, heldOut } = splitHeldOut(o.source, heldOutCount);
  await startRun(dir, source, cfg, Boolean(o.resume), o.provenance);
  const median = heldOut && medianImage(source.images, source.count, source.size);
  let lastFit: (HeldOutFit & { epoch: number }) | null = null;
  const keepBest = cfg.modelEpoch === "held-out";
  let best = keepBest && o.resume ? await readHeldOutBest(dir) : null;
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
      step: (batch) => ({ ...(cfg.kind === "acae" ? acaeStep(s, cfg, batch) : trainStep(s, cfg, batch)) }),
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
        lastFit = { epoch, ...f };
        const line = { epoch, step: s.step, ...f, learned, heldOutImages: heldOut.length / median.length };
        await appendMetrics(dir, line);
        if (keepBest && betterHeldOutFit(best, lastFit) === lastFit) {
          best = lastFit;
          await writeHeldOutBest(dir, s, best);
        }
        const figure = `; held-out |x − G(z)| ${f.heldOutResidual.toFixed(3)} per pixel ` +
          `(a constant image: ${f.constantResidual.toFixed(3)})`;
        return learned ? figure : `${figure} — G does no better than the constant (yet)`;
      },
      checkpoint: () => writeCheckpoint(dir, s, cfg),
      finish: async () => {
        if (best) await loadHeldOutBest(dir, s.gan);
        if (cfg.discriminatorNorms === "normal-images") {
          await calibrateDiscriminatorNorms(s.gan.D, source.images, source.count, cfg.batch);
        }
        await writeModel(dir, s, cfg, best?.epoch);
        s.modelEpoch = best?.epoch;
        if (best && !o.quiet) {
          console.error(
            `model: epoch ${best.epoch}, whose G fitted the held-out images best ` +
              `(|x − G(z)| ${best.heldOutResidual.toFixed(3)} per pixel)`,
          );
        }
      },
    });
  } finally {
    fixedZ.dispose();
  }
  // The model's epoch decides the warning: the held-out best's, or the last.
  const modelFit: (HeldOutFit & { epoch: number }) | null = best ?? lastFit;
  if (modelFit && !(modelFit.heldOutResidual < modelFit.constantResidual)) {
    console.warn(
      `warning: ${dir}: after epoch ${modelFit.epoch}, G reproduces the ${heldOutCount} held-out normal images no better ` +
        `than a constant image (|x − G(z)| ${modelFit.heldOutResidual.toFixed(3)} against ` +
        `${
          modelFit.constantResidual.toFixed(3)
        } per pixel, the constant being the training images' per-pixel ` +
        `median): it has learned no more of the normal data than their average look, and its scores may mean ` +
        `little. Train longer, check that the images are what the model should learn, or try another --lr ` +
        `or --seed.`,
    );
  }
  return s;
}

// ---- the izi_f encoder's run ----------------------------------------------------------------------

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
  stepsPerEpoch(source, cfg.model.size, cfg.batch);
  await startRun(dir, source, cfg, Boolean(o.resume), o.provenance);
  const s = o.resume ? await readEncoderCheckpoint(dir, cfg) : createEncoderState(cfg);
  const frozen = foldFrozen(gan); // G and D frozen, batch norm folded in, once for the whole training
  s.encoder.train().requiresGrad(true);
  try {
    s.interrupted = "interrupted" === await runEpochs({
      dir,
      task: "train-encoder",
      source,
      position: s,
      schedule: cfg,
      label: "encoder ",
      quiet: o.quiet,
      resumedFrom: o.resume ? `${dir}/${CHECKPOINT}` : undefined,
      step: (batch) => ({ ...encoderStep(s, frozen, cfg, batch) }),
      describe: ({ loss, lossPixels, lossFeatures }) => ({
        status: `loss ${loss.toFixed(4)} (pixels ${lossPixels.toFixed(4)}, features ${
          lossFeatures.toFixed(4)
        })`,
        finite: [loss],
      }),
      onMetrics: o.onMetrics as ((m: Record<string, number>) => void) | undefined,
      checkpoint: () => writeEncoderCheckpoint(dir, s, cfg),
      finish: () => writeEncoderWeights(dir, s, cfg),
    });
  } finally {
    frozen.dispose();
  }
  s.encoder.eval();
  return s;
}
