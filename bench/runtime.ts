// `deno task bench runtime`: dispatch overhead inside one submit, elementwise bandwidth, and the
// bandwidth of batch norm (training mode) beside it at the DCGAN's activation shapes.

import * as T from "../core/mod.ts";
import { markdownTable, median, parseFlags, positiveInt, writeResults } from "./util.ts";

/** Batch-norm shapes [N,H,W,C]: the DCGAN's batch-normed activations at batch 64. */
const BATCH_NORM_SHAPES: number[][] = [
  [64, 64, 64, 32],
  [64, 32, 32, 64],
  [64, 16, 16, 128],
  [64, 8, 8, 256],
  [64, 4, 4, 512],
];

const USAGE = `deno task bench runtime [--dispatches 2000] [--elements ${2 ** 24}] [--repeats 7]
  Measures the cost of one dispatch inside one submit (tiny kernels, so that launch cost dominates),
  the bandwidth of elementwise add and copy on large tensors, and that of batch norm in training mode
  on [N,H,W,C] activations (${BATCH_NORM_SHAPES.map((s) => `[${s}]`).join(", ")}). Batch-norm bytes
  are the passes its algorithm must make over the activations: forward reads x for the statistics,
  then reads x and writes y (12 bytes per element); the input gradient reads x and dy for its sums,
  then reads x and dy and writes dx (20 bytes per element). Each timed submit of batch norm repeats
  it over about --elements values, as one add covers. JSON goes to bench/results/.`;

export async function main(args: string[]): Promise<void> {
  const values = parseFlags(args, {
    dispatches: { type: "string", default: "2000" },
    elements: { type: "string", default: String(2 ** 24) },
    repeats: { type: "string", default: "7" },
  }, USAGE);
  if (!values) return;
  const nDispatch = positiveInt("dispatches", values.dispatches),
    nElem = positiveInt("elements", values.elements),
    repeats = positiveInt("repeats", values.repeats);
  const rt = await T.init();
  console.log(`adapter: ${rt.gpu.description}`);

  // Dispatch overhead: a chain of tiny dependent adds, all in one step.
  const tiny = T.ones([64]);
  const chain = () => {
    T.step(() => {
      let x = tiny;
      for (let i = 0; i < nDispatch; i++) x = T.add(x, 1);
    });
  };
  chain(); // compile
  await rt.sync();
  const recordMs: number[] = [], totalMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    chain();
    const t1 = performance.now();
    await rt.sync();
    recordMs.push(t1 - t0);
    totalMs.push(performance.now() - t0);
  }
  const recordUs = (median(recordMs) * 1000) / nDispatch;
  const totalUs = (median(totalMs) * 1000) / nDispatch;

  // Bandwidth: y = a + b reads 8 and writes 4 bytes per element; copy reads 4, writes 4.
  const a = T.Tensor.from(new T.Rng(1).uniform(nElem)), b = T.Tensor.from(new T.Rng(2).uniform(nElem));
  const timeOp = async (fn: () => T.Tensor) => {
    fn().dispose();
    await rt.sync();
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      fn().dispose();
      await rt.sync();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const addMs = await timeOp(() => T.noGrad(() => T.add(a, b)));
  const copyMs = await timeOp(() => T.noGrad(() => T.copy(a)));
  const gbps = (bytes: number, ms: number) => bytes / ms / 1e6;
  const batchNorm = [];
  for (const shape of BATCH_NORM_SHAPES) batchNorm.push(await batchNormTimes(shape, nElem, repeats));

  const rows = [
    ["dispatch overhead, recording (host)", `${recordUs.toFixed(1)} µs/dispatch`],
    ["dispatch overhead, recording + execution", `${totalUs.toFixed(1)} µs/dispatch`],
    [`add, ${nElem} elements`, `${addMs.toFixed(1)} ms, ${gbps(12 * nElem, addMs).toFixed(2)} GB/s`],
    [`copy, ${nElem} elements`, `${copyMs.toFixed(1)} ms, ${gbps(8 * nElem, copyMs).toFixed(2)} GB/s`],
    ...batchNorm.flatMap(({ shape, forwardMs, backwardMs }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const rate = (bytes: number, ms: number) =>
        `${ms.toFixed(1)} ms, ${gbps(bytes, ms).toFixed(2)} GB/s (${
          (gbps(bytes, ms) / gbps(12 * nElem, addMs)).toFixed(2)
        }× add)`;
      return [
        [`batch norm forward (training), [${shape}]`, rate(12 * n, forwardMs)],
        [`batch norm input gradient (training), [${shape}]`, rate(20 * n, backwardMs)],
      ];
    }),
  ];
  const results = {
    adapter: rt.gpu.description,
    nDispatch,
    nElem,
    recordUs,
    totalUs,
    addMs,
    copyMs,
    batchNorm,
  };
  const path = await writeResults("runtime", results);
  console.log(`\nfull results: ${path}\n`);
  console.log(markdownTable(["measurement", "value"], rows));
}

/**
 * Median ms of one batchNorm2d forward in training mode (statistics, running-statistics update,
 * output) and of one backward to x alone (the sums Σdy, Σdy·x̂ and the input gradient), on random
 * data. Each timed submit holds enough repeats to pass over `elements` values, as the add does, so
 * that the fixed cost of a submit and its wait does not count against small shapes.
 */
async function batchNormTimes(shape: number[], elements: number, repeats: number) {
  const runtime = T.rt();
  const n = shape.reduce((a, b) => a * b, 1), channels = shape[3];
  const perSubmit = Math.max(1, Math.round(elements / n));
  const x = T.Tensor.from(new T.Rng(3).normal(n), shape), dy = T.Tensor.from(new T.Rng(4).normal(n), shape);
  const gamma = T.ones([channels]), beta = T.zeros([channels]);
  const runningMean = T.zeros([channels]), runningVar = T.ones([channels]);
  const opts = { training: true, runningMean, runningVar };
  x.requiresGrad = true;
  const y = T.batchNorm2d(x, gamma, beta, opts);
  const node = y.node!;
  const forward = () => T.noGrad(() => T.batchNorm2d(x, gamma, beta, opts)).dispose();
  const backward = () => T.noGrad(() => node.backward(dy, [true, false, false])[0]!).dispose();
  const time = async (op: () => void) => {
    const ms: number[] = [];
    for (let r = 0; r <= repeats; r++) { // the first run compiles
      const t0 = performance.now();
      T.step(() => {
        for (let k = 0; k < perSubmit; k++) op();
      });
      await runtime.sync();
      if (r > 0) ms.push((performance.now() - t0) / perSubmit);
    }
    return median(ms);
  };
  const forwardMs = await time(forward), backwardMs = await time(backward);
  for (const t of [x, dy, gamma, beta, runningMean, runningVar, y]) t.dispose();
  return { shape, perSubmit, forwardMs, backwardMs };
}
