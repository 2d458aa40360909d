// Grayscale PNG images in and out: folders of the user's own images, phantom B-scans and masks, and the
// pictures that training and the report draw. Every grayscale PNG the project writes goes through encodeGray.
// Intensities map linearly between the PNG's integer range and [-1, 1].

import { decode, encode } from "fast-png";
import { join } from "node:path";
import { writeFileAtomic } from "../../core/io/safetensors.ts";
import type { GrayImage } from "./patches.ts";

export interface PngFolder {
  /** One entry per PNG file, in file-name order; intensities in [-1, 1]. */
  images: GrayImage[];
  paths: string[];
  /** The common size when every image has the same size, else undefined. */
  width: number | undefined;
  height: number | undefined;
}

const CONVERT_HINT = "convert it to 8- or 16-bit grayscale, e.g. `magick in.png -colorspace Gray " +
  "-depth 8 out.png` (ImageMagick)";

/** Unpacks 1-, 2- or 4-bit grayscale rows (each row starts on a byte boundary) to one value per pixel. */
function unpackLowDepth(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const bytesPerRow = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * bytesPerRow + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Decoded single-channel pixel values and their maximum, or a clear error for anything else. */
function decodeGray(bytes: Uint8Array, path: string): { values: ArrayLike<number>; max: number } & {
  width: number;
  height: number;
} {
  let png;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new Error(`${path} is not a readable PNG (${(error as Error).message}); expected a PNG image`);
  }
  if (png.palette) {
    throw new Error(`${path} is a palette (indexed-colour) PNG; expected grayscale: ${CONVERT_HINT}`);
  }
  if (png.channels !== 1) {
    const kind = png.channels === 2 ? "grayscale with alpha" : png.channels === 3 ? "RGB" : "RGBA";
    throw new Error(
      `${path} has ${png.channels} channels (${kind}); expected a 1-channel grayscale PNG: ${CONVERT_HINT}`,
    );
  }
  const { width, height, depth } = png;
  const values = depth < 8 ? unpackLowDepth(png.data as Uint8Array, width, height, depth) : png.data;
  return { values, max: 2 ** depth - 1, width, height };
}

/** Reads one grayscale PNG into [-1, 1]. */
export async function readGrayPng(path: string): Promise<GrayImage> {
  const { values, max, width, height } = decodeGray(await readPngBytes(path), path);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (values[i] / max) * 2 - 1;
  return { data, width, height };
}

/** Reads a label mask PNG (8-bit grayscale, values are labels, e.g. MASK_FLUID). */
export async function readMaskPng(
  path: string,
): Promise<{ mask: Uint8Array; width: number; height: number }> {
  const { values, max, width, height } = decodeGray(await readPngBytes(path), path);
  if (max !== 255) {
    throw new Error(`${path} is a ${Math.log2(max + 1)}-bit PNG; expected an 8-bit label mask`);
  }
  return { mask: Uint8Array.from(values), width, height };
}

async function readPngBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`PNG file not found: ${path}`);
    throw error;
  }
}

/**
 * Lists the regular *.png files of a folder, sorted by name; clear errors if there are none. Names that
 * differ only in case (a.png, a.PNG, A.png) are refused: the image ids and output files derived from
 * them would be one on a case-insensitive file system, and one image's outputs would overwrite another's.
 */
