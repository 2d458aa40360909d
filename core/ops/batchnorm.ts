// Batch norm over the channels of NHWC activations, forward and backward, in PyTorch's semantics.
//
// x is [N, H, W, C] (any rank ≥ 2 works: the last axis is the channel, all others are reduced);
// gamma, beta, runningMean, runningVar are [C]. Training mode normalises with the batch mean and the
// biased batch variance and, when running statistics are given, updates them in place with
// `momentum` (running variance unbiased, as torch.nn.BatchNorm2d). Eval mode normalises with the
// running statistics. Every reduction is split into fixed chunks of rows summed in chunk order, so
// results are the same run to run. Each pass over the activations is one dispatch whose invocations
// walk many rows of 4 channels (vec4 loads where C is a multiple of 4, else 1 channel).
//   kernels/batchnorm_rows.wgsl         the passes over x and dy: per-chunk sums (forward statistics;
//                                       backward Σdy, Σdy·(x − mean)) and the elementwise output
//                                       (y, or the input gradient in either mode)
//   kernels/batchnorm_finish.wgsl       per channel: the chunks merged into mean and 1/√(var + eps),
//                                       the running-statistics update, the output's coefficients
//   kernels/batchnorm_grad_finish.wgsl  per channel: the backward chunks summed into dγ, dβ and the
//                                       input gradient's coefficients

import { grid1d, type KernelDef, Params, rt } from "../kernel.ts";
import { record } from "../autograd.ts";
import { shapeString, Tensor } from "../tensor.ts";
import {
  activatedAfter,
  type Activation,
  activationParams,
  rectifier,
  throughActivation,
} from "./elementwise.ts";

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
  /**
   * The activation after batch norm, in the same op: ReLU and LeakyReLU are applied as the output is
   * written and their gradient taken inside the backward passes (no pass of their own), others after;
   * the bits of the elementwise op after batch norm either way.
   */
  activation?: Activation;
}

/**
 * batchNorm2d(x [N,H,W,C], γ [C], β [C]) → [N,H,W,C], then `opts.activation` if given; see the file
 * comment for the semantics.
 */
