// The epoch loop shared by every training in the project (the DCGAN, the aCAE, the izi_f encoder):
// seeded per-epoch shuffles, batches, losses summed on the device and their means over each logging
// window read back into metrics.jsonl, a NaN stop, progress with each epoch's means, a checkpoint
// after each epoch and on Ctrl-C, and exact resumption.

import * as T from "../core/mod.ts";
import { Rng } from "../core/random.ts";
import { writeFileAtomic } from "../core/io/safetensors.ts";
import type { ImageBatchSource } from "./data/source.ts";
import { writeRunState } from "./folders.ts";
import { Progress } from "./progress.ts";

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

/**
 * Checks the data against the model and, for a new run, writes config.json (the config, the data's
 * description and provenance) and an empty metrics.jsonl in `dir`. Nothing is written on bad data.
 * A resumed run must have a checkpoint to resume from.
 */
export async function startRun(
  dir: string,
  source: ImageBatchSource,
  config: { model: { size: number }; batch: number },
  resume: boolean,
  provenance: Record<string, unknown> = {},
  checkpoint = "checkpoint.safetensors",
): Promise<void> {
  stepsPerEpoch(source, config.model.size, config.batch);
  if (resume) {
    try {
      await Deno.stat(`${dir}/${checkpoint}`);
    } catch {
      throw new Error(
        `${dir}: no ${checkpoint} to resume from (the run stopped before its first checkpoint, at the end of ` +
          `its first epoch); start it again without --resume, with --force to replace the folder`,
      );
    }
    return;
  }
  await Deno.mkdir(dir, { recursive: true });
  const json = JSON.stringify({ ...config, source: source.description, ...provenance }, null, 2) + "\n";
  await writeFileAtomic(`${dir}/config.json`, new TextEncoder().encode(json));
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, "");
}

/**
 * Drops the lines of `dir`/metrics.jsonl logged after `step`: a run killed after its last checkpoint
 * logged steps that its resumption runs again, and would log twice.
 */
async function truncateMetrics(dir: string, step: number): Promise<void> {
  const path = `${dir}/metrics.jsonl`;
  const text = await Deno.readTextFile(path).catch(() => "");
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => {
    try {
      return !(Number(JSON.parse(l).step) > step);
    } catch {
      return false; // a line cut short by the kill
    }
  });
  if (kept.length !== lines.length) {
    await writeFileAtomic(path, new TextEncoder().encode(kept.map((l) => l + "\n").join("")));
  }
}

/** What a resume may change: the epochs (to extend a run), the step limit, how often losses are read back. */
export interface ResumeChanges {
  epochs?: number;
  maxSteps: number;
  logEvery?: number;
}

/**
 * The config of the run in `dir` (its config.json) with what a resume changes; everything else is the
 * run's own. How often losses are read back changes no result: metrics.jsonl records each window's steps.
 */
export async function resumedConfig<C extends LoopSchedule>(dir: string, changes: ResumeChanges): Promise<C> {
  const path = `${dir}/config.json`;
  let saved: C;
  try {
    saved = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`--resume: cannot read ${path} (${(e as Error).message}); train without --resume first`);
  }
  return {
    ...saved,
    epochs: changes.epochs ?? saved.epochs,
    maxSteps: changes.maxSteps,
    logEvery: changes.logEvery ?? saved.logEvery,
  };
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
          await Deno.writeTextFile(`${o.dir}/metrics.jsonl`, JSON.stringify(m) + "\n", { append: true });
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
