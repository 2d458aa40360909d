// `deno task score`: maps query images to the latent space and scores them (see --help).

import {
  booleanFlag,
  integerFlag,
  listFlag,
  numberFlag,
  parseFlags,
  pathFlag,
  queryDataFlag,
  requireWith,
  runCli,
  seedFlag,
  shardFlag,
} from "./cli.ts";
import * as T from "../core/mod.ts";
import { loadQuerySet, QUERY_SPEC_HELP } from "../harness/query_sets.ts";
import {
  defaultBatch,
  loadScoringModels,
  MAPPING_DEFAULTS,
  scoreQueries,
  secondsPerImageByMethod,
  writeScoreOutputs,
} from "../harness/scoring.ts";
import { sha256Hex } from "../harness/data/fingerprint.ts";
import { provenance } from "../harness/provenance.ts";
import { describeRunState, OwnedFolder } from "../harness/folders.ts";
import { shardFromEnvironment } from "../harness/shards.ts";

const HELP = `deno task score --run RUN_DIR --data QUERIES --out OUT [options]

Maps every query image to the latent space of a trained run by Γ steps of Adam on z alone (G and D
frozen, batch norm in eval mode) and scores it. Writes OUT/scores.csv (one row per image: id, source,
label, mask, PNG paths, and the score columns A, R, D (AnoGAN), A_ganr, R_ganr, D_ganr (GANR) and PD),
the PNGs query/, generated/ (G(z_Γ)), residual/ (|x − G(z_Γ)|), masks/, and a Fig. 3-style grid.png.

  --run RUN_DIR       a training run directory (config.json + model.safetensors or checkpoint)
  --data QUERIES      ${QUERY_SPEC_HELP}
  --out OUT           output folder; written aside and moved into place when complete; one that holds
                      files is refused (give each --shard its own --out)
  --force             replace OUT when it holds files
  --allow-incomplete  score a run that is not complete (interrupted, failed, running) from its last
                      checkpoint; the step is printed and recorded in score.json
  --methods LIST      comma-separated: anogan, ganr, pd (default anogan,ganr,pd); for an aCAE run
                      (deno task train --model acae): acae, columns A_acae, R_acae, D_acae (its default)
  --mapper LIST       how AnoGAN's z is found, comma-separated (default iterative):
                      iterative     Γ = --steps updates from a random z₁ (columns A, R, D)
                      encoder       z = E(x), one pass (columns A_encoder, R_encoder, D_encoder)
                      encoder+iter  z₁ = E(x), then --steps updates (A_encoder_iter, …)
                      encoder needs deno task train-encoder --run RUN_DIR first
  --steps Γ           updates of z, ≥ 0 (default ${MAPPING_DEFAULTS.steps}); 0 scores z₁ itself (an ablation:
                      the random z₁ for iterative, E(x) for encoder+iter)
  --lambda λ          weight of the discrimination term, in [0, 1] (default ${MAPPING_DEFAULTS.lambda})
  --lr LR             Adam learning rate on z, > 0 (default ${MAPPING_DEFAULTS.lr})
  --no-clip           do not clamp z to [−1, 1] after each update
  --seed S            seed of z₁ and of --limit's subset, in [0, 2^32) (default ${MAPPING_DEFAULTS.seed})
  --batch B           images mapped together, ≥ 1 (default: from the device's limits)
  --shard i/n         score only the i-th of n contiguous slices, 0 ≤ i < n; deno task merge joins
                      the shards' folders into one
  --shard auto        the shard of a Slurm array task (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of
                      SLURM_ARRAY_TASK_COUNT) or of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX of
                      --shard-count N)
  --limit N           score a seeded random subset of N ≥ 1 images
  --balanced          needs --limit N (N ≥ 2): half normal, half anomalous images
  --no-images         write scores.csv only
  --fmnist-dir DIR    fmnist-test: and fmnist: only; Fashion-MNIST IDX files (default
                      /usr/share/datasets/fashion-mnist)
  --quiet             no progress output
  --help              this text
`;

