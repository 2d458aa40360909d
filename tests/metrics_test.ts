// Metrics against scikit-learn (fixtures/metrics.json, made by scripts/make_metric_fixtures.py) and the
// properties of the bootstrap interval.

import assert from "node:assert/strict";
import { relErr, TestRng } from "./helpers.ts";
import {
  auroc,
  bootstrapAurocInterval,
  curveCorners,
  falsePositiveRates,
  pixelMetrics,
  residualMassInside,
  rocAuc,
  rocCurve,
  smoothedResidual,
  truePositiveRates,
  youdenPoint,
} from "../harness/eval/metrics.ts";

interface ImageCase {
  name: string;
  scores: number[];
  labels: (0 | 1)[];
  fpr: number[];
  tpr: number[];
  thresholds_after_first: number[];
  auc: number;
  youden: {
    index: number;
    threshold: number | null;
    j: number;
    sensitivity: number;
    specificity: number;
    precision: number;
    recall: number;
    accuracy: number;
  };
}

interface PixelCase {
  images: { residual: number[]; mask: number[] }[];
  auc: number;
  dice: number;
  dice_threshold: number;
  anomalous_pixels: number;
}

const fixture: { image: ImageCase[]; pixel: PixelCase } = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/metrics.json", import.meta.url)),
);

function assertNear(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected}`);
}

for (const c of fixture.image) {
  Deno.test(`ROC points, thresholds and AUC equal scikit-learn's: ${c.name}`, () => {
    const roc = rocCurve(c.scores, c.labels);
    assert.deepEqual(Array.from(falsePositiveRates(roc)), c.fpr);
    assert.deepEqual(Array.from(truePositiveRates(roc)), c.tpr);
    assert.equal(roc.thresholds[0], Infinity);
    assert.deepEqual(Array.from(roc.thresholds.subarray(1)), c.thresholds_after_first);
    assertNear(rocAuc(roc), c.auc, "rocAuc");
    assert.equal(rocAuc(roc), auroc(c.scores, c.labels), "trapezoid and Mann–Whitney agree exactly");
  });

  Deno.test(`Youden cut-off and its figures equal scikit-learn's: ${c.name}`, () => {
    const point = youdenPoint(rocCurve(c.scores, c.labels));
    const want = c.youden;
    assert.equal(point.threshold, want.threshold ?? Infinity);
    assert.equal(point.youden, want.j);
    for (const key of ["sensitivity", "specificity", "precision", "recall", "accuracy"] as const) {
      assertNear(point[key], want[key], key);
    }
  });
}

Deno.test("pixel-level AUROC and best Dice equal scikit-learn's on 8-bit residuals with blobs", () => {
  const p = fixture.pixel;
  const result = pixelMetrics(p.images);
  assert.equal(result.anomalousPixels, p.anomalous_pixels);
  assert.equal(result.pixels, p.images.reduce((n, im) => n + im.mask.length, 0));
  assertNear(result.auroc, p.auc, "pixel AUROC");
  assertNear(result.dice, p.dice, "Dice");
  assert.equal(result.diceThreshold, p.dice_threshold);
});

Deno.test("pixel metrics may count fluid only, and refuse residual and mask of different sizes", () => {
  const images = [{ residual: [0.9, 0.8, 0.1, 0.7], mask: [1, 2, 0, 0] }];
  assert.equal(pixelMetrics(images).anomalousPixels, 2);
  const fluidOnly = pixelMetrics(images, (label) => label === 1);
  assert.equal(fluidOnly.anomalousPixels, 1);
  assert.equal(fluidOnly.auroc, 1);
  assert.throws(
    () => pixelMetrics([{ residual: [1, 2, 3], mask: [0, 1] }]),
    /image 0 has 3 residual pixels but 2 mask pixels/,
  );
  assert.throws(() => pixelMetrics([{ residual: [1, 2], mask: [0, 0] }]), /needs both classes/);
});

