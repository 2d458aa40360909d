import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_TEST_SET,
  difficultyReport,
  fluidKind,
  generateVolume,
  MANIFEST_FORMAT,
  patchTestSet,
  planVolume,
  renderBscan,
  volumeSeed,
  writePhantomDataset,
} from "../harness/data/phantom.ts";
import { labelPatch, MASK_FLUID } from "../harness/data/patches.ts";
import { loadPngFolder, readMaskPng } from "../harness/data/png.ts";
import { auroc } from "../harness/eval/metrics.ts";

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "anogan-phantom-test-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = prefix + entry.name;
    names.push(path);
    if (entry.isDirectory) names.push(...await listTree(join(dir, entry.name), path + "/"));
  }
  return names.sort();
}

Deno.test("the same seed gives bit-identical volumes; another seed gives other anatomy", () => {
  const a = generateVolume({ seed: 11, pathological: true, bscans: 3 });
  const b = generateVolume({ seed: 11, pathological: true, bscans: 3 });
  const c = generateVolume({ seed: 12, pathological: true, bscans: 3 });
  assert.deepEqual(a.bscans, b.bscans);
  assert.deepEqual(a.masks, b.masks);
  assert.notDeepEqual(a.bscans[1], c.bscans[1]);
  const [anatomyA, anatomyC] = [
    planVolume({ seed: 11, pathological: false }),
    planVolume({ seed: 12, pathological: false }),
  ]
    .map((p) => p.anatomy);
  assert.notEqual(anatomyA.foveaX, anatomyC.foveaX);
  assert.notDeepEqual(anatomyA.thickness, anatomyC.thickness);
});

Deno.test("a B-scan renders the same alone as inside its volume", () => {
  const volume = generateVolume({ seed: 4, pathological: true, bscans: 5 });
  const single = renderBscan(planVolume({ seed: 4, pathological: true, bscans: 5 }), 3);
  assert.deepEqual(single.image, volume.bscans[3]);
  assert.deepEqual(single.mask, volume.masks[3]);
});

Deno.test("B-scans are 256×128 by default with finite intensities in [-1, 1]", () => {
  const volume = generateVolume({ seed: 2, pathological: true, bscans: 2 });
  assert.deepEqual([volume.width, volume.height], [256, 128]);
  for (const image of volume.bscans) {
    assert.equal(image.length, 256 * 128);
    assert.ok(image.every((v) => Number.isFinite(v) && v >= -1 && v <= 1));
    const mean = image.reduce((s, v) => s + v, 0) / image.length;
    assert.ok(mean > -0.8 && mean < 0.5, `mean intensity ${mean}: the image is neither black nor saturated`);
  }
});

Deno.test("healthy volumes contain no anomaly pixels and list no anomalies", () => {
  for (let seed = 0; seed < 4; seed++) {
    const volume = generateVolume({ seed, pathological: false, bscans: 4 });
    assert.equal(volume.anomalies.length, 0);
    assert.ok(volume.masks.every((mask) => mask.every((label) => label === 0)), `seed ${seed}`);
    assert.ok(volume.sliceAnomalies.every((list) => list.length === 0));
  }
});

Deno.test("every listed anomaly has its mask pixels, and every pathological volume has fluid", () => {
  const kinds = new Set<string>();
  for (let v = 0; v < 8; v++) {
    const volume = generateVolume({ seed: volumeSeed(99, true, v), pathological: true, bscans: 8 });
    const fluid = volume.masks.reduce((n, m) => n + m.filter((l) => l === MASK_FLUID).length, 0);
    assert.ok(fluid > 0, `pathological volume ${v} has no fluid pixels`);
    volume.sliceAnomalies.forEach((list, slice) => {
      for (const a of list) {
        kinds.add(a.kind);
        const [x0, y0, x1, y1] = a.bbox;
        let inBox = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) if (volume.masks[slice][y * volume.width + x] === a.label) inBox++;
        }
        assert.ok(a.pixels >= 1 && inBox >= a.pixels, `anomaly ${a.id} in B-scan ${slice}`);
      }
    });
    for (const a of volume.anomalies) {
      assert.ok(a.slices.length > 0);
      for (const slice of a.slices) assert.ok(volume.sliceAnomalies[slice].some((s) => s.id === a.id));
    }
  }
  assert.deepEqual([...kinds].sort(), ["hyperreflective-focus", "intraretinal-fluid", "subretinal-fluid"]);
});

