// `deno run -A scripts/bench_encoder.ts --run RUN_DIR [--patches 64] [--steps 50]`: scoring time of
// the encoder mapper (z = E(x), then R, D and A(x) of eq. 6 at z) against Γ = 500 iterative mapping, on the
// phantom test patches with a trained run's G, D and izi_f encoder, in one process on one adapter.
// Γ = 500 is extrapolated from a shorter run: t(0) + 500 · (t(N) − t(0)) / N.

import { parseArgs } from "node:util";
import * as T from "../core/mod.ts";
import { encodeImages } from "../anogan/acae.ts";
import { loadEncoder } from "../anogan/encoder.ts";
import { mapToLatent } from "../anogan/mapping.ts";
import { loadQuerySet } from "../anogan/queries.ts";
import { loadGan } from "../anogan/score.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    run: { type: "string", default: "out/demo/run" },
    patches: { type: "string", default: "64" },
    steps: { type: "string", default: "50" },
  },
});
const rt = await T.init();
const { gan } = await loadGan(a.run);
const encoder = await loadEncoder(a.run, gan.G.cfg);
const count = Number(a.patches), steps = Number(a.steps);
const set = await loadQuerySet("phantom-test", {
  size: gan.G.cfg.size,
  seed: 0,
  limit: count,
  balanced: true,
});
const images = set.images.slice(0, count * set.size * set.size) as Float32Array<ArrayBuffer>;
const indices = Array.from({ length: count }, (_, i) => i);

async function seconds(run: () => Promise<unknown>, repeats = 3): Promise<number> {
  await run(); // warm-up: pipelines compiled, buffers pooled
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((x, y) => x - y)[Math.floor(repeats / 2)];
}

const encoderSeconds = await seconds(async () => {
  const initialZ = await encodeImages(encoder, images, count);
  return mapToLatent(gan, images, indices, { steps: 0, initialZ });
});
const zeroSteps = await seconds(() => mapToLatent(gan, images, indices, { steps: 0 }));
const shortRun = await seconds(() => mapToLatent(gan, images, indices, { steps }), 1);
const perStep = (shortRun - zeroSteps) / steps;
const gamma500 = zeroSteps + 500 * perStep;
console.log(`adapter: ${rt.gpu.description}`);
console.log(`model: ${JSON.stringify(gan.G.cfg)}; ${count} phantom test patches in one batch`);
console.log(
  `encoder mapping: ${encoderSeconds.toFixed(3)} s (${
    (encoderSeconds / count * 1000).toFixed(2)
  } ms per image)`,
);
console.log(`iterative, Γ = ${steps}: ${shortRun.toFixed(2)} s; per step ${(perStep * 1000).toFixed(1)} ms`);
console.log(
  `iterative, Γ = 500 (extrapolated): ${gamma500.toFixed(1)} s (${
    (gamma500 / count).toFixed(3)
  } s per image)`,
);
console.log(`speed-up of the encoder over Γ = 500: ${(gamma500 / encoderSeconds).toFixed(0)}×`);
