// A one-channel image from conv2d columns (col2im, the adjoint of conv2d_im2col_c1.wgsl):
// dx[n, iy, ix] = Σ_{ky,kx} cols[(n, oy, ox), ky·kw + kx] over the taps with oy·sh − ph + ky = iy and
// ox·sw − pw + kx = ix inside the output (+ bias[0]). The columns come from a 1×1 GEMM (dy · wᵀ per
// output pixel); this kernel adds each input pixel's taps.
// Used by: core/ops/conv.ts — on CPU adapters, conv2d's input gradient of a one-channel image (the
// discriminator's first layer, during training and latent mapping) and convTranspose2d forward to one
// channel (the generator's last layer, with bias).
// Constants: WG (workgroup size).
// Bindings: 0 uniform Params (conv2d geometry: in_* is dx's shape, out_* is dy's; `last` is has_bias);
// 1 cols [N·OH·OW, T] (read), T = kh·kw rounded up to a multiple of 4; 2 bias [1] (read; ignored unless
// has_bias); 3 dx [N,H,W,1] (write).
// Includes: conv2d_geometry.wgsl (Params), activation.wgsl (the output stage: bias, then the
// activation act, none when 0 — convTranspose2d forward followed by tanh).
// Layout: invocation (x, y, z) of the grid is input pixel (n = z, iy = y, ix = x); the taps that reach
// it are those with ky ≡ iy + ph (mod sh) and kx ≡ ix + pw (mod sw), visited in (ky, kx) order with
// the output position stepping back by one per tap: two divisions per axis, none per tap. The bias is
// added last: the order depends on neither the batch nor the neighbouring pixels, so results are
// batch-independent and bit-reproducible.
// Dispatch: (ceil(W / WG), H, N).

//!include conv2d_geometry.wgsl
//!include activation.wgsl
@group(0) @binding(1) var<storage, read> cols: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ix = gid.x;
  let iy = gid.y;
  let n = gid.z;
  if (ix >= p.in_w) { return; }
  let taps = (p.kernel_h * p.kernel_w + 3u) / 4u * 4u;
  // The first tap of each axis that reaches this pixel, and the output position it comes from.
  let ty = iy + p.pad_h;
  let tx = ix + p.pad_w;
  let ky0 = ty % p.stride_h;
  let kx0 = tx % p.stride_w;
  let oy0 = i32(ty / p.stride_h);
  let ox0 = i32(tx / p.stride_w);
  var s = 0.0;
  var oy = oy0;
  for (var ky = ky0; ky < p.kernel_h; ky += p.stride_h) {
    if (oy >= 0 && oy < i32(p.out_h)) {
      let row = (n * p.out_h + u32(oy)) * p.out_w;
      var ox = ox0;
      for (var kx = kx0; kx < p.kernel_w; kx += p.stride_w) {
        if (ox >= 0 && ox < i32(p.out_w)) { s += cols[(row + u32(ox)) * taps + ky * p.kernel_w + kx]; }
        ox -= 1;
      }
    }
    oy -= 1;
  }
  if (has_bias()) { s += bias[0]; }
  dx[(n * p.in_h + iy) * p.in_w + ix] = activate(p.act, p.act_alpha, s);
}
