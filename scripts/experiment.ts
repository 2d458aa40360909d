// `deno task experiment fmnist`: the one-class Fashion-MNIST protocol (see --help).

import { parseArgs } from "node:util";
import { runCli } from "./cli.ts";
import { FMNIST_FULL, FMNIST_QUICK, runFmnistExperiment, summaryMarkdown } from "../anogan/experiment.ts";

const HELP = `deno task experiment fmnist [--quick] [--classes 0,1,...] [--out DIR] [--seed S]

For each class: trains the 32×32 DCGAN on that class's 6 000 training images (28×28 padded to 32),
scores the test images with AnoGAN (A, R, D) and PD — that class normal, the other nine anomalous —
and reports AUROC per class and the mean, beside published figures for the same protocol.

  --classes LIST   classes to run (default all ten: 0–9)
  --quick          for a CPU: width ${FMNIST_QUICK.width} (not ${FMNIST_FULL.width}), ${FMNIST_QUICK.epochs} epochs (not ${FMNIST_FULL.epochs}), Γ = ${FMNIST_QUICK.steps}
                   (not ${FMNIST_FULL.steps}) with lr ${FMNIST_QUICK.lr}, and a seeded random ${FMNIST_QUICK.testImages} of the 10 000 test images
  --out DIR        output folder (default out/fmnist)
  --fmnist-dir D   Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --seed S         default 0
  --quiet          no progress bars
`;

async function main(): Promise<void> {
  const { values: a, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      quick: { type: "boolean", default: false },
      classes: { type: "string", default: "0,1,2,3,4,5,6,7,8,9" },
      out: { type: "string", default: "out/fmnist" },
      "fmnist-dir": { type: "string" },
      seed: { type: "string", default: "0" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) return console.log(HELP);
  if (positionals[0] !== "fmnist") {
    throw new Error(`unknown experiment "${positionals[0] ?? ""}"; expected: fmnist`);
  }
  const classes = a.classes.split(",").map((c) => Number(c.trim()));
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c > 9) throw new Error(`--classes: ${c} is not a class in 0–9`);
  }
  const settings = a.quick ? FMNIST_QUICK : FMNIST_FULL;
  const t0 = performance.now();
  const results = await runFmnistExperiment({
    classes,
    settings,
    out: a.out,
    seed: Number(a.seed),
    fmnistDir: a["fmnist-dir"],
    quiet: a.quiet,
    log: (l) => console.log(l),
  });
  console.log(`\n${summaryMarkdown(results, settings)}`);
  console.log(`done in ${((performance.now() - t0) / 60000).toFixed(1)} min; results in ${a.out}/summary.md`);
}

await runCli(main);
