// Query sets for scoring: labelled test sets (Fashion-MNIST one-class, phantom patches, PNG folders
// split into normal/anomalous) and the unlabelled training sources (whose images are normal).

import { FASHION_MNIST_CLASSES, loadFashionMnist, padImages } from "./data/idx.ts";
import { loadPngFolder, readMaskPng } from "./data/png.ts";
import { extractPatch, type GrayImage } from "./data/patches.ts";
import {
  DEFAULT_TEST_SET,
  DEFAULT_VALIDATION_SET,
  fluidKind,
  meanHealthyPatch,
  patchTestSet,
  type PatchTestSetConfig,
  trivialScores,
} from "./data/phantom.ts";
import { XoshiroRng } from "./data/rng.ts";
import { DATA_SPEC_HELP, loadTrainingSource } from "./data/source.ts";

export interface QuerySet {
  description: string;
  /** Side of the square images. */
  size: number;
  count: number;
  /** count × size × size values in [−1, 1]. */
  images: Float32Array;
  ids: string[];
  /** Where each image comes from: a file path or `dataset:index`. */
  sources: string[];
  /** 0 normal, 1 anomalous, null unknown. */
  labels: (0 | 1 | null)[];
  /** Per image, a size × size label mask (0 background, 1 anomaly/fluid, 2 hyperreflective focus). */
  masks: (Uint8Array | null)[];
  /** Per image, what its anomaly is in words (for tables stratified by kind); null when unknown or normal. */
  kinds?: (string | null)[];
  /** Scores of baseline detectors that need no model, per image, by column name (e.g. trivial_std). */
  baselines?: Record<string, number[]>;
}

export const QUERY_SPEC_HELP =
  "fmnist-test:CLASS (the 10 000 test images, CLASS normal), phantom-test (the phantom patch test set), " +
  "phantom-val (the phantom validation patches: other volumes, for every choice), " +
  "png:DIR (DIR/normal, DIR/anomalous, optional DIR/masks; or a plain folder), or a training source: " +
  DATA_SPEC_HELP;

export interface QueryOptions {
  size: number;
  seed: number;
  fmnistDir?: string;
  /** Score a seeded random subset of this many images (kept in data set order). */
  limit?: number;
  /** With `limit`: half normal, half anomalous images. */
  balanced?: boolean;
  patchesPerImage?: number;
}

function pad(n: number, width = 5): string {
  return String(n).padStart(width, "0");
}

/** A seeded random permutation of 0..count-1. */
function shuffled(count: number, rng: XoshiroRng): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * A seeded random subset of `limit` of the set's images, in their original order. `balanced` draws
 * half of them from the normal and half from the anomalous images (a sparse anomaly class otherwise
 * leaves too few positives for a meaningful AUC).
 */
export function subsetQueries(
  set: QuerySet,
  limit: number | undefined,
  seed: number,
  balanced = false,
): QuerySet {
  if (limit === undefined || (limit >= set.count && !balanced)) return set;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`--limit must be a positive integer, got ${limit}`);
  }
  const rng = new XoshiroRng(seed);
  let keep: number[];
  if (balanced) {
    const order = shuffled(set.count, rng);
    const byClass = [0, 1].map((c) => order.filter((i) => set.labels[i] === c));
    const half = Math.min(Math.floor(limit / 2), byClass[0].length, byClass[1].length);
    if (half === 0) {
      throw new Error(
        `--balanced needs labelled normal and anomalous images; ${set.description} lacks one class`,
      );
    }
    keep = [...byClass[0].slice(0, half), ...byClass[1].slice(0, half)];
    limit = keep.length;
  } else {
    keep = shuffled(set.count, rng).slice(0, limit);
  }
  keep.sort((a, b) => a - b);
  const n = set.size * set.size;
  const images = new Float32Array(limit * n);
  keep.forEach((src, k) => images.set(set.images.subarray(src * n, (src + 1) * n), k * n));
  return {
    ...set,
    description: `${set.description}; a seeded random${balanced ? " balanced" : ""} subset of ${limit}`,
    count: limit,
    images,
    ids: keep.map((i) => set.ids[i]),
    sources: keep.map((i) => set.sources[i]),
    labels: keep.map((i) => set.labels[i]),
    masks: keep.map((i) => set.masks[i]),
    kinds: set.kinds && keep.map((i) => set.kinds![i]),
    baselines: set.baselines &&
      Object.fromEntries(Object.entries(set.baselines).map(([k, v]) => [k, keep.map((i) => v[i])])),
  };
}

