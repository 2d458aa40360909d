// The budget curve: how detection on the phantoms depends on what training and mapping are given.
// A point is one budget — patch size, width, healthy training volumes, epochs, and Γ — measured on the
// phantom validation patches only (the test set is never read): it trains the DCGAN (or resumes its
// run to more epochs, bit for bit as if trained straight), maps and scores the validation patches with
// AnoGAN and PD, evaluates them (Table 1, the stratified table, pixel level) and appends one line with
// the figures and the wall time of each part to OUT/points.jsonl.
//
// `exportData` also writes the training patches and the validation patches as safetensors, so that an
// independent implementation (scripts/budget_reference_torch.py) can run the same recipe on the same
// images for an implementation-parity point.

import { FolderLock, OwnedFolder } from "./folders.ts";
import { join } from "node:path";
import * as T from "../core/mod.ts";
import { loadTrainingSource } from "./data/source.ts";
import { MAPPING_DEFAULTS } from "../anogan/mapping.ts";
import { provenance } from "./provenance.ts";
import { loadQuerySet, type QuerySet } from "./query_sets.ts";
import { runEvaluation } from "./report/report.ts";
import { defaultBatch, type ScoreMethod, scoreQueries, writeScoreOutputs } from "./scoring.ts";
import { heldOutImages, TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";
import { splitHeldOut, train } from "./training.ts";

export interface BudgetPoint {
  /** Patch side: 32 or 64. */
  size: number;
  width: number;
  epochs: number;
  /** Healthy phantom volumes the training patches come from, and random patches per B-scan. */
  volumes: number;
  patchesPerBscan: number;
  /** Γ and the learning rate of the mapping. */
  steps: number;
  lr: number;
  /** Validation patches scored: a seeded balanced subset of the validation set. */
  valPatches: number;
  seed: number;
  /** D's batch-norm statistics at test time (see calibrateDiscriminatorNorms). */
  discriminatorNorms: "normal-images" | "training-steps";
}

export const BUDGET_DEFAULTS: BudgetPoint = {
  size: 32,
  width: 16,
  epochs: 8,
  volumes: 2,
  patchesPerBscan: 32,
  steps: 100,
  lr: 0.1,
  valPatches: 600,
  seed: 0,
  discriminatorNorms: "normal-images",
};

export interface BudgetResult {
  point: BudgetPoint;
  trainPatches: number;
  /** Seconds: training (all epochs, over extensions of the run) and scoring. */
  trainSeconds: number;
  scoreSeconds: number;
  /** Image-level AUROC of A, R, D and PD, with A's bootstrap interval. */
  auc: Record<string, number>;
  aucInterval: { low: number; high: number };
  /** AUROC of A per lesion-share stratum and per kind of fluid, by stratum name. */
  strata: Record<string, number>;
  /** Pixel AUROC of the residual and of the smoothed residual, fluid only. */
  pixelAuc: Record<string, number>;
  /** The training run's last held-out check (per-pixel residuals). */
  heldOut?: { heldOutResidual: number; constantResidual: number };
  loadAverage: number[];
  adapter: string;
}

/** The run's training config for a point. */
export function budgetTrainConfig(p: BudgetPoint): TrainConfig {
  return {
    ...TRAIN_DEFAULTS,
    data: "phantom",
    model: { size: p.size, width: p.width, zDim: 100 },
    epochs: p.epochs,
    seed: p.seed,
    discriminatorNorms: p.discriminatorNorms,
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Epochs a run directory's checkpoint has completed, 0 without one. */
async function completedEpochs(runDir: string): Promise<number> {
  if (!(await exists(join(runDir, "checkpoint.safetensors")))) return 0;
  const file = await T.readSafetensors(join(runDir, "checkpoint.safetensors"));
  return Number(file.metadata.epoch ?? 0);
}

/** The 1, 5 and 15-minute load averages (empty without the permission to read them). */
function loadAverage(): number[] {
  try {
    return Deno.loadavg();
  } catch {
    return [];
  }
}

/**
 * Trains (or extends) and scores one point; appends its figures to OUT/points.jsonl. OUT is locked
 * meanwhile (FolderLock). Ctrl-C during training returns null: the run is checkpointed, and the same
 * command continues it.
 */
export async function runBudgetPoint(
  p: BudgetPoint,
  out: string,
  o: { quiet?: boolean; log: (line: string) => void; exportData?: boolean },
): Promise<BudgetResult | null> {
  const lock = await FolderLock.acquire(out, "budget");
  try {
    return await measurePoint(p, out, o);
  } finally {
    await lock.release();
  }
}

async function measurePoint(
  p: BudgetPoint,
  out: string,
  o: { quiet?: boolean; log: (line: string) => void; exportData?: boolean },
): Promise<BudgetResult | null> {
  const rt = await T.init();
  const prov = await provenance(rt);
  const cfg = budgetTrainConfig(p);
  const runDir = join(out, "run");
  const scoreDir = join(out, `val-epochs${p.epochs}-steps${p.steps}-lr${p.lr}`);
  if (await exists(join(scoreDir, "scores.csv"))) {
    throw new Error(`${scoreDir} holds this point's scores already; remove that folder to measure it again`);
  }
  const extra = { patchesPerImage: p.patchesPerBscan, phantomVolumes: p.volumes };
  const source = await loadTrainingSource("phantom", { size: p.size, seed: p.seed, ...extra });
  const done = await completedEpochs(runDir);
  if (done > 0) {
    const saved = JSON.parse(await Deno.readTextFile(join(runDir, "config.json")));
    const same = JSON.stringify(saved.model) === JSON.stringify(cfg.model) &&
      saved.extra?.phantomVolumes === p.volumes && saved.extra?.patchesPerImage === p.patchesPerBscan &&
      saved.seed === p.seed && (saved.discriminatorNorms ?? "training-steps") === p.discriminatorNorms;
    if (!same) {
      throw new Error(`${runDir} holds a run of another budget; use another --out for this point`);
    }
    if (done > p.epochs) {
      throw new Error(`${runDir} has trained ${done} epochs already, more than --epochs ${p.epochs}`);
    }
  }
  const secondsFile = join(runDir, "train-seconds.json");
  let trainSeconds = done > 0 && (await exists(secondsFile))
    ? JSON.parse(await Deno.readTextFile(secondsFile)).seconds as number
    : 0;
  o.log(`point: ${JSON.stringify(p)}; ${source.count} training patches; ${done} epochs done`);
  const t0 = performance.now();
  const state = await train({
    dir: runDir,
    source,
    cfg,
    resume: done > 0,
    quiet: o.quiet,
    provenance: { ...prov, extra },
  });
  trainSeconds += (performance.now() - t0) / 1000;
  await T.writeFileAtomic(secondsFile, new TextEncoder().encode(JSON.stringify({ seconds: trainSeconds })));
  if (state.interrupted) {
    o.log(`interrupted at step ${state.step}; the same command continues the point`);
    return null;
  }

  const val = await loadQuerySet("phantom-val", {
    size: p.size,
    seed: p.seed,
    limit: p.valPatches,
    balanced: true,
  });
  if (o.exportData) await exportBudgetData(out, source.images, source.count, p.size, cfg, val);
  const methods: ScoreMethod[] = ["anogan", "pd"];
  const options = {
    methods,
    mapping: { ...MAPPING_DEFAULTS, steps: p.steps, lr: p.lr, seed: p.seed },
    batch: defaultBatch(rt, cfg.model),
    shard: [0, 1] as [number, number],
    images: true,
    quiet: o.quiet,
  };
  o.log(`scoring ${val.description}: Γ = ${p.steps}`);
  const t1 = performance.now();
  // The scores are written staged: a point killed while scoring leaves no partial folder to mistake.
  const scoring = await OwnedFolder.claim(scoreDir, { task: "score", staged: true });
  let scored, scoreSeconds;
  try {
    scored = await scoreQueries(state.gan, val, scoring.dir, options);
    scoreSeconds = (performance.now() - t1) / 1000;
    await writeScoreOutputs(scoring.dir, scored, {
      run: runDir,
      data: "phantom-val",
      set: val,
      options,
      seconds: scoreSeconds,
      model: cfg.model,
      provenance: prov,
    });
    await scoring.commit();
  } finally {
    await scoring.release();
  }
  const ev = await runEvaluation({ scores: [join(scoreDir, "scores.csv")], seed: p.seed });
  const table = ev.evaluation.table1;
  const auc = Object.fromEntries(table.map((r) => [r.score, r.auc]));
  const a = table.find((r) => r.score === "A")!;
  const strata = Object.fromEntries(
    ev.evaluation.strata.map((s) => [s.stratum, s.scores.find((x) => x.score === "A")?.auc ?? NaN]),
  );
  const pixelAuc = Object.fromEntries(
    ev.evaluation.pixel.filter((x) => x.truth.startsWith("fluid only")).map((
      x,
    ) => [x.map.split(" ")[0], x.auroc]),
  );
  const lastFit = (await Deno.readTextFile(join(runDir, "metrics.jsonl"))).trim().split("\n")
    .filter((l) => l.includes('"heldOutResidual"')).map((l) => JSON.parse(l)).at(-1);
  const result: BudgetResult = {
    point: p,
    trainPatches: source.count - heldOutImages(cfg, source.count),
    trainSeconds,
    scoreSeconds,
    auc,
    aucInterval: { low: a.aucInterval.low, high: a.aucInterval.high },
    strata,
    pixelAuc,
    heldOut: lastFit &&
      { heldOutResidual: lastFit.heldOutResidual, constantResidual: lastFit.constantResidual },
    loadAverage: loadAverage(),
    adapter: rt.gpu.description,
  };
  await Deno.writeTextFile(join(out, "points.jsonl"), JSON.stringify(result) + "\n", { append: true });
  state.gan.G.dispose();
  state.gan.D.dispose();
  return result;
}

/**
 * The point's data for an independent implementation: train.safetensors (the patches training used,
 * held-out ones excluded, [N, S, S]) and val.safetensors (the validation patches scored, with their
 * labels; ids in the metadata), and recipe.json (the training config).
 */
async function exportBudgetData(
  out: string,
  images: Float32Array,
  count: number,
  size: number,
  cfg: TrainConfig,
  val: QuerySet,
): Promise<void> {
  const { fit } = splitHeldOut(
    { description: "", count, size, images },
    heldOutImages(cfg, count),
  );
  await T.writeSafetensors(
    join(out, "train.safetensors"),
    new Map([["images", { shape: [fit.count, size, size], data: Float32Array.from(fit.images) }]]),
    {},
  );
  await T.writeSafetensors(
    join(out, "val.safetensors"),
    new Map([
      ["images", { shape: [val.count, size, size], data: Float32Array.from(val.images) }],
      ["labels", { shape: [val.count], data: Float32Array.from(val.labels, (l) => l ?? -1) }],
    ]),
    { ids: JSON.stringify(val.ids) },
  );
  await T.writeFileAtomic(join(out, "recipe.json"), new TextEncoder().encode(JSON.stringify(cfg, null, 2)));
}

/** The points of a points.jsonl as a markdown table. */
export function budgetMarkdown(results: BudgetResult[]): string {
  const f = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "—" : x.toFixed(3));
  const strata = [...new Set(results.flatMap((r) => Object.keys(r.strata)))];
  const lines = [
    `| size | width | volumes (patches) | epochs | Γ (lr) | D norms | A AUC (95% CI) | R | D | PD | ${
      strata.map((s) => `A: ${s}`).join(" | ")
    } | pixel AUC raw / smoothed | held-out / constant residual | train s | score s | load |`,
    `|${"---|".repeat(14 + strata.length)}`,
    ...results.map((r) => {
      const p = r.point;
      return `| ${p.size} | ${p.width} | ${p.volumes} (${r.trainPatches}) | ${p.epochs} | ${p.steps} (${p.lr}) | ${p.discriminatorNorms} | ${
        f(r.auc.A)
      } (${f(r.aucInterval.low)}–${f(r.aucInterval.high)}) | ${f(r.auc.R)} | ${f(r.auc.D)} | ${
        f(r.auc.PD)
      } | ${strata.map((s) => f(r.strata[s])).join(" | ")} | ${f(r.pixelAuc.residual)} / ${
        f(r.pixelAuc.smoothed)
      } | ${r.heldOut ? `${f(r.heldOut.heldOutResidual)} / ${f(r.heldOut.constantResidual)}` : "—"} | ${
        r.trainSeconds.toFixed(0)
      } | ${r.scoreSeconds.toFixed(0)} | ${r.loadAverage[0]?.toFixed(1) ?? "—"} |`;
    }),
  ];
  return lines.join("\n") + "\n";
}
