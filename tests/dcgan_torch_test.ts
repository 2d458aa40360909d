// One adversarial step of a small DCGAN against PyTorch: the same weights, images and z give the
// same losses, every parameter gradient and the same batch-norm running statistics.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { createDcgan } from "../anogan/dcgan.ts";
import { assertClose, gpu } from "./helpers.ts";

await gpu();
const fx = await T.readSafetensors(new URL("../fixtures/dcgan_step.safetensors", import.meta.url).pathname);
const get = (name: string) => {
  const t = fx.tensors.get(name);
  assert.ok(t, `fixture tensor ${name} is missing`);
  return t;
};
const section = (prefix: string) =>
  new Map([...fx.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));

Deno.test("a DCGAN step matches PyTorch: losses, all gradients, running statistics (PyTorch layouts)", async () => {
  const [width, zDim, batch] = ["width", "z_dim", "batch"].map((k) => Number(fx.metadata[k]));
  const gan = createDcgan({ size: 32, width, zDim }, new T.Rng(0));
  const init = section("init.");
  gan.G.loadStateDict(
    new Map([...init].filter(([k]) => k.startsWith("project") || k.startsWith("up"))),
    "G init",
  );
  gan.D.loadStateDict(
    new Map([...init].filter(([k]) => k.startsWith("down") || k.startsWith("classify"))),
    "D init",
  );
  const x = T.Tensor.from(get("x").data, [batch, 32, 32, 1]); // NCHW with one channel is NHWC
  const z = T.Tensor.from(get("z").data, [batch, zDim]);

  const fake = gan.G.forward(z);
  assertClose(await fake.read(), get("fake").data, "G(z)");
  const real = gan.D.forward(x);
  const lossD = T.add(
    T.bceWithLogits(real.logits, 1),
    T.bceWithLogits(gan.D.forward(T.detach(fake)).logits, 0),
  );
  T.backward(lossD);
  gan.D.requiresGrad(false);
  const lossG = T.bceWithLogits(gan.D.forward(fake).logits, 1);
  T.backward(lossG);
  assertClose([await lossD.item()], get("loss_d").data, "loss D");
  assertClose([await lossG.item()], get("loss_g").data, "loss G");

  // Gradients in PyTorch's layouts: write them into a scratch copy of each model and read its state.
  for (const model of [gan.G, gan.D]) {
    const scratch = model === gan.G
      ? createDcgan({ size: 32, width, zDim }, new T.Rng(1)).G
      : createDcgan({ size: 32, width, zDim }, new T.Rng(1)).D;
    const params = new Map(scratch.namedParameters());
    for (const [name, p] of model.namedParameters()) {
      assert.ok(p.grad, `${name} has no gradient`);
      T.assign(params.get(name)!, p.grad);
    }
    const grads = await scratch.hostStateDict();
    for (const [name] of model.namedParameters()) {
      // Adam's first steps follow the gradient's sign, so small gradients must be right too: 1e-4.
      assertClose(grads.get(name)!.data, get(`grad.${name}`).data, `gradient of ${name}`, 1e-4);
    }
  }
  for (const [name, ref] of section("after.")) {
    const model = name.startsWith("down") ? gan.D : gan.G;
    const state = await model.hostStateDict();
    assertClose(state.get(name)!.data, ref.data, `running statistic ${name}`);
  }
});