// The command line, one validator per flag; every flag is checked before any work.
const FLAGS = {
  run: pathFlag({ exists: "folder" }),
  data: queryDataFlag(),
  out: pathFlag(),
  methods: listFlag(["anogan", "ganr", "pd", "acae"]),
  mapper: listFlag(["iterative", "encoder", "encoder+iter"], ["iterative"]),
  // Γ = 0 is meaningful: the scores at z₁ (an ablation; encoder+iter then equals encoder).
  steps: integerFlag({ min: 0 }, MAPPING_DEFAULTS.steps),
  lambda: numberFlag({ min: 0, max: 1 }, MAPPING_DEFAULTS.lambda),
  lr: numberFlag({ min: 0, exclusiveMin: true }, MAPPING_DEFAULTS.lr),
  "no-clip": booleanFlag(),
  seed: seedFlag(MAPPING_DEFAULTS.seed),
  batch: integerFlag({ min: 1 }),
  shard: shardFlag(),
  "shard-count": integerFlag({ min: 1 }),
  limit: integerFlag({ min: 1 }),
  balanced: booleanFlag(),
  "no-images": booleanFlag(),
  "fmnist-dir": pathFlag({ exists: "folder" }),
  quiet: booleanFlag(),
  force: booleanFlag(),
  "allow-incomplete": booleanFlag(),
};

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, FLAGS);
  if (f.help) return console.log(HELP);
  const { values: a, given } = f;
  if (!a.run || !a.data || !a.out) throw new Error("--run, --data and --out are required (see --help)");
  requireWith(given, "balanced", "limit", "it draws half of the --limit subset from each class");
  if (given.has("shard-count") && a.shard !== "auto") {
    throw new Error("--shard-count is for --shard auto in a Kubernetes Indexed Job");
  }
  const shard = a.shard === "auto" ? shardFromEnvironment((n) => Deno.env.get(n), a["shard-count"]) : a.shard;
  if (a.balanced && a.limit! < 2) {
    throw new Error(
      `--limit: expected an integer ≥ 2 with --balanced (one image of each class), got ${a.limit}`,
    );
  }
  if (given.has("fmnist-dir") && !["fmnist", "fmnist-test"].includes(a.data.split(":")[0])) {
    throw new Error(`--fmnist-dir is for fmnist-test: and fmnist: data; --data ${a.data} does not use it`);
  }
  const mappers = a.mapper;

  const rt = await T.init();
  const { gan, config, methods, encoder, state, weights } = await loadScoringModels(a.run, {
    allowIncomplete: a["allow-incomplete"],
    methods: a.methods,
    mappers,
  });
  const seed = a.seed;
  const set = await loadQuerySet(a.data, {
    size: gan.G.cfg.size,
    seed,
    fmnistDir: a["fmnist-dir"],
    limit: a.limit,
    balanced: a.balanced,
  });
  const batch = a.batch ?? defaultBatch(rt, gan.G.cfg);
  if (!a.quiet) {
    console.error(`adapter: ${rt.gpu.description}`);
    console.error(
      `queries: ${set.description} (${set.count} images); batch ${batch}; shard ${shard.join("/")}`,
    );
  }
  const mapping = {
    steps: a.steps,
    lambda: a.lambda,
    lr: a.lr,
    betas: MAPPING_DEFAULTS.betas,
    clip: !a["no-clip"],
    seed,
  };
  const options = {
    methods,
    encoder,
    mapping,
    batch,
    shard,
    images: !a["no-images"],
    quiet: a.quiet,
  };
  // Everything is checked: claim OUT, and write into its staging folder (renamed into place at the end).
  const folder = await OwnedFolder.claim(a.out, { task: "score", staged: true, force: a.force });
  try {
    await scoreInto(folder.dir);
    await folder.commit();
  } finally {
    await folder.release();
  }
  if (!a.quiet) console.error(`wrote ${a.out}/scores.csv`);

  async function scoreInto(out: string): Promise<void> {
    const t0 = performance.now();
    const result = await scoreQueries(gan, set, out, options);
    const seconds = (performance.now() - t0) / 1000;
    const rows = result.rows;
    await writeScoreOutputs(out, result, {
      run: a.run!,
      data: a.data!,
      set,
      options,
      seconds,
      model: config.model,
      // Which weights were scored: a complete run's, or (--allow-incomplete) a checkpoint's.
      provenance: {
        ...(await provenance(rt)),
        runState: state ? describeRunState(state) : "no state file",
        weightsDigest: await sha256Hex(await Deno.readFile(weights)),
      },
    });
    if (!a.quiet) {
      console.error(
        `scored ${rows.length} images in ${seconds.toFixed(1)} s (${
          (rows.length / seconds).toFixed(2)
        } img/s)`,
      );
      for (const [m, s] of Object.entries(secondsPerImageByMethod(result))) {
        console.error(`  ${m}: ${s.toFixed(4)} s per image`);
      }
    }
  }
}

await runCli(main);
