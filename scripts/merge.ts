// `deno task merge`: joins the folders of score shards into one score folder (see --help).

import { booleanFlag, parseFlags, pathFlag, runCli } from "./cli.ts";
import { mergeShards } from "../harness/shards.ts";

const HELP = `deno task merge SHARD_DIR... --out OUT [--logs PATTERN] [--force]

Joins the output folders of deno task score --shard i/n (or --shard auto) into one score folder: OUT/
scores.csv is byte for byte the file one process scoring the whole set writes, with score.json, the
PNG folders and the float maps. Each SHARD_DIR is a shard's --out folder, or a folder of them. The
shards must cover every image of the query set exactly once, and come from one run (the same weights)
and one configuration (queries, methods, mapping); a message names the shard that breaks this.

  --out OUT        the joined folder; written aside and moved into place when complete
  --logs PATTERN   where each shard's log is, %a standing for the shard index, for messages
                   (e.g. out/big/cluster/logs/shard-%a.out)
  --force          replace OUT when it holds files
  --quiet          no summary line
  --help           this text
`;

const FLAGS = {
  out: pathFlag(),
  logs: pathFlag(),
  force: booleanFlag(),
  quiet: booleanFlag(),
};

async function main(): Promise<void> {
  const f = parseFlags(Deno.args, FLAGS, { positionals: true });
  if (f.help) return console.log(HELP);
  const { values: a, positionals } = f;
  if (positionals.length === 0) throw new Error("give the shard folders to join (see --help)");
  if (!a.out) throw new Error("--out is required (see --help)");
  const csv = await mergeShards(positionals, a.out, { logs: a.logs, force: a.force });
  if (!a.quiet) console.error(`wrote ${csv}`);
}

await runCli(main);
