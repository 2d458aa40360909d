// Shared WGSL, no dispatch of its own: the conv2d geometry of every hand-written conv kernel,
// included (see core/kernel.ts) by conv2d_im2col_c1.wgsl, conv2d_col2im_c1.wgsl,
// conv2d_grad_weight.wgsl, conv2d_grad_weight_c1.wgsl, conv2d_phase.wgsl and conv2d_tile.wgsl (so by
// the looped scalar and vec4 kernels too). The generated *_tile32 and *_tile20 kernels write the same
// Params out.
// Binding 0: the uniform Params, filled by core/ops/conv.ts (geometryParams). in_* is the shape of the
// conv2d's input (x, or dx in the input gradient), out_* that of its output (y, or dy); `last` is
// has_bias (forward and input gradient) or chunk (weight gradient: output pixels per split-K chunk);
// act and act_alpha are the activation of an output stage that applies one (activation.wgsl; only
// conv2d_col2im_c1.wgsl does among these), 0 elsewhere.
// Functions: integer index math only (pixel windows, taps, bounds); no floating-point operations.

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, last: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, act: u32, act_alpha: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

fn has_bias() -> bool { return p.last != 0u; }
fn chunk() -> u32 { return p.last; }

// N·OH·OW: the output pixels m = (n, oy, ox), the rows of the forward GEMM.
fn out_pixels() -> u32 { return p.batch * p.out_h * p.out_w; }

// Output pixel m's window: its image's first input row n·H and the window's top-left input position
// (oy·sh − ph, ox·sw − pw).
struct Window { row: u32, iy: i32, ix: i32 }

fn window(m: u32) -> Window {
  let ox = m % p.out_w;
  let t = m / p.out_w;
  let oy = t % p.out_h;
  return Window((t / p.out_h) * p.in_h, i32(oy * p.stride_h) - i32(p.pad_h), i32(ox * p.stride_w) - i32(p.pad_w));
}

// One tap of a pixel: where the pixel it reads starts, in units of `c` values per pixel (0 when it
// lies outside the image, which then reads as zero), and whether it lies inside.
struct Tap { at: u32, inside: bool }

// Tap (ky, kx) of a window: input pixel (iy + ky, ix + kx).
fn window_tap(win: Window, ky: u32, kx: u32, c: u32) -> Tap {
  let iy = win.iy + i32(ky);
  let ix = win.ix + i32(kx);
  let ok = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
  return Tap(select(0u, ((win.row + u32(iy)) * p.in_w + u32(ix)) * c, ok), ok);
}
