// The latent mapping against PyTorch (fixtures/mapping.safetensors, scripts/make_fixtures.py): a small
// 32×32 DCGAN in eval mode, three images. f(x); R (eq. 3), D (eq. 4) or GANR's D̂, A (eq. 6) and ∂L/∂z
// (eq. 5) at z₁; and z after 1 and 5 Adam steps with clamping, for AnoGAN and GANR. Then the limits
// of eq. 5/6 in λ, and the clamp after every update.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { createDcgan, type Dcgan } from "../anogan/dcgan.ts";
import { mappingLoss } from "../anogan/losses.ts";
import {
  discriminatorScore,
  freeze,
  type MappingMethod,
  mappingTerms,
  mapToLatent,
} from "../anogan/mapping.ts";
import { assertClose, gpu } from "./helpers.ts";

await gpu();
const fixture = await T.readSafetensors(new URL("../fixtures/mapping.safetensors", import.meta.url).pathname);
const get = (name: string) => {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture tensor ${name} is missing`);
  return t.data as Float32Array<ArrayBuffer>;
};
const meta = fixture.metadata;
const [width, zDim, batch] = ["width", "z_dim", "batch"].map((k) => Number(meta[k]));
const lambda = Number(meta.lambda), lr = Number(meta.lr);
const betas = JSON.parse(meta.betas) as [number, number];
const TOL = 1e-4;

function fixtureGan(): Dcgan {
  const gan = createDcgan({ size: 32, width, zDim }, new T.Rng(0));
  const model = new Map(
    [...fixture.tensors].filter(([k]) => k.startsWith("model.")).map(([k, v]) => [k.slice(6), v]),
  );
  const part = (prefixes: string[]) =>
    new Map([...model].filter(([k]) => prefixes.some((p) => k.startsWith(p))));
  gan.G.loadStateDict(part(["project", "up"]), "G (mapping fixture)");
  gan.D.loadStateDict(part(["down", "classify"]), "D (mapping fixture)");
  freeze(gan);
  return gan;
}

const gan = fixtureGan();
const x = get("x"); // NCHW with one channel is NHWC
const z1 = get("z1");
const indices = Array.from({ length: batch }, (_, i) => i);
const mapping = (method: MappingMethod, steps: number, extra: { lambda?: number; lr?: number } = {}) =>
  mapToLatent(gan, x, indices, { method, steps, lambda, lr, betas, clip: true, initialZ: z1, ...extra });

Deno.test("f(x), D's last conv block in eval mode, and PD = 1 − D(x) match PyTorch", async () => {
  const fx = T.step(() => T.noGrad(() => gan.D.forward(T.Tensor.from(x, [batch, 32, 32, 1])).features));
  assertClose(await fx.read(), get("fx"), "f(x)", TOL);
  fx.dispose();
  assertClose(await discriminatorScore(gan, x, batch), get("pd"), "PD", TOL);
});

for (const method of ["anogan", "ganr"] as const) {
  const D = method === "anogan" ? "D (eq. 4)" : "GANR's D̂";

  Deno.test(`${method}: R (eq. 3), ${D} and A (eq. 6) at z₁ match PyTorch`, async () => {
    const r = await mapping(method, 0);
    assertClose(r.residual, get(`${method}.R`), `${method} R at z₁`, TOL);
    assertClose(r.discrimination, get(`${method}.D`), `${method} D at z₁`, TOL);
    assertClose(r.score, get(`${method}.A`), `${method} A at z₁`, TOL);
  });

  Deno.test(`${method}: ∂L/∂z at z₁ (eq. 5, summed over the batch) matches PyTorch`, async () => {
    const xt = T.Tensor.from(x, [batch, 32, 32, 1]).keep();
    const fx = method === "anogan" ? T.step(() => T.noGrad(() => gan.D.forward(xt).features)).keep() : null;
    const z = T.Tensor.from(z1, [batch, zDim]).keep();
    z.requiresGrad = true;
    T.step(() => {
      const { residual, discrimination } = mappingTerms(gan, method, xt, fx, z);
      T.backward(T.sum(mappingLoss(residual, discrimination, lambda)));
    });
    assert.ok(z.grad, "z has no gradient");
    assertClose(await z.grad.read(), get(`${method}.grad_z`), `${method} ∂L/∂z`, TOL);
    for (const t of [xt, fx, z]) t?.dispose();
  });

  Deno.test(`${method}: z after 1 and after 5 Adam steps with clamping matches PyTorch`, async () => {
    for (const steps of [1, 5]) {
      const r = await mapping(method, steps);
      assertClose(r.z, get(`${method}.z${steps}`), `${method} z after ${steps} steps`, TOL);
    }
  });
}

Deno.test("λ = 0 scores A = R, and λ = 1 scores A = D (eq. 6), for the same mapping", async () => {
  for (const steps of [0, 3]) {
    const r0 = await mapping("anogan", steps, { lambda: 0 });
    assert.deepEqual(r0.score, r0.residual, `λ = 0, Γ = ${steps}: A must equal R`);
    const r1 = await mapping("anogan", steps, { lambda: 1 });
    assert.deepEqual(r1.score, r1.discrimination, `λ = 1, Γ = ${steps}: A must equal D`);
    // The two limits descend different losses: their z differ after a step.
    if (steps > 0) assert.notDeepEqual(r0.z, r1.z, "λ = 0 and λ = 1 moved z the same way");
  }
});

Deno.test("z stays within [−1, 1] after every update, and the clamp is what keeps it there", async () => {
  // A step size that throws z out of the box on the first update unless it is clamped.
  const big = 0.7;
  for (let steps = 1; steps <= 6; steps++) {
    const r = await mapping("anogan", steps, { lr: big });
    const outside = r.z.findIndex((v) => !(v >= -1 && v <= 1));
    assert.equal(outside, -1, `after update ${steps}: z[${outside}] = ${r.z[outside]} is outside [−1, 1]`);
    assert.ok(r.z.some((v) => Math.abs(v) === 1), `after update ${steps}: no coordinate was clamped`);
  }
  const unclamped = await mapToLatent(gan, x, indices, {
    method: "anogan",
    steps: 1,
    lambda,
    lr: big,
    betas,
    clip: false,
    initialZ: z1,
  });
  assert.ok(unclamped.z.some((v) => Math.abs(v) > 1), "without the clamp z would leave [−1, 1]");
});
