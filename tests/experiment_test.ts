// The Fashion-MNIST one-class protocol at a tiny size: per-class runs, scores and the summary table.

import assert from "node:assert/strict";
import { runFmnistExperiment, summaryMarkdown } from "../harness/experiment.ts";
import { aurocFromCsv, gpu } from "./helpers.ts";

await gpu();

Deno.test("the Fashion-MNIST experiment trains per class, scores the test set and summarises AUROC", async () => {
  const out = await Deno.makeTempDir();
  const settings = { width: 4, epochs: 1, testImages: 40, steps: 2, lr: 0.1, trainImages: 128 };
  const results = await runFmnistExperiment({
    classes: [1, 8],
    settings,
    out,
    seed: 0,
    quiet: true,
    log: () => {},
  });
  assert.deepEqual(results.map((r) => r.cls), [1, 8]);
  for (const r of results) {
    for (const c of ["A", "R", "D", "PD"]) {
      const csv = `${out}/class-${r.cls}/scores/scores.csv`;
      assert.equal(
        r.auc[c],
        await aurocFromCsv(csv, c),
        `class ${r.cls}: AUROC of ${c} against its scores.csv`,
      );
    }
    assert.equal(r.testImages, 40);
    const csv = (await Deno.readTextFile(`${out}/class-${r.cls}/scores/scores.csv`)).trim().split("\n");
    assert.equal(csv.length, 41);
  }
  const md = summaryMarkdown(results, settings);
  assert.match(md, /\| mean of 2 \|/);
  assert.match(md, /GEOM/);
  assert.equal(await Deno.readTextFile(`${out}/summary.md`), md);
  await Deno.remove(out, { recursive: true });
});
