// Scoring a query set with a trained run: per image A, R, D (AnoGAN), Â, R̂, D̂ (GANR) and PD, the
// generated image G(z_Γ) and the residual |x − G(z_Γ)| as PNGs, and a Fig. 3-style grid. Encoders
// map in one pass: the aCAE's (A_acae …) and the izi_f encoder of a DCGAN run (A_encoder …, and
// A_encoder_iter … when E(x) starts k mapping steps).

import { relative, resolve } from "node:path";
import * as T from "../core/mod.ts";
import { encodeImages, Encoder } from "../anogan/encoder.ts";
import { loadEncoder, loadGan } from "./run.ts";
import type { Dcgan, DcganConfig, FoldedDcgan } from "../anogan/dcgan.ts";
import {
  discriminatorScore,
  foldFrozen,
  MAPPING_DEFAULTS,
  type MappingOptions,
  mapToLatent,
} from "../anogan/mapping.ts";
import type { QuerySet } from "./query_sets.ts";
import { encodeGrayPng, encodeMaskPng, encodeRgbPng } from "./data/png.ts";
import { Progress } from "./progress.ts";
import { formatScoresCsv, MAPS_FILE, type ScoreRow } from "./score_file.ts";

// ---- scoring ------------------------------------------------------------------------------------

/** "acae": an aCAE run's encoder; "encoder", "encoder+iter": the izi_f encoder of a DCGAN run. */
export type ScoreMethod = "anogan" | "ganr" | "pd" | "acae" | "encoder" | "encoder+iter";

export interface ScoreOptions {
  methods: ScoreMethod[];
  mapping: Omit<MappingOptions, "method">;
  /** Images mapped together. */
  batch: number;
  /** Score only the i-th of n contiguous slices of the query set. */
  shard: [number, number];
  /** Write G(z_Γ), residual and mask PNGs per image. */
  images: boolean;
  quiet?: boolean;
  /** The encoder of "acae" (the aCAE's) or of "encoder" and "encoder+iter" (izi_f). */
  encoder?: Encoder;
  /** k, the mapping steps after z₁ = E(x) of "encoder+iter" (default: mapping.steps). */
  encoderSteps?: number;
}

/**
 * The methods a scoring runs, from `--methods` (default: AnoGAN, GANR and PD; an aCAE run: its own)
 * and `--mapper`: the iterative mapper is the anogan method, the encoder mappers are methods of their
 * own. Errors name the flag and the run.
 */
export function scoreMethods(
  run: string,
  isAcae: boolean,
  requested: readonly string[] | undefined,
  mappers: readonly string[],
): ScoreMethod[] {
  let methods = [...(requested ?? (isAcae ? ["acae"] : ["anogan", "ganr", "pd"]))] as ScoreMethod[];
  if (methods.includes("acae") && !isAcae) {
    throw new Error(
      `--methods acae: ${run} is not an aCAE run (train one with deno task train --model acae)`,
    );
  }
  if (isAcae && mappers.some((m) => m.startsWith("encoder"))) {
    throw new Error(`--mapper encoder: ${run} is an aCAE run; its encoder scores as --methods acae`);
  }
  if (!mappers.includes("iterative")) methods = methods.filter((m) => m !== "anogan");
  methods.push(...(mappers.filter((m) => m !== "iterative") as ScoreMethod[]));
  if (methods.length === 0) throw new Error("nothing to score: --methods and --mapper leave no method");
  return methods;
}

/**
 * What a scoring of `run` needs: its G and D (loadGan), the methods its kind and the requested methods
 * and mappers give (scoreMethods), and the encoder they use — an aCAE's own, or the run's izi_f encoder.
 */
export async function loadScoringModels(
  run: string,
  o: { allowIncomplete?: boolean; methods?: readonly string[]; mappers: readonly string[] },
) {
  const loaded = await loadGan(run, { allowIncomplete: o.allowIncomplete });
  const isAcae = loaded.config.kind === "acae";
  const methods = scoreMethods(run, isAcae, o.methods, o.mappers);
  const encoder = isAcae
    ? loaded.encoder
    : methods.some((m) => m.startsWith("encoder"))
    ? await loadEncoder(run, loaded.gan.G.cfg)
    : undefined;
  return { ...loaded, methods, encoder };
}

/** Image indices [begin, end) of shard i of n: contiguous, disjoint, covering the set. */
export function shardRange(count: number, [i, n]: [number, number]): [number, number] {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(i) && i >= 0 && i < n)) {
    throw new Error(`--shard ${i}/${n}: expected i/n with 0 ≤ i < n`);
  }
  return [Math.floor((count * i) / n), Math.floor((count * (i + 1)) / n)];
}

