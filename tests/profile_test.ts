// The benchmarks' `--profile` (bench/profile.ts) on this adapter: the device asks for timestamp queries
// wherever the adapter offers them, and a profile then times each dispatch of a step on the device and
// gives each kernel family its share. Small steps only: the benchmarks profile the real ones.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { profileStep } from "../bench/profile.ts";
import { gpu } from "./helpers.ts";

const runtime = await gpu();

Deno.test("the device has timestamp queries wherever its adapter offers them", () => {
  const offered = runtime.gpu.adapter.features.has("timestamp-query");
  assert.equal(runtime.device.features.has("timestamp-query"), offered);
});

Deno.test("a profile puts every dispatch of a step in its family, timed by timestamps where there are any", async () => {
  const rng = new T.Rng(5);
  const x = T.Tensor.from(rng.uniform(8 * 12 * 12 * 8, -1, 1), [8, 12, 12, 8]).keep();
  const w = T.Tensor.from(rng.uniform(3 * 3 * 8 * 16, -1, 1), [3, 3, 8, 16]).keep();
  // One conv forward, a ReLU and a sum: three families, four dispatches or more.
  const step = () => {
    T.step(() => {
      T.sum(T.relu(T.conv2d(x, w, undefined, { stride: 1, padding: 1 })));
    });
    return () => {};
  };
  try {
    const p = await profileStep(step, 2);
    const timestamps = runtime.device.features.has("timestamp-query");
    assert.match(p.method, timestamps ? /^timestamps:/ : /^replay:/);
    const family = (name: string) => p.families.find((f) => f.family === name);
    for (const name of ["conv forward", "elementwise", "reductions"]) {
      const f = family(name);
      assert.ok(f && f.dispatches >= 1 && f.ms > 0 && Number.isFinite(f.ms), `${name}: ${JSON.stringify(f)}`);
    }
    assert.ok(family("conv forward")!.gflopPerSecond! > 0);
    const kernels = p.families.filter((f) =>
      f.family !== "other/unattributed" && f.family !== "buffer copies"
    );
    assert.equal(
      kernels.filter((f) => f.family !== "dispatch + recording (host)").reduce((n, f) => n + f.dispatches, 0),
      p.dispatches,
      "every dispatch counted once",
    );
    if (timestamps) {
      // Each label's device time is known, and the labels' times add up to the families'.
      const labelled = Object.values(p.labels).reduce((n, l) => n + (l.ms ?? NaN), 0);
      const timed = kernels.filter((f) => f.family !== "dispatch + recording (host)")
        .reduce((n, f) => n + f.ms, 0);
      assert.ok(Math.abs(labelled - timed) <= 1e-6 * Math.max(1, timed), `${labelled} vs ${timed}`);
    }
  } finally {
    x.dispose();
    w.dispose();
  }
});
