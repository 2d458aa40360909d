// `deno task train-encoder`: the izi_f encoder of f-AnoGAN for a trained DCGAN run (see --help).

import {
  allowOnly,
  booleanFlag,
  numberFlag,
  parseFlags,
  pathFlag,
  runCli,
  seedFlag,
  trainingFlags,
} from "./cli.ts";
import * as T from "../core/mod.ts";
import { ENCODER_DIR, loadRunTrainingSource, loadTrainedGan, resumedConfig } from "../harness/run.ts";
import { ENCODER_TRAIN_DEFAULTS, type EncoderTrainConfig } from "../anogan/encoder.ts";
import { NanLossError, trainEncoder } from "../harness/training.ts";
import type { DcganConfig } from "../anogan/dcgan.ts";
import { provenance } from "../harness/provenance.ts";
import { FolderLock, OwnedFolder } from "../harness/folders.ts";

const D = ENCODER_TRAIN_DEFAULTS;
const HELP = `deno task train-encoder --run RUN_DIR [--epochs N] [options]
deno task train-encoder --run RUN_DIR --resume [--epochs N] [--max-steps N] [--log-every N] [--quiet]

Trains an encoder E: x → z for a trained DCGAN run (f-AnoGAN's izi_f: image → E → z → G → image), G
and D frozen, on the run's own normal training data (from its config.json). Loss: mean squared pixel
error + κ · mean squared error of D's features f. Writes RUN_DIR/${ENCODER_DIR}/ (config.json,
metrics.jsonl, checkpoint.safetensors, encoder.safetensors). Then score with
deno task score --run RUN_DIR --mapper encoder (one pass) or --mapper encoder+iter --steps k.

  --run RUN_DIR     a finished DCGAN training run
  --epochs N        ≥ 1 (default ${D.epochs})
  --batch B         ≥ 1 (default ${D.batch})
  --lr LR           Adam learning rate, > 0 (default ${D.lr})
  --beta1 B1        Adam β1 in [0, 1) (default ${D.beta1}); --beta2 B2 in [0, 1) (default ${D.beta2})
  --kappa κ         weight ≥ 0 of the feature term (default ${D.kappa})
  --max-steps N     stop after N ≥ 0 steps in total (default 0: no limit)
  --seed S          an integer in [0, 2^32) (default: the run's seed)
  --resume          continue from RUN_DIR/${ENCODER_DIR}/checkpoint.safetensors with the encoder's own
                    settings: --epochs (to extend it), --max-steps, --log-every and --quiet may be given
  --log-every N     read back the mean losses of every N ≥ 1 steps (default ${D.logEvery})
  --force           replace an encoder the run already has
  --quiet           no progress output
  --help            this text
`;

// The command line, one validator per flag; every flag is checked before any work.
const FLAGS = {
  run: pathFlag({ exists: "folder" }),
  ...trainingFlags(D),
  kappa: numberFlag({ min: 0 }, D.kappa),
  seed: seedFlag(),
  resume: booleanFlag(),
};

/** What a resume may change; everything else is the encoder's own (encoder/config.json). */
const RESUME_FLAGS = ["run", "resume", "epochs", "max-steps", "log-every", "quiet"];

async function main(): Promise<number> {
  const f = parseFlags(Deno.args, FLAGS);
  if (f.help) {
    console.log(HELP);
    return 0;
  }
  const { values: a, given } = f;
  if (!a.run) throw new Error("--run RUN_DIR is required (see --help)");
  if (a.resume) {
    allowOnly(
      given,
      RESUME_FLAGS,
      `--resume continues ${a.run}/${ENCODER_DIR} with its own settings`,
      "--resume",
    );
  }
  const rt = await T.init(); // before any model is loaded: tensors live on the device
  const { gan, config: run } = await loadTrainedGan(a.run);
  let cfg: EncoderTrainConfig;
  if (a.resume) {
    cfg = await resumedConfig<EncoderTrainConfig>(`${a.run}/${ENCODER_DIR}`, {
      epochs: given.has("epochs") ? a.epochs : undefined,
      maxSteps: a["max-steps"],
      logEvery: a["log-every"],
    });
  } else {
    cfg = {
      data: String(run.data),
      model: run.model as DcganConfig,
      batch: a.batch,
      epochs: a.epochs,
      lr: a.lr,
      beta1: a.beta1,
      beta2: a.beta2,
      kappa: a.kappa,
      seed: a.seed ?? Number(run.seed ?? D.seed),
      logEvery: a["log-every"] ?? D.logEvery,
      maxSteps: a["max-steps"],
    };
  }
  const source = await loadRunTrainingSource(run); // the run's own normal data
  // The GAN's run is locked while its encoder trains (no resume or --force of it meanwhile); the encoder's
  // folder is claimed like a run's: a finished encoder is replaced only with --force.
  const runLock = await FolderLock.acquire(a.run, "train-encoder");
  let folder: OwnedFolder | undefined;
  try {
    const dir = `${a.run}/${ENCODER_DIR}`;
    folder = await OwnedFolder.claim(dir, {
      task: "train-encoder",
      staged: false,
      resume: a.resume,
      force: a.force,
      continueHint: `deno task train-encoder --run ${a.run} --resume`,
    });
    if (!a.quiet) {
      console.error(`adapter: ${rt.gpu.description}`);
      console.error(`data: ${source.description} (${source.count} images)`);
      console.error(`encoder: ${dir}`);
    }
    const s = await trainEncoder({
      runDir: a.run,
      gan,
      source,
      cfg,
      resume: a.resume,
      quiet: a.quiet,
      provenance: await provenance(rt),
    });
    if (s.interrupted) {
      console.error(
        `interrupted at step ${s.step}; continue with deno task train-encoder --run ${a.run} --resume`,
      );
      return 130;
    }
  } catch (e) {
    if (e instanceof NanLossError) {
      console.error(`error: ${e.message}`);
      return 3;
    }
    throw e;
  } finally {
    await folder?.release();
    await runLock.release();
  }
  if (!a.quiet) console.error(`done: ${a.run}/${ENCODER_DIR}/encoder.safetensors`);
  return 0;
}

await runCli(main);
