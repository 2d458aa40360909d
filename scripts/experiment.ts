// `deno task experiment fmnist`: the one-class Fashion-MNIST protocol (see --help).

import { booleanFlag, listFlag, parseFlags, pathFlag, runCli, seedFlag } from "./cli.ts";
import {
  FMNIST_FULL,
  FMNIST_QUICK,
  runFmnistExperiment,
  summarizeExperiments,
  summaryMarkdown,
} from "../harness/experiment.ts";

const HELP = `deno task experiment fmnist [--quick] [--classes 0,1,...] [--out DIR] [--seed S]
deno task experiment summary DIR... --out OUT [--force]

For each class: trains the 32×32 DCGAN on that class's 6 000 training images (28×28 padded to 32),
scores the test images with AnoGAN (A, R, D) and PD — that class normal, the other nine anomalous —
and reports AUROC per class and the mean, beside published figures for the same protocol.

  --classes LIST   classes to run, comma-separated, each once (default all ten: 0–9)
  --quick          for a CPU: width ${FMNIST_QUICK.width} (not ${FMNIST_FULL.width}), up to ${FMNIST_QUICK.epochs} epochs (not ${FMNIST_FULL.epochs}) keeping the
                   epoch whose G fits held-out training images of the class best, aCAE and encoder
                   ${FMNIST_QUICK.acaeEpochs} epochs, Γ = ${FMNIST_QUICK.steps} (not ${FMNIST_FULL.steps}) with lr ${FMNIST_QUICK.lr}, and a seeded random ${FMNIST_QUICK.testImages}
                   of the 10 000 test images
  --out DIR        output folder (default out/fmnist); written aside and moved into place when complete
  --force          replace DIR when it already holds files
  --fmnist-dir D   Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --seed S         an integer in [0, 2^32) (default 0)
  --quiet          no progress bars
  --help           this text

summary joins experiments run class by class (e.g. by deno task cluster experiment) into one
summary.md: each DIR is an experiment's --out folder, or a folder of them; they must share their
settings and seed.
`;

const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

// The command line, one validator per flag; every flag is checked before any work.
const FLAGS = {
  quick: booleanFlag(),
  classes: listFlag(CLASSES, CLASSES),
  out: pathFlag({ fallback: "out/fmnist" }),
  "fmnist-dir": pathFlag({ exists: "folder" }),
  seed: seedFlag(0),
  quiet: booleanFlag(),
  force: booleanFlag(),
};

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, FLAGS, { positionals: true });
  if (f.help) return console.log(HELP);
  const { values: a, positionals, given } = f;
  if (positionals.length === 0) {
    throw new Error("name the experiment: deno task experiment fmnist (see --help)");
  }
  if (positionals[0] === "summary") {
    if (positionals.length === 1) {
      throw new Error("experiment summary: give the experiments' folders (see --help)");
    }
    if (!given.has("out")) throw new Error("experiment summary needs --out OUT");
    const results = await summarizeExperiments(positionals.slice(1), a.out, a.force);
    console.log(`joined ${results.length} classes into ${a.out}/summary.md`);
    return;
  }
  if (positionals.length > 1 || positionals[0] !== "fmnist") {
    throw new Error(`unknown experiment "${positionals.join(" ")}"; expected: fmnist`);
  }
  const classes = a.classes.map(Number);
  const settings = a.quick ? FMNIST_QUICK : FMNIST_FULL;
  const t0 = performance.now();
  const results = await runFmnistExperiment({
    classes,
    settings,
    out: a.out,
    seed: a.seed,
    fmnistDir: a["fmnist-dir"],
    quiet: a.quiet,
    force: a.force,
    log: (l) => console.log(l),
  });
  console.log(`\n${summaryMarkdown(results, settings)}`);
  console.log(`done in ${((performance.now() - t0) / 60000).toFixed(1)} min; results in ${a.out}/summary.md`);
}

await runCli(main);