Deno.test("the subretinal map marks fluid pixels only, exactly those of subretinal-fluid anomalies", () => {
  let subretinalPixels = 0, listed = 0;
  for (let v = 0; v < 6; v++) {
    const volume = generateVolume({ seed: volumeSeed(99, true, v), pathological: true, bscans: 8 });
    volume.subretinal.forEach((map, slice) => {
      const mask = volume.masks[slice];
      for (let i = 0; i < map.length; i++) {
        if (map[i]) assert.equal(mask[i], MASK_FLUID, `B-scan ${slice} pixel ${i}: subretinal but not fluid`);
      }
      subretinalPixels += map.reduce((n, m) => n + m, 0);
      listed += volume.sliceAnomalies[slice].filter((a) => a.kind === "subretinal-fluid")
        .reduce((n, a) => n + a.pixels, 0);
    });
  }
  assert.ok(subretinalPixels > 0, "some subretinal fluid in six pathological volumes");
  assert.equal(subretinalPixels, listed, "the map counts what the anomaly list counts");
});

Deno.test("a patch's fluid kind: cysts, subretinal fluid, or both; none without fluid", () => {
  assert.equal(fluidKind({ fluidPixels: 0, subretinalPixels: 0 }), null);
  assert.equal(fluidKind({ fluidPixels: 5, subretinalPixels: 0 }), "intraretinal cysts");
  assert.equal(fluidKind({ fluidPixels: 5, subretinalPixels: 5 }), "subretinal fluid");
  assert.equal(fluidKind({ fluidPixels: 5, subretinalPixels: 2 }), "cysts and subretinal fluid");
  const set = patchTestSet({ ...DEFAULT_TEST_SET, healthyVolumes: 0, pathologicalVolumes: 3, bscans: 6 });
  const kinds = new Set(set.patches.map(fluidKind));
  assert.ok(kinds.has("intraretinal cysts") && kinds.has(null), [...kinds].join(", "));
  for (const p of set.patches) assert.ok(p.subretinalPixels <= p.fluidPixels);
});

Deno.test("test-set patch labels follow the one-fluid-pixel rule", () => {
  const set = patchTestSet({ ...DEFAULT_TEST_SET, healthyVolumes: 1, pathologicalVolumes: 2, bscans: 6 });
  assert.equal(set.patches.length, 3 * 6 * DEFAULT_TEST_SET.patchesPerBscan);
  let positives = 0;
  for (const p of set.patches) {
    const { anomalous } = labelPatch(set.masks[p.image], set.images[p.image].width, p.x, p.y, 64);
    assert.equal(p.label, anomalous ? 1 : 0);
    if (!set.sources[p.image].pathological) assert.equal(p.label, 0);
    positives += p.label;
  }
  assert.ok(positives > 0);
});

Deno.test("trivial detectors do not solve the default patch test set (AUROC ≤ 0.75 either way)", () => {
  const set = patchTestSet(DEFAULT_TEST_SET);
  assert.equal(set.patches.length, 8192);
  const report = difficultyReport(set);
  assert.ok(report.positives > 0 && report.positives < report.patches);
  for (const d of report.detectors) {
    assert.ok(d.separation <= 0.75, `${d.name}: AUROC ${d.auroc.toFixed(3)}`);
  }
});

