// Mapping query images to the latent space (paper §2.2) and the anomaly scores of §2.3, batched.
//
// For a batch of B query images x, z₁ is drawn from the prior U(−1, 1)^zDim, then Γ steps of Adam on
// z alone descend the per-image mapping loss (mappingLoss, eq. 5, summed over the batch: images do not
// interact) L(z) = (1 − λ)·R(z) + λ·D(z), R = Σ|x − G(z)| (residualLoss, eq. 3), D = Σ|f(x) − f(G(z))|
// (discriminationLoss, eq. 4),
// with G and D frozen and batch norm in eval mode, so that no weight gradient is ever computed and an
// image's result does not depend on the batch it is mapped in. Eval-mode batch norm is an affine map per
// channel, so the mapping runs a copy of G and D with it folded into the layers before it (FoldedDcgan):
// the same functions of z and x, with no batch-norm pass in the Γ steps. GANR (Yeh et al.) replaces D by
// D̂ = sigmoid-cross-entropy(D(G(z)), 1). The scores are the loss terms at z_Γ, after the last update,
// and A(x) (anomalyScore, eq. 6).
//
// z₁ of an image comes from the Philox stream (seed, image index), so an image maps to the same
// z_Γ alone, in any batch, and in any shard of a data set.

import * as T from "../core/mod.ts";
import { type Dcgan, FoldedDcgan, type FrozenDcgan } from "./dcgan.ts";
import {
  anomalyScore,
  discriminationLoss,
  ganrDiscriminationLoss,
  mappingLoss,
  residualLoss,
} from "./losses.ts";

export type MappingMethod = "anogan" | "ganr";

export interface MappingOptions {
  method: MappingMethod;
  /** Γ, the number of updates of z (the paper: 500). */
  steps: number;
  /** λ, the weight of the discrimination term (the paper: 0.1). */
  lambda: number;
  /** Adam on z. */
  lr: number;
  betas: [number, number];
  /** Clamp z to the prior's support [−1, 1] after each update. */
  clip: boolean;
  seed: number;
  /**
   * z₁ per image, [B, zDim], instead of the seeded draw from the prior (e.g. an encoder's E(x), so
   * that Γ refines it). Each row belongs to its image alone, which keeps batches independent.
   */
  initialZ?: Float32Array<ArrayBuffer>;
}

/**
 * Defaults. Adam with lr 0.02 and β = (0.9, 0.999): z lives in [−1, 1]^zDim, so steps of ~0.02 per
 * coordinate cross the prior's support in ~100 of the paper's 500 updates, leaving the rest to
 * converge; Adam's per-coordinate scaling makes the step size independent of the loss's scale
 * (R sums over all pixels and grows with the image size). Clipping keeps z where G was trained.
 */
export const MAPPING_DEFAULTS: MappingOptions = {
  method: "anogan",
  steps: 500,
  lambda: 0.1,
  lr: 0.05,
  betas: [0.9, 0.999],
  clip: true,
  seed: 0,
};

export interface MappingResult {
  /** z_Γ, [B, zDim]. */
  z: Float32Array;
  /** Per image: the residual score R (eq. 3) at z_Γ. */
  residual: Float32Array;
  /** Per image: D (discriminationLoss, eq. 4, feature matching) or D̂ (GANR's cross-entropy) at z_Γ. */
  discrimination: Float32Array;
  /** Per image: A(x) = (1 − λ)·R + λ·D (eq. 6), or GANR's Â(x). */
  score: Float32Array;
  /** G(z_Γ), [B, H, W] in [−1, 1]. */
  generated: Float32Array;
}

/** Blocks of the Philox stream reserved per image for z₁ (room for zDim up to 4096). */
const Z_BLOCKS_PER_IMAGE = 1024;

/** z₁ for the images with the given global indices, [B, zDim], from U(−1, 1). */
export function initialLatents(
  indices: readonly number[],
  zDim: number,
  seed: number,
): Float32Array<ArrayBuffer> {
  if (zDim > 4 * Z_BLOCKS_PER_IMAGE) throw new Error(`z dimension ${zDim} exceeds ${4 * Z_BLOCKS_PER_IMAGE}`);
  const out = new Float32Array(indices.length * zDim);
  indices.forEach((index, b) => {
    const rng = new T.Rng(BigInt(seed), BigInt(index) * BigInt(Z_BLOCKS_PER_IMAGE));
    out.set(rng.uniform(zDim, -1, 1), b * zDim);
  });
  return out;
}

function checkOptions(o: MappingOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 0) {
    throw new Error(`mapping steps Γ must be an integer ≥ 0, got ${o.steps}`);
  }
  if (!(o.lambda >= 0 && o.lambda <= 1)) throw new Error(`λ must be in [0, 1], got ${o.lambda}`);
  if (!(o.lr > 0)) throw new Error(`mapping learning rate must be > 0, got ${o.lr}`);
}

/** Freezes G and D (no parameter gradients) and puts batch norm in eval mode. */
export function freeze(gan: Dcgan): void {
  for (const m of [gan.G, gan.D]) m.eval().requiresGrad(false);
}

/**
 * Freezes G and D and returns their inference copy with batch norm folded in (FoldedDcgan), made once
 * for a mapping or a scoring run; the caller disposes it.
 */
