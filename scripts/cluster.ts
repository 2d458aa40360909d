// `deno task cluster`: Slurm array jobs for scoring in shards, the Fashion-MNIST protocol and sweeps (see --help).

import { resolve } from "node:path";
import { FolderLock } from "../harness/folders.ts";
import {
  booleanFlag,
  type FlagValues,
  integerFlag,
  listFlag,
  parseFlags,
  pathFlag,
  runCli,
  textFlag,
} from "./cli.ts";
import {
  arraySpec,
  type ClusterRequest,
  readRequest,
  recordSubmission,
  requestChange,
  requestComplete,
  runningOutputs,
  taskComplete,
  taskLog,
  writeRequest,
} from "../harness/cluster.ts";

const HELP = `deno task cluster score --shards N --out OUT [options] -- SCORE_FLAGS
deno task cluster experiment --out OUT [--classes 0,1,...] [options] -- EXPERIMENT_FLAGS
deno task cluster sweep --task TASK --file FLAGS_FILE --out OUT [--join CMD] [options]

Writes Slurm job scripts into OUT/cluster/ and, with --submit, submits them with sbatch:
  score       an array of N shards (deno task score --shard i/N, each into OUT/shards/shard-i), then a
              dependent job that joins them (deno task merge → OUT/scores) and runs deno task eval
  experiment  one array task per Fashion-MNIST class (OUT/classes/class-C), then the summary
              (deno task experiment summary → OUT/summary)
  sweep       one array task per line of FLAGS_FILE (blank lines and # comments skipped), each running
              deno task TASK with that line's flags (shell words); then --join CMD, if given
The dependent job runs after every array task has ended (afterany), so a task that failed or was
cancelled fails it with a message naming the task and its log (OUT/cluster/logs/task-i.out). Submitting
again, with the same flags, submits only the tasks that have not completed, and the join. OUT is locked
while this command runs (one submission at a time); while a task or the join of an earlier submission
is still writing its folder, --submit and --force are refused.
SCORE_FLAGS and EXPERIMENT_FLAGS pass through to the task: everything but --out, --shard and --classes.

  --shards N          score: the number of shards
  --classes LIST      experiment: the classes (default 0–9)
  --task TASK         sweep: the deno task each line runs (e.g. budget)
  --file FILE         sweep: the flag sets, one per line
  --join CMD          sweep: a shell command for the dependent job (e.g. deno task budget --table …)
  --out OUT           the request's folder
  --submit            submit with sbatch (without it: write the scripts and print the commands)
  --wait              with --submit: wait for the dependent job, and exit with its status
  --force             OUT was submitted with other flags: start over (removes its earlier outputs)
sbatch options, passed through:
  --partition P, --account A, --time T, --gpus-per-task G, --cpus-per-task C, --sbatch "--mem=16G …"
  --help              this text
`;

