// Scoring in shards: which shard a process scores when a scheduler starts it (`--shard auto`), and the
// join of shard folders into one score folder, checked to cover every image exactly once with one run
// and one configuration. The joined scores.csv is byte for byte the one a single process writes.

import { join, relative, resolve } from "node:path";
import * as T from "../core/mod.ts";
import { describeRunState, OwnedFolder, readRunState } from "./folders.ts";
import { MAPS_FILE, parseCsv } from "./score_file.ts";

/**
 * The shard [i, n] of a process started by a scheduler: a Slurm array task (SLURM_ARRAY_TASK_ID
 * relative to SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job
 * (JOB_COMPLETION_INDEX, of `count`, which that environment does not give).
 */
export function shardFromEnvironment(
  env: (name: string) => string | undefined,
  count?: number,
): [number, number] {
  const int = (name: string) => {
    const raw = env(name);
    const v = Number(raw);
    if (raw === undefined || raw.trim() === "" || !Number.isSafeInteger(v) || v < 0) {
      throw new Error(`--shard auto: ${name} is "${raw}"; expected an integer ≥ 0`);
    }
    return v;
  };
  const check = (i: number, n: number, from: string): [number, number] => {
    if (!(n >= 1 && i < n)) {
      throw new Error(`--shard auto: ${from} gives shard ${i} of ${n}; expected 0 ≤ i < n`);
    }
    return [i, n];
  };
  if (env("SLURM_ARRAY_TASK_ID") !== undefined) {
    if (count !== undefined) {
      throw new Error("--shard-count is for Kubernetes Indexed Jobs; a Slurm array gives its own count");
    }
    const id = int("SLURM_ARRAY_TASK_ID"), min = int("SLURM_ARRAY_TASK_MIN");
    const n = int("SLURM_ARRAY_TASK_COUNT");
    return check(
      id - min,
      n,
      `SLURM_ARRAY_TASK_ID ${id} − SLURM_ARRAY_TASK_MIN ${min}, SLURM_ARRAY_TASK_COUNT`,
    );
  }
  if (env("JOB_COMPLETION_INDEX") !== undefined) {
    if (count === undefined) {
      throw new Error(
        "--shard auto in a Kubernetes Indexed Job needs --shard-count N (the Job's completions)",
      );
    }
    return check(int("JOB_COMPLETION_INDEX"), count, "JOB_COMPLETION_INDEX with --shard-count");
  }
  throw new Error(
    "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array job) nor JOB_COMPLETION_INDEX (a Kubernetes " +
      "Indexed Job) is set; give --shard i/n",
  );
}

// ---- joining shard folders ----------------------------------------------------------------------

/** What must agree between the shards of one scoring: the same run, weights, queries and settings. */
const SAME = ["data", "queries", "setImages", "methods", "mapping", "model", "weightsDigest", "runState"];

interface Shard {
  dir: string;
  json: Record<string, unknown>;
  index: number;
  count: number;
  /** scores.csv's header line, and the rest of the file as written (its rows). */
  header: string;
  body: string;
  /** The rows' image ids, in order. */
  ids: string[];
}

export interface MergeOptions {
  /** Where a shard's log is, for messages: `%a` stands for the shard index. */
  logs?: string;
  /** Replace `out` when it holds files. */
  force?: boolean;
}

/** The shard folders given: each folder that holds score.json, else the folders inside it that do. */
async function shardFolders(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (await Deno.stat(join(p, "score.json")).then(() => true, () => false)) {
      out.push(p);
      continue;
    }
    let found = false;
    try {
      for await (const e of Deno.readDir(p)) {
        if (e.isDirectory && !e.name.startsWith(".")) {
          out.push(join(p, e.name));
          found = true;
        }
      }
    } catch (e) {
      throw new Error(
        `${p}: cannot read (${(e as Error).message}); expected a shard folder or a folder of them`,
      );
    }
    if (!found) throw new Error(`${p}: holds no shard folders (no score.json, no subfolders)`);
  }
  return out.sort();
}

async function readShard(dir: string, log: (i: number) => string): Promise<Shard> {
  const state = await readRunState(dir).catch(() => null);
  if (state && state.state !== "complete") {
    throw new Error(`${dir} is ${describeRunState(state)}, not a complete shard`);
  }
  let json: Record<string, unknown>, text: string;
  try {
    json = JSON.parse(await Deno.readTextFile(join(dir, "score.json")));
    text = await Deno.readTextFile(join(dir, "scores.csv"));
  } catch (e) {
    throw new Error(`${dir}: not a complete score folder (${(e as Error).message})`);
  }
  const m = String(json.shard ?? "").match(/^(\d+)\/(\d+)$/);
  if (!m) throw new Error(`${dir}/score.json: shard is "${json.shard}"; expected i/n`);
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (json.setImages === undefined) {
    throw new Error(`${dir}/score.json has no setImages: scored by an older version; score that shard again`);
  }
  // The header is one line (column names hold no quotes or breaks); rows are read with the CSV parser.
  const header = text.slice(0, text.indexOf("\n") + 1), body = text.slice(header.length);
  const ids = parseCsv(text, join(dir, "scores.csv")).slice(1).map((r) => r.fields[0]);
  if (ids.length !== json.images) {
    throw new Error(`${dir}: scores.csv has ${ids.length} rows, score.json says ${json.images}${log(index)}`);
  }
  return { dir, json: { ...json, run: resolve(dir, String(json.run)) }, index, count, header, body, ids };
}