/** A batch size that fits the device: the largest activation of a batch within one storage binding. */
export function defaultBatch(rt: T.Runtime, model: DcganConfig): number {
  const largest = (model.size / 2) ** 2 * model.width * 4 * 2; // D's first block, bytes per image, ×2 margin
  const byBinding = Math.floor(rt.gpu.limits.maxStorageBufferBindingSize / largest);
  return Math.max(1, Math.min(rt.gpu.isCpu ? 64 : 256, byBinding));
}

export const SCORE_COLUMNS: Record<ScoreMethod, string[]> = {
  anogan: ["A", "R", "D"],
  ganr: ["A_ganr", "R_ganr", "D_ganr"],
  pd: ["PD"],
  acae: ["A_acae", "R_acae", "D_acae"],
  encoder: ["A_encoder", "R_encoder", "D_encoder"],
  "encoder+iter": ["A_encoder_iter", "R_encoder_iter", "D_encoder_iter"],
};

/** The score columns of scores.csv: each method's, then the query set's trivial baselines. */
export function scoreColumns(methods: readonly ScoreMethod[], rows: readonly ScoreRow[]): string[] {
  const baselines = Object.keys(rows[0]?.scores ?? {}).filter((c) => c.startsWith("trivial_"));
  return [...methods.flatMap((m) => SCORE_COLUMNS[m]), ...baselines];
}

/** Residual |x − G(z)| ∈ [0, 2] drawn over the query in red (Fig. 3's overlay). */
function residualOverlay(query: Float32Array, residual: Float32Array): Uint8Array {
  const rgb = new Uint8Array(query.length * 3);
  for (let i = 0; i < query.length; i++) {
    const gray = Math.max(0, Math.min(255, (query[i] + 1) * 127.5));
    const a = Math.min(1, residual[i]); // a residual of 1 (half the range) saturates
    rgb[3 * i] = Math.round(gray * (1 - a) + 255 * a);
    rgb[3 * i + 1] = rgb[3 * i + 2] = Math.round(gray * (1 - a));
  }
  return rgb;
}

/**
 * The PNGs of one scored image: the query x, G(z_Γ), the residual |x − G(z_Γ)| (∈ [0, 2], mapped to
 * 0–255) and the mask when there is one. Returns their paths relative to `outDir`.
 */
async function writeImagePngs(
  outDir: string,
  id: string,
  query: Float32Array,
  generated: Float32Array,
  mask: Uint8Array | null,
  size: number,
): Promise<Pick<ScoreRow, "query" | "generated" | "residual" | "mask">> {
  const paths = {
    query: `query/${id}.png`,
    generated: `generated/${id}.png`,
    residual: `residual/${id}.png`,
    mask: undefined as string | undefined,
  };
  const gray = (data: Float32Array) => encodeGrayPng({ data, width: size, height: size });
  await T.writeFileAtomic(`${outDir}/${paths.query}`, gray(query));
  await T.writeFileAtomic(`${outDir}/${paths.generated}`, gray(generated));
  await T.writeFileAtomic(
    `${outDir}/${paths.residual}`,
    gray(generated.map((v, j) => Math.abs(query[j] - v) - 1)),
  );
  if (mask) {
    paths.mask = `masks/${id}.png`;
    await T.writeFileAtomic(`${outDir}/${paths.mask}`, encodeMaskPng(mask, size, size));
  }
  return paths;
}

export interface ScoredQueries {
  rows: ScoreRow[];
  generated: Map<string, Float32Array>;
  seconds: Record<string, number>;
}

/**
 * Maps and scores the shard's images in batches; writes PNGs under `outDir` (when asked) and returns
 * the rows. Progress shows images/s and the ETA. G and D are frozen, and every method runs on one copy
 * of them with batch norm folded in (foldFrozen), made once for the whole scoring.
 */
export async function scoreQueries(
  gan: Dcgan,
  set: QuerySet,
  outDir: string,
  o: ScoreOptions,
): Promise<ScoredQueries> {
  checkScoring(gan, set, o);
  const folded = foldFrozen(gan);
  try {
    return await scoreShard(folded, set, outDir, o);
  } finally {
    folded.dispose();
  }
}

/** The shard, the encoder the methods need, and the query size, checked before anything is folded. */
function checkScoring(gan: Dcgan, set: QuerySet, o: ScoreOptions): void {
  shardRange(set.count, o.shard);
  const needsEncoder = o.methods.filter((m) => m === "acae" || m.startsWith("encoder"));
  if (needsEncoder.length > 0 && !o.encoder) {
    throw new Error(`methods ${needsEncoder.join(", ")} need an encoder; none was given`);
  }
  const { size } = gan.G.cfg;
  if (set.size !== size) {
    throw new Error(`query images are ${set.size}×${set.size}; the model expects ${size}×${size}`);
  }
}

