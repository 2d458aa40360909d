// Evaluation of score files: the paper's Table 1 (AUC and the figures at Youden's cut-off for every
// score), the ROC curves of Fig. 4(a, b), the score distributions of Fig. 4(c, d) and the pixel-level
// figures of residuals against masks (Fig. 3).

import { readGrayPng, readMaskPng } from "../data/png.ts";
import { PHANTOM_MASK_WORDS } from "../data/phantom.ts";
import { isPhantomSource } from "../query_sets.ts";
import {
  type AucInterval,
  bootstrapAurocInterval,
  curveCorners,
  type OperatingPoint,
  type PixelMetrics,
  pixelMetrics,
  type ResidualAndMask,
  rocAuc,
  type RocCurve,
  rocCurve,
  smoothedResidual,
  youdenPoint,
} from "./metrics.ts";
import { dirname } from "node:path";
import {
  MAPS_FILE,
  readScoreMaps,
  type ScoreMaps,
  type ScoreRow,
  ScoresCsvError,
  type ScoreTable,
} from "../score_file.ts";

/** One line of Table 1: the AUC, and the figures at Youden's cut-off (an OperatingPoint's). */
export interface Table1Row
  extends
    Pick<OperatingPoint, "sensitivity" | "specificity" | "precision" | "recall" | "accuracy" | "youden"> {
  /** The scores.csv column. */
  score: string;
  /** What the column is, in the paper's words. */
  method: string;
  normal: number;
  anomalous: number;
  auc: number;
  aucInterval: AucInterval;
  /** Youden's cut-off: scores ≥ it are called anomalous. */
  cutoff: number;
}

/** A ROC curve's corner points, for plots. */
export interface RocSeries {
  score: string;
  method: string;
  auc: number;
  fpr: number[];
  tpr: number[];
}

/** pixelMetrics' figures (diceThreshold in intensities normalised to [-1, 1], so in [0, 2]), and how they were got. */
export interface PixelSummary extends Omit<PixelMetrics, "roc"> {
  /** The per-pixel anomaly map: the residual |x − G(z_Γ)|, or its speckle-robust smoothed form. */
  map: string;
  /** What counts as an anomalous pixel. */
  truth: string;
  /** Where the residuals came from: the float maps scoring wrote, or (failing those) 8-bit PNGs. */
  from: string;
  /** Its ROC curve as plotted. */
  roc: { fpr: number[]; tpr: number[] };
  dicePerThreshold: { threshold: number[]; dice: number[] };
}

/** One stratum of the anomalous images, each score's detection of them against all the normals. */
export interface StratumRow {
  /** What the strata split: the share of an image's pixels in its mask (label 1), or the kind column. */
  by: "lesion share" | "kind";
  stratum: string;
  normal: number;
  anomalous: number;
  scores: {
    score: string;
    auc: number;
    aucInterval: AucInterval;
    /** At Table 1's Youden cut-off, which was chosen on the whole evaluated set (in-sample). */
    sensitivity: number;
  }[];
}

/** Lesion-share strata: upper bounds (fractions of the image's pixels) and their names. */
export const LESION_SHARE_STRATA: readonly { upTo: number; name: string }[] = [
  { upTo: 0.01, name: "≤ 1% of the pixels" },
  { upTo: 0.05, name: "1–5%" },
  { upTo: 0.15, name: "5–15%" },
  { upTo: 1, name: "> 15%" },
];

export interface Evaluation {
  files: string[];
  trainFiles: string[];
  seed: number;
  bootstrapSamples: number;
  counts: { rows: number; normal: number; anomalous: number; unlabelled: number; trainNormals: number };
  table1: Table1Row[];
  roc: RocSeries[];
  pixel: PixelSummary[];
  /** Detection by lesion share and by kind (empty without masks or kinds). */
  strata: StratumRow[];
  ignoredColumns: string[];
}

