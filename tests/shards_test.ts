// Scoring in shards: --shard auto from a scheduler's environment, and deno task merge, whose joined
// scores.csv is byte for byte that of one process, and which refuses shards that do not make one whole.

import assert from "node:assert/strict";
import { join } from "node:path";
import { shardFromEnvironment } from "../harness/shards.ts";

const SCRIPTS = new URL("../scripts/", import.meta.url).pathname;

async function run(script: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(SCRIPTS, script), ...args],
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
}

Deno.test("--shard auto: a Slurm array task's shard, a Kubernetes Indexed Job's, and clear errors", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  const slurm = { SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_MIN: "5", SLURM_ARRAY_TASK_COUNT: "4" };
  assert.deepEqual(shardFromEnvironment(env(slurm)), [2, 4]);
  assert.deepEqual(shardFromEnvironment(env({ JOB_COMPLETION_INDEX: "3" }), 8), [3, 8]);
  assert.throws(
    () => shardFromEnvironment(env({})),
    /neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/,
  );
  assert.throws(() => shardFromEnvironment(env({ JOB_COMPLETION_INDEX: "3" })), /needs --shard-count/);
  assert.throws(() => shardFromEnvironment(env({ JOB_COMPLETION_INDEX: "8" }), 8), /shard 8 of 8/);
  assert.throws(
    () => shardFromEnvironment(env({ ...slurm, SLURM_ARRAY_TASK_MIN: "x" })),
    /SLURM_ARRAY_TASK_MIN is "x"/,
  );
  assert.throws(() => shardFromEnvironment(env(slurm), 4), /--shard-count is for Kubernetes/);
});

const root = await Deno.makeTempDir({ prefix: "shards-" });
const runDir = join(root, "run");
const QUERIES = ["--data", "fmnist-test:3", "--limit", "10", "--steps", "3", "--quiet"];
{
  const r = await run("train.ts", [
    ...["--data", "fmnist:3", "--limit", "64", "--size", "32", "--width", "4", "--z-dim", "8"],
    ...["--batch", "8", "--epochs", "1", "--out", runDir, "--quiet"],
  ]);
  assert.equal(r.code, 0, r.stderr);
}

Deno.test("three shards joined are byte for byte one process's scores.csv; eval reads the join", async () => {
  const whole = await run("score.ts", ["--run", runDir, ...QUERIES, "--out", join(root, "whole")]);
  assert.equal(whole.code, 0, whole.stderr);
  for (let i = 0; i < 3; i++) {
    // The Slurm way: the shard from the array's environment, the array starting at 1.
    const env = {
      SLURM_ARRAY_TASK_ID: String(i + 1),
      SLURM_ARRAY_TASK_MIN: "1",
      SLURM_ARRAY_TASK_COUNT: "3",
    };
    const shard = join(root, "shards", `shard-${i}`);
    const r = await run("score.ts", ["--run", runDir, ...QUERIES, "--shard", "auto", "--out", shard], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(join(shard, "score.json"))).shard, `${i}/3`);
  }
  const merged = join(root, "merged");
  const m = await run("merge.ts", [join(root, "shards"), "--out", merged]);
  assert.equal(m.code, 0, m.stderr);
  assert.equal(
    await Deno.readTextFile(join(merged, "scores.csv")),
    await Deno.readTextFile(join(root, "whole", "scores.csv")),
  );
  const json = JSON.parse(await Deno.readTextFile(join(merged, "score.json")));
  assert.equal(json.images, 10);
  assert.equal(json.run, "../run", "the run, relative to the joined folder");
  const e = await run("eval.ts", ["--scores", join(merged, "scores.csv")]);
  assert.equal(e.code, 0, e.stderr);
});

Deno.test("merge refuses a missing shard (naming its log), a shard twice, and shards of two configurations", async () => {
  const shards = join(root, "bad");
  for (let i = 0; i < 3; i += 2) {
    const r = await run("score.ts", [
      ...[
        "--run",
        runDir,
        ...QUERIES,
        "--shard",
        `${i}/3`,
        "--out",
        join(shards, `shard-${i}`),
        "--no-images",
      ],
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const out = join(root, "bad-merged");
  const missing = await run("merge.ts", [shards, "--out", out, "--logs", "logs/shard-%a.out"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /shard 1 of 3 is missing: .*; its log: logs\/shard-1\.out/);
  const twice = await run("merge.ts", [shards, join(shards, "shard-0"), "--out", out]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /shard 0\/3 is given twice/);
  const other = await run("score.ts", [
    ...[
      "--run",
      runDir,
      ...QUERIES,
      "--steps",
      "4",
      "--shard",
      "1/3",
      "--out",
      join(shards, "shard-1"),
      "--no-images",
    ],
  ]);
  assert.equal(other.code, 0, other.stderr);
  const mixed = await run("merge.ts", [shards, "--out", out]);
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /differ in mapping .*: not shards of one scoring/);
  await assert.rejects(Deno.stat(out), "a refused merge writes nothing");
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
