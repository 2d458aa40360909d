// Faults, as a user meets them: train, score and train-encoder killed (SIGKILL) or stopped (SIGINT,
// Ctrl-C) at seeded random points, and two writers into one folder at once. After each, every output
// folder is either complete and correct, or marked as not complete and refused by the next task.

import assert from "node:assert/strict";
import { join } from "node:path";
import { readRunState } from "../harness/folders.ts";
import { snapshot, TINY_TRAIN_ARGS } from "./helpers.ts";

const SCRIPTS = new URL("../scripts/", import.meta.url).pathname;
const TINY = [
  ...TINY_TRAIN_ARGS,
  "--batch",
  "8",
];
const QUERIES = ["--data", "fmnist-test:7", "--limit", "12", "--quiet"];

/** Seeded delays (mulberry32): the same points each run, different points per case. */
function delays(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Done {
  code: number;
  stderr: string;
}

function start(script: string, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(SCRIPTS, script), ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const done: Promise<Done> = (async () => {
    const [status, bytes] = await Promise.all([child.status, new Response(child.stderr).arrayBuffer()]);
    return { code: status.code, stderr: new TextDecoder().decode(bytes) };
  })();
  return { child, done };
}

const run = (script: string, args: string[]) => start(script, args).done;

/** `deno task score` of the tiny query set with the weights of `runDir`, into `out`. */
const score = (runDir: string, out: string, ...more: string[]) =>
  run("score.ts", ["--run", runDir, ...QUERIES, "--out", out, ...more]);

async function waitFor(path: string, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await Deno.stat(path).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what} (${path})`);
}

/** Starts a task, waits until its folder says it is running, then a seeded 0–`spread` ms, and signals it. */
async function interrupt(
  script: string,
  args: string[],
  stateDir: string,
  signal: "SIGKILL" | "SIGINT",
  random: () => number,
  spread = 1500,
): Promise<Done> {
  const p = start(script, args);
  await waitFor(join(stateDir, "state.json"), `${script} to start`);
  await new Promise((r) => setTimeout(r, Math.floor(random() * spread)));
  p.child.kill(signal);
  return await p.done;
}

const root = await Deno.makeTempDir({ prefix: "faults-" });
const base = join(root, "base");
{
  const r = await run("train.ts", [...TINY, "--epochs", "1", "--out", base, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
}

for (const [k, signal] of (["SIGKILL", "SIGINT"] as const).entries()) {
  Deno.test(`train stopped by ${signal} at a random point: marked, refused by score, then resumed`, async () => {
    const dir = join(root, `train-${signal}`);
    const r = await interrupt(
      "train.ts",
      [...TINY, "--epochs", "1000", "--out", dir, "--quiet"],
      dir,
      signal,
      delays(11 + k),
    );
    const state = (await readRunState(dir))!;
    assert.equal(state.state, "interrupted", JSON.stringify(state));
    if (signal === "SIGINT") {
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /interrupted at step \d+; continue with deno task train --resume/);
      assert.match(state.message!, /SIGINT/);
    }
    const out = join(root, `scores-${signal}`);
    const refused = await score(dir, out, "--steps", "2");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is interrupted at step \d+.*not complete.*--allow-incomplete/);
    await assert.rejects(Deno.stat(out), "a refusal writes nothing");
    const hasCheckpoint = await Deno.stat(join(dir, "checkpoint.safetensors")).then(() => true, () => false);
    if (hasCheckpoint) {
      const allowed = await score(dir, out, "--steps", "2", "--allow-incomplete", "--no-images");
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stderr, /using the checkpoint of step \d+ \(--allow-incomplete\)/);
      const json = JSON.parse(await Deno.readTextFile(join(out, "score.json")));
      assert.match(json.runState, /^interrupted at step \d+/);
    }
    const resumed = await run("train.ts", [
      "--resume",
      dir,
      "--max-steps",
      String((state.step ?? 0) + 7),
      "--quiet",
    ]);
    if (hasCheckpoint) {
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal((await readRunState(dir))?.state, "complete");
      const lines = (await Deno.readTextFile(join(dir, "metrics.jsonl"))).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      const steps = lines.filter((l) => l.lossD !== undefined).map((l) => l.step);
      assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b), "each logged step once, in order");
    } else {
      assert.equal(resumed.code, 1);
      assert.match(resumed.stderr, /no checkpoint\.safetensors to resume from/);
    }
  });
}

for (const [k, signal] of (["SIGKILL", "SIGINT"] as const).entries()) {
  Deno.test(`score stopped by ${signal} while replacing a result: the old result stays whole`, async () => {
    const out = join(root, `replace-${signal}`);
    const first = await score(base, out, "--steps", "2");
    assert.equal(first.code, 0, first.stderr);
    const before = await snapshot(out);
    const r = await interrupt(
      "score.ts",
      ["--run", base, ...QUERIES, "--out", out, "--steps", "400", "--force"],
      join(root, `.replace-${signal}.staging`),
      signal,
      delays(21 + k),
      2000,
    );
    assert.notEqual(r.code, 0);
    assert.deepEqual(await snapshot(out), before, "not one file of the old result changed");
    const again = await score(base, out, "--steps", "2");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a complete score.*--force/);
    const forced = await score(base, out, "--steps", "3", "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(join(out, "score.json"))).mapping.steps, 3);
    const left = [...Deno.readDirSync(root)].map((e) => e.name).filter((n) =>
      n.includes(`replace-${signal}.`)
    );
    assert.deepEqual(left, [], "no staging folder or lock left behind");
  });
}

for (const [k, signal] of (["SIGKILL", "SIGINT"] as const).entries()) {
  Deno.test(`train-encoder stopped by ${signal}: the encoder is refused until it is complete`, async () => {
    const dir = join(root, `enc-${signal}`);
    await Deno.mkdir(dir);
    for (const f of ["config.json", "model.safetensors", "state.json"]) {
      await Deno.copyFile(join(base, f), join(dir, f));
    }
    const r = await interrupt(
      "train_encoder.ts",
      ["--run", dir, "--epochs", "1000", "--batch", "8", "--quiet"],
      join(dir, "encoder"),
      signal,
      delays(31 + k),
    );
    if (signal === "SIGINT") assert.equal(r.code, 130, r.stderr);
    assert.equal((await readRunState(join(dir, "encoder")))?.state, "interrupted");
    const args = ["--run", dir, ...QUERIES, "--mapper", "encoder", "--methods", "pd", "--no-images"];
    const refused = await run("score.ts", [...args, "--out", join(root, `enc-scores-${signal}`)]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /encoder is interrupted .*not complete/);
    const again = await run("train_encoder.ts", ["--run", dir, "--batch", "8", "--epochs", "1", "--quiet"]);
    assert.equal(again.code, 1, "a new encoder over an interrupted one needs --force or --resume");
    assert.match(again.stderr, /--resume/);
    const forced = await run("train_encoder.ts", [
      "--run",
      dir,
      "--batch",
      "8",
      "--epochs",
      "1",
      "--quiet",
      "--force",
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    const scored = await run("score.ts", [...args, "--out", join(root, `enc-scores-${signal}`)]);
    assert.equal(scored.code, 0, scored.stderr);
  });
}

Deno.test("two trainings into one folder at once: one trains, the other is refused", async () => {
  const dir = join(root, "two-trainings");
  const [a, b] = await Promise.all(
    [1, 2].map((seed) =>
      run("train.ts", [...TINY, "--epochs", "2", "--seed", String(seed), "--out", dir, "--quiet"])
    ),
  );
  const codes = [a.code, b.code].sort();
  assert.deepEqual(codes, [0, 1], `${a.stderr}\n${b.stderr}`);
  const loser = a.code === 1 ? a : b;
  assert.match(loser.stderr, /in use by another train \(process \d+|already holds a complete train/);
  const winnerSeed = a.code === 0 ? 1 : 2;
  assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "config.json"))).seed, winnerSeed);
  assert.equal((await readRunState(dir))?.state, "complete");
  const steps = (await Deno.readTextFile(join(dir, "metrics.jsonl"))).trim().split("\n").map((l) =>
    JSON.parse(l)
  )
    .filter((l) => l.lossD !== undefined).map((l) => l.step);
  assert.deepEqual(
    steps,
    [...new Set(steps)].sort((x, y) => x - y),
    "one run's metrics, not two interleaved",
  );
});

Deno.test("two score shards given one --out at once: one writes, the other is refused", async () => {
  const out = join(root, "two-shards");
  const shards = await Promise.all(
    ["0/2", "1/2"].map((shard) => score(base, out, "--steps", "20", "--shard", shard, "--no-images")),
  );
  assert.deepEqual(shards.map((s) => s.code).sort(), [0, 1], shards.map((s) => s.stderr).join("\n"));
  const loser = shards.find((s) => s.code === 1)!;
  assert.match(loser.stderr, /in use by another score \(process \d+|already holds a complete score/);
  const rows = (await Deno.readTextFile(join(out, "scores.csv"))).trim().split("\n").length - 1;
  assert.equal(rows, 6, "the winner's shard, whole");
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
