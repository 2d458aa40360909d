// The budget curve's points: validation data only, a run extended bit for bit, figures that match
// their score files, the data exported for the PyTorch reference, and bad flags refused.

import assert from "node:assert/strict";
import { join } from "node:path";
import { BUDGET_DEFAULTS, budgetMarkdown, runBudgetPoint } from "../harness/budget.ts";
import { testSetReads } from "../harness/query_sets.ts";
import { aurocFromCsv, gpu } from "./helpers.ts";
import * as T from "../core/mod.ts";

await gpu();

const TINY = {
  ...BUDGET_DEFAULTS,
  width: 4,
  epochs: 1,
  volumes: 1,
  patchesPerBscan: 4,
  steps: 2,
  valPatches: 40,
};

Deno.test("a budget point reads validation patches only, extends its run, and logs figures and times", async () => {
  const out = await Deno.makeTempDir();
  const readsBefore = testSetReads.length;
  const first = (await runBudgetPoint(TINY, out, { quiet: true, log: () => {}, exportData: true }))!;
  const second = (await runBudgetPoint({ ...TINY, epochs: 2 }, out, { quiet: true, log: () => {} }))!;
  assert.deepEqual(testSetReads.slice(readsBefore), [], "no test set was read");
  const lines = (await Deno.readTextFile(join(out, "points.jsonl"))).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(lines.map((l) => l.point.epochs), [1, 2]);
  assert.ok(second.trainSeconds > first.trainSeconds, "training time adds up over extensions");
  const checkpoint = await T.readSafetensors(join(out, "run", "checkpoint.safetensors"));
  assert.equal(checkpoint.metadata.epoch, "2");
  for (
    const [r, dir] of [[first, "val-epochs1-steps2-lr0.1"], [second, "val-epochs2-steps2-lr0.1"]] as const
  ) {
    assert.equal(r.auc.A, await aurocFromCsv(join(out, dir, "scores.csv"), "A"), `${dir}: AUROC of A`);
    assert.equal(r.auc.PD, await aurocFromCsv(join(out, dir, "scores.csv"), "PD"), `${dir}: AUROC of PD`);
  }
  const val = await T.readSafetensors(join(out, "val.safetensors"));
  assert.deepEqual(val.tensors.get("images")!.shape, [40, 32, 32]);
  assert.equal(JSON.parse(val.metadata.ids).length, 40);
  assert.equal(JSON.parse(await Deno.readTextFile(join(out, "recipe.json"))).model.width, 4);
  assert.match(budgetMarkdown(lines), /\| 32 \| 4 \| 1 \(\d+\) \| 2 \| 2 \(0\.1\) \|/);
  const points = await Deno.readTextFile(join(out, "points.jsonl"));
  await assert.rejects(
    () => runBudgetPoint({ ...TINY, epochs: 2 }, out, { quiet: true, log: () => {} }),
    /holds this point's scores already/,
  );
  assert.equal(await Deno.readTextFile(join(out, "points.jsonl")), points, "a refused point writes nothing");
  await assert.rejects(
    () => runBudgetPoint({ ...TINY, epochs: 3, width: 8 }, out, { quiet: true, log: () => {} }),
    /holds a run of another budget/,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("deno task budget refuses bad flags by name, before any work", async () => {
  const script = new URL("../scripts/budget.ts", import.meta.url).pathname;
  for (
    const [flags, message] of [
      [["--size", "48"], /--size: expected 32 or 64, got "48"/],
      [["--epochs", "0"], /--epochs: expected an integer ≥ 1, got "0"/],
      [["--val-patches=-3"], /--val-patches: expected an integer ≥ 2, got "-3"/],
      [["--d-norms", "both"], /--d-norms: expected normal-images or training-steps/],
      [[], /--out DIR is required/],
    ] as const
  ) {
    const dir = await Deno.makeTempDir();
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...(flags.length ? ["--out", join(dir, "p")] : []), ...flags],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 1, flags.join(" "));
    assert.match(new TextDecoder().decode(r.stderr), message);
    assert.deepEqual([...Deno.readDirSync(dir)], [], `${flags.join(" ")}: nothing written`);
    await Deno.remove(dir, { recursive: true });
  }
});
