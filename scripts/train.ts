// `deno task train`: adversarial training of the DCGAN (or the aCAE baseline) on normal images (see --help).

import {
  allowOnly,
  enumFlag,
  integerFlag,
  numberFlag,
  parseFlags,
  pathFlag,
  runCli,
  seedFlag,
  trainingDataFlag,
  trainingFlags,
} from "./cli.ts";
import * as T from "../core/mod.ts";
import { DATA_SPEC_HELP, defaultImageSize, loadTrainingSource } from "../harness/data/source.ts";
import { ACAE_RECON_WEIGHT } from "../anogan/acae.ts";
import { DCGAN_DEFAULTS, type DcganConfig } from "../anogan/dcgan.ts";
import { checkTrainable, NanLossError, train } from "../harness/training.ts";
import { TRAIN_DEFAULTS, type TrainConfig } from "../anogan/train.ts";
import { provenance } from "../harness/provenance.ts";
import { checkResumedData, resumedConfig } from "../harness/run.ts";
import { dataFingerprint } from "../harness/data/fingerprint.ts";
import { OwnedFolder } from "../harness/folders.ts";

const HELP = `deno task train --data SOURCE [--out RUN_DIR] [options]
deno task train --resume RUN_DIR [--epochs N] [--max-steps N] [--log-every N] [--quiet]

Trains the DCGAN of Schlegl et al. (2017) on normal images only; --model acae trains the paper's aCAE
baseline instead (an encoder of D's depth, G as decoder, a discriminator on reconstructions).

Data:
  --data SOURCE          ${DATA_SPEC_HELP}
  --fmnist-dir DIR       fmnist: only; Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --patches-per-image K  png: and phantom only; random patches per image, ≥ 1 (default 32)
  --phantom-volumes N    phantom only; healthy volumes to draw patches from, ≥ 1 (default 2)
  --limit N              use at most N ≥ 1 training images (quick runs)

Model:
  --model dcgan|acae     what to train (default dcgan)
  --recon-weight W       --model acae only: weight ≥ 0 of the L1 reconstruction term
                         (default ${ACAE_RECON_WEIGHT})
  --size S               image side: 64 (the paper's 4-layer DCGAN) or 32 (3 layers, for 28×28
                         Fashion-MNIST padded to 32); default 32 for fmnist:, else 64
  --width W              base number of filters, ≥ 1 (the paper: 64; smaller for CPU runs; default 64)
  --z-dim Z              latent dimension, 1 to 4096 (default ${DCGAN_DEFAULTS.zDim})

Optimisation:
  --epochs N             ≥ 1 (default ${TRAIN_DEFAULTS.epochs})
  --batch B              ≥ 1 (default ${TRAIN_DEFAULTS.batch})
  --lr LR                Adam learning rate, > 0 (default ${TRAIN_DEFAULTS.lr})
  --beta1 B1             Adam β1 in [0, 1) (default ${TRAIN_DEFAULTS.beta1})
  --beta2 B2             Adam β2 in [0, 1) (default ${TRAIN_DEFAULTS.beta2})
  --g-steps N            generator updates per discriminator update, ≥ 1
                         (default ${TRAIN_DEFAULTS.generatorSteps})
  --d-norms MODE         D's batch-norm statistics in model.safetensors: normal-images (recomputed on
                         the training images after training; default) or training-steps (as the
                         training steps left them, two thirds from generated images)
  --model-epoch WHICH    the epoch whose G and D the model is: last (default), or held-out — the epoch
                         whose G reproduces the held-out normal training images best (after each epoch
                         they are mapped for a few steps; no test image takes part)
  --max-steps N          stop after N ≥ 0 steps in total (default 0: no limit)
  --seed S               an integer in [0, 2^32) (default ${TRAIN_DEFAULTS.seed})

Run:
  --out RUN_DIR          run directory (default runs/<data>-<timestamp>); one that holds files is refused
  --force                replace RUN_DIR when it holds files (a finished run, anything else); with
                         --resume: go on although the training data changed since the run started
  --resume RUN_DIR       continue a run from its last checkpoint with the run's own settings: --epochs
                         (to extend it), --max-steps, --log-every and --quiet may be given, nothing else
  --log-every N          read back the mean losses of every N ≥ 1 steps (default ${TRAIN_DEFAULTS.logEvery});
                         the progress log also gives each epoch's means
  --quiet                no progress output
  --help                 this text
`;

// The command line, one validator per flag; every flag is checked before any work.
const FLAGS = {
  data: trainingDataFlag(),
  "fmnist-dir": pathFlag({ exists: "folder" }),
  "patches-per-image": integerFlag({ min: 1 }, 32),
  "phantom-volumes": integerFlag({ min: 1 }, 2),
  limit: integerFlag({ min: 1 }),
  model: enumFlag(["dcgan", "acae"], "dcgan"),
  "recon-weight": numberFlag({ min: 0 }, ACAE_RECON_WEIGHT),
  size: enumFlag(["32", "64"]),
  width: integerFlag({ min: 1 }, DCGAN_DEFAULTS.width),
  // The mapping draws z₁ from at most 4 096 values per image (anogan/mapping.ts, initialLatents): a
  // larger z would train, then fail to score.
  "z-dim": integerFlag({ min: 1, max: 4096 }, DCGAN_DEFAULTS.zDim),
  ...trainingFlags(TRAIN_DEFAULTS),
  "g-steps": integerFlag({ min: 1 }, TRAIN_DEFAULTS.generatorSteps),
  "d-norms": enumFlag(["normal-images", "training-steps"], TRAIN_DEFAULTS.discriminatorNorms!),
  "model-epoch": enumFlag(["last", "held-out"], "last"),
  seed: seedFlag(TRAIN_DEFAULTS.seed),
  out: pathFlag(),
  resume: pathFlag({ exists: "folder" }),
};

