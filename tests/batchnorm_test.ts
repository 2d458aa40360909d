// batchNorm2d: training and eval forward and gradients (x, γ, β) against the float64 oracle on random
// shapes and on shapes picked for each way the passes split the rows (vec4 or scalar channel groups,
// a short last chunk or row block, more channel groups than a workgroup), running statistics after 3
// training steps and eval output against PyTorch, determinism, argument errors, and no reduction for
// frozen parameters in eval mode.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { assertClose, gpu, TestRng } from "./helpers.ts";
import * as O from "./oracle_conv.ts";
import { batchNormLayout, BLOCK_ROWS } from "../core/ops/batchnorm.ts";

await gpu();

const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

interface BnRun {
  out: Float32Array;
  grads: Float32Array[];
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** One batchNorm2d call on [N,H,W,C] data, then backward of Σ(out ⊙ gy). */
async function runBatchNorm(
  shape: number[],
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  gy: ArrayLike<number>,
  state: { training: boolean; runningMean: T.Tensor; runningVar: T.Tensor },
): Promise<BnRun> {
  const C = shape.at(-1)!;
  const xt = T.Tensor.from(f32(x), shape),
    g = T.Tensor.from(f32(gamma), [C]),
    b = T.Tensor.from(f32(beta), [C]);
  for (const t of [xt, g, b]) t.requiresGrad = true;
  const y = T.batchNorm2d(xt, g, b, state);
  const out = await y.read();
  T.backward(y, T.Tensor.from(f32(gy), shape));
  const grads = await Promise.all([xt, g, b].map((t) => t.grad!.read()));
  for (const t of [xt, g, b, y]) t.dispose();
  return {
    out,
    grads,
    runningMean: await state.runningMean.read(),
    runningVar: await state.runningVar.read(),
  };
}

Deno.test("batchNorm2d matches the float64 oracle in training and eval mode on 30 random shapes", async () => {
  const r = new TestRng(11);
  for (let k = 0; k < 30; k++) {
    const shape = [r.int(1, 5), r.int(1, 9), r.int(1, 9), r.int(1, 13)];
    const C = shape[3], n = shape.reduce((a, b) => a * b, 1);
    if (n / C < 2) continue;
    const training = k % 3 !== 2;
    const x = r.normal(n).map((v) => 3 * v + 1.5);
    const gamma = r.normal(C).map((v) => 1 + 0.3 * v), beta = r.normal(C);
    const rm = r.normal(C), rv = r.uniform(C, 0.5, 2);
    const gy = r.normal(n);
    const ref = O.batchNorm(x, C, gamma, beta, { training, runningMean: rm, runningVar: rv });
    const runningMean = T.Tensor.from(f32(rm), [C]), runningVar = T.Tensor.from(f32(rv), [C]);
    const got = await runBatchNorm(shape, x, gamma, beta, gy, { training, runningMean, runningVar });
    const what = `batchNorm2d ${training ? "training" : "eval"} x [${shape}]`;
    assertClose(got.out, ref.out, `${what}: forward`);
    const [gx, gg, gb] = ref.vjp(gy);
    assertClose(got.grads[0], gx, `${what}: gradient of x`);
    assertClose(got.grads[1], gg, `${what}: gradient of gamma`);
    assertClose(got.grads[2], gb, `${what}: gradient of beta`);
    assertClose(got.runningMean, ref.runningMean, `${what}: running mean`);
    assertClose(got.runningVar, ref.runningVar, `${what}: running variance`);
    runningMean.dispose();
    runningVar.dispose();
  }
});

Deno.test("batchNorm2d over many rows (chunked reductions) matches the oracle and is bit-identical twice", async () => {
  const r = new TestRng(12);
  const shape = [4, 32, 33, 6], C = 6, n = 4 * 32 * 33 * 6;
  const x = r.normal(n).map((v) => 2 * v - 3), gamma = r.normal(C), beta = r.normal(C), gy = r.normal(n);
  const ref = O.batchNorm(x, C, gamma, beta, {
    training: true,
    runningMean: new Float64Array(C),
    runningVar: new Float64Array(C).fill(1),
  });
  const runs: BnRun[] = [];
  for (let k = 0; k < 2; k++) {
    const runningMean = T.zeros([C]), runningVar = T.ones([C]);
    runs.push(await runBatchNorm(shape, x, gamma, beta, gy, { training: true, runningMean, runningVar }));
  }
  assertClose(runs[0].out, ref.out, "forward");
  ref.vjp(gy).forEach((g, i) => assertClose(runs[0].grads[i], g, `gradient ${i}`));
  assertClose(runs[0].runningVar, ref.runningVar, "running variance");
  assert.deepEqual(runs[1].out, runs[0].out);
  runs[0].grads.forEach((g, i) => assert.deepEqual(runs[1].grads[i], g));
});

const layoutCases: {
  what: string;
  shape: number[];
  training: boolean;
  offset?: number;
  layout: (l: ReturnType<typeof batchNormLayout>) => boolean;
}[] = [
  {
    what: "vec4 channel groups, several chunks, a short last chunk and a one-row last row block",
    shape: [5, 7, 11, 8],
    training: true,
    layout: (l) => l.lanes === 4 && l.chunks > 1 && l.rows % l.chunkRows !== 0 && l.rows % BLOCK_ROWS === 1,
  },
  {
    what: "vec4 channel groups in eval mode, a short last row block",
    shape: [5, 7, 11, 8],
    training: false,
    layout: (l) => l.lanes === 4 && l.rows % BLOCK_ROWS !== 0,
  },
  {
    what: "vec4, more channel groups than a workgroup, one chunk",
    shape: [2, 5, 5, 516],
    training: true,
    layout: (l) => l.lanes === 4 && l.groups > 64 && l.chunks === 1,
  },
  {
    what: "vec4, many rows in chunks, the mean far from zero against the spread",
    shape: [7, 17, 19, 12],
    training: true,
    offset: 40,
    layout: (l) => l.lanes === 4 && l.chunks > 8 && l.rows % l.chunkRows !== 0,
  },
  {
    what: "scalar channels (C = 6), many chunks, a short last chunk",
    shape: [4, 31, 35, 6],
    training: true,
    layout: (l) => l.lanes === 1 && l.chunks > 8 && l.rows % l.chunkRows !== 0,
  },
  {
    what: "vec4, three rows: one chunk, one row block",
    shape: [3, 1, 1, 4],
    training: true,
    layout: (l) => l.lanes === 4 && l.chunks === 1 && l.rows === 3,
  },
];

for (const c of layoutCases) {
  Deno.test(`batchNorm2d matches the oracle and repeats bit for bit: ${c.what}`, async () => {
    const C = c.shape[3], n = c.shape.reduce((a, b) => a * b, 1);
    const layout = batchNormLayout(n / C, C);
    assert.ok(c.layout(layout), `[${c.shape}] no longer splits as the case says: ${JSON.stringify(layout)}`);
    const r = new TestRng(13);
    // x rounded to f32 first, so that the oracle sees the values the GPU does.
    const x = Float64Array.from(f32(r.normal(n).map((v) => 2 * v + (c.offset ?? -1)))), gy = r.normal(n);
    const gamma = r.normal(C).map((v) => 1 + 0.3 * v), beta = r.normal(C);
    const rm = r.normal(C), rv = r.uniform(C, 0.5, 2);
    const ref = O.batchNorm(x, C, gamma, beta, { training: c.training, runningMean: rm, runningVar: rv });
    const runs: BnRun[] = [];
    for (let k = 0; k < 2; k++) {
      const runningMean = T.Tensor.from(f32(rm), [C]), runningVar = T.Tensor.from(f32(rv), [C]);
      runs.push(
        await runBatchNorm(c.shape, x, gamma, beta, gy, { training: c.training, runningMean, runningVar }),
      );
      runningMean.dispose();
      runningVar.dispose();
    }
    const what = `batchNorm2d ${c.training ? "training" : "eval"} x [${c.shape}]`;
    assertClose(runs[0].out, ref.out, `${what}: forward`);
    ref.vjp(gy).forEach((g, i) =>
      assertClose(runs[0].grads[i], g, `${what}: gradient ${["x", "γ", "β"][i]}`)
    );
    assertClose(runs[0].runningMean, ref.runningMean, `${what}: running mean`);
    assertClose(runs[0].runningVar, ref.runningVar, `${what}: running variance`);
    assert.deepEqual(runs[1].out, runs[0].out, `${what}: forward differs between two runs`);
    runs[0].grads.forEach((g, i) => assert.deepEqual(runs[1].grads[i], g, `${what}: gradient ${i} differs`));
    assert.deepEqual(runs[1].runningVar, runs[0].runningVar, `${what}: running variance differs`);
  });
}

// ---- PyTorch fixtures -----------------------------------------------------------------------------

const fixture = await T.readSafetensors(new URL("../fixtures/conv.safetensors", import.meta.url).pathname);
const get = (name: string) => {
  const t = fixture.tensors.get(name);
  assert.ok(t, `fixture tensor ${name} is missing`);
  return t;
};
function nhwc(t: T.HostTensor): { data: Float32Array<ArrayBuffer>; shape: number[] } {
  const [N, C, H, W] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < H * W; i++) out[(n * H * W + i) * C + c] = t.data[(n * C + c) * H * W + i];
    }
  }
  return { data: out, shape: [N, H, W, C] };
}

