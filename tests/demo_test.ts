// The main job end to end at a tiny size: phantoms → training → scoring → Table 1 and report.html.

import assert from "node:assert/strict";
import { DEMO_PRESETS, runDemo } from "../harness/demo.ts";
import { testSetReads } from "../harness/query_sets.ts";
import { aurocFromCsv, gpu } from "./helpers.ts";

await gpu();

Deno.test("the demo pipeline writes phantoms, a run, scores, Table 1 and a self-contained report", async () => {
  const out = await Deno.makeTempDir();
  const lines: string[] = [];
  const earlier = testSetReads.length; // reads by other tests in this process
  const readsBefore = new Map<string, number>(); // per stage of the demo, the test-set reads so far
  const r = await runDemo({
    preset: DEMO_PRESETS.smoke,
    out,
    seed: 3,
    quiet: true,
    log: (l) => {
      lines.push(l);
      readsBefore.set(l, testSetReads.length - earlier);
    },
  });
  // The test set is read once, after every stage that fixes the configuration (training the DCGAN,
  // its encoder and the aCAE) and after the line that opens scoring.
  assert.deepEqual(testSetReads.slice(earlier).map((t) => t.spec), ["phantom-test"]);
  const opening = lines.findIndex((l) => l.startsWith("[3/4]"));
  assert.ok(opening > 0, lines.join("\n"));
  for (const line of lines.slice(0, opening + 1)) {
    assert.equal(readsBefore.get(line), 0, `the test set was read before "${line}"`);
  }
  for (
    const f of [
      "phantoms/manifest.json",
      "phantoms/sample_sheet.png",
      "run/model.safetensors",
      "scores/scores.csv",
      "scores/maps.safetensors",
      "scores/grid.png",
      "train-scores/scores.csv",
      "eval.json",
      "report.html",
    ]
  ) {
    await Deno.stat(`${out}/${f}`);
  }
  for (
    const row of [
      "A",
      "A_ganr",
      "A_acae",
      "A_encoder",
      "A_encoder_iter",
      "PD",
      "R",
      "D",
      "D_ganr",
      "trivial_darkness",
    ]
  ) {
    assert.match(r.markdown, new RegExp(`^\\| ${row} +\\|`, "m"), `Table 1 lacks ${row}`);
  }
  assert.equal(r.anoganAuc, await aurocFromCsv(`${out}/scores/scores.csv`, "A"), "reported AUROC of A");
  assert.deepEqual(
    r.pixel.filter((p) => p.truth.startsWith("fluid only")).map((p) => p.map.split(" ")[0]),
    ["residual", "smoothed"],
    "fluid localisation of the residual and of the smoothed residual",
  );
  assert.ok(r.pixel.every((p) => p.from === "float32 maps"), "pixel figures from the float maps");
  assert.match(r.strataMarkdown, /kind: /, "a table stratified by the kind of fluid");
  const html = await Deno.readTextFile(r.reportPath);
  assert.ok(html.indexOf("Table 1") < html.indexOf("Configuration: training run"), "the answer first");
  assert.ok(!/(src|href)="(?!data:|#)/.test(html), "the report links nothing outside itself");
  assert.ok(lines.some((l) => l.startsWith("[4/4]")));
  // Written aside and renamed into place: nothing records the staging folder's path.
  const json = JSON.parse(await Deno.readTextFile(`${out}/eval.json`));
  assert.deepEqual([json.files, json.trainFiles], [["scores/scores.csv"], ["train-scores/scores.csv"]]);
  assert.ok(!html.includes(".staging") && !JSON.stringify(json).includes(".staging"));
  const csv = (await Deno.readTextFile(`${out}/scores/scores.csv`)).trim().split("\n");
  assert.equal(csv.length, 1 + 16);
  await Deno.remove(out, { recursive: true });
});
