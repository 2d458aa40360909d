// `deno task bench runtime`: dispatch overhead inside one submit, and elementwise bandwidth.

import * as T from "../core/mod.ts";
import { markdownTable, median, parseFlags, positiveInt, writeResults } from "./util.ts";

const USAGE = `deno task bench runtime [--dispatches 2000] [--elements ${2 ** 24}] [--repeats 7]
  Measures the cost of one dispatch inside one submit (tiny kernels, so that launch cost dominates)
  and the bandwidth of elementwise add and copy on large tensors. JSON goes to bench/results/.`;

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

  const rows = [
    ["dispatch overhead, recording (host)", `${recordUs.toFixed(1)} µs/dispatch`],
    ["dispatch overhead, recording + execution", `${totalUs.toFixed(1)} µs/dispatch`],
    [`add, ${nElem} elements`, `${addMs.toFixed(1)} ms, ${gbps(12 * nElem, addMs).toFixed(2)} GB/s`],
    [`copy, ${nElem} elements`, `${copyMs.toFixed(1)} ms, ${gbps(8 * nElem, copyMs).toFixed(2)} GB/s`],
  ];
  const results = { adapter: rt.gpu.description, nDispatch, nElem, recordUs, totalUs, addMs, copyMs };
  const path = await writeResults("runtime", results);
  console.log(`\nfull results: ${path}\n`);
  console.log(markdownTable(["measurement", "value"], rows));
}
