// Shared WGSL, no dispatch of its own: the batch-norm passes over the activations x, dy [R, C]
// (channels fastest), written over V, one load of LANES channels (a channel group g, channels
// g·LANES … g·LANES + LANES − 1); included by batchnorm_rows_vec4.wgsl (V = vec4<f32>, LANES 4) and
// batchnorm_rows_f32.wgsl (V = f32, LANES 1), which are the kernels. Each invocation walks many rows
// of one channel group, so that the per-channel values are loaded once per invocation and a load
// moves LANES values. Every sum runs in row order within a fixed chunk of rows: no atomics, the
// same result each run.
// Entry points:
//   stats_partial  per chunk k, Welford's mean and M2 = Σ (x − chunk mean)² per channel →
//                  out = partial [chunks, 2, C] (merged by batchnorm_finish.wgsl);
//   grad_partial   per chunk k, Σ dy and Σ dy·(x − mean) per channel, mean = coef row 0 →
//                  out = partial [chunks, 2, C] (summed by batchnorm_grad_finish.wgsl);
//   apply          MODE 0 (output): out = act((x − mean)·s + t), with coef rows (mean, s = γ·rstd, ·,
//                  t = β);
//                  MODE 1 (input gradient, training): out = a·dy′ + b·(x − mean) + c, with coef rows
//                  (mean, a, b, c) from batchnorm_grad_finish.wgsl;
//                  MODE 2 (input gradient, eval): out = a·dy′, a = coef row 1 = γ·rstd.
// Batch norm and its activation as one op: where the constant ACT is ReLU or LeakyReLU (activation.wgsl's
// codes; Params act_alpha the slope), the output is activated as it is written, and the backward passes take dy′ = dy·act′ from
// the activated output y (y > 0 exactly where the normalised value is): the formulas and so the bits
// of the elementwise op and its gradient (unary.wgsl, unary_grad.wgsl). With ACT 0, dy′ = dy.
// Constants: WG (workgroup size); MODE (apply only); ACT (apply and grad_partial).
// Bindings: 0 uniform Params (batchnorm_params.wgsl); 1 x [R, C] (read; not by apply MODE 2); 2 dy
// [R, C] (read; grad_partial, apply MODE 1, 2); 3 coef [4, C] (read; not by stats_partial); 4 out
// (write): partial [chunks, 2, C] or [R, C]; 5 y [R, C], the activated output (read by grad_partial
// and apply MODE 1, 2 where ACT is not 0).
// Dispatch: invocation e = (k or row block)·groups + g, one per chunk (partials) or per block of
// block_rows rows (apply) and channel group; ceil(invocations / WG) workgroups over x, spilling into y
// (grid1d in core/kernel.ts).
// Includes: batchnorm_params.wgsl (binding 0), activation.wgsl (the codes).

//!include batchnorm_params.wgsl
//!include activation.wgsl
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> dy: array<V>;
@group(0) @binding(3) var<storage, read> coef: array<V>;
@group(0) @binding(4) var<storage, read_write> out: array<V>;
@group(0) @binding(5) var<storage, read> y: array<V>;

// The activation of the output stage: ReLU or LeakyReLU as activation.wgsl computes them, else v.
fn act(v: V) -> V {
  if (ACT == ACT_RELU) { return max(v, V(0.0)); }
  if (ACT == ACT_LEAKY_RELU) { return select(p.act_alpha * v, v, v > V(0.0)); }
  return v;
}

// dy′ = dy·act′ at element i, from the activated output (unary_grad.wgsl's formulas); dy without one.
fn dy_at(i: u32) -> V {
  let g = dy[i];
  if (ACT == ACT_RELU) { return select(V(0.0), g, y[i] > V(0.0)); }
  if (ACT == ACT_LEAKY_RELU) { return select(p.act_alpha * g, g, y[i] > V(0.0)); }
  return g;
}

fn invocation(gid: vec3<u32>, nw: vec3<u32>) -> u32 {
  return gid.x + gid.y * nw.x * WG;
}

// The chunk of rows and the channel group of a partial-sum invocation e = k·groups + g.
struct Chunk { g: u32, k: u32, r0: u32, r1: u32 }

fn chunk_of(e: u32) -> Chunk {
  let k = e / p.groups;
  let r0 = k * p.chunk_rows;
  return Chunk(e % p.groups, k, r0, min(r0 + p.chunk_rows, p.rows));
}

// Writes a chunk's two partial sums (rows 2k and 2k + 1 of partial [chunks, 2, C]).
fn write_partial(c: Chunk, a: V, b: V) {
  out[2u * c.k * p.groups + c.g] = a;
  out[(2u * c.k + 1u) * p.groups + c.g] = b;
}

@compute @workgroup_size(WG)
fn stats_partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = invocation(gid, nw);
  if (e >= p.chunks * p.groups) { return; }
  let c = chunk_of(e);
  // Welford: one pass over the chunk, stable where the mean is large against the spread.
  var mean = V(0.0);
  var m2 = V(0.0);
  for (var r = c.r0; r < c.r1; r++) {
    let v = x[r * p.groups + c.g];
    let d = v - mean;
    mean += d * (1.0 / f32(r - c.r0 + 1u));
    m2 += d * (v - mean);
  }
  write_partial(c, mean, m2);
}

@compute @workgroup_size(WG)
fn grad_partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = invocation(gid, nw);
  if (e >= p.chunks * p.groups) { return; }
  let c = chunk_of(e);
  let mean = coef[c.g];
  var sum_dy = V(0.0);
  var sum_dy_xc = V(0.0);
  for (var r = c.r0; r < c.r1; r++) {
    let i = r * p.groups + c.g;
    let gy = dy_at(i);
    sum_dy += gy;
    sum_dy_xc += gy * (x[i] - mean);
  }
  write_partial(c, sum_dy, sum_dy_xc);
}

@compute @workgroup_size(WG)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = invocation(gid, nw);
  let blocks = (p.rows + p.block_rows - 1u) / p.block_rows;
  if (e >= blocks * p.groups) { return; }
  let g = e % p.groups;
  let r0 = (e / p.groups) * p.block_rows;
  let r1 = min(r0 + p.block_rows, p.rows);
  let mean = coef[g];
  let a = coef[p.groups + g];
  if (MODE == 0u) {
    let t = coef[3u * p.groups + g];
    for (var r = r0; r < r1; r++) {
      let i = r * p.groups + g;
      out[i] = act((x[i] - mean) * a + t);
    }
  } else if (MODE == 1u) {
    let b = coef[2u * p.groups + g];
    let c = coef[3u * p.groups + g];
    for (var r = r0; r < r1; r++) {
      let i = r * p.groups + g;
      out[i] = a * dy_at(i) + b * (x[i] - mean) + c;
    }
  } else {
    for (var r = r0; r < r1; r++) {
      let i = r * p.groups + g;
      out[i] = a * dy_at(i);
    }
  }
}
