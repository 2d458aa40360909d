import assert from "node:assert/strict";
import {
  extractPatch,
  type GrayImage,
  gridPatches,
  gridPatchPositions,
  heatMapFromPatches,
  labelPatch,
  labelPatches,
  MASK_FLUID,
  MASK_HRF,
  samplePatches,
  samplePatchPositions,
} from "../harness/data/patches.ts";
import { deriveSeed, XoshiroRng } from "../harness/data/rng.ts";

/** An image whose pixel value encodes its position, so copies can be checked exactly. */
function rampImage(width: number, height: number): GrayImage {
  const data = Float32Array.from({ length: width * height }, (_, i) => i / (width * height));
  return { data, width, height };
}

Deno.test("random patch positions are uniform over all valid corners (χ² test)", () => {
  const width = 80, height = 70, size = 64;
  const cellsX = width - size + 1, cellsY = height - size + 1;
  const perCell = 100;
  const positions = samplePatchPositions(width, height, { size, count: cellsX * cellsY * perCell, seed: 5 });
  const counts = new Float64Array(cellsX * cellsY);
  for (const { x, y } of positions) {
    assert.ok(x >= 0 && x < cellsX && y >= 0 && y < cellsY, `position (${x}, ${y}) out of range`);
    counts[y * cellsX + x]++;
  }
  const chiSquared = counts.reduce((s, c) => s + (c - perCell) ** 2 / perCell, 0);
  // 118 degrees of freedom: the 0.999 quantile is about 172.
  assert.ok(chiSquared < 172, `χ² = ${chiSquared.toFixed(1)} with 118 degrees of freedom`);
  assert.ok(counts.every((c) => c > 0), "every corner, the far edges included, is drawn");
});

Deno.test("patch positions depend only on the seed", () => {
  const a = samplePatchPositions(256, 128, { count: 50, seed: 1 });
  const b = samplePatchPositions(256, 128, { count: 50, seed: 1 });
  const c = samplePatchPositions(256, 128, { count: 50, seed: 2 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("sampled patches copy the image's pixels at their positions", () => {
  const image = rampImage(100, 90);
  for (const patch of samplePatches(image, { size: 32, count: 5, seed: 3 })) {
    assert.equal(patch.data.length, 32 * 32);
    for (const [row, col] of [[0, 0], [31, 31], [10, 20]]) {
      assert.equal(patch.data[row * 32 + col], image.data[(patch.y + row) * 100 + patch.x + col]);
    }
  }
});

Deno.test("a patch larger than the image is rejected with both sizes in the message", () => {
  assert.throws(
    () => samplePatches(rampImage(50, 40), { size: 64, count: 1, seed: 1 }),
    /64×64 patch does not fit in an image of 50×40/,
  );
  assert.throws(() => gridPatches(rampImage(50, 80), { size: 64 }), /does not fit/);
  assert.throws(() => extractPatch(rampImage(50, 80), 0, 20, 64), /outside the 50×80 image/);
});

const gridCases = [
  { width: 256, height: 128, size: 64, stride: 64, xs: [0, 64, 128, 192], ys: [0, 64] },
  { width: 100, height: 64, size: 64, stride: 32, xs: [0, 32, 36], ys: [0] },
  { width: 70, height: 70, size: 64, stride: 64, xs: [0, 6], ys: [0, 6] },
];
for (const c of gridCases) {
  Deno.test(`grid of ${c.size}-patches, stride ${c.stride}, over ${c.width}×${c.height} ends flush with the edge`, () => {
    const positions = gridPatchPositions(c.width, c.height, { size: c.size, stride: c.stride });
    assert.deepEqual([...new Set(positions.map((p) => p.x))], c.xs);
    assert.deepEqual([...new Set(positions.map((p) => p.y))], c.ys);
    assert.equal(positions.length, c.xs.length * c.ys.length);
  });
}

Deno.test("a grid heat map covers every pixel with the mean score of the patches over it", () => {
  const positions = gridPatchPositions(96, 64, { size: 64, stride: 32 });
  assert.deepEqual(positions, [{ x: 0, y: 0 }, { x: 32, y: 0 }]);
  const map = heatMapFromPatches(96, 64, 64, positions, [1, 3]);
  assert.equal(map[0], 1); // only the first patch
  assert.equal(map[40], 2); // both
  assert.equal(map[95], 3); // only the second
  assert.ok(map.every((v) => !Number.isNaN(v)));
});

Deno.test("patch labels follow the paper's rule: one fluid pixel makes a patch anomalous, foci do not", () => {
  const width = 128, height = 64;
  const mask = new Uint8Array(width * height);
  mask[10 * width + 63] = MASK_FLUID; // the last column of the patch at x = 0
  mask[20 * width + 70] = MASK_HRF;
  const cases = [
    { x: 0, anomalous: true, fluid: 1, hrf: 0 },
    { x: 1, anomalous: true, fluid: 1, hrf: 0 },
    { x: 7, anomalous: true, fluid: 1, hrf: 1 },
    { x: 64, anomalous: false, fluid: 0, hrf: 1 },
  ];
  const labels = labelPatches(mask, width, cases.map(({ x }) => ({ x, y: 0 })), 64);
  cases.forEach((c, i) => {
    assert.deepEqual(
      labels[i],
      { anomalous: c.anomalous, fluidPixels: c.fluid, hrfPixels: c.hrf },
      `x = ${c.x}`,
    );
  });
  assert.throws(() => labelPatch(mask, width, 65, 0, 64), /outside the 128×64 mask/);
});

Deno.test("the seeded generator is reproducible, in range and unbiased enough", () => {
  const a = new XoshiroRng(42), b = new XoshiroRng(42), c = new XoshiroRng(43);
  const drawsA = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(drawsA, Array.from({ length: 8 }, () => b.nextUint32()));
  assert.notDeepEqual(drawsA, Array.from({ length: 8 }, () => c.nextUint32()));
  const rng = new XoshiroRng(7);
  let sum = 0, sumSquares = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    const z = rng.normal();
    sum += z;
    sumSquares += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `normal mean ${sum / n}`);
  assert.ok(Math.abs(sumSquares / n - 1) < 0.04, `normal variance ${sumSquares / n}`);
  assert.notEqual(deriveSeed(1, 0, 1), deriveSeed(1, 1, 0));
  assert.notEqual(deriveSeed(1), deriveSeed(1 + 2 ** 32));
  assert.throws(() => new XoshiroRng(-1), /non-negative integer/);
});
