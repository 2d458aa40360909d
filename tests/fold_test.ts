// Eval-mode batch norm folded into the layer before it (core/fold.ts, FoldedDcgan): the folded G and D
// are the same functions as the unfolded ones in eval mode — outputs, D's features and the gradients to
// their input — on random weights with non-trivial γ, β and running statistics; scaling the wrong
// weight axis is caught; the modules and their state dicts are left as they were; and a mapping runs
// no batch-norm kernel.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { batchNormAffine, type FoldableLayer, foldBatchNorm, FoldedLayer } from "../core/fold.ts";
import { createDcgan, type Dcgan, FoldedDcgan, type FrozenDcgan } from "../anogan/dcgan.ts";
import { freeze, mapToLatent } from "../anogan/mapping.ts";
import { assertClose, gpu, relErr } from "./helpers.ts";

await gpu();

/** γ, β, running mean and variance far from PyTorch's defaults (1, 0, 0, 1), γ of both signs. */
function randomizeNorm(norm: T.BatchNorm2d, gen: T.Rng): void {
  const c = norm.numFeatures;
  const sign = gen.uniform(c, -1, 1).map((v) => (v < -0.7 ? -1 : 1));
  norm.weight.write(gen.uniform(c, 0.5, 2).map((v, i) => v * sign[i]));
  norm.bias.write(gen.uniform(c, -0.5, 0.5));
  norm.runningMean.write(gen.uniform(c, -0.3, 0.3));
  norm.runningVar.write(gen.uniform(c, 0.05, 3));
}

/**
 * A DCGAN with PyTorch's default initialisation (weights ~1/√fan_in, which keeps activations of order 1
 * through the stack, unlike DCGAN's N(0, 0.02)) and random batch-norm state, frozen.
 */
function randomGan(size: 32 | 64, seed: number): Dcgan {
  const gen = new T.Rng(seed);
  const gan = createDcgan({ size, width: 4, zDim: 12 }, gen);
  for (const m of [...gan.G.modules(), ...gan.D.modules()]) {
    if (m instanceof T.BatchNorm2d) randomizeNorm(m, gen);
  }
  freeze(gan);
  return gan;
}

/** G(z), D's logits and features of x, ∂(Σ u·G(z))/∂z and ∂(Σ v·f(x) + Σ w·logits)/∂x. */
async function passes(
  gan: FrozenDcgan,
  z0: Float32Array<ArrayBuffer>,
  x0: Float32Array<ArrayBuffer>,
  batch: number,
) {
  const { size, zDim } = gan.G.cfg;
  const z = T.Tensor.from(z0, [batch, zDim]).keep();
  const x = T.Tensor.from(x0, [batch, size, size, 1]).keep();
  z.requiresGrad = x.requiresGrad = true;
  const weights = new T.Rng(77);
  const out = T.step(() => {
    const g = gan.G.forward(z);
    T.backward(T.sum(T.mul(g, T.Tensor.from(weights.uniform(g.size, -1, 1), g.shape))));
    const { logits, features } = gan.D.forward(x);
    const v = T.Tensor.from(weights.uniform(features.size, -1, 1), features.shape);
    const w = T.Tensor.from(weights.uniform(logits.size, -1, 1), logits.shape);
    T.backward(T.add(T.sum(T.mul(features, v)), T.sum(T.mul(logits, w))));
    return { g, logits, features };
  });
  const read = {
    g: await out.g.read(),
    logits: await out.logits.read(),
    features: await out.features.read(),
    gradZ: await z.grad!.read(),
    gradX: await x.grad!.read(),
  };
  for (const t of [z, x, ...Object.values(out)]) t.dispose();
  return read;
}

for (const size of [32, 64] as const) {
  Deno.test(`${size}×${size}: folded G and D give G(z), D's logits and features, and ∂/∂z, ∂/∂x of the unfolded ones in eval mode`, async () => {
    const gan = randomGan(size, size);
    const batch = 3;
    const z0 = new T.Rng(5).uniform(batch * gan.G.cfg.zDim, -1, 1);
    const x0 = new T.Rng(6).uniform(batch * size * size, -1, 1);
    const unfolded = await passes(gan, z0, x0, batch);
    const folded = new FoldedDcgan(gan);
    const got = await passes(folded, z0, x0, batch);
    folded.dispose();
    for (const k of ["g", "logits", "features", "gradZ", "gradX"] as const) {
      assertClose(got[k], unfolded[k], `${size}×${size} ${k}`);
    }
    // The random state reaches the output: with batch norm at its defaults G(z) would differ.
    assert.ok(unfolded.features.some((v) => v < 0), "f(x) has LeakyReLU's negative side");
    assert.ok(unfolded.gradZ.some((v) => v !== 0) && unfolded.gradX.some((v) => v !== 0));
  });
}