/** scoreQueries on the folded G and D. */
async function scoreShard(
  gan: FoldedDcgan,
  set: QuerySet,
  outDir: string,
  o: ScoreOptions,
): Promise<ScoredQueries> {
  const [begin, end] = shardRange(set.count, o.shard);
  const { size } = gan.G.cfg;
  const n = size * size;
  if (o.images) {
    for (const d of ["generated", "residual", "query", "masks"]) {
      await Deno.mkdir(`${outDir}/${d}`, { recursive: true });
    }
  }
  const progress = new Progress({ total: end - begin, unit: "img", quiet: o.quiet });
  const rows: ScoreRow[] = [];
  const generatedById = new Map<string, Float32Array>();
  // Scoring time per method (mapping included), for the seconds per image of each mapper.
  const seconds: Record<string, number> = {};
  const timed = async <R>(method: ScoreMethod, run: () => Promise<R>): Promise<R> => {
    const t0 = performance.now();
    const r = await run();
    seconds[method] = (seconds[method] ?? 0) + (performance.now() - t0) / 1000;
    return r;
  };
  for (let b0 = begin; b0 < end; b0 += o.batch) {
    const indices = Array.from({ length: Math.min(o.batch, end - b0) }, (_, k) => b0 + k);
    const images = set.images.slice(b0 * n, (b0 + indices.length) * n);
    const scores: Record<string, Float32Array> = {};
    let anogan = null;
    if (o.methods.includes("anogan")) {
      anogan = await timed(
        "anogan",
        () => mapToLatent(gan, images, indices, { ...o.mapping, method: "anogan" }),
      );
      [scores.A, scores.R, scores.D] = [anogan.score, anogan.residual, anogan.discrimination];
    }
    if (o.methods.includes("ganr")) {
      const r = await timed(
        "ganr",
        () => mapToLatent(gan, images, indices, { ...o.mapping, method: "ganr" }),
      );
      [scores.A_ganr, scores.R_ganr, scores.D_ganr] = [r.score, r.residual, r.discrimination];
      anogan ??= r;
    }
    if (o.methods.includes("pd")) {
      scores.PD = await timed("pd", () => discriminatorScore(gan, images, indices.length));
    }
    // Encoders: z = E(x), then R, D and A(x) (anomalyScore, eq. 6) at that z (0 steps) or after k steps from it.
    for (const method of ["acae", "encoder", "encoder+iter"] as const) {
      if (!o.methods.includes(method)) continue;
      const steps = method === "encoder+iter" ? o.encoderSteps ?? o.mapping.steps : 0;
      const r = await timed(method, async () => {
        const initialZ = await encodeImages(o.encoder!, images, indices.length);
        return mapToLatent(gan, images, indices, { ...o.mapping, method: "anogan", steps, initialZ });
      });
      const [a, rr, d] = SCORE_COLUMNS[method];
      [scores[a], scores[rr], scores[d]] = [r.score, r.residual, r.discrimination];
      anogan ??= r;
    }
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      const id = set.ids[i];
      const row: ScoreRow = {
        id,
        source: set.sources[i],
        label: set.labels[i] ?? undefined,
        kind: set.kinds?.[i] || undefined,
        scores: {
          ...Object.fromEntries(Object.entries(scores).map(([c, v]) => [c, v[k]])),
          ...Object.fromEntries(Object.entries(set.baselines ?? {}).map(([c, v]) => [c, v[i]])),
        },
      };
      const g = anogan?.generated.slice(k * n, (k + 1) * n);
      if (g) generatedById.set(id, g);
      if (o.images && g) {
        Object.assign(
          row,
          await writeImagePngs(outDir, id, images.subarray(k * n, (k + 1) * n), g, set.masks[i], size),
        );
      }
      rows.push(row);
    }
    progress.update(indices.at(-1)! + 1 - begin, `batch of ${indices.length}`);
  }
  progress.finish();
  return { rows, generated: generatedById, seconds };
}

/**
 * A Fig. 3-style grid: columns of query, G(z_Γ), residual overlay and mask (when known), for up to
 * `perClass` normal and anomalous images (the highest-scoring anomalies and lowest-scoring normals).
 */