const KNOWN_METHODS: Record<string, string> = {
  A: "AnoGAN A(x)",
  A_ganr: "GANR Â(x)",
  A_acae: "aCAE A(x)",
  A_encoder: "encoder A(x)",
  A_encoder_iter: "encoder + k steps A(x)",
  PD: "PD (discriminator output)",
  R: "R(x) residual",
  D: "D(x) feature discrimination",
  D_ganr: "D̂(x) sigmoid cross-entropy",
  R_ganr: "R(x) after GANR mapping",
  R_acae: "R(x) of the aCAE",
  D_acae: "D(x) of the aCAE",
  R_encoder: "R(x) at z = E(x)",
  D_encoder: "D(x) at z = E(x)",
  R_encoder_iter: "R(x) after k steps from E(x)",
  D_encoder_iter: "D(x) after k steps from E(x)",
  trivial_darkness: "trivial: patch darkness (−mean intensity)",
  trivial_std: "trivial: patch standard deviation",
  trivial_distance: "trivial: distance to the mean healthy patch",
};

/** The paper's name for a score column (anomalyScore, eq. 6, and its terms, GANR's Â and D̂, PD), else the column itself. */
export function methodName(score: string): string {
  const known = KNOWN_METHODS[score];
  if (known) return known;
  const match = /^([ARD])_(.+)$/.exec(score);
  return match ? `${match[2]} ${match[1]}(x)` : score;
}

/** Component scores (R, D, D̂ and their variants) belong to Fig. 4(b); the rest to Fig. 4(a). */
export function isComponentScore(score: string): boolean {
  return /^[RD](_|$)/.test(score);
}

const SCORE_ORDER = [
  "A",
  "A_ganr",
  "A_acae",
  "A_encoder",
  "A_encoder_iter",
  "PD",
  "R",
  "D",
  "D_ganr",
  "R_ganr",
];

