// conv2d input gradient, vectorised: conv2d_grad_input.wgsl with dy and w read as vec4 along Cout
// (the GEMM's K), for Cin and Cout multiples of 4. Same phases, same tap skipping, same tiles.
// Used by: core/ops/conv.ts — conv2d's input gradient and convTranspose2d forward, when both
// channel counts are multiples of 4 ("gpu" variant; CPU adapters use conv2d_grad_input_tile32.wgsl).
// Constants: TM (input pixels per invocation), TN (input channels per invocation), WG (invocations
// per workgroup, along M). Registers only, no workgroup memory, no barriers.
// Bindings: 0 uniform Params (conv2d geometry: in_* is dx's shape, out_* is dy's); 1 dy
// [N,OH,OW,Cout/4] vec4 (read); 2 w [kh,kw,Cin,Cout/4] vec4 (read); 3 bias [Cin] (read; ignored
// unless has_bias); 4 dx [N,H,W,Cin] (write). All row-major float32.
// Layout: as conv2d_grad_input.wgsl. Sums run over taps in order, then over Cout in order, four at a
// time: deterministic.
// Dispatch: (ceil(N·ceil(H/sh)·ceil(W/sw) / (TM·WG)), ceil(Cin / TN), sh·sw).

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, has_bias: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;


@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let py = wid.z / p.stride_w;
  let px = wid.z % p.stride_w;
  if (py >= p.in_h || px >= p.in_w) { return; }
  let qh = (p.in_h - py + p.stride_h - 1u) / p.stride_h; // rows of this phase
  let qw = (p.in_w - px + p.stride_w - 1u) / p.stride_w;
  let pixels = p.batch * qh * qw;
  let q0 = wid.x * (TM * WG) + lid.x;
  if (q0 >= pixels) { return; }
  let n0 = wid.y * TN;

  // Per input pixel: its dy image row, iy + pad and ix + pad, and where it goes in dx.
  var img_row: array<u32, TM>;
  var iy_pad: array<i32, TM>;
  var ix_pad: array<i32, TM>;
  var dst: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let q = min(q0 + i * WG, pixels - 1u);
    let qx = q % qw;
    let t = q / qw;
    let qy = t % qh;
    let n = t / qh;
    let iy = py + qy * p.stride_h;
    let ix = px + qx * p.stride_w;
    img_row[i] = n * p.out_h;
    iy_pad[i] = i32(iy + p.pad_h);
    ix_pad[i] = i32(ix + p.pad_w);
    dst[i] = ((n * p.in_h + iy) * p.in_w + ix) * p.in_c;
  }
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j, p.in_c - 1u); }

  var acc: array<f32, TM * TN>;
  let out_c4 = p.out_c / 4u;
  var off: array<u32, TM>;
  var inside: array<bool, TM>;
  // The first tap of this phase: ky ≡ py + pad (mod stride).
  let ky0 = (py + p.pad_h) % p.stride_h;
  let kx0 = (px + p.pad_w) % p.stride_w;
  for (var ky = ky0; ky < p.kernel_h; ky += p.stride_h) {
    for (var kx = kx0; kx < p.kernel_w; kx += p.stride_w) {
      for (var i = 0u; i < TM; i++) {
        let oy = (iy_pad[i] - i32(ky)) / i32(p.stride_h); // exact: the phase makes it divisible
        let ox = (ix_pad[i] - i32(kx)) / i32(p.stride_w);
        let ok = iy_pad[i] >= i32(ky) && oy < i32(p.out_h) && ix_pad[i] >= i32(kx) && ox < i32(p.out_w);
        off[i] = select(0u, ((img_row[i] + u32(oy)) * p.out_w + u32(ox)) * out_c4, ok);
        inside[i] = ok;
      }
      let w_tap = (ky * p.kernel_w + kx) * p.in_c;
      for (var co4 = 0u; co4 < out_c4; co4++) {
        var b: array<vec4<f32>, TN>;
        for (var j = 0u; j < TN; j++) { b[j] = w[(w_tap + col[j]) * out_c4 + co4]; }
        for (var i = 0u; i < TM; i++) {
          let a = select(vec4<f32>(0.0), dy[off[i] + co4], inside[i]); // outside dy reads as zero
          for (var j = 0u; j < TN; j++) { acc[i * TN + j] += dot(a, b[j]); }
        }
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    if (q0 + i * WG >= pixels) { break; }
    for (var j = 0u; j < TN; j++) {
      let ci = n0 + j;
      if (ci >= p.in_c) { break; }
      var v = acc[i * TN + j];
      if (p.has_bias != 0u) { v += bias[ci]; }
      dx[dst[i] + ci] = v;
    }
  }
}