Deno.test("BatchNorm2d matches PyTorch: 3 training steps (outputs, gradients, running stats), then eval", async () => {
  const bn = new T.BatchNorm2d(6);
  bn.loadStateDict(
    new Map([
      ["weight", get("bn.weight")],
      ["bias", get("bn.bias")],
      ["running_mean", { shape: [6], data: new Float32Array(6) }],
      ["running_var", { shape: [6], data: new Float32Array(6).fill(1) }],
      ["num_batches_tracked", { shape: [], data: new Float32Array(1) }],
    ]),
  );
  const stepCheck = async (prefix: string) => {
    const xs = nhwc(get(`${prefix}.x`));
    const x = T.Tensor.from(xs.data, xs.shape);
    x.requiresGrad = true;
    bn.weight.grad?.dispose();
    bn.bias.grad?.dispose();
    bn.weight.grad = bn.bias.grad = null;
    const y = bn.forward(x);
    assertClose(await y.read(), nhwc(get(`${prefix}.out`)).data, `${prefix}: forward`);
    T.backward(y, T.Tensor.from(nhwc(get(`${prefix}.gy`)).data, xs.shape));
    assertClose(await x.grad!.read(), nhwc(get(`${prefix}.grad_x`)).data, `${prefix}: gradient of x`);
    assertClose(
      await bn.weight.grad!.read(),
      get(`${prefix}.grad_weight`).data,
      `${prefix}: gradient of gamma`,
    );
    assertClose(await bn.bias.grad!.read(), get(`${prefix}.grad_bias`).data, `${prefix}: gradient of beta`);
  };
  bn.train();
  for (let step = 0; step < 3; step++) {
    await stepCheck(`bn.train${step}`);
    assertClose(
      await bn.runningMean.read(),
      get(`bn.train${step}.running_mean`).data,
      `step ${step}: running mean`,
    );
    assertClose(
      await bn.runningVar.read(),
      get(`bn.train${step}.running_var`).data,
      `step ${step}: running var`,
    );
  }
  assert.equal(await bn.numBatchesTracked.item(), 3);
  bn.eval();
  await stepCheck("bn.eval");
  // Eval mode leaves the running statistics alone.
  assertClose(await bn.runningMean.read(), get("bn.train2.running_mean").data, "running mean after eval");
  const state = await bn.hostStateDict();
  assert.deepEqual([...state.keys()], [
    "weight",
    "bias",
    "running_mean",
    "running_var",
    "num_batches_tracked",
  ]);
  bn.dispose();
});

