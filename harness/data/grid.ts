// Image grids: a batch of images in [-1, 1] tiled row by row into one 8-bit grayscale picture (training's
// per-epoch samples, the report's Fig. 3 strips).

import { type GrayPixels, intensityLevel } from "./png.ts";

/**
 * Tiles `count` images of h×w (row-major, values in [-1, 1], one after another in `images`) into a
 * grid `cols` wide with `pad` pixels of `padValue` (0–255) between tiles.
 */
export function tileImages(
  images: Float32Array,
  count: number,
  h: number,
  w: number,
  opts: { cols?: number; pad?: number; padValue?: number } = {},
): GrayPixels {
  const cols = Math.min(opts.cols ?? Math.ceil(Math.sqrt(count)), Math.max(count, 1));
  const rows = Math.ceil(count / cols);
  const pad = opts.pad ?? 2;
  const width = cols * w + (cols + 1) * pad, height = rows * h + (rows + 1) * pad;
  const pixels = new Uint8Array(width * height).fill(opts.padValue ?? 255);
  for (let k = 0; k < count; k++) {
    const x0 = pad + (k % cols) * (w + pad), y0 = pad + Math.floor(k / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        pixels[(y0 + y) * width + x0 + x] = intensityLevel(images[(k * h + y) * w + x]);
      }
    }
  }
  return { width, height, pixels };
}
