// The one-class protocol on Fashion-MNIST: for each class, train on that class's training images
// only, score all 10 000 test images (that class normal, the other nine anomalous), report AUROC.
// Per class also the aCAE baseline (trained on the same images) and the izi_f encoder mappers of the
// DCGAN (z = E(x); E(x) then k steps), with every method's scoring time per image.

import * as T from "../core/mod.ts";
import { FASHION_MNIST_CLASSES } from "./data/idx.ts";
import { loadTrainingSource } from "./data/source.ts";
import { auroc } from "./eval/metrics.ts";
import { OwnedFolder } from "./folders.ts";
import { scoreWithModels, trainModels } from "./pipeline.ts";
import { MAPPING_DEFAULTS } from "../anogan/mapping.ts";
import { provenance } from "./provenance.ts";
import { loadQuerySet } from "./query_sets.ts";
import { defaultBatch, type ScoreMethod } from "./scoring.ts";
import { TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";

export interface FmnistSettings {
  width: number;
  epochs: number;
  /** Test images scored per class (a seeded random subset, the same for every class); undefined = all. */
  testImages?: number;
  steps: number;
  lr: number;
  /** Use only the first this many training images of each class (checks of the pipeline). */
  trainImages?: number;
  /** Epochs of the aCAE baseline and of the izi_f encoder (default: `epochs`). */
  acaeEpochs?: number;
  encoderEpochs?: number;
  /** k, the mapping steps after z₁ = E(x) (default: a tenth of `steps`). */
  encoderSteps?: number;
  /** Which epoch's DCGAN each class keeps (TrainConfig.modelEpoch; default the last). */
  modelEpoch?: "last" | "held-out";
}

/** The full protocol, for a GPU machine. */
export const FMNIST_FULL: FmnistSettings = { width: 64, epochs: 20, steps: 500, lr: MAPPING_DEFAULTS.lr };

/**
 * `--quick`, for a CPU (the ten classes in about an hour on 2 cores): base width 16 instead of 64, up
 * to 8 epochs instead of 20, of which each class keeps the epoch whose G fits 64 of its held-out
 * training images best (after 2 epochs G beat the class's median image in 2 classes of 10, so 2 were
 * too few); the aCAE and the izi_f encoder 2 epochs; Γ = 50 updates of z (lr 0.1) instead of 500
 * (lr 0.05); 500 of the 10 000 test images per class.
 */
export const FMNIST_QUICK: FmnistSettings = {
  width: 16,
  epochs: 8,
  modelEpoch: "held-out",
  acaeEpochs: 2,
  encoderEpochs: 2,
  testImages: 500,
  steps: 50,
  lr: 0.1,
};

/**
 * Published mean AUROCs for the same protocol (one class normal, the other nine anomalous), each with
 * where it was read. Both come from the table of Bergman & Hoshen (GOAD, ICLR 2020, Table 2); GEOM's
 * also from AGAD's Table 1 (the same ten values). GOAD says its GEOM and OC-SVM figures were copied
 * from GEOM's paper, so its "Deep-SVDD" column may be another baseline of that paper under that name.
 */
export const PUBLISHED_MEANS = [
  {
    method: "GEOM (Golan & El-Yaniv, NeurIPS 2018)",
    meanAuc: 0.935,
    source: "GOAD (Bergman & Hoshen, ICLR 2020) Table 2, and AGAD Table 1",
  },
  {
    method: "Deep SVDD (Ruff et al., ICML 2018)",
    meanAuc: 0.928,
    source: 'GOAD (Bergman & Hoshen, ICLR 2020) Table 2, column "Deep-SVDD" (its origin not stated there)',
  },
];

export interface ClassResult {
  cls: number;
  name: string;
  /** AUROC per score column (A, R, D, PD). */
  auc: Record<string, number>;
  trainSeconds: number;
  scoreSeconds: number;
  /** Scoring seconds per image of each method (anogan, pd, encoder, encoder+iter, acae). */
  secondsPerImage: Record<string, number>;
  testImages: number;
  /** The epoch whose DCGAN was kept and scored (the last, or the held-out best). */
  modelEpoch?: number;
}

export interface FmnistOptions {
  classes: number[];
  settings: FmnistSettings;
  /** The output folder: claimed (locked), written staged and renamed into place when complete. */
  out: string;
  /** Replace an `out` that holds files. */
  force?: boolean;
  seed: number;
  fmnistDir?: string;
  quiet?: boolean;
  log: (line: string) => void;
}

const METHODS: ScoreMethod[] = ["anogan", "pd", "encoder", "encoder+iter"];
const COLUMNS = ["A", "R", "D", "PD", "A_acae", "A_encoder", "A_encoder_iter"];
/** The methods whose time per image the summary shows, in its column order. */
const TIMED = ["anogan", "encoder", "encoder+iter", "acae"];

/** Runs the protocol into `o.out` (see OwnedFolder: a killed experiment leaves `o.out` as it was). */
export async function runFmnistExperiment(o: FmnistOptions): Promise<ClassResult[]> {
  const folder = await OwnedFolder.claim(o.out, { task: "experiment", staged: true, force: o.force });
  try {
    const results = await experimentInto(folder.dir, o);
    await folder.commit();
    return results;
  } finally {
    await folder.release();
  }
}

async function experimentInto(out: string, o: FmnistOptions): Promise<ClassResult[]> {
  const rt = await T.init();
  const prov = await provenance(rt);
  const s = o.settings;
  const results: ClassResult[] = [];
  for (const cls of o.classes) {
    const dir = `${out}/class-${cls}`;
    const cfg: TrainConfig = {
      ...TRAIN_DEFAULTS,
      data: `fmnist:${cls}`,
      model: { size: 32, width: s.width, zDim: 100 },
      epochs: s.epochs,
      seed: o.seed,
      ...(s.modelEpoch ? { modelEpoch: s.modelEpoch } : {}),
    };
    const source = await loadTrainingSource(cfg.data, {
      size: 32,
      seed: o.seed,
      patchesPerImage: 1,
      limit: s.trainImages,
      fmnistDir: o.fmnistDir,
    });
    o.log(
      `class ${cls} (${FASHION_MNIST_CLASSES[cls]}): training on ${source.count} images, ${s.epochs} epochs`,
    );
    const t0 = performance.now();
    const models = await trainModels(dir, source, {
      cfg,
      encoderEpochs: s.encoderEpochs ?? s.epochs,
      acaeEpochs: s.acaeEpochs ?? s.epochs,
      extra: { fmnistDir: o.fmnistDir },
      provenance: prov,
      quiet: o.quiet,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    const modelEpoch = models.state.modelEpoch ?? s.epochs;
    const set = await loadQuerySet(`fmnist-test:${cls}`, {
      size: 32,
      seed: o.seed,
      limit: s.testImages,
      fmnistDir: o.fmnistDir,
    });
    o.log(`class ${cls}: scoring ${set.count} test images, Γ = ${s.steps}`);
    const scored = await scoreWithModels(models, set, `${dir}/scores`, {
      methods: METHODS,
      mapping: { ...MAPPING_DEFAULTS, steps: s.steps, lr: s.lr, seed: o.seed },
      batch: defaultBatch(rt, cfg.model),
      images: false,
      encoderSteps: s.encoderSteps ?? Math.max(1, Math.round(s.steps / 10)),
      quiet: o.quiet,
      data: `fmnist-test:${cls}`,
      provenance: prov,
    });
    const scoreSeconds = scored.seconds;
    const labels = scored.rows.map((r) => r.label as 0 | 1);
    const auc = Object.fromEntries(
      COLUMNS.map((c) => [c, auroc(scored.rows.map((r) => r.scores[c]), labels)]),
    );
    o.log(
      `class ${cls}: AUROC A ${auc.A.toFixed(3)}, R ${auc.R.toFixed(3)}, D ${auc.D.toFixed(3)}, PD ${
        auc.PD.toFixed(3)
      }`,
    );
    results.push({
      cls,
      name: FASHION_MNIST_CLASSES[cls],
      auc,
      trainSeconds,
      scoreSeconds,
      secondsPerImage: Object.fromEntries(
        Object.entries(scored.secondsByMethod).map(([m, sec]) => [m, sec / Math.max(scored.rows.length, 1)]),
      ),
      testImages: set.count,
      modelEpoch,
    });
    const { state, encoder, acae } = models;
    for (const m of [state.gan.G, state.gan.D, encoder, acae.gan.G, acae.gan.D, acae.encoder!]) m.dispose();
  }
  await T.writeFileAtomic(
    `${out}/summary.json`,
    new TextEncoder().encode(JSON.stringify({ settings: s, seed: o.seed, results, ...prov }, null, 2) + "\n"),
  );
  await T.writeFileAtomic(`${out}/summary.md`, new TextEncoder().encode(summaryMarkdown(results, s)));
  return results;
}

/** Per-class AUROC table with the mean, and the published means beside it. */
export function summaryMarkdown(results: ClassResult[], s: FmnistSettings): string {
  const f = (x: number) => x.toFixed(3);
  const lines = [
    `Settings: width ${s.width}, ${s.epochs} epochs, Γ = ${s.steps} (lr ${s.lr}), ` +
    `${s.testImages ?? "all 10 000"} test images per class; aCAE ${s.acaeEpochs ?? s.epochs} epochs, ` +
    `izi_f encoder ${s.encoderEpochs ?? s.epochs} epochs, encoder + k steps with k = ${
      s.encoderSteps ?? Math.max(1, Math.round(s.steps / 10))
    }${
      s.modelEpoch === "held-out"
        ? "; each class keeps the DCGAN of the epoch whose G fitted 64 held-out training images of the class best"
        : ""
    }. s/img: scoring seconds per test image of each method, its mapping included.`,
    "",
    `| class | ${COLUMNS.map((c) => `AUROC ${c}`).join(" | ")} | DCGAN epoch | train s | score s | ${
      TIMED.map((m) => `s/img ${m}`).join(" | ")
    } |`,
    `|---|${COLUMNS.map(() => "---").join("|")}|---|---|---|${TIMED.map(() => "---").join("|")}|`,
    ...results.map((r) =>
      `| ${r.cls} ${r.name} | ${COLUMNS.map((c) => f(r.auc[c])).join(" | ")} | ${
        r.modelEpoch ?? s.epochs
      } | ${r.trainSeconds.toFixed(0)} | ${r.scoreSeconds.toFixed(0)} | ${
        TIMED.map((m) => (r.secondsPerImage?.[m] ?? NaN).toPrecision(3)).join(" | ")
      } |`
    ),
  ];
  if (results.length > 0) {
    const mean = (c: string) => results.reduce((a, r) => a + r.auc[c], 0) / results.length;
    lines.push(
      `| mean of ${results.length} | ${COLUMNS.map((c) => f(mean(c))).join(" | ")} | | | | ${
        TIMED.map(() => "").join(" | ")
      } |`,
    );
  }
  lines.push("", "Published mean AUROC over the ten classes, same protocol:", "");
  for (const p of PUBLISHED_MEANS) lines.push(`- ${p.method}: ${f(p.meanAuc)} (read in ${p.source})`);
  return lines.join("\n") + "\n";
}

/**
 * Joins the outputs of experiments run class by class (e.g. one Slurm array task per class) into one
 * summary in `out`: summary.json and summary.md over the classes, in class order. Each folder given is
 * an experiment's output, or a folder of them; they must share their settings and seed, and no class
 * may appear twice.
 */
export async function summarizeExperiments(
  paths: string[],
  out: string,
  force = false,
): Promise<ClassResult[]> {
  const dirs: string[] = [];
  for (const p of paths) {
    if (await Deno.stat(`${p}/summary.json`).then(() => true, () => false)) {
      dirs.push(p);
      continue;
    }
    try {
      for await (const e of Deno.readDir(p)) {
        if (e.isDirectory && !e.name.startsWith(".")) dirs.push(`${p}/${e.name}`);
      }
    } catch (e) {
      throw new Error(
        `${p}: cannot read (${(e as Error).message}); expected an experiment's folder or a folder of them`,
      );
    }
  }
  if (dirs.length === 0) throw new Error(`${paths.join(", ")}: no experiment folders (summary.json) found`);
  const parts = await Promise.all(
    dirs.sort().map(async (d) => {
      try {
        return { dir: d, ...JSON.parse(await Deno.readTextFile(`${d}/summary.json`)) } as {
          dir: string;
          settings: FmnistSettings;
          seed: number;
          results: ClassResult[];
        };
      } catch (e) {
        throw new Error(`${d}: not a complete experiment (${(e as Error).message})`);
      }
    }),
  );
  const first = parts[0];
  const byClass = new Map<number, { dir: string; result: ClassResult }>();
  for (const p of parts) {
    if (JSON.stringify(p.settings) !== JSON.stringify(first.settings) || p.seed !== first.seed) {
      throw new Error(`${p.dir} and ${first.dir} ran with different settings or seeds; not one experiment`);
    }
    for (const r of p.results) {
      const seen = byClass.get(r.cls);
      if (seen) throw new Error(`class ${r.cls} appears twice: in ${seen.dir} and in ${p.dir}`);
      byClass.set(r.cls, { dir: p.dir, result: r });
    }
  }
  const results = [...byClass.values()].map((v) => v.result).sort((a, b) => a.cls - b.cls);
  const folder = await OwnedFolder.claim(out, { task: "experiment", staged: true, force });
  try {
    const json = { settings: first.settings, seed: first.seed, results, joinedFrom: parts.map((p) => p.dir) };
    await T.writeFileAtomic(
      `${folder.dir}/summary.json`,
      new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"),
    );
    await T.writeFileAtomic(
      `${folder.dir}/summary.md`,
      new TextEncoder().encode(summaryMarkdown(results, first.settings)),
    );
    await folder.commit();
  } finally {
    await folder.release();
  }
  return results;
}
