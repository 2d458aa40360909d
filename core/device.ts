// The one WebGPU adapter and device of this process, with its limits and error reporting.

export const INSTALL_HINT = [
  "WebGPU needs a Vulkan driver:",
  "  - on a machine with a GPU, install its vendor driver (NVIDIA, AMD or Intel) with Vulkan support;",
  "  - on a machine without a GPU, install Mesa's software driver:",
  "      apt-get install mesa-vulkan-drivers libvulkan1   (or run: sh scripts/setup.sh)",
].join("\n");

/** Raised when no WebGPU adapter can be had; its message says how to get one. */
export class NoAdapterError extends Error {
  constructor(reason: string) {
    super(`no WebGPU adapter: ${reason}\n${INSTALL_HINT}`);
    this.name = "NoAdapterError";
  }
}

/** A GPU validation/out-of-memory error or device loss, raised at the next sync point. */
export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GpuError";
  }
}

/**
 * The driver behind the adapter, as far as kernel choice cares: kernels written for one software
 * driver can break another (SwiftShader exhausts memory compiling lavapipe's written-out conv tiles).
 */
export type AdapterDriver = "lavapipe" | "swiftshader" | "other";

/** What `driverOf` reads from an adapter (a subset of GPUAdapterInfo, so tests can describe any). */
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** Vulkan vendor/device IDs as Deno reports them (decimal strings): Mesa's 0x10005, Google's 0x1AE0. */
const MESA_VENDOR = 0x10005;
const GOOGLE_VENDOR = 0x1ae0;
const SWIFTSHADER_DEVICE = 0xc0de;

function vulkanId(s: string): number {
  return /^(0x[0-9a-f]+|[0-9]+)$/i.test(s.trim()) ? Number(s.trim()) : NaN;
}

/**
 * Names the driver from the adapter info: its names (llvmpipe/lavapipe, SwiftShader) where the
 * runtime gives them, else the Vulkan vendor and device IDs. Anything else is "other".
 */
export function driverOf(info: AdapterIdentity): AdapterDriver {
  const names = [info.description, info.device, info.architecture, info.vendor].join(" ");
  if (/swiftshader/i.test(names)) return "swiftshader";
  if (/llvmpipe|lavapipe/i.test(names)) return "lavapipe";
  const vendor = vulkanId(info.vendor);
  if (vendor === GOOGLE_VENDOR && vulkanId(info.device) === SWIFTSHADER_DEVICE) return "swiftshader";
  // An unnamed adapter with Mesa's own vendor ID: Mesa's hardware drivers report the hardware's.
  if (vendor === MESA_VENDOR && !info.description) return "lavapipe";
  return "other";
}

export interface Gpu {
  adapter: GPUAdapter;
  device: GPUDevice;
  info: GPUAdapterInfo;
  limits: GPUSupportedLimits;
  /**
   * True on a CPU adapter (Mesa lavapipe, SwiftShader): for sizing, e.g. default batches.
   * Kernel variants go by `driver`, since the two CPU drivers compile different kernels well.
   */
  isCpu: boolean;
  /** Which driver this is; kernel variants measured on one driver are chosen by this. */
  driver: AdapterDriver;
  /** One line naming the adapter, for logs and reports. */
  description: string;
  /** Throws the first GPU error or device loss seen since the last call. */
  checkErrors(): void;
}

let gpuPromise: Promise<Gpu> | null = null;
let gpuReady: Gpu | null = null;

/** Requests the adapter and device once per process; later calls return the same device. */
export function getGpu(): Promise<Gpu> {
  gpuPromise ??= createGpu().then((g) => (gpuReady = g)).catch((e) => {
    gpuPromise = null;
    throw e;
  });
  return gpuPromise;
}

/** The device after `getGpu()` has resolved; throws if it has not been requested yet. */
export function gpu(): Gpu {
  if (!gpuReady) throw new Error("the GPU is not initialised yet: await getGpu() first");
  return gpuReady;
}

/** Describes an adapter in one line, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) [CPU adapter]`. */
export function describeAdapter(info: GPUAdapterInfo): string {
  const parts = [info.description || info.device || "unknown device"];
  if (info.vendor) parts.push(`vendor ${info.vendor}`);
  if (info.architecture) parts.push(info.architecture);
  const kind = info.isFallbackAdapter ? " [CPU adapter]" : "";
  return parts.join(", ") + kind;
}

/**
 * Mesa's drivers warn on every start unless XDG_RUNTIME_DIR names a private (mode 700) directory:
 * point it at one of ours when it is missing or unusable. Without the permissions, leave it be.
 */
