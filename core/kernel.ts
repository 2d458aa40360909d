// WGSL kernels: loading, specialisation, the pipeline cache, and recording dispatches into one encoder.
//
// A kernel's source is its file under kernels/ with the includes resolved: a line
// `//!include NAME.wgsl` (alone on its line) is followed by that file's text, itself resolved, so
// that kernels share structs, bindings and functions written once. Each file goes into a kernel at
// most once (a later include of it adds nothing); a file that includes itself, directly or through
// others, is an error, as is an include of a file that does not exist. The compile-time constants
// come before the whole assembled source. Includes are resolved when the file is loaded, so a kernel
// is still identified by its file, entry point and constants (kernelKey).
//
// Every dispatch goes into the current recording (one command encoder, one compute pass). The recording
// is submitted by `flush()`: at the end of a `step`, before a readback, or before a host upload that
// could race recorded work. Uniform parameters of all dispatches of a recording live in one arena and
// are uploaded with a single writeBuffer per 64 KiB chunk just before the submit.

import { getGpu, type Gpu, gpu, GpuError } from "./device.ts";
import { BufferPool, TEXEL_FORMAT, type TextureBinding, TexturePool } from "./pool.ts";

export type { TextureBinding };

/** Compile-time constants prepended to a kernel's source as `const NAME: type = value;`. */
export type Constants = Record<string, number | boolean>;

export interface KernelDef {
  /** File under `kernels/`, e.g. `unary.wgsl`; its includes are resolved when it is loaded. */
  file: string;
  /** Entry point name (default `main`). */
  entry?: string;
  constants?: Constants;
  /**
   * Number of resource bindings (bindings 1..n); binding 0 is the uniform parameter block. They are
   * storage buffers, except those listed in `readTextures` and `writeTextures`.
   */
  storage: number;
  /** Indices (0-based among bindings 1..n) that the kernel writes; the rest are read-only. */
  writes: number[];
  /**
   * Indices (0-based among bindings 1..n) that are read-only rgba32float storage textures
   * (`texture_storage_2d<rgba32float, read>`). On lavapipe their loads are inline, without the
   * per-lane mip-level clamp of a sampled texture's, and cost less than a storage buffer's.
   */
  readTextures?: readonly number[];
  /** Indices (0-based among bindings 1..n) that are write-only rgba32float storage textures. */
  writeTextures?: readonly number[];
}

export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

/** What a dispatch binds after its uniform block: a buffer (whole or a range) or a texture. */
export type Resource = GPUBuffer | Binding | TextureBinding;

/** The bind-group resource for a binding. */
export function bindingResource(b: Resource): GPUBindingResource {
  if (b instanceof GPUBuffer) return { buffer: b };
  return "view" in b ? b.view : b;
}

const KERNEL_DIR = new URL("../kernels/", import.meta.url);
const sourceCache = new Map<string, string>();

/** A kernel's source with its includes resolved (see the file header), read once per file. */
export function kernelSource(file: string): string {
  let src = sourceCache.get(file);
  if (src === undefined) {
    src = resolveIncludes(file, readKernelFile(file, null), [], new Set([file]));
    sourceCache.set(file, src);
  }
  return src;
}

const INCLUDE = /^\s*\/\/!include\b/;
const INCLUDE_LINE = /^\s*\/\/!include\s+([A-Za-z0-9_][A-Za-z0-9_.-]*\.wgsl)\s*$/;

