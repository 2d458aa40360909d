// Integrity of models, data and evaluation: checksummed safetensors, non-finite weights refused,
// training-data fingerprints, image ids that stay distinct on case-insensitive file systems, and an
// evaluation that does not depend on the order of its score files.

import assert from "node:assert/strict";
import { join } from "node:path";
import * as T from "../core/mod.ts";
import { CHECKSUMS_KEY, crc32 } from "../core/io/safetensors.ts";
import { compareFingerprints, type DataFingerprint, dataFingerprint } from "../harness/data/fingerprint.ts";
import { encodeGrayPng, loadPngFolder } from "../harness/data/png.ts";
import { loadQuerySet } from "../harness/query_sets.ts";
import { evaluateScores, stratify } from "../harness/eval/evaluation.ts";
import { bootstrapAurocInterval } from "../harness/eval/metrics.ts";
import { runEvaluation } from "../harness/report/report.ts";
import { concatScoreTables, parseScoresCsv, readScoreFiles } from "../harness/score_file.ts";
import { XoshiroRng } from "../harness/data/rng.ts";
import { gpu } from "./helpers.ts";

await gpu();

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "anogan-integrity-test-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

type Header = { __metadata__: Record<string, string> } & Record<string, { data_offsets: number[] }>;

/** The JSON header of safetensors bytes and where the data starts. */
function headerOf(bytes: Uint8Array): { header: Header; dataStart: number } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return {
    header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))),
    dataStart: 8 + length,
  };
}

/** The same tensors under an edited header. */
function rewriteHeader(bytes: Uint8Array, edit: (header: Header) => void): Uint8Array {
  const { header, dataStart } = headerOf(bytes);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - dataStart);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(dataStart), 8 + json.length);
  return out;
}

/** The same file as an older writer (or PyTorch's) leaves it: no checksums in the metadata. */
function withoutChecksums(bytes: Uint8Array): Uint8Array {
  return rewriteHeader(bytes, (header) => delete header.__metadata__?.[CHECKSUMS_KEY]);
}

/** Overwrites float `index` of tensor `name` in safetensors bytes with a quiet NaN. */
function poisonWithNan(bytes: Uint8Array, name: string, index: number): void {
  const { header, dataStart } = headerOf(bytes);
  const at = dataStart + header[name].data_offsets[0] + 4 * index;
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, 0x7fc00000, true);
}

Deno.test("CRC-32 is zlib's: the check value of '123456789' is cbf43926", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("safetensors files carry a string metadata entry of per-tensor CRC-32s, readable by any reader", () => {
  const w = Float32Array.of(1, 2, 3, 4), b = Float32Array.of(-0.5);
  const bytes = T.encodeSafetensors([["w", { shape: [2, 2], data: w }], ["b", { shape: [1], data: b }]], {
    note: "µ×",
  });
  const { header, dataStart } = headerOf(bytes);
  assert.equal(dataStart % 8, 0, "data stays 8-byte aligned with non-ASCII metadata");
  assert.equal(typeof header.__metadata__[CHECKSUMS_KEY], "string", "metadata values stay strings");
  const checksums = JSON.parse(header.__metadata__[CHECKSUMS_KEY]);
  assert.deepEqual(Object.keys(checksums), ["w", "b"]);
  assert.equal(checksums.w, `crc32:${crc32(new Uint8Array(w.buffer)).toString(16).padStart(8, "0")}`);
  const decoded = T.decodeSafetensors(bytes, "ok.safetensors");
  assert.deepEqual(
    decoded.metadata,
    { note: "µ×" },
    "the checksums are the format's, not the caller's metadata",
  );
  assert.throws(
    () => T.encodeSafetensors([], { [CHECKSUMS_KEY]: "{}" }),
    /metadata key "checksums" is reserved/,
  );
});

Deno.test("a flipped byte in a tensor fails to load: the error names the file, the tensor and the corruption", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "model.safetensors");
    const model = new T.Linear(6, 4, new T.Rng(1));
    await T.writeSafetensors(path, await model.hostStateDict());
    const bytes = await Deno.readFile(path);
    poisonWithNan(bytes, "weight", 5);
    await Deno.writeFile(path, bytes);
    await assert.rejects(
      () => T.readSafetensors(path),
      (e: Error) => {
        assert.match(e.message, /model\.safetensors: tensor weight: checksum mismatch: the file is corrupt/);
        assert.ok(e.message.startsWith(path), e.message);
        return true;
      },
    );
    model.dispose();
  });
});

