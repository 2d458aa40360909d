// Detection metrics: per-image anomaly scores (ROC, AUC, Youden, bootstrap) and per-pixel residuals.

import { XoshiroRng } from "../data/rng.ts";

// Image-level AUROC lives in auroc.ts, which the phantom's difficulty report shares; it belongs here too.
export { auroc } from "./auroc.ts";

// ---------------------------------------------------------------------------------------------------
// ROC curve, Youden's index, bootstrap interval (image level) and residual-vs-mask metrics (pixel level).
// The paper (§3, Table 1, Fig. 4) reports ROC curves, AUC, and sensitivity, specificity, precision and
// recall at the cut-off that maximises Youden's index J = sensitivity + specificity − 1.

/**
 * ROC curve with one point per distinct score, thresholds descending; point k counts the samples
 * scoring ≥ thresholds[k]. Point 0 is (0, 0) at threshold +∞. Equals scikit-learn's
 * `roc_curve(..., drop_intermediate=False)` (which writes max + 1 instead of +∞ in older versions).
 */
export interface RocCurve {
  thresholds: Float64Array;
  /** Positives (anomalous) scoring ≥ the threshold. */
  truePositives: Float64Array;
  /** Negatives (normal) scoring ≥ the threshold. */
  falsePositives: Float64Array;
  positives: number;
  negatives: number;
}

/** A point on the ROC curve with the confusion matrix and the figures of Table 1 there. */
export interface OperatingPoint {
  /** Samples scoring ≥ threshold are called anomalous. */
  threshold: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
  sensitivity: number;
  specificity: number;
  /** tp / (tp + fp); 0 where nothing is called anomalous (scikit-learn's zero_division=0). */
  precision: number;
  recall: number;
  accuracy: number;
  /** Youden's J = sensitivity + specificity − 1, computed as tpr − fpr. */
  youden: number;
}

export interface AucInterval {
  low: number;
  high: number;
  level: number;
  samples: number;
}

function isPositiveLabel(label: 0 | 1 | boolean, index: number, what: string): boolean {
  if (label === 1 || label === true) return true;
  if (label === 0 || label === false) return false;
  throw new Error(`${what}: label ${index} is ${label}; expected 0, 1, true or false`);
}

/** Splits scores by label into two arrays, checking lengths, NaN and labels on the way. */
function splitByLabel(
  scores: ArrayLike<number>,
  labels: ArrayLike<0 | 1 | boolean>,
  what: string,
): { positive: Float64Array; negative: Float64Array } {
  if (scores.length !== labels.length) {
    throw new Error(`${what}: ${scores.length} scores but ${labels.length} labels; expected equal lengths`);
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (isPositiveLabel(labels[i], i, what)) positives++;
  const positive = new Float64Array(positives);
  const negative = new Float64Array(labels.length - positives);
  let p = 0, n = 0;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`${what}: score ${i} is NaN; expected a number`);
    if (isPositiveLabel(labels[i], i, what)) positive[p++] = scores[i];
    else negative[n++] = scores[i];
  }
  return { positive, negative };
}

function requireBothClasses(positives: number, negatives: number, what: string): void {
  if (positives === 0 || negatives === 0) {
    throw new Error(`${what} needs both classes, got ${positives} positive and ${negatives} negative labels`);
  }
}

/**
 * The ROC curve from scores already split by class: both are sorted (native typed-array sort, fast
 * for millions of pixels) and walked together from the top, one point per distinct score, so tied
 * scores move the curve diagonally, exactly.
 */
export function rocFromClasses(positive: Float64Array, negative: Float64Array, what = "roc"): RocCurve {
  requireBothClasses(positive.length, negative.length, what);
  const pos = Float64Array.from(positive).sort();
  const neg = Float64Array.from(negative).sort();
  const capacity = pos.length + neg.length + 1;
  const thresholds = new Float64Array(capacity), tps = new Float64Array(capacity);
  const fps = new Float64Array(capacity);
  thresholds[0] = Infinity;
  let i = pos.length - 1, j = neg.length - 1, points = 1;
  while (i >= 0 || j >= 0) {
    const threshold = Math.max(i >= 0 ? pos[i] : -Infinity, j >= 0 ? neg[j] : -Infinity);
    while (i >= 0 && pos[i] === threshold) i--;
    while (j >= 0 && neg[j] === threshold) j--;
    thresholds[points] = threshold;
    tps[points] = pos.length - 1 - i;
    fps[points] = neg.length - 1 - j;
    points++;
  }
  return {
    thresholds: thresholds.slice(0, points),
    truePositives: tps.slice(0, points),
    falsePositives: fps.slice(0, points),
    positives: pos.length,
    negatives: neg.length,
  };
}