Deno.test("curve corners drop only points on straight segments, keeping the curve and its area", () => {
  for (const c of fixture.image) {
    const roc = rocCurve(c.scores, c.labels);
    const kept = curveCorners(roc);
    const thinned = {
      ...roc,
      truePositives: Float64Array.from(kept, (k) => roc.truePositives[k]),
      falsePositives: Float64Array.from(kept, (k) => roc.falsePositives[k]),
      thresholds: Float64Array.from(kept, (k) => roc.thresholds[k]),
    };
    assert.equal(rocAuc(thinned), rocAuc(roc), c.name);
    assert.equal(kept[0], 0);
    assert.equal(kept[kept.length - 1], roc.thresholds.length - 1);
  }
  const diagonal = rocCurve([1, 2, 3, 4], [0, 1, 0, 1]);
  assert.deepEqual(curveCorners(diagonal), [0, 1, 2, 3, 4]);
  assert.deepEqual(curveCorners(rocCurve([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1])), [0, 3, 6]);
});

Deno.test("metrics refuse one class, NaN scores, bad labels and mismatched lengths", () => {
  assert.throws(() => rocCurve([1, 2, 3], [0, 0, 0]), /needs both classes, got 0 positive and 3 negative/);
  assert.throws(() => rocCurve([1, NaN], [0, 1]), /score 1 is NaN/);
  assert.throws(() => rocCurve([1, 2], [0, 2 as 1]), /label 1 is 2; expected 0, 1, true or false/);
  assert.throws(() => rocCurve([1, 2, 3], [0, 1]), /3 scores but 2 labels/);
  assert.throws(() => bootstrapAurocInterval([1, 2], [1, 1]), /needs both classes/);
  assert.throws(() => bootstrapAurocInterval([1, 2], [0, 1], { samples: 0 }), /positive integer, got 0/);
});

function syntheticScores(n: number, seed: number): { scores: number[]; labels: (0 | 1)[] } {
  // A small deterministic generator so the test does not depend on the bootstrap's own stream.
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const labels = Array.from({ length: n }, () => (next() < 0.3 ? 1 : 0) as 0 | 1);
  const scores = labels.map((label) => Math.round((next() + 0.4 * label) * 20) / 20);
  return { scores, labels };
}

Deno.test("the bootstrap AUC interval is seeded, brackets the AUC and narrows with more samples", () => {
  const small = syntheticScores(80, 7), large = syntheticScores(2000, 7);
  const a = bootstrapAurocInterval(small.scores, small.labels, { seed: 3 });
  const b = bootstrapAurocInterval(small.scores, small.labels, { seed: 3 });
  const c = bootstrapAurocInterval(small.scores, small.labels, { seed: 4 });
  assert.deepEqual(a, b, "same seed, same interval");
  assert.notDeepEqual(a, c, "another seed, another interval");
  assert.equal(a.level, 0.95);
  assert.equal(a.samples, 1000);
  const auc = auroc(small.scores, small.labels);
  assert.ok(a.low < auc && auc < a.high, `${a.low} < ${auc} < ${a.high}`);
  const wide = bootstrapAurocInterval(large.scores, large.labels, { seed: 3 });
  assert.ok(wide.high - wide.low < (a.high - a.low) / 2, "≈ 1/√n narrowing");
});

Deno.test("with one sample per class every bootstrap replicate is the data itself", () => {
  const interval = bootstrapAurocInterval([0.2, 0.9], [0, 1], { samples: 5 });
  assert.deepEqual([interval.low, interval.high], [1, 1]);
  const tied = bootstrapAurocInterval([0.5, 0.5], [0, 1], { samples: 5 });
  assert.deepEqual([tied.low, tied.high], [0.5, 0.5]);
});

Deno.test("residual mass inside the mask, over the images with anomalous pixels only", () => {
  const images = [
    { residual: Float32Array.of(3, 1, 0, 0), mask: Uint8Array.of(1, 0, 0, 0) },
    { residual: Float32Array.of(5, 5, 5, 5), mask: Uint8Array.of(0, 0, 0, 0) }, // no anomaly: left out
  ];
  const r = residualMassInside(images, (l) => l === 1);
  assert.equal(r.massInside, 0.75);
  assert.equal(r.areaInside, 0.25);
  assert.ok(Number.isNaN(residualMassInside([images[1]], (l) => l === 1).massInside));
});

