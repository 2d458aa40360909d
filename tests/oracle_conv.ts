// Float64 references for conv2d, convTranspose2d and batch norm, with their vector-Jacobian products.
// Deliberately naive: every sum written out from the definition (convTranspose2d as a scatter), no
// index tricks shared with the kernels. Layouts as in core/ops/conv.ts: NHWC activations, conv2d
// weight [kh,kw,Cin,Cout], convTranspose2d weight [kh,kw,Cout,Cin].

export type F64 = Float64Array;

export interface ConvArgs {
  stride: [number, number];
  padding: [number, number];
  outputPadding?: [number, number];
}

/** x [N,H,W,Ci], w [kh,kw,Ci,Co] → y [N,OH,OW,Co] and its VJP for gy. */
export function conv2d(
  x: F64,
  [N, H, W, Ci]: number[],
  w: F64,
  [kh, kw, , Co]: number[],
  bias: F64 | null,
  { stride: [sh, sw], padding: [ph, pw] }: ConvArgs,
) {
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  const xAt = (n: number, y: number, xx: number, c: number) => ((n * H + y) * W + xx) * Ci + c;
  const wAt = (ky: number, kx: number, ci: number, co: number) => ((ky * kw + kx) * Ci + ci) * Co + co;
  const yAt = (n: number, y: number, xx: number, c: number) => ((n * OH + y) * OW + xx) * Co + c;
  // Calls f(xIndex, wIndex, yIndex) for every product term of the convolution.
  const eachTerm = (f: (xi: number, wi: number, yi: number) => void) => {
    for (let n = 0; n < N; n++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              for (let ci = 0; ci < Ci; ci++) {
                for (let co = 0; co < Co; co++) {
                  f(xAt(n, iy, ix, ci), wAt(ky, kx, ci, co), yAt(n, oy, ox, co));
                }
              }
            }
          }
        }
      }
    }
  };
  const out = new Float64Array(N * OH * OW * Co);
  eachTerm((xi, wi, yi) => (out[yi] += x[xi] * w[wi]));
  if (bias) { for (let i = 0; i < out.length; i++) out[i] += bias[i % Co]; }
  const vjp = (gy: F64) => {
    const gx = new Float64Array(x.length), gw = new Float64Array(w.length), gb = new Float64Array(Co);
    eachTerm((xi, wi, yi) => {
      gx[xi] += gy[yi] * w[wi];
      gw[wi] += gy[yi] * x[xi];
    });
    for (let i = 0; i < gy.length; i++) gb[i % Co] += gy[i];
    return bias ? [gx, gw, gb] : [gx, gw];
  };
  return { out, shape: [N, OH, OW, Co], vjp };
}

/** x [N,H,W,Ci], w [kh,kw,Co,Ci] → y [N,OH,OW,Co], OH = (H−1)·s − 2p + kh + op; as a scatter. */
export function convTranspose2d(
  x: F64,
  [N, H, W, Ci]: number[],
  w: F64,
  [kh, kw, Co]: number[],
  bias: F64 | null,
  { stride: [sh, sw], padding: [ph, pw], outputPadding: [oph, opw] = [0, 0] }: ConvArgs,
) {
  const OH = (H - 1) * sh - 2 * ph + kh + oph;
  const OW = (W - 1) * sw - 2 * pw + kw + opw;
  const xAt = (n: number, y: number, xx: number, c: number) => ((n * H + y) * W + xx) * Ci + c;
  const wAt = (ky: number, kx: number, co: number, ci: number) => ((ky * kw + kx) * Co + co) * Ci + ci;
  const yAt = (n: number, y: number, xx: number, c: number) => ((n * OH + y) * OW + xx) * Co + c;
  const eachTerm = (f: (xi: number, wi: number, yi: number) => void) => {
    for (let n = 0; n < N; n++) {
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const oy = iy * sh - ph + ky, ox = ix * sw - pw + kx;
              if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
              for (let ci = 0; ci < Ci; ci++) {
                for (let co = 0; co < Co; co++) {
                  f(xAt(n, iy, ix, ci), wAt(ky, kx, co, ci), yAt(n, oy, ox, co));
                }
              }
            }
          }
        }
      }
    }
  };
  const out = new Float64Array(N * OH * OW * Co);
  eachTerm((xi, wi, yi) => (out[yi] += x[xi] * w[wi]));
  if (bias) { for (let i = 0; i < out.length; i++) out[i] += bias[i % Co]; }
  const vjp = (gy: F64) => {
    const gx = new Float64Array(x.length), gw = new Float64Array(w.length), gb = new Float64Array(Co);
    eachTerm((xi, wi, yi) => {
      gx[xi] += gy[yi] * w[wi];
      gw[wi] += gy[yi] * x[xi];
    });
    for (let i = 0; i < gy.length; i++) gb[i % Co] += gy[i];
    return bias ? [gx, gw, gb] : [gx, gw];
  };
  return { out, shape: [N, OH, OW, Co], vjp };
}

/**
 * Batch norm of x [R, C] (channels last). Training: batch mean and biased variance, and the running
 * statistics after PyTorch's update; eval: the given running statistics. VJP for x, γ, β.
 */
export function batchNorm(
  x: F64,
  C: number,
  gamma: F64,
  beta: F64,
  opts: { training: boolean; runningMean: F64; runningVar: F64; momentum?: number; eps?: number },
) {
  const R = x.length / C, eps = opts.eps ?? 1e-5, m = opts.momentum ?? 0.1;
  const mean = new Float64Array(C), variance = new Float64Array(C);
  if (opts.training) {
    for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / R;
    for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / R;
  } else {
    mean.set(opts.runningMean);
    variance.set(opts.runningVar);
  }
  const rstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const xhat = x.map((v, i) => (v - mean[i % C]) * rstd[i % C]);
  const out = xhat.map((v, i) => gamma[i % C] * v + beta[i % C]);
  const runningMean = opts.training
    ? opts.runningMean.map((r, c) => (1 - m) * r + m * mean[c])
    : opts.runningMean;
  const runningVar = opts.training
    ? opts.runningVar.map((r, c) => (1 - m) * r + m * variance[c] * R / (R - 1))
    : opts.runningVar;
  const vjp = (gy: F64) => {
    const gb = new Float64Array(C), gg = new Float64Array(C);
    for (let i = 0; i < x.length; i++) {
      gb[i % C] += gy[i];
      gg[i % C] += gy[i] * xhat[i];
    }
    const gx = x.map((_, i) => {
      const c = i % C;
      const g = gamma[c] * rstd[c];
      return opts.training ? g * (gy[i] - gb[c] / R - xhat[i] * gg[c] / R) : g * gy[i];
    });
    return [gx, gg, gb];
  };
  return { out, runningMean, runningVar, vjp };
}
