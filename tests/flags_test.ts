// Every flag of every task is checked before any work: a bad value, a missing or unknown flag, or flags
// that cannot go together exit with code 1 and one `error: ...` line naming the flag, and nothing is
// written. One row per (task, arguments, what stderr must name); each row runs the task's script as
// `deno task` would (its permissions from deno.json) in a fresh folder, with an --out inside it.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  enumFlag,
  type Flag,
  integerFlag,
  listFlag,
  MAX_SEED,
  numberFlag,
  parseFlags,
  pathFlag,
  queryDataFlag,
  seedFlag,
  shardFlag,
  trainingDataFlag,
} from "../scripts/cli.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG = join(ROOT, "deno.json");
const TASKS: Record<string, string> = JSON.parse(Deno.readTextFileSync(CONFIG)).tasks;

/** The `deno run` permissions and the script of a task in deno.json. */
function taskCommand(task: string): { permissions: string[]; script: string } {
  const words = TASKS[task].split(/\s+/);
  return {
    permissions: words.filter((w) => w.startsWith("--allow-")),
    script: join(ROOT, words.find((w) => w.endsWith(".ts"))!),
  };
}

// Placeholders, replaced per row by paths in that row's folder: OUT must never appear; RUN holds a
// training run's config.json; DIR is an empty folder; SCORES a score file; MISSING does not exist.
const OUT = "<out>", RUN = "<run>", DIR = "<dir>", SCORES = "<scores>", MISSING = "<missing>";

// Valid minimal arguments of each task; a row adds one bad flag (the last value of a flag wins).
const TRAIN = ["--data", "fmnist:7", "--out", OUT];
const RESUME = ["--resume", RUN];
const SCORE = ["--run", RUN, "--data", "phantom-val", "--out", OUT];
const ENCODER = ["--run", RUN];
const DEMO = ["--out", OUT];
const EXPERIMENT = ["fmnist", "--out", OUT];
const EVAL = ["--scores", SCORES, "--out", OUT];
const BUDGET = ["--out", OUT];
const PHANTOM = ["--out", OUT];