export async function listPngFiles(dir: string): Promise<string[]> {
  const pngs: string[] = [];
  const others: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile) continue;
      (entry.name.toLowerCase().endsWith(".png") ? pngs : others).push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`image folder not found: ${dir}`);
    if (error instanceof Deno.errors.NotADirectory) throw new Error(`${dir} is not a folder of PNG images`);
    throw error;
  }
  if (pngs.length === 0) {
    others.sort();
    const found = others.length === 0 ? "it is empty" : `found only ${others.slice(0, 5).join(", ")}` +
      (others.length > 5 ? ` and ${others.length - 5} more` : "");
    throw new Error(`no .png files in ${dir} (${found}); convert your images to grayscale PNG`);
  }
  pngs.sort();
  const byFoldedStem = new Map<string, string>();
  for (const name of pngs) {
    const folded = name.replace(/\.png$/i, "").toLowerCase();
    const earlier = byFoldedStem.get(folded);
    if (earlier !== undefined) {
      throw new Error(
        `${join(dir, earlier)} and ${join(dir, name)} differ only in letter case; expected names that stay ` +
          `distinct on a case-insensitive file system (their image ids and outputs would collide): rename one`,
      );
    }
    byFoldedStem.set(folded, name);
  }
  return pngs.map((name) => join(dir, name));
}

/**
 * Reads every *.png in a folder (not recursive) as a grayscale image in [-1, 1]. Images may differ in
 * size; with `patchSize`, every image must be at least patchSize × patchSize.
 */
export async function loadPngFolder(dir: string, options: { patchSize?: number } = {}): Promise<PngFolder> {
  const paths = await listPngFiles(dir);
  const images: GrayImage[] = [];
  for (const path of paths) {
    const image = await readGrayPng(path);
    const size = options.patchSize;
    if (size !== undefined && (image.width < size || image.height < size)) {
      throw new Error(
        `${path} is ${image.width}×${image.height}, smaller than the ${size}×${size} patch; ` +
          `use a smaller patch size or remove the image`,
      );
    }
    images.push(image);
  }
  const sameSize = images.every((im) => im.width === images[0].width && im.height === images[0].height);
  return {
    images,
    paths,
    width: sameSize ? images[0].width : undefined,
    height: sameSize ? images[0].height : undefined,
  };
}

/** 8-bit grayscale pixels, row-major: a rendered picture (an image grid, a Fig. 3 strip) or a label mask. */
export interface GrayPixels {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** A [-1, 1] intensity as a level in 0..max (max = 2^bits − 1), clamped; NaN stays NaN (stored as 0). */
export function intensityLevel(value: number, max = 255): number {
  return Math.round(((Math.min(1, Math.max(-1, value)) + 1) / 2) * max);
}

/** The one grayscale PNG encoder: one channel, 8 or 16 bits per pixel. */
function encodeGray(
  data: Uint8Array | Uint16Array,
  width: number,
  height: number,
  depth: 8 | 16,
): Uint8Array {
  return encode({ width, height, data, depth, channels: 1 });
}

/** PNG bytes of a [-1, 1] grayscale image quantised to 8 or 16 bits (values outside are clamped). */
export function encodeGrayPng(image: GrayImage, bitDepth: 8 | 16 = 8): Uint8Array {
  const max = 2 ** bitDepth - 1;
  const data = bitDepth === 8 ? new Uint8Array(image.data.length) : new Uint16Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = intensityLevel(image.data[i], max);
  return encodeGray(data, image.width, image.height, bitDepth);
}

/** PNG bytes of 8-bit grayscale pixels, as they are. */
export function encodeGrayPixelsPng(image: GrayPixels): Uint8Array {
  return encodeGray(image.pixels, image.width, image.height, 8);
}

/** Writes 8-bit grayscale pixels as a PNG, atomically. */
export async function writeGrayPixelsPng(path: string, image: GrayPixels): Promise<void> {
  await writeFileAtomic(path, encodeGrayPixelsPng(image));
}

/** PNG bytes of a label mask (8-bit grayscale, pixel value = label). */
export function encodeMaskPng(mask: Uint8Array, width: number, height: number): Uint8Array {
  return encodeGray(mask, width, height, 8);
}

/** PNG bytes of an 8-bit RGB image (`rgb` holds r, g, b per pixel). */
export function encodeRgbPng(rgb: Uint8Array, width: number, height: number): Uint8Array {
  return encode({ width, height, data: rgb, depth: 8, channels: 3 });
}

/** Writes bytes atomically (a temporary file beside the target, then a rename). */
export { writeFileAtomic };
