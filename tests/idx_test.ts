// IDX parsing, Fashion-MNIST loading, padding, training data specs, and the progress reporter.

import assert from "node:assert/strict";
import { loadFashionMnist, padImages, parseIdx, readIdx } from "../harness/data/idx.ts";
import { loadTrainingSource } from "../harness/data/source.ts";
import { formatDuration, Progress } from "../harness/progress.ts";

function idxBytes(dims: number[], data: number[], type = 0x08): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

Deno.test("IDX: a well-formed file parses; bad headers and sizes are named", () => {
  const ok = parseIdx(idxBytes([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), "x.idx");
  assert.deepEqual(ok.dims, [2, 2, 3]);
  assert.equal(ok.data[11], 11);
  assert.throws(
    () => parseIdx(idxBytes([2, 2], [1, 2, 3]), "short.idx"),
    /short\.idx: IDX header \[2,2\] promises 4 bytes/,
  );
  assert.throws(() => parseIdx(idxBytes([2], [1, 2], 0x0d), "float.idx"), /float\.idx: IDX element type 0xd/);
  assert.throws(
    () => parseIdx(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), "png.idx"),
    /png\.idx: not an IDX file/,
  );
});

Deno.test("IDX: gzipped files are read, a corrupt gzip is named", async () => {
  const dir = await Deno.makeTempDir();
  const raw = idxBytes([3], [7, 8, 9]);
  const gz = new Uint8Array(
    await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
  await Deno.writeFile(`${dir}/a.gz`, gz);
  assert.deepEqual([...(await readIdx(`${dir}/a.gz`)).data], [7, 8, 9]);
  await Deno.writeFile(`${dir}/b.gz`, raw);
  await assert.rejects(() => readIdx(`${dir}/b.gz`), /b\.gz: not a valid gzip file/);
  await assert.rejects(() => readIdx(`${dir}/missing.gz`), /missing\.gz: cannot read/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Fashion-MNIST: one class of the training set, in [-1, 1], padded to 32×32 with -1", async () => {
  const set = await loadFashionMnist("train", { classes: [1] });
  assert.equal(set.count, 6000);
  assert.equal(set.height, 28);
  assert.ok(set.labels.every((l) => l === 1));
  assert.ok(set.images.every((v) => v >= -1 && v <= 1));
  const padded = padImages(set, 32);
  assert.equal(padded.images.length, 6000 * 32 * 32);
  assert.equal(padded.images[0], -1);
  assert.equal(padded.images[(2 * 32 + 2) + 5 * 32 + 7], set.images[5 * 28 + 7]);
  await assert.rejects(() => loadFashionMnist("train", { classes: [12] }), /class 12 does not exist/);
  await assert.rejects(
    () => loadFashionMnist("test", { dir: "/nonexistent" }),
    /not found: install Debian's dataset-fashion-mnist/,
  );
});

Deno.test("training data specs: unknown kinds, bad classes and missing folders fail clearly", async () => {
  const o = { size: 32, patchesPerImage: 2, seed: 0 };
  await assert.rejects(() => loadTrainingSource("mnist:3", o), /unknown data source; expected fmnist:CLASS/);
  await assert.rejects(() => loadTrainingSource("fmnist:x", o), /expected fmnist:CLASS with CLASS in 0–9/);
  await assert.rejects(() => loadTrainingSource("png:/nonexistent/dir", o), /\/nonexistent\/dir/);
  const limited = await loadTrainingSource("fmnist:7", { ...o, limit: 100 });
  assert.equal(limited.count, 100);
  assert.equal(limited.images.length, 100 * 32 * 32);
});

Deno.test("progress: plain log lines off a terminal carry step, rate and ETA; quiet prints nothing", () => {
  const lines: string[] = [];
  const p = new Progress({
    total: 10,
    unit: "img",
    unitsPerStep: 64,
    terminal: false,
    logEverySeconds: 0,
    write: (l) => lines.push(l),
  });
  p.update(5, "loss 1.0");
  p.update(10, "loss 0.5");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /5\/10 [\d.]+ img\/s ETA \S+ loss 1\.0\n$/);
  const quiet: string[] = [];
  const q = new Progress({ total: 10, quiet: true, write: (l) => quiet.push(l) });
  q.update(3);
  q.log("hello");
  q.finish();
  assert.deepEqual(quiet, []);
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(65), "1m05s");
});
