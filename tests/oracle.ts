// Float64 reference implementations of the runtime's ops and their vector-Jacobian products.
// Deliberately naive: index arithmetic spelled out, no shared code with the GPU kernels.

export type F64 = Float64Array;

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] and [${b}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Flat index into `inShape` of each flat index of `outShape` under broadcasting. */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[]): Int32Array {
  const n = size(outShape);
  const idx = new Int32Array(n);
  const r = outShape.length, off = r - inShape.length;
  for (let i = 0; i < n; i++) {
    let rest = i, j = 0, stride = 1;
    for (let d = r - 1; d >= 0; d--) {
      const c = rest % outShape[d];
      rest = Math.floor(rest / outShape[d]);
      if (d >= off) {
        const sz = inShape[d - off];
        if (sz !== 1) j += c * stride;
        stride *= sz;
      }
    }
    idx[i] = j;
  }
  return idx;
}

/** Sums `g` (of `outShape`) back to `inShape`. */
export function sumTo(g: F64, outShape: readonly number[], inShape: readonly number[]): F64 {
  const idx = broadcastIndex(outShape, inShape);
  const out = new Float64Array(size(inShape));
  for (let i = 0; i < g.length; i++) out[idx[i]] += g[i];
  return out;
}

export function binary(
  f: (x: number, y: number) => number,
  a: F64,
  as: readonly number[],
  b: F64,
  bs: readonly number[],
): { out: F64; shape: number[] } {
  const shape = broadcastShape(as, bs);
  const ia = broadcastIndex(shape, as), ib = broadcastIndex(shape, bs);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(a[ia[i]], b[ib[i]]);
  return { out, shape };
}

/** VJP of a broadcast binary op given ∂f/∂x and ∂f/∂y. */
export function binaryVjp(
  dfx: (x: number, y: number) => number,
  dfy: (x: number, y: number) => number,
  a: F64,
  as: readonly number[],
  b: F64,
  bs: readonly number[],
  gy: F64,
): [F64, F64] {
  const shape = broadcastShape(as, bs);
  const ia = broadcastIndex(shape, as), ib = broadcastIndex(shape, bs);
  const ga = new Float64Array(size(as)), gb = new Float64Array(size(bs));
  for (let i = 0; i < gy.length; i++) {
    ga[ia[i]] += gy[i] * dfx(a[ia[i]], b[ib[i]]);
    gb[ib[i]] += gy[i] * dfy(a[ia[i]], b[ib[i]]);
  }
  return [ga, gb];
}

/** Σ over `axes` (sorted, unique); the result has the kept dimensions. */
export function reduceSum(
  x: F64,
  shape: readonly number[],
  axes: readonly number[],
): { out: F64; shape: number[] } {
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = sumTo(x, shape, keptShape);
  return { out, shape: shape.filter((_, i) => !axes.includes(i)) };
}

export function matmul(a: F64, b: F64, M: number, K: number, N: number): F64 {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k] * b[k * N + n];
      c[m * N + n] = s;
    }
  }
  return c;
}

export function transpose(x: F64, R: number, C: number): F64 {
  const y = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y[c * R + r] = x[r * C + c];
  return y;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
