// The Fig. 3 grid: for a few normal and a few anomalous images, one column each with the query image,
// the image G(z_Γ) generated from its mapped latent point, the residual |x − G(z_Γ)| and the mask.

import { tileImages } from "../data/grid.ts";
import { type GrayPixels, readGrayPng, readMaskPng } from "../data/png.ts";
import { XoshiroRng } from "../data/rng.ts";
import type { ScoreRow } from "../score_file.ts";

export const FIGURE3_ROWS = ["query", "generated", "residual", "mask"] as const;

/** Tiles that are not available (no PNG, or another size) show as mid-gray. */
const MISSING = 0;

export interface Figure3Column {
  /** Which block the column belongs to, e.g. "test normal". */
  block: string;
  row: ScoreRow;
  /** An h×w grayscale strip, the four tiles stacked (query, generated, residual, mask). */
  strip: GrayPixels;
}

export interface Figure3Block {
  title: string;
  rows: ScoreRow[];
}

function isPng(path: string | undefined): path is string {
  return path !== undefined && path.toLowerCase().endsWith(".png");
}

function hasImages(row: ScoreRow): boolean {
  return isPng(row.generated) || isPng(row.residual) || isPng(queryPath(row));
}

/** The query image: the `query` column, else `source` when it names a PNG. */
function queryPath(row: ScoreRow): string | undefined {
  return row.query ?? (isPng(row.source) ? row.source : undefined);
}

/** Up to `count` rows with images, drawn without replacement by a seeded generator, in CSV order. */
export function pickExamples(rows: ScoreRow[], count: number, seed: number): ScoreRow[] {
  const candidates = rows.filter(hasImages);
  const rng = new XoshiroRng(seed);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
  }
  const picked = new Set(candidates.slice(0, count));
  return rows.filter((row) => picked.has(row));
}

/**
 * Mask labels as gray levels in [-1, 1]: background black, label 1 white (a phantom's fluid, a user's
 * anomaly), any other label gray (a phantom's hyperreflective focus); eval's maskWords gives the legend.
 */
function maskToImage(mask: Uint8Array): Float32Array {
  return Float32Array.from(mask, (label) => (label === 0 ? -1 : label === 1 ? 1 : 0.2));
}

async function readTile(path: string | undefined, kind: "gray" | "mask") {
  if (!isPng(path)) return undefined;
  try {
    if (kind === "mask") {
      const { mask, width, height } = await readMaskPng(path);
      return { data: maskToImage(mask), width, height };
    }
    return await readGrayPng(path);
  } catch (error) {
    // A missing or unreadable picture must not stop the report; the tile shows as missing.
    console.warn(`figure 3: skipping ${path}: ${(error as Error).message}`);
    return undefined;
  }
}

/** The four tiles of one row; the tile size is the first available image's. */
async function columnStrip(row: ScoreRow, size?: { width: number; height: number }) {
  const tiles = [
    await readTile(queryPath(row), "gray"),
    await readTile(row.generated, "gray"),
    await readTile(row.residual, "gray"),
    await readTile(row.mask, "mask"),
  ];
  const first = tiles.find((t) => t !== undefined);
  const { width, height } = size ?? first ?? { width: 1, height: 1 };
  const stacked = new Float32Array(4 * width * height).fill(MISSING);
  tiles.forEach((tile, k) => {
    if (tile && tile.width === width && tile.height === height) stacked.set(tile.data, k * width * height);
  });
  return { strip: tileImages(stacked, 4, height, width, { cols: 1, pad: 1 }), width, height };
}

/** One strip per picked row, blocks in order; every tile the size of the first picked image. */
export async function figure3Columns(blocks: Figure3Block[]): Promise<Figure3Column[]> {
  const columns: Figure3Column[] = [];
  let size: { width: number; height: number } | undefined;
  for (const block of blocks) {
    for (const row of block.rows) {
      const made = await columnStrip(row, size);
      size ??= made;
      columns.push({ block: block.title, row, strip: made.strip });
    }
  }
  return columns;
}

/** All strips side by side as one grayscale image (for figure3.png). */
export function joinStrips(
  columns: Figure3Column[],
  gap = 4,
): GrayPixels {
  const height = Math.max(...columns.map((c) => c.strip.height));
  const width = columns.reduce((w, c) => w + c.strip.width, 0) + gap * (columns.length - 1);
  const pixels = new Uint8Array(width * height).fill(255);
  let x0 = 0;
  for (const { strip } of columns) {
    for (let y = 0; y < strip.height; y++) {
      pixels.set(strip.pixels.subarray(y * strip.width, (y + 1) * strip.width), y * width + x0);
    }
    x0 += strip.width + gap;
  }
  return { width, height, pixels };
}
