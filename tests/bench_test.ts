// `deno task bench`: every benchmark the dispatcher lists starts and prints its usage with --help, run
// through `deno task` from the root as a person would (so bench/deno.json is the config it runs under);
// and TensorFlow.js stays the benchmarks' own. bench/ is a Deno project of its own with its own lockfile,
// because Deno installs every npm package of a lockfile whenever a run needs npm at all: had TensorFlow.js
// stayed in the root's lockfile, every task would install it and print the "Ignored build scripts" box
// about its core-js. No benchmark runs here.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TARGETS } from "../bench/bench.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function deno(args: string[], env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

Deno.test("every benchmark the dispatcher lists prints its usage with --help and exits 0", async () => {
  const targets = Object.keys(TARGETS);
  assert.ok(targets.length >= 5, `expected the five benchmarks, got ${targets.join(", ")}`);
  const runs = await Promise.all(targets.map((t) => deno(["task", "bench", t, "--help"])));
  runs.forEach((r, i) => {
    const what = `deno task bench ${targets[i]} --help`;
    assert.equal(r.code, 0, `${what} exited with ${r.code}:\n${r.stderr}`);
    assert.match(
      r.stdout,
      new RegExp(`^deno task bench ${targets[i]} \\[`, "m"),
      `${what} printed:\n${r.stdout}`,
    );
    assert.doesNotMatch(r.stderr, /error|\n\s+at /, `${what} printed on stderr:\n${r.stderr}`);
  });
});

Deno.test("deno task bench --help lists every benchmark; a name it does not list is an error", async () => {
  const help = await deno(["task", "bench", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  for (const t of Object.keys(TARGETS)) assert.match(help.stdout, new RegExp(`^  ${t} `, "m"), help.stdout);
  const helper = await deno(["task", "bench", "util"]);
  assert.equal(helper.code, 1);
  assert.match(helper.stderr, /^error: unknown benchmark "util"$/m, helper.stderr);
});

Deno.test("a bad flag of a benchmark is one error line naming it, not a stack trace", async () => {
  const r = await deno(["task", "bench", "train", "--size", "48"]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: --size must be 32 or 64, got 48 \(see deno task bench train --help\)$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
});

Deno.test("TensorFlow.js is in bench/'s config and lockfile only; the imports both share pin one version", () => {
  const config = (path: string) => JSON.parse(Deno.readTextFileSync(join(ROOT, path)));
  const root = config("deno.json").imports as Record<string, string>;
  const bench = config("bench/deno.json").imports as Record<string, string>;
  assert.deepEqual(Object.keys(root).filter((k) => k.startsWith("@tensorflow/")), []);
  assert.ok(bench["@tensorflow/tfjs"]?.startsWith("npm:@tensorflow/tfjs@"), JSON.stringify(bench));
  for (const [name, pin] of Object.entries(bench)) {
    if (name in root) {
      assert.equal(pin, root[name], `${name}: bench/deno.json pins ${pin}, deno.json ${root[name]}`);
    }
  }
  const rootLock = Deno.readTextFileSync(join(ROOT, "deno.lock"));
  assert.doesNotMatch(rootLock, /@tensorflow\/|core-js/, "deno.lock names TensorFlow.js or core-js");
  assert.match(Deno.readTextFileSync(join(ROOT, "bench/deno.lock")), /"npm:@tensorflow\/tfjs@/);
});

/** Links (or, across file systems, copies) every file under `from` into the same place under `to`. */
function linkTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    const [src, dst] = [join(from, e.name), join(to, e.name)];
    if (e.isDirectory) linkTree(src, dst);
    else if (e.isFile) {
      try {
        Deno.linkSync(src, dst);
      } catch {
        Deno.copyFileSync(src, dst);
      }
    }
  }
}

Deno.test("tasks outside the benchmarks install no TensorFlow.js and print no 'Ignored build scripts' box", async () => {
  // A Deno cache holding the root lockfile's npm packages but TensorFlow.js and core-js, taken from the
  // shared cache (Deno resolves symbolic links, so the files are hard-linked): a task that needed
  // TensorFlow.js would install it here, and Deno prints its box when it installs core-js.
  const info = JSON.parse((await deno(["info", "--json"])).stdout);
  const shared = join(info.npmCache, "registry.npmjs.org");
  const denoDir = await Deno.makeTempDir({ prefix: "anogan-bench-test-" });
  const registry = join(denoDir, "npm", "registry.npmjs.org");
  const lock = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.lock")));
  const benchOnly = (name: string) => name === "core-js" || name.startsWith("@tensorflow/");
  try {
    for (const id of Object.keys(lock.npm ?? {})) {
      const [, name, version] = id.match(/^(@?[^@]+)@([^_]+)/)!; // "vega-lite@6.5.0_vega@6.4.0"
      const from = join(shared, name, version);
      if (!benchOnly(name) && existsSync(from)) linkTree(from, join(registry, name, version));
    }
    // adapter: what the task runner installs before any task; eval: a run that needs npm (vega, fast-png).
    for (const args of [["task", "adapter"], ["task", "eval", "--help"]]) {
      const r = await deno(args, { DENO_DIR: denoDir });
      const what = `deno ${args.join(" ")}`;
      assert.doesNotMatch(r.stdout + r.stderr, /Ignored build scripts/, `${what}:\n${r.stderr}`);
      for (const name of ["core-js", "@tensorflow"]) {
        assert.ok(!existsSync(join(registry, name)), `${what} installed ${name}`);
      }
      if (args[1] === "eval") assert.equal(r.code, 0, `${what} exited with ${r.code}:\n${r.stderr}`);
    }
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});
