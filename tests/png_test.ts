import assert from "node:assert/strict";
import { encode } from "fast-png";
import { join } from "node:path";
import {
  encodeGrayPng,
  encodeMaskPng,
  encodeRgbPng,
  loadPngFolder,
  readGrayPng,
  readMaskPng,
  writeFileAtomic,
} from "../harness/data/png.ts";

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "anogan-png-test-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function randomImage(width: number, height: number, seed: number) {
  let state = seed;
  const data = Float32Array.from({ length: width * height }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
  return { data, width, height };
}

for (const bitDepth of [8, 16] as const) {
  Deno.test(`a ${bitDepth}-bit grayscale PNG reads back within half a quantisation step`, async () => {
    await withTempDir(async (dir) => {
      const image = randomImage(70, 65, bitDepth);
      const path = join(dir, "a.png");
      await writeFileAtomic(path, encodeGrayPng(image, bitDepth));
      const back = await readGrayPng(path);
      assert.equal(back.width, 70);
      assert.equal(back.height, 65);
      const step = 2 / (2 ** bitDepth - 1);
      for (let i = 0; i < image.data.length; i++) {
        assert.ok(Math.abs(back.data[i] - image.data[i]) <= step / 2 + 1e-6, `pixel ${i}`);
      }
      assert.equal(back.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0) <= 1, true);
    });
  });
}

Deno.test("a 1-bit grayscale PNG maps 0 → −1 and 1 → +1", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "bits.png");
    // 10 pixels per row → 2 bytes per row; row 0 = 1010101010, row 1 = 0000000001.
    const packed = Uint8Array.of(0b10101010, 0b10000000, 0b00000000, 0b01000000);
    await Deno.writeFile(path, encode({ width: 10, height: 2, data: packed, depth: 1, channels: 1 }));
    const image = await readGrayPng(path);
    assert.deepEqual(Array.from(image.data.subarray(0, 10)), [1, -1, 1, -1, 1, -1, 1, -1, 1, -1]);
    assert.deepEqual(Array.from(image.data.subarray(10)), [-1, -1, -1, -1, -1, -1, -1, -1, -1, 1]);
  });
});

Deno.test("label masks round-trip exactly", async () => {
  await withTempDir(async (dir) => {
    const mask = Uint8Array.from({ length: 64 * 66 }, (_, i) => i % 3);
    const path = join(dir, "m.png");
    await writeFileAtomic(path, encodeMaskPng(mask, 64, 66));
    const back = await readMaskPng(path);
    assert.deepEqual([back.width, back.height], [64, 66]);
    assert.deepEqual(back.mask, mask);
  });
});

Deno.test("a PNG folder loads in file-name order, with the common size", async () => {
  await withTempDir(async (dir) => {
    for (const [name, seed] of [["b.png", 2], ["a.png", 1], ["c.PNG", 3]] as const) {
      await Deno.writeFile(join(dir, name), encodeGrayPng(randomImage(80, 64, seed)));
    }
    await Deno.writeFile(join(dir, "notes.txt"), new TextEncoder().encode("ignored"));
    const folder = await loadPngFolder(dir, { patchSize: 64 });
    assert.deepEqual(folder.paths.map((p) => p.slice(dir.length + 1)), ["a.png", "b.png", "c.PNG"]);
    assert.equal(folder.width, 80);
    assert.equal(folder.height, 64);
    assert.equal(folder.images[0].data.length, 80 * 64);
  });
});

Deno.test("a PNG folder of mixed sizes has no common size", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(join(dir, "a.png"), encodeGrayPng(randomImage(80, 64, 1)));
    await Deno.writeFile(join(dir, "b.png"), encodeGrayPng(randomImage(64, 90, 2)));
    const folder = await loadPngFolder(dir);
    assert.equal(folder.width, undefined);
    assert.deepEqual(folder.images.map((im) => [im.width, im.height]), [[80, 64], [64, 90]]);
  });
});

const badFolders: { name: string; files: Record<string, Uint8Array>; error: RegExp; dir?: string }[] = [
  {
    name: "a missing folder",
    files: {},
    dir: "does-not-exist",
    error: /image folder not found: .*does-not-exist/,
  },
  { name: "an empty folder", files: {}, error: /no \.png files in .* \(it is empty\)/ },
  {
    name: "a folder of JPEGs",
    files: { "x.jpg": Uint8Array.of(0xff, 0xd8), "y.jpg": Uint8Array.of(0xff, 0xd8) },
    error: /no \.png files in .*found only x\.jpg, y\.jpg.*convert/,
  },
  {
    name: "a file named .png that is not a PNG",
    files: { "fake.png": new TextEncoder().encode("not an image") },
    error: /fake\.png is not a readable PNG/,
  },
  {
    name: "an RGB PNG",
    files: { "rgb.png": encodeRgbPng(new Uint8Array(64 * 64 * 3), 64, 64) },
    error:
      /rgb\.png has 3 channels \(RGB\); expected a 1-channel grayscale PNG: convert it .*-colorspace Gray/,
  },
  {
    name: "an image smaller than the patch",
    files: { "small.png": encodeGrayPng(randomImage(63, 100, 1)) },
    error: /small\.png is 63×100, smaller than the 64×64 patch/,
  },
];
for (const c of badFolders) {
  Deno.test(`loading ${c.name} fails with a clear message`, async () => {
    await withTempDir(async (dir) => {
      for (const [name, bytes] of Object.entries(c.files)) await Deno.writeFile(join(dir, name), bytes);
      await assert.rejects(() => loadPngFolder(join(dir, c.dir ?? ""), { patchSize: 64 }), c.error);
    });
  });
}

Deno.test("atomic writes leave only the target file behind", async () => {
  await withTempDir(async (dir) => {
    await writeFileAtomic(join(dir, "out.bin"), Uint8Array.of(1, 2, 3));
    await writeFileAtomic(join(dir, "out.bin"), Uint8Array.of(4));
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["out.bin"]);
    assert.deepEqual(await Deno.readFile(join(dir, "out.bin")), Uint8Array.of(4));
  });
});