export async function writeFigureGrid(
  path: string,
  set: QuerySet,
  rows: readonly ScoreRow[],
  generated: Map<string, Float32Array>,
  perClass = 6,
): Promise<void> {
  const size = set.size, pad = 2;
  const index = new Map(set.ids.map((id, i) => [id, i]));
  const key = (r: ScoreRow) => r.scores.A ?? r.scores.A_ganr ?? 0;
  // Anomalies from the highest score down, normals from the lowest up: the clearest cases of each.
  const pick = (label: 0 | 1) =>
    rows.filter((r) => r.label === label && generated.has(r.id))
      .sort((a, b) => (label === 1 ? key(b) - key(a) : key(a) - key(b)))
      .slice(0, perClass);
  const chosen = [...pick(0), ...pick(1)];
  if (chosen.length === 0) return;
  const cols = 4, width = cols * (size + pad) + pad, height = chosen.length * (size + pad) + pad;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const blit = (row: number, col: number, px: (j: number) => [number, number, number]) => {
    const x0 = pad + col * (size + pad), y0 = pad + row * (size + pad);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const o = ((y0 + y) * width + x0 + x) * 3;
        [rgb[o], rgb[o + 1], rgb[o + 2]] = px(y * size + x);
      }
    }
  };
  const gray = (v: number) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
  chosen.forEach((r, row) => {
    const i = index.get(r.id)!;
    const q = set.images.subarray(i * size * size, (i + 1) * size * size);
    const g = generated.get(r.id)!;
    const overlay = residualOverlay(q, g.map((v, j) => Math.abs(q[j] - v)));
    blit(row, 0, (j) => [gray(q[j]), gray(q[j]), gray(q[j])]);
    blit(row, 1, (j) => [gray(g[j]), gray(g[j]), gray(g[j])]);
    blit(row, 2, (j) => [overlay[3 * j], overlay[3 * j + 1], overlay[3 * j + 2]]);
    const m = set.masks[i];
    blit(
      row,
      3,
      (j) => (m ? (m[j] === 1 ? [0, 190, 255] : m[j] === 2 ? [255, 210, 0] : [0, 0, 0]) : [255, 255, 255]),
    );
  });
  await T.writeFileAtomic(path, encodeRgbPng(rgb, width, height));
}

export interface ScoreRunInfo {
  run: string;
  data: string;
  set: QuerySet;
  options: ScoreOptions;
  seconds: number;
  model: unknown;
  provenance: Record<string, string>;
}

/** Scoring seconds per image of each method (its mapping included), e.g. { anogan: 1.2, encoder: 0.004 }. */
export function secondsPerImageByMethod(
  result: { rows: readonly ScoreRow[]; seconds?: Record<string, number> },
): Record<string, number> {
  const n = Math.max(result.rows.length, 1);
  return Object.fromEntries(Object.entries(result.seconds ?? {}).map(([m, s]) => [m, s / n]));
}

/** Writes scores.csv, score.json (settings, timing, provenance) and grid.png (unless images are off). */
export async function writeScoreOutputs(
  out: string,
  result: { rows: ScoreRow[]; generated: Map<string, Float32Array>; seconds?: Record<string, number> },
  info: ScoreRunInfo,
): Promise<void> {
  const o = info.options;
  await T.writeFileAtomic(
    `${out}/scores.csv`,
    new TextEncoder().encode(formatScoresCsv(result.rows, scoreColumns(o.methods, result.rows))),
  );
  const json = {
    run: relative(out, resolve(info.run)), // relative to this folder, as eval reads it
    data: info.data,
    queries: info.set.description,
    setImages: info.set.count, // before sharding: the shards of one scoring must add up to it
    shard: `${o.shard[0]}/${o.shard[1]}`,
    methods: o.methods,
    mapping: o.mapping,
    batch: o.batch,
    images: result.rows.length,
    seconds: info.seconds,
    secondsPerImage: info.seconds / Math.max(result.rows.length, 1),
    ...(result.seconds ? { secondsPerImageByMethod: secondsPerImageByMethod(result) } : {}),
    model: info.model,
    ...info.provenance,
  };
  await T.writeFileAtomic(
    `${out}/score.json`,
    new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"),
  );
  if (o.images) {
    await writeFigureGrid(`${out}/grid.png`, info.set, result.rows, result.generated);
    await writeMaps(out, info.set, result.rows, result.generated);
  }
}

/**
 * MAPS_FILE: the query images x and G(z_Γ) of the rows, [N, H, W] float32 each, in the rows' order,
 * their ids in the metadata. The residual PNGs are 8-bit pictures for a reader; these are exact.
 */
async function writeMaps(
  out: string,
  set: QuerySet,
  rows: readonly ScoreRow[],
  generated: Map<string, Float32Array>,
): Promise<void> {
  const kept = rows.filter((r) => generated.has(r.id));
  if (kept.length === 0) return;
  const n = set.size * set.size;
  const index = new Map(set.ids.map((id, i) => [id, i]));
  const query = new Float32Array(kept.length * n), gen = new Float32Array(kept.length * n);
  kept.forEach((r, k) => {
    const i = index.get(r.id)!;
    query.set(set.images.subarray(i * n, (i + 1) * n), k * n);
    gen.set(generated.get(r.id)!, k * n);
  });
  const shape = [kept.length, set.size, set.size];
  await T.writeSafetensors(
    `${out}/${MAPS_FILE}`,
    new Map([["query", { shape, data: query }], ["generated", { shape, data: gen }]]),
    { ids: JSON.stringify(kept.map((r) => r.id)) },
  );
}

export { MAPPING_DEFAULTS };