async function fmnistTest(cls: number, o: QueryOptions): Promise<QuerySet> {
  const set = padImages(await loadFashionMnist("test", { dir: o.fmnistDir }), o.size);
  const ids = Array.from({ length: set.count }, (_, i) => `fmnist-test-${pad(i)}`);
  return {
    description: `Fashion-MNIST test set, class ${cls} (${
      FASHION_MNIST_CLASSES[cls]
    }) normal, the other nine anomalous`,
    size: o.size,
    count: set.count,
    images: set.images,
    ids,
    sources: ids.map((_, i) => `fmnist-test:${i}`),
    labels: Array.from(set.labels, (l) => (l === cls ? 0 : 1)),
    masks: new Array(set.count).fill(null),
  };
}

/** The phantom patch sets: `test` is read once, for the report; `validation` serves every choice. */
export const PHANTOM_PATCH_SETS: Record<string, { name: string; config: Readonly<PatchTestSetConfig> }> = {
  "phantom-test": { name: "phantom patch test set", config: DEFAULT_TEST_SET },
  "phantom-val": { name: "phantom validation patch set", config: DEFAULT_VALIDATION_SET },
};

/**
 * Whether a score row's source names a phantom image (`phantom-test:…`, `phantom-val:…`, or `phantom:…`
 * from the training source), whose masks label fluid and hyperreflective foci; a user's PNGs are paths.
 */
export function isPhantomSource(source: string): boolean {
  const kind = source.split(":")[0];
  return kind === "phantom" || Object.hasOwn(PHANTOM_PATCH_SETS, kind);
}