Deno.test("batch norm and its activation as one op give the bits of the activation after it, with no activation pass where fused", async () => {
  const r = new TestRng(23);
  const activations: T.Activation[] = [{ op: "relu" }, { op: "leakyRelu", alpha: 0.2 }, { op: "tanh" }];
  // C = 12: vec4 channel groups; C = 6: one channel per load.
  for (const shape of [[3, 5, 7, 12], [4, 6, 5, 6]]) {
    const C = shape[3], n = shape.reduce((a, b) => a * b, 1);
    for (const training of [true, false]) {
      for (const activation of activations) {
        const x = r.normal(n).map((v) => 2 * v + 0.3), gy = r.normal(n);
        const gamma = r.normal(C).map((v) => 1 + 0.3 * v), beta = r.normal(C);
        const run = async (fused: boolean) => {
          const xt = T.Tensor.from(f32(x), shape), g = T.Tensor.from(f32(gamma), [C]);
          const b = T.Tensor.from(f32(beta), [C]);
          for (const t of [xt, g, b]) t.requiresGrad = true;
          const state = {
            training,
            runningMean: T.Tensor.from(f32(r.normal(C).map(() => 0.1)), [C]),
            runningVar: T.Tensor.from(f32(gamma.map(() => 1.5)), [C]),
          };
          T.resetDispatchCounts();
          const y = fused
            ? T.batchNorm2d(xt, g, b, { ...state, activation })
            : T.activate(T.batchNorm2d(xt, g, b, state), activation);
          T.backward(y, T.Tensor.from(f32(gy), shape));
          const counts = new Map(T.dispatchCounts);
          const values = await Promise.all([y, xt.grad!, g.grad!, b.grad!].map((t) => t.read()));
          return { values, counts };
        };
        const after = await run(false), fused = await run(true);
        const what = `[${shape}] ${training ? "training" : "eval"} ${activation.op}`;
        ["output", "dx", "dγ", "dβ"].forEach((name, i) =>
          assert.deepEqual(
            fused.values[i],
            after.values[i],
            `${what}: ${name} differs from the activation after batch norm`,
          )
        );
        const passes = (counts: Map<string, number>) =>
          (counts.get(activation.op) ?? 0) + (counts.get(`${activation.op}.grad`) ?? 0);
        assert.equal(
          passes(after.counts),
          2,
          `${what}: the unfused run applies the activation and its gradient`,
        );
        const fusable = activation.op !== "tanh";
        assert.equal(passes(fused.counts), fusable ? 0 : 2, `${what}: activation passes of the fused op`);
      }
    }
  }
});

