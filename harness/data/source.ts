// Training data sources named on the command line: `fmnist:CLASS`, `png:DIR`, `phantom`.
// Each yields a set of equally sized square images in [-1, 1] that batches are drawn from.

import { FASHION_MNIST_CLASSES, loadFashionMnist, padImages } from "./idx.ts";
import { loadPngFolder } from "./png.ts";
import { samplePatches } from "./patches.ts";
import { generateVolume } from "./phantom.ts";
import { deriveSeed } from "./rng.ts";

/** The healthy phantom volumes a `phantom` source draws patches from when none are asked for. */
export const DEFAULT_PHANTOM_VOLUMES = 2;
export interface ImageBatchSource {
  /** What the data is, for logs and config.json. */
  description: string;
  count: number;
  /** Side of the square images. */
  size: number;
  /** count × size × size values, image after image. */
  images: Float32Array;
}

export interface SourceOptions {
  /** Side of the model's images: Fashion-MNIST is padded to it, PNG and phantom patches are cut at it. */
  size: number;
  /** Random patches per image (PNG folders and phantoms). */
  patchesPerImage: number;
  seed: number;
  fmnistDir?: string;
  /** Phantom training volumes (healthy). */
  phantomVolumes?: number;
  /** Keep at most this many images (for quick runs). */
  limit?: number;
}

const TRAIN_VOLUMES = 0x7472; // the sub-stream of phantom training volumes

/**
 * The image side a data spec trains at when none is given: 32 for Fashion-MNIST (28×28, padded), 64
 * (the paper's) for PNG folders and phantoms.
 */
export function defaultImageSize(spec: string): 32 | 64 {
  return spec.split(":")[0] === "fmnist" ? 32 : 64;
}

export const DATA_SPEC_HELP = "fmnist:CLASS (0–9), png:DIR (a folder of grayscale PNGs), or phantom";

function limitSet(src: ImageBatchSource, limit?: number): ImageBatchSource {
  if (limit === undefined || limit >= src.count) return src;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`--limit must be a positive integer, got ${limit}`);
  }
  const n = src.size * src.size;
  return {
    ...src,
    count: limit,
    images: src.images.slice(0, limit * n),
    description: `${src.description}, first ${limit}`,
  };
}

function stackPatches(patches: Float32Array[], size: number): Float32Array {
  const out = new Float32Array(patches.length * size * size);
  patches.forEach((p, i) => out.set(p, i * size * size));
  return out;
}

/** Loads the training images a data spec names. */
export async function loadTrainingSource(spec: string, o: SourceOptions): Promise<ImageBatchSource> {
  const [kind, ...rest] = spec.split(":");
  const arg = rest.join(":");
  if (kind === "fmnist") {
    const cls = Number(arg);
    if (arg === "" || !Number.isInteger(cls) || cls < 0 || cls > 9) {
      throw new Error(
        `--data ${spec}: expected fmnist:CLASS with CLASS in 0–9 (${FASHION_MNIST_CLASSES.join(", ")})`,
      );
    }
    const set = await loadFashionMnist("train", { dir: o.fmnistDir, classes: [cls] });
    const padded = padImages(set, o.size);
    return limitSet({
      description: `Fashion-MNIST train, class ${cls} (${
        FASHION_MNIST_CLASSES[cls]
      }), padded to ${o.size}×${o.size}`,
      count: padded.count,
      size: o.size,
      images: padded.images,
    }, o.limit);
  }
  if (kind === "png") {
    if (arg === "") throw new Error(`--data ${spec}: expected png:DIR`);
    const folder = await loadPngFolder(arg, { patchSize: o.size });
    const patches = folder.images.flatMap((im, i) =>
      samplePatches(im, { size: o.size, count: o.patchesPerImage, seed: deriveSeed(o.seed, 7, i) }).map((p) =>
        p.data
      )
    );
    return limitSet({
      description:
        `${folder.images.length} PNG images in ${arg}, ${o.patchesPerImage} random ${o.size}×${o.size} patches each`,
      count: patches.length,
      size: o.size,
      images: stackPatches(patches, o.size),
    }, o.limit);
  }
  if (kind === "phantom") {
    const volumes = o.phantomVolumes ?? DEFAULT_PHANTOM_VOLUMES;
    if (!Number.isInteger(volumes) || volumes < 1) {
      throw new Error(`phantom volumes must be ≥ 1, got ${volumes}`);
    }
    const patches: Float32Array[] = [];
    for (let v = 0; v < volumes; v++) {
      // A stream of its own, so that no training volume is one of the phantom test sets' volumes.
      const vol = generateVolume({ seed: deriveSeed(o.seed, TRAIN_VOLUMES, v), pathological: false });
      vol.bscans.forEach((data, b) => {
        const image = { data, width: vol.width, height: vol.height };
        const seed = deriveSeed(o.seed, 11, v, b);
        for (const p of samplePatches(image, { size: o.size, count: o.patchesPerImage, seed })) {
          patches.push(p.data);
        }
      });
    }
    return limitSet({
      description:
        `${volumes} healthy phantom volumes, ${o.patchesPerImage} random ${o.size}×${o.size} patches per B-scan`,
      count: patches.length,
      size: o.size,
      images: stackPatches(patches, o.size),
    }, o.limit);
  }
  throw new Error(`--data ${spec}: unknown data source; expected ${DATA_SPEC_HELP}`);
}