/** The ROC curve of scores (higher = more anomalous) against labels (1/true = anomalous). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<0 | 1 | boolean>): RocCurve {
  const { positive, negative } = splitByLabel(scores, labels, "rocCurve");
  return rocFromClasses(positive, negative, "rocCurve");
}

/** False-positive rates of the curve's points (fps / negatives, as scikit-learn divides). */
export function falsePositiveRates(roc: RocCurve): Float64Array {
  return roc.falsePositives.map((fp) => fp / roc.negatives);
}

/** True-positive rates of the curve's points. */
export function truePositiveRates(roc: RocCurve): Float64Array {
  return roc.truePositives.map((tp) => tp / roc.positives);
}

/**
 * Area under the curve by the trapezoid rule, summed in integer counts (twice the area, exact below
 * 2^53) and divided once: equal to `auroc`'s Mann–Whitney value to the last bit.
 */
export function rocAuc(roc: RocCurve): number {
  let twiceArea = 0;
  const tp = roc.truePositives, fp = roc.falsePositives;
  for (let k = 1; k < tp.length; k++) twiceArea += (fp[k] - fp[k - 1]) * (tp[k] + tp[k - 1]);
  return twiceArea / (2 * roc.positives * roc.negatives);
}

/** The confusion matrix and Table 1's figures at point k of the curve. */
export function operatingPoint(roc: RocCurve, k: number): OperatingPoint {
  const tp = roc.truePositives[k], fp = roc.falsePositives[k];
  const fn = roc.positives - tp, tn = roc.negatives - fp;
  const tpr = tp / roc.positives, fpr = fp / roc.negatives;
  return {
    threshold: roc.thresholds[k],
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
    sensitivity: tpr,
    specificity: tn / roc.negatives,
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tpr,
    accuracy: (tp + tn) / (roc.positives + roc.negatives),
    youden: tpr - fpr,
  };
}

/**
 * The cut-off at Youden's index: the point maximising tpr − fpr; among equal maxima the first, i.e.
 * the highest threshold (as `numpy.argmax` over scikit-learn's points picks).
 */
export function youdenPoint(roc: RocCurve): OperatingPoint {
  let best = 0, bestJ = -Infinity;
  for (let k = 0; k < roc.thresholds.length; k++) {
    const j = roc.truePositives[k] / roc.positives - roc.falsePositives[k] / roc.negatives;
    if (j > bestJ) [best, bestJ] = [k, j];
  }
  return operatingPoint(roc, best);
}

/**
 * Indices of the points that shape the curve: drops points lying on the straight segment between
 * their neighbours (exact, in integer counts), so a plot of the kept points is the same curve.
 */
export function curveCorners(roc: RocCurve): number[] {
  const tp = roc.truePositives, fp = roc.falsePositives, last = tp.length - 1;
  const kept = [0];
  for (let k = 1; k < last; k++) {
    const prev = kept[kept.length - 1];
    const cross = (fp[k] - fp[prev]) * (tp[k + 1] - tp[k]) - (tp[k] - tp[prev]) * (fp[k + 1] - fp[k]);
    if (cross !== 0) kept.push(k);
  }
  if (last > 0) kept.push(last);
  return kept;
}

/** Linear-interpolated quantile of sorted values (numpy's default method). */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position), upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/**
 * Percentile bootstrap interval for the AUC. Resampling is stratified (positives and negatives are
 * drawn with replacement separately, keeping their counts), so every replicate has both classes and
 * none is discarded. Each replicate's AUC is the Mann–Whitney statistic over resampled counts, walked
 * once over the samples sorted beforehand, so 1000 replicates of 10 000 scores take well under a second.
 * Equal scores and labels in any order give the same interval.
 */
