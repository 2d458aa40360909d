// Every op's forward and input gradients against the float64 oracle on random shapes, and against the
// PyTorch fixtures. One table drives both: an op is a spec with its GPU call, its oracle and its VJP.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { assertClose, gpu, TestRng } from "./helpers.ts";
import * as O from "./oracle.ts";

await gpu();

type Args = Record<string, unknown>;
interface Case {
  shapes: number[][];
  data: Float64Array[];
  args: Args;
}
interface OpSpec {
  /** A random case: input shapes, values and arguments. */
  draw: (r: TestRng) => Case;
  run: (xs: T.Tensor[], args: Args) => T.Tensor;
  oracle: (xs: Float64Array[], shapes: number[][], args: Args) => { out: Float64Array; shape: number[] };
  vjp: (xs: Float64Array[], shapes: number[][], args: Args, gy: Float64Array) => Float64Array[];
}

function randomShape(r: TestRng, minRank = 1, maxRank = 4): number[] {
  const rank = r.int(minRank, maxRank);
  return Array.from({ length: rank }, () => r.int(1, 9));
}

/** A shape that broadcasts against `shape`: some dims set to 1, some leading dims dropped. */
function broadcastPartner(r: TestRng, shape: number[]): number[] {
  const drop = r.int(0, shape.length - 1);
  return shape.slice(drop).map((d) => (r.int(0, 2) === 0 ? 1 : d));
}

function randomAxes(r: TestRng, rank: number): number[] {
  const axes = [...Array(rank).keys()].filter(() => r.int(0, 1) === 1);
  return axes.length > 0 ? axes : [r.int(0, rank - 1)];
}

const normalCase = (r: TestRng, shapes: number[][], args: Args = {}): Case => ({
  shapes,
  data: shapes.map((s) => r.normal(O.size(s))),
  args,
});

// ---- specs --------------------------------------------------------------------------------------

function binarySpec(
  op: (a: T.Tensor, b: T.Tensor | number) => T.Tensor,
  f: (x: number, y: number) => number,
  dfx: (x: number, y: number) => number,
  dfy: (x: number, y: number) => number,
  positiveB = false,
): OpSpec {
  return {
    draw: (r) => {
      const full = randomShape(r);
      const partner = broadcastPartner(r, full);
      const [sa, sb] = r.int(0, 1) === 0 ? [full, partner] : [partner, full];
      const c = normalCase(r, [sa, sb]);
      if (positiveB) c.data[1] = c.data[1].map((v) => (v < 0 ? -1 : 1) * (0.5 + Math.abs(v)));
      return c;
    },
    run: ([a, b]) => op(a, b),
    oracle: ([a, b], [sa, sb]) => O.binary(f, a, sa, b, sb),
    vjp: ([a, b], [sa, sb], _, gy) => O.binaryVjp(dfx, dfy, a, sa, b, sb, gy),
  };
}

function scalarSpec(
  op: (a: T.Tensor, b: number) => T.Tensor,
  f: (x: number, y: number) => number,
  dfx: (x: number, y: number) => number,
): OpSpec {
  return {
    draw: (r) => normalCase(r, [randomShape(r)], { scalar: r.pick([-1.5, 0.75, 2.5]) }),
    run: ([a], args) => op(a, args.scalar as number),
    oracle: ([a], [s], args) => ({ out: a.map((x) => f(x, args.scalar as number)), shape: s }),
    vjp: ([a], _, args, gy) => [gy.map((g, i) => g * dfx(a[i], args.scalar as number))],
  };
}

