// deno task eval --scores OUT/scores.csv [more.csv ...] [--train-scores normals.csv] [--out DIR] [--seed S]
//
// Prints the paper's Table 1 for every score column and writes eval.json and report.html.

import { parseArgs } from "node:util";
import { runEvaluation } from "../anogan/report/report.ts";
import { DEFAULT_RESIDUAL_SMOOTHING } from "../anogan/eval.ts";

const USAGE = `usage: deno task eval --scores OUT/scores.csv [more.csv ...] [options]

  --scores FILE ...         score files from \`deno task score\`: shards of one run concatenate, and runs
                            of other methods over the same images join by id (one row per image)
  --train-scores FILE ...   scores of training normals, for the Fig. 4(c, d) histograms
  --out DIR                 where eval.json and report.html go (default: the first score file's folder)
  --seed S                  seed of the bootstrap and of the Fig. 3 examples (default 0)
  --bootstrap N             bootstrap replicates for the AUC interval (default 1000)
  --examples K              images per block of the Fig. 3 grid (default 5)
  --smooth SIGMA            σ in pixels of the smoothed residual |g_σ ∗ (x − G(z))| reported beside
                            the residual at pixel level (default ${DEFAULT_RESIDUAL_SMOOTHING}; 0: the residual only)
`;

function integerFlag(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new Error(`--${name} expects an integer ≥ ${min}, got "${value}"`);
  }
  return Number(value);
}

function smoothingFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_RESIDUAL_SMOOTHING;
  const sigma = Number(value);
  if (value.trim() === "" || !Number.isFinite(sigma) || sigma < 0 || sigma > 16) {
    throw new Error(`--smooth expects a σ in pixels between 0 and 16, got "${value}"`);
  }
  return sigma;
}

/** Files follow their flag: `--scores a.csv b.csv --train-scores t.csv` (repeating a flag works too). */
function groupFileArguments(args: string[]): string[] {
  const grouped: string[] = [];
  let current: string | undefined;
  for (const arg of args) {
    if (arg.startsWith("--")) current = ["--scores", "--train-scores"].includes(arg) ? arg : undefined;
    else if (current && grouped[grouped.length - 1] !== current) grouped.push(current);
    grouped.push(arg);
  }
  return grouped;
}

function parseCommandLine(args: string[]) {
  const { values } = parseArgs({
    args: groupFileArguments(args),
    options: {
      scores: { type: "string", multiple: true },
      "train-scores": { type: "string", multiple: true },
      out: { type: "string" },
      seed: { type: "string" },
      bootstrap: { type: "string" },
      examples: { type: "string" },
      smooth: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (!values.scores?.length) throw new Error(`--scores FILE is required\n\n${USAGE}`);
  return {
    scores: values.scores,
    trainScores: values["train-scores"],
    out: values.out,
    seed: integerFlag("seed", values.seed, 0),
    bootstrapSamples: integerFlag("bootstrap", values.bootstrap, 1000, 1),
    examples: integerFlag("examples", values.examples, 5),
    residualSmoothing: smoothingFlag(values.smooth),
  };
}

async function main(): Promise<void> {
  const options = parseCommandLine(Deno.args);
  const outputs = await runEvaluation(options);
  console.log(outputs.markdown);
  if (outputs.strataMarkdown) {
    console.log(`\nDetection by lesion share and kind (AUC, and sensitivity at Table 1's cut-off):\n`);
    console.log(outputs.strataMarkdown);
  }
  for (const p of outputs.evaluation.pixel) {
    console.log(
      `pixel level, ${p.map}, ${p.truth}: AUROC ${p.auroc.toFixed(3)}, best Dice ${p.dice.toFixed(3)} ` +
        `at ≥ ${p.diceThreshold.toFixed(3)}; mass inside ${p.massInside.toFixed(3)} vs area ` +
        `${p.areaInside.toFixed(3)} (${p.images} images; best Dice and its threshold chosen on this set, ` +
        `in-sample; residuals from ${p.from})`,
    );
  }
  console.log(`\nwrote ${outputs.jsonPath}\nwrote ${outputs.htmlPath}`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`eval: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
