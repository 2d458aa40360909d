// GPU buffer reuse: buffers are bucketed by size and handed out again once no pending work uses them.

export const STORAGE_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Rounds a byte count up to its bucket: powers of two and their 1.5× midpoints, at least 256 bytes. */
export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.ceil(Math.log2(bytes));
  return bytes <= p * 0.75 ? p * 0.75 : p;
}

export interface PoolStats {
  /** Bytes of every buffer the pool has created and not destroyed. */
  allocatedBytes: number;
  /** Bytes currently handed out. */
  inUseBytes: number;
  buffers: number;
}

/**
 * A pool of storage buffers. A released buffer is parked until the recorded work that may still read
 * it has been submitted (`afterSubmit`), so a buffer is never reused inside one command encoder.
 * A bucket hands out its oldest free buffer first: a step that acquires and releases the same sizes in
 * the same order as the one before gets the same buffers, and so the same bind groups (core/kernel.ts).
 */
export class BufferPool {
  /** Free buffers by bucket size, newest first (so `pop` gives the oldest). */
  #free = new Map<number, GPUBuffer[]>();
  #parked: GPUBuffer[] = [];
  /** Creation order of every buffer the pool made. */
  #serial = new WeakMap<GPUBuffer, number>();
  #allocated = 0;
  #inUse = 0;
  #count = 0;
  #created = 0;

  constructor(private readonly device: GPUDevice, private readonly usage = STORAGE_USAGE) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const buf = this.#free.get(size)?.pop() ?? this.#create(size);
    this.#inUse += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    this.#inUse -= buf.size;
    this.#parked.push(buf);
  }

  /** Called once the recorded work has been submitted: parked buffers become reusable. */
  afterSubmit(): void {
    const touched = new Set<GPUBuffer[]>();
    for (const buf of this.#parked) {
      let list = this.#free.get(buf.size);
      if (!list) this.#free.set(buf.size, list = []);
      list.push(buf);
      touched.add(list);
    }
    this.#parked.length = 0;
    const serial = (b: GPUBuffer) => this.#serial.get(b) ?? 0;
    for (const list of touched) list.sort((a, b) => serial(b) - serial(a));
  }

  /** Destroys every free buffer (handed-out buffers are kept). */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const buf of list) {
        this.#allocated -= buf.size;
        this.#count--;
        buf.destroy();
      }
    }
    this.#free.clear();
  }

  stats(): PoolStats {
    return { allocatedBytes: this.#allocated, inUseBytes: this.#inUse, buffers: this.#count };
  }

  #create(size: number): GPUBuffer {
    this.#allocated += size;
    this.#count++;
    const buf = this.device.createBuffer({ size, usage: this.usage });
    this.#serial.set(buf, this.#created++);
    return buf;
  }
}

/** The texel format of the runtime's textures: four f32 channels, a vec4 of a tensor's floats per texel. */
export const TEXEL_FORMAT: GPUTextureFormat = "rgba32float";

/**
 * A pool of rgba32float textures, keyed by size. A released texture may be handed out again at once:
 * the commands of a queue run in the order they are recorded, so a copy recorded into it later runs
 * after every dispatch already recorded that reads it.
 */
/** A pooled texture bound to a kernel: its view is made once. */
export interface TextureBinding {
  texture: GPUTexture;
  view: GPUTextureView;
}

export class TexturePool {
  #free = new Map<string, TextureBinding[]>();

  constructor(private readonly device: GPUDevice) {}

  acquire(width: number, height: number): TextureBinding {
    const found = this.#free.get(`${width}x${height}`)?.pop();
    if (found) return found;
    const texture = this.device.createTexture({
      size: [width, height],
      format: TEXEL_FORMAT,
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
    });
    return { texture, view: texture.createView() };
  }

  release(t: TextureBinding): void {
    const key = `${t.texture.width}x${t.texture.height}`;
    let list = this.#free.get(key);
    if (!list) this.#free.set(key, list = []);
    list.push(t);
  }
}
