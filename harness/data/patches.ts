// Square patches cut from grayscale images: random patches at seeded positions (training and the
// paper's patch test sets), a sliding grid (whole-image heat maps), and patch labels from a mask.

import { XoshiroRng } from "./rng.ts";

/** A grayscale image, row-major, `data[y * width + x]`, intensities in [-1, 1]. */
export interface GrayImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** Mask labels, shared by the phantoms and any user-supplied masks. */
export const MASK_BACKGROUND = 0;
export const MASK_FLUID = 1;
export const MASK_HRF = 2;

/** The paper's patch size. */
export const DEFAULT_PATCH_SIZE = 64;

/** Top-left corner of a patch. */
export interface PatchPosition {
  x: number;
  y: number;
}

export interface Patch extends PatchPosition {
  size: number;
  /** size × size pixels, row-major. */
  data: Float32Array;
}

/** What a mask says about one patch. */
export interface PatchLabel {
  /** The paper's rule: anomalous if the patch holds at least one fluid pixel. */
  anomalous: boolean;
  fluidPixels: number;
  /** Hyperreflective foci are recorded but do not make a patch anomalous. */
  hrfPixels: number;
}

function checkPatchFits(width: number, height: number, size: number, what: string): void {
  if (!Number.isInteger(size) || size < 1) {
    throw new Error(`patch size must be a positive integer, got ${size}`);
  }
  if (size > width || size > height) {
    throw new Error(
      `a ${size}×${size} patch does not fit in ${what} of ${width}×${height}; ` +
        `use a smaller patch size or larger images`,
    );
  }
}

/**
 * `count` patch positions drawn uniformly over every position where a size×size patch fits
 * (x in [0, width − size], y in [0, height − size]), from a seeded stream.
 */
export function samplePatchPositions(
  width: number,
  height: number,
  options: { size?: number; count: number; seed: number },
): PatchPosition[] {
  const size = options.size ?? DEFAULT_PATCH_SIZE;
  checkPatchFits(width, height, size, "an image");
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new Error(`patch count must be a non-negative integer, got ${options.count}`);
  }
  const rng = new XoshiroRng(options.seed);
  const positions: PatchPosition[] = [];
  for (let i = 0; i < options.count; i++) {
    const x = rng.int(width - size + 1);
    const y = rng.int(height - size + 1);
    positions.push({ x, y });
  }
  return positions;
}

/** Copies the size×size patch whose top-left corner is (x, y). */
export function extractPatch(image: GrayImage, x: number, y: number, size: number): Float32Array {
  if (x < 0 || y < 0 || x + size > image.width || y + size > image.height) {
    throw new Error(
      `patch at (${x}, ${y}) of size ${size} lies outside the ${image.width}×${image.height} image`,
    );
  }
  const out = new Float32Array(size * size);
  for (let row = 0; row < size; row++) {
    const start = (y + row) * image.width + x;
    out.set(image.data.subarray(start, start + size), row * size);
  }
  return out;
}

/** `count` random size×size patches of one image at seeded, uniformly distributed positions. */
export function samplePatches(
  image: GrayImage,
  options: { size?: number; count: number; seed: number },
): Patch[] {
  const size = options.size ?? DEFAULT_PATCH_SIZE;
  return samplePatchPositions(image.width, image.height, { ...options, size })
    .map(({ x, y }) => ({ x, y, size, data: extractPatch(image, x, y, size) }));
}

/** Start offsets along one axis: every `stride`, plus one flush with the far edge so nothing is missed. */
function gridStarts(length: number, size: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s + size <= length; s += stride) starts.push(s);
  if (starts[starts.length - 1] !== length - size) starts.push(length - size);
  return starts;
}

/** Positions of a sliding grid of size×size patches that covers the whole image. */
export function gridPatchPositions(
  width: number,
  height: number,
  options: { size?: number; stride?: number },
): PatchPosition[] {
  const size = options.size ?? DEFAULT_PATCH_SIZE;
  const stride = options.stride ?? size;
  checkPatchFits(width, height, size, "an image");
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`grid stride must be a positive integer, got ${stride}`);
  }
  const positions: PatchPosition[] = [];
  for (const y of gridStarts(height, size, stride)) {
    for (const x of gridStarts(width, size, stride)) positions.push({ x, y });
  }
  return positions;
}

/** The sliding-grid patches of one image (stride defaults to the patch size: no overlap). */
export function gridPatches(image: GrayImage, options: { size?: number; stride?: number }): Patch[] {
  const size = options.size ?? DEFAULT_PATCH_SIZE;
  return gridPatchPositions(image.width, image.height, { ...options, size })
    .map(({ x, y }) => ({ x, y, size, data: extractPatch(image, x, y, size) }));
}

/**
 * A per-pixel heat map from per-patch scores: each pixel gets the mean score of the grid patches
 * that cover it (pixels no patch covers would be NaN; a grid from gridPatchPositions covers all).
 */
export function heatMapFromPatches(
  width: number,
  height: number,
  size: number,
  positions: readonly PatchPosition[],
  scores: ArrayLike<number>,
): Float32Array {
  if (positions.length !== scores.length) {
    throw new Error(`heat map: ${positions.length} positions but ${scores.length} scores`);
  }
  const sum = new Float64Array(width * height);
  const hits = new Uint32Array(width * height);
  positions.forEach(({ x, y }, i) => {
    for (let row = y; row < y + size; row++) {
      for (let col = x; col < x + size; col++) {
        sum[row * width + col] += scores[i];
        hits[row * width + col]++;
      }
    }
  });
  return Float32Array.from(sum, (s, i) => (hits[i] > 0 ? s / hits[i] : NaN));
}

/** Labels the size×size patch at (x, y) of a mask (width × height, labels MASK_*). */
export function labelPatch(
  mask: Uint8Array,
  width: number,
  x: number,
  y: number,
  size: number,
): PatchLabel {
  const height = mask.length / width;
  if (x < 0 || y < 0 || x + size > width || y + size > height) {
    throw new Error(`patch at (${x}, ${y}) of size ${size} lies outside the ${width}×${height} mask`);
  }
  let fluidPixels = 0;
  let hrfPixels = 0;
  for (let row = y; row < y + size; row++) {
    for (let col = x; col < x + size; col++) {
      const label = mask[row * width + col];
      if (label === MASK_FLUID) fluidPixels++;
      else if (label === MASK_HRF) hrfPixels++;
    }
  }
  return { anomalous: fluidPixels >= 1, fluidPixels, hrfPixels };
}

/** Labels many patches of one mask. */
export function labelPatches(
  mask: Uint8Array,
  width: number,
  positions: readonly PatchPosition[],
  size: number,
): PatchLabel[] {
  return positions.map(({ x, y }) => labelPatch(mask, width, x, y, size));
}
