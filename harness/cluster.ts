// Slurm job scripts for the work that splits: scoring as an array of shards joined by a dependent job
// (merge, then eval), the Fashion-MNIST protocol as one array task per class joined by the summary,
// and a sweep as one array task per line of a file of flag sets. The scheduler is Slurm's own; this
// module writes sbatch scripts and works out, on a resubmission, which tasks are still to run.
//
// Layout of OUT:
//   cluster/request.json      what was asked (the task's flags, the shards, sbatch options)
//   cluster/array.sbatch      the array job; cluster/join.sbatch the dependent job
//   cluster/logs/task-N.out   each array task's log (appended to when resubmitted); join-JOBID.out
//   cluster/submissions.jsonl the job ids of each submission
//   shards/shard-N, classes/class-N, sweep/done-N: each array task's output (or completion mark)
//   scores/ (score: the joined folder, with eval's report), summary.md (experiment)

import { join, resolve } from "node:path";
import { writeFileAtomic } from "../core/io/safetensors.ts";
import { FolderLock, readRunState } from "./folders.ts";

export type ClusterKind = "score" | "experiment" | "sweep";

export interface SbatchOptions {
  partition?: string;
  gpusPerTask?: number;
  cpusPerTask?: number;
  time?: string;
  account?: string;
  /** Further sbatch options, verbatim (e.g. --mem=16G, --qos=long). */
  extra?: string[];
}

export interface ClusterRequest {
  kind: ClusterKind;
  /** The project's root, where `deno task` runs; OUT is absolute. */
  root: string;
  out: string;
  /** The array's task indices: shard numbers, class numbers, or sweep line numbers. */
  tasks: number[];
  /** score: number of shards; sweep: the task each line runs. */
  shards?: number;
  task?: string;
  /** score and experiment: the task's own flags, passed through (without --out, --shard, --classes). */
  flags: string[];
  /** sweep: each line's flags, as written in the file (shell words). */
  lines?: string[];
  /** sweep: a command for the dependent job, after every task completed. */
  join?: string;
  sbatch: SbatchOptions;
  /** The Deno executable the jobs run. */
  deno: string;
}

/** A shell word: quoted unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

const paths = (out: string) => ({
  cluster: join(out, "cluster"),
  logs: join(out, "cluster", "logs"),
  request: join(out, "cluster", "request.json"),
  array: join(out, "cluster", "array.sbatch"),
  joinScript: join(out, "cluster", "join.sbatch"),
  submissions: join(out, "cluster", "submissions.jsonl"),
});

/** Where array task `i` writes (score: its shard folder; experiment: its class folder). */
export function taskOutput(r: ClusterRequest, i: number): string {
  switch (r.kind) {
    case "score":
      return join(r.out, "shards", `shard-${i}`);
    case "experiment":
      return join(r.out, "classes", `class-${i}`);
    case "sweep":
      return join(r.out, "sweep", `done-${i}`);
  }
}

/** The log of array task `i` (%a in sbatch's pattern). */
export function taskLog(r: ClusterRequest, i: number | "%a"): string {
  return join(paths(r.out).logs, `task-${i}.out`);
}

function sbatchLines(o: SbatchOptions): string[] {
  const lines = [];
  if (o.partition) lines.push(`--partition=${o.partition}`);
  if (o.account) lines.push(`--account=${o.account}`);
  if (o.time) lines.push(`--time=${o.time}`);
  if (o.gpusPerTask) lines.push(`--gpus-per-task=${o.gpusPerTask}`);
  if (o.cpusPerTask) lines.push(`--cpus-per-task=${o.cpusPerTask}`);
  lines.push(...(o.extra ?? []));
  return lines.map((l) => `#SBATCH ${l}`);
}

/** The lines every job starts with: strict shell, the project's root, a runtime folder for WebGPU. */
function prologue(r: ClusterRequest): string[] {
  return [
    "set -eu",
    `cd ${shellQuote(r.root)}`,
    `DENO=\${DENO:-${shellQuote(r.deno)}}`,
    'export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-$(id -u)}"',
    'mkdir -p -m 700 "$XDG_RUNTIME_DIR"',
  ];
}

/** The array job: task $SLURM_ARRAY_TASK_ID of the request. */
export function arrayScript(r: ClusterRequest): string {
  const flags = r.flags.map(shellQuote).join(" ");
  const body: string[] = ['i="$SLURM_ARRAY_TASK_ID"'];
  if (r.kind === "score") {
    // The shard is explicit (not --shard auto): a resubmission runs some shards of the same n.
    body.push(
      `exec "$DENO" task score --shard "$i/${r.shards}" --out ${
        shellQuote(join(r.out, "shards"))
      }/shard-"$i" ${flags}`,
    );
  } else if (r.kind === "experiment") {
    body.push(
      `exec "$DENO" task experiment fmnist --classes "$i" --out ${
        shellQuote(join(r.out, "classes"))
      }/class-"$i" ${flags}`,
    );
  } else {
    // Line i of the sweep's file (its flags, as shell words); a mark when it completes.
    body.push(
      `line=$(sed -n "$((i + 1))p" ${shellQuote(join(paths(r.out).cluster, "sweep.txt"))})`,
      `eval "set -- $line"`,
      `"$DENO" task ${shellQuote(r.task!)} "$@"`,
      `mkdir -p ${shellQuote(join(r.out, "sweep"))} && date -u +%FT%TZ > ${
        shellQuote(join(r.out, "sweep"))
      }/done-"$i"`,
    );
  }
  return [
    "#!/bin/sh",
    `#SBATCH --job-name=anogan-${r.kind}`,
    `#SBATCH --output=${taskLog(r, "%a")}`,
    "#SBATCH --open-mode=append",
    ...sbatchLines(r.sbatch),
    ...prologue(r),
    'echo "task $SLURM_ARRAY_TASK_ID on $(hostname) at $(date -u +%FT%TZ), job $SLURM_JOB_ID"',
    ...body,
    "",
  ].join("\n");
}