function unarySpec(
  op: (x: T.Tensor, args: Args) => T.Tensor,
  f: (x: number, args: Args) => number,
  df: (x: number, args: Args) => number,
  opts: { positive?: boolean; args?: (r: TestRng) => Args; spread?: number } = {},
): OpSpec {
  return {
    draw: (r) => {
      const c = normalCase(r, [randomShape(r)], opts.args?.(r) ?? {});
      c.data[0] = c.data[0].map((v) => (opts.positive ? 0.05 + Math.abs(v) : v * (opts.spread ?? 1)));
      return c;
    },
    run: ([x], args) => op(x, args),
    oracle: ([x], [s], args) => ({ out: x.map((v) => f(v, args)), shape: s }),
    vjp: ([x], _, args, gy) => [gy.map((g, i) => g * df(x[i], args))],
  };
}

function reduceSpec(op: "sum" | "mean"): OpSpec {
  return {
    draw: (r) => {
      const shape = randomShape(r);
      const all = r.int(0, 3) === 0;
      return normalCase(r, [shape], {
        axes: all ? undefined : randomAxes(r, shape.length),
        keepDims: r.int(0, 1) === 1,
      });
    },
    run: ([x], a) => T[op](x, a.axes as number[] | undefined, a.keepDims as boolean),
    oracle: ([x], [s], a) => {
      const axes = (a.axes as number[] | undefined) ?? s.map((_, i) => i);
      const { out, shape } = O.reduceSum(x, s, axes);
      const n = O.size(axes.map((i) => s[i]));
      const kept = a.keepDims ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : shape;
      return { out: op === "mean" ? out.map((v) => v / n) : out, shape: kept };
    },
    vjp: ([x], [s], a, gy) => {
      const axes = (a.axes as number[] | undefined) ?? s.map((_, i) => i);
      const kept = s.map((d, i) => (axes.includes(i) ? 1 : d));
      const idx = O.broadcastIndex(s, kept);
      const n = op === "mean" ? O.size(axes.map((i) => s[i])) : 1;
      return [x.map((_, i) => gy[idx[i]] / n)];
    },
  };
}

const leaky = (x: number, a: Args) => (x > 0 ? x : (a.alpha as number) * x);