/**
 * What a resume may change; everything else is the run's own (config.json). --force on a resume
 * accepts training data that changed since the run started.
 */
const RESUME_FLAGS = ["resume", "epochs", "max-steps", "log-every", "quiet", "force"];

async function main(): Promise<number> {
  const f = parseFlags(Deno.args, FLAGS);
  if (f.help) {
    console.log(HELP);
    return 0;
  }
  const { values: a, given } = f;
  let cfg: TrainConfig;
  let dir: string;
  let extra: { fmnistDir?: string; patchesPerImage: number; phantomVolumes: number; limit?: number };
  if (a.resume) {
    dir = a.resume;
    allowOnly(given, RESUME_FLAGS, `--resume continues ${dir} with its own settings`, "--resume");
    const saved = await resumedConfig<TrainConfig & { extra: typeof extra }>(dir, {
      epochs: given.has("epochs") ? a.epochs : undefined,
      maxSteps: a["max-steps"],
      logEvery: a["log-every"],
    });
    cfg = saved;
    extra = saved.extra;
  } else {
    if (!a.data) throw new Error(`--data is required: ${DATA_SPEC_HELP} (see --help)`);
    const data = a.data;
    const kind = data.split(":")[0];
    const needs = (flag: string, kinds: string[], what: string) => {
      if (given.has(flag) && !kinds.includes(kind)) {
        throw new Error(`--${flag} is for ${what}; --data ${data} does not use it`);
      }
    };
    needs("fmnist-dir", ["fmnist"], "fmnist: data");
    needs("patches-per-image", ["png", "phantom"], "png: and phantom data");
    needs("phantom-volumes", ["phantom"], "phantom data");
    if (given.has("recon-weight") && a.model !== "acae") {
      throw new Error(`--recon-weight is for --model acae; --model ${a.model} does not use it`);
    }
    const model: DcganConfig = {
      size: a.size ? Number(a.size) : defaultImageSize(data),
      width: a.width,
      zDim: a["z-dim"],
    };
    cfg = {
      data,
      model,
      batch: a.batch,
      epochs: a.epochs,
      lr: a.lr,
      beta1: a.beta1,
      beta2: a.beta2,
      generatorSteps: a["g-steps"],
      seed: a.seed,
      logEvery: a["log-every"] ?? TRAIN_DEFAULTS.logEvery,
      maxSteps: a["max-steps"],
      discriminatorNorms: a["d-norms"],
      ...(a["model-epoch"] === "held-out" ? { modelEpoch: "held-out" as const } : {}),
    };
    extra = {
      fmnistDir: a["fmnist-dir"],
      patchesPerImage: a["patches-per-image"],
      phantomVolumes: a["phantom-volumes"],
      limit: a.limit,
    };
    if (a.model === "acae") {
      cfg.kind = "acae";
      cfg.reconWeight = a["recon-weight"];
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    dir = a.out ?? `runs/${data.replace(/[^\w-]+/g, "_")}-${stamp}`;
  }

  // The data is read and checked against the model before the run folder is claimed: bad data writes nothing.
  const rt = await T.init();
  const source = await loadTrainingSource(cfg.data, { size: cfg.model.size, seed: cfg.seed, ...extra });
  checkTrainable(source, cfg);
  const fingerprint = await dataFingerprint(cfg.data, { seed: cfg.seed, ...extra });
  const folder = await OwnedFolder.claim(dir, {
    task: "train",
    staged: false,
    resume: Boolean(a.resume),
    force: a.force,
    continueHint: `deno task train --resume ${dir}`,
  });
  try {
    if (a.resume) await checkResumedData(dir, fingerprint, a.force);
    if (!a.quiet) {
      console.error(`adapter: ${rt.gpu.description}`);
      console.error(`data: ${source.description} (${source.count} images)`);
      console.error(`run: ${dir}`);
    }
    const s = await train({
      dir,
      source,
      cfg,
      resume: Boolean(a.resume),
      quiet: a.quiet,
      provenance: { ...(await provenance(rt)), extra, dataFingerprint: fingerprint },
    });
    if (s.interrupted) {
      console.error(`interrupted at step ${s.step}; continue with deno task train --resume ${dir}`);
      return 130;
    }
  } catch (e) {
    if (e instanceof NanLossError) {
      console.error(`error: ${e.message}`);
      return 3;
    }
    throw e;
  } finally {
    await folder.release();
  }
  if (!a.quiet) console.error(`done: ${dir}`);
  return 0;
}

await runCli(main);
