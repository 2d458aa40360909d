// `deno task budget`: one point of the budget curve on the phantom validation patches, or the table of
// points measured so far.

import { parseArgs } from "node:util";
import { numberFlag, runCli } from "./cli.ts";
import { BUDGET_DEFAULTS, budgetMarkdown, type BudgetResult, runBudgetPoint } from "../anogan/budget.ts";

const d = BUDGET_DEFAULTS;
const HELP = `deno task budget --out DIR [options]
deno task budget --table DIR [DIR ...]

Measures one point of the budget curve on the phantom validation patches (never the test set): trains
the DCGAN on healthy phantom patches (or resumes DIR's run to more epochs), maps and scores a balanced
subset of the validation patches with AnoGAN and PD, evaluates them, and appends the AUROCs, the
stratified and pixel-level figures and the wall times to DIR/points.jsonl.

  --size S             patch side, 32 or 64 (default ${d.size})
  --width W            DCGAN base width (default ${d.width})
  --epochs N           training epochs (default ${d.epochs}); a larger N later resumes the same run
  --volumes V          healthy training volumes (default ${d.volumes}), --patches-per-bscan K (default ${d.patchesPerBscan})
  --steps Γ            mapping updates of z (default ${d.steps}), --lr LR (default ${d.lr})
  --val-patches N      validation patches scored, half with fluid (default ${d.valPatches})
  --d-norms MODE       normal-images (default) or training-steps: D's batch-norm statistics at test time
  --seed S             default ${d.seed}
  --export             also write the training and validation patches (train.safetensors,
                       val.safetensors, recipe.json) for scripts/budget_reference_torch.py
  --table DIR ...      print the points of these folders' points.jsonl as a markdown table
  --quiet              no progress bars
`;

async function main(): Promise<number> {
  const { values: a, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      size: { type: "string" },
      width: { type: "string" },
      epochs: { type: "string" },
      volumes: { type: "string" },
      "patches-per-bscan": { type: "string" },
      steps: { type: "string" },
      lr: { type: "string" },
      "val-patches": { type: "string" },
      "d-norms": { type: "string" },
      seed: { type: "string" },
      export: { type: "boolean", default: false },
      table: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (a.table) {
    const results: BudgetResult[] = [];
    for (const dir of positionals) {
      const text = await Deno.readTextFile(`${dir}/points.jsonl`);
      results.push(...text.trim().split("\n").map((line) => JSON.parse(line)));
    }
    console.log(budgetMarkdown(results));
    return 0;
  }
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}" (see --help)`);
  if (!a.out) throw new Error("--out DIR is required (see --help)");
  const norms = a["d-norms"] ?? d.discriminatorNorms;
  if (norms !== "normal-images" && norms !== "training-steps") {
    throw new Error(`--d-norms: expected normal-images or training-steps, got "${norms}"`);
  }
  const point = {
    size: numberFlag("size", a.size, d.size),
    width: numberFlag("width", a.width, d.width),
    epochs: numberFlag("epochs", a.epochs, d.epochs),
    volumes: numberFlag("volumes", a.volumes, d.volumes),
    patchesPerBscan: numberFlag("patches-per-bscan", a["patches-per-bscan"], d.patchesPerBscan),
    steps: numberFlag("steps", a.steps, d.steps),
    lr: numberFlag("lr", a.lr, d.lr, false),
    valPatches: numberFlag("val-patches", a["val-patches"], d.valPatches),
    seed: numberFlag("seed", a.seed, d.seed),
    discriminatorNorms: norms as "normal-images" | "training-steps",
  };
  if (point.size !== 32 && point.size !== 64) throw new Error(`--size: expected 32 or 64, got ${point.size}`);
  const positive: [string, number][] = [
    ["width", point.width],
    ["epochs", point.epochs],
    ["volumes", point.volumes],
    ["patches-per-bscan", point.patchesPerBscan],
    ["steps", point.steps],
    ["lr", point.lr],
    ["val-patches", point.valPatches],
  ];
  for (const [flag, value] of positive) {
    if (!(value > 0)) throw new Error(`--${flag}: expected a positive number, got ${value}`);
  }
  if (point.seed < 0) throw new Error(`--seed: expected an integer ≥ 0, got ${point.seed}`);
  const r = await runBudgetPoint(point, a.out, {
    quiet: a.quiet,
    log: (line) => console.log(line),
    exportData: a.export,
  });
  console.log(budgetMarkdown([r]));
  return 0;
}

await runCli(main);
