// TensorFlow.js 4.22 under Deno, for the benchmarks that set it beside this runtime: the WebGPU
// backend on the same adapter, or the wasm backend (XNNPACK, single-threaded under Deno).

// deno-lint-ignore no-explicit-any
export type Tf = any;

/** tfjs's default matmul program choice (-1: its own heuristic, which may pick split-K). */
export const TFJS_DEFAULT_MATMUL_PROGRAM = -1;
/** The matmul program that gives right gradients (the split-K one returns wrong `z` gradients). */
export const TFJS_SAFE_MATMUL_PROGRAM = 3;

export async function loadTf(backend: "webgpu" | "wasm"): Promise<Tf> {
  const tf = await import("@tensorflow/tfjs");
  if (backend === "webgpu") {
    // tfjs reads adapter.info after requestDevice, which throws in Deno: hand it a copy taken before.
    const gpu = (navigator as Navigator & { gpu: GPU }).gpu;
    const original = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = async (o?: GPURequestAdapterOptions) => {
      const adapter = await original(o);
      if (!adapter) return adapter;
      const info = adapter.info;
      const snapshot = {
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
      };
      Object.defineProperty(adapter, "info", { get: () => snapshot });
      return adapter;
    };
    await import("@tensorflow/tfjs-backend-webgpu");
    tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", TFJS_SAFE_MATMUL_PROGRAM);
  } else {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // The .wasm binaries sit beside the package in Deno's npm cache.
    const denoDir = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
    wasm.setWasmPaths(`${denoDir}/npm/registry.npmjs.org/@tensorflow/tfjs-backend-wasm/4.22.0/dist/`);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} did not initialise`);
  await tf.ready();
  return tf;
}

/** The kernels among `names` that the current backend lacks (e.g. wasm has no Conv2DBackpropFilter). */
export function missingKernels(tf: Tf, names: string[]): string[] {
  return names.filter((name) => !tf.getKernel(name, tf.getBackend()));
}