/** Table 1's row order: the paper's methods first, then A_* variants, other scores, components. */
export function orderScores(names: string[]): string[] {
  const rank = (name: string) => {
    const known = SCORE_ORDER.indexOf(name);
    if (known >= 0) return known + (isComponentScore(name) ? 100 : 0);
    return isComponentScore(name) ? 200 : 50;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Labelled rows that carry a score, as arrays for the metrics. */
function scoresWithLabels(rows: ScoreRow[], score: string): { scores: number[]; labels: (0 | 1)[] } {
  const scores: number[] = [], labels: (0 | 1)[] = [];
  for (const row of rows) {
    if (row.label === undefined || !(score in row.scores)) continue;
    scores.push(row.scores[score]);
    labels.push(row.label);
  }
  return { scores, labels };
}

function countLabels(rows: ScoreRow[]): { normal: number; anomalous: number; unlabelled: number } {
  let normal = 0, anomalous = 0;
  for (const row of rows) {
    if (row.label === 0) normal++;
    if (row.label === 1) anomalous++;
  }
  return { normal, anomalous, unlabelled: rows.length - normal - anomalous };
}

/** AUC is undefined unless both classes are present: say so, with the counts and the files. */
function requireBothClasses(normal: number, anomalous: number, files: string[], what: string): void {
  if (normal > 0 && anomalous > 0) return;
  throw new ScoresCsvError(
    `${files.join(", ")}: labels hold one class only${what} (${normal} normal, ${anomalous} anomalous); ` +
      `AUC and Youden's cut-off are undefined — evaluate a test set with both normal (label 0) and ` +
      `anomalous (label 1) images`,
  );
}

/** Table 1's line and the ROC corners for one score column. */
function evaluateScore(
  rows: ScoreRow[],
  files: string[],
  score: string,
  options: { seed: number; bootstrapSamples: number },
): { line: Table1Row; series: RocSeries } {
  const { scores, labels } = scoresWithLabels(rows, score);
  const anomalous = labels.reduce((n: number, l) => n + l, 0);
  requireBothClasses(labels.length - anomalous, anomalous, files, ` among the rows scored by "${score}"`);
  const roc = rocCurve(scores, labels);
  const auc = rocAuc(roc);
  const cut = youdenPoint(roc);
  const aucInterval = bootstrapAurocInterval(scores, labels, {
    seed: options.seed,
    samples: options.bootstrapSamples,
  });
  const method = methodName(score);
  const line: Table1Row = {
    score,
    method,
    normal: labels.length - anomalous,
    anomalous,
    auc,
    aucInterval,
    cutoff: cut.threshold,
    sensitivity: cut.sensitivity,
    specificity: cut.specificity,
    precision: cut.precision,
    recall: cut.recall,
    accuracy: cut.accuracy,
    youden: cut.youden,
  };
  return { line, series: { score, method, auc, ...cornerRates(roc) } };
}

/** The curve's corners as rates, at most `limit` of them (evenly thinned beyond that, for plots). */
function cornerRates(roc: RocCurve, limit = 2000): { fpr: number[]; tpr: number[] } {
  let kept = curveCorners(roc);
  if (kept.length > limit) {
    const step = (kept.length - 1) / (limit - 1);
    kept = Array.from({ length: limit }, (_, k) => kept[Math.round(k * step)]);
  }
  return {
    fpr: kept.map((k) => roc.falsePositives[k] / roc.negatives),
    tpr: kept.map((k) => roc.truePositives[k] / roc.positives),
  };
}

/** Training-set scores feed only the histograms; they must be normals (label 0 or empty). */
function checkTrainingNormals(train: ScoreTable): void {
  const anomalous = train.rows.find((row) => row.label === 1);
  if (anomalous) {
    throw new ScoresCsvError(
      `${anomalous.file}:${anomalous.line}: row "${anomalous.id}" is labelled ` +
        `anomalous, but --train-scores takes the scores of training normals (label 0 or empty)`,
    );
  }
}

/** Table 1 and the ROC curves for every score column of the test table. */
export function evaluateScores(
  test: ScoreTable,
  options: { seed?: number; bootstrapSamples?: number; train?: ScoreTable } = {},
): Evaluation {
  const seed = options.seed ?? 0, bootstrapSamples = options.bootstrapSamples ?? 1000;
  const counts = countLabels(test.rows);
  requireBothClasses(counts.normal, counts.anomalous, test.files, "");
  if (options.train) checkTrainingNormals(options.train);
  const table1: Table1Row[] = [], roc: RocSeries[] = [];
  for (const score of orderScores(test.scoreNames)) {
    const { line, series } = evaluateScore(test.rows, test.files, score, { seed, bootstrapSamples });
    table1.push(line);
    roc.push(series);
  }
  return {
    files: test.files,
    trainFiles: options.train?.files ?? [],
    seed,
    bootstrapSamples,
    counts: { rows: test.rows.length, ...counts, trainNormals: options.train?.rows.length ?? 0 },
    table1,
    roc,
    pixel: [],
    strata: [],
    ignoredColumns: test.ignoredColumns,
  };
}

/** Share of each anomalous row's mask pixels labelled 1 (the image label's lesion), by id; rows with masks only. */
export async function lesionShares(rows: ScoreRow[]): Promise<Map<string, number>> {
  const shares = new Map<string, number>();
  for (const row of rows) {
    if (row.label !== 1 || !row.mask) continue;
    const { mask } = await readMaskPng(row.mask);
    shares.set(row.id, mask.reduce((n, label) => n + (label === 1 ? 1 : 0), 0) / mask.length);
  }
  return shares;
}

/**
 * Table 1's detection scores (not their components) on each stratum of the anomalous images against
 * every normal one: by lesion share where masks give it, and by the kind column where rows have one.
 * Sensitivity is taken at Table 1's cut-off for the whole set. A stratum with no image is left out.
 */
export function stratify(
  rows: ScoreRow[],
  table1: Table1Row[],
  shares: Map<string, number>,
  options: { seed?: number; bootstrapSamples?: number } = {},
): StratumRow[] {
  const normals = rows.filter((r) => r.label === 0);
  const groups: { by: StratumRow["by"]; stratum: string; rows: ScoreRow[] }[] = [];
  const anomalous = rows.filter((r) => r.label === 1);
  if (shares.size > 0) {
    let lower = 0;
    for (const { upTo, name } of LESION_SHARE_STRATA) {
      const inside = anomalous.filter((r) =>
        shares.has(r.id) && shares.get(r.id)! > lower && shares.get(r.id)! <= upTo
      );
      groups.push({ by: "lesion share", stratum: name, rows: inside });
      lower = upTo;
    }
  }
  const kinds = [...new Set(anomalous.map((r) => r.kind).filter((k): k is string => k !== undefined))].sort();
  for (const kind of kinds) {
    groups.push({
      by: "kind",
      stratum: kind,
      rows: anomalous.filter((r) => r.kind === kind),
    });
  }
  const detection = table1.filter((line) => !isComponentScore(line.score));
  return groups.filter((g) => g.rows.length > 0 && normals.length > 0).map((g) => ({
    by: g.by,
    stratum: g.stratum,
    normal: normals.length,
    anomalous: g.rows.length,
    scores: detection.filter((line) => g.rows.every((r) => line.score in r.scores)).map((line) => {
      const { scores, labels } = scoresWithLabels([...normals, ...g.rows], line.score);
      const caught = g.rows.filter((r) => r.scores[line.score] >= line.cutoff).length;
      return {
        score: line.score,
        auc: rocAuc(rocCurve(scores, labels)),
        aucInterval: bootstrapAurocInterval(scores, labels, {
          seed: options.seed ?? 0,
          samples: options.bootstrapSamples ?? 1000,
        }),
        sensitivity: caught / g.rows.length,
      };
    }),
  }));
}

/** The stratified table as markdown: a line per stratum, AUC and sensitivity of each score. */
export function strataMarkdown(strata: StratumRow[]): string {
  if (strata.length === 0) return "";
  const scores = strata[0].scores.map((s) => s.score);
  const header = ["stratum", "anomalous", ...scores.map((s) => `${s} AUC (sens.)`)];
  const lines = strata.map((st) => [
    `${st.by === "kind" ? "kind: " : "lesion "}${st.stratum}`,
    String(st.anomalous),
    ...scores.map((name) => {
      const s = st.scores.find((x) => x.score === name);
      return s ? `${formatNumber(s.auc)} (${formatNumber(s.sensitivity, 2)})` : "—";
    }),
  ]);
  const widths = header.map((h, c) => Math.max(displayWidth(h), ...lines.map((l) => displayWidth(l[c]))));
  const pad = (cell: string, width: number) => cell + " ".repeat(width - displayWidth(cell));
  const row = (cells: string[]) => `| ${cells.map((cell, c) => pad(cell, widths[c])).join(" | ")} |`;
  return [row(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(row)].join("\n");
}

/** A row's residual, mask and (when written) its query and G(z_Γ), all in [-1, 1] but the residual. */
export interface LocalisationImage extends ResidualAndMask {
  width: number;
  query?: Float32Array;
  generated?: Float32Array;
}

/**
 * σ in pixels of the smoothed residual that eval reports beside the paper's residual: a little above
 * the 1–2 pixel speckle grain of OCT B-scans at the paper's sampling, well below a lesion's size.
 * Chosen on the phantom validation patches (600, width-16 32×32 DCGAN, 8 epochs, Γ = 100): fluid pixel
 * AUROC 0.606, 0.612, 0.614, 0.605 for σ = 1, 2, 3, 4 (raw residual 0.594) — flat between 2 and 3, so
 * σ = 2 stays (BENCHMARKS.md, "Detection").
 */
export const DEFAULT_RESIDUAL_SMOOTHING = 2;

/**
 * Residual maps and masks of the rows that have both. The residual comes from the float maps that
 * scoring writes beside scores.csv (MAPS_FILE) where they are; only a score file without them falls
 * back to its 8-bit residual PNGs (residual in [0, 2] to 1/127.5), and `fromPngs` says so.
 */
export async function readResidualsAndMasks(
  rows: ScoreRow[],
): Promise<LocalisationImage[] & { fromPngs?: number }> {
  const images: LocalisationImage[] & { fromPngs?: number } = [];
  const mapsOf = new Map<string, ScoreMaps | null>();
  for (const row of rows) {
    if (!row.mask || !row.residual) continue;
    const { mask, width, height } = await readMaskPng(row.mask);
    const folder = dirname(row.file ?? ".");
    if (!mapsOf.has(folder)) mapsOf.set(folder, await readScoreMaps(folder));
    const maps = mapsOf.get(folder)?.get(row.id);
    if (maps) {
      if (maps.query.length !== mask.length) {
        throw new ScoresCsvError(
          `${row.file}:${row.line}: ${folder}/${MAPS_FILE} holds ${maps.query.length} pixels for "${row.id}" ` +
            `but mask ${row.mask} is ${width}×${height}; expected the same size`,
        );
      }
      const residual = maps.query.map((q, p) => Math.abs(q - maps.generated[p]));
      images.push({ residual, mask, width, query: maps.query, generated: maps.generated });
      continue;
    }
    images.fromPngs = (images.fromPngs ?? 0) + 1;
    const sameSize = async (path: string, what: string) => {
      const image = await readGrayPng(path);
      if (image.width !== width || image.height !== height) {
        throw new ScoresCsvError(
          `${row.file}:${row.line}: ${what} ${path} is ${image.width}×${image.height} but mask ${row.mask} is ` +
            `${width}×${height}; expected the same size`,
        );
      }
      return image.data;
    };
    // Residual PNGs map |x − G(z_Γ)| ∈ [0, 2] to the full range, which readGrayPng maps to [-1, 1].
    const image: LocalisationImage = {
      residual: (await sameSize(row.residual, "residual")).map((v) => v + 1),
      mask,
      width,
    };
    if (row.query && row.generated) {
      image.query = await sameSize(row.query, "query");
      image.generated = await sameSize(row.generated, "generated image");
    }
    images.push(image);
  }
  return images;
}

/** Which mask labels count as anomalous pixels, and that truth in words. */
export interface PixelTruth {
  truth: string;
  isAnomalous: (label: number) => boolean;
}

/** How a query set's masks are reported: its pixel-level truths, and the legend of Fig. 3's mask tile. */
export interface MaskWords {
  truths: readonly PixelTruth[];
  legend: string;
}

/** Masks that are just anomaly masks (a user's: any nonzero label, 255 read as 1, marks an anomaly). */
export const ANOMALY_MASK_WORDS: MaskWords = {
  truths: [{ truth: "anomaly mask (mask > 0)", isAnomalous: (label) => label !== 0 }],
  legend: "white anomaly, gray any other nonzero label",
};

/**
 * The words for the masks of these rows, named from their query set: the phantoms' (fluid,
 * hyperreflective focus) when every row with a mask is a phantom image, else plain anomaly masks.
 */
export function maskWords(rows: readonly ScoreRow[]): MaskWords {
  const masked = rows.filter((row) => row.mask);
  const phantom = masked.length > 0 ? masked.every((row) => isPhantomSource(row.source)) : false;
  return phantom ? PHANTOM_MASK_WORDS : ANOMALY_MASK_WORDS;
}

/**
 * Pixel-level AUROC, best Dice and residual mass inside the masks, for each truth (maskWords: for the
 * phantoms any anomaly and fluid alone, as their patch labels count fluid), of the paper's residual
 * |x − G(z_Γ)| and, when every image has its query and G(z_Γ) and `smoothing` > 0, of the smoothed
 * residual |g_σ ∗ (x − G(z_Γ))| (see smoothedResidual). Empty when no row has both PNGs or no pixel is
 * anomalous.
 */
export function summarisePixels(
  images: LocalisationImage[] & { fromPngs?: number },
  truths: readonly PixelTruth[],
  smoothing = DEFAULT_RESIDUAL_SMOOTHING,
): PixelSummary[] {
  const summaries: PixelSummary[] = [];
  if (images.length === 0) return summaries;
  const from = images.fromPngs
    ? `8-bit residual PNGs for ${images.fromPngs} of ${images.length} images (no ${MAPS_FILE} beside their scores.csv)`
    : "float32 maps";
  const maps: { map: string; images: ResidualAndMask[] }[] = [{ map: "residual |x − G(z)|", images }];
  if (smoothing > 0 && images.every((image) => image.query && image.generated)) {
    maps.push({
      map: `smoothed residual |g_σ ∗ (x − G(z))|, σ = ${smoothing}`,
      images: images.map(({ query, generated, mask, width }) => ({
        residual: smoothedResidual(query!, generated!, width, smoothing),
        mask,
      })),
    });
  }
  for (const { map, images } of maps) {
    for (const { truth, isAnomalous } of truths) {
      const anyAnomalous = images.some(({ mask }) => Array.prototype.some.call(mask, isAnomalous));
      if (!anyAnomalous) continue;
      const result = pixelMetrics(images, isAnomalous);
      summaries.push({
        map,
        truth,
        from,
        images: result.images,
        pixels: result.pixels,
        anomalousPixels: result.anomalousPixels,
        auroc: result.auroc,
        dice: result.dice,
        diceThreshold: result.diceThreshold,
        massInside: result.massInside,
        areaInside: result.areaInside,
        roc: cornerRates(result.roc),
        dicePerThreshold: dicePerThreshold(result.roc),
      });
    }
  }
  return summaries;
}

/** Dice at (at most `limit`, evenly chosen) thresholds of the curve, for the Dice-vs-threshold plot. */
function dicePerThreshold(roc: RocCurve, limit = 400): { threshold: number[]; dice: number[] } {
  const points = roc.thresholds.length - 1;
  const count = Math.min(points, limit);
  const threshold: number[] = [], dice: number[] = [];
  for (let n = 0; n < count; n++) {
    const k = 1 + Math.round((n * (points - 1)) / Math.max(count - 1, 1));
    const tp = roc.truePositives[k];
    threshold.push(roc.thresholds[k]);
    dice.push((2 * tp) / (tp + roc.falsePositives[k] + roc.positives));
  }
  return { threshold, dice };
}

function formatNumber(value: number, digits = 3): string {
  if (value === Infinity) return "+∞";
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Characters as a terminal shows them: D̂ (D and a combining circumflex) is one. */
function displayWidth(text: string): number {
  return [...graphemes.segment(text)].length;
}

/** Table 1 as markdown: AUC with its bootstrap interval, and the figures at Youden's cut-off. */
export function table1Markdown(rows: Table1Row[]): string {
  const level = rows[0] ? Math.round(rows[0].aucInterval.level * 100) : 95;
  const header = [
    "score",
    "method",
    `AUC (${level}% CI)`,
    "sensitivity",
    "specificity",
    "precision",
    "recall",
    "cut-off",
    "normal / anomalous",
  ];
  const lines = rows.map((r) => [
    r.score,
    r.method,
    `${formatNumber(r.auc)} (${formatNumber(r.aucInterval.low)}–${formatNumber(r.aucInterval.high)})`,
    formatNumber(r.sensitivity),
    formatNumber(r.specificity),
    formatNumber(r.precision),
    formatNumber(r.recall),
    formatNumber(r.cutoff, 4),
    `${r.normal} / ${r.anomalous}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => displayWidth(l[c]))));
  const pad = (cell: string, width: number) => cell + " ".repeat(width - displayWidth(cell));
  const row = (cells: string[]) => `| ${cells.map((cell, c) => pad(cell, widths[c])).join(" | ")} |`;
  return [row(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(row)].join("\n");
}

/** JSON for eval.json; +∞ (a cut-off that calls nothing anomalous) is written as the string "inf". */
export function evaluationJson(evaluation: Evaluation): string {
  return JSON.stringify(evaluation, (_key, value) => {
    if (value === Infinity) return "inf";
    if (value === -Infinity) return "-inf";
    return value;
  }, 2) + "\n";
}