export const SPECS: Record<string, OpSpec> = {
  add: binarySpec(T.add, (x, y) => x + y, () => 1, () => 1),
  sub: binarySpec(T.sub, (x, y) => x - y, () => 1, () => -1),
  mul: binarySpec(T.mul, (x, y) => x * y, (_, y) => y, (x) => x),
  div: binarySpec(T.div, (x, y) => x / y, (_, y) => 1 / y, (x, y) => -x / (y * y), true),
  addScalar: scalarSpec(T.add, (x, y) => x + y, () => 1),
  subScalar: scalarSpec(T.sub, (x, y) => x - y, () => 1),
  mulScalar: scalarSpec(T.mul, (x, y) => x * y, (_, y) => y),
  divScalar: scalarSpec(T.div, (x, y) => x / y, (_, y) => 1 / y),
  neg: unarySpec(T.neg, (x) => -x, () => -1),
  abs: unarySpec(T.abs, Math.abs, Math.sign),
  exp: unarySpec(T.exp, Math.exp, Math.exp, { spread: 2 }),
  log: unarySpec(T.log, Math.log, (x) => 1 / x, { positive: true }),
  sqrt: unarySpec(T.sqrt, Math.sqrt, (x) => 0.5 / Math.sqrt(x), { positive: true }),
  clamp: unarySpec(
    (x, a) => T.clamp(x, a.lo as number, a.hi as number),
    (x, a) => Math.min(Math.max(x, a.lo as number), a.hi as number),
    (x, a) => (x >= (a.lo as number) && x <= (a.hi as number) ? 1 : 0),
    { args: (r) => ({ lo: r.pick([-1, -0.5]), hi: r.pick([0.3, 1.2]) }) },
  ),
  relu: unarySpec(T.relu, (x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0)),
  leakyRelu: unarySpec(
    (x, a) => T.leakyRelu(x, a.alpha as number),
    leaky,
    (x, a) => (x > 0 ? 1 : a.alpha as number),
    {
      args: (r) => ({ alpha: r.pick([0.2, 0.01]) }),
    },
  ),
  tanh: unarySpec(T.tanh, Math.tanh, (x) => 1 - Math.tanh(x) ** 2, { spread: 3 }),
  sigmoid: unarySpec(T.sigmoid, O.sigmoid, (x) => O.sigmoid(x) * (1 - O.sigmoid(x)), { spread: 4 }),
  scale: unarySpec(
    (x, a) => T.scale(x, a.alpha as number),
    (x, a) => (a.alpha as number) * x,
    (_, a) => a.alpha as number,
    {
      args: (r) => ({ alpha: r.pick([-0.3, 1.7]) }),
    },
  ),
  copy: unarySpec(T.copy, (x) => x, () => 1),
  sum: reduceSpec("sum"),
  mean: reduceSpec("mean"),
  matmul: {
    draw: (r) => {
      const [M, K, N] = [r.int(1, 40), r.int(1, 70), r.int(1, 40)];
      return normalCase(r, [[M, K], [K, N]]);
    },
    run: ([a, b]) => T.matmul(a, b),
    oracle: ([a, b], [[M, K], [, N]]) => ({ out: O.matmul(a, b, M, K, N), shape: [M, N] }),
    vjp: ([a, b], [[M, K], [, N]], _, gy) => [
      O.matmul(gy, O.transpose(b, K, N), M, N, K),
      O.matmul(O.transpose(a, M, K), gy, K, M, N),
    ],
  },
  linear: {
    draw: (r) => {
      const [B, I, Out] = [r.int(1, 20), r.int(1, 50), r.int(1, 30)];
      return normalCase(r, r.int(0, 1) ? [[B, I], [Out, I], [Out]] : [[B, I], [Out, I]]);
    },
    run: ([x, w, b]) => T.linear(x, w, b),
    oracle: ([x, w, b], [[B, I], [Out]]) => {
      const y = O.matmul(x, O.transpose(w, Out, I), B, I, Out);
      if (b) { for (let i = 0; i < y.length; i++) y[i] += b[i % Out]; }
      return { out: y, shape: [B, Out] };
    },
    vjp: ([x, w, b], [[B, I], [Out]], _, gy) => {
      const grads = [O.matmul(gy, w, B, Out, I), O.matmul(O.transpose(gy, B, Out), x, Out, B, I)];
      if (b) grads.push(O.reduceSum(gy, [B, Out], [0]).out);
      return grads;
    },
  },
  transpose: {
    draw: (r) => normalCase(r, [[r.int(1, 30), r.int(1, 30)]]),
    run: ([x]) => T.transpose(x),
    oracle: ([x], [[R, C]]) => ({ out: O.transpose(x, R, C), shape: [C, R] }),
    vjp: (_, [[R, C]], __, gy) => [O.transpose(gy, C, R)],
  },
  reshape: {
    draw: (r) => {
      const shape = randomShape(r);
      return normalCase(r, [shape], { shape: [O.size(shape.slice(0, 1)), -1] });
    },
    run: ([x], a) => T.reshape(x, a.shape as number[]),
    oracle: ([x], [s]) => ({ out: x, shape: [s[0], O.size(s) / s[0]] }),
    vjp: (_, __, ___, gy) => [gy],
  },
  broadcastTo: {
    draw: (r) => {
      const full = randomShape(r);
      return normalCase(r, [broadcastPartner(r, full)], { shape: full });
    },
    run: ([x], a) => T.broadcastTo(x, a.shape as number[]),
    oracle: ([x], [s], a) => {
      const shape = a.shape as number[];
      const idx = O.broadcastIndex(shape, s);
      return { out: Float64Array.from(idx, (j) => x[j]), shape };
    },
    vjp: (_, [s], a, gy) => [O.sumTo(gy, a.shape as number[], s)],
  },
  l1Sum: {
    draw: (r) => {
      const shape = randomShape(r, 2, 4);
      return normalCase(r, [shape, shape], { axes: randomAxes(r, shape.length) });
    },
    run: ([a, b], args) => T.l1Sum(a, b, args.axes as number[]),
    oracle: ([a, b], [s], args) => O.reduceSum(a.map((v, i) => Math.abs(v - b[i])), s, args.axes as number[]),
    vjp: ([a, b], [s], args, gy) => {
      const axes = args.axes as number[];
      const idx = O.broadcastIndex(s, s.map((d, i) => (axes.includes(i) ? 1 : d)));
      const ga = a.map((v, i) => gy[idx[i]] * Math.sign(v - b[i]));
      return [ga, ga.map((g) => -g)];
    },
  },
  bceWithLogits: {
    draw: (r) => {
      const shape = randomShape(r);
      const n = O.size(shape);
      const scalarTarget = r.int(0, 2) === 0;
      const reduction = r.pick(["mean", "sum", "none"]);
      const logits = r.normal(n).map((v) => 3 * v);
      if (scalarTarget) {
        return { shapes: [shape], data: [logits], args: { reduction, target: r.pick([0, 1]) } };
      }
      return { shapes: [shape, shape], data: [logits, r.uniform(n, 0, 1)], args: { reduction } };
    },
    run: ([x, t], a) => T.bceWithLogits(x, t ?? (a.target as number), a.reduction as T.Reduction),
    oracle: ([x, t], [s], a) => {
      const l = x.map((v, i) => O.softplus(v) - v * (t ? t[i] : a.target as number));
      if (a.reduction === "none") return { out: l, shape: s };
      const total = l.reduce((p, q) => p + q, 0);
      return { out: Float64Array.of(a.reduction === "mean" ? total / l.length : total), shape: [] };
    },
    vjp: ([x, t], _, a, gy) => {
      const n = x.length;
      const g = (i: number) => (a.reduction === "none" ? gy[i] : a.reduction === "mean" ? gy[0] / n : gy[0]);
      const tv = (i: number) => (t ? t[i] : a.target as number);
      const gx = x.map((v, i) => g(i) * (O.sigmoid(v) - tv(i)));
      return t ? [gx, x.map((v, i) => -g(i) * v)] : [gx];
    },
  },
};