// One layer of each kind with as many input as output channels, so that a fold along the wrong axis is
// still a valid broadcast: only the values tell the two apart.
const SQUARE = 8;
const layerCases: { name: string; make: (gen: T.Rng) => FoldableLayer; input: [number[], number[]] }[] = [
  {
    name: "conv2d [kh,kw,Cin,Cout], scaled along axis 3",
    make: (gen) => new T.Conv2d(SQUARE, SQUARE, 5, gen, { stride: 2, padding: 2, bias: true }),
    input: [[2, 8, 8, SQUARE], [2, 4, 4, SQUARE]],
  },
  {
    name: "convTranspose2d [kh,kw,Cout,Cin], scaled along axis 2",
    make: (gen) =>
      new T.ConvTranspose2d(SQUARE, SQUARE, 5, gen, { stride: 2, padding: 2, outputPadding: 1, bias: false }),
    input: [[2, 4, 4, SQUARE], [2, 8, 8, SQUARE]],
  },
  {
    name: "linear [out,in] seen as […, C] channels last, row o scaled by channel o mod C",
    make: (gen) => new T.Linear(16, 4 * SQUARE, gen),
    input: [[3, 16], [3, 4, SQUARE]],
  },
];

/**
 * The fold with the scale applied along `layer`'s other channel axis (the input channels of a
 * convolution, channel ⌊o / groups⌋ instead of o mod C for a linear layer): the mistake the test must
 * catch. The bias is folded correctly, so that only the weight's axis is wrong.
 */
async function wrongAxisFold(layer: FoldableLayer, norm: T.BatchNorm2d, right: FoldedLayer) {
  const { scale } = batchNormAffine(norm);
  const s = await scale.read();
  scale.dispose();
  const w = await layer.weight.read();
  const [c, d] = layer.weight.shape.slice(-2); // a conv's two channel axes; a linear layer's [out, in]
  const wrong = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const [i2, i3] = [Math.floor(i / d) % c, i % d];
    const channel = layer instanceof T.Conv2d
      ? i2 // Cin instead of Cout
      : layer instanceof T.ConvTranspose2d
      ? i3 // Cin instead of Cout
      : Math.floor(i2 / (c / SQUARE)); // rows in blocks of out / C instead of interleaved
    wrong[i] = w[i] * s[channel];
  }
  return new FoldedLayer(
    right.kind,
    T.Tensor.from(wrong, layer.weight.shape).keep(),
    right.bias,
    right.options,
  );
}

for (const c of layerCases) {
  Deno.test(`fold of ${c.name}: equals layer → eval BN, and scaling the wrong axis is caught`, async () => {
    const gen = new T.Rng(31);
    const layer = c.make(gen);
    const norm = new T.BatchNorm2d(SQUARE).eval();
    randomizeNorm(norm, gen);
    const [inShape, outShape] = c.input;
    const x0 = gen.uniform(inShape.reduce((p, q) => p * q, 1), -1, 1);
    const forward = async (f: (x: T.Tensor) => T.Tensor) => {
      const y = T.step(() => T.noGrad(() => f(T.Tensor.from(x0, inShape))));
      const out = await y.read();
      y.dispose();
      return out;
    };
    const expected = await forward((x) => {
      const u = layer.forward(x);
      return T.reshape(norm.forward(T.reshape(u, outShape)), u.shape);
    });
    const folded = foldBatchNorm(layer, norm);
    assertClose(await forward((x) => folded.forward(x)), expected, `folded ${c.name}`);
    const wrong = await wrongAxisFold(layer, norm, folded);
    const e = relErr(await forward((x) => wrong.forward(x)), expected);
    assert.ok(
      e > 1e-2,
      `a fold along the wrong axis agrees to ${e.toExponential(2)}: the check has no teeth`,
    );
    wrong.weight.dispose();
    folded.dispose();
    for (const m of [layer, norm]) m.dispose();
  });
}

Deno.test("folding leaves G and D and their state dicts as they were, and is a snapshot of them", async () => {
  const gan = randomGan(32, 3);
  const before = [await gan.G.hostStateDict(), await gan.D.hostStateDict()];
  const z = new T.Rng(4).uniform(2 * gan.G.cfg.zDim, -1, 1);
  const generate = async (g: FrozenDcgan) => {
    const t = T.step(() => T.noGrad(() => g.G.forward(T.Tensor.from(z, [2, g.G.cfg.zDim]))));
    const out = await t.read();
    t.dispose();
    return out;
  };
  const folded = new FoldedDcgan(gan);
  const atFold = await generate(folded);
  assert.deepEqual([await gan.G.hostStateDict(), await gan.D.hostStateDict()], before);
  assert.ok(gan.G.training === false && gan.G.parameters().every((p) => !p.requiresGrad));
  // A later change to G does not reach the copy made before it.
  gan.G.projectNorm.runningMean.write(new Float32Array(gan.G.projectNorm.numFeatures).fill(5));
  assert.deepEqual(await generate(folded), atFold);
  assert.ok(relErr(await generate(gan), atFold) > 1e-2, "the changed running mean must change G");
  folded.dispose();
  // Batch norm in training mode has no fixed affine map to fold.
  gan.G.train();
  assert.throws(() => new FoldedDcgan(gan), /training mode; folding uses the running statistics/);
});

Deno.test("a mapping dispatches no batch-norm kernel, and no weight gradient", async () => {
  const gan = randomGan(32, 8);
  T.resetDispatchCounts();
  await mapToLatent(gan, new T.Rng(2).uniform(2 * 32 * 32, -1, 1), [0, 1], { steps: 2 });
  const kernels = [...T.dispatchCounts.keys()];
  assert.deepEqual(kernels.filter((k) => /batchNorm|gradWeight|gradBias/.test(k)), [], kernels.join(", "));
  assert.ok(kernels.some((k) => k === "convTranspose2d.gradInput"), kernels.join(", "));
});
