// `deno task score`: maps query images to the latent space and scores them (see --help).

import { parseArgs } from "node:util";
import { numberFlag, runCli } from "./cli.ts";
import * as T from "../core/mod.ts";
import { loadQuerySet, QUERY_SPEC_HELP } from "../anogan/queries.ts";
import {
  defaultBatch,
  loadGan,
  MAPPING_DEFAULTS,
  type ScoreMethod,
  scoreQueries,
  secondsPerImageByMethod,
  writeScoreOutputs,
} from "../anogan/score.ts";
import { provenance } from "../anogan/provenance.ts";
import { loadEncoder } from "../anogan/encoder.ts";

const HELP = `deno task score --run RUN_DIR --data QUERIES --out OUT [options]

Maps every query image to the latent space of a trained run by Γ steps of Adam on z alone (G and D
frozen, batch norm in eval mode) and scores it. Writes OUT/scores.csv (one row per image: id, source,
label, mask, PNG paths, and the score columns A, R, D (AnoGAN), A_ganr, R_ganr, D_ganr (GANR) and PD),
the PNGs query/, generated/ (G(z_Γ)), residual/ (|x − G(z_Γ)|), masks/, and a Fig. 3-style grid.png.

  --run RUN_DIR       a training run directory (config.json + model.safetensors or checkpoint)
  --data QUERIES      ${QUERY_SPEC_HELP}
  --out OUT           output folder (created)
  --methods LIST      comma-separated: anogan, ganr, pd (default anogan,ganr,pd); for an aCAE run
                      (deno task train --model acae): acae, columns A_acae, R_acae, D_acae (its default)
  --mapper LIST       how AnoGAN's z is found, comma-separated (default iterative):
                      iterative     Γ = --steps updates from a random z₁ (columns A, R, D)
                      encoder       z = E(x), one pass (columns A_encoder, R_encoder, D_encoder)
                      encoder+iter  z₁ = E(x), then --steps updates (A_encoder_iter, …)
                      encoder needs deno task train-encoder --run RUN_DIR first
  --steps Γ           updates of z (default ${MAPPING_DEFAULTS.steps})
  --lambda λ          weight of the discrimination term (default ${MAPPING_DEFAULTS.lambda})
  --lr LR             Adam learning rate on z (default ${MAPPING_DEFAULTS.lr})
  --no-clip           do not clamp z to [−1, 1] after each update
  --seed S            seed of z₁ and of --limit's subset (default ${MAPPING_DEFAULTS.seed})
  --batch B           images mapped together (default: from the device's limits)
  --shard i/n         score only the i-th of n contiguous slices (0-based); shards' CSVs concatenate
  --limit N           score a seeded random subset of N images
  --balanced          with --limit: half normal, half anomalous images
  --no-images         write scores.csv only
  --fmnist-dir DIR    Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
  --quiet             no progress output
  --help              this text
`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    args: Deno.args,
    options: {
      run: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      methods: { type: "string" },
      mapper: { type: "string", default: "iterative" },
      steps: { type: "string" },
      lambda: { type: "string" },
      lr: { type: "string" },
      "no-clip": { type: "boolean", default: false },
      seed: { type: "string" },
      batch: { type: "string" },
      shard: { type: "string", default: "0/1" },
      limit: { type: "string" },
      balanced: { type: "boolean", default: false },
      "no-images": { type: "boolean", default: false },
      "fmnist-dir": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (a.help) return console.log(HELP);
  if (!a.run || !a.data || !a.out) throw new Error("--run, --data and --out are required (see --help)");
  const mappers = a.mapper.split(",").map((m) => m.trim());
  for (const m of mappers) {
    if (!["iterative", "encoder", "encoder+iter"].includes(m)) {
      throw new Error(`--mapper: unknown mapper "${m}"; expected iterative, encoder, encoder+iter`);
    }
  }
  const shardMatch = a.shard.match(/^(\d+)\/(\d+)$/);
  if (!shardMatch) throw new Error(`--shard ${a.shard}: expected i/n, e.g. 0/4`);
  const lambda = numberFlag("lambda", a.lambda, MAPPING_DEFAULTS.lambda, false);
  const lr = numberFlag("lr", a.lr, MAPPING_DEFAULTS.lr, false);

  const rt = await T.init();
  const { gan, config, encoder: acaeEncoder } = await loadGan(a.run);
  const isAcae = config.kind === "acae";
  let methods = (a.methods ?? (isAcae ? "acae" : "anogan,ganr,pd")).split(",").map((m) => m.trim());
  for (const m of methods) {
    if (!["anogan", "ganr", "pd", "acae"].includes(m)) {
      throw new Error(`--methods: unknown method "${m}"; expected anogan, ganr, pd, acae`);
    }
  }
  if (methods.includes("acae") && !isAcae) {
    throw new Error(
      `--methods acae: ${a.run} is not an aCAE run (train one with deno task train --model acae)`,
    );
  }
  if (isAcae && mappers.some((m) => m.startsWith("encoder"))) {
    throw new Error(`--mapper encoder: ${a.run} is an aCAE run; its encoder scores as --methods acae`);
  }
  // The iterative mapper is the anogan method; the encoder mappers are methods of their own.
  if (!mappers.includes("iterative")) methods = methods.filter((m) => m !== "anogan");
  methods.push(...mappers.filter((m) => m !== "iterative"));
  if (methods.length === 0) throw new Error("nothing to score: --methods and --mapper leave no method");
  const encoder = isAcae
    ? acaeEncoder
    : mappers.some((m) => m.startsWith("encoder"))
    ? await loadEncoder(a.run, gan.G.cfg)
    : undefined;
  const seed = numberFlag("seed", a.seed, MAPPING_DEFAULTS.seed);
  const set = await loadQuerySet(a.data, {
    size: gan.G.cfg.size,
    seed,
    fmnistDir: a["fmnist-dir"],
    limit: a.limit === undefined ? undefined : numberFlag("limit", a.limit, 0),
    balanced: a.balanced,
  });
  const batch = numberFlag("batch", a.batch, defaultBatch(rt, gan.G.cfg));
  if (batch < 1) throw new Error(`--batch must be ≥ 1, got ${batch}`);
  await Deno.mkdir(a.out, { recursive: true });
  if (!a.quiet) {
    console.error(`adapter: ${rt.gpu.description}`);
    console.error(`queries: ${set.description} (${set.count} images); batch ${batch}; shard ${a.shard}`);
  }
  const mapping = {
    steps: numberFlag("steps", a.steps, MAPPING_DEFAULTS.steps),
    lambda,
    lr,
    betas: MAPPING_DEFAULTS.betas,
    clip: !a["no-clip"],
    seed,
  };
  const options = {
    methods: methods as ScoreMethod[],
    encoder,
    mapping,
    batch,
    shard: [Number(shardMatch[1]), Number(shardMatch[2])] as [number, number],
    images: !a["no-images"],
    quiet: a.quiet,
  };
  const t0 = performance.now();
  const result = await scoreQueries(gan, set, a.out, options);
  const seconds = (performance.now() - t0) / 1000;
  const rows = result.rows;
  await writeScoreOutputs(a.out, result, {
    run: a.run,
    data: a.data,
    set,
    options,
    seconds,
    model: config.model,
    provenance: await provenance(rt),
  });
  if (!a.quiet) {
    console.error(
      `scored ${rows.length} images in ${seconds.toFixed(1)} s (${(rows.length / seconds).toFixed(2)} img/s)`,
    );
    for (const [m, s] of Object.entries(secondsPerImageByMethod(result))) {
      console.error(`  ${m}: ${s.toFixed(4)} s per image`);
    }
    console.error(`wrote ${a.out}/scores.csv`);
  }
}

await runCli(main);