// ---- runner -------------------------------------------------------------------------------------

/** Runs one case on the GPU: forward, then backward of Σ(out ⊙ gy). Returns host arrays. */
async function runCase(spec: OpSpec, c: Case, gy: Float64Array) {
  const xs = c.data.map((d, i) => {
    const t = T.Tensor.from(Float32Array.from(d), c.shapes[i]);
    t.requiresGrad = true;
    return t;
  });
  const y = spec.run(xs, c.args);
  const out = await y.read();
  const shape = [...y.shape];
  T.backward(y, T.Tensor.from(Float32Array.from(gy), y.shape));
  const grads = await Promise.all(xs.map((x) => x.grad!.read()));
  xs.forEach((x) => x.dispose());
  y.dispose();
  return { out, shape, grads };
}

async function check(name: string, spec: OpSpec, c: Case, gy: Float64Array, label: string) {
  const ref = spec.oracle(c.data, c.shapes, c.args);
  const got = await runCase(spec, c, gy);
  const what = `${name} ${label} inputs ${c.shapes.map((s) => `[${s}]`).join(" ")} ${JSON.stringify(c.args)}`;
  assert.deepEqual(got.shape, ref.shape, `${what}: output shape`);
  assertClose(got.out, ref.out, `${what}: forward`);
  const vjp = spec.vjp(c.data, c.shapes, c.args, gy);
  vjp.forEach((g, i) => assertClose(got.grads[i], g, `${what}: gradient of input ${i}`));
}

const CASES_PER_OP = 20;

