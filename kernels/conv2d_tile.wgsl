// Shared WGSL, no dispatch of its own: the register tile of the looped conv kernels (scalar and
// vec4), included (see core/kernel.ts) by conv2d_forward_looped.wgsl and
// conv2d_grad_input_looped.wgsl. Needs the constants TM (pixels per invocation), TN (channels per
// invocation, a multiple of 4) and WG (invocations per workgroup); includes the geometry.
// Bindings: 3 bias [channels] (read; ignored unless has_bias); 4 out [pixels, channels] (write).

//!include conv2d_geometry.wgsl
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const TN4: u32 = TN / 4u;

// An invocation's sums: pixel i, channels 4·j … 4·j + 3 in acc[i·TN4 + j].
alias Tile = array<vec4<f32>, TM * TN4>;

// Writes a tile: pixel i is r0 + i·WG, written while below `rows`, at out pixel at[i]; column j is
// channel n0 + j, written while below `channels`. Each value is its sum, plus bias[n0 + j] when there
// is a bias.
fn write_tile(acc: ptr<function, Tile>, at: ptr<function, array<u32, TM>>, r0: u32, rows: u32, n0: u32,
              channels: u32) {
  for (var i = 0u; i < TM; i++) {
    if (r0 + i * WG >= rows) { break; }
    for (var j = 0u; j < TN; j++) {
      if (n0 + j >= channels) { break; }
      var v = (*acc)[i * TN4 + j / 4u][j % 4u];
      if (has_bias()) { v += bias[n0 + j]; }
      out[(*at)[i] * channels + n0 + j] = v;
    }
  }
}
