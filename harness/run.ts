// The run directory: one owner for what a training writes and what scoring reads back.
//
//   config.json              every hyperparameter, seed, adapter, Deno version, project commit, and the
//                            training data's fingerprint (with any change accepted by --resume --force)
//   metrics.jsonl            one line per logging window (mean losses over its steps, images/s), and one
//                            per epoch for the held-out check of G
//   samples/epoch-NNN.png    G(z) for a fixed z after each epoch (eval mode, as used for mapping)
//   checkpoint.safetensors   G, D (and an aCAE's E), both optimisers, step, RNG state; written atomically
//                            after each epoch and on Ctrl-C; a run killed mid-epoch resumes from the last one
//   model.safetensors        G and D (and E) weights only, PyTorch names and layouts, written at the end
//                            (of the last epoch, or the held-out best's), with D's batch-norm statistics
//                            recomputed on the normal training images
//   heldout-best.safetensors G and D at the epoch whose G fitted the held-out images best (only when the
//                            run keeps that epoch's model: TrainConfig.modelEpoch "held-out")
//   state.json               running / interrupted / failed / complete (harness/folders.ts)
//   encoder/                 the izi_f encoder of a DCGAN run: config.json, metrics.jsonl,
//                            checkpoint.safetensors (E, its optimiser, the step), encoder.safetensors, state.json

import * as T from "../core/mod.ts";
import { writeFileAtomic } from "../core/io/safetensors.ts";
import { createDcgan, type Dcgan, type DcganConfig } from "../anogan/dcgan.ts";
import {
  createEncoderState,
  Encoder,
  type EncoderState,
  type EncoderTrainConfig,
} from "../anogan/encoder.ts";
import { createTrainState, type HeldOutFit, type TrainConfig, type TrainState } from "../anogan/train.ts";
import { compareFingerprints, type DataFingerprint } from "./data/fingerprint.ts";
import { type ImageBatchSource, loadTrainingSource, type SourceOptions } from "./data/source.ts";
import { requireComplete, type RunState } from "./folders.ts";

export const CHECKPOINT = "checkpoint.safetensors";
export const MODEL = "model.safetensors";
export const ENCODER_DIR = "encoder";
const HELD_OUT_BEST = "heldout-best.safetensors";
const ENCODER_WEIGHTS = "encoder.safetensors";

// ---- config.json and metrics.jsonl --------------------------------------------------------------------

/**
 * For a new run, writes config.json (the config, the data's description and provenance) and an empty
 * metrics.jsonl in `dir`; the caller has checked the data (nothing is written on bad data). A resumed
 * run must have a checkpoint to resume from.
 */