const FLAGS = {
  shards: integerFlag({ min: 1 }),
  classes: listFlag(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
  task: textFlag(),
  file: pathFlag(),
  join: textFlag(),
  out: pathFlag(),
  submit: booleanFlag(),
  wait: booleanFlag(),
  force: booleanFlag(),
  partition: textFlag(),
  account: textFlag(),
  time: textFlag(),
  "gpus-per-task": integerFlag({ min: 1 }),
  "cpus-per-task": integerFlag({ min: 1 }),
  sbatch: textFlag(),
};

type Flags = FlagValues<typeof FLAGS>;

/** Flags the request sets itself, per kind: the passed-through flags must not. */
const OWN_FLAGS: Record<string, string[]> = {
  score: ["--out", "--shard", "--shard-count"],
  experiment: ["--out", "--classes"],
};

/** Runs sbatch; returns the job id (--parsable), or fails with sbatch's own message. */
async function sbatch(args: string[]): Promise<{ id: string; code: number }> {
  let r;
  try {
    r = await new Deno.Command("sbatch", { args: ["--parsable", ...args], stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new Error(`cannot run sbatch (${(e as Error).message}); is this a Slurm login node?`);
  }
  const stdout = new TextDecoder().decode(r.stdout).trim();
  const id = stdout.split("\n")[0]?.split(";")[0] ?? "";
  if (!/^\d+$/.test(id)) {
    throw new Error(
      `sbatch ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr).trim() || stdout}`,
    );
  }
  return { id, code: r.code };
}

async function main(): Promise<number> {
  const split = Deno.args.indexOf("--");
  const own = split < 0 ? Deno.args : Deno.args.slice(0, split);
  const passed = split < 0 ? [] : Deno.args.slice(split + 1);
  const f = parseFlags(own, FLAGS, { positionals: true });
  if (f.help) {
    console.log(HELP);
    return 0;
  }
  const { values: a, given, positionals } = f;
  const kind = positionals[0];
  if (positionals.length !== 1 || !["score", "experiment", "sweep"].includes(kind)) {
    throw new Error(`expected one of score, experiment, sweep; got "${positionals.join(" ")}" (see --help)`);
  }
  if (!a.out) throw new Error("--out is required (see --help)");
  const forKind: Record<string, string[]> = {
    shards: ["score"],
    classes: ["experiment"],
    task: ["sweep"],
    file: ["sweep"],
    join: ["sweep"],
  };
  for (const [flag, kinds] of Object.entries(forKind)) {
    if (given.has(flag) && !kinds.includes(kind)) {
      throw new Error(`--${flag} is for cluster ${kinds.join(", ")}`);
    }
  }
  if (a.wait && !a.submit) throw new Error("--wait needs --submit: it waits for the submitted jobs");
  for (const flag of OWN_FLAGS[kind] ?? []) {
    if (passed.some((p) => p === flag || p.startsWith(`${flag}=`))) {
      throw new Error(`${flag} cannot be passed through: cluster ${kind} sets it for each array task`);
    }
  }
  let tasks: number[], lines: string[] | undefined;
  if (kind === "score") {
    if (a.shards === undefined) throw new Error("cluster score needs --shards N");
    for (const flag of ["--run", "--data"]) {
      if (!passed.some((p) => p === flag || p.startsWith(`${flag}=`))) {
        throw new Error(
          `cluster score needs the score's ${flag} after -- (e.g. -- --run RUN --data QUERIES)`,
        );
      }
    }
    tasks = Array.from({ length: a.shards }, (_, i) => i);
  } else if (kind === "experiment") {
    tasks = (a.classes ?? ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]).map(Number);
  } else {
    if (!a.task || !a.file) throw new Error("cluster sweep needs --task TASK and --file FLAGS_FILE");
    if (passed.length > 0) throw new Error("cluster sweep takes its flags from --file, not after --");
    let text: string;
    try {
      text = await Deno.readTextFile(a.file);
    } catch (e) {
      throw new Error(`--file ${a.file}: cannot read (${(e as Error).message})`);
    }
    lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    if (lines.length === 0) {
      throw new Error(`--file ${a.file}: no flag sets (every line is blank or a comment)`);
    }
    tasks = lines.map((_, i) => i);
  }
  const request: ClusterRequest = {
    kind: kind as ClusterRequest["kind"],
    root: Deno.cwd(),
    out: resolve(a.out),
    tasks,
    shards: a.shards,
    task: a.task,
    flags: passed,
    lines,
    join: a.join,
    sbatch: {
      partition: a.partition,
      account: a.account,
      time: a.time,
      gpusPerTask: a["gpus-per-task"],
      cpusPerTask: a["cpus-per-task"],
      extra: a.sbatch ? a.sbatch.split(/\s+/).filter(Boolean) : [],
    },
    deno: Deno.execPath(),
  };

  // One submission at a time per OUT: another one, started while this runs, is refused at once.
  const lock = await FolderLock.acquire(request.out, "cluster submission");
  try {
    return await submit(request, a);
  } finally {
    await lock.release();
  }
}

/** What `main` does once OUT is locked: writes the scripts and, with --submit, submits what is left. */
async function submit(request: ClusterRequest, a: Flags): Promise<number> {
  const { tasks } = request;
  const before = await readRequest(request.out);
  const change = before && requestChange(before, request);
  if (change && !a.force) {
    throw new Error(
      `${a.out} was submitted with other settings (${change}); use another --out, or --force to start over`,
    );
  }
  // Jobs of an earlier submission still writing: starting over would delete their folders under them,
  // and submitting again would run their tasks twice.
  const running = await runningOutputs(before ?? request);
  if (running.length > 0) {
    const what = `${running.join(", ")} ${
      running.length === 1 ? "is" : "are"
    } being written by a running job`;
    if (change || a.submit) {
      throw new Error(`${what}; wait for it to end or cancel it (scancel), then run deno task cluster again`);
    }
    console.error(`note: ${what}; submitting now would run it twice`);
  }
  if (change) {
    for (const d of ["shards", "classes", "sweep", "scores", "summary", "cluster"]) {
      await Deno.remove(resolve(request.out, d), { recursive: true }).catch(() => {});
    }
  }
  if (await requestComplete(request)) {
    console.log(`${a.out}: complete; nothing to submit`);
    return 0;
  }
  const pending: number[] = [];
  for (const i of tasks) if (!(await taskComplete(request, i))) pending.push(i);
  const scripts = await writeRequest(request);
  const arrayArgs = [`--array=${arraySpec(pending)}`, scripts.array];
  if (!a.submit) {
    console.log(`wrote ${scripts.array} and ${scripts.join}; submit them with:`);
    if (pending.length > 0) console.log(`  id=$(sbatch --parsable ${arrayArgs.join(" ")})`);
    console.log(`  sbatch ${pending.length > 0 ? "--dependency=afterany:$id " : ""}${scripts.join}`);
    console.log("or run deno task cluster again with --submit");
    return 0;
  }
  let arrayId: string | undefined;
  if (pending.length > 0) {
    arrayId = (await sbatch(arrayArgs)).id;
    console.log(`submitted array job ${arrayId}: tasks ${arraySpec(pending)} of ${tasks.length}`);
  } else {
    console.log("every array task has completed; submitting the join only");
  }
  const dependency = arrayId ? [`--dependency=afterany:${arrayId}`] : [];
  if (!a.wait) {
    const joinId = (await sbatch([...dependency, scripts.join])).id;
    console.log(
      `submitted join job ${joinId} (after the array); its log: ${a.out}/cluster/logs/join-${joinId}.out`,
    );
    await recordSubmission(request.out, { array: arrayId, tasks: pending, join: joinId });
    return 0;
  }
  const joined = await sbatch(["--wait", ...dependency, scripts.join]);
  await recordSubmission(request.out, { array: arrayId, tasks: pending, join: joined.id });
  const log = `${request.out}/cluster/logs/join-${joined.id}.out`;
  if (joined.code !== 0) {
    const tail = (await Deno.readTextFile(log).catch(() => "")).trim().split("\n").slice(-5).join("\n");
    console.error(`join job ${joined.id} failed (exit ${joined.code}); its log: ${log}\n${tail}`);
    console.error(`submit again to run what did not complete; array task logs: ${taskLog(request, "%a")}`);
    return 1;
  }
  console.log(`join job ${joined.id} completed; its log: ${log}`);
  return 0;
}

await runCli(main);