Deno.test("a bad checksum entry is refused by name; files without checksums (fixtures, PyTorch's) still load", async () => {
  const bytes = T.encodeSafetensors([["w", { shape: [1], data: Float32Array.of(1) }]]);
  const { header } = headerOf(bytes);
  assert.ok(header.__metadata__[CHECKSUMS_KEY]);
  const old = withoutChecksums(bytes);
  assert.deepEqual([...T.decodeSafetensors(old, "old.safetensors").tensors.get("w")!.data], [1]);
  const fixture = await T.readSafetensors("fixtures/mlp.safetensors");
  assert.ok(fixture.tensors.size > 0);
  const renamed = rewriteHeader(bytes, (header) => {
    header.__metadata__[CHECKSUMS_KEY] = header.__metadata__[CHECKSUMS_KEY].replace('"w"', '"v"');
  });
  assert.throws(
    () => T.decodeSafetensors(renamed, "r.safetensors"),
    /r\.safetensors: metadata checksums names tensor v, which the file does not hold/,
  );
});

Deno.test("loading weights refuses NaN and ±Inf, naming the file, the tensor and the first bad index", async () => {
  await withTempDir(async (dir) => {
    // A file whose NaN passed its checksum (a diverged run's weights, or an older file without checksums).
    const path = join(dir, "diverged.safetensors");
    const source = new T.Linear(6, 4, new T.Rng(1));
    await T.writeSafetensors(path, await source.hostStateDict());
    const bytes = withoutChecksums(await Deno.readFile(path));
    poisonWithNan(bytes, "weight", 7);
    poisonWithNan(bytes, "weight", 9);
    await Deno.writeFile(path, bytes);
    const file = await T.readSafetensors(path);
    const target = new T.Linear(6, 4, new T.Rng(2));
    const before = await target.weight.read();
    assert.throws(
      () => target.loadStateDict(file.tensors, `${path} (generator)`),
      (e: Error) => e.message.startsWith(`${path} (generator): tensor weight holds NaN at index 7 (of 24,`),
    );
    assert.deepEqual(await target.weight.read(), before, "nothing is loaded from a refused state");
    const infinite = new Map(file.tensors);
    infinite.set("weight", { shape: [4, 6], data: new Float32Array(24) });
    infinite.set("bias", { shape: [4], data: Float32Array.of(0, 0, -Infinity, 0) });
    assert.throws(
      () => target.loadStateDict(infinite, "inf.safetensors"),
      /tensor bias holds -Infinity at index 2/,
    );
    source.dispose();
    target.dispose();
  });
});

// Training-data fingerprints.

async function writePngs(dir: string, names: string[], seed = 0): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [k, name] of names.entries()) {
    const rng = new XoshiroRng(seed + k);
    const data = Float32Array.from({ length: 16 * 16 }, () => rng.uniform() * 2 - 1);
    await Deno.writeFile(join(dir, name), encodeGrayPng({ data, width: 16, height: 16 }));
  }
}

const OPTIONS = { seed: 1 };

Deno.test("png:DIR fingerprints list the files used with sizes and SHA-256, and do not depend on the folder", async () => {
  await withTempDir(async (dir) => {
    await writePngs(join(dir, "a"), ["b.png", "a.png", "c.png"]);
    await writePngs(join(dir, "copy"), ["b.png", "a.png", "c.png"]);
    await Deno.writeTextFile(join(dir, "a", "notes.txt"), "not an image");
    const a = await dataFingerprint(`png:${join(dir, "a")}`, OPTIONS);
    assert.equal(a.kind, "png");
    if (a.kind !== "png") return;
    assert.deepEqual(a.files.map((f) => f.name), ["a.png", "b.png", "c.png"]);
    assert.match(a.files[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(a.files[0].bytes, (await Deno.stat(join(dir, "a", "a.png"))).size);
    assert.match(a.digest, /^[0-9a-f]{64}$/);
    const copy = await dataFingerprint(`png:${join(dir, "copy")}`, OPTIONS);
    assert.equal(copy.digest, a.digest, "the same images elsewhere are the same data");
    assert.equal(compareFingerprints(a, copy), null);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a, "JSON-able");

    // Three added, one changed, one removed.
    await writePngs(join(dir, "a"), ["x.png", "y.png", "z.png"], 50);
    await writePngs(join(dir, "a"), ["a.png"], 99);
    await Deno.remove(join(dir, "a", "c.png"));
    const now = await dataFingerprint(`png:${join(dir, "a")}`, OPTIONS);
    assert.notEqual(now.digest, a.digest);
    assert.equal(
      compareFingerprints(a, now),
      `png:${join(dir, "a")}: 3 files added (x.png, y.png, z.png), 1 file removed (c.png), 1 changed (a.png)`,
    );
    const saved = JSON.parse(JSON.stringify(a)) as DataFingerprint; // as read back from config.json
    assert.equal(compareFingerprints(saved, a), null);
  });
});

Deno.test("fmnist:CLASS fingerprints hash the IDX files used and the class", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(join(dir, "train-images-idx3-ubyte"), Uint8Array.of(0, 0, 8, 3, 1, 2, 3));
    await Deno.writeFile(join(dir, "train-labels-idx1-ubyte.gz"), Uint8Array.of(31, 139, 8));
    const three = await dataFingerprint("fmnist:3", { ...OPTIONS, fmnistDir: dir });
    assert.equal(three.kind, "fmnist");
    if (three.kind !== "fmnist") return;
    assert.deepEqual(three.files.map((f) => [f.name, f.bytes]), [
      ["train-images-idx3-ubyte", 7],
      ["train-labels-idx1-ubyte.gz", 3],
    ]);
    assert.equal((await dataFingerprint("fmnist:3", { seed: 9, fmnistDir: dir })).digest, three.digest);
    const five = await dataFingerprint("fmnist:5", { ...OPTIONS, fmnistDir: dir });
    assert.equal(compareFingerprints(three, five), "fmnist:3 → fmnist:5: class 3 → 5");
    await Deno.writeFile(join(dir, "train-images-idx3-ubyte"), Uint8Array.of(0, 0, 8, 3, 1, 2, 4));
    const edited = await dataFingerprint("fmnist:3", { ...OPTIONS, fmnistDir: dir });
    assert.equal(compareFingerprints(three, edited), "fmnist:3: 1 changed (train-images-idx3-ubyte)");
    await assert.rejects(
      () => dataFingerprint("fmnist:3", { ...OPTIONS, fmnistDir: join(dir, "none") }),
      /train-images-idx3-ubyte\(\.gz\) not found/,
    );
    await assert.rejects(
      () => dataFingerprint("fmnist:12", OPTIONS),
      /expected fmnist:CLASS with CLASS in 0–9/,
    );
  });
});