export function foldFrozen(gan: Dcgan): FoldedDcgan {
  freeze(gan);
  return new FoldedDcgan(gan);
}

/**
 * Runs `use` on the folded copy of `gan`: the given one, or one made (G and D frozen) for this call
 * alone and freed after it.
 */
async function withFolded<R>(gan: Dcgan | FoldedDcgan, use: (folded: FoldedDcgan) => Promise<R>): Promise<R> {
  if (gan instanceof FoldedDcgan) return await use(gan);
  const folded = foldFrozen(gan);
  try {
    return await use(folded);
  } finally {
    folded.dispose();
  }
}

/**
 * The per-image loss terms at z: G(z), R (eq. 3), and D (eq. 4) or GANR's D̂; R and D are [B]. `fx`
 * holds f(x) for AnoGAN's D (null for GANR).
 */
export function mappingTerms(
  gan: FrozenDcgan,
  method: MappingMethod,
  x: T.Tensor,
  fx: T.Tensor | null,
  z: T.Tensor,
): { g: T.Tensor; residual: T.Tensor; discrimination: T.Tensor } {
  const g = gan.G.forward(z);
  const residual = residualLoss(x, g);
  const out = gan.D.forward(g);
  const discrimination = method === "anogan"
    ? discriminationLoss(fx!, out.features)
    : ganrDiscriminationLoss(out.logits);
  return { g, residual, discrimination };
}

/**
 * Maps a batch of query images `x` ([B, H, W] or [B, H, W, 1] values in [−1, 1]) to z_Γ and scores
 * them. `indices` are the images' global indices (they seed z₁). Given a Dcgan, G and D are frozen by
 * this call and folded for it; a run that maps many batches folds once (foldFrozen) and passes the copy.
 */
export async function mapToLatent(
  gan: Dcgan | FoldedDcgan,
  images: Float32Array<ArrayBuffer>,
  indices: readonly number[],
  options: Partial<MappingOptions> = {},
): Promise<MappingResult> {
  const o = { ...MAPPING_DEFAULTS, ...options };
  checkOptions(o);
  const { size, zDim } = gan.G.cfg;
  const B = indices.length;
  if (images.length !== B * size * size) {
    throw new Error(
      `mapToLatent: ${images.length} values for ${B} images; the model expects ${size}×${size} images ` +
        `(${B * size * size} values)`,
    );
  }
  if (o.initialZ && o.initialZ.length !== B * zDim) {
    throw new Error(`mapToLatent: initial z has ${o.initialZ.length} values, expected ${B}×${zDim}`);
  }
  return await withFolded(gan, (folded) => descend(folded, images, indices, o));
}

/** mapToLatent's Γ steps and final scores, on checked arguments. */
async function descend(
  gan: FoldedDcgan,
  images: Float32Array<ArrayBuffer>,
  indices: readonly number[],
  o: MappingOptions,
): Promise<MappingResult> {
  const { size, zDim } = gan.G.cfg;
  const B = indices.length;
  const x = T.Tensor.from(images, [B, size, size, 1]).keep();
  const fx = o.method === "anogan" ? T.step(() => gan.D.forward(x).features).keep() : null;
  const z1 = o.initialZ ?? initialLatents(indices, zDim, o.seed);
  const z = T.Tensor.from(z1, [B, zDim]).keep();
  z.requiresGrad = true;
  const opt = new T.Adam([z], { lr: o.lr, betas: o.betas });
  try {
    for (let step = 0; step < o.steps; step++) {
      T.step(() => {
        opt.zeroGrad();
        const { residual, discrimination } = mappingTerms(gan, o.method, x, fx, z);
        T.backward(T.sum(mappingLoss(residual, discrimination, o.lambda))); // images do not interact
        opt.step();
        if (o.clip) T.assign(z, T.noGrad(() => T.clamp(z, -1, 1)));
      });
    }
    // The scores: the loss terms at z_Γ.
    const final = T.step(() =>
      T.noGrad(() => {
        const { g, residual, discrimination } = mappingTerms(gan, o.method, x, fx, z);
        return { g, residual, discrimination };
      })
    );
    const [residual, discrimination, generated, zOut] = await Promise.all([
      final.residual.read(),
      final.discrimination.read(),
      final.g.read(),
      z.read(),
    ]);
    for (const t of Object.values(final)) t.dispose();
    const score = anomalyScore(residual, discrimination, o.lambda);
    return { z: zOut, residual, discrimination, score, generated };
  } finally {
    opt.zeroGrad();
    for (const t of opt.stateTensors().values()) t.dispose();
    for (const t of [x, fx, z]) t?.dispose();
  }
}

/**
 * PD: the discriminator's belief that x is fake, 1 − D(x) = σ(−logit), as an anomaly score (higher =
 * more anomalous); no mapping. Per image, [B].
 */
export async function discriminatorScore(
  gan: Dcgan | FoldedDcgan,
  images: Float32Array<ArrayBuffer>,
  count: number,
): Promise<Float32Array> {
  const { size } = gan.G.cfg;
  return await withFolded(gan, async (folded) => {
    const pd = T.step(() =>
      T.noGrad(() => T.sigmoid(T.neg(folded.D.forward(T.Tensor.from(images, [count, size, size, 1])).logits)))
    );
    const out = await pd.read();
    pd.dispose();
    return out;
  });
}