function phantomPatches(spec: string, o: QueryOptions): QuerySet {
  const { name, config: base } = PHANTOM_PATCH_SETS[spec];
  const config = { ...base, patchSize: o.size };
  const set = patchTestSet(config);
  const n = o.size * o.size;
  const images = new Float32Array(set.patches.length * n);
  const masks: Uint8Array[] = [];
  set.patches.forEach((p, i) => {
    images.set(extractPatch(set.images[p.image], p.x, p.y, o.size), i * n);
    const mask = new Uint8Array(n);
    const full = set.masks[p.image], w = set.images[p.image].width;
    for (let y = 0; y < o.size; y++) {
      mask.set(full.subarray((p.y + y) * w + p.x, (p.y + y) * w + p.x + o.size), y * o.size);
    }
    masks.push(mask);
  });
  // The trivial detectors of the phantom's difficulty report, for comparison in Table 1.
  const meanPatch = meanHealthyPatch(config, 4);
  const trivial = Array.from(
    { length: set.patches.length },
    (_, i) => trivialScores(images.subarray(i * n, (i + 1) * n), meanPatch),
  );
  return {
    baselines: {
      trivial_darkness: trivial.map((t) => t.darkness),
      trivial_std: trivial.map((t) => t.std),
      trivial_distance: trivial.map((t) => t.distance),
    },
    description: `${name} (seed ${config.seed}: ${config.healthyVolumes} healthy + ` +
      `${config.pathologicalVolumes} pathological volumes × ${config.bscans} B-scans × ` +
      `${config.patchesPerBscan} patches of ${o.size}×${o.size})`,
    size: o.size,
    count: set.patches.length,
    images,
    ids: set.patches.map((_, i) => `${spec === "phantom-test" ? "phantom" : spec}-${pad(i)}`),
    sources: set.patches.map((p) => {
      const s = set.sources[p.image];
      return `${spec}:${s.pathological ? "pathological" : "healthy"}/v${pad(s.volume, 3)}/b${
        pad(s.slice, 3)
      }@${p.x},${p.y}`;
    }),
    labels: set.patches.map((p) => p.label),
    masks,
    kinds: set.patches.map(fluidKind),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

function checkSize(image: GrayImage, path: string, size: number): void {
  if (image.width !== size || image.height !== size) {
    throw new Error(
      `${path} is ${image.width}×${image.height}; the model scores ${size}×${size} images (crop or resize it)`,
    );
  }
}

async function pngQueries(dir: string, o: QueryOptions): Promise<QuerySet> {
  const parts = [["normal", 0], ["anomalous", 1]] as const;
  const labelled = (await exists(`${dir}/normal`)) || (await exists(`${dir}/anomalous`));
  const folders: readonly (readonly [string, 0 | 1 | null])[] = labelled ? parts : [["", null]];
  const set: QuerySet = {
    description: labelled ? `PNG folders ${dir}/normal and ${dir}/anomalous` : `PNG folder ${dir}`,
    size: o.size,
    count: 0,
    images: new Float32Array(0),
    ids: [],
    sources: [],
    labels: [],
    masks: [],
  };
  const chunks: Float32Array[] = [];
  for (const [name, label] of folders) {
    const sub = name ? `${dir}/${name}` : dir;
    if (name && !(await exists(sub))) continue;
    const folder = await loadPngFolder(sub);
    for (let i = 0; i < folder.images.length; i++) {
      const path = folder.paths[i];
      checkSize(folder.images[i], path, o.size);
      chunks.push(folder.images[i].data);
      const file = path.split("/").pop()!;
      set.ids.push(`${name ? `${name}-` : ""}${file.replace(/\.png$/i, "")}`);
      set.sources.push(path);
      set.labels.push(label);
      const maskPath = `${dir}/masks/${file}`;
      if (await exists(maskPath)) {
        const m = await readMaskPng(maskPath);
        if (m.width !== o.size || m.height !== o.size) {
          throw new Error(`${maskPath} is ${m.width}×${m.height}; expected ${o.size}×${o.size} like ${path}`);
        }
        set.masks.push(m.mask.map((v) => (v === 255 ? 1 : v))); // binary 0/255 masks mark anomalies
      } else {
        set.masks.push(null);
      }
    }
  }
  set.count = chunks.length;
  set.images = new Float32Array(set.count * o.size * o.size);
  chunks.forEach((c, i) => set.images.set(c, i * o.size * o.size));
  return set;
}

/**
 * Ids name each image's output files and its scores.csv row, so they must stay distinct on a
 * case-insensitive file system too; the error names both images.
 */
function checkUniqueIds(set: QuerySet): void {
  const first = new Map<string, number>();
  set.ids.forEach((id, i) => {
    const folded = id.toLowerCase();
    const earlier = first.get(folded);
    if (earlier !== undefined) {
      throw new Error(
        `${set.sources[earlier]} and ${set.sources[i]} get the ids "${set.ids[earlier]}" and "${id}", ` +
          `which differ at most in letter case; expected distinct ids (rename one of the files)`,
      );
    }
    first.set(folded, i);
  });
}

/** Test sets, read once for the report: every choice is made before, on other data. */
export const TEST_SETS = ["phantom-test", "fmnist-test"];

/**
 * Every test set this process has loaded, in order (the spec and when): the audit trail that lets a
 * pipeline show it fixed its configuration before it first read test data.
 */
export const testSetReads: { spec: string; at: number }[] = [];

/** Loads the query images a spec names, at the model's image size. */
export async function loadQuerySet(spec: string, o: QueryOptions): Promise<QuerySet> {
  if (TEST_SETS.includes(spec.split(":")[0])) testSetReads.push({ spec, at: performance.now() });
  const [kind, ...rest] = spec.split(":");
  const arg = rest.join(":");
  let set: QuerySet;
  if (kind === "fmnist-test") {
    const cls = Number(arg);
    if (arg === "" || !Number.isInteger(cls) || cls < 0 || cls > 9) {
      throw new Error(`--data ${spec}: expected fmnist-test:CLASS with CLASS in 0–9`);
    }
    set = await fmnistTest(cls, o);
  } else if (kind in PHANTOM_PATCH_SETS && arg === "") {
    set = phantomPatches(kind, o);
  } else if (kind === "png") {
    if (arg === "") throw new Error(`--data ${spec}: expected png:DIR`);
    set = await pngQueries(arg, o);
  } else if (kind === "fmnist" || kind === "phantom") {
    const src = await loadTrainingSource(spec, {
      size: o.size,
      seed: o.seed,
      patchesPerImage: o.patchesPerImage ?? 32,
      fmnistDir: o.fmnistDir,
    });
    const ids = Array.from({ length: src.count }, (_, i) => `train-${pad(i)}`);
    set = {
      description: `${src.description} (training normals)`,
      size: o.size,
      count: src.count,
      images: src.images,
      ids,
      sources: ids.map((_, i) => `${spec}:${i}`),
      labels: new Array(src.count).fill(0),
      masks: new Array(src.count).fill(null),
    };
  } else {
    throw new Error(`--data ${spec}: unknown query set; expected ${QUERY_SPEC_HELP}`);
  }
  if (set.count === 0) throw new Error(`--data ${spec}: no query images`);
  checkUniqueIds(set);
  return subsetQueries(set, o.limit, o.seed, o.balanced);
}
