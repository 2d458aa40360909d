// The pipeline the presets share (the demo, the Fashion-MNIST experiment): train the DCGAN on normal
// images, its izi_f encoder, and the aCAE baseline on the same images; then score a query set with all
// of them, the aCAE's columns joined to the DCGAN's rows by image id.
//
// In the folder given: run/ (the DCGAN, with run/encoder/), acae-run/, and one score folder per query set.

import type { ImageBatchSource } from "./data/source.ts";
import { type Encoder, ENCODER_TRAIN_DEFAULTS } from "../anogan/encoder.ts";
import { train, trainEncoder } from "./training.ts";
import type { MappingOptions } from "../anogan/mapping.ts";
import type { QuerySet } from "./query_sets.ts";
import { type ScoreMethod, type ScoreOptions, scoreQueries, writeScoreOutputs } from "./scoring.ts";
import { joinScoreColumns, type ScoreRow } from "./score_file.ts";
import { type TrainConfig, type TrainState } from "../anogan/train.ts";

export interface PipelineTraining {
  /** The DCGAN's training; the aCAE trains with the same settings and its own epochs. */
  cfg: TrainConfig;
  encoderEpochs: number;
  acaeEpochs: number;
  /** The data options, recorded in the runs' config.json. */
  extra: Record<string, unknown>;
  provenance: Record<string, string>;
  quiet?: boolean;
  /** Called before the encoder and before the aCAE trains (progress lines). */
  onStage?: (stage: "encoder" | "acae") => void;
}

export interface PipelineModels {
  runDir: string;
  /** The trained DCGAN (state.gan), its izi_f encoder, and the trained aCAE (acae.gan, acae.encoder). */
  state: TrainState;
  encoder: Encoder;
  acae: TrainState;
}

/** Trains the DCGAN into `dir`/run, its encoder into run/encoder, the aCAE into `dir`/acae-run. */
export async function trainModels(
  dir: string,
  source: ImageBatchSource,
  t: PipelineTraining,
): Promise<PipelineModels> {
  const runDir = `${dir}/run`;
  const provenance = { ...t.provenance, extra: t.extra };
  const state = await train({ dir: runDir, source, cfg: t.cfg, quiet: t.quiet, provenance });
  t.onStage?.("encoder");
  const encoder = (await trainEncoder({
    runDir,
    gan: state.gan,
    source,
    cfg: {
      ...ENCODER_TRAIN_DEFAULTS,
      data: t.cfg.data,
      model: t.cfg.model,
      epochs: t.encoderEpochs,
      seed: t.cfg.seed,
    },
    quiet: t.quiet,
    provenance: t.provenance,
  })).encoder;
  t.onStage?.("acae");
  const { modelEpoch: _dcganOnly, ...shared } = t.cfg; // the held-out choice of an epoch is the DCGAN's
  const acae = await train({
    dir: `${dir}/acae-run`,
    source,
    cfg: { ...shared, kind: "acae", epochs: t.acaeEpochs },
    quiet: t.quiet,
    provenance,
  });
  return { runDir, state, encoder, acae };
}

export interface PipelineScoring {
  /** The DCGAN's methods; the aCAE's columns are added. */
  methods: ScoreMethod[];
  mapping: Omit<MappingOptions, "method">;
  batch: number;
  /** Write the PNGs and the float maps (the DCGAN's). */
  images: boolean;
  /** k, the mapping steps after z₁ = E(x) of encoder+iter. */
  encoderSteps?: number;
  quiet?: boolean;
  /** The query set's spec, for score.json. */
  data: string;
  provenance: Record<string, string>;
}

/**
 * Scores `set` into the score folder `dir` (scores.csv, score.json, and images when asked) with the
 * DCGAN's methods and the aCAE; returns the rows and the scoring seconds, in all and per method.
 */
export async function scoreWithModels(
  models: PipelineModels,
  set: QuerySet,
  dir: string,
  s: PipelineScoring,
): Promise<{ rows: ScoreRow[]; seconds: number; secondsByMethod: Record<string, number> }> {
  await Deno.mkdir(dir, { recursive: true });
  const options: ScoreOptions = {
    methods: s.methods,
    mapping: s.mapping,
    batch: s.batch,
    shard: [0, 1],
    images: s.images,
    quiet: s.quiet,
    encoder: models.encoder,
    encoderSteps: s.encoderSteps,
  };
  const t0 = performance.now();
  const result = await scoreQueries(models.state.gan, set, dir, options);
  // The aCAE scores the same images with its own encoder, decoder and discriminator.
  const acae = await scoreQueries(models.acae.gan, set, dir, {
    ...options,
    methods: ["acae"],
    images: false,
    encoder: models.acae.encoder,
  });
  result.rows = joinScoreColumns(result.rows, acae.rows, `${dir}: the aCAE's scores`);
  Object.assign(result.seconds, acae.seconds);
  const seconds = (performance.now() - t0) / 1000;
  await writeScoreOutputs(dir, result, {
    run: models.runDir,
    data: s.data,
    set,
    options: { ...options, methods: [...s.methods, "acae"] },
    seconds,
    model: models.state.gan.G.cfg,
    provenance: s.provenance,
  });
  return { rows: result.rows, seconds, secondsByMethod: result.seconds };
}
