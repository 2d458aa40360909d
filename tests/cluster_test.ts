// deno task cluster without a scheduler: the sbatch scripts it writes, what a resubmission leaves to
// run, its refusals, and the join of an experiment run class by class.

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  arrayScript,
  arraySpec,
  type ClusterRequest,
  joinScript,
  shellQuote,
  taskComplete,
} from "../harness/cluster.ts";
import { FolderLock, writeRunState } from "../harness/folders.ts";
import { FMNIST_QUICK, summarizeExperiments } from "../harness/experiment.ts";

const SCRIPT = new URL("../scripts/cluster.ts", import.meta.url).pathname;

async function cluster(args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", SCRIPT, ...args] }).output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}

const request = (over: Partial<ClusterRequest>): ClusterRequest => ({
  kind: "score",
  root: "/project",
  out: "/data/out big",
  tasks: [0, 1, 2],
  shards: 3,
  flags: ["--run", "runs/a b", "--data", "phantom-val"],
  sbatch: { partition: "gpu", gpusPerTask: 1, time: "02:00:00", extra: ["--mem=16G"] },
  deno: "/usr/bin/deno",
  ...over,
});

Deno.test("array indices in Slurm's compact form, and shell words quoted only when needed", () => {
  assert.equal(arraySpec([0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
  assert.equal(arraySpec([4]), "4");
  assert.equal(shellQuote("runs/a-1.x"), "runs/a-1.x");
  assert.equal(shellQuote("a b"), "'a b'");
  assert.equal(shellQuote("it's"), `'it'"'"'s'`);
});

Deno.test("the score array runs shard i of n into its own folder; the join merges and evaluates", () => {
  const r = request({});
  const array = arrayScript(r);
  assert.match(array, /^#SBATCH --partition=gpu$/m);
  assert.match(array, /^#SBATCH --gpus-per-task=1$/m);
  assert.match(array, /^#SBATCH --mem=16G$/m);
  assert.match(array, /^#SBATCH --output=\/data\/out big\/cluster\/logs\/task-%a\.out$/m);
  assert.match(
    array,
    /task score --shard "\$i\/3" --out '\/data\/out big\/shards'\/shard-"\$i" --run 'runs\/a b'/,
  );
  const joined = joinScript(r);
  assert.match(joined, /task merge '\/data\/out big\/shards' --out '\/data\/out big\/scores' --logs/);
  assert.match(joined, /task eval --scores '\/data\/out big\/scores\/scores\.csv'/);
  assert.doesNotMatch(joined, /gpus-per-task/, "the join needs no GPU");
  const sweep = joinScript(
    request({ kind: "sweep", task: "budget", tasks: [0, 1], lines: ["--out a", "--out b"] }),
  );
  assert.match(sweep, /for i in 0 1; do/);
  assert.match(sweep, /sweep task \$i .* did not complete; its log/);
});

Deno.test("a resubmission leaves out the tasks whose folders are complete", async () => {
  const out = await Deno.makeTempDir();
  const r = request({ out });
  await Deno.mkdir(join(out, "shards", "shard-1"), { recursive: true });
  await writeRunState(join(out, "shards", "shard-1"), "score", "complete");
  await Deno.mkdir(join(out, "shards", "shard-2"), { recursive: true });
  await writeRunState(join(out, "shards", "shard-2"), "score", "failed", { message: "boom" });
  const done = await Promise.all(r.tasks.map((i) => taskComplete(r, i)));
  assert.deepEqual(done, [false, true, false]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("cluster writes the scripts and the commands without --submit; refuses what it sets itself", async () => {
  const out = await Deno.makeTempDir();
  const ok = await cluster([
    "score",
    "--shards",
    "4",
    "--out",
    out,
    "--",
    "--run",
    "r",
    "--data",
    "phantom-val",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /sbatch --parsable --array=0-3 .*array\.sbatch/);
  assert.match(ok.stdout, /sbatch --dependency=afterany:\$id .*join\.sbatch/);
  for (const f of ["request.json", "array.sbatch", "join.sbatch"]) await Deno.stat(join(out, "cluster", f));
  const refusals: [string[], RegExp][] = [
    [
      ["score", "--shards", "2", "--out", out, "--", "--run", "r", "--data", "d", "--out", "x"],
      /--out cannot be passed/,
    ],
    [["score", "--out", out, "--", "--run", "r", "--data", "d"], /needs --shards/],
    [["score", "--shards", "2", "--out", out, "--", "--data", "d"], /needs the score's --run/],
    [
      ["score", "--shards", "2", "--out", out, "--", "--run", "r", "--data", "e"],
      /submitted with other settings/,
    ],
    [["experiment", "--shards", "2", "--out", out], /--shards is for cluster score/],
    [["sweep", "--task", "budget", "--out", out], /needs --task TASK and --file/],
    [["score", "--shards", "2", "--out", out, "--wait"], /--wait needs --submit/],
    [["train", "--out", out], /expected one of score, experiment, sweep/],
  ];
  for (const [args, message] of refusals) {
    const r = await cluster(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, message, args.join(" "));
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("cluster takes OUT's lock, and will not start over or resubmit under a running job", async () => {
  const out = join(await Deno.makeTempDir(), "out");
  const score = (data: string, ...more: string[]) =>
    cluster(["score", "--shards", "2", "--out", out, ...more, "--", "--run", "r", "--data", data]);
  assert.equal((await score("d")).code, 0);

  // Another submission into OUT at the same time is refused, naming it.
  const other = await FolderLock.acquire(out, "cluster submission");
  const busy = await score("d");
  await other.release();
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /in use by another cluster submission \(process \d+/);

  // Shard 1 still being written by its array task (its run holds the folder's lock).
  const shard = join(out, "shards", "shard-1");
  await Deno.mkdir(shard, { recursive: true });
  await Deno.writeTextFile(join(shard, "partial.csv"), "x\n");
  const running = await FolderLock.acquire(shard, "score");
  try {
    for (const args of [["e", "--force"], ["d", "--submit"]] as const) {
      const r = await score(args[0], args[1]);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, /shard-1 is being written by a running job; wait for it to end or cancel it/);
    }
    await Deno.stat(join(shard, "partial.csv")); // --force removed nothing under the running task
    const again = await score("d"); // only writing the scripts again: allowed, with a note
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stderr,
      /note: .*shard-1 is being written by a running job; submitting now would run it twice/,
    );
  } finally {
    await running.release();
  }
  // Once it has ended, starting over goes ahead.
  assert.equal((await score("e", "--force")).code, 0);
  await assert.rejects(Deno.stat(join(shard, "partial.csv")));
  await Deno.remove(dirname(out), { recursive: true });
});

Deno.test("experiment summary joins classes run apart, refusing a class twice or other settings", async () => {
  const root = await Deno.makeTempDir();
  const result = (cls: number) => ({
    cls,
    name: `class ${cls}`,
    auc: { A: 0.5 + cls / 100, R: 0.5, D: 0.5, PD: 0.5, A_acae: 0.5, A_encoder: 0.5, A_encoder_iter: 0.5 },
    trainSeconds: 1,
    scoreSeconds: 1,
    secondsPerImage: {},
    testImages: 10,
  });
  const write = async (name: string, classes: number[], seed = 0) => {
    await Deno.mkdir(join(root, "classes", name), { recursive: true });
    const json = { settings: FMNIST_QUICK, seed, results: classes.map(result) };
    await Deno.writeTextFile(join(root, "classes", name, "summary.json"), JSON.stringify(json));
  };
  await write("class-3", [3]);
  await write("class-1", [1]);
  const joined = await summarizeExperiments([join(root, "classes")], join(root, "summary"));
  assert.deepEqual(joined.map((r) => r.cls), [1, 3]);
  assert.match(await Deno.readTextFile(join(root, "summary", "summary.md")), /\| mean of 2 \|/);
  await write("again", [3]);
  await assert.rejects(
    summarizeExperiments([join(root, "classes")], join(root, "s2")),
    /class 3 appears twice/,
  );
  await Deno.remove(join(root, "classes", "again"), { recursive: true });
  await write("seeded", [5], 1);
  await assert.rejects(
    summarizeExperiments([join(root, "classes")], join(root, "s2")),
    /different settings or seeds/,
  );
  await Deno.remove(root, { recursive: true });
});