function ensureRuntimeDir(): void {
  try {
    const current = Deno.env.get("XDG_RUNTIME_DIR");
    if (current && (Deno.statSync(current).mode ?? 0) % 0o1000 === 0o700) return;
    const dir = "/tmp/anogan-xdg-runtime";
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Not allowed to read, write or set the environment: the warning is harmless.
  }
}

/**
 * Lavapipe compiles every shader for one SIMD width: 256 bits by default. On a CPU with AVX-512 the
 * conv kernels run faster at 512 (BENCHMARKS.md, "Kernels"), so ask for it there, before the driver
 * loads, unless LP_NATIVE_VECTOR_WIDTH is already set (the user's choice wins; `=256` keeps Mesa's
 * default). Mesa's shader cache does not key its binaries on the width, so 512-bit ones are cached
 * in a directory of their own (unless MESA_SHADER_CACHE_DIR is set). The adapter's description names
 * the width ("llvmpipe (LLVM 15.0.6, 512 bits)"), and runs record it with the adapter.
 */
export function chooseVectorWidth(cpuFlags: string, env: Record<string, string | undefined>) {
  if (env.LP_NATIVE_VECTOR_WIDTH !== undefined) return {};
  if (!/\bavx512f\b/.test(cpuFlags) || !/\bavx512vl\b/.test(cpuFlags)) return {};
  const set: Record<string, string> = { LP_NATIVE_VECTOR_WIDTH: "512" };
  const home = env.XDG_CACHE_HOME ?? (env.HOME ? `${env.HOME}/.cache` : undefined);
  if (env.MESA_SHADER_CACHE_DIR === undefined && home) {
    set.MESA_SHADER_CACHE_DIR = `${home}/anogan-lavapipe-512`;
  }
  return set;
}

/**
 * The CPU's feature flags: /proc/cpuinfo's flags line, through `grep` where running it is allowed (the
 * tasks that compute allow it: Deno wants --allow-all to read /proc itself); "" otherwise. Asked
 * only when already granted, so that no permission prompt appears.
 */
function cpuFlags(): string {
  try {
    if (Deno.permissions.querySync({ name: "run", command: "grep" }).state !== "granted") return "";
    const grep = new Deno.Command("grep", { args: ["-m1", "^flags", "/proc/cpuinfo"], stderr: "null" });
    const out = grep.outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : "";
  } catch {
    return "";
  }
}

function setVectorWidth(): void {
  try {
    if (Deno.env.get("LP_NATIVE_VECTOR_WIDTH") !== undefined) return;
    const set = chooseVectorWidth(cpuFlags(), Deno.env.toObject());
    for (const [name, value] of Object.entries(set)) Deno.env.set(name, value);
  } catch {
    // Not allowed to read or set the environment: Mesa's default width.
  }
}

async function createGpu(): Promise<Gpu> {
  ensureRuntimeDir();
  setVectorWidth();
  // deno-lint-ignore no-explicit-any
  const nav = (globalThis as any).navigator as Navigator | undefined;
  if (!nav?.gpu) throw new NoAdapterError("navigator.gpu is missing in this runtime");
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await nav.gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    throw new NoAdapterError(`requestAdapter failed: ${(e as Error).message}`);
  }
  if (!adapter) throw new NoAdapterError("requestAdapter returned no adapter (no Vulkan driver found)");

  const al = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxBufferSize: al.maxBufferSize,
    maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
    maxStorageBuffersPerShaderStage: al.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: al.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: al.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: al.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: al.maxComputeWorkgroupsPerDimension,
    maxTextureDimension2D: al.maxTextureDimension2D,
  };
  // Timestamp queries where the adapter has them: the profiles time each dispatch on the device.
  const requiredFeatures: GPUFeatureName[] = adapter.features.has("timestamp-query")
    ? ["timestamp-query"]
    : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;

  let pending: string | null = null;
  device.addEventListener("uncapturederror", (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    pending ??= `GPU error: ${err.message}`;
  });
  let lost: string | null = null;
  device.lost.then((l) => {
    lost = `GPU device lost (${l.reason}): ${l.message}`;
  });

  return {
    adapter,
    device,
    info,
    limits: device.limits,
    isCpu: info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(info.description),
    driver: driverOf(info),
    description: describeAdapter(info),
    checkErrors() {
      if (lost) throw new GpuError(lost);
      if (pending) {
        const msg = pending;
        pending = null;
        throw new GpuError(msg);
      }
    },
  };
}