export function bootstrapAurocInterval(
  scores: ArrayLike<number>,
  labels: ArrayLike<0 | 1 | boolean>,
  options: { samples?: number; level?: number; seed?: number } = {},
): AucInterval {
  const samples = options.samples ?? 1000, level = options.level ?? 0.95, seed = options.seed ?? 0;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`bootstrap samples must be a positive integer, got ${samples}`);
  }
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap level must lie in (0, 1), got ${level}`);
  const { positive, negative } = splitByLabel(scores, labels, "bootstrapAurocInterval");
  requireBothClasses(positive.length, negative.length, "bootstrapAurocInterval");
  // Replicates draw sample indices, so the samples go in a canonical (ascending) order first: the
  // interval then depends on the scores alone, not on the order of the rows or files they came from.
  positive.sort();
  negative.sort();
  const groups = tieGroups(positive, negative);
  const rng = new XoshiroRng(seed);
  const positiveCounts = new Float64Array(positive.length);
  const negativeCounts = new Float64Array(negative.length);
  const aucs = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    drawCounts(rng, positiveCounts);
    drawCounts(rng, negativeCounts);
    aucs[s] = weightedAuroc(groups, positiveCounts, negativeCounts);
  }
  aucs.sort();
  const tail = (1 - level) / 2;
  return { low: quantileOfSorted(aucs, tail), high: quantileOfSorted(aucs, 1 - tail), level, samples };
}

/** How often each index is drawn when drawing `counts.length` indices with replacement. */
function drawCounts(rng: XoshiroRng, counts: Float64Array): void {
  counts.fill(0);
  for (let k = 0; k < counts.length; k++) counts[rng.int(counts.length)]++;
}

/** Samples in ascending score order, as indices into the positive and negative arrays, per tie group. */
interface TieGroups {
  /** Group g holds positives positiveIndex[positiveStart[g] .. positiveStart[g+1]). */
  positiveIndex: Uint32Array;
  positiveStart: Uint32Array;
  negativeIndex: Uint32Array;
  negativeStart: Uint32Array;
}

function sortedIndices(values: Float64Array): Uint32Array {
  return Uint32Array.from(values.keys()).sort((a, b) => values[a] - values[b]);
}

function tieGroups(positive: Float64Array, negative: Float64Array): TieGroups {
  const pos = sortedIndices(positive), neg = sortedIndices(negative);
  const positiveStart: number[] = [], negativeStart: number[] = [];
  let i = 0, j = 0;
  while (i < pos.length || j < neg.length) {
    const value = Math.min(
      i < pos.length ? positive[pos[i]] : Infinity,
      j < neg.length ? negative[neg[j]] : Infinity,
    );
    positiveStart.push(i);
    negativeStart.push(j);
    while (i < pos.length && positive[pos[i]] === value) i++;
    while (j < neg.length && negative[neg[j]] === value) j++;
  }
  positiveStart.push(i);
  negativeStart.push(j);
  return {
    positiveIndex: pos,
    positiveStart: Uint32Array.from(positiveStart),
    negativeIndex: neg,
    negativeStart: Uint32Array.from(negativeStart),
  };
}

/** Mann–Whitney AUC with each sample weighted by how often a bootstrap replicate drew it. */
function weightedAuroc(
  groups: TieGroups,
  positiveCounts: Float64Array,
  negativeCounts: Float64Array,
): number {
  let negativesBelow = 0, totalPositive = 0, wins = 0;
  for (let g = 0; g + 1 < groups.positiveStart.length; g++) {
    let groupPositive = 0, groupNegative = 0;
    for (let k = groups.positiveStart[g]; k < groups.positiveStart[g + 1]; k++) {
      groupPositive += positiveCounts[groups.positiveIndex[k]];
    }
    for (let k = groups.negativeStart[g]; k < groups.negativeStart[g + 1]; k++) {
      groupNegative += negativeCounts[groups.negativeIndex[k]];
    }
    wins += groupPositive * (negativesBelow + groupNegative / 2);
    negativesBelow += groupNegative;
    totalPositive += groupPositive;
  }
  return wins / (totalPositive * negativesBelow);
}

/** One image's residual map |x − G(z_Γ)| and its label mask (0 background, > 0 anomaly labels). */
export interface ResidualAndMask {
  residual: ArrayLike<number>;
  mask: ArrayLike<number>;
}

export interface PixelMetrics {
  images: number;
  pixels: number;
  anomalousPixels: number;
  /** AUROC of the residual as a per-pixel anomaly score, all images' pixels pooled. */
  auroc: number;
  /** The best Dice over all thresholds, 2·tp / (2·tp + fp + fn), all images' pixels pooled. */
  dice: number;
  /** Residual value at which Dice is best (pixels ≥ it are called anomalous). */
  diceThreshold: number;
  /**
   * Localisation, over the images that hold anomalous pixels: the share of their residual mass
   * (Σ residual) on anomalous pixels, and the share of their area those pixels cover. A residual
   * that concentrates on the anomaly has massInside well above areaInside.
   */
  massInside: number;
  areaInside: number;
  roc: RocCurve;
}

/**
 * A speckle-robust localisation map: |g_σ ∗ (x − G(z))|, the signed residual blurred by a Gaussian of
 * standard deviation `sigma` pixels (separable, truncated at 3σ, renormalised at the borders) before
 * the absolute value. Zero-mean texture that no generator reproduces (OCT speckle, sensor noise)
 * cancels in the blur, while a region where x is consistently darker or brighter than G(z) keeps its
 * residual. `sigma` = 0 gives the paper's |x − G(z)|. Images are row-major, `width` pixels a row.
 */
export function smoothedResidual(
  query: ArrayLike<number>,
  generated: ArrayLike<number>,
  width: number,
  sigma: number,
): Float32Array {
  const n = query.length;
  if (generated.length !== n) {
    throw new Error(
      `smoothedResidual: query has ${n} pixels but G(z) has ${generated.length}; expected the same`,
    );
  }
  if (!Number.isInteger(width) || width <= 0 || n % width !== 0) {
    throw new Error(`smoothedResidual: ${n} pixels do not form rows of width ${width}`);
  }
  if (!(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new Error(`smoothedResidual: sigma must be a finite number ≥ 0, got ${sigma}`);
  }
  const signed = new Float64Array(n);
  for (let i = 0; i < n; i++) signed[i] = query[i] - generated[i];
  if (sigma === 0) return Float32Array.from(signed, Math.abs);
  const height = n / width;
  const radius = Math.ceil(3 * sigma);
  const taps = Float64Array.from(
    { length: 2 * radius + 1 },
    (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma ** 2)),
  );
  const blur = (src: Float64Array, along: "row" | "column"): Float64Array => {
    const out = new Float64Array(n);
    const [length, stride] = along === "row" ? [width, 1] : [height, width];
    for (let i = 0; i < n; i++) {
      const pos = along === "row" ? i % width : Math.floor(i / width);
      let sum = 0, weight = 0;
      for (let k = -radius; k <= radius; k++) {
        if (pos + k < 0 || pos + k >= length) continue;
        sum += taps[k + radius] * src[i + k * stride];
        weight += taps[k + radius];
      }
      out[i] = sum / weight;
    }
    return out;
  };
  return Float32Array.from(blur(blur(signed, "row"), "column"), Math.abs);
}

/** Share of residual mass and of area on anomalous pixels, over images that have any. */
export function residualMassInside(
  images: ResidualAndMask[],
  isAnomalous: (maskLabel: number) => boolean,
): { massInside: number; areaInside: number } {
  let massIn = 0, mass = 0, areaIn = 0, area = 0;
  for (const { residual, mask } of images) {
    if (!Array.prototype.some.call(mask, isAnomalous)) continue;
    for (let p = 0; p < mask.length; p++) {
      mass += residual[p];
      area++;
      if (isAnomalous(mask[p])) {
        massIn += residual[p];
        areaIn++;
      }
    }
  }
  return { massInside: mass > 0 ? massIn / mass : NaN, areaInside: area > 0 ? areaIn / area : NaN };
}

/**
 * Pixel-level localisation (Fig. 3): pools every pixel of every image, takes the residual as the
 * pixel's score and `isAnomalous(maskLabel)` (default: any non-zero label) as its truth.
 */
export function pixelMetrics(
  images: ResidualAndMask[],
  isAnomalous: (maskLabel: number) => boolean = (label) => label !== 0,
): PixelMetrics {
  let total = 0, anomalous = 0;
  images.forEach(({ residual, mask }, index) => {
    if (residual.length !== mask.length) {
      throw new Error(
        `pixelMetrics: image ${index} has ${residual.length} residual pixels but ` +
          `${mask.length} mask pixels; expected the same size`,
      );
    }
    total += mask.length;
    for (let p = 0; p < mask.length; p++) if (isAnomalous(mask[p])) anomalous++;
  });
  const positive = new Float64Array(anomalous), negative = new Float64Array(total - anomalous);
  let i = 0, j = 0;
  images.forEach(({ residual, mask }, index) => {
    for (let p = 0; p < mask.length; p++) {
      if (Number.isNaN(residual[p])) throw new Error(`pixelMetrics: image ${index} pixel ${p} is NaN`);
      if (isAnomalous(mask[p])) positive[i++] = residual[p];
      else negative[j++] = residual[p];
    }
  });
  const roc = rocFromClasses(positive, negative, "pixel-level AUROC");
  const best = bestDice(roc);
  return {
    images: images.length,
    pixels: total,
    anomalousPixels: anomalous,
    auroc: rocAuc(roc),
    dice: best.dice,
    diceThreshold: best.threshold,
    ...residualMassInside(images, isAnomalous),
    roc,
  };
}

/** Dice 2·tp / (2·tp + fp + fn) = 2·tp / (tp + fp + positives) at every point; the best (first on ties). */
export function bestDice(roc: RocCurve): { dice: number; threshold: number } {
  let dice = 0, threshold = roc.thresholds[0];
  for (let k = 1; k < roc.thresholds.length; k++) {
    const tp = roc.truePositives[k];
    const d = (2 * tp) / (tp + roc.falsePositives[k] + roc.positives);
    if (d > dice) [dice, threshold] = [d, roc.thresholds[k]];
  }
  return { dice, threshold };
}
