// Batch norm over the channels of NHWC activations, forward and backward, in PyTorch's semantics.
//
// x is [N, H, W, C] (any rank ≥ 2 works: the last axis is the channel, all others are reduced);
// gamma, beta, runningMean, runningVar are [C]. Training mode normalises with the batch mean and the
// biased batch variance and, when running statistics are given, updates them in place with
// `momentum` (running variance unbiased, as torch.nn.BatchNorm2d). Eval mode normalises with the
// running statistics. Every reduction is split into fixed chunks summed in chunk order.
//   kernels/batchnorm_partial.wgsl  per-chunk sums (forward statistics; backward Σdy, Σdy·x̂)
//   kernels/batchnorm_finish.wgsl   mean and 1/√(var + eps) per channel; running-statistics update
//   kernels/batchnorm_apply.wgsl    y = γ·x̂ + β, and the input gradient in both modes

import { grid1d, Params, rt } from "../kernel.ts";
import { record } from "../autograd.ts";
import { shapeString, Tensor } from "../tensor.ts";
import { reduceKernel } from "./reduce.ts";

export interface BatchNormOptions {
  /** Batch statistics (true) or running statistics (false). */
  training: boolean;
  /** Updated in place in training mode; required in eval mode. */
  runningMean?: Tensor;
  runningVar?: Tensor;
  /** A [1] counter incremented with each running-statistics update (PyTorch's num_batches_tracked). */
  numBatchesTracked?: Tensor;
  momentum?: number;
  eps?: number;
}

/** batchNorm2d(x [N,H,W,C], γ [C], β [C]) → [N,H,W,C]; see the file comment for the semantics. */
export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, opts: BatchNormOptions): Tensor {
  const { rows, channels } = checkBatchNorm(x, gamma, beta, opts);
  const stats = batchNormStats(x, rows, channels, opts); // [2, C]: mean, rstd
  const y = batchNormApply(0, x, null, stats, gamma, beta, null, "batchNorm2d.forward");
  return record(y, "batchNorm2d", [x, gamma, beta], (gy, needs) => {
    const trainingDx = needs[0] && opts.training; // batch statistics depend on x: needs the sums
    const sums = trainingDx || needs[1] || needs[2] ? batchNormGradSums(x, gy, stats, rows, channels) : null;
    const gx = needs[0]
      ? batchNormApply(opts.training ? 1 : 2, x, gy, stats, gamma, beta, sums, "batchNorm2d.gradInput")
      : null;
    return [
      gx,
      needs[1] ? channelSlice(sums!, 1, channels) : null,
      needs[2] ? channelSlice(sums!, 0, channels) : null,
    ];
  });
}

function checkBatchNorm(x: Tensor, gamma: Tensor, beta: Tensor, opts: BatchNormOptions) {
  const channels = x.shape.at(-1) ?? 0;
  const rows = x.size / Math.max(channels, 1);
  const shapes = `input ${shapeString(x.shape)} [N,H,W,C], gamma ${shapeString(gamma.shape)}, beta ${
    shapeString(beta.shape)
  }`;
  if (x.rank < 2) throw new Error(`batchNorm2d: input must be [N,H,W,C] (channels last), got ${shapes}`);
  for (
    const [name, t] of [["gamma", gamma], ["beta", beta], ["runningMean", opts.runningMean], [
      "runningVar",
      opts.runningVar,
    ]] as const
  ) {
    if (t && (t.rank !== 1 || t.shape[0] !== channels)) {
      throw new Error(
        `batchNorm2d: ${name} must be [${channels}] (one per channel), got ${
          shapeString(t.shape)
        } (${shapes})`,
      );
    }
  }
  if (!opts.training && !(opts.runningMean && opts.runningVar)) {
    throw new Error(`batchNorm2d: eval mode needs runningMean and runningVar (${shapes})`);
  }
  if (opts.training && rows < 2) {
    throw new Error(`batchNorm2d: training needs more than one value per channel, got ${shapes}`);
  }
  const momentum = opts.momentum ?? 0.1;
  if (!(momentum >= 0 && momentum <= 1)) {
    throw new Error(`batchNorm2d: momentum must be in [0, 1], got ${momentum}`);
  }
  if (!((opts.eps ?? 1e-5) > 0)) throw new Error(`batchNorm2d: eps must be > 0, got ${opts.eps}`);
  return { rows, channels };
}

const WG = 64;
/** Rows per chunk of the fixed-order reductions. */
const CHUNK_ROWS = 256;

