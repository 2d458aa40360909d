// The paper's equations (Schlegl et al. 2017, §2), one named function each. Training, the aCAE,
// the latent mapping, the encoder mappers and the scoring call these; nothing else restates them.
//
//   eq. 1  discriminatorLoss   D's loss:  −log D(x) − log(1 − D(G(z)))
//   eq. 2  generatorLoss       G's loss, in its non-saturating form  −log D(G(z))
//   eq. 3  residualLoss        R(z) = Σ |x − G(z)|
//   eq. 4  discriminationLoss  D(z) = Σ |f(x) − f(G(z))|, f = D's last conv block (feature matching)
//          ganrDiscriminationLoss   Yeh et al.'s D̂(z) = σ-cross-entropy(D(G(z)), 1), the GANR baseline
//   eq. 5  mappingLoss         L(z) = (1 − λ)·R(z) + λ·D(z), descended by the mapping
//   eq. 6  anomalyScore        A(x) = (1 − λ)·R(x) + λ·D(x), with R and D at the last mapping step
//
// Tensor losses are per image ([B]) where the paper's sum runs over one image's pixels or features,
// and batch means where the paper's expectation runs over a batch (eq. 1, 2).

import * as T from "../core/mod.ts";

/** eq. 1: the discriminator's loss on a real batch and a generated one, from D's logits (batch means). */
export function discriminatorLoss(logitsReal: T.Tensor, logitsFake: T.Tensor): T.Tensor {
  return T.add(T.bceWithLogits(logitsReal, 1), T.bceWithLogits(logitsFake, 0));
}

/** eq. 2, non-saturating: G maximises log D(G(z)) rather than minimising log(1 − D(G(z))) (batch mean). */
export function generatorLoss(logitsFake: T.Tensor): T.Tensor {
  return T.bceWithLogits(logitsFake, 1);
}

/** eq. 3: the residual loss Σ|x − G(z)| of each image; x and G(z) are [B, H, W, 1], the result [B]. */
export function residualLoss(x: T.Tensor, generated: T.Tensor): T.Tensor {
  return T.l1Sum(x, generated, [1, 2, 3]);
}

/** eq. 4: the discrimination loss Σ|f(x) − f(G(z))| of each image, over D's features [B, h, w, C]; [B]. */
export function discriminationLoss(featuresX: T.Tensor, featuresGenerated: T.Tensor): T.Tensor {
  return T.l1Sum(featuresX, featuresGenerated, [1, 2, 3]);
}

/** GANR's discrimination loss (Yeh et al.): σ-cross-entropy of D(G(z)) against "real", per image; [B]. */
export function ganrDiscriminationLoss(logitsGenerated: T.Tensor): T.Tensor {
  return T.bceWithLogits(logitsGenerated, 1, "none");
}

/** eq. 5: the mapping loss (1 − λ)·R + λ·D of each image, from the per-image terms; [B]. */
export function mappingLoss(residual: T.Tensor, discrimination: T.Tensor, lambda: number): T.Tensor {
  return T.add(T.scale(residual, 1 - lambda), T.scale(discrimination, lambda));
}

/** eq. 6: the anomaly score A(x) = (1 − λ)·R(x) + λ·D(x) of each image, from R and D at z_Γ. */
export function anomalyScore(
  residual: Float32Array,
  discrimination: Float32Array,
  lambda: number,
): Float32Array {
  if (residual.length !== discrimination.length) {
    throw new Error(
      `anomalyScore: ${residual.length} residual scores but ${discrimination.length} discrimination scores`,
    );
  }
  return residual.map((r, i) => (1 - lambda) * r + lambda * discrimination[i]);
}