/** The dependent job: joins the array's outputs, failing with a message naming a task that did not complete. */
export function joinScript(r: ClusterRequest): string {
  const body: string[] = [];
  const logs = shellQuote(taskLog(r, "%a"));
  if (r.kind === "score") {
    const scores = join(r.out, "scores");
    body.push(
      `"$DENO" task merge ${shellQuote(join(r.out, "shards"))} --out ${shellQuote(scores)} --logs ${logs}`,
      `exec "$DENO" task eval --scores ${shellQuote(join(scores, "scores.csv"))}`,
    );
  } else if (r.kind === "experiment") {
    body.push(
      `exec "$DENO" task experiment summary ${shellQuote(join(r.out, "classes"))} --out ${
        shellQuote(join(r.out, "summary"))
      }`,
    );
  } else {
    body.push(
      `for i in ${r.tasks.join(" ")}; do`,
      `  if [ ! -f ${shellQuote(join(r.out, "sweep"))}/done-"$i" ]; then`,
      `    echo "error: sweep task $i (line $((i + 1)) of ${
        join(paths(r.out).cluster, "sweep.txt")
      }) did not complete; its log: $(echo ${logs} | sed "s/%a/$i/")" >&2`,
      "    exit 1",
      "  fi",
      "done",
      r.join ? r.join : 'echo "all sweep tasks completed"',
    );
  }
  return [
    "#!/bin/sh",
    `#SBATCH --job-name=anogan-${r.kind}-join`,
    `#SBATCH --output=${join(paths(r.out).logs, "join-%j.out")}`,
    ...sbatchLines({ ...r.sbatch, gpusPerTask: undefined }),
    ...prologue(r),
    ...body,
    "",
  ].join("\n");
}

/** Whether array task `i` completed: its folder's state (score, experiment) or its mark (sweep). */
export async function taskComplete(r: ClusterRequest, i: number): Promise<boolean> {
  const out = taskOutput(r, i);
  if (r.kind === "sweep") return await Deno.stat(out).then(() => true, () => false);
  return (await readRunState(out).catch(() => null))?.state === "complete";
}

/** Whether the whole request is done: the join's output is complete. */
export async function requestComplete(r: ClusterRequest): Promise<boolean> {
  if (r.kind === "score") {
    return await Deno.stat(join(r.out, "scores", "eval.json")).then(() => true, () => false);
  }
  if (r.kind === "experiment") {
    return (await readRunState(join(r.out, "summary")).catch(() => null))?.state === "complete";
  }
  return false; // a sweep's join is the user's own command: run it again
}

/**
 * The folders a request's jobs write under a lock of their own (FolderLock): each array task's run
 * folder and the join's (score: scores/; experiment: summary/). A sweep's tasks write where their
 * own flags say; its done-N marks are not locked.
 */
export function lockedOutputs(r: ClusterRequest): string[] {
  if (r.kind === "sweep") return [];
  const joined = join(r.out, r.kind === "score" ? "scores" : "summary");
  return [...r.tasks.map((i) => taskOutput(r, i)), joined];
}

/** The folders of `lockedOutputs(r)` that a running job holds now. */
export async function runningOutputs(r: ClusterRequest): Promise<string[]> {
  const held: string[] = [];
  for (const folder of lockedOutputs(r)) if (await FolderLock.isHeld(folder)) held.push(folder);
  return held;
}

/** The request's files: the scripts and request.json (written afresh for each submission). */
export async function writeRequest(r: ClusterRequest): Promise<{ array: string; join: string }> {
  const p = paths(r.out);
  await Deno.mkdir(p.logs, { recursive: true });
  const write = (path: string, text: string) => writeFileAtomic(path, new TextEncoder().encode(text));
  await write(p.request, JSON.stringify(r, null, 2) + "\n");
  await write(p.array, arrayScript(r));
  await write(p.joinScript, joinScript(r));
  if (r.kind === "sweep") await write(join(p.cluster, "sweep.txt"), r.lines!.join("\n") + "\n");
  return { array: p.array, join: p.joinScript };
}

/** The request an earlier submission wrote into OUT, if any. */
export async function readRequest(out: string): Promise<ClusterRequest | null> {
  try {
    return JSON.parse(await Deno.readTextFile(paths(resolve(out)).request));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${paths(out).request}: cannot read (${(e as Error).message})`);
  }
}

/** What differs between two requests for one OUT (null: the same work), for a resubmission. */
export function requestChange(before: ClusterRequest, now: ClusterRequest): string | null {
  for (const key of ["kind", "shards", "task", "flags", "lines", "tasks"] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) {
      return `${key}: ${JSON.stringify(before[key])} then, ${JSON.stringify(now[key])} now`;
    }
  }
  return null;
}

/** Appends a submission's job ids to the request's record. */
export async function recordSubmission(out: string, entry: Record<string, unknown>): Promise<void> {
  await Deno.writeTextFile(
    paths(out).submissions,
    JSON.stringify({ at: new Date().toISOString(), ...entry }) + "\n",
    {
      append: true,
    },
  );
}

/** Slurm's compact form of a list of array indices: 0-3,5,7-8. */
export function arraySpec(tasks: number[]): string {
  const sorted = [...tasks].sort((a, b) => a - b), parts: string[] = [];
  for (let k = 0; k < sorted.length;) {
    let j = k;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === k ? `${sorted[k]}` : `${sorted[k]}-${sorted[j]}`);
    k = j + 1;
  }
  return parts.join(",");
}