/** [task, arguments, text stderr must contain]. */
const ROWS: [string, string[], string][] = [
  // train: optimisation
  ["train", [...TRAIN, "--lr=-1"], "--lr"],
  ["train", [...TRAIN, "--beta1", "2"], "--beta1"],
  ["train", [...TRAIN, "--beta2=-0.1"], "--beta2"],
  ["train", [...TRAIN, "--max-steps=-5"], "--max-steps"],
  ["train", [...TRAIN, "--epochs", "0"], "--epochs"],
  ["train", [...TRAIN, "--batch", "0"], "--batch"],
  ["train", [...TRAIN, "--g-steps", "0"], "--g-steps"],
  ["train", [...TRAIN, "--log-every", "0"], "--log-every"],
  ["train", [...TRAIN, "--d-norms", "both"], "--d-norms"],
  ["train", [...TRAIN, "--seed", "abc"], "--seed"],
  // train: model
  ["train", [...TRAIN, "--width", "0"], "--width"],
  ["train", [...TRAIN, "--z-dim", "0"], "--z-dim"],
  ["train", [...TRAIN, "--z-dim", "5000"], "--z-dim"],
  ["train", [...TRAIN, "--size", "48"], "--size"],
  ["train", [...TRAIN, "--model", "vae"], "--model"],
  ["train", [...TRAIN, "--model", "acae", "--recon-weight=-1"], "--recon-weight"],
  ["train", [...TRAIN, "--recon-weight", "5"], "--recon-weight is for --model acae"],
  // train: data
  ["train", ["--out", OUT], "--data is required"],
  ["train", [...TRAIN, "--data", "fmnist:10"], "--data"],
  ["train", [...TRAIN, "--data", "phantom:2"], "--data"],
  ["train", [...TRAIN, "--data", `png:${MISSING}`], "--data"],
  ["train", [...TRAIN, "--limit", "0"], "--limit"],
  ["train", [...TRAIN, "--data", "phantom", "--patches-per-image", "0"], "--patches-per-image"],
  ["train", [...TRAIN, "--patches-per-image", "4"], "--patches-per-image is for"],
  ["train", [...TRAIN, "--data", "phantom", "--phantom-volumes", "0"], "--phantom-volumes"],
  ["train", [...TRAIN, "--phantom-volumes", "3"], "--phantom-volumes is for"],
  ["train", [...TRAIN, "--data", "phantom", "--fmnist-dir", DIR], "--fmnist-dir is for"],
  ["train", [...TRAIN, "--fmnist-dir", MISSING], "--fmnist-dir"],
  ["train", [...TRAIN, "--out", ""], "--out"],
  ["train", [...TRAIN, "--bogus"], "--bogus"],
  ["train", [...TRAIN, "--quiet=yes"], "--quiet"],
  // train --resume: only what may change on a resume
  ["train", [...RESUME, "--lr", "0.1"], "--lr cannot be given with --resume"],
  ["train", [...RESUME, "--batch", "8"], "--batch cannot be given with --resume"],
  ["train", [...RESUME, "--seed", "3"], "--seed cannot be given with --resume"],
  ["train", [...RESUME, "--width", "8"], "--width cannot be given with --resume"],
  ["train", [...RESUME, "--data", "fmnist:3"], "--data cannot be given with --resume"],
  ["train", [...RESUME, "--out", OUT], "--out cannot be given with --resume"],
  ["train", [...RESUME, "--beta1", "0.9", "--z-dim", "8"], "--beta1 and --z-dim cannot be given"],
  ["train", [...RESUME, "--epochs", "0"], "--epochs"],
  ["train", [...RESUME, "--max-steps=-1"], "--max-steps"],
  ["train", [...RESUME, "--log-every", "0"], "--log-every"],
  ["train", ["--resume", MISSING], "--resume"],
  // score
  ["score", ["--run", RUN, "--data", "phantom-val"], "--out"],
  ["score", [...SCORE, "--run", MISSING], "--run"],
  ["score", [...SCORE, "--data", "fmnist-test:10"], "--data"],
  ["score", [...SCORE, "--data", "phantom-test:1"], "--data"],
  ["score", [...SCORE, "--data", "nothing"], "--data"],
  ["score", [...SCORE, "--balanced"], "--balanced needs --limit"],
  ["score", [...SCORE, "--balanced", "--limit", "1"], "--limit"],
  ["score", [...SCORE, "--limit", "0"], "--limit"],
  ["score", [...SCORE, "--steps=-1"], "--steps"],
  ["score", [...SCORE, "--lambda", "1.5"], "--lambda"],
  ["score", [...SCORE, "--lr", "0"], "--lr"],
  ["score", [...SCORE, "--seed", "abc"], "--seed"],
  ["score", [...SCORE, "--batch", "0"], "--batch"],
  ["score", [...SCORE, "--shard", "4/4"], "--shard"],
  ["score", [...SCORE, "--methods", ""], "--methods"],
  ["score", [...SCORE, "--methods", "anogan,foo"], "--methods"],
  ["score", [...SCORE, "--mapper", "encoder,bar"], "--mapper"],
  ["score", [...SCORE, "--fmnist-dir", DIR], "--fmnist-dir is for"],
  ["score", [...SCORE, "--bogus"], "--bogus"],
  // train-encoder
  ["train-encoder", [], "--run"],
  ["train-encoder", ["--run", MISSING], "--run"],
  ["train-encoder", [...ENCODER, "--epochs", "0"], "--epochs"],
  ["train-encoder", [...ENCODER, "--batch", "0"], "--batch"],
  ["train-encoder", [...ENCODER, "--lr=-1"], "--lr"],
  ["train-encoder", [...ENCODER, "--beta1", "1"], "--beta1"],
  ["train-encoder", [...ENCODER, "--beta2", "2"], "--beta2"],
  ["train-encoder", [...ENCODER, "--kappa=-1"], "--kappa"],
  ["train-encoder", [...ENCODER, "--max-steps=-5"], "--max-steps"],
  ["train-encoder", [...ENCODER, "--seed", "abc"], "--seed"],
  ["train-encoder", [...ENCODER, "--log-every", "0"], "--log-every"],
  ["train-encoder", [...ENCODER, "--resume", "--lr", "0.1"], "--lr cannot be given with --resume"],
  ["train-encoder", [...ENCODER, "--resume", "--kappa", "2"], "--kappa cannot be given with --resume"],
  ["train-encoder", [...ENCODER, "--resume", "--seed", "2"], "--seed cannot be given with --resume"],
  ["train-encoder", [...ENCODER, "--bogus"], "--bogus"],
  // demo
  ["demo", [...DEMO, "--preset", "huge"], "--preset"],
  ["demo", [...DEMO, "--seed", "abc"], "--seed"],
  ["demo", [...DEMO, "--out", ""], "--out"],
  ["demo", [...DEMO, "--bogus"], "--bogus"],
  // experiment
  ["experiment", [...EXPERIMENT, "--classes", ""], "--classes"],
  ["experiment", [...EXPERIMENT, "--classes", "10"], "--classes"],
  ["experiment", [...EXPERIMENT, "--seed", "abc"], "--seed"],
  ["experiment", [...EXPERIMENT, "--fmnist-dir", MISSING], "--fmnist-dir"],
  ["experiment", ["--out", OUT], "deno task experiment fmnist"],
  ["experiment", ["mnist", "--out", OUT], "mnist"],
  ["experiment", [...EXPERIMENT, "--bogus"], "--bogus"],
  // eval
  ["eval", ["--out", OUT], "--scores"],
  ["eval", [...EVAL, "--seed", "abc"], "--seed"],
  ["eval", [...EVAL, "--bootstrap", "0"], "--bootstrap"],
  ["eval", [...EVAL, "--examples=-1"], "--examples"],
  ["eval", [...EVAL, "--smooth", "17"], "--smooth"],
  ["eval", [...EVAL, "--train-scores", ""], "--train-scores"],
  ["eval", [...EVAL, "--bogus"], "--bogus"],
  // budget
  ["budget", [], "--out"],
  ["budget", [...BUDGET, "--size", "48"], "--size"],
  ["budget", [...BUDGET, "--width", "0"], "--width"],
  ["budget", [...BUDGET, "--epochs", "0"], "--epochs"],
  ["budget", [...BUDGET, "--volumes", "0"], "--volumes"],
  ["budget", [...BUDGET, "--patches-per-bscan", "0"], "--patches-per-bscan"],
  ["budget", [...BUDGET, "--steps", "0"], "--steps"],
  ["budget", [...BUDGET, "--lr", "0"], "--lr"],
  ["budget", [...BUDGET, "--val-patches", "1"], "--val-patches"],
  ["budget", [...BUDGET, "--d-norms", "both"], "--d-norms"],
  ["budget", [...BUDGET, "--seed", "abc"], "--seed"],
  ["budget", [...BUDGET, "--table", DIR], "--out cannot be given with --table"],
  ["budget", ["--table"], "--table"],
  ["budget", [...BUDGET, "stray"], "stray"],
  ["budget", [...BUDGET, "--bogus"], "--bogus"],
  // phantom
  ["phantom", [], "--out"],
  ["phantom", [...PHANTOM, "--healthy-volumes=-1"], "--healthy-volumes"],
  ["phantom", [...PHANTOM, "--pathological-volumes", "x"], "--pathological-volumes"],
  ["phantom", [...PHANTOM, "--healthy-volumes", "0", "--pathological-volumes", "0"], "--healthy-volumes"],
  ["phantom", [...PHANTOM, "--bscans", "0"], "--bscans"],
  ["phantom", [...PHANTOM, "--width", "32"], "--width"],
  ["phantom", [...PHANTOM, "--height", "10"], "--height"],
  ["phantom", [...PHANTOM, "--bit-depth", "12"], "--bit-depth"],
  ["phantom", [...PHANTOM, "--seed", "abc"], "--seed"],
  ["phantom", [...PHANTOM, "--bogus"], "--bogus"],
];