Deno.test("phantom fingerprints hold the settings that determine the images and a probe of the generator", async () => {
  const a = await dataFingerprint("phantom", { seed: 1, phantomVolumes: 2 });
  assert.equal(a.kind, "phantom");
  if (a.kind !== "phantom") return;
  assert.deepEqual({ ...a.settings, generatorProbe: "" }, {
    seed: 1,
    volumes: 2,
    width: 256,
    height: 128,
    bscans: 49,
    generatorProbe: "",
  });
  assert.equal((await dataFingerprint("phantom", { seed: 1 })).digest, a.digest, "2 volumes is the default");
  const b = await dataFingerprint("phantom", { seed: 2, phantomVolumes: 3 });
  assert.equal(compareFingerprints(a, b), "phantom: seed 1 → 2, volumes 2 → 3");
  const otherGenerator = { ...a, settings: { ...a.settings, generatorProbe: "0".repeat(64) }, digest: "x" };
  assert.match(compareFingerprints(otherGenerator, a)!, /phantom: the generator draws other images/);
  assert.equal(
    compareFingerprints(a, await dataFingerprint("phantom", { seed: 1, phantomVolumes: 2 })),
    null,
  );
  const png = { spec: "png:d", kind: "png", files: [], digest: "y" } as DataFingerprint;
  assert.equal(compareFingerprints(png, a), "png:d → phantom: another kind of data (png → phantom)");
  const garbled = { spec: "phantom" } as unknown as DataFingerprint; // e.g. a hand-edited config.json
  assert.match(compareFingerprints(garbled, a)!, /the saved data fingerprint is unreadable/);
  await assert.rejects(() => dataFingerprint("mnist:1", OPTIONS), /cannot fingerprint it/);
});

// Image ids on case-insensitive file systems.

for (const names of [["a.png", "a.PNG"], ["A.png", "a.png"]]) {
  Deno.test(`a png folder holding ${names.join(" and ")} is refused, naming both files`, async () => {
    await withTempDir(async (dir) => {
      await writePngs(dir, [...names, "b.png"]);
      const [first, second] = [...names].sort(); // in the folder's listing order
      const both = new RegExp(`${join(dir, first)} and ${join(dir, second)} differ only in letter case`);
      await assert.rejects(() => loadPngFolder(dir), both);
      await assert.rejects(() => loadQuerySet(`png:${dir}`, { size: 16, seed: 0 }), both);
      await Deno.mkdir(join(dir, "set", "anomalous"), { recursive: true });
      await writePngs(join(dir, "set", "normal"), names);
      await assert.rejects(
        () => loadQuerySet(`png:${join(dir, "set")}`, { size: 16, seed: 0 }),
        /letter case/,
      );
      await assert.rejects(() => dataFingerprint(`png:${dir}`, OPTIONS), both);
    });
  });
}

