// `deno task train`: adversarial training of the DCGAN (or the aCAE baseline) on normal images (see --help).

import { parseArgs } from "node:util";
import { numberFlag, runCli } from "./cli.ts";
import * as T from "../core/mod.ts";
import { DATA_SPEC_HELP, loadTrainingSource } from "../anogan/data/source.ts";
import { ACAE_RECON_WEIGHT } from "../anogan/acae.ts";
import { DCGAN_DEFAULTS, type DcganConfig } from "../anogan/dcgan.ts";
import { NanLossError, train, TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";
import { provenance } from "../anogan/provenance.ts";

const HELP = `deno task train --data SOURCE [--out RUN_DIR] [options]
deno task train --resume RUN_DIR [--epochs N]

Trains the DCGAN of Schlegl et al. (2017) on normal images only; --model acae trains the paper's aCAE
baseline instead (an encoder of D's depth, G as decoder, a discriminator on reconstructions).

Data:
  --data SOURCE          ${DATA_SPEC_HELP}
  --fmnist-dir DIR       Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --patches-per-image K  random patches per image for png: and phantom (default 32)
  --phantom-volumes N    healthy phantom volumes to draw patches from (default 2)
  --limit N              use at most N training images (quick runs)

Model:
  --model dcgan|acae     what to train (default dcgan)
  --recon-weight W       aCAE: weight of the L1 reconstruction term (default ${ACAE_RECON_WEIGHT})
  --size S               image side: 64 (the paper's 4-layer DCGAN) or 32 (3 layers, for 28×28
                         Fashion-MNIST padded to 32); default 32 for fmnist:, else 64
  --width W              base number of filters (the paper: 64; smaller for CPU runs; default 64)
  --z-dim Z              latent dimension (default ${DCGAN_DEFAULTS.zDim})

Optimisation:
  --epochs N             default ${TRAIN_DEFAULTS.epochs}
  --batch B              default ${TRAIN_DEFAULTS.batch}
  --lr LR                Adam learning rate (default ${TRAIN_DEFAULTS.lr})
  --beta1 B1             Adam β1 (default ${TRAIN_DEFAULTS.beta1}); --beta2 B2 (default ${TRAIN_DEFAULTS.beta2})
  --g-steps N            generator updates per discriminator update (default ${TRAIN_DEFAULTS.generatorSteps})
  --d-norms MODE         D's batch-norm statistics in model.safetensors: normal-images (recomputed on
                         the training images after training; default) or training-steps (as the
                         training steps left them, two thirds from generated images)
  --max-steps N          stop after N steps in total (default 0: no limit)
  --seed S               default ${TRAIN_DEFAULTS.seed}

Run:
  --out RUN_DIR          run directory (default runs/<data>-<timestamp>)
  --resume RUN_DIR       continue a run from its last checkpoint (--epochs may extend it)
  --log-every N          read back the mean losses of every N steps (default ${TRAIN_DEFAULTS.logEvery});
                         the progress log also gives each epoch's means
  --quiet                no progress output
  --help                 this text
`;

function discriminatorNormsFlag(value: string | undefined): TrainConfig["discriminatorNorms"] {
  if (value === undefined) return TRAIN_DEFAULTS.discriminatorNorms;
  if (value === "normal-images" || value === "training-steps") return value;
  throw new Error(`--d-norms: expected normal-images or training-steps, got "${value}"`);
}

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    args: Deno.args,
    options: {
      data: { type: "string" },
      model: { type: "string" },
      "recon-weight": { type: "string" },
      "fmnist-dir": { type: "string" },
      "patches-per-image": { type: "string" },
      "phantom-volumes": { type: "string" },
      limit: { type: "string" },
      size: { type: "string" },
      width: { type: "string" },
      "z-dim": { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      beta1: { type: "string" },
      beta2: { type: "string" },
      "g-steps": { type: "string" },
      "max-steps": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      resume: { type: "string" },
      "d-norms": { type: "string" },
      "log-every": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  let cfg: TrainConfig;
  let dir: string;
  let extra: { fmnistDir?: string; patchesPerImage: number; phantomVolumes: number; limit?: number };
  if (a.resume) {
    dir = a.resume;
    let saved: TrainConfig & { extra?: typeof extra };
    try {
      saved = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    } catch (e) {
      throw new Error(`--resume ${dir}: cannot read ${dir}/config.json (${(e as Error).message})`);
    }
    cfg = {
      ...saved,
      epochs: numberFlag("epochs", a.epochs, saved.epochs),
      maxSteps: numberFlag("max-steps", a["max-steps"], 0),
    };
    extra = saved.extra!;
  } else {
    if (!a.data) throw new Error(`--data is required: ${DATA_SPEC_HELP} (see --help)`);
    const size = numberFlag("size", a.size, a.data.startsWith("fmnist:") ? 32 : 64);
    if (size !== 32 && size !== 64) throw new Error(`--size: expected 32 or 64, got ${size}`);
    const model: DcganConfig = {
      size,
      width: numberFlag("width", a.width, DCGAN_DEFAULTS.width),
      zDim: numberFlag("z-dim", a["z-dim"], DCGAN_DEFAULTS.zDim),
    };
    cfg = {
      data: a.data,
      model,
      batch: numberFlag("batch", a.batch, TRAIN_DEFAULTS.batch),
      epochs: numberFlag("epochs", a.epochs, TRAIN_DEFAULTS.epochs),
      lr: numberFlag("lr", a.lr, TRAIN_DEFAULTS.lr, false),
      beta1: numberFlag("beta1", a.beta1, TRAIN_DEFAULTS.beta1, false),
      beta2: numberFlag("beta2", a.beta2, TRAIN_DEFAULTS.beta2, false),
      generatorSteps: numberFlag("g-steps", a["g-steps"], TRAIN_DEFAULTS.generatorSteps),
      seed: numberFlag("seed", a.seed, TRAIN_DEFAULTS.seed),
      logEvery: numberFlag("log-every", a["log-every"], TRAIN_DEFAULTS.logEvery),
      maxSteps: numberFlag("max-steps", a["max-steps"], TRAIN_DEFAULTS.maxSteps),
      discriminatorNorms: discriminatorNormsFlag(a["d-norms"]),
    };
    extra = {
      fmnistDir: a["fmnist-dir"],
      patchesPerImage: numberFlag("patches-per-image", a["patches-per-image"], 32),
      phantomVolumes: numberFlag("phantom-volumes", a["phantom-volumes"], 2),
      limit: a.limit === undefined ? undefined : numberFlag("limit", a.limit, 0),
    };
    const kind = a.model ?? "dcgan";
    if (kind === "acae") {
      cfg.kind = "acae";
      cfg.reconWeight = numberFlag("recon-weight", a["recon-weight"], ACAE_RECON_WEIGHT, false);
    } else if (kind !== "dcgan") {
      throw new Error(`--model: expected dcgan or acae, got "${kind}"`);
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    dir = a.out ?? `runs/${a.data.replace(/[^\w-]+/g, "_")}-${stamp}`;
  }
  for (
    const [k, v] of [["batch", cfg.batch], ["epochs", cfg.epochs], ["g-steps", cfg.generatorSteps], [
      "log-every",
      cfg.logEvery,
    ]] as const
  ) {
    if (v < 1) throw new Error(`--${k}: expected a positive integer, got ${v}`);
  }

  const rt = await T.init();
  const source = await loadTrainingSource(cfg.data, { size: cfg.model.size, seed: cfg.seed, ...extra });
  if (!a.quiet) {
    console.error(`adapter: ${rt.gpu.description}`);
    console.error(`data: ${source.description} (${source.count} images)`);
    console.error(`run: ${dir}`);
  }
  try {
    await train({
      dir,
      source,
      cfg,
      resume: Boolean(a.resume),
      quiet: a.quiet,
      provenance: { ...(await provenance(rt)), extra },
    });
  } catch (e) {
    if (e instanceof NanLossError) {
      console.error(`error: ${e.message}`);
      return 3;
    }
    throw e;
  }
  if (!a.quiet) console.error(`done: ${dir}`);
  return 0;
}

await runCli(main);