export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, opts: BatchNormOptions): Tensor {
  const { rows, channels } = checkBatchNorm(x, gamma, beta, opts);
  const layout = batchNormLayout(rows, channels);
  const act = opts.activation;
  const fused = rectifier(act); // in the passes; another activation after them
  const coef = batchNormStats(x, gamma, beta, layout, opts); // [4, C]: mean, γ·rstd, rstd, β
  const y = activatedAfter(
    batchNormApply(0, x, null, null, coef, layout, fused, "batchNorm2d.forward"),
    act,
    fused,
  );
  return record(y, "batchNorm2d", [x, gamma, beta], (gy, needs) =>
    // The gradient of the normalised values gz: taken inside the passes where the activation was fused.
    throughActivation(fused ? undefined : act, y, gy, (gz) => {
      const out = fused ? y : null;
      const trainingDx = needs[0] && opts.training; // batch statistics depend on x: needs the sums
      const sums = trainingDx || needs[1] || needs[2]
        ? batchNormGradSums(x, gz, out, coef, layout, fused)
        : null;
      const gx = needs[0]
        ? opts.training
          ? batchNormApply(1, x, gz, out, sums!.gradCoef, layout, fused, "batchNorm2d.gradInput")
          : batchNormApply(2, x, gz, out, coef, layout, fused, "batchNorm2d.gradInput")
        : null;
      sums?.gradCoef.dispose();
      if (sums && !needs[1]) sums.gradGamma.dispose();
      if (sums && !needs[2]) sums.gradBeta.dispose();
      return [gx, needs[1] ? sums!.gradGamma : null, needs[2] ? sums!.gradBeta : null];
    }));
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
/** Chunks of the reductions: about this many invocations per pass, so that both cores are busy. */
const TARGET_INVOCATIONS = 2048;
/** The fewest rows per chunk, so that the per-channel chunk merge stays a small share of the work. */
const MIN_CHUNK_ROWS = 32;
/** Rows per invocation of the elementwise passes (the per-channel coefficients are loaded once each). */
export const BLOCK_ROWS = 16;

/** How a pass over [R, C] is split: channel groups of one load, chunks of the reductions, row blocks. */
interface RowLayout {
  rows: number;
  channels: number;
  /** 4 (vec4 loads) where C is a multiple of 4, else 1. */
  lanes: 1 | 4;
  groups: number;
  chunkRows: number;
  chunks: number;
}

/** The layout of a shape: fixed by R and C alone, so that every sum runs in the same order. */
export function batchNormLayout(rows: number, channels: number): RowLayout {
  const lanes = channels % 4 === 0 ? 4 : 1;
  const groups = channels / lanes;
  const wanted = Math.max(1, Math.ceil(TARGET_INVOCATIONS / groups));
  const chunkRows = Math.ceil(rows / Math.min(wanted, Math.max(1, Math.floor(rows / MIN_CHUNK_ROWS))));
  return { rows, channels, lanes, groups, chunkRows, chunks: Math.ceil(rows / chunkRows) };
}

function rowParams(l: RowLayout): Params {
  return new Params().u32(l.rows, l.channels, l.groups, l.chunkRows, l.chunks, BLOCK_ROWS);
}

/** A pass over the rows: the layout, then the fused activation's slope (0 without one). */
function passParams(l: RowLayout, act: Activation | undefined): Params {
  return rowParams(l).u32(0, 0).f32(0, 0).u32(0).f32(act ? activationParams(act).alpha : 0);
}

/**
 * A pass of batchnorm_rows.wgsl (MODE only matters to "apply", ACT to "apply" and "grad_partial"; the
 * module needs both defined). The activation is a constant: a branch on a uniform costs lavapipe as much
 * as the pass's arithmetic.
 */
function rowKernel(l: RowLayout, entry: string, mode = 0, act?: Activation): KernelDef {
  return {
    file: l.lanes === 4 ? "batchnorm_rows_vec4.wgsl" : "batchnorm_rows_f32.wgsl",
    entry,
    constants: { MODE: mode, ACT: act ? activationParams(act).code : 0, WG },
    storage: 5,
    writes: [3],
  };
}

/**
 * Per-chunk sums over the rows → [chunks, 2, C]: "stats_partial" (chunk mean, Σ (x − chunk mean)²) or
 * "grad_partial" (Σdy′, Σdy′·(x − mean), the mean being row 0 of `coef`; dy′ = dy·act′ from the
 * activated output y where `act` was fused, dy itself otherwise).
 */
function batchNormPartial(
  entry: "stats_partial" | "grad_partial",
  x: Tensor,
  dy: Tensor | null,
  y: Tensor | null,
  coef: Tensor | null,
  l: RowLayout,
  act: Activation | undefined,
  label: string,
): Tensor {
  const partial = Tensor.empty([l.chunks, 2, l.channels]);
  // Unused bindings get a buffer that the dispatch only reads.
  const buffers = [x.buffer, (dy ?? x).buffer, (coef ?? x).buffer, partial.buffer, (y ?? x).buffer];
  const groups = grid1d(Math.ceil((l.chunks * l.groups) / WG));
  rt().dispatch(rowKernel(l, entry, 0, act), buffers, passParams(l, act), groups, label);
  return partial;
}

/**
 * [4, C] = (mean, γ·rstd, rstd, β): from the batch (updating the running statistics) or from the
 * running ones.
 */
function batchNormStats(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  l: RowLayout,
  opts: BatchNormOptions,
): Tensor {
  const partial = opts.training
    ? batchNormPartial("stats_partial", x, null, null, null, l, undefined, "batchNorm2d.stats")
    : null;
  const coef = Tensor.empty([4, l.channels]);
  const update = opts.training && opts.runningMean !== undefined && opts.runningVar !== undefined;
  // The running-statistics bindings are written in training mode: placeholders when there are none.
  const runningMean = opts.runningMean ?? Tensor.empty([l.channels]);
  const runningVar = opts.runningVar ?? Tensor.empty([l.channels]);
  const counter = opts.numBatchesTracked ?? Tensor.empty([1]);
  const def = { file: "batchnorm_finish.wgsl", constants: { WG }, storage: 7, writes: [3, 4, 5, 6] };
  const params = rowParams(l).u32(opts.training ? 0 : 1, update ? 1 : 0).f32(
    opts.momentum ?? 0.1,
    opts.eps ?? 1e-5,
  );
  const buffers = [
    (partial ?? gamma).buffer,
    gamma.buffer,
    beta.buffer,
    coef.buffer,
    runningMean.buffer,
    runningVar.buffer,
    counter.buffer,
  ];
  rt().dispatch(def, buffers, params, [Math.ceil(l.channels / WG)], "batchNorm2d.finish");
  partial?.dispose();
  if (!opts.runningMean) runningMean.dispose();
  if (!opts.runningVar) runningVar.dispose();
  if (!opts.numBatchesTracked) counter.dispose();
  return coef;
}

/**
 * dγ = Σdy′·x̂ and dβ = Σdy′, each [C], and the training-mode input gradient's coefficients [4, C]:
 * chunk partials, then a fixed-order sum over the chunks (dy′ as in batchNormPartial).
 */
function batchNormGradSums(
  x: Tensor,
  dy: Tensor,
  y: Tensor | null,
  coef: Tensor,
  l: RowLayout,
  act: Activation | undefined,
) {
  const partial = batchNormPartial("grad_partial", x, dy, y, coef, l, act, "batchNorm2d.gradSums");
  const gradCoef = Tensor.empty([4, l.channels]);
  const gradGamma = Tensor.empty([l.channels]), gradBeta = Tensor.empty([l.channels]);
  const def = { file: "batchnorm_grad_finish.wgsl", constants: { WG }, storage: 5, writes: [2, 3, 4] };
  const buffers = [partial.buffer, coef.buffer, gradCoef.buffer, gradGamma.buffer, gradBeta.buffer];
  rt().dispatch(def, buffers, rowParams(l), [Math.ceil(l.channels / WG)], "batchNorm2d.gradFinish");
  partial.dispose();
  return { gradCoef, gradGamma, gradBeta };
}

/**
 * The elementwise pass: y = act(x̂·γ + β) (MODE 0), the input gradient in training (MODE 1) or eval
 * mode (MODE 2), from dy′ (batchNormPartial) where `act` was fused.
 */
function batchNormApply(
  mode: 0 | 1 | 2,
  x: Tensor,
  dy: Tensor | null,
  y: Tensor | null,
  coef: Tensor,
  l: RowLayout,
  act: Activation | undefined,
  label: string,
): Tensor {
  const out = Tensor.empty(x.shape);
  const buffers = [x.buffer, (dy ?? x).buffer, coef.buffer, out.buffer, (y ?? x).buffer];
  const groups = grid1d(Math.ceil((Math.ceil(l.rows / BLOCK_ROWS) * l.groups) / WG));
  rt().dispatch(rowKernel(l, "apply", mode, act), buffers, passParams(l, act), groups, label);
  return out;
}
