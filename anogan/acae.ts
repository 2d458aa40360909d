// The adversarial convolutional autoencoder (aCAE), the paper's third baseline (§3, Table 1): an
// encoder of the discriminator's depth maps x to z, the DCGAN generator decodes z back to an image,
// and a DCGAN discriminator judges the reconstructions. Trained on normal images only; scored with
// A(x) = (1 − λ)·R + λ·D (anomalyScore, eq. 6) at z = E(x), with no iterative mapping.
//
// The same Encoder serves the izi_f encoder of anogan/encoder.ts (trained after the GAN, G and D frozen).

import * as T from "../core/mod.ts";
import { type Dcgan, type DcganConfig, nchwIndex, permutedLayout } from "./dcgan.ts";
import { discriminatorLoss, generatorLoss } from "./losses.ts";

const KERNEL = 5;
const LEAKY_SLOPE = 0.2;

/**
 * E: x [N, size, size, 1] → z [N, zDim] in (−1, 1): D's conv stack (5×5 stride-2 convs 1 → w → 2w …,
 * batch norm on all but the first, LeakyReLU 0.2), then linear → zDim and tanh, which keeps z in the
 * prior's support U(−1, 1)^zDim where G was trained.
 */
export class Encoder extends T.Module {
  readonly downs: T.Conv2d[] = [];
  readonly norms: (T.BatchNorm2d | null)[] = [];
  readonly project: T.Linear;

  constructor(readonly cfg: DcganConfig, gen: T.Rng) {
    super();
    const layers = cfg.size === 64 ? 4 : cfg.size === 32 ? 3 : 0;
    if (layers === 0) throw new Error(`encoder image size must be 32 or 64, got ${cfg.size}`);
    let inC = 1;
    for (let i = 0; i < layers; i++) {
      const out = cfg.width * 2 ** i;
      const down = new T.Conv2d(inC, out, KERNEL, gen, { stride: 2, padding: 2, bias: i === 0 });
      this.downs.push(this.registerModule(`down${i}`, down));
      this.norms.push(i === 0 ? null : this.registerModule(`down${i}_bn`, new T.BatchNorm2d(out)));
      inC = out;
    }
    this.project = this.registerModule("project", new T.Linear(16 * inC, cfg.zDim, gen));
    // PyTorch flattens [C, 4, 4]; we flatten NHWC [4, 4, C]: permute the weight's columns on save/load.
    T.setStateLayout(this.project.weight, permutedLayout([cfg.zDim, 16 * inC], nchwIndex(inC), 1));
  }

  forward(x: T.Tensor): T.Tensor {
    let h = x;
    this.downs.forEach((down, i) => {
      h = down.forward(h);
      const bn = this.norms[i];
      if (bn) h = bn.forward(h);
      h = T.leakyRelu(h, LEAKY_SLOPE);
    });
    return T.tanh(this.project.forward(T.reshape(h, [x.shape[0], -1])));
  }
}

/** The DCGAN initialisation (weights N(0, 0.02), batch-norm γ N(1, 0.02)) for an encoder. */
export function encoderInit(e: Encoder, gen: T.Rng): void {
  for (const m of e.modules()) {
    if (m instanceof T.BatchNorm2d) {
      m.weight.write(gen.normal(m.weight.size, 1, 0.02));
      m.bias.write(new Float32Array(m.bias.size));
    } else if (m instanceof T.Linear || m instanceof T.Conv2d) {
      m.weight.write(gen.normal(m.weight.size, 0, 0.02));
      if (m.bias) m.bias.write(new Float32Array(m.bias.size));
    }
  }
}

/**
 * Weight of the reconstruction term. The L1 reconstruction error is a mean per pixel (~0.1–0.5) and
 * the adversarial term a cross-entropy (~0.7); 100 makes reconstruction lead, as in pix2pix's
 * L1 + adversarial recipe (Isola et al. 2017), while D still sharpens the reconstructions.
 */
export const ACAE_RECON_WEIGHT = 100;

/**
 * One aCAE step in one submit: D learns real x against reconstructions G(E(x)) (eq. 1 with the
 * reconstruction in place of G(z)); then E and G descend
 *   w·mean|x − G(E(x))| − log D(G(E(x)))
 * through the updated D, whose weights get no gradient. L1, not L2: the score's residual R (eq. 3) is
 * an L1 norm, so the autoencoder minimises what it is scored by, and L1 blurs less than L2.
 * `s` and `cfg` are an aCAE run's TrainState and TrainConfig (train.ts, which makes the state and runs
 * the loop); the step takes only the fields it reads, so that this file does not import training.
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

    s.optD.zeroGrad();
    const logitsReal = D.forward(x).logits;
    const logitsFake = D.forward(T.detach(recon)).logits;
    const lossD = discriminatorLoss(logitsReal, logitsFake);
    T.backward(lossD);
    s.optD.step();

    D.requiresGrad(false);
    s.optG.zeroGrad();
    const lossRecon = T.scale(T.l1Sum(x, recon), 1 / (cfg.batch * size * size));
    const lossG = T.add(T.scale(lossRecon, weight), generatorLoss(D.forward(recon).logits));
    T.backward(lossG);
    s.optG.step();
    D.requiresGrad(true);
    return {
      lossD,
      lossG,
      lossRecon,
      dReal: T.noGrad(() => T.mean(T.sigmoid(logitsReal))),
      dFake: T.noGrad(() => T.mean(T.sigmoid(logitsFake))),
    };
  });
}

/** z = E(x) for a batch of images (eval mode, no gradients), [B, zDim]; one image's z needs no other. */
export async function encodeImages(
  encoder: Encoder,
  images: Float32Array<ArrayBuffer>,
  count: number,
): Promise<Float32Array<ArrayBuffer>> {
  const { size } = encoder.cfg;
  if (images.length !== count * size * size) {
    throw new Error(
      `encoder: ${images.length} values for ${count} images; it expects ${size}×${size} images`,
    );
  }
  encoder.eval().requiresGrad(false);
  const z = T.step(() => T.noGrad(() => encoder.forward(T.Tensor.from(images, [count, size, size, 1]))));
  const out = await z.read();
  z.dispose();
  return out as Float32Array<ArrayBuffer>;
}