function readKernelFile(file: string, includedBy: string | null): string {
  try {
    return Deno.readTextFileSync(new URL(file, KERNEL_DIR));
  } catch (e) {
    if (includedBy === null || !(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error(`kernels/${includedBy} includes ${file}, which is not in kernels/`);
  }
}

/**
 * Appends the text of each file that `src` (the text of `file`) includes after its include line.
 * `chain` holds the files being resolved around this one (an include of one of them is a cycle);
 * `included` every file already in the kernel (included again, it adds nothing).
 */
function resolveIncludes(file: string, src: string, chain: string[], included: Set<string>): string {
  const inner = [...chain, file];
  return src.split("\n").map((line, i) => {
    if (!INCLUDE.test(line)) return line;
    const name = INCLUDE_LINE.exec(line)?.[1];
    if (name === undefined) {
      throw new Error(
        `kernels/${file}:${i + 1}: an include reads \`//!include NAME.wgsl\`, got "${line.trim()}"`,
      );
    }
    if (inner.includes(name)) {
      throw new Error(
        `kernels/${file} includes ${name}, which is being included: ${[...inner, name].join(" → ")}`,
      );
    }
    if (included.has(name)) return line;
    included.add(name);
    return `${line}\n${resolveIncludes(name, readKernelFile(name, file), inner, included)}`;
  }).join("\n");
}

function constantDecl(name: string, v: number | boolean): string {
  if (typeof v === "boolean") return `const ${name}: bool = ${v};`;
  if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) return `const ${name}: u32 = ${v}u;`;
  if (Number.isInteger(v) && v < 0 && v >= -(2 ** 31)) return `const ${name}: i32 = ${v}i;`;
  if (!Number.isFinite(v)) throw new Error(`kernel constant ${name} must be finite, got ${v}`);
  return `const ${name}: f32 = ${v.toPrecision(9)}f;`;
}

export function kernelKey(def: KernelDef): string {
  const c = def.constants ?? {};
  const consts = Object.keys(c).sort().map((k) => `${k}=${c[k]}`).join(",");
  return `${def.file}:${def.entry ?? "main"}{${consts}}`;
}

/** Builds a uniform parameter block: u32 and f32 scalars, and 16-byte aligned vec4 groups. */
export class Params {
  readonly view = new DataView(new ArrayBuffer(PARAM_BYTES));
  length = 0;
  u32(...xs: number[]): this {
    for (const x of xs) {
      if (!(Number.isInteger(x) && x >= 0 && x < 2 ** 32)) {
        throw new Error(`u32 parameter out of range: ${x}`);
      }
      this.view.setUint32(this.#advance(4), x, true);
    }
    return this;
  }
  i32(...xs: number[]): this {
    for (const x of xs) this.view.setInt32(this.#advance(4), x, true);
    return this;
  }
  f32(...xs: number[]): this {
    for (const x of xs) this.view.setFloat32(this.#advance(4), x, true);
    return this;
  }
  /** Writes values as vec4<u32> groups (padded with `fill`), starting on a 16-byte boundary. */
  vec4u(xs: readonly number[], groups: number, fill = 0): this {
    this.length = Math.ceil(this.length / 16) * 16;
    for (let i = 0; i < groups * 4; i++) this.u32(i < xs.length ? xs[i] : fill);
    return this;
  }
  #advance(n: number): number {
    const at = this.length;
    if (at + n > PARAM_BYTES) throw new Error(`uniform parameter block exceeds ${PARAM_BYTES} bytes`);
    this.length += n;
    return at;
  }
}

const PARAM_BYTES = 256;

const ARENA_CHUNK = 64 * 1024;
/** Bind groups the runtime keeps for reuse (#bindGroup) before it starts over. */
const MAX_BIND_GROUPS = 4096;

/** Runtime.textureFrom's copy kernel, for rows that are not whole 256-byte multiples. */
const TEXTURE_FROM_WG = 64;
const TEXTURE_FROM: KernelDef = {
  file: "texture_from.wgsl",
  constants: { WG: TEXTURE_FROM_WG },
  storage: 2,
  writes: [1],
  writeTextures: [1],
};

interface ArenaChunk {
  buffer: GPUBuffer;
  bytes: Uint8Array<ArrayBuffer>;
  used: number;
}

/** A kernel specialisation that the driver would not compile, or not in time. */
export class KernelCompileError extends Error {
  constructor(readonly kernel: string, readonly reason: string) {
    super(`${kernel} did not compile: ${reason}`);
    this.name = "KernelCompileError";
  }
}

interface CompiledKernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  label: string;
}

/** A recorded dispatch as the profiling hook sees it: enough to record it again (bench/profile.ts). */
export interface DispatchRecord {
  def: KernelDef;
  bindings: readonly Resource[];
  /** A copy of the uniform parameter block (PARAM_BYTES bytes). */
  params: Uint8Array<ArrayBuffer>;
  workgroups: [number, number, number];
  label: string;
}

/**
 * An opt-in profiling hook (`Runtime.profiler`, null unless a profiler sets it): it is told of every
 * dispatch and buffer copy as it is recorded, and of every submit with the time the submit call took.
 * It only observes: what is recorded and submitted is the same with or without it.
 */
export interface Profiler {
  dispatch(d: DispatchRecord): void;
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void;
  /** A buffer copied into a texture (Runtime.textureFrom), where the hook wants to know. */
  copyToTexture?(src: GPUBuffer, dst: TextureBinding, bytes: number): void;
  submitted(ms: number): void;
}

/** Dispatch counts per label since the last `resetDispatchCounts()`, for tests and profiling. */
export const dispatchCounts = new Map<string, number>();
export function resetDispatchCounts(): void {
  dispatchCounts.clear();
}

export class Runtime {
  readonly pool: BufferPool;
  readonly #stagingFree: GPUBuffer[] = [];
  readonly #pipelines = new Map<string, CompiledKernel>();
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #chunks: ArenaChunk[] = [];
  #chunkIndex = 0;
  #afterSubmit: (() => void)[] = [];
  #errorScopes: Promise<GPUError | null>[] = [];
  #dispatchesInRecording = 0;
  /**
   * Bind groups by kernel and resource set. A step hands out the same pooled buffers, textures and
   * uniform slots in the same order every time, so after the first step its bind groups are found here
   * (a lookup costs about 0.5 µs; making one, about 20 µs on lavapipe under Deno).
   */
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  /** Identities of the buffers and texture views bound, for the bind groups' keys. */
  readonly #resourceIds = new WeakMap<object, number>();
  #nextResourceId = 0;
  /** Milliseconds spent compiling pipelines (first use of each specialisation). */
  compileMs = 0;
  /** Command buffers submitted so far (one per step). */
  submits = 0;
  /** Bind groups made so far (a step like the one before makes none: #bindGroup). */
  bindGroupsMade = 0;
  /** The opt-in profiling hook (bench/profile.ts); null, the default, costs one test per dispatch. */
  profiler: Profiler | null = null;

  readonly textures: TexturePool;

  constructor(readonly gpu: Gpu) {
    this.pool = new BufferPool(gpu.device);
    this.textures = new TexturePool(gpu.device);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** Compiles (once) and returns the pipeline for a kernel specialisation. */
  compile(def: KernelDef): CompiledKernel {
    const key = kernelKey(def);
    let k = this.#pipelines.get(key);
    if (k) return k;
    const t0 = performance.now();
    const { layout, descriptor } = this.#describePipeline(def, key);
    k = { pipeline: this.device.createComputePipeline(descriptor), layout, label: key };
    this.#pipelines.set(key, k);
    this.compileMs += performance.now() - t0;
    return k;
  }

  /**
   * Compiles a specialisation ahead of its first dispatch and says whether the driver took it:
   * rejects with a KernelCompileError when pipeline creation fails or gives no pipeline within
   * `timeoutMs`. A failure found here costs nothing; found at a submit, it fails a whole step.
   * Where pipeline creation runs on the calling thread (Deno 2.9 does), the timer cannot fire
   * until the driver returns, so a compile that never ends is not caught by it.
   */
  async compileChecked(def: KernelDef, timeoutMs: number): Promise<CompiledKernel> {
    const key = kernelKey(def);
    const cached = this.#pipelines.get(key);
    if (cached) return cached;
    const t0 = performance.now();
    const device = this.device;
    let layout: GPUBindGroupLayout;
    let creating: Promise<GPUComputePipeline>;
    let scopes: Promise<GPUError | null>[];
    device.pushErrorScope("validation");
    device.pushErrorScope("internal");
    try {
      const parts = this.#describePipeline(def, key);
      layout = parts.layout;
      creating = device.createComputePipelineAsync(parts.descriptor);
    } finally {
      // Popped before any await, so that a recording's own scopes cannot interleave with these.
      scopes = [device.popErrorScope(), device.popErrorScope()];
    }
    // Settled either way, so that a late rejection after a timeout is not an unhandled one.
    creating.catch(() => {});
    scopes.forEach((s) => s.catch(() => {}));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KernelCompileError(key, `no pipeline after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      let pipeline: GPUComputePipeline | null = null;
      let failure: string | null = null;
      try {
        pipeline = await Promise.race([creating, timeout]);
      } catch (e) {
        if (e instanceof KernelCompileError) throw e;
        failure = (e as Error).message;
      }
      // The scopes hold the driver's own words (a WGSL error with its line); the rejection only
      // says that the module is invalid.
      const errors = (await Promise.all(scopes)).filter((e): e is GPUError => e !== null);
      if (errors.length > 0) failure = errors.map((e) => e.message).join("; ");
      if (failure !== null || !pipeline) throw new KernelCompileError(key, failure ?? "no pipeline");
      const k = { pipeline, layout, label: key };
      this.#pipelines.set(key, k);
      return k;
    } finally {
      clearTimeout(timer);
      this.compileMs += performance.now() - t0;
    }
  }

  #describePipeline(def: KernelDef, key: string) {
    const header = Object.entries(def.constants ?? {}).map(([n, v]) => constantDecl(n, v)).join("\n");
    const code = `${header}\n${kernelSource(def.file)}`;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } },
    ];
    for (let i = 0; i < def.storage; i++) {
      const entry: GPUBindGroupLayoutEntry = { binding: i + 1, visibility: GPUShaderStage.COMPUTE };
      if (def.readTextures?.includes(i)) entry.storageTexture = { access: "read-only", format: TEXEL_FORMAT };
      else if (def.writeTextures?.includes(i)) {
        entry.storageTexture = { access: "write-only", format: TEXEL_FORMAT };
      } else entry.buffer = { type: def.writes.includes(i) ? "storage" : "read-only-storage" };
      entries.push(entry);
    }
    const device = this.device;
    const layout = device.createBindGroupLayout({ label: key, entries });
    const module = device.createShaderModule({ label: key, code });
    const descriptor: GPUComputePipelineDescriptor = {
      label: key,
      layout: device.createPipelineLayout({ label: key, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: def.entry ?? "main" },
    };
    return { layout, descriptor };
  }

  /** Records one dispatch into the current recording. `label` keys the dispatch counter. */
  dispatch(
    def: KernelDef,
    bindings: readonly Resource[],
    params: Params,
    workgroups: readonly [number, number?, number?],
    label?: string,
  ): void {
    if (bindings.length !== def.storage) {
      throw new Error(`${def.file}: expected ${def.storage} storage bindings, got ${bindings.length}`);
    }
    const pass = this.#ensurePass(); // opens the error scopes before the first compile
    const kernel = this.compile(def);
    const [x, y = 1, z = 1] = workgroups;
    const maxDim = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new Error(`${kernel.label}: dispatch ${x}×${y}×${z} exceeds ${maxDim} workgroups per dimension`);
    }
    const uniform = this.#writeParams(params);
    const group = this.#bindGroup(kernel, uniform, bindings);
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    const name = label ?? kernel.label;
    dispatchCounts.set(name, (dispatchCounts.get(name) ?? 0) + 1);
    this.#dispatchesInRecording++;
    if (this.profiler) {
      const bytes = new Uint8Array(PARAM_BYTES);
      bytes.set(new Uint8Array(params.view.buffer, 0, params.length));
      this.profiler.dispatch({
        def,
        bindings: [...bindings],
        params: bytes,
        workgroups: [x, y, z],
        label: name,
      });
    }
  }

  /** The bind group of a kernel's uniform slot and resources: made once per distinct set, then reused. */
  #bindGroup(kernel: CompiledKernel, uniform: Binding, bindings: readonly Resource[]): GPUBindGroup {
    let key = `${kernel.label}|${this.#resourceId(uniform.buffer)}:${uniform.offset}`;
    for (const b of bindings) {
      if (b instanceof GPUBuffer) key += `|${this.#resourceId(b)}`;
      else if ("view" in b) key += `|t${this.#resourceId(b.view)}`;
      else key += `|${this.#resourceId(b.buffer)}:${b.offset ?? 0}:${b.size ?? ""}`;
    }
    let group = this.#bindGroups.get(key);
    if (group) return group;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: uniform }];
    bindings.forEach((b, i) => entries.push({ binding: i + 1, resource: bindingResource(b) }));
    group = this.device.createBindGroup({ layout: kernel.layout, entries });
    this.bindGroupsMade++;
    // Bounded: a run whose shapes keep changing starts over rather than holding every set it saw.
    if (this.#bindGroups.size >= MAX_BIND_GROUPS) this.#bindGroups.clear();
    this.#bindGroups.set(key, group);
    return group;
  }

  #resourceId(r: object): number {
    let id = this.#resourceIds.get(r);
    if (id === undefined) this.#resourceIds.set(r, id = this.#nextResourceId++);
    return id;
  }

  /**
   * Records a copy of `src` (`height` rows of `width` vec4s, row-major) into a pooled rgba32float
   * texture, for a kernel that reads an operand as a read-only storage texture. Give it back with
   * `releaseTexture` once the dispatches that read it are recorded.
   */
  textureFrom(src: GPUBuffer, width: number, height: number, label?: string): TextureBinding {
    const max = this.gpu.limits.maxTextureDimension2D;
    if (width > max || height > max) {
      throw new Error(`a ${width} × ${height} texture exceeds the device's ${max} texels per dimension`);
    }
    const t = this.textures.acquire(width, height);
    const bytesPerRow = width * 16;
    if (bytesPerRow % 256 === 0) {
      // Rows a multiple of 256 bytes: a plain copy, which the driver does at memcpy speed.
      const enc = this.#ensureEncoder();
      this.#endPass();
      enc.copyBufferToTexture({ buffer: src, bytesPerRow }, { texture: t.texture }, [width, height]);
      this.profiler?.copyToTexture?.(src, t, width * height * 16);
      return t;
    }
    const params = new Params().u32(width, height);
    this.dispatch(TEXTURE_FROM, [src, t], params, [Math.ceil(width / TEXTURE_FROM_WG), height], label);
    return t;
  }

  releaseTexture(t: TextureBinding): void {
    this.textures.release(t);
  }

  /** Records a buffer-to-buffer copy (ends the current compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    const enc = this.#ensureEncoder();
    this.#endPass();
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.profiler?.copy(src, srcOffset, dst, dstOffset, bytes);
  }

  /** True when dispatches or copies are recorded but not yet submitted. */
  get pending(): boolean {
    return this.#encoder !== null;
  }

  get dispatchesInRecording(): number {
    return this.#dispatchesInRecording;
  }

  /** Submits the current recording (if any): one writeBuffer per used arena chunk, one submit. */
  flush(): void {
    if (!this.#encoder) return;
    this.#endPass();
    const device = this.device;
    for (let i = 0; i < this.#chunkIndex + 1 && i < this.#chunks.length; i++) {
      const c = this.#chunks[i];
      if (c.used > 0) device.queue.writeBuffer(c.buffer, 0, c.bytes, 0, c.used);
      c.used = 0;
    }
    this.#chunkIndex = 0;
    const commands = this.#encoder.finish();
    const submitStart = this.profiler ? performance.now() : 0;
    device.queue.submit([commands]);
    this.profiler?.submitted(performance.now() - submitStart);
    this.submits++;
    this.#encoder = null;
    this.#dispatchesInRecording = 0;
    this.#errorScopes.push(device.popErrorScope(), device.popErrorScope());
    this.pool.afterSubmit();
    const callbacks = this.#afterSubmit;
    this.#afterSubmit = [];
    for (const cb of callbacks) cb();
  }

  /** Waits for all submitted work and throws any GPU error or device loss it caused. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.#checkErrors();
  }

  /** Copies `bytes` from a buffer to the host: records the copy, submits, and maps a staging buffer. */
  async readBuffer(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.#stagingFor(size);
    this.copy(src, offset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (e) {
      await this.#checkErrors();
      throw new GpuError(`reading back ${bytes} bytes failed: ${(e as Error).message}`);
    }
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.#stagingFree.push(staging);
    await this.#checkErrors();
    return out;
  }

  /** Uploads host data into a buffer; submits first if recorded work could still use the buffer. */
  writeBuffer(dst: GPUBuffer, offset: number, data: ArrayBufferView<ArrayBuffer>): void {
    if (this.#encoder) this.flush();
    this.device.queue.writeBuffer(dst, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  async #checkErrors(): Promise<void> {
    const scopes = this.#errorScopes;
    this.#errorScopes = [];
    const errors = (await Promise.all(scopes)).filter((e): e is GPUError => e !== null);
    this.gpu.checkErrors();
    if (errors.length > 0) throw new GpuError(`GPU error: ${errors.map((e) => e.message).join("; ")}`);
  }

  #stagingFor(size: number): GPUBuffer {
    const i = this.#stagingFree.findIndex((b) => b.size >= size && b.size <= 4 * size + 4096);
    if (i >= 0) return this.#stagingFree.splice(i, 1)[0];
    return this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  #ensureEncoder(): GPUCommandEncoder {
    if (!this.#encoder) {
      this.device.pushErrorScope("out-of-memory");
      this.device.pushErrorScope("validation");
      this.#encoder = this.device.createCommandEncoder();
    }
    return this.#encoder;
  }

  #ensurePass(): GPUComputePassEncoder {
    const enc = this.#ensureEncoder();
    this.#pass ??= enc.beginComputePass();
    return this.#pass;
  }

  #endPass(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  #writeParams(params: Params): Binding {
    let c = this.#chunks[this.#chunkIndex];
    if (c && c.used + PARAM_BYTES > ARENA_CHUNK) {
      c = this.#chunks[++this.#chunkIndex];
    }
    if (!c) {
      c = {
        buffer: this.device.createBuffer({
          size: ARENA_CHUNK,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        bytes: new Uint8Array(ARENA_CHUNK),
        used: 0,
      };
      this.#chunks[this.#chunkIndex] = c;
    }
    const offset = c.used;
    c.bytes.set(new Uint8Array(params.view.buffer, 0, params.length), offset);
    c.used += PARAM_BYTES;
    return { buffer: c.buffer, offset, size: PARAM_BYTES };
  }
}

let runtime: Runtime | null = null;
let initialising: Promise<Runtime> | null = null;

/**
 * Steps that `init()` awaits once the device is up, e.g. an op family checking that the kernel
 * variant it prefers on this driver compiles. Registered when an op's module loads.
 */
const initSteps: ((runtime: Runtime) => Promise<void>)[] = [];
export function onInit(step: (runtime: Runtime) => Promise<void>): void {
  initSteps.push(step);
}

/** Initialises the runtime (device, pool, pipeline cache, kernel variants) once per process. */
export function init(): Promise<Runtime> {
  initialising ??= (async () => {
    const r = new Runtime(await getGpu());
    for (const step of initSteps) await step(r);
    return (runtime = r);
  })().catch((e) => {
    initialising = null;
    throw e;
  });
  return initialising;
}

/** The runtime; `await init()` must have run. */
export function rt(): Runtime {
  if (!runtime) {
    gpu(); // throws the "not initialised" error
    throw new Error("the runtime is not initialised yet: await init() first");
  }
  return runtime;
}

/** Splits a 1-D workgroup count over x and y so that neither exceeds the per-dimension limit. */
export function grid1d(workgroups: number): [number, number] {
  const max = rt().gpu.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [workgroups, 1];
  const y = Math.ceil(workgroups / max);
  return [Math.ceil(workgroups / y), y];
}
