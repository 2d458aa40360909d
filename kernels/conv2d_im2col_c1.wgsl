// The columns of a one-channel conv2d (im2col): cols[m, t] = x[n, oy·sh − ph + ky, ox·sw − pw + kx]
// for output pixel m = (n, oy, ox) and tap t = ky·kw + kx, zero in the padding and for the taps
// t ≥ kh·kw that round the row up to a multiple of 4. A one-channel layer then runs as a 1×1 conv
// with kh·kw (rounded up) input channels, on the GEMM kernels that read channels as vec4.
// Used by: core/ops/conv.ts — on CPU adapters, conv2d forward and weight gradient from a one-channel
// image (the discriminator's first layer), convTranspose2d's input and weight gradients to one channel
// (the generator's last layer).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params (conv2d geometry); 1 x [N,H,W,1] (read); 2 cols [N·OH·OW, T/4] vec4
// (write), T = kh·kw rounded up to a multiple of 4.
// Includes: conv2d_geometry.wgsl (Params, windows and taps).
// Layout: invocation (x, y, z) of the grid is output pixel (n = z, oy = y, ox = x) and writes its T/4
// vec4s of taps in (ky, kx) order. Copies only.
// Dispatch: (ceil(OW / WG), OH, N).

//!include conv2d_geometry.wgsl
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= p.out_w) { return; }
  let m = (gid.z * p.out_h + gid.y) * p.out_w + gid.x;
  let win = Window(gid.z * p.in_h, i32(gid.y * p.stride_h) - i32(p.pad_h), i32(gid.x * p.stride_w) - i32(p.pad_w));
  let groups = (p.kernel_h * p.kernel_w + 3u) / 4u;
  var v = vec4<f32>();
  var t = 0u;
  for (var ky = 0u; ky < p.kernel_h; ky++) {
    for (var kx = 0u; kx < p.kernel_w; kx++) {
      let tap = window_tap(win, ky, kx, 1u);
      v[t % 4u] = select(0.0, x[tap.at], tap.inside);
      t++;
      if (t % 4u == 0u) {
        cols[m * groups + t / 4u - 1u] = v;
        v = vec4<f32>();
      }
    }
  }
  if (t % 4u != 0u) { cols[m * groups + t / 4u] = v; } // the last group, rounded up with zeros
}
