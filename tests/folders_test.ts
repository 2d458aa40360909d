// The owner of output folders: locks, refusal of other files, staging renamed into place, recovery
// after a killed owner, and run states.

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  describeRunState,
  FolderLock,
  OwnedFolder,
  readRunState,
  requireComplete,
  writeRunState,
} from "../harness/folders.ts";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("a staged folder appears only when committed, with its state; the lock goes with it", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "scores");
  const f = await OwnedFolder.claim(out, { task: "score", staged: true });
  assert.equal(f.dir, join(root, ".scores.staging"));
  await Deno.writeTextFile(join(f.dir, "scores.csv"), "id\n");
  await assert.rejects(Deno.stat(out), "nothing at the final path before commit");
  await f.commit();
  assert.deepEqual(await names(out), ["scores.csv", "state.json"]);
  assert.equal((await readRunState(out))?.state, "complete");
  assert.deepEqual(await names(root), ["scores"], "no staging folder or lock file left");
  await Deno.remove(root, { recursive: true });
});

Deno.test("a folder with files is refused without --force, replaced whole with it", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "out");
  await Deno.mkdir(join(out, "run"), { recursive: true });
  await Deno.writeTextFile(join(out, "run", "mine.txt"), "the user's file");
  await assert.rejects(
    OwnedFolder.claim(out, { task: "demo", staged: true }),
    (e: Error) => e.message.includes(out) && e.message.includes("--force") && e.message.includes("run"),
  );
  assert.deepEqual(await names(root), ["out"], "a refusal writes nothing");
  const f = await OwnedFolder.claim(out, { task: "demo", staged: true, force: true });
  await Deno.writeTextFile(join(f.dir, "report.html"), "new");
  assert.equal(
    await Deno.readTextFile(join(out, "run", "mine.txt")),
    "the user's file",
    "intact until commit",
  );
  await f.commit();
  assert.deepEqual(await names(out), ["report.html", "state.json"], "no old file mixed in");
  // An empty folder, e.g. from mkdir or makeTempDir, is taken without --force.
  const empty = await Deno.makeTempDir({ dir: root });
  await (await OwnedFolder.claim(empty, { task: "demo", staged: true })).commit();
  await Deno.remove(root, { recursive: true });
});

Deno.test("a finished run is refused without --force; an interrupted one points to --resume", async () => {
  const root = await Deno.makeTempDir();
  const run = join(root, "run");
  await Deno.mkdir(run);
  await writeRunState(run, "train", "complete", { step: 8 });
  await assert.rejects(
    OwnedFolder.claim(run, { task: "train", staged: false, continueHint: `--resume ${run}` }),
    (e: Error) => e.message.includes("a complete train") && e.message.includes("--force"),
  );
  await writeRunState(run, "train", "interrupted", { step: 3, totalSteps: 8, message: "stopped by SIGINT" });
  await assert.rejects(
    OwnedFolder.claim(run, { task: "train", staged: false, continueHint: `--resume ${run}` }),
    (e: Error) => e.message.includes("interrupted at step 3 of 8") && e.message.includes(`--resume ${run}`),
  );
  // --resume continues in place; --force starts from an empty folder.
  const resumed = await OwnedFolder.claim(run, { task: "train", staged: false, resume: true });
  assert.equal(resumed.dir, run);
  assert.deepEqual(await names(run), ["state.json"]);
  await resumed.release();
  const fresh = await OwnedFolder.claim(run, { task: "train", staged: false, force: true });
  assert.deepEqual(await names(run), []);
  await fresh.release();
  await assert.rejects(
    OwnedFolder.claim(join(root, "none"), { task: "train", staged: false, resume: true }),
    /nothing to resume/,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("a second writer gets an error naming the holder; the lock is free after release", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "out");
  const first = await OwnedFolder.claim(out, { task: "score", staged: true });
  await assert.rejects(
    OwnedFolder.claim(out, { task: "score", staged: true }),
    (e: Error) => e.message.includes("in use by another score") && e.message.includes(`process ${Deno.pid}`),
  );
  assert.equal(await FolderLock.isHeld(out), true);
  await first.release();
  assert.equal(await FolderLock.isHeld(out), false);
  await assert.rejects(Deno.stat(out), "a released staged folder leaves nothing");
  const again = await OwnedFolder.claim(out, { task: "score", staged: true });
  await again.commit();
  await Deno.remove(root, { recursive: true });
});

Deno.test("a killed holder leaves no stuck lock, and its running state reads as interrupted", async () => {
  const root = await Deno.makeTempDir();
  const run = join(root, "run");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { OwnedFolder } from "${new URL("../harness/folders.ts", import.meta.url).href}";
       const f = await OwnedFolder.claim(${JSON.stringify(run)}, { task: "train", staged: false });
       await f.record("running", { step: 4, totalSteps: 10 });
       console.log("ready");
       await new Promise(() => setInterval(() => {}, 1000));`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.match(new TextDecoder().decode(value), /ready/);
  assert.equal(await FolderLock.isHeld(run), true);
  assert.equal((await readRunState(run))?.state, "running");
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  assert.equal(await FolderLock.isHeld(run), false, "the kernel released the lock");
  const s = (await readRunState(run))!;
  assert.equal(s.state, "interrupted");
  assert.match(describeRunState(s), /interrupted at step 4 of 10 \(process \d+ .* ended without recording/);
  await assert.rejects(
    requireComplete(run, { finish: "resume it", allowIncomplete: false }),
    (e: Error) => e.message.includes("not complete") && e.message.includes("--allow-incomplete"),
  );
  assert.equal((await requireComplete(run, { finish: "resume it", allowIncomplete: true }))?.step, 4);
  const next = await OwnedFolder.claim(run, { task: "train", staged: false, resume: true });
  await next.release();
  await Deno.remove(root, { recursive: true });
});

Deno.test("the next owner cleans up a staging folder and undoes a swap cut short", async () => {
  const root = await Deno.makeTempDir();
  const out = join(root, "out");
  // Killed while writing: a staging folder beside an untouched result.
  await Deno.mkdir(out);
  await Deno.writeTextFile(join(out, "scores.csv"), "old");
  await Deno.mkdir(OwnedFolder.stagingOf(out));
  await Deno.writeTextFile(join(OwnedFolder.stagingOf(out), "scores.csv"), "half");
  await assert.rejects(OwnedFolder.claim(out, { task: "score", staged: true }), /--force/);
  assert.deepEqual(await names(root), ["out"], "the dead owner's staging folder is gone");
  // Killed between the two renames of a swap: the old folder is put back.
  await Deno.rename(out, OwnedFolder.oldOf(out));
  await Deno.mkdir(OwnedFolder.stagingOf(out));
  await assert.rejects(OwnedFolder.claim(out, { task: "score", staged: true }), /--force/);
  assert.equal(await Deno.readTextFile(join(out, "scores.csv")), "old");
  assert.deepEqual(await names(root), ["out"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("a file where the folder should be is a clear error", async () => {
  const root = await Deno.makeTempDir();
  const file = join(root, "file");
  await Deno.writeTextFile(file, "x");
  await assert.rejects(
    OwnedFolder.claim(file, { task: "score", staged: true }),
    (e: Error) => e.message.includes(file) && e.message.includes("is a file"),
  );
  assert.deepEqual(await names(root), ["file"]);
  await Deno.remove(root, { recursive: true });
});
