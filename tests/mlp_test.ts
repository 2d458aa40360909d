// End-to-end runtime checks on a small MLP: training matches PyTorch, runs are bit-identical, memory
// is flat over long runs, and frozen parameters get no gradient kernels.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { assertClose, gpu } from "./helpers.ts";

const runtime = await gpu();
const fixture = await T.readSafetensors(new URL("../fixtures/mlp.safetensors", import.meta.url).pathname);
const fx = (name: string) => {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture tensor ${name} is missing`);
  return t;
};

class Mlp extends T.Module {
  readonly fc1: T.Linear;
  readonly fc2: T.Linear;
  constructor(gen: T.Rng) {
    super();
    this.fc1 = this.registerModule("fc1", new T.Linear(8, 32, gen));
    this.fc2 = this.registerModule("fc2", new T.Linear(32, 1, gen));
  }
  forward(x: T.Tensor): T.Tensor {
    return this.fc2.forward(T.tanh(this.fc1.forward(x)));
  }
}

function fromFixtureInit(): Mlp {
  const model = new Mlp(new T.Rng(0));
  const init = new Map(
    [...fixture.tensors].filter(([k]) => k.startsWith("init.")).map(([k, v]) => [k.slice(5), v]),
  );
  model.loadStateDict(init, "fixtures/mlp.safetensors");
  return model;
}

const x = T.Tensor.from(fx("x").data, fx("x").shape).keep();
const y = T.Tensor.from(fx("y").data, fx("y").shape).keep();

/** One training step: MSE loss, backward, optimiser update, all in one submit. */
function trainStep(model: Mlp, opt: T.Optimizer): T.Tensor {
  return T.step(() => {
    opt.zeroGrad();
    const d = T.sub(model.forward(x), y);
    const loss = T.mean(T.mul(d, d));
    T.backward(loss);
    opt.step();
    return loss;
  });
}

async function train(model: Mlp, opt: T.Optimizer, steps: number, every = 20): Promise<number[]> {
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    const loss = trainStep(model, opt);
    if (k % every === 0) losses.push(await loss.item());
    loss.dispose();
  }
  return losses;
}

async function assertWeights(model: Mlp, prefix: string, tol: number) {
  for (const [name, t] of model.stateDict()) {
    assertClose(await t.read(), fx(`${prefix}.final.${name}`).data, `${prefix} final ${name}`, tol);
  }
}

Deno.test("Adam: 200 MLP steps match PyTorch's loss at every 20th step (1e-4) and its final weights", async () => {
  const model = fromFixtureInit();
  const losses = await train(model, new T.Adam(model.parameters(), { lr: 1e-2 }), 200);
  const ref = fx("adam.losses").data;
  assert.equal(losses.length, ref.length);
  losses.forEach((l, i) => {
    const rel = Math.abs(l - ref[i]) / Math.abs(ref[i]);
    assert.ok(
      rel < 1e-4,
      `step ${i * 20}: loss ${l} vs PyTorch ${ref[i]} (relative ${rel.toExponential(2)})`,
    );
  });
  assert.ok(losses.at(-1)! < losses[0] / 5, "the loss falls");
  await assertWeights(model, "adam", 1e-4);
  model.dispose();
});

Deno.test("SGD with momentum and weight decay: 100 MLP steps match PyTorch", async () => {
  const model = fromFixtureInit();
  const losses = await train(
    model,
    new T.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
    100,
  );
  assertClose(losses, fx("sgd.losses").data, "SGD losses", 1e-4);
  await assertWeights(model, "sgd", 1e-4);
  model.dispose();
});

Deno.test("two runs from one seed give bit-identical weights", async () => {
  const run = async () => {
    const model = new Mlp(new T.Rng(2024));
    await train(model, new T.Adam(model.parameters(), { lr: 1e-2 }), 50);
    const state = await model.hostStateDict();
    model.dispose();
    return state;
  };
  const [a, b] = [await run(), await run()];
  for (const [name, t] of a) {
    assert.deepEqual(
      new Uint32Array(t.data.buffer),
      new Uint32Array(b.get(name)!.data.buffer),
      `${name} differs`,
    );
  }
});

Deno.test("one step is one submit, and 1 000 steps keep the pool's allocated bytes flat and make no bind group after step 10", async () => {
  const model = fromFixtureInit();
  const opt = new T.Adam(model.parameters(), { lr: 1e-3 });
  runtime.flush(); // the optimiser's state initialisation
  let atTen = 0, groupsAtTen = 0;
  const groupsAtStart = runtime.bindGroupsMade;
  for (let k = 0; k < 1000; k++) {
    const before = runtime.submits;
    trainStep(model, opt).dispose();
    assert.equal(runtime.submits - before, 1, `step ${k} submitted ${runtime.submits - before} times`);
    if (k === 10) [atTen, groupsAtTen] = [runtime.pool.stats().allocatedBytes, runtime.bindGroupsMade];
  }
  await runtime.sync();
  assert.ok(atTen > 0);
  assert.equal(runtime.pool.stats().allocatedBytes, atTen, "allocated bytes grew after step 10");
  // The same buffers each step, so the same bind groups: made in the first steps, then found.
  assert.ok(groupsAtTen > groupsAtStart);
  assert.equal(runtime.bindGroupsMade, groupsAtTen, "bind groups were made after step 10");
  model.dispose();
});

Deno.test("with parameters frozen, backward dispatches no weight-gradient kernel", () => {
  const model = fromFixtureInit().requiresGrad(false);
  const input = T.Tensor.from(fx("x").data, fx("x").shape);
  input.requiresGrad = true; // like z in latent mapping: the gradient flows to the input only
  T.resetDispatchCounts();
  T.step(() => T.backward(T.sum(model.forward(input))));
  const counts = Object.fromEntries(T.dispatchCounts);
  assert.equal(counts["linear.gradWeight"] ?? 0, 0, `weight gradients dispatched: ${JSON.stringify(counts)}`);
  assert.equal(counts["linear.gradBias"] ?? 0, 0, `bias gradients dispatched: ${JSON.stringify(counts)}`);
  assert.equal(counts["linear.gradInput"], 2);
  assert.ok(input.grad, "the input received a gradient");
  for (const p of model.parameters()) assert.equal(p.grad, null);

  model.requiresGrad(true);
  T.resetDispatchCounts();
  T.step(() => T.backward(T.sum(model.forward(input))));
  assert.equal(T.dispatchCounts.get("linear.gradWeight"), 2, "unfrozen: both weight gradients");
  input.dispose();
  model.dispose();
});
