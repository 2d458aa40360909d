// The main job, end to end on data the project generates itself: synthetic OCT phantoms → DCGAN
// training on healthy patches → latent mapping and scoring of the phantom patch test set (AnoGAN,
// GANR, PD, and the trivial intensity detectors for comparison) → Table 1 and report.html. Beside the
// DCGAN, the aCAE baseline is trained on the same patches, and an izi_f encoder for the DCGAN gives the
// one-pass mappers A_encoder and A_encoder_iter; each method's scoring time per image is logged.

import { join, relative } from "node:path";
import * as T from "../core/mod.ts";
import { OwnedFolder } from "./folders.ts";
import { scoreWithModels, trainModels } from "./pipeline.ts";
import { DEFAULT_TEST_SET, writePhantomDataset } from "./data/phantom.ts";
import { loadTrainingSource } from "./data/source.ts";
import { MAPPING_DEFAULTS } from "../anogan/mapping.ts";
import { provenance } from "./provenance.ts";
import { loadQuerySet } from "./query_sets.ts";
import { runEvaluation } from "./report/report.ts";
import type { PixelSummary } from "./eval/evaluation.ts";
import { defaultBatch, type ScoreMethod } from "./scoring.ts";
import { TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";

export interface DemoPreset {
  description: string;
  /** Patch side and model. */
  size: number;
  width: number;
  epochs: number;
  /** Healthy phantom volumes for training, random patches per B-scan. */
  trainVolumes: number;
  patchesPerBscan: number;
  /** Test patches scored (balanced: half with fluid); undefined = the whole test set. */
  testPatches?: number;
  /** Training normals scored for the histograms of Fig. 4(c, d). */
  trainPatchesScored: number;
  steps: number;
  lr: number;
  /** Epochs of the aCAE baseline and of the DCGAN's izi_f encoder. */
  acaeEpochs: number;
  encoderEpochs: number;
  /** k, the mapping steps after z₁ = E(x) of the encoder + k steps mapper. */
  encoderSteps: number;
}

export const DEMO_PRESETS: Record<string, DemoPreset> = {
  // Chosen on the phantom validation patches with `deno task budget` (BENCHMARKS.md, "Detection"), among
  // the budgets whose demo fits in 15 minutes on 2 cores: 8 healthy volumes (12 480 patches) for 8
  // epochs gave AUROC A 0.751 (0.710–0.790), 0.919 on patches more than 15% fluid, PD 0.641 — against
  // 0.677 for 2 volumes × 8 epochs (the previous preset), 0.744 for 2 volumes × 24 epochs (the same
  // training time), 0.709 for width 32 × 8 epochs, and 0.579 for 64×64 patches at width 16. Γ = 100
  // with lr 0.1: Γ = 25 gave 0.663 and lr 0.05 0.678 (against 0.677) on the 8-epoch model. The encoder
  // and the aCAE get one epoch each, more steps than their former 3 and 2 epochs over 3 136 patches.
  cpu: {
    description: "sized for a 2-core machine without a GPU (about 9 minutes on lavapipe, 2 AVX-512 cores)",
    size: 32,
    width: 16,
    epochs: 8,
    trainVolumes: 8,
    patchesPerBscan: 32,
    testPatches: 400,
    trainPatchesScored: 64,
    steps: 100,
    lr: 0.1,
    acaeEpochs: 1,
    encoderEpochs: 1,
    encoderSteps: 20,
  },
  smoke: {
    description: "a seconds-long check that the whole pipeline runs (the results mean nothing)",
    size: 32,
    width: 4,
    epochs: 1,
    trainVolumes: 1,
    patchesPerBscan: 2,
    testPatches: 16,
    trainPatchesScored: 8,
    steps: 2,
    lr: 0.1,
    acaeEpochs: 1,
    encoderEpochs: 1,
    encoderSteps: 1,
  },
  paper: {
    description: "the paper's scale: 64×64 patches, full DCGAN widths, 20 epochs, Γ = 500, every test patch",
    size: 64,
    width: 64,
    epochs: 20,
    trainVolumes: 20,
    patchesPerBscan: 64,
    testPatches: undefined,
    trainPatchesScored: 512,
    steps: 500,
    lr: MAPPING_DEFAULTS.lr,
    acaeEpochs: 20,
    encoderEpochs: 20,
    encoderSteps: 50,
  },
};

export interface DemoOptions {
  preset: DemoPreset;
  /** The output folder: claimed (locked), written staged and renamed into place when complete. */
  out: string;
  /** Replace an `out` that holds files (a finished demo, anything else). */
  force?: boolean;
  seed: number;
  quiet?: boolean;
  log: (line: string) => void;
}

export interface DemoResult {
  reportPath: string;
  markdown: string;
  /** Detection by lesion share and by kind (see eval's stratify). */
  strataMarkdown: string;
  /** AUROC of AnoGAN's A and of the best trivial detector on the same test patches. */
  anoganAuc: number;
  bestTrivial: { name: string; auc: number };
  seconds: number;
  /** Scoring seconds per test image of each method (anogan, ganr, pd, encoder, encoder+iter, acae). */
  secondsPerImage: Record<string, number>;
  /** Pixel-level localisation of fluid by AnoGAN's residual maps (see eval's PixelSummary). */
  pixel: PixelSummary[];
}

/** Runs the demo into `o.out` (see OwnedFolder: a killed demo leaves `o.out` as it was). */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const folder = await OwnedFolder.claim(o.out, { task: "demo", staged: true, force: o.force });
  try {
    const r = await demoInto(folder.dir, o);
    await folder.commit();
    return { ...r, reportPath: join(folder.path, relative(folder.dir, r.reportPath)) };
  } finally {
    await folder.release();
  }
}

