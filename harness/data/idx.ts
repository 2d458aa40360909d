// IDX files (the MNIST format, optionally gzipped) and the Fashion-MNIST dataset built on them.

export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

export interface IdxArray {
  /** Sizes of each dimension, e.g. [60000, 28, 28]. */
  dims: number[];
  data: Uint8Array;
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Parses IDX bytes of unsigned bytes (type 0x08); `path` names the source in errors. */
export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  if (bytes.length < 4) throw new Error(`${path}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) {
    throw new Error(`${path}: not an IDX file (magic ${view.getUint32(0).toString(16)})`);
  }
  const type = bytes[2], rank = bytes[3];
  if (type !== 0x08) {
    throw new Error(`${path}: IDX element type 0x${type.toString(16)}; expected 0x08 (unsigned byte)`);
  }
  if (bytes.length < 4 + 4 * rank) throw new Error(`${path}: truncated IDX header`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length - start !== count) {
    throw new Error(
      `${path}: IDX header [${dims}] promises ${count} bytes of data, the file holds ${bytes.length - start}`,
    );
  }
  return { dims, data: bytes.subarray(start) };
}

/** Reads an IDX file, gunzipping it when its name ends in .gz. */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  if (path.endsWith(".gz")) {
    try {
      return parseIdx(await gunzip(bytes), path);
    } catch (e) {
      if ((e as Error).message.startsWith(path)) throw e;
      throw new Error(`${path}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

export interface ImageSet {
  /** Images as [count, height, width], intensities mapped to [-1, 1]. */
  images: Float32Array;
  count: number;
  height: number;
  width: number;
  labels: Uint8Array;
}

/** The IDX file `stem` in `dir`: gzipped when that exists, else plain. */
export function findIdx(dir: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) {
    try {
      Deno.statSync(`${dir}/${name}`);
      return `${dir}/${name}`;
    } catch { /* try the next name */ }
  }
  throw new Error(
    `${dir}/${stem}(.gz) not found: install Debian's dataset-fashion-mnist (sh scripts/setup.sh) or pass --fmnist-dir`,
  );
}

/** Loads a Fashion-MNIST split; `classes` keeps only those labels (all when omitted). */
export async function loadFashionMnist(
  split: "train" | "test",
  opts: { dir?: string; classes?: readonly number[] } = {},
): Promise<ImageSet> {
  const dir = opts.dir ?? FASHION_MNIST_DIR;
  const prefix = split === "train" ? "train" : "t10k";
  const imgPath = findIdx(dir, `${prefix}-images-idx3-ubyte`);
  const labPath = findIdx(dir, `${prefix}-labels-idx1-ubyte`);
  const [img, lab] = await Promise.all([readIdx(imgPath), readIdx(labPath)]);
  if (img.dims.length !== 3) throw new Error(`${imgPath}: expected 3 dimensions, got [${img.dims}]`);
  if (lab.dims.length !== 1 || lab.dims[0] !== img.dims[0]) {
    throw new Error(`${labPath}: ${lab.dims[0]} labels for ${img.dims[0]} images in ${imgPath}`);
  }
  const [n, h, w] = img.dims;
  for (const c of opts.classes ?? []) {
    if (!Number.isInteger(c) || c < 0 || c > 9) {
      throw new Error(
        `Fashion-MNIST class ${c} does not exist; classes are 0–9 (${FASHION_MNIST_CLASSES.join(", ")})`,
      );
    }
  }
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (!opts.classes || opts.classes.includes(lab.data[i])) keep.push(i);
  if (keep.length === 0) {
    throw new Error(`Fashion-MNIST ${split}: no images of class ${opts.classes?.join(", ")}`);
  }
  const images = new Float32Array(keep.length * h * w);
  const labels = new Uint8Array(keep.length);
  keep.forEach((src, k) => {
    labels[k] = lab.data[src];
    for (let j = 0; j < h * w; j++) images[k * h * w + j] = img.data[src * h * w + j] / 127.5 - 1;
  });
  return { images, count: keep.length, height: h, width: w, labels };
}

/** Pads every image symmetrically to `size`×`size` with `value` (e.g. 28×28 → 32×32 with −1). */
export function padImages(set: ImageSet, size: number, value = -1): ImageSet {
  const { height: h, width: w, count } = set;
  if (size < h || size < w) throw new Error(`padImages: ${h}×${w} images do not fit in ${size}×${size}`);
  const top = (size - h) >> 1, left = (size - w) >> 1;
  const images = new Float32Array(count * size * size).fill(value);
  for (let k = 0; k < count; k++) {
    for (let y = 0; y < h; y++) {
      const src = (k * h + y) * w;
      images.set(set.images.subarray(src, src + w), (k * size + y + top) * size + left);
    }
  }
  return { ...set, images, height: size, width: size };
}
