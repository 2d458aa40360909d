// conv2d weight gradient as a GEMM with a deterministic split-K:
// dw[ky, kx, ci, co] = Σ_m x[n, oy·sh − ph + ky, ox·sw − pw + kx, ci] · dy[m, co] over the output
// pixels m = (n, oy, ox). Rows r = (ky, kx, ci) (kh·kw·Cin of them), columns co, and K = N·OH·OW
// pixels split into fixed chunks of `chunk` pixels (workgroup z); each chunk writes its own partial
// sum, and conv2d_sum_partials.wgsl adds the partials in chunk order. No atomics: bit-reproducible.
// Used by: core/ops/conv.ts — conv2d's weight gradient, and convTranspose2d's (x and dy swapped); on
// CPU adapters only when a channel count is not a multiple of 4 (else conv2d_grad_weight_tile32.wgsl).
// Constants: TM (rows per invocation), TN (columns per invocation, multiple of 4), WG (invocations
// per workgroup, along rows). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params (conv2d geometry + chunk); 1 x [N,H,W,Cin] (read); 2 dy [N,OH,OW,Cout]
// (read); 3 partial [chunks, kh·kw·Cin, Cout] (write; the result itself when chunks = 1).
// Includes: conv2d_geometry.wgsl (Params, each output pixel's window and taps).
// Layout of a workgroup's tile: TM·WG rows × TN columns; row i of invocation l is r0 + i·WG + l.
// Every invocation of a workgroup walks the same pixels and columns, so dy reads are uniform.
// Dispatch: (ceil(kh·kw·Cin / (TM·WG)), ceil(Cout / TN), chunks).

//!include conv2d_geometry.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

const TN4: u32 = TN / 4u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let rows = p.kernel_h * p.kernel_w * p.in_c;
  let r0 = wid.x * (TM * WG) + lid.x;
  if (r0 >= rows) { return; }
  let n0 = wid.y * TN;
  let m_begin = wid.z * chunk();
  let m_end = min(m_begin + chunk(), out_pixels());

  // Per row: its tap (ky, kx) and its input channel.
  var ky: array<u32, TM>;
  var kx: array<u32, TM>;
  var ci: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let r = min(r0 + i * WG, rows - 1u);
    ci[i] = r % p.in_c;
    ky[i] = (r / p.in_c) / p.kernel_w;
    kx[i] = (r / p.in_c) % p.kernel_w;
  }
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j, p.out_c - 1u); }

  var acc: array<vec4<f32>, TM * TN4>;
  for (var m = m_begin; m < m_end; m++) {
    let win = window(m);
    var b: array<vec4<f32>, TN4>;
    let dy_row = m * p.out_c;
    for (var j = 0u; j < TN4; j++) {
      b[j] = vec4<f32>(dy[dy_row + col[4u * j]], dy[dy_row + col[4u * j + 1u]],
                       dy[dy_row + col[4u * j + 2u]], dy[dy_row + col[4u * j + 3u]]);
    }
    for (var i = 0u; i < TM; i++) {
      let tap = window_tap(win, ky[i], kx[i], p.in_c);
      let a = select(0.0, x[tap.at + ci[i]], tap.inside); // padding reads as zero
      for (var j = 0u; j < TN4; j++) { acc[i * TN4 + j] = fma(vec4<f32>(a), b[j], acc[i * TN4 + j]); }
    }
  }

  let base = wid.z * rows;
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i * WG;
    if (r >= rows) { break; }
    for (var j = 0u; j < TN; j++) {
      let co = n0 + j;
      if (co >= p.out_c) { break; }
      partial[(base + r) * p.out_c + co] = acc[i * TN4 + j / 4u][j % 4u];
    }
  }
}