/**
 * Joins shard folders into `out`: scores.csv (the header once, the shards' rows in shard order),
 * score.json, the PNG folders and the float maps. Refuses shards that miss an image or score one
 * twice, and shards of different runs, weights, query sets or settings; each message names the shard
 * (and its log when `logs` says where logs are).
 */
export async function mergeShards(paths: string[], out: string, o: MergeOptions = {}): Promise<string> {
  const log = (i: number) => (o.logs ? `; its log: ${o.logs.replaceAll("%a", String(i))}` : "");
  const dirs = await shardFolders(paths);
  const shards = await Promise.all(dirs.map((d) => readShard(d, log)));
  const first = shards[0];
  const n = first.count;
  for (const s of shards) {
    if (s.count !== n) {
      throw new Error(`${s.dir} is shard ${s.index}/${s.count}; ${first.dir} is of ${n} shards`);
    }
    if (s.json.run !== first.json.run) {
      throw new Error(`${s.dir} scored the run ${s.json.run}; ${first.dir} scored ${first.json.run}`);
    }
    for (const key of SAME) {
      if (JSON.stringify(s.json[key]) !== JSON.stringify(first.json[key])) {
        throw new Error(
          `${s.dir} and ${first.dir} differ in ${key} (${JSON.stringify(s.json[key])} against ` +
            `${JSON.stringify(first.json[key])}): not shards of one scoring`,
        );
      }
    }
    if (s.header !== first.header) {
      throw new Error(`${s.dir}: scores.csv's columns differ from ${first.dir}'s`);
    }
  }
  const byIndex = new Map<number, Shard>();
  for (const s of shards) {
    const other = byIndex.get(s.index);
    if (other) throw new Error(`shard ${s.index}/${n} is given twice: ${other.dir} and ${s.dir}`);
    byIndex.set(s.index, s);
  }
  for (let i = 0; i < n; i++) {
    if (!byIndex.has(i)) {
      throw new Error(
        `shard ${i} of ${n} is missing: no complete score folder for it among ${paths.join(", ")}${log(i)}`,
      );
    }
  }
  const ordered = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const ids = new Map<string, string>();
  for (const s of ordered) {
    for (const id of s.ids) {
      const seen = ids.get(id);
      if (seen) throw new Error(`image ${id} is scored twice: in ${seen} and in ${s.dir}`);
      ids.set(id, s.dir);
    }
  }
  const total = first.json.setImages as number;
  if (ids.size !== total) {
    throw new Error(`the ${n} shards hold ${ids.size} images; the query set has ${total}`);
  }

  const folder = await OwnedFolder.claim(out, { task: "merge", staged: true, force: o.force });
  try {
    const dir = folder.dir;
    const csv = first.header + ordered.map((s) => s.body).join("");
    await T.writeFileAtomic(join(dir, "scores.csv"), new TextEncoder().encode(csv));
    const seconds = ordered.reduce((a, s) => a + Number(s.json.seconds ?? 0), 0);
    const json = {
      ...first.json,
      run: relative(resolve(out), String(first.json.run)), // relative to the folder, as eval reads it
      shard: `0/1`,
      mergedFrom: ordered.map((s) => ({
        shard: `${s.index}/${n}`,
        folder: resolve(s.dir),
        seconds: s.json.seconds,
      })),
      images: ids.size,
      seconds,
      secondsPerImage: seconds / Math.max(ids.size, 1),
    };
    await T.writeFileAtomic(
      join(dir, "score.json"),
      new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"),
    );
    await copyImages(ordered.map((s) => s.dir), dir);
    await mergeMaps(ordered.map((s) => s.dir), dir);
    await folder.commit();
  } finally {
    await folder.release();
  }
  return join(out, "scores.csv");
}

/** The shards' PNG folders (query, generated, residual, masks), one folder each in `out`. */
async function copyImages(dirs: string[], out: string): Promise<void> {
  for (const sub of ["query", "generated", "residual", "masks"]) {
    for (const d of dirs) {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(join(d, sub))];
      } catch {
        continue;
      }
      await Deno.mkdir(join(out, sub), { recursive: true });
      for (const e of entries) {
        if (e.isFile) await Deno.copyFile(join(d, sub, e.name), join(out, sub, e.name));
      }
    }
  }
}

/** MAPS_FILE of every shard, concatenated in shard order (when every shard has one). */
async function mergeMaps(dirs: string[], out: string): Promise<void> {
  const files: T.SafetensorsFile[] = [];
  for (const d of dirs) {
    const path = join(d, MAPS_FILE);
    if (!(await Deno.stat(path).then(() => true, () => false))) return;
    files.push(await T.readSafetensors(path));
  }
  const ids = files.flatMap((f) => JSON.parse(f.metadata.ids ?? "[]") as string[]);
  const cat = (name: string) => {
    const parts = files.map((f) => f.tensors.get(name)!);
    const data = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p.data, o);
      o += p.data.length;
    }
    return { shape: [ids.length, ...parts[0].shape.slice(1)], data };
  };
  await T.writeSafetensors(
    join(out, MAPS_FILE),
    new Map([["query", cat("query")], ["generated", cat("generated")]]),
    { ids: JSON.stringify(ids) },
  );
}