export async function startRun(
  dir: string,
  source: ImageBatchSource,
  config: object,
  resume: boolean,
  provenance: Record<string, unknown> = {},
): Promise<void> {
  if (resume) {
    try {
      await Deno.stat(`${dir}/${CHECKPOINT}`);
    } catch {
      throw new Error(
        `${dir}: no ${CHECKPOINT} to resume from (the run stopped before its first checkpoint, at the end of ` +
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
export async function truncateMetrics(dir: string, step: number): Promise<void> {
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

/** Appends one line to `dir`/metrics.jsonl. */
export async function appendMetrics(dir: string, line: object): Promise<void> {
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, JSON.stringify(line) + "\n", { append: true });
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
export async function resumedConfig<C extends { epochs: number; maxSteps: number; logEvery: number }>(
  dir: string,
  changes: ResumeChanges,
): Promise<C> {
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

/**
 * A resumed run trains on the data it started with: the fingerprint in config.json must match the data
 * found now. With `force` the run goes on with the new data, and config.json records the change.
 */
export async function checkResumedData(dir: string, now: DataFingerprint, force: boolean): Promise<void> {
  const path = `${dir}/config.json`;
  const config = JSON.parse(await Deno.readTextFile(path));
  const saved = config.dataFingerprint as DataFingerprint | undefined;
  if (!saved) return; // a run from before fingerprints: nothing to compare with
  const change = compareFingerprints(saved, now);
  if (change === null) return;
  if (!force) {
    throw new Error(
      `--resume ${dir}: the training data changed since the run started (${change}); restore it, or pass ` +
        `--force to go on training on the new data`,
    );
  }
  console.error(`notice: the training data changed (${change}); going on with it (--force)`);
  const history = [...(config.dataChanges ?? []), { at: new Date().toISOString(), change, previous: saved }];
  const updated = { ...config, dataFingerprint: now, dataChanges: history };
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(updated, null, 2) + "\n"));
}

/** A run's own normal training images: its config.json's data spec, seed and data options. */
export function loadRunTrainingSource(config: Record<string, unknown>): Promise<ImageBatchSource> {
  const extra = (config.extra ?? {}) as Partial<SourceOptions>;
  const model = config.model as DcganConfig;
  return loadTrainingSource(String(config.data), {
    patchesPerImage: 32,
    ...extra,
    size: model.size,
    seed: Number(config.seed),
  });
}

// ---- tensors in files -------------------------------------------------------------------------------

/** The tensors of `file` named `prefix.NAME`, by NAME. */
function tensorsUnder(file: T.SafetensorsFile, prefix: string): Map<string, T.HostTensor> {
  const out = new Map<string, T.HostTensor>();
  for (const [k, v] of file.tensors) if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), v);
  return out;
}

/** A module's state (PyTorch names and layouts) under `prefix.` in `into`. */
async function addModule(into: Map<string, T.HostTensor>, prefix: string, module: T.Module): Promise<void> {
  for (const [name, t] of await module.hostStateDict()) into.set(`${prefix}.${name}`, t);
}

/** G and D (and an encoder E) under G., D. (and E.) in `into`. */
async function addGan(into: Map<string, T.HostTensor>, gan: Dcgan, encoder?: Encoder): Promise<void> {
  await addModule(into, "G", gan.G);
  await addModule(into, "D", gan.D);
  if (encoder) await addModule(into, "E", encoder);
}

/** Loads G and D from the G. and D. tensors of `file` (at `path`, for errors). */
function loadGanWeights(gan: Dcgan, file: T.SafetensorsFile, path: string): void {
  gan.G.loadStateDict(tensorsUnder(file, "G"), `${path} (generator)`);
  gan.D.loadStateDict(tensorsUnder(file, "D"), `${path} (discriminator)`);
}

/** An optimiser's moments as stored (they mirror the parameters) under `prefix.` in `into`. */
async function addOptimiser(into: Map<string, T.HostTensor>, prefix: string, opt: T.Adam): Promise<void> {
  for (const [name, t] of opt.stateTensors()) {
    into.set(`${prefix}.${name}`, { shape: [...t.shape], data: await t.read() });
  }
}

function loadOptimiser(opt: T.Adam, file: T.SafetensorsFile, prefix: string, path: string): void {
  const state = tensorsUnder(file, prefix);
  for (const [name, t] of opt.stateTensors()) {
    const src = state.get(name);
    if (!src || src.data.length !== t.size) {
      throw new Error(`${path}: optimiser state ${prefix}.${name} is missing or mis-sized`);
    }
    t.write(src.data);
  }
}

/** Where a training stands, as checkpoint metadata: steps in all, the epoch, the step inside it. */
function positionMetadata(s: { step: number; epoch: number; stepInEpoch: number }): Record<string, string> {
  return { step: String(s.step), epoch: String(s.epoch), stepInEpoch: String(s.stepInEpoch) };
}

function restorePosition(
  s: { step: number; epoch: number; stepInEpoch: number },
  m: Record<string, string>,
): void {
  s.step = Number(m.step);
  s.epoch = Number(m.epoch);
  s.stepInEpoch = Number(m.stepInEpoch);
}

function requireMetadata(file: T.SafetensorsFile, keys: string[], path: string, what: string): void {
  for (const key of keys) {
    if (file.metadata[key] === undefined) throw new Error(`${path}: metadata ${key} is missing; not ${what}`);
  }
}

// ---- the GAN's (or aCAE's) checkpoint and model -------------------------------------------------------

export async function writeCheckpoint(dir: string, s: TrainState, cfg: TrainConfig): Promise<string> {
  const tensors = new Map<string, T.HostTensor>();
  await addGan(tensors, s.gan, s.encoder);
  await addOptimiser(tensors, "optG", s.optG);
  await addOptimiser(tensors, "optD", s.optD);
  const meta = {
    ...positionMetadata(s),
    optGSteps: String(s.optG.stepCount),
    optDSteps: String(s.optD.stepCount),
    zRng: JSON.stringify(s.zRng.state()),
    config: JSON.stringify(cfg),
  };
  const path = `${dir}/${CHECKPOINT}`;
  await T.writeSafetensors(path, tensors, meta);
  return path;
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
  loadGanWeights(s.gan, file, path);
  s.encoder?.loadStateDict(tensorsUnder(file, "E"), `${path} (encoder)`);
  loadOptimiser(s.optG, file, "optG", path);
  loadOptimiser(s.optD, file, "optD", path);
  requireMetadata(
    file,
    ["step", "epoch", "stepInEpoch", "optGSteps", "optDSteps", "zRng"],
    path,
    "a training checkpoint",
  );
  const m = file.metadata;
  restorePosition(s, m);
  s.optG.stepCount = Number(m.optGSteps);
  s.optD.stepCount = Number(m.optDSteps);
  s.zRng = T.Rng.fromState(JSON.parse(m.zRng));
  return s;
}

/**
 * heldout-best.safetensors: G's and D's weights at the end of the epoch whose G fitted the held-out
 * normal images best so far (TrainConfig.modelEpoch "held-out"), with that epoch and its fit.
 */
export async function writeHeldOutBest(
  dir: string,
  s: TrainState,
  fit: HeldOutFit & { epoch: number },
): Promise<void> {
  const tensors = new Map<string, T.HostTensor>();
  await addGan(tensors, s.gan);
  await T.writeSafetensors(`${dir}/${HELD_OUT_BEST}`, tensors, {
    epoch: String(fit.epoch),
    heldOutResidual: String(fit.heldOutResidual),
    constantResidual: String(fit.constantResidual),
  });
}

/** The epoch and fit of `dir`'s heldout-best.safetensors, or null when there is none yet. */
export async function readHeldOutBest(dir: string): Promise<(HeldOutFit & { epoch: number }) | null> {
  const path = `${dir}/${HELD_OUT_BEST}`;
  if (!await Deno.stat(path).then(() => true, () => false)) return null;
  const file = await T.readSafetensors(path);
  requireMetadata(file, ["epoch", "heldOutResidual", "constantResidual"], path, "a held-out best model");
  const m = file.metadata;
  return {
    epoch: Number(m.epoch),
    heldOutResidual: Number(m.heldOutResidual),
    constantResidual: Number(m.constantResidual),
  };
}

/** Loads heldout-best.safetensors' G and D into `gan`. */
export async function loadHeldOutBest(dir: string, gan: Dcgan): Promise<void> {
  const path = `${dir}/${HELD_OUT_BEST}`;
  const file = await T.readSafetensors(path);
  loadGanWeights(gan, file, path);
}

/** model.safetensors: G's and D's weights (and an aCAE's E), with the model and D's statistics' origin. */
export async function writeModel(
  dir: string,
  s: TrainState,
  cfg: TrainConfig,
  epoch?: number,
): Promise<void> {
  const weights = new Map<string, T.HostTensor>();
  await addGan(weights, s.gan, s.encoder);
  await T.writeSafetensors(`${dir}/${MODEL}`, weights, {
    config: JSON.stringify(cfg.model),
    discriminatorNorms: cfg.discriminatorNorms ?? "training-steps",
    ...(epoch === undefined ? {} : { epoch: String(epoch) }),
  });
}

/**
 * Loads G and D of a run directory, and for an aCAE run its encoder E: model.safetensors of a complete
 * run. An incomplete one (interrupted, failed, still running, or older than state files and without
 * model.safetensors) is refused unless `allowIncomplete` is true — then its last checkpoint is loaded
 * and a notice names its step. `allowIncomplete` undefined: the caller has no such flag to offer.
 */
export async function loadGan(
  runDir: string,
  o: { allowIncomplete?: boolean } = {},
): Promise<
  { gan: Dcgan; config: Record<string, unknown>; encoder?: Encoder; state: RunState | null; weights: string }
> {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
  } catch (e) {
    throw new Error(
      `--run ${runDir}: cannot read ${runDir}/config.json (${(e as Error).message}); is it a training run?`,
    );
  }
  const model = config.model as DcganConfig | undefined;
  if (!model || typeof model.size !== "number") {
    throw new Error(`${runDir}/config.json has no model configuration`);
  }
  const finish = `deno task train --resume ${runDir}`;
  const state = await requireComplete(runDir, { finish, allowIncomplete: o.allowIncomplete });
  let path = `${runDir}/${MODEL}`;
  const hasModel = await Deno.stat(path).then(() => true, () => false);
  if (!state && !hasModel) {
    // A run from before state files: model.safetensors is written only when training completes.
    if (!o.allowIncomplete) {
      throw new Error(
        `${runDir}: no trained model (${MODEL} is missing: its training did not complete); ` +
          `finish it first (${finish})` +
          (o.allowIncomplete === undefined ? "" : ", or pass --allow-incomplete to use its last checkpoint"),
      );
    }
    console.error(`notice: ${runDir} did not complete; using its last checkpoint (--allow-incomplete)`);
  }
  // An incomplete run may hold the model.safetensors of an earlier end; its checkpoint is newer.
  if (!hasModel || (state && state.state !== "complete")) path = `${runDir}/${CHECKPOINT}`;
  const gan = createDcgan(model, new T.Rng(0n));
  const file = await T.readSafetensors(path);
  loadGanWeights(gan, file, path);
  if (config.kind !== "acae") return { gan, config, state, weights: path };
  const encoder = new Encoder(model, new T.Rng(0n));
  encoder.loadStateDict(tensorsUnder(file, "E"), `${path} (aCAE encoder)`);
  return { gan, config, encoder, state, weights: path };
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

// ---- the izi_f encoder: RUN/encoder/ ------------------------------------------------------------------

export function sameModel(a: DcganConfig, b: DcganConfig): boolean {
  return a.size === b.size && a.width === b.width && a.zDim === b.zDim;
}

export function modelString(m: DcganConfig): string {
  return `size ${m.size}, width ${m.width}, z ${m.zDim}`;
}

export async function writeEncoderCheckpoint(
  dir: string,
  s: EncoderState,
  cfg: EncoderTrainConfig,
): Promise<string> {
  const tensors = new Map<string, T.HostTensor>();
  await addModule(tensors, "E", s.encoder);
  await addOptimiser(tensors, "opt", s.opt);
  const meta = {
    ...positionMetadata(s),
    optSteps: String(s.opt.stepCount),
    config: JSON.stringify(cfg),
  };
  const path = `${dir}/${CHECKPOINT}`;
  await T.writeSafetensors(path, tensors, meta);
  return path;
}

/** Restores an encoder's training state; the checkpoint must be of the same model. */
export async function readEncoderCheckpoint(dir: string, cfg: EncoderTrainConfig): Promise<EncoderState> {
  const path = `${dir}/${CHECKPOINT}`;
  const file = await T.readSafetensors(path);
  requireMetadata(
    file,
    ["step", "epoch", "stepInEpoch", "optSteps", "config"],
    path,
    "an encoder checkpoint",
  );
  const m = file.metadata;
  const saved = JSON.parse(m.config) as EncoderTrainConfig;
  if (!saved.model || !sameModel(saved.model, cfg.model)) {
    throw new Error(
      `${path} is an encoder for another model (${saved.model ? modelString(saved.model) : "unknown"}); ` +
        `this run's model is ${modelString(cfg.model)}: train a new encoder without --resume`,
    );
  }
  const s = createEncoderState(cfg);
  s.encoder.loadStateDict(tensorsUnder(file, "E"), `${path} (encoder)`);
  loadOptimiser(s.opt, file, "opt", path);
  restorePosition(s, m);
  s.opt.stepCount = Number(m.optSteps);
  return s;
}

/** encoder/encoder.safetensors: E's weights, with the encoder's config. */
export async function writeEncoderWeights(
  dir: string,
  s: EncoderState,
  cfg: EncoderTrainConfig,
): Promise<void> {
  const weights = new Map<string, T.HostTensor>();
  await addModule(weights, "E", s.encoder);
  await T.writeSafetensors(`${dir}/${ENCODER_WEIGHTS}`, weights, { config: JSON.stringify(cfg) });
}

/** Loads the trained encoder of a run directory, for a GAN of configuration `model`. */
export async function loadEncoder(runDir: string, model: DcganConfig): Promise<Encoder> {
  const path = `${runDir}/${ENCODER_DIR}/${ENCODER_WEIGHTS}`;
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
  encoder.loadStateDict(tensorsUnder(file, "E"), path);
  return encoder;
}