function chunking(rows: number) {
  const chunks = Math.ceil(rows / CHUNK_ROWS);
  return { chunks, chunkRows: chunks === 1 ? rows : CHUNK_ROWS };
}

/** Per-chunk sums (MODE 0: mean and M2 of x; MODE 1: Σdy and Σdy·x̂) → [chunks, 2, C]. */
function batchNormPartial(
  mode: 0 | 1,
  x: Tensor,
  dy: Tensor | null,
  stats: Tensor | null,
  rows: number,
  channels: number,
  label: string,
) {
  const { chunks, chunkRows } = chunking(rows);
  const partial = Tensor.empty([chunks, 2, channels]);
  const def = { file: "batchnorm_partial.wgsl", constants: { MODE: mode, WG }, storage: 4, writes: [3] };
  const params = new Params().u32(rows, channels, chunkRows, chunks);
  const groups = grid1d(Math.ceil((chunks * channels) / WG));
  rt().dispatch(
    def,
    [x.buffer, (dy ?? x).buffer, (stats ?? x).buffer, partial.buffer],
    params,
    groups,
    label,
  );
  return partial;
}

/** [2, C] = (mean, rstd): from the batch (updating the running statistics) or from the running ones. */
function batchNormStats(x: Tensor, rows: number, channels: number, opts: BatchNormOptions): Tensor {
  const { chunks, chunkRows } = chunking(rows);
  const partial = opts.training
    ? batchNormPartial(0, x, null, null, rows, channels, "batchNorm2d.stats")
    : null;
  const stats = Tensor.empty([2, channels]);
  const update = opts.training && opts.runningMean !== undefined && opts.runningVar !== undefined;
  // The running-statistics bindings are written in training mode: placeholders when there are none.
  const runningMean = opts.runningMean ?? Tensor.empty([channels]);
  const runningVar = opts.runningVar ?? Tensor.empty([channels]);
  const counter = opts.numBatchesTracked ?? Tensor.empty([1]);
  const def = { file: "batchnorm_finish.wgsl", constants: { WG }, storage: 5, writes: [1, 2, 3, 4] };
  const params = new Params().u32(rows, channels, chunkRows, chunks, opts.training ? 0 : 1, update ? 1 : 0)
    .f32(opts.momentum ?? 0.1, opts.eps ?? 1e-5);
  const buffers = [
    (partial ?? x).buffer,
    stats.buffer,
    runningMean.buffer,
    runningVar.buffer,
    counter.buffer,
  ];
  rt().dispatch(def, buffers, params, [Math.ceil(channels / WG)], "batchNorm2d.finish");
  partial?.dispose();
  if (!opts.runningMean) runningMean.dispose();
  if (!opts.runningVar) runningVar.dispose();
  if (!opts.numBatchesTracked) counter.dispose();
  return stats;
}

/** [2, C] = (Σdy, Σdy·x̂) = (dβ, dγ): chunk partials, then a fixed-order sum over the chunks. */
function batchNormGradSums(x: Tensor, dy: Tensor, stats: Tensor, rows: number, channels: number): Tensor {
  const partial = batchNormPartial(1, x, dy, stats, rows, channels, "batchNorm2d.gradSums");
  if (partial.shape[0] === 1) return partial.reshapeOwned([2, channels]);
  const sums = reduceKernel(partial, [0], 1);
  partial.dispose();
  return sums;
}

function batchNormApply(
  mode: 0 | 1 | 2,
  x: Tensor,
  dy: Tensor | null,
  stats: Tensor,
  gamma: Tensor,
  beta: Tensor,
  sums: Tensor | null,
  label: string,
): Tensor {
  const channels = gamma.size;
  const out = Tensor.empty(x.shape);
  const def = { file: "batchnorm_apply.wgsl", constants: { MODE: mode, WG: 256 }, storage: 7, writes: [6] };
  const params = new Params().u32(x.size / channels, channels, 0, 0);
  const buffers = [
    x.buffer,
    (dy ?? x).buffer,
    stats.buffer,
    gamma.buffer,
    beta.buffer,
    (sums ?? stats).buffer,
    out.buffer,
  ];
  rt().dispatch(def, buffers, params, grid1d(Math.ceil(x.size / 256)), label);
  return out;
}

/** Row `which` of a [2, C] tensor as a new [C] tensor (a buffer copy). */
function channelSlice(t: Tensor, which: 0 | 1, channels: number): Tensor {
  const out = Tensor.empty([channels]);
  rt().copy(t.buffer, which * channels * 4, out.buffer, 0, channels * 4);
  return out;
}