/** |g_σ ∗ (x − g)| as a direct 2-D sum in float64: every tap inside the image, weights renormalised. */
function smoothedResidualOracle(x: number[], g: number[], width: number, sigma: number): number[] {
  const height = x.length / width, radius = Math.ceil(3 * sigma);
  const out: number[] = [];
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      let sum = 0, weight = 0;
      for (let dr = -radius; dr <= radius; dr++) {
        for (let dc = -radius; dc <= radius; dc++) {
          const rr = r + dr, cc = c + dc;
          if (rr < 0 || rr >= height || cc < 0 || cc >= width) continue;
          const w = Math.exp(-(dr * dr + dc * dc) / (2 * sigma * sigma));
          sum += w * (x[rr * width + cc] - g[rr * width + cc]);
          weight += w;
        }
      }
      out.push(Math.abs(sum / weight));
    }
  }
  return out;
}

Deno.test("smoothed residual matches a direct 2-D Gaussian sum on random shapes and σ", () => {
  const rng = new TestRng(7);
  for (let trial = 0; trial < 12; trial++) {
    const width = rng.int(1, 20), height = rng.int(1, 20), sigma = [0.5, 1, 1.7, 3][trial % 4];
    const x = [...rng.uniform(width * height, -1, 1)], g = [...rng.uniform(width * height, -1, 1)];
    const got = smoothedResidual(x, g, width, sigma);
    const want = smoothedResidualOracle(x, g, width, sigma);
    assert.ok(relErr(got, want) < 1e-6, `${height}×${width} σ ${sigma}: rel ${relErr(got, want)}`);
  }
  const x = [0.5, -1, 0.25], g = [0, 0, 1];
  assert.deepEqual([...smoothedResidual(x, g, 3, 0)], [0.5, 1, 0.75], "σ = 0 is |x − G(z)|");
});

Deno.test("smoothing keeps a consistent darkening and cancels zero-mean speckle", () => {
  // 32×32: G(z) is flat; x is G(z) plus ±0.4 checkerboard speckle everywhere, and 0.3 darker in a
  // 8×8 block (the anomaly). The raw residual spreads evenly; the smoothed one sits on the block.
  const width = 32, n = width * width;
  const g = new Float32Array(n), x = new Float32Array(n), mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / width), c = i % width;
    const inside = r >= 12 && r < 20 && c >= 12 && c < 20;
    x[i] = ((r + c) % 2 === 0 ? 0.4 : -0.4) - (inside ? 0.3 : 0);
    mask[i] = inside ? 1 : 0;
  }
  const isFluid = (label: number) => label === 1;
  const raw = residualMassInside([{ residual: smoothedResidual(x, g, width, 0), mask }], isFluid);
  const smooth = residualMassInside([{ residual: smoothedResidual(x, g, width, 1.5), mask }], isFluid);
  assert.equal(raw.areaInside, 64 / n);
  assert.ok(raw.massInside < 2 * raw.areaInside, `raw ${raw.massInside}`);
  assert.ok(smooth.massInside > 5 * smooth.areaInside, `smoothed ${smooth.massInside}`);
});

Deno.test("smoothed residual rejects mismatched sizes, ragged rows and bad σ by name", () => {
  assert.throws(() => smoothedResidual([1, 2], [1], 2, 1), /query has 2 pixels but G\(z\) has 1/);
  assert.throws(() => smoothedResidual([1, 2, 3], [1, 2, 3], 2, 1), /3 pixels do not form rows of width 2/);
  assert.throws(() => smoothedResidual([1], [1], 1, -1), /sigma must be a finite number ≥ 0, got -1/);
  assert.throws(() => smoothedResidual([1], [1], 1, NaN), /got NaN/);
});
