// Scoring on a real Slurm (a single-node one: sh scripts/slurm_local.sh start): a 3-shard array and its
// join give the scores.csv and Table 1 of one process; a shard cancelled with scancel fails the join
// with a message naming it and its log; submitting again runs that shard alone and completes.

import assert from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

async function sh(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, cwd: ROOT, env, stdout: "piped", stderr: "piped" })
      .output();
    const d = new TextDecoder();
    return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
  } catch (e) {
    return { code: 127, stdout: "", stderr: (e as Error).message };
  }
}

const task = (script: string, args: string[], env: Record<string, string> = {}) =>
  sh(Deno.execPath(), ["run", "-A", `scripts/${script}`, ...args], env);

/** Why the test cannot run here, or null: Slurm's tools answer and a node takes jobs. */
async function unavailable(): Promise<string | null> {
  const s = await sh("sinfo", ["-h", "-o", "%t"]);
  if (s.code !== 0) return `Slurm does not answer (sinfo: ${s.stderr.trim().split("\n")[0]})`;
  if (!/idle|mix|alloc/.test(s.stdout)) return `no Slurm node takes jobs (sinfo: ${s.stdout.trim()})`;
  return null;
}

async function waitForJobs(ids: string[], seconds: number): Promise<void> {
  for (let t = 0; t < seconds * 2; t++) {
    const q = await sh("squeue", ["-h", "-j", ids.join(","), "-o", "%i %T"]);
    if (q.stdout.trim() === "") return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`jobs ${ids.join(", ")} still queued after ${seconds} s`);
}

const reason = await unavailable();
if (reason) console.log(`slurm_test: skipped, ${reason}; start one with sh scripts/slurm_local.sh start`);

Deno.test({
  name:
    "a 3-shard scoring array on Slurm: joined as one process's scores; scancel fails the join; resubmit completes",
  ignore: reason !== null,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "slurm-" });
    const run = join(root, "run");
    const trained = await task("train.ts", [
      ...["--data", "fmnist:5", "--limit", "64", "--size", "32", "--width", "4", "--z-dim", "8"],
      ...["--batch", "8", "--epochs", "1", "--out", run, "--quiet"],
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    const score = ["--run", run, "--data", "fmnist-test:5", "--limit", "12", "--steps", "3", "--quiet"];
    const whole = await task("score.ts", [...score, "--out", join(root, "whole")]);
    assert.equal(whole.code, 0, whole.stderr);
    const wholeEval = await task("eval.ts", ["--scores", join(root, "whole", "scores.csv")]);
    assert.equal(wholeEval.code, 0, wholeEval.stderr);

    const out = join(root, "cluster");
    const cluster = ["cluster.ts", "score", "--shards", "3", "--out", out, "--submit"] as const;
    // Submitted held (sbatch reads SBATCH_HOLD), so that shard 1 is cancelled before it can run, however
    // fast the node is; then the rest are released.
    const first = await task(cluster[0], [...cluster.slice(1), "--", ...score], { SBATCH_HOLD: "1" });
    assert.equal(first.code, 0, first.stderr);
    const arrayId = first.stdout.match(/submitted array job (\d+): tasks 0-2 of 3/)?.[1];
    const joinId = first.stdout.match(/submitted join job (\d+)/)?.[1];
    assert.ok(arrayId && joinId, first.stdout);
    const cancel = await sh("scancel", [`${arrayId}_1`]);
    assert.equal(cancel.code, 0, cancel.stderr);
    const release = await sh("scontrol", ["release", arrayId, joinId]);
    assert.equal(release.code, 0, release.stderr);
    await waitForJobs([arrayId, joinId], 240);
    const joinLog = await Deno.readTextFile(join(out, "cluster", "logs", `join-${joinId}.out`));
    assert.match(joinLog, /error: shard 1 of 3 is missing: .*; its log: .*\/cluster\/logs\/task-1\.out/);
    await assert.rejects(Deno.stat(join(out, "scores")), "a failed join writes no scores");

    const again = await task(cluster[0], [...cluster.slice(1), "--wait", "--", ...score]);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
    assert.match(
      again.stdout,
      /submitted array job \d+: tasks 1 of 3/,
      "only the cancelled shard runs again",
    );
    assert.equal(
      await Deno.readTextFile(join(out, "scores", "scores.csv")),
      await Deno.readTextFile(join(root, "whole", "scores.csv")),
      "the joined scores.csv is byte for byte one process's",
    );
    const table1 = async (dir: string) => JSON.parse(await Deno.readTextFile(join(dir, "eval.json"))).table1;
    assert.deepEqual(
      await table1(join(out, "scores")),
      await table1(join(root, "whole")),
      "the same Table 1",
    );
    const done = await task(cluster[0], [...cluster.slice(1), "--", ...score]);
    assert.match(done.stdout, /complete; nothing to submit/);
    await Deno.remove(root, { recursive: true });
  },
});