for (const [name, spec] of Object.entries(SPECS)) {
  Deno.test(`${name}: forward and backward match the float64 oracle on ${CASES_PER_OP} random shapes`, async () => {
    const r = new TestRng(name.split("").reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7));
    for (let k = 0; k < CASES_PER_OP; k++) {
      const c = spec.draw(r);
      const refShape = spec.oracle(c.data, c.shapes, c.args).shape;
      await check(name, spec, c, r.normal(O.size(refShape)), `case ${k}`);
    }
  });
}

// The linear layers' routes (core/ops/matmul.ts): one output (a row-times-vector tree; its weight
// gradient, one row, by columns; its input gradient, an inner size of 1, as an outer product), and few
// rows with many outputs (computed transposed). Each route's kernels must run, and match the oracle.
Deno.test("linear: one output, one input row, an inner size of 1 and few rows match the float64 oracle by their own kernels", async () => {
  const r = new TestRng(1729);
  const cases: { shapes: [number, number][]; kernels: string[] }[] = [
    { shapes: [[6, 40], [1, 40]], kernels: ["gemv.wgsl:rows", "gemv.wgsl:columns", "gemv.wgsl:outer"] },
    { shapes: [[70, 8], [1, 8]], kernels: ["gemv.wgsl:rows", "gemv.wgsl:columns", "gemv.wgsl:outer"] },
    { shapes: [[5, 12], [600, 12]], kernels: ["transpose.wgsl:main"] },
    { shapes: [[3, 7], [45, 7]], kernels: ["transpose.wgsl:main"] },
  ];
  for (const { shapes: [[B, I], [Out]], kernels } of cases) {
    for (const withBias of [false, true]) {
      const shapes = withBias ? [[B, I], [Out, I], [Out]] : [[B, I], [Out, I]];
      const c: Case = { shapes, data: shapes.map((s) => r.normal(O.size(s))), args: {} };
      const ran = new Set<string>();
      T.rt().profiler = {
        dispatch: (d) => void ran.add(`${d.def.file}:${d.def.entry ?? "main"}`),
        copy: () => {},
        submitted: () => {},
      };
      try {
        await check(
          "linear",
          SPECS.linear,
          c,
          r.normal(B * Out),
          withBias ? "with a bias" : "without a bias",
        );
      } finally {
        T.rt().profiler = null;
      }
      for (const k of kernels) {
        assert.ok(ran.has(k), `linear [${B},${I}]·[${Out},${I}]ᵀ: ${k} did not run (${[...ran]})`);
      }
    }
  }
});

// ---- PyTorch fixtures ---------------------------------------------------------------------------

const fixture = await T.readSafetensors(new URL("../fixtures/ops.safetensors", import.meta.url).pathname);
const fixtureCases = JSON.parse(fixture.metadata.cases) as {
  name: string;
  op: string;
  args: Args;
  inputs: number;
}[];

Deno.test("PyTorch fixtures: every op's forward and input gradients match", async () => {
  assert.ok(fixtureCases.length >= 20);
  for (const fc of fixtureCases) {
    const spec = SPECS[fc.op];
    assert.ok(spec, `fixture ${fc.name}: no spec for op ${fc.op}`);
    const get = (k: string) => {
      const t = fixture.tensors.get(`${fc.name}.${k}`);
      assert.ok(t, `fixture ${fc.name}.${k} is missing`);
      return t;
    };
    const ins = [...Array(fc.inputs).keys()].map((i) => get(`in${i}`));
    const gy = get("gy");
    const got = await runCase(spec, {
      shapes: ins.map((t) => t.shape),
      data: ins.map((t) => Float64Array.from(t.data)),
      args: fc.args,
    }, Float64Array.from(gy.data));
    assertClose(got.out, get("out").data, `${fc.name}: forward vs PyTorch`);
    got.grads.forEach((g, i) =>
      assertClose(g, get(`grad${i}`).data, `${fc.name}: gradient of input ${i} vs PyTorch`)
    );
  }
});