const HELP_TASKS = ["train", "score", "train-encoder", "demo", "experiment", "eval", "budget", "phantom"];

/** Every file and folder under `dir`, relative, sorted. */
function listing(dir: string, prefix = ""): string[] {
  return [...Deno.readDirSync(join(dir, prefix))].flatMap((e) => {
    const path = join(prefix, e.name);
    return e.isDirectory ? [path, ...listing(dir, path)] : [path];
  }).sort();
}

/** Runs a task's script with `args` in a fresh folder; what it wrote, its exit code and output. */
async function runTask(task: string, args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "flags-" });
  try {
    await Deno.mkdir(join(dir, "run"));
    await Deno.writeTextFile(
      join(dir, "run", "config.json"),
      JSON.stringify({ data: "fmnist:7", model: { size: 32, width: 4, zDim: 8 }, epochs: 1, seed: 0 }),
    );
    await Deno.mkdir(join(dir, "empty"));
    await Deno.writeTextFile(join(dir, "scores.csv"), "");
    const paths: Record<string, string> = {
      [OUT]: join(dir, "out"),
      [RUN]: join(dir, "run"),
      [DIR]: join(dir, "empty"),
      [SCORES]: join(dir, "scores.csv"),
      [MISSING]: join(dir, "missing"),
    };
    const resolved = args.map((a) => a.replace(/<\w+>/g, (p) => paths[p] ?? p));
    const before = listing(dir);
    const { permissions, script } = taskCommand(task);
    const started = performance.now();
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", CONFIG, ...permissions, script, ...resolved],
      cwd: dir, // default output folders (runs/, out/) would land here and be seen
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000), // a row that passes validation would start real work
    }).output();
    return {
      code: r.code,
      stdout: new TextDecoder().decode(r.stdout),
      stderr: new TextDecoder().decode(r.stderr),
      written: listing(dir).filter((p) => !before.includes(p)),
      ms: performance.now() - started,
      resolved,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `jobs` with at most `width` at once (the machine may have 2 cores). */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

Deno.test("each task refuses a bad flag before any work: exit 1, one line naming it, no write", async () => {
  const started = performance.now();
  const results = await pool(ROWS.map(([task, args]) => () => runTask(task, args)), 4);
  const failures = ROWS.flatMap(([task, args, named], i) => {
    const r = results[i];
    const problems = [
      r.code !== 1 && `exit code ${r.code}`,
      !/^error: [^\n]+\n$/.test(r.stderr) && "stderr is not one `error: ...` line",
      !r.stderr.includes(named) && `stderr does not name ${named}`,
      r.written.length > 0 && `wrote ${r.written.join(", ")}`,
    ].filter(Boolean);
    return problems.length
      ? [`deno task ${task} ${args.join(" ")}: ${problems.join("; ")}\n  ${r.stderr}`]
      : [];
  });
  const slowest = Math.max(...results.map((r) => r.ms));
  console.log(
    `${ROWS.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s, slowest ${
      slowest.toFixed(0)
    } ms`,
  );
  assert.deepEqual(failures, [], failures.join("\n"));
});

Deno.test("--help prints every task's usage and exits 0, even beside bad flags; nothing written", async () => {
  const results = await pool(
    HELP_TASKS.map((task) => () => runTask(task, ["--help", "--seed", "abc", "--bogus"])),
    4,
  );
  HELP_TASKS.forEach((task, i) => {
    const r = results[i];
    assert.equal(r.code, 0, `${task}: ${r.stderr}`);
    assert.match(r.stdout, /--seed/, `${task}: usage`);
    assert.deepEqual(r.written, [], `${task} wrote`);
  });
});

// The validators' edges, in process: what a value becomes, or the error it gives.
const EDGES: [string, Flag<unknown>, string | undefined, unknown][] = [
  ["an absent flag takes its default", integerFlag({ min: 1 }, 7), undefined, 7],
  ["an absent flag without a default stays undefined", integerFlag({ min: 1 }), undefined, undefined],
  ["an integer at its minimum", integerFlag({ min: 1 }), "1", 1],
  ["an integer below its minimum", integerFlag({ min: 1 }), "0", /expected an integer ≥ 1, got "0"/],
  ["a fraction for an integer", integerFlag({ min: 1 }), "8.5", /expected an integer ≥ 1, got "8.5"/],
  ["an exponent for an integer", integerFlag({ min: 0 }), "1e3", /expected an integer ≥ 0/],
  ["an empty integer", integerFlag({ min: 0 }), "", /expected an integer ≥ 0, got ""/],
  ["an integer past the safe range", integerFlag({}), "9007199254740993", /expected an integer/],
  ["a number in an exclusive minimum", numberFlag({ min: 0, exclusiveMin: true }), "0", /a number > 0/],
  ["a small positive number", numberFlag({ min: 0, exclusiveMin: true }), "1e-4", 1e-4],
  ["a number at an exclusive maximum", numberFlag({ min: 0, max: 1, exclusiveMax: true }), "1", /\[0, 1\)/],
  ["a number at an inclusive maximum", numberFlag({ min: 0, max: 1 }), "1", 1],
  ["a number that is not finite", numberFlag({}), "Infinity", /expected a number/],
  ["a word for a number", numberFlag({}), "fast", /expected a number, got "fast"/],
  ["the largest seed", seedFlag(), String(MAX_SEED), MAX_SEED],
  ["a seed past 32 bits", seedFlag(), String(MAX_SEED + 1), /an integer in \[0, 4294967295\]/],
  ["a negative seed", seedFlag(), "-1", /an integer in \[0, 4294967295\]/],
  ["a member of an enum", enumFlag(["32", "64"]), "64", "64"],
  ["a stranger to an enum", enumFlag(["a", "b", "c"]), "d", /expected one of a, b, c, got "d"/],
  ["a list with spaces", listFlag(["x", "y"]), "x, y", ["x", "y"]],
  ["an empty list", listFlag(["x", "y"]), "", /empty item in ""/],
  ["a list with an empty item", listFlag(["x", "y"]), "x,,y", /empty item in "x,,y"/],
  ["a list with a stranger", listFlag(["x", "y"]), "x,z", /unknown item "z"/],
  ["a list naming one item twice", listFlag(["x", "y"]), "y,y", /"y" is listed twice/],
  ["a shard", shardFlag(), "2/3", [2, 3]],
  ["the whole set when no shard is given", shardFlag(), undefined, [0, 1]],
  ["a shard past the last", shardFlag(), "3/3", /0 ≤ i < n/],
  ["zero shards", shardFlag(), "0/0", /0 ≤ i < n/],
  ["a shard in words", shardFlag(), "first", /0 ≤ i < n/],
  ["an empty path", pathFlag(), "", /expected a path, got ""/],
  ["a missing folder", pathFlag({ exists: "folder" }), "/no/such/folder", /no such folder/],
  ["training data of a class", trainingDataFlag(), "fmnist:3", "fmnist:3"],
  ["empty training data", trainingDataFlag(), "", /unknown data/],
  ["training data of an unknown kind", trainingDataFlag(), "mnist:3", /unknown data/],
  ["a png source without a folder", trainingDataFlag(), "png:", /expected png:DIR/],
  ["phantom with an argument", trainingDataFlag(), "phantom:2", /unknown data/],
  ["a query set of the phantom patches", queryDataFlag(), "phantom-val", "phantom-val"],
  ["a test class out of range", queryDataFlag(), "fmnist-test:12", /CLASS in 0–9/],
];

for (const [what, flag, raw, expected] of EDGES) {
  Deno.test(`flag validators: ${what}`, () => {
    if (expected instanceof RegExp) assert.throws(() => flag.check("x", raw), expected);
    else assert.deepEqual(flag.check("x", raw), expected);
  });
}

Deno.test("parseFlags reports the flags given, and parseArgs's errors as one line naming the flag", () => {
  const table = { lr: numberFlag({ min: 0 }, 1), quiet: pathFlag() };
  const f = parseFlags(["--lr", "2"], table);
  assert.ok(!f.help && f.values.lr === 2 && [...f.given].join() === "lr");
  assert.throws(
    () => parseFlags(["--lr", "-1"], table),
    /^Error: Option '--lr' argument is ambiguous\. [^\n]+$/,
  );
  assert.throws(() => parseFlags(["--nope"], table), /unknown flag --nope \(see --help\)/);
  assert.deepEqual(parseFlags(["-h", "--lr", "bad"], table), { help: true });
  assert.deepEqual(parseFlags(["--nope", "--help"], table), { help: true });
});
