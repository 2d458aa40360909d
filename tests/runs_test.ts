// Run folders as a user meets them, through the tasks themselves: a finished run is never overwritten
// without --force, bad flags leave a run untouched, the demo keeps a folder's own files, a resume
// refuses changed data, and corrupt weights are refused.

import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "fast-png";
import { readRunState } from "../harness/folders.ts";
import { snapshot } from "./helpers.ts";

const SCRIPTS = new URL("../scripts/", import.meta.url).pathname;
const TINY = ["--size", "32", "--width", "4", "--z-dim", "8", "--batch", "8", "--epochs", "1", "--quiet"];

async function run(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(SCRIPTS, script), ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
}

const root = await Deno.makeTempDir({ prefix: "runs-" });
const finished = join(root, "finished");
{
  const r = await run("train.ts", ["--data", "fmnist:7", "--limit", "64", ...TINY, "--out", finished]);
  assert.equal(r.code, 0, r.stderr);
}

Deno.test("train --out over a finished run is refused and changes nothing; --force replaces it whole", async () => {
  const before = await snapshot(finished);
  const again = await run("train.ts", ["--data", "fmnist:7", "--limit", "64", ...TINY, "--out", finished]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds a complete train; choose another folder, or pass --force/);
  // A bad flag is refused before anything is written, too.
  const bad = await run("train.ts", ["--data", "fmnist:7", ...TINY, "--width", "0", "--out", finished]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--width/);
  assert.deepEqual(await snapshot(finished), before, "the finished run is untouched");

  const copy = join(root, "forced");
  await Deno.mkdir(join(copy, "samples"), { recursive: true });
  await Deno.writeTextFile(join(copy, "samples", "epoch-009.png"), "an old sample");
  const forced = await run("train.ts", [
    "--data",
    "fmnist:7",
    "--limit",
    "64",
    ...TINY,
    "--out",
    copy,
    "--force",
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  const names = [...(await snapshot(copy)).keys()];
  assert.ok(!names.includes("samples/epoch-009.png"), "no old file left mixed in");
  assert.equal((await readRunState(copy))?.state, "complete");
});

Deno.test("the demo refuses a folder holding the user's own run/, phantoms/ or acae-run/", async () => {
  const out = join(root, "demo-out");
  for (const d of ["run", "phantoms", "acae-run"]) {
    await Deno.mkdir(join(out, d), { recursive: true });
    await Deno.writeTextFile(join(out, d, "mine.txt"), d);
  }
  const before = await snapshot(out);
  const r = await run("demo.ts", ["--out", out, "--quiet"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already holds files \(acae-run, phantoms, run\).*--force/);
  assert.deepEqual(await snapshot(out), before);
});

/** A folder of `n` 40×40 grayscale PNGs, the i-th filled with a ramp of its own. */
async function pngFolder(dir: string, n: number, first = 0): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = first; i < first + n; i++) {
    const data = new Uint8Array(40 * 40).map((_, j) => (j * (i + 3)) % 256);
    await Deno.writeFile(join(dir, `scan-${i}.png`), encode({ width: 40, height: 40, data, channels: 1 }));
  }
}

Deno.test("--resume refuses training data that changed since the run started, unless --force", async () => {
  const data = join(root, "pngs"), dir = join(root, "png-run");
  await pngFolder(data, 4);
  const args = ["--data", `png:${data}`, "--patches-per-image", "16", ...TINY];
  const first = await run("train.ts", [...args, "--out", dir]);
  assert.equal(first.code, 0, first.stderr);
  const saved = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  assert.equal(saved.dataFingerprint.files.length, 4);

  await pngFolder(data, 1, 4); // a fifth scan appears
  const before = await snapshot(dir);
  const refused = await run("train.ts", ["--resume", dir, "--epochs", "2", "--quiet"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /training data changed since the run started \(.*scan-4\.png.*\).*--force/);
  assert.deepEqual(await snapshot(dir), before, "a refused resume writes nothing");

  const forced = await run("train.ts", ["--resume", dir, "--epochs", "2", "--quiet", "--force"]);
  assert.equal(forced.code, 0, forced.stderr);
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  assert.equal(config.dataFingerprint.files.length, 5, "config.json describes the data trained on now");
  assert.equal(config.dataChanges.length, 1);
  assert.match(config.dataChanges[0].change, /scan-4\.png/);
});

Deno.test("weights changed on disk are refused by score: a checksum mismatch, not NaN scores", async () => {
  const dir = join(root, "corrupt");
  await Deno.mkdir(dir);
  for (const f of ["config.json", "state.json"]) await Deno.copyFile(join(finished, f), join(dir, f));
  const bytes = await Deno.readFile(join(finished, "model.safetensors"));
  const header = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  new DataView(bytes.buffer).setFloat32(8 + header + 64, NaN, true); // a weight of the first tensor
  await Deno.writeFile(join(dir, "model.safetensors"), bytes);
  const out = join(root, "corrupt-scores");
  const r = await run("score.ts", ["--run", dir, "--data", "fmnist-test:7", "--limit", "4", "--out", out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model\.safetensors.*checksum mismatch: the file is corrupt/);
  await assert.rejects(Deno.stat(out), "nothing written");
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
