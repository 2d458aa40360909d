// `deno task budget`: one point of the budget curve on the phantom validation patches, or the table of
// points measured so far.

import {
  allowOnly,
  booleanFlag,
  enumFlag,
  integerFlag,
  numberFlag,
  parseFlags,
  pathFlag,
  runCli,
  seedFlag,
} from "./cli.ts";
import { BUDGET_DEFAULTS, budgetMarkdown, type BudgetResult, runBudgetPoint } from "../harness/budget.ts";

const d = BUDGET_DEFAULTS;
const HELP = `deno task budget --out DIR [options]
deno task budget --table DIR [DIR ...]

Measures one point of the budget curve on the phantom validation patches (never the test set): trains
the DCGAN on healthy phantom patches (or resumes DIR's run to more epochs), maps and scores a balanced
subset of the validation patches with AnoGAN and PD, evaluates them, and appends the AUROCs, the
stratified and pixel-level figures and the wall times to DIR/points.jsonl.

  --size S             patch side, 32 or 64 (default ${d.size})
  --width W            DCGAN base width, ≥ 1 (default ${d.width})
  --epochs N           training epochs, ≥ 1 (default ${d.epochs}); a larger N later resumes the same run
  --volumes V          healthy training volumes, ≥ 1 (default ${d.volumes})
  --patches-per-bscan K  random patches per training B-scan, ≥ 1 (default ${d.patchesPerBscan})
  --steps Γ            mapping updates of z, ≥ 1 (default ${d.steps}); --lr LR, > 0 (default ${d.lr})
  --val-patches N      validation patches scored, half with fluid, ≥ 2 (default ${d.valPatches})
  --d-norms MODE       normal-images (default) or training-steps: D's batch-norm statistics at test time
  --seed S             an integer in [0, 2^32) (default ${d.seed})
  --export             also write the training and validation patches (train.safetensors,
                       val.safetensors, recipe.json) for scripts/budget_reference_torch.py
  --table DIR ...      print the points of these folders' points.jsonl as a markdown table (no other flag)
  --quiet              no progress bars
  --help               this text
`;

// The command line, one validator per flag; every flag is checked before any work.
const FLAGS = {
  out: pathFlag(),
  size: enumFlag(["32", "64"], String(d.size) as "32" | "64"),
  width: integerFlag({ min: 1 }, d.width),
  epochs: integerFlag({ min: 1 }, d.epochs),
  volumes: integerFlag({ min: 1 }, d.volumes),
  "patches-per-bscan": integerFlag({ min: 1 }, d.patchesPerBscan),
  steps: integerFlag({ min: 1 }, d.steps),
  lr: numberFlag({ min: 0, exclusiveMin: true }, d.lr),
  // A balanced subset takes half of its patches from each class: two at least.
  "val-patches": integerFlag({ min: 2 }, d.valPatches),
  "d-norms": enumFlag(["normal-images", "training-steps"], d.discriminatorNorms),
  seed: seedFlag(d.seed),
  export: booleanFlag(),
  table: booleanFlag(),
  quiet: booleanFlag(),
};

async function main(): Promise<number> {
  const f = parseFlags(Deno.args, FLAGS, { positionals: true });
  if (f.help) {
    console.log(HELP);
    return 0;
  }
  const { values: a, given, positionals } = f;
  if (a.table) {
    allowOnly(given, ["table", "quiet"], "--table prints the points measured so far", "--table");
    if (positionals.length === 0) throw new Error("--table needs at least one DIR (see --help)");
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
  const point = {
    size: Number(a.size),
    width: a.width,
    epochs: a.epochs,
    volumes: a.volumes,
    patchesPerBscan: a["patches-per-bscan"],
    steps: a.steps,
    lr: a.lr,
    valPatches: a["val-patches"],
    seed: a.seed,
    discriminatorNorms: a["d-norms"],
  };
  const r = await runBudgetPoint(point, a.out, {
    quiet: a.quiet,
    log: (line) => console.log(line),
    exportData: a.export,
  });
  if (r === null) return 130; // Ctrl-C: checkpointed, the same command continues
  console.log(budgetMarkdown([r]));
  return 0;
}

await runCli(main);
