// `deno task bench encoder`: scoring time of the encoder mapper (z = E(x), then R, D and A(x), anomalyScore of eq. 6
// at z) against Γ = 500 iterative mapping, on the phantom test patches with a trained run's G, D and
// izi_f encoder, in one process on one adapter. Γ = 500 is extrapolated from a shorter run:
// t(0) + 500 · (t(N) − t(0)) / N.

import * as T from "../core/mod.ts";
import { encodeImages } from "../anogan/encoder.ts";
import { loadEncoder, loadGan } from "../harness/run.ts";
import { mapToLatent } from "../anogan/mapping.ts";
import { loadQuerySet } from "../harness/query_sets.ts";
import { markdownTable, median, parseFlags, positiveInt, writeResults } from "./util.ts";

const USAGE = `deno task bench encoder [--run out/demo/run] [--patches 64] [--steps 50]
  Scoring time of the encoder mapper (z = E(x), then the scores at z) against Γ = 500 iterative
  mapping, on --patches balanced phantom test patches in one batch, with the G, D and izi_f encoder of
  a trained run (e.g. after \`deno task demo\`). Γ = 500 is extrapolated from a run of --steps steps.
  JSON goes to bench/results/.`;

/** Median seconds of `repeats` calls after one warm-up call (pipelines compiled, buffers pooled). */
async function seconds(run: () => Promise<unknown>, repeats = 3): Promise<number> {
  await run();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

export async function main(args: string[]): Promise<void> {
  const a = parseFlags(args, {
    run: { type: "string", default: "out/demo/run" },
    patches: { type: "string", default: "64" },
    steps: { type: "string", default: "50" },
  }, USAGE);
  if (!a) return;
  const count = positiveInt("patches", a.patches), steps = positiveInt("steps", a.steps);
  const rt = await T.init();
  const { gan } = await loadGan(a.run);
  const encoder = await loadEncoder(a.run, gan.G.cfg);

  const set = await loadQuerySet("phantom-test", {
    size: gan.G.cfg.size,
    seed: 0,
    limit: count,
    balanced: true,
  });
  const images = set.images.slice(0, count * set.size * set.size) as Float32Array<ArrayBuffer>;
  const indices = Array.from({ length: count }, (_, i) => i);

  const encoderSeconds = await seconds(async () => {
    const initialZ = await encodeImages(encoder, images, count);
    return mapToLatent(gan, images, indices, { steps: 0, initialZ });
  });
  const zeroSteps = await seconds(() => mapToLatent(gan, images, indices, { steps: 0 }));
  const shortRun = await seconds(() => mapToLatent(gan, images, indices, { steps }), 1);
  const perStep = (shortRun - zeroSteps) / steps;
  const gamma500 = zeroSteps + 500 * perStep;
  const results = {
    adapter: rt.gpu.description,
    model: gan.G.cfg,
    count,
    steps,
    encoderSeconds,
    zeroSteps,
    shortRun,
    perStep,
    gamma500,
  };
  console.error(`full results: ${await writeResults("encoder", results)}`);
  console.log(`adapter: ${rt.gpu.description}`);
  console.log(`model: ${JSON.stringify(gan.G.cfg)}; ${count} phantom test patches in one batch\n`);
  const row = (mapper: string, s: number) => [mapper, s.toPrecision(3), (s / count).toPrecision(3)];
  console.log(markdownTable(["mapper", `s for ${count} patches`, "s per patch"], [
    row("encoder: z = E(x), scores at z", encoderSeconds),
    row(`iterative, Γ = ${steps} (measured)`, shortRun),
    row("iterative, Γ = 500 (t(0) + 500 · per-step time)", gamma500),
  ]));
  console.log(`\nThe encoder maps ${(gamma500 / encoderSeconds).toFixed(0)}× faster than Γ = 500.`);
}
