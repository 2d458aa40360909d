// Shared WGSL, no dispatch of its own: the stride phases of the conv2d input gradient, included (see
// core/kernel.ts) by conv2d_grad_input_looped.wgsl (so by conv2d_grad_input.wgsl and
// conv2d_grad_input_vec4.wgsl); it includes the geometry.
// Only taps with ky ≡ iy + pad (mod stride) reach input row iy, so the input pixels split into
// stride_h × stride_w phases (one per workgroup z); within a phase every pixel has the same taps
// ky = ky0, ky0 + sh, … and oy = (iy + pad − ky) / sh exactly.
// Functions: integer index math only; no floating-point operations.

//!include conv2d_geometry.wgsl

// Phase (py, px) = (z / sw, z % sw): input pixels iy = py + sh·qy, ix = px + sw·qx; qh × qw of them
// per image, `pixels` in all (none when the image is smaller than the stride), in (n, qy, qx) order;
// its first tap (ky0, kx0), ky0 ≡ py + pad (mod sh).
struct Phase { py: u32, px: u32, qh: u32, qw: u32, pixels: u32, ky0: u32, kx0: u32 }

fn phase(z: u32) -> Phase {
  let py = z / p.stride_w;
  let px = z % p.stride_w;
  if (py >= p.in_h || px >= p.in_w) { return Phase(py, px, 0u, 0u, 0u, 0u, 0u); }
  let qh = (p.in_h - py + p.stride_h - 1u) / p.stride_h;
  let qw = (p.in_w - px + p.stride_w - 1u) / p.stride_w;
  return Phase(py, px, qh, qw, p.batch * qh * qw, (py + p.pad_h) % p.stride_h, (px + p.pad_w) % p.stride_w);
}

// Pixel q of a phase: its image's first dy row n·OH, iy + pad and ix + pad, and its pixel index in dx.
struct PhasePixel { row: u32, iy_pad: i32, ix_pad: i32, at: u32 }

fn phase_pixel(ph: Phase, q: u32) -> PhasePixel {
  let qx = q % ph.qw;
  let t = q / ph.qw;
  let qy = t % ph.qh;
  let n = t / ph.qh;
  let iy = ph.py + qy * p.stride_h;
  let ix = ph.px + qx * p.stride_w;
  return PhasePixel(n * p.out_h, i32(iy + p.pad_h), i32(ix + p.pad_w), (n * p.in_h + iy) * p.in_w + ix);
}

// Tap (ky, kx) of a phase pixel: dy pixel (oy, ox) = ((iy + pad − ky) / sh, (ix + pad − kx) / sw),
// exact within the phase; outside dy it reads as zero.
fn phase_tap(q: PhasePixel, ky: u32, kx: u32, c: u32) -> Tap {
  let oy = (q.iy_pad - i32(ky)) / i32(p.stride_h);
  let ox = (q.ix_pad - i32(kx)) / i32(p.stride_w);
  let ok = q.iy_pad >= i32(ky) && oy < i32(p.out_h) && q.ix_pad >= i32(kx) && ox < i32(p.out_w);
  return Tap(select(0u, ((q.row + u32(oy)) * p.out_w + u32(ox)) * c, ok), ok);
}
