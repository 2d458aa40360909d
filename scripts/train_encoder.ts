// `deno task train-encoder`: the izi_f encoder of f-AnoGAN for a trained DCGAN run (see --help).

import { parseArgs } from "node:util";
import { numberFlag, runCli } from "./cli.ts";
import * as T from "../core/mod.ts";
import { loadTrainingSource, type SourceOptions } from "../anogan/data/source.ts";
import {
  ENCODER_DIR,
  ENCODER_TRAIN_DEFAULTS,
  type EncoderTrainConfig,
  loadTrainedGan,
  trainEncoder,
} from "../anogan/encoder.ts";
import type { DcganConfig } from "../anogan/dcgan.ts";
import { NanLossError } from "../anogan/train.ts";
import { provenance } from "../anogan/provenance.ts";

const D = ENCODER_TRAIN_DEFAULTS;
const HELP = `deno task train-encoder --run RUN_DIR [--epochs N] [options]
deno task train-encoder --run RUN_DIR --resume [--epochs N]

Trains an encoder E: x → z for a trained DCGAN run (f-AnoGAN's izi_f: image → E → z → G → image), G
and D frozen, on the run's own normal training data (from its config.json). Loss: mean squared pixel
error + κ · mean squared error of D's features f. Writes RUN_DIR/${ENCODER_DIR}/ (config.json,
metrics.jsonl, checkpoint.safetensors, encoder.safetensors). Then score with
deno task score --run RUN_DIR --mapper encoder (one pass) or --mapper encoder+iter --steps k.

  --run RUN_DIR     a finished DCGAN training run
  --epochs N        default ${D.epochs}
  --batch B         default ${D.batch}
  --lr LR           Adam learning rate (default ${D.lr}); --beta1 (default ${D.beta1}), --beta2 (default ${D.beta2})
  --kappa κ         weight of the feature term (default ${D.kappa})
  --max-steps N     stop after N steps in total (default 0: no limit)
  --seed S          default: the run's seed
  --resume          continue from RUN_DIR/${ENCODER_DIR}/checkpoint.safetensors (--epochs may extend it)
  --log-every N     read back the mean losses of every N steps (default ${D.logEvery})
  --quiet           no progress output
  --help            this text
`;

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    args: Deno.args,
    options: {
      run: { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      beta1: { type: "string" },
      beta2: { type: "string" },
      kappa: { type: "string" },
      "max-steps": { type: "string" },
      seed: { type: "string" },
      resume: { type: "boolean", default: false },
      "log-every": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (!a.run) throw new Error("--run RUN_DIR is required (see --help)");
  const rt = await T.init(); // before any model is loaded: tensors live on the device
  const { gan, config: run } = await loadTrainedGan(a.run);
  let cfg: EncoderTrainConfig;
  if (a.resume) {
    let saved: EncoderTrainConfig;
    const path = `${a.run}/${ENCODER_DIR}/config.json`;
    try {
      saved = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new Error(
        `--resume: cannot read ${path} (${(e as Error).message}); train without --resume first`,
      );
    }
    cfg = {
      ...saved,
      epochs: numberFlag("epochs", a.epochs, saved.epochs),
      maxSteps: numberFlag("max-steps", a["max-steps"], 0),
    };
  } else {
    cfg = {
      data: String(run.data),
      model: run.model as DcganConfig,
      batch: numberFlag("batch", a.batch, D.batch),
      epochs: numberFlag("epochs", a.epochs, D.epochs),
      lr: numberFlag("lr", a.lr, D.lr, false),
      beta1: numberFlag("beta1", a.beta1, D.beta1, false),
      beta2: numberFlag("beta2", a.beta2, D.beta2, false),
      kappa: numberFlag("kappa", a.kappa, D.kappa, false),
      seed: numberFlag("seed", a.seed, Number(run.seed ?? D.seed)),
      logEvery: numberFlag("log-every", a["log-every"], D.logEvery),
      maxSteps: numberFlag("max-steps", a["max-steps"], D.maxSteps),
    };
  }
  for (const [k, v] of [["batch", cfg.batch], ["epochs", cfg.epochs], ["log-every", cfg.logEvery]] as const) {
    if (v < 1) throw new Error(`--${k}: expected a positive integer, got ${v}`);
  }
  // The run's own normal data: the same spec, seed and options as its training.
  const extra = (run.extra ?? {}) as Partial<SourceOptions>;
  const source = await loadTrainingSource(cfg.data, {
    patchesPerImage: 32,
    ...extra,
    size: cfg.model.size,
    seed: Number(run.seed),
  });
  if (!a.quiet) {
    console.error(`adapter: ${rt.gpu.description}`);
    console.error(`data: ${source.description} (${source.count} images)`);
    console.error(`encoder: ${a.run}/${ENCODER_DIR}`);
  }
  try {
    await trainEncoder({
      runDir: a.run,
      gan,
      source,
      cfg,
      resume: a.resume,
      quiet: a.quiet,
      provenance: await provenance(rt),
    });
  } catch (e) {
    if (e instanceof NanLossError) {
      console.error(`error: ${e.message}`);
      return 3;
    }
    throw e;
  }
  if (!a.quiet) console.error(`done: ${a.run}/${ENCODER_DIR}/encoder.safetensors`);
  return 0;
}

await runCli(main);