async function demoInto(out: string, o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const p = o.preset;
  const rt = await T.init();
  const prov = await provenance(rt);
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  o.log(`adapter: ${rt.gpu.description}`);

  // 1. Phantoms: a small data set to look at (the training and test patches are generated in memory).
  o.log(`[1/4] phantoms: writing 1 healthy + 1 pathological volume to ${o.out}/phantoms for inspection`);
  await writePhantomDataset({
    out: `${out}/phantoms`,
    healthyVolumes: 1,
    pathologicalVolumes: 1,
    seed: o.seed,
    bscans: 9,
  });

  // 2. Train the DCGAN on healthy patches.
  const cfg: TrainConfig = {
    ...TRAIN_DEFAULTS,
    data: "phantom",
    model: { size: p.size, width: p.width, zDim: 100 },
    epochs: p.epochs,
    seed: o.seed,
  };
  const extra = { patchesPerImage: p.patchesPerBscan, phantomVolumes: p.trainVolumes };
  const source = await loadTrainingSource("phantom", { size: p.size, seed: o.seed, ...extra });
  o.log(
    `[2/4] training on ${source.description} (${source.count} patches), ${p.epochs} epochs (${elapsed()})`,
  );
  const models = await trainModels(out, source, {
    cfg,
    encoderEpochs: p.encoderEpochs,
    acaeEpochs: p.acaeEpochs,
    extra,
    provenance: prov,
    quiet: o.quiet,
    onStage: (stage) =>
      o.log(
        stage === "encoder"
          ? `      izi_f encoder for the DCGAN: ${p.encoderEpochs} epochs (${elapsed()})`
          : `      aCAE baseline on the same patches: ${p.acaeEpochs} epochs (${elapsed()})`,
      ),
  });

  // 3. Score the test patches and some training patches (for the histograms of Fig. 4(c, d)).
  const mapping = { ...MAPPING_DEFAULTS, steps: p.steps, lr: p.lr, seed: o.seed };
  // Everything is fixed now — the preset, the models, the mapping — so the test set is read, once.
  o.log(`[3/4] scoring the phantom patch test set: Γ = ${p.steps} (${elapsed()})`);
  const test = await loadQuerySet("phantom-test", {
    size: p.size,
    seed: o.seed,
    limit: p.testPatches,
    balanced: p.testPatches !== undefined,
  });
  o.log(`      ${test.description}`);
  let lastSecondsPerImage: Record<string, number> = {};
  const scoreRun = async (dir: string, data: string, set: typeof test, methods: ScoreMethod[]) => {
    const { seconds, secondsByMethod } = await scoreWithModels(models, set, dir, {
      methods,
      mapping,
      batch: defaultBatch(rt, cfg.model),
      images: true,
      encoderSteps: p.encoderSteps,
      quiet: o.quiet,
      data,
      provenance: prov,
    });
    o.log(
      `      ${set.count} images in ${seconds.toFixed(0)} s (${
        (seconds / set.count).toFixed(2)
      } s per image)`,
    );
    const perImage = Object.entries(secondsByMethod).map(([m, s]) => [m, s / set.count] as const);
    lastSecondsPerImage = Object.fromEntries(perImage);
    o.log(`      seconds per image: ${perImage.map(([m, s]) => `${m} ${s.toPrecision(3)}`).join(", ")}`);
    return `${dir}/scores.csv`;
  };
  const testCsv = await scoreRun(`${out}/scores`, "phantom-test", test, [
    "anogan",
    "ganr",
    "pd",
    "encoder",
    "encoder+iter",
  ]);
  const secondsPerImage = lastSecondsPerImage;
  const normals = await loadQuerySet("phantom", {
    size: p.size,
    seed: o.seed + 1,
    limit: p.trainPatchesScored,
    patchesPerImage: 4,
  });
  o.log(`      training normals for Fig. 4(c, d): ${normals.count} patches (${elapsed()})`);
  const trainCsv = await scoreRun(`${out}/train-scores`, "phantom", {
    ...normals,
    ids: normals.ids.map((id) => `normal-${id}`),
  }, ["anogan", "ganr", "encoder", "encoder+iter"]);

  // 4. Evaluate.
  o.log(`[4/4] evaluation (${elapsed()})`);
  const ev = await runEvaluation({ scores: [testCsv], trainScores: [trainCsv], out, seed: o.seed });
  const auc = (column: string) => ev.evaluation.table1.find((r) => r.score === column)?.auc ?? NaN;
  const trivial = ["trivial_darkness", "trivial_std", "trivial_distance"].map((name) => ({
    name,
    auc: auc(name),
  }));
  const bestTrivial = trivial.reduce((a, b) => (b.auc > a.auc ? b : a));
  return {
    reportPath: ev.htmlPath,
    markdown: ev.markdown,
    strataMarkdown: ev.strataMarkdown,
    anoganAuc: auc("A"),
    bestTrivial,
    seconds: (performance.now() - t0) / 1000,
    secondsPerImage,
    pixel: ev.evaluation.pixel,
  };
}

export { DEFAULT_TEST_SET };
