// The adversarial convolutional autoencoder (aCAE), the paper's third baseline (§3, Table 1): an
// encoder of the discriminator's depth maps x to z, the DCGAN generator decodes z back to an image,
// and a DCGAN discriminator judges the reconstructions. Trained on normal images only; scored with
// A(x) = (1 − λ)·R + λ·D (anomalyScore, eq. 6) at z = E(x), with no iterative mapping.
//
// Its encoder is the izi_f encoder's network (anogan/encoder.ts), here trained with G as one autoencoder.

import * as T from "../core/mod.ts";
import type { Dcgan, DcganConfig } from "./dcgan.ts";
import type { Encoder } from "./encoder.ts";
import { generatorLoss } from "./losses.ts";
import { discriminatorStep } from "./train.ts";

/**
 * Weight of the reconstruction term. The L1 reconstruction error is a mean per pixel (~0.1–0.5) and
 * the adversarial term a cross-entropy (~0.7); 100 makes reconstruction lead, as in pix2pix's
 * L1 + adversarial recipe (Isola et al. 2017), while D still sharpens the reconstructions.
 */
export const ACAE_RECON_WEIGHT = 100;

/**
 * One aCAE step in one submit: D learns real x against reconstructions G(E(x)) (discriminatorStep:
 * eq. 1 with the reconstruction in place of G(z)); then E and G descend
 *   w·mean|x − G(E(x))| − log D(G(E(x)))
 * through the updated D, whose weights get no gradient. L1, not L2: the score's residual R (eq. 3) is
 * an L1 norm, so the autoencoder minimises what it is scored by, and L1 blurs less than L2.
 * `s` and `cfg` are an aCAE run's TrainState and TrainConfig (train.ts, which makes the state); the
 * step takes only the fields it reads.
 */
export function acaeStep(
  s: { gan: Dcgan; encoder?: Encoder; optG: T.Adam; optD: T.Adam },
  cfg: { batch: number; model: DcganConfig; reconWeight?: number },
  realBatch: Float32Array,
) {
  const { G, D } = s.gan;
  const E = s.encoder!;
  const { size } = cfg.model;
  const weight = cfg.reconWeight ?? ACAE_RECON_WEIGHT;
  return T.step(() => {
    const x = T.Tensor.from(realBatch, [cfg.batch, size, size, 1]);
    const recon = G.forward(E.forward(x));
    const { lossD, dReal, dFake } = discriminatorStep(s, x, recon);

    D.requiresGrad(false);
    s.optG.zeroGrad();
    const lossRecon = T.scale(T.l1Sum(x, recon), 1 / (cfg.batch * size * size));
    const lossG = T.add(T.scale(lossRecon, weight), generatorLoss(D.forward(recon).logits));
    T.backward(lossG);
    s.optG.step();
    D.requiresGrad(true);
    return { lossD, lossG, lossRecon, dReal, dFake };
  });
}