Deno.test("a png folder of distinct names still gives one id per file", async () => {
  await withTempDir(async (dir) => {
    await writePngs(dir, ["a.png", "ab.PNG", "b.png"]);
    const set = await loadQuerySet(`png:${dir}`, { size: 16, seed: 0 });
    assert.deepEqual(set.ids, ["a", "ab", "b"]);
  });
});

// Evaluation independent of the order of its files.

/** Two shards of one run (disjoint ids) and an aCAE run over the same images, as CSV text. */
function scoreFiles(): Record<string, string> {
  const rng = new XoshiroRng(4);
  const header = "id,source,label,A,R,D";
  const shards = [[header], [header]], acae = ["id,label,A_acae,kind"];
  for (let i = 0; i < 60; i++) {
    const anomalous = i % 3 === 0 ? 1 : 0;
    const a = rng.normal() + anomalous, r = rng.normal() + 0.5 * anomalous, d = rng.normal();
    // Ties between the classes, so that the order of equal scores would matter if anything used it.
    const tied = i % 10 === 0 ? 0.25 : a;
    shards[i % 2].push(`img${i},data:${i},${anomalous},${tied.toFixed(6)},${r.toFixed(6)},${d.toFixed(6)}`);
    acae.push(
      `img${i},${anomalous},${(rng.normal() + anomalous).toFixed(6)},${anomalous ? `k${i % 2}` : ""}`,
    );
  }
  return {
    "run/shard0.csv": shards[0].join("\n"),
    "run/shard1.csv": shards[1].join("\n"),
    "acae/scores.csv": acae.join("\n"),
  };
}

Deno.test("eval gives identical figures and intervals whatever the order of its score files", async () => {
  await withTempDir(async (dir) => {
    const paths: string[] = [];
    for (const [name, text] of Object.entries(scoreFiles())) {
      const path = join(dir, name);
      await Deno.mkdir(join(path, ".."), { recursive: true });
      await Deno.writeTextFile(path, text);
      paths.push(path);
    }
    const orders = [paths, [paths[2], paths[1], paths[0]], [paths[1], paths[2], paths[0]]];
    const results: string[] = [];
    for (const [k, order] of orders.entries()) {
      const table = await readScoreFiles(order);
      const evaluation = evaluateScores(table, { seed: 3, bootstrapSamples: 200 });
      const strata = stratify(table.rows, evaluation.table1, new Map(), { seed: 3, bootstrapSamples: 200 });
      assert.ok(strata.length > 0);
      const outputs = await runEvaluation({
        scores: order,
        out: join(dir, `out${k}`),
        bootstrapSamples: 200,
      });
      results.push(JSON.stringify({ table1: evaluation.table1, roc: evaluation.roc, strata }));
      results.push(await Deno.readTextFile(outputs.jsonPath));
    }
    assert.deepEqual(results[2], results[0], "Table 1, ROC and strata, files in another order");
    assert.deepEqual(results[4], results[0], "Table 1, ROC and strata, a third order");
    assert.equal(results[3], results[1], "eval.json, files in another order");
    assert.equal(results[5], results[1], "eval.json, a third order");
  });
});

Deno.test("shards in either order give the same rows; an id scored differently still fails, in either order", () => {
  const one = parseScoresCsv("id,label,A\nb,1,2\na,0,1", "one.csv");
  const two = parseScoresCsv("id,label,A\nd,1,4\nc,0,3", "two.csv");
  const rowsOf = (tables: typeof one[]) => concatScoreTables(tables).rows.map((r) => [r.id, r.file]);
  assert.deepEqual(rowsOf([one, two]), rowsOf([two, one]));
  assert.deepEqual(rowsOf([two, one]).map(([id]) => id), ["a", "b", "c", "d"]);
  const clash = parseScoresCsv("id,label,A\nb,1,2.5", "clash.csv");
  for (const tables of [[one, clash], [clash, one]]) {
    assert.throws(
      () => concatScoreTables(tables),
      /id "b" has A = 2\.5 at clash\.csv:2 but 2 at one\.csv:2; one image scored twice must score the same/,
    );
  }
});

Deno.test("the bootstrap interval depends on the scores and labels, not their order", () => {
  const rng = new XoshiroRng(8);
  const scores = Array.from(
    { length: 80 },
    (_, i) => Math.round((rng.normal() + (i % 4 === 0 ? 1 : 0)) * 4) / 4,
  );
  const labels = scores.map((_, i) => (i % 4 === 0 ? 1 : 0) as 0 | 1);
  const order = Array.from(scores.keys()).reverse();
  const a = bootstrapAurocInterval(scores, labels, { seed: 5, samples: 300 });
  const b = bootstrapAurocInterval(order.map((i) => scores[i]), order.map((i) => labels[i]), {
    seed: 5,
    samples: 300,
  });
  assert.deepEqual(b, a);
});