Deno.test("frozen BatchNorm2d in eval mode dispatches no reduction in backward, only the input gradient", async () => {
  const bn = new T.BatchNorm2d(5).eval().requiresGrad(false);
  const x = T.Tensor.from(new T.Rng(3).normal(2 * 3 * 3 * 5), [2, 3, 3, 5]);
  x.requiresGrad = true;
  const y = bn.forward(x);
  T.resetDispatchCounts();
  T.backward(y, T.ones(y.shape));
  await x.grad!.read();
  const labels = [...T.dispatchCounts.keys()];
  assert.ok(labels.includes("batchNorm2d.gradInput"), labels.join());
  assert.ok(!labels.includes("batchNorm2d.gradSums"), labels.join());
  x.dispose();
  bn.dispose();
});

Deno.test("bad batchNorm2d arguments name the op, the argument and the shapes", () => {
  const x = T.zeros([2, 3, 3, 4]);
  assert.throws(
    () => T.batchNorm2d(x, T.ones([3]), T.zeros([4]), { training: true }),
    /batchNorm2d: gamma must be \[4\] \(one per channel\), got \[3\] \(input \[2,3,3,4\]/,
  );
  assert.throws(
    () => T.batchNorm2d(x, T.ones([4]), T.zeros([4]), { training: false }),
    /batchNorm2d: eval mode needs runningMean and runningVar \(input \[2,3,3,4\]/,
  );
  assert.throws(
    () => T.batchNorm2d(T.zeros([1, 1, 1, 4]), T.ones([4]), T.zeros([4]), { training: true }),
    /batchNorm2d: training needs more than one value per channel, got input \[1,1,1,4\]/,
  );
});