Deno.test("auroc is the Mann–Whitney probability, ties counting one half", () => {
  assert.equal(auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  assert.equal(auroc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
  assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(auroc([1, 2, 2, 3], [0, 0, 1, 1]), 0.875);
  assert.throws(() => auroc([1, 2], [1, 1]), /needs both classes, got 2 positive and 0 negative/);
  assert.throws(() => auroc([1, NaN], [0, 1]), /score 1 is NaN/);
  assert.throws(() => auroc([1, 2, 3], [0, 1]), /3 scores but 2 labels/);
});

const tinyDataset = { healthyVolumes: 1, pathologicalVolumes: 1, bscans: 2 };

Deno.test("a written data set is byte-identical for the same seed and reads back", async () => {
  await withTempDir(async (dir) => {
    const outs = ["a", "b", "c"].map((name) => join(dir, name));
    await writePhantomDataset({ ...tinyDataset, out: outs[0], seed: 5 });
    await writePhantomDataset({ ...tinyDataset, out: outs[1], seed: 5 });
    await writePhantomDataset({ ...tinyDataset, out: outs[2], seed: 6 });
    const files = await listTree(outs[0]);
    assert.deepEqual(files, await listTree(outs[1]));
    assert.ok(files.includes("manifest.json") && files.includes("sample_sheet.png"));
    assert.ok(files.includes("pathological/masks/v000_b1.png"));
    for (const file of files.filter((f) => f.endsWith(".png") || f.endsWith(".json"))) {
      assert.deepEqual(
        await Deno.readFile(join(outs[0], file)),
        await Deno.readFile(join(outs[1], file)),
        file,
      );
    }
    const image = "healthy/images/v000_b0.png";
    assert.notDeepEqual(await Deno.readFile(join(outs[0], image)), await Deno.readFile(join(outs[2], image)));

    const manifest = JSON.parse(await Deno.readTextFile(join(outs[0], "manifest.json")));
    assert.equal(manifest.format, MANIFEST_FORMAT);
    assert.equal(manifest.images.length, 4);
    const volume = generateVolume({ seed: volumeSeed(5, true, 0), pathological: true, bscans: 2 });
    const folder = await loadPngFolder(join(outs[0], "pathological/images"), { patchSize: 64 });
    assert.deepEqual([folder.width, folder.height, folder.images.length], [256, 128, 2]);
    for (let i = 0; i < volume.bscans[0].length; i++) {
      assert.ok(Math.abs(folder.images[0].data[i] - volume.bscans[0][i]) <= 1 / 255 + 1e-6);
    }
    const { mask } = await readMaskPng(join(outs[0], "pathological/masks/v000_b0.png"));
    assert.deepEqual(mask, volume.masks[0]);
    assert.deepEqual(manifest.images[2].anomalies, volume.sliceAnomalies[0]);
  });
});

const badRuns = [
  {
    name: "zero volumes",
    options: { healthyVolumes: 0, pathologicalVolumes: 0 },
    error: /zero volumes requested/,
  },
  {
    name: "a negative count",
    options: { healthyVolumes: -1 },
    error: /healthyVolumes must be a non-negative/,
  },
  {
    name: "a B-scan narrower than a patch",
    options: { width: 32 },
    error: /width must be an integer ≥ 64, got 32/,
  },
  { name: "a bad bit depth", options: { bitDepth: 12 as 8 }, error: /bit depth must be 8 or 16, got 12/ },
];
for (const c of badRuns) {
  Deno.test(`writing a data set with ${c.name} fails clearly and writes nothing`, async () => {
    await withTempDir(async (dir) => {
      const out = join(dir, "out");
      await assert.rejects(
        () => writePhantomDataset({ ...tinyDataset, seed: 1, out, ...c.options }),
        c.error,
      );
      assert.deepEqual(await listTree(dir), []);
    });
  });
}

Deno.test("an unwritable or non-empty output folder is refused", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "x");
    await assert.rejects(
      () => writePhantomDataset({ ...tinyDataset, seed: 1, out: join(dir, "file", "out") }),
      /cannot write the output folder .*file\/out.*choose a writable --out/,
    );
    await Deno.mkdir(join(dir, "full"));
    await Deno.writeTextFile(join(dir, "full", "keep.txt"), "x");
    await assert.rejects(
      () => writePhantomDataset({ ...tinyDataset, seed: 1, out: join(dir, "full") }),
      /output folder .*full already exists and is not empty/,
    );
    assert.deepEqual(await listTree(dir), ["file", "full", "full/keep.txt"]);
  });
});

Deno.test("a run that fails half-way leaves no folder behind", async () => {
  await withTempDir(async (dir) => {
    const onProgress = () => {
      throw new Error("interrupted");
    };
    await assert.rejects(
      () => writePhantomDataset({ ...tinyDataset, seed: 1, out: join(dir, "out"), onProgress }),
      /interrupted/,
    );
    assert.deepEqual(await listTree(dir), []);
  });
});

Deno.test("an existing empty output folder is filled", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "out"));
    await writePhantomDataset({
      healthyVolumes: 1,
      pathologicalVolumes: 0,
      bscans: 1,
      seed: 1,
      out: join(dir, "out"),
    });
    assert.ok((await listTree(join(dir, "out"))).includes("manifest.json"));
  });
});
