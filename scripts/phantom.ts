// deno task phantom --out DIR --healthy-volumes N --pathological-volumes M --seed S
//
// Writes synthetic OCT B-scans and masks as PNG with manifest.json and a sample sheet, then prints
// how well trivial intensity statistics detect fluid on the default patch test set.

import { parseArgs } from "node:util";
import {
  DEFAULT_BSCANS,
  DEFAULT_HEIGHT,
  DEFAULT_TEST_SET,
  DEFAULT_WIDTH,
  defaultPatchTestSet,
  difficultyReport,
  writePhantomDataset,
} from "../anogan/data/phantom.ts";

const USAGE = `usage: deno task phantom --out DIR [options]

  --out DIR                   output folder (must not exist, or be empty)
  --healthy-volumes N         healthy volumes (default 10)
  --pathological-volumes M    volumes with fluid and hyperreflective foci (default 10)
  --seed S                    non-negative integer seed (default 1)
  --bscans B                  B-scans per volume (default ${DEFAULT_BSCANS})
  --width W, --height H       B-scan size in pixels (default ${DEFAULT_WIDTH}×${DEFAULT_HEIGHT})
  --bit-depth 8|16            B-scan PNG bit depth (default 8)
  --no-report                 skip the difficulty report
`;

function integerFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new Error(`--${name} expects a non-negative integer, got "${value}"`);
  }
  return Number(value);
}

function parseCommandLine(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: "string" },
      "healthy-volumes": { type: "string" },
      "pathological-volumes": { type: "string" },
      seed: { type: "string" },
      bscans: { type: "string" },
      width: { type: "string" },
      height: { type: "string" },
      "bit-depth": { type: "string" },
      "no-report": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (!values.out) throw new Error(`--out DIR is required\n\n${USAGE}`);
  const bitDepth = integerFlag("bit-depth", values["bit-depth"], 8);
  if (bitDepth !== 8 && bitDepth !== 16) throw new Error(`--bit-depth expects 8 or 16, got ${bitDepth}`);
  return {
    out: values.out,
    healthyVolumes: integerFlag("healthy-volumes", values["healthy-volumes"], 10),
    pathologicalVolumes: integerFlag("pathological-volumes", values["pathological-volumes"], 10),
    seed: integerFlag("seed", values.seed, 1),
    bscans: integerFlag("bscans", values.bscans, DEFAULT_BSCANS),
    width: integerFlag("width", values.width, DEFAULT_WIDTH),
    height: integerFlag("height", values.height, DEFAULT_HEIGHT),
    bitDepth: bitDepth as 8 | 16,
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
  const started = performance.now();
  const { images } = await writePhantomDataset({ ...options, onProgress: (m) => console.log(m) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `wrote ${images} B-scans with masks, sample_sheet.png and manifest.json to ${options.out} (${seconds} s)`,
  );
  if (options.report) printDifficultyReport();
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`phantom: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
