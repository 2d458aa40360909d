// conv2d input gradient when the image has one channel (Cin = 1) and Cout is a multiple of 4:
// dx[n, iy, ix] = Σ_{ky,kx} Σ_co dy[n, oy, ox, co] · w[ky, kx, 0, co] where oy·s − pad + ky = iy.
// The general kernels tile over Cin and would leave a one-channel tile nearly idle; here each
// invocation computes 4 pixels of one stride phase (one vec4 accumulator, a lane per pixel) and reads
// Cout as vec4, one weight vector per tap shared by the 4 pixels. Phases as in conv2d_grad_input.wgsl:
// only the taps a stride leaves non-zero are visited.
// Used by: core/ops/conv.ts — on CPU adapters, conv2d's input gradient of a one-channel image (the
// discriminator's first layer during latent mapping) and convTranspose2d forward to one channel (the
// generator's last layer, with bias).
// Constants: WG (invocations per workgroup).
// Bindings: 0 uniform Params (conv2d geometry: in_* is dx's shape, out_* is dy's); 1 dy [N,OH,OW,Cout/4]
// vec4 (read); 2 w [kh,kw,1,Cout/4] vec4 (read); 3 bias [1] (read; ignored unless has_bias);
// 4 dx [N,H,W,1] (write).
// Includes: conv2d_phase.wgsl (the stride phases, their pixels; through it conv2d_geometry.wgsl).
// Layout: invocation l of workgroup x handles phase pixels q0 … q0 + 3, q0 = 4·(x·WG + l), in the
// phase's (n, qy, qx) order, iy = py + stride_h·qy; pixels past the end are clamped for loads and not
// written. Each pixel sums over taps in order, then over Cout four channels at a time (dot): the
// order depends on neither the batch nor the neighbouring pixels, so results are batch-independent.
// Dispatch: (ceil(N·ceil(H/sh)·ceil(W/sw) / (4·WG)), 1, sh·sw).

//!include conv2d_phase.wgsl
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let ph = phase(wid.z);
  let q0 = (wid.x * WG + lid.x) * 4u;
  if (q0 >= ph.pixels) { return; }
  let c4 = p.out_c / 4u;

  // Per pixel (a lane each): its dy image row, iy + pad, ix + pad, and its place in dx.
  var row: vec4<u32>;
  var iy_pad: vec4<i32>;
  var ix_pad: vec4<i32>;
  var dst: vec4<u32>;
  for (var i = 0u; i < 4u; i++) {
    let q = phase_pixel(ph, min(q0 + i, ph.pixels - 1u));
    row[i] = q.row;
    iy_pad[i] = q.iy_pad;
    ix_pad[i] = q.ix_pad;
    dst[i] = q.at;
  }

  var acc = vec4<f32>();
  for (var ky = ph.ky0; ky < p.kernel_h; ky += p.stride_h) {
    for (var kx = ph.kx0; kx < p.kernel_w; kx += p.stride_w) {
      let oy = (iy_pad - vec4<i32>(i32(ky))) / vec4<i32>(i32(p.stride_h)); // exact within the phase
      let ox = (ix_pad - vec4<i32>(i32(kx))) / vec4<i32>(i32(p.stride_w));
      let inside = (iy_pad >= vec4<i32>(i32(ky))) & (oy < vec4<i32>(i32(p.out_h))) &
        (ix_pad >= vec4<i32>(i32(kx))) & (ox < vec4<i32>(i32(p.out_w)));
      let base = select(vec4<u32>(0u), ((row + vec4<u32>(oy)) * p.out_w + vec4<u32>(ox)) * c4, inside);
      let w_tap = (ky * p.kernel_w + kx) * c4;
      var tap = vec4<f32>();
      for (var c = 0u; c < c4; c++) {
        let wv = w[w_tap + c];
        tap += vec4<f32>(dot(dy[base.x + c], wv), dot(dy[base.y + c], wv), dot(dy[base.z + c], wv), dot(dy[base.w + c], wv));
      }
      acc += select(vec4<f32>(0.0), tap, inside); // outside dy reads as zero
    }
  }
  if (has_bias()) { acc += vec4<f32>(bias[0]); }
  for (var i = 0u; i < 4u; i++) {
    if (q0 + i < ph.pixels) { dx[dst[i]] = acc[i]; }
  }
}
