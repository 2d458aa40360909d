// TensorFlow.js 4.22 under Deno, for the benchmarks that set it beside this runtime: the WebGPU
// backend on the same adapter, or the wasm backend (XNNPACK, single-threaded under Deno); and the one
// TensorFlow.js DCGAN the benchmarks run, built from our model's weights.

import type * as T from "../core/mod.ts";
import type { Dcgan } from "../anogan/dcgan.ts";

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

/** PyTorch's padding 2 for a 5×5 stride-2 conv (tfjs's "same" pads 1 before and 2 after). */
const PAD_2 = [[0, 0], [2, 2], [2, 2], [0, 0]];
const BN_EPS = 1e-5;

interface TfNorm {
  gamma: Tf;
  beta: Tf;
  runningMean: Tf;
  runningVar: Tf;
}

/** anogan/dcgan.ts's G and D in TensorFlow.js ops, NHWC; weights copied from one of our models. */
export interface TfDcgan {
  /** Trainable variables (empty when built frozen). */
  gVars: Tf[];
  dVars: Tf[];
  parameterCount: number;
  /** z [N, zDim] → [N, size, size, 1]; batch norm on batch statistics when `training`. */
  generate(z: Tf, training: boolean): Tf;
  /** x [N, size, size, 1] → logits [N] and f(x), the last conv block's features. */
  discriminate(x: Tf, training: boolean): { logits: Tf; features: Tf };
  dispose(): void;
}

/**
 * Builds the TensorFlow.js DCGAN with our model's weights, so that both compute the same function:
 * our conv weights are stored as tfjs wants them ([5,5,Cin,Cout]; transposed convs [5,5,Cout,Cin]),
 * linear weights [out,in] are transposed. Batch-norm running statistics are used in eval mode and
 * not updated in training mode (a few hundred values per layer, no measurable cost).
 */
export async function tfDcgan(tf: Tf, gan: Dcgan, trainable: boolean): Promise<TfDcgan> {
  const gVars: Tf[] = [], dVars: Tf[] = [], all: Tf[] = [];
  let parameterCount = 0;
  /** A copy of one of our tensors; a parameter (`vars` given) becomes a variable when `trainable`. */
  const load = async (t: T.Tensor, vars: Tf[] | null, transpose = false): Promise<Tf> => {
    const host = await t.read();
    let value = tf.tidy(() => {
      const x = tf.tensor(host, t.shape);
      return transpose ? tf.transpose(x) : x;
    });
    if (vars) {
      parameterCount += value.size;
      if (trainable) {
        const v = tf.variable(value);
        value.dispose();
        vars.push(value = v);
      }
    }
    all.push(value);
    return value;
  };
  const linear = async (l: T.Linear, into: Tf[]) => ({
    w: await load(l.weight, into, true),
    b: l.bias ? await load(l.bias, into) : null,
  });
  const conv = async (c: T.Conv2d | T.ConvTranspose2d, into: Tf[]) => ({
    w: await load(c.weight, into),
    b: c.bias ? await load(c.bias, into) : null,
  });
  const norm = async (n: T.BatchNorm2d, into: Tf[]): Promise<TfNorm> => ({
    gamma: await load(n.weight, into),
    beta: await load(n.bias, into),
    runningMean: await load(n.runningMean, null),
    runningVar: await load(n.runningVar, null),
  });
  const { G, D } = gan;
  const project = await linear(G.project, gVars);
  const projectNorm = await norm(G.projectNorm, gVars);
  type TfConv = { w: Tf; b: Tf | null };
  const ups: TfConv[] = [], downs: TfConv[] = [], gNorms: TfNorm[] = [], dNorms: (TfNorm | null)[] = [];
  for (const up of G.ups) ups.push(await conv(up, gVars));
  for (const n of G.norms) gNorms.push(await norm(n, gVars));
  for (const down of D.downs) downs.push(await conv(down, dVars));
  for (const n of D.norms) dNorms.push(n ? await norm(n, dVars) : null);
  const classify = await linear(D.classify, dVars);

  const bn = (h: Tf, n: TfNorm, training: boolean) => {
    if (!training) return tf.batchNorm(h, n.runningMean, n.runningVar, n.beta, n.gamma, BN_EPS);
    const { mean, variance } = tf.moments(h, [0, 1, 2]); // biased variance, as ours and PyTorch's
    return tf.batchNorm(h, mean, variance, n.beta, n.gamma, BN_EPS);
  };
  const addBias = (h: Tf, b: Tf | null) => (b ? tf.add(h, b) : h);
  const c0 = G.project.outFeatures / 16;
  return {
    gVars,
    dVars,
    parameterCount,
    generate(z, training) {
      const n = z.shape[0];
      let h = tf.reshape(addBias(tf.matMul(z, project.w), project.b), [n, 4, 4, c0]);
      h = tf.relu(bn(h, projectNorm, training));
      ups.forEach((up, i) => {
        const [, height, width] = h.shape;
        const outShape = [n, 2 * height, 2 * width, up.w.shape[2]];
        h = addBias(tf.conv2dTranspose(h, up.w, outShape, 2, PAD_2), up.b);
        h = i < gNorms.length ? tf.relu(bn(h, gNorms[i], training)) : tf.tanh(h);
      });
      return h;
    },
    discriminate(x, training) {
      let h = x;
      downs.forEach((down, i) => {
        h = addBias(tf.conv2d(h, down.w, 2, PAD_2), down.b);
        const n = dNorms[i];
        if (n) h = bn(h, n, training);
        h = tf.leakyRelu(h, 0.2);
      });
      const flat = tf.reshape(h, [x.shape[0], -1]);
      const logits = tf.reshape(addBias(tf.matMul(flat, classify.w), classify.b), [x.shape[0]]);
      return { logits, features: h };
    },
    dispose: () => tf.dispose(all),
  };
}
