// deno task eval --scores OUT/scores.csv [more.csv ...] [--train-scores normals.csv] [--out DIR] [--seed S]
//
// Prints the paper's Table 1 for every score column and writes eval.json and report.html.

import { integerFlag, numberFlag, parseFlags, pathFlag, pathListFlag, runCli, seedFlag } from "./cli.ts";
import { runEvaluation } from "../harness/report/report.ts";
import { DEFAULT_RESIDUAL_SMOOTHING } from "../harness/eval/evaluation.ts";

const USAGE = `usage: deno task eval --scores OUT/scores.csv [more.csv ...] [options]

  --scores FILE ...         score files from \`deno task score\`: shards of one run concatenate, and runs
                            of other methods over the same images join by id (one row per image)
  --train-scores FILE ...   scores of training normals, for the Fig. 4(c, d) histograms
  --out DIR                 where eval.json and report.html go (default: the first score file's folder)
  --seed S                  seed of the bootstrap and of the Fig. 3 examples, in [0, 2^32) (default 0)
  --bootstrap N             bootstrap replicates for the AUC interval, ≥ 1 (default 1000)
  --examples K              images per block of the Fig. 3 grid, ≥ 0 (default 5)
  --smooth SIGMA            σ in pixels, in [0, 16], of the smoothed residual |g_σ ∗ (x − G(z))|
                            reported beside the residual at pixel level
                            (default ${DEFAULT_RESIDUAL_SMOOTHING}; 0: the residual only)
  --help                    this text
`;

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

// The command line, one validator per flag; every flag is checked before any work.
const FLAGS = {
  scores: pathListFlag(),
  "train-scores": pathListFlag(),
  out: pathFlag(),
  seed: seedFlag(0),
  bootstrap: integerFlag({ min: 1 }, 1000),
  examples: integerFlag({ min: 0 }, 5),
  smooth: numberFlag({ min: 0, max: 16 }, DEFAULT_RESIDUAL_SMOOTHING),
};

/** The evaluation's options from the command line; undefined after --help. */
function parseCommandLine(args: string[]) {
  const f = parseFlags(groupFileArguments(args), FLAGS);
  if (f.help) return undefined;
  const { values } = f;
  if (!values.scores?.length) throw new Error("--scores FILE is required (see --help)");
  return {
    scores: values.scores,
    trainScores: values["train-scores"],
    out: values.out,
    seed: values.seed,
    bootstrapSamples: values.bootstrap,
    examples: values.examples,
    residualSmoothing: values.smooth,
  };
}

async function main(): Promise<void> {
  const options = parseCommandLine(Deno.args);
  if (!options) return console.log(USAGE);
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

if (import.meta.main) await runCli(main);
