// deno task phantom --out DIR --healthy-volumes N --pathological-volumes M --seed S
//
// Writes synthetic OCT B-scans and masks as PNG with manifest.json and a sample sheet, then prints
// how well trivial intensity statistics detect fluid on the default patch test set.

import { booleanFlag, enumFlag, integerFlag, parseFlags, pathFlag, runCli, seedFlag } from "./cli.ts";
import {
  DEFAULT_BSCANS,
  DEFAULT_HEIGHT,
  DEFAULT_TEST_SET,
  DEFAULT_WIDTH,
  defaultPatchTestSet,
  difficultyReport,
  writePhantomDataset,
} from "../harness/data/phantom.ts";

const USAGE = `usage: deno task phantom --out DIR [options]

  --out DIR                   output folder (must not exist, or be empty)
  --healthy-volumes N         healthy volumes, ≥ 0 (default 10)
  --pathological-volumes M    volumes with fluid and hyperreflective foci, ≥ 0 (default 10); N + M ≥ 1
  --seed S                    an integer in [0, 2^32) (default 1)
  --bscans B                  B-scans per volume, ≥ 1 (default ${DEFAULT_BSCANS})
  --width W, --height H       B-scan size in pixels, each ≥ 64 (default ${DEFAULT_WIDTH}×${DEFAULT_HEIGHT})
  --bit-depth 8|16            B-scan PNG bit depth (default 8)
  --no-report                 skip the difficulty report
  --help                      this text
`;

// The command line, one validator per flag; every flag is checked before any work. The bounds on
// width and height are the generator's own (harness/data/phantom.ts), checked here before any write.
const FLAGS = {
  out: pathFlag(),
  "healthy-volumes": integerFlag({ min: 0 }, 10),
  "pathological-volumes": integerFlag({ min: 0 }, 10),
  seed: seedFlag(1),
  bscans: integerFlag({ min: 1 }, DEFAULT_BSCANS),
  width: integerFlag({ min: 64 }, DEFAULT_WIDTH),
  height: integerFlag({ min: 64 }, DEFAULT_HEIGHT),
  "bit-depth": enumFlag(["8", "16"], "8"),
  "no-report": booleanFlag(),
};

/** The data set's options from the command line; undefined after --help. */
function parseCommandLine(args: string[]) {
  const f = parseFlags(args, FLAGS);
  if (f.help) return undefined;
  const { values } = f;
  if (!values.out) throw new Error("--out DIR is required (see --help)");
  if (values["healthy-volumes"] + values["pathological-volumes"] === 0) {
    throw new Error("--healthy-volumes and --pathological-volumes are both 0; ask for at least one volume");
  }
  return {
    out: values.out,
    healthyVolumes: values["healthy-volumes"],
    pathologicalVolumes: values["pathological-volumes"],
    seed: values.seed,
    bscans: values.bscans,
    width: values.width,
    height: values.height,
    bitDepth: Number(values["bit-depth"]) as 8 | 16,
    report: !values["no-report"],
  };
}

function printDifficultyReport(): void {
  const c = DEFAULT_TEST_SET;
  const started = performance.now();
  const report = difficultyReport(defaultPatchTestSet());
  console.log(
    `\ndifficulty: default patch test set (seed ${c.seed}; ${c.healthyVolumes} healthy + ` +
      `${c.pathologicalVolumes} pathological volumes × ${c.bscans} B-scans × ${c.patchesPerBscan} patches ` +
      `of ${c.patchSize}×${c.patchSize}): ${report.patches} patches, ${report.positives} with fluid`,
  );
  for (const d of report.detectors) {
    console.log(
      `  ${d.name.padEnd(40)} AUROC ${d.auroc.toFixed(3)}  (either sign ${d.separation.toFixed(3)})`,
    );
  }
  const worst = Math.max(...report.detectors.map((d) => d.separation));
  const verdict = worst <= 0.75 ? "ok: ≤ 0.75" : "TOO EASY: > 0.75";
  console.log(
    `  best trivial detector ${worst.toFixed(3)} — ${verdict} (${
      Math.round(performance.now() - started)
    } ms)`,
  );
}

async function main(): Promise<void> {
  const options = parseCommandLine(Deno.args);
  if (!options) return console.log(USAGE);
  const started = performance.now();
  const { images } = await writePhantomDataset({ ...options, onProgress: (m) => console.log(m) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `wrote ${images} B-scans with masks, sample_sheet.png and manifest.json to ${options.out} (${seconds} s)`,
  );
  if (options.report) printDifficultyReport();
}

if (import.meta.main) await runCli(main);
