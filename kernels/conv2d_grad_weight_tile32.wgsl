// conv2d weight gradient for CPU adapters, a GEMM with a deterministic split-K and a 32 × 32 register
// tile written out statement by statement (see conv2d_forward_tile32.wgsl for why):
// dw[ky, kx, ci, co] = Σ_m x[n, oy·sh − ph + ky, ox·sw − pw + kx, ci] · dy[m, co] over the output
// pixels m = (n, oy, ox). Each invocation computes 8 row blocks (one tap, 4 input channels each:
// 32 rows) × 32 output channels and walks its chunk of pixels four at a time (the four K steps of
// mac). Each chunk (workgroup z) writes its own partial sum; conv2d_sum_partials.wgsl adds them in
// chunk order. No atomics: bit-reproducible.
// Used by: core/ops/conv.ts — the weight gradient of conv2d and convTranspose2d (x and dy swapped),
// "cpu" variant, when Cin and Cout are multiples of 4.
// Constants: WG (invocations per workgroup, along row blocks). Kernel size, stride and padding are
// uniforms. No workgroup memory, no barriers.
// Bindings: 0 uniform Params (conv2d geometry + chunk, a multiple of 4 pixels); 1 x [N,H,W,Cin/4]
// vec4 (read); 2 dy [N,OH,OW,Cout/4] vec4 (read); 3 partial [chunks, kh·kw·Cin, Cout/4] vec4 (write;
// the result itself when chunks = 1).
// Layout: row block r of invocation l is b0 + r·WG + l among the kh·kw·Cin/4 blocks (tap-major);
// column block j is 8·wid.y + j. Every invocation walks the same pixels, so dy reads are uniform.
// Out-of-range blocks are clamped for loads and not written; pixels past the chunk read as zero.
// Dispatch: (ceil(kh·kw·Cin/4 / (8·WG)), ceil(Cout / 32), chunks).

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, chunk: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<vec4<f32>>;

// A block of 4 weight rows: tap offset from the window corner (ky − pad, kx − pad), channels 4·c4….
struct Rows { dy: i32, dx: i32, c4: u32 }

fn rows_of(b: u32, cin4: u32) -> Rows {
  let tap = b / cin4;
  return Rows(i32(tap / p.kernel_w) - i32(p.pad_h), i32(tap % p.kernel_w) - i32(p.pad_w), b % cin4);
}

// An output pixel being walked: its index m, its image's first input row, and its (oy, ox).
struct Pixel { m: u32, row: u32, oy: u32, ox: u32 }

fn pixel(m: u32) -> Pixel {
  let t = m / p.out_w;
  return Pixel(m, (t / p.out_h) * p.in_h, t % p.out_h, m % p.out_w);
}

fn next(q: Pixel) -> Pixel {
  var r = Pixel(q.m + 1u, q.row, q.oy, q.ox + 1u);
  if (r.ox == p.out_w) {
    r.ox = 0u;
    r.oy += 1u;
    if (r.oy == p.out_h) { r.oy = 0u; r.row += p.in_h; }
  }
  return r;
}

// x at a pixel's tap for a block of 4 input channels; zero in the padding and past the chunk.
fn load_x(q: Pixel, end: u32, b: Rows, cin4: u32) -> vec4<f32> {
  let iy = i32(q.oy * p.stride_h) + b.dy;
  let ix = i32(q.ox * p.stride_w) + b.dx;
  let ok = q.m < end && iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
  let at = select(0u, ((q.row + u32(iy)) * p.in_w + u32(ix)) * cin4 + b.c4, ok);
  return select(vec4<f32>(), x[at], ok);
}

// dy of four consecutive pixels for one vec4 of output channels, as the columns of a matrix: the
// four K steps of mac(); pixels past the chunk read as zero.
fn load_dy(q0: Pixel, end: u32, cout4: u32, col4: u32) -> mat4x4<f32> {
  let at = min(q0.m, end - 1u) * cout4 + col4;
  return mat4x4<f32>(select(vec4<f32>(), dy[at], q0.m < end),
                     select(vec4<f32>(), dy[min(q0.m + 1u, end - 1u) * cout4 + col4], q0.m + 1u < end),
                     select(vec4<f32>(), dy[min(q0.m + 2u, end - 1u) * cout4 + col4], q0.m + 2u < end),
                     select(vec4<f32>(), dy[min(q0.m + 3u, end - 1u) * cout4 + col4], q0.m + 3u < end));
}

// acc + Σ_k a[k]·b[k], the four K steps in order (fused multiply-adds).
fn mac(acc: vec4<f32>, a: vec4<f32>, b: mat4x4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(a.w), b[3], fma(vec4<f32>(a.z), b[2], fma(vec4<f32>(a.y), b[1], fma(vec4<f32>(a.x), b[0], acc))));
}

fn store(base: u32, blk: u32, blocks: u32, c: u32, cin4: u32, col4: u32, cout4: u32, v: vec4<f32>) {
  if (blk >= blocks || col4 >= cout4) { return; }
  let row = (blk / cin4) * p.in_c + 4u * (blk % cin4) + c;
  partial[(base + row) * cout4 + col4] = v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let cin4 = p.in_c / 4u;
  let cout4 = p.out_c / 4u;
  let blocks = p.kernel_h * p.kernel_w * cin4;
  let b0 = wid.x * (8u * WG) + lid.x;
  let n4 = wid.y * 8u;
  let pixels = p.batch * p.out_h * p.out_w;
  let m_begin = wid.z * p.chunk;
  let m_end = min(m_begin + p.chunk, pixels);
  // Column blocks, clamped to the last one.
  let col0 = min(n4 + 0u, cout4 - 1u); let col1 = min(n4 + 1u, cout4 - 1u); let col2 = min(n4 + 2u, cout4 - 1u); let col3 = min(n4 + 3u, cout4 - 1u);
  let col4 = min(n4 + 4u, cout4 - 1u); let col5 = min(n4 + 5u, cout4 - 1u); let col6 = min(n4 + 6u, cout4 - 1u); let col7 = min(n4 + 7u, cout4 - 1u);
  // Row blocks, clamped to the last one.
  let r0 = rows_of(min(b0 + 0u * WG, blocks - 1u), cin4); let r1 = rows_of(min(b0 + 1u * WG, blocks - 1u), cin4);
  let r2 = rows_of(min(b0 + 2u * WG, blocks - 1u), cin4); let r3 = rows_of(min(b0 + 3u * WG, blocks - 1u), cin4);
  let r4 = rows_of(min(b0 + 4u * WG, blocks - 1u), cin4); let r5 = rows_of(min(b0 + 5u * WG, blocks - 1u), cin4);
  let r6 = rows_of(min(b0 + 6u * WG, blocks - 1u), cin4); let r7 = rows_of(min(b0 + 7u * WG, blocks - 1u), cin4);
  var s0x_0 = vec4<f32>(); var s0x_1 = vec4<f32>(); var s0x_2 = vec4<f32>(); var s0x_3 = vec4<f32>(); var s0x_4 = vec4<f32>(); var s0x_5 = vec4<f32>(); var s0x_6 = vec4<f32>(); var s0x_7 = vec4<f32>();
  var s0y_0 = vec4<f32>(); var s0y_1 = vec4<f32>(); var s0y_2 = vec4<f32>(); var s0y_3 = vec4<f32>(); var s0y_4 = vec4<f32>(); var s0y_5 = vec4<f32>(); var s0y_6 = vec4<f32>(); var s0y_7 = vec4<f32>();
  var s0z_0 = vec4<f32>(); var s0z_1 = vec4<f32>(); var s0z_2 = vec4<f32>(); var s0z_3 = vec4<f32>(); var s0z_4 = vec4<f32>(); var s0z_5 = vec4<f32>(); var s0z_6 = vec4<f32>(); var s0z_7 = vec4<f32>();
  var s0w_0 = vec4<f32>(); var s0w_1 = vec4<f32>(); var s0w_2 = vec4<f32>(); var s0w_3 = vec4<f32>(); var s0w_4 = vec4<f32>(); var s0w_5 = vec4<f32>(); var s0w_6 = vec4<f32>(); var s0w_7 = vec4<f32>();
  var s1x_0 = vec4<f32>(); var s1x_1 = vec4<f32>(); var s1x_2 = vec4<f32>(); var s1x_3 = vec4<f32>(); var s1x_4 = vec4<f32>(); var s1x_5 = vec4<f32>(); var s1x_6 = vec4<f32>(); var s1x_7 = vec4<f32>();
  var s1y_0 = vec4<f32>(); var s1y_1 = vec4<f32>(); var s1y_2 = vec4<f32>(); var s1y_3 = vec4<f32>(); var s1y_4 = vec4<f32>(); var s1y_5 = vec4<f32>(); var s1y_6 = vec4<f32>(); var s1y_7 = vec4<f32>();
  var s1z_0 = vec4<f32>(); var s1z_1 = vec4<f32>(); var s1z_2 = vec4<f32>(); var s1z_3 = vec4<f32>(); var s1z_4 = vec4<f32>(); var s1z_5 = vec4<f32>(); var s1z_6 = vec4<f32>(); var s1z_7 = vec4<f32>();
  var s1w_0 = vec4<f32>(); var s1w_1 = vec4<f32>(); var s1w_2 = vec4<f32>(); var s1w_3 = vec4<f32>(); var s1w_4 = vec4<f32>(); var s1w_5 = vec4<f32>(); var s1w_6 = vec4<f32>(); var s1w_7 = vec4<f32>();
  var s2x_0 = vec4<f32>(); var s2x_1 = vec4<f32>(); var s2x_2 = vec4<f32>(); var s2x_3 = vec4<f32>(); var s2x_4 = vec4<f32>(); var s2x_5 = vec4<f32>(); var s2x_6 = vec4<f32>(); var s2x_7 = vec4<f32>();
  var s2y_0 = vec4<f32>(); var s2y_1 = vec4<f32>(); var s2y_2 = vec4<f32>(); var s2y_3 = vec4<f32>(); var s2y_4 = vec4<f32>(); var s2y_5 = vec4<f32>(); var s2y_6 = vec4<f32>(); var s2y_7 = vec4<f32>();
  var s2z_0 = vec4<f32>(); var s2z_1 = vec4<f32>(); var s2z_2 = vec4<f32>(); var s2z_3 = vec4<f32>(); var s2z_4 = vec4<f32>(); var s2z_5 = vec4<f32>(); var s2z_6 = vec4<f32>(); var s2z_7 = vec4<f32>();
  var s2w_0 = vec4<f32>(); var s2w_1 = vec4<f32>(); var s2w_2 = vec4<f32>(); var s2w_3 = vec4<f32>(); var s2w_4 = vec4<f32>(); var s2w_5 = vec4<f32>(); var s2w_6 = vec4<f32>(); var s2w_7 = vec4<f32>();
  var s3x_0 = vec4<f32>(); var s3x_1 = vec4<f32>(); var s3x_2 = vec4<f32>(); var s3x_3 = vec4<f32>(); var s3x_4 = vec4<f32>(); var s3x_5 = vec4<f32>(); var s3x_6 = vec4<f32>(); var s3x_7 = vec4<f32>();
  var s3y_0 = vec4<f32>(); var s3y_1 = vec4<f32>(); var s3y_2 = vec4<f32>(); var s3y_3 = vec4<f32>(); var s3y_4 = vec4<f32>(); var s3y_5 = vec4<f32>(); var s3y_6 = vec4<f32>(); var s3y_7 = vec4<f32>();
  var s3z_0 = vec4<f32>(); var s3z_1 = vec4<f32>(); var s3z_2 = vec4<f32>(); var s3z_3 = vec4<f32>(); var s3z_4 = vec4<f32>(); var s3z_5 = vec4<f32>(); var s3z_6 = vec4<f32>(); var s3z_7 = vec4<f32>();
  var s3w_0 = vec4<f32>(); var s3w_1 = vec4<f32>(); var s3w_2 = vec4<f32>(); var s3w_3 = vec4<f32>(); var s3w_4 = vec4<f32>(); var s3w_5 = vec4<f32>(); var s3w_6 = vec4<f32>(); var s3w_7 = vec4<f32>();
  var s4x_0 = vec4<f32>(); var s4x_1 = vec4<f32>(); var s4x_2 = vec4<f32>(); var s4x_3 = vec4<f32>(); var s4x_4 = vec4<f32>(); var s4x_5 = vec4<f32>(); var s4x_6 = vec4<f32>(); var s4x_7 = vec4<f32>();
  var s4y_0 = vec4<f32>(); var s4y_1 = vec4<f32>(); var s4y_2 = vec4<f32>(); var s4y_3 = vec4<f32>(); var s4y_4 = vec4<f32>(); var s4y_5 = vec4<f32>(); var s4y_6 = vec4<f32>(); var s4y_7 = vec4<f32>();
  var s4z_0 = vec4<f32>(); var s4z_1 = vec4<f32>(); var s4z_2 = vec4<f32>(); var s4z_3 = vec4<f32>(); var s4z_4 = vec4<f32>(); var s4z_5 = vec4<f32>(); var s4z_6 = vec4<f32>(); var s4z_7 = vec4<f32>();
  var s4w_0 = vec4<f32>(); var s4w_1 = vec4<f32>(); var s4w_2 = vec4<f32>(); var s4w_3 = vec4<f32>(); var s4w_4 = vec4<f32>(); var s4w_5 = vec4<f32>(); var s4w_6 = vec4<f32>(); var s4w_7 = vec4<f32>();
  var s5x_0 = vec4<f32>(); var s5x_1 = vec4<f32>(); var s5x_2 = vec4<f32>(); var s5x_3 = vec4<f32>(); var s5x_4 = vec4<f32>(); var s5x_5 = vec4<f32>(); var s5x_6 = vec4<f32>(); var s5x_7 = vec4<f32>();
  var s5y_0 = vec4<f32>(); var s5y_1 = vec4<f32>(); var s5y_2 = vec4<f32>(); var s5y_3 = vec4<f32>(); var s5y_4 = vec4<f32>(); var s5y_5 = vec4<f32>(); var s5y_6 = vec4<f32>(); var s5y_7 = vec4<f32>();
  var s5z_0 = vec4<f32>(); var s5z_1 = vec4<f32>(); var s5z_2 = vec4<f32>(); var s5z_3 = vec4<f32>(); var s5z_4 = vec4<f32>(); var s5z_5 = vec4<f32>(); var s5z_6 = vec4<f32>(); var s5z_7 = vec4<f32>();
  var s5w_0 = vec4<f32>(); var s5w_1 = vec4<f32>(); var s5w_2 = vec4<f32>(); var s5w_3 = vec4<f32>(); var s5w_4 = vec4<f32>(); var s5w_5 = vec4<f32>(); var s5w_6 = vec4<f32>(); var s5w_7 = vec4<f32>();
  var s6x_0 = vec4<f32>(); var s6x_1 = vec4<f32>(); var s6x_2 = vec4<f32>(); var s6x_3 = vec4<f32>(); var s6x_4 = vec4<f32>(); var s6x_5 = vec4<f32>(); var s6x_6 = vec4<f32>(); var s6x_7 = vec4<f32>();
  var s6y_0 = vec4<f32>(); var s6y_1 = vec4<f32>(); var s6y_2 = vec4<f32>(); var s6y_3 = vec4<f32>(); var s6y_4 = vec4<f32>(); var s6y_5 = vec4<f32>(); var s6y_6 = vec4<f32>(); var s6y_7 = vec4<f32>();
  var s6z_0 = vec4<f32>(); var s6z_1 = vec4<f32>(); var s6z_2 = vec4<f32>(); var s6z_3 = vec4<f32>(); var s6z_4 = vec4<f32>(); var s6z_5 = vec4<f32>(); var s6z_6 = vec4<f32>(); var s6z_7 = vec4<f32>();
  var s6w_0 = vec4<f32>(); var s6w_1 = vec4<f32>(); var s6w_2 = vec4<f32>(); var s6w_3 = vec4<f32>(); var s6w_4 = vec4<f32>(); var s6w_5 = vec4<f32>(); var s6w_6 = vec4<f32>(); var s6w_7 = vec4<f32>();
  var s7x_0 = vec4<f32>(); var s7x_1 = vec4<f32>(); var s7x_2 = vec4<f32>(); var s7x_3 = vec4<f32>(); var s7x_4 = vec4<f32>(); var s7x_5 = vec4<f32>(); var s7x_6 = vec4<f32>(); var s7x_7 = vec4<f32>();
  var s7y_0 = vec4<f32>(); var s7y_1 = vec4<f32>(); var s7y_2 = vec4<f32>(); var s7y_3 = vec4<f32>(); var s7y_4 = vec4<f32>(); var s7y_5 = vec4<f32>(); var s7y_6 = vec4<f32>(); var s7y_7 = vec4<f32>();
  var s7z_0 = vec4<f32>(); var s7z_1 = vec4<f32>(); var s7z_2 = vec4<f32>(); var s7z_3 = vec4<f32>(); var s7z_4 = vec4<f32>(); var s7z_5 = vec4<f32>(); var s7z_6 = vec4<f32>(); var s7z_7 = vec4<f32>();
  var s7w_0 = vec4<f32>(); var s7w_1 = vec4<f32>(); var s7w_2 = vec4<f32>(); var s7w_3 = vec4<f32>(); var s7w_4 = vec4<f32>(); var s7w_5 = vec4<f32>(); var s7w_6 = vec4<f32>(); var s7w_7 = vec4<f32>();
  var q = pixel(m_begin);
  for (var m = m_begin; m < m_end; m += 4u) {
    let q0 = q;
    let q1 = next(q0);
    let q2 = next(q1);
    let q3 = next(q2);
    q = next(q3);
    let b0 = load_dy(q0, m_end, cout4, col0); let b1 = load_dy(q0, m_end, cout4, col1);
    let b2 = load_dy(q0, m_end, cout4, col2); let b3 = load_dy(q0, m_end, cout4, col3);
    let b4 = load_dy(q0, m_end, cout4, col4); let b5 = load_dy(q0, m_end, cout4, col5);
    let b6 = load_dy(q0, m_end, cout4, col6); let b7 = load_dy(q0, m_end, cout4, col7);
    let x0_0 = load_x(q0, m_end, r0, cin4); let x0_1 = load_x(q1, m_end, r0, cin4);
    let x0_2 = load_x(q2, m_end, r0, cin4); let x0_3 = load_x(q3, m_end, r0, cin4);
    let a0x = vec4<f32>(x0_0.x, x0_1.x, x0_2.x, x0_3.x);
    s0x_0 = mac(s0x_0, a0x, b0); s0x_1 = mac(s0x_1, a0x, b1); s0x_2 = mac(s0x_2, a0x, b2); s0x_3 = mac(s0x_3, a0x, b3);
    s0x_4 = mac(s0x_4, a0x, b4); s0x_5 = mac(s0x_5, a0x, b5); s0x_6 = mac(s0x_6, a0x, b6); s0x_7 = mac(s0x_7, a0x, b7);
    let a0y = vec4<f32>(x0_0.y, x0_1.y, x0_2.y, x0_3.y);
    s0y_0 = mac(s0y_0, a0y, b0); s0y_1 = mac(s0y_1, a0y, b1); s0y_2 = mac(s0y_2, a0y, b2); s0y_3 = mac(s0y_3, a0y, b3);
    s0y_4 = mac(s0y_4, a0y, b4); s0y_5 = mac(s0y_5, a0y, b5); s0y_6 = mac(s0y_6, a0y, b6); s0y_7 = mac(s0y_7, a0y, b7);
    let a0z = vec4<f32>(x0_0.z, x0_1.z, x0_2.z, x0_3.z);
    s0z_0 = mac(s0z_0, a0z, b0); s0z_1 = mac(s0z_1, a0z, b1); s0z_2 = mac(s0z_2, a0z, b2); s0z_3 = mac(s0z_3, a0z, b3);
    s0z_4 = mac(s0z_4, a0z, b4); s0z_5 = mac(s0z_5, a0z, b5); s0z_6 = mac(s0z_6, a0z, b6); s0z_7 = mac(s0z_7, a0z, b7);
    let a0w = vec4<f32>(x0_0.w, x0_1.w, x0_2.w, x0_3.w);
    s0w_0 = mac(s0w_0, a0w, b0); s0w_1 = mac(s0w_1, a0w, b1); s0w_2 = mac(s0w_2, a0w, b2); s0w_3 = mac(s0w_3, a0w, b3);
    s0w_4 = mac(s0w_4, a0w, b4); s0w_5 = mac(s0w_5, a0w, b5); s0w_6 = mac(s0w_6, a0w, b6); s0w_7 = mac(s0w_7, a0w, b7);
    let x1_0 = load_x(q0, m_end, r1, cin4); let x1_1 = load_x(q1, m_end, r1, cin4);
    let x1_2 = load_x(q2, m_end, r1, cin4); let x1_3 = load_x(q3, m_end, r1, cin4);
    let a1x = vec4<f32>(x1_0.x, x1_1.x, x1_2.x, x1_3.x);
    s1x_0 = mac(s1x_0, a1x, b0); s1x_1 = mac(s1x_1, a1x, b1); s1x_2 = mac(s1x_2, a1x, b2); s1x_3 = mac(s1x_3, a1x, b3);
    s1x_4 = mac(s1x_4, a1x, b4); s1x_5 = mac(s1x_5, a1x, b5); s1x_6 = mac(s1x_6, a1x, b6); s1x_7 = mac(s1x_7, a1x, b7);
    let a1y = vec4<f32>(x1_0.y, x1_1.y, x1_2.y, x1_3.y);
    s1y_0 = mac(s1y_0, a1y, b0); s1y_1 = mac(s1y_1, a1y, b1); s1y_2 = mac(s1y_2, a1y, b2); s1y_3 = mac(s1y_3, a1y, b3);
    s1y_4 = mac(s1y_4, a1y, b4); s1y_5 = mac(s1y_5, a1y, b5); s1y_6 = mac(s1y_6, a1y, b6); s1y_7 = mac(s1y_7, a1y, b7);
    let a1z = vec4<f32>(x1_0.z, x1_1.z, x1_2.z, x1_3.z);
    s1z_0 = mac(s1z_0, a1z, b0); s1z_1 = mac(s1z_1, a1z, b1); s1z_2 = mac(s1z_2, a1z, b2); s1z_3 = mac(s1z_3, a1z, b3);
    s1z_4 = mac(s1z_4, a1z, b4); s1z_5 = mac(s1z_5, a1z, b5); s1z_6 = mac(s1z_6, a1z, b6); s1z_7 = mac(s1z_7, a1z, b7);
    let a1w = vec4<f32>(x1_0.w, x1_1.w, x1_2.w, x1_3.w);
    s1w_0 = mac(s1w_0, a1w, b0); s1w_1 = mac(s1w_1, a1w, b1); s1w_2 = mac(s1w_2, a1w, b2); s1w_3 = mac(s1w_3, a1w, b3);
    s1w_4 = mac(s1w_4, a1w, b4); s1w_5 = mac(s1w_5, a1w, b5); s1w_6 = mac(s1w_6, a1w, b6); s1w_7 = mac(s1w_7, a1w, b7);
    let x2_0 = load_x(q0, m_end, r2, cin4); let x2_1 = load_x(q1, m_end, r2, cin4);
    let x2_2 = load_x(q2, m_end, r2, cin4); let x2_3 = load_x(q3, m_end, r2, cin4);
    let a2x = vec4<f32>(x2_0.x, x2_1.x, x2_2.x, x2_3.x);
    s2x_0 = mac(s2x_0, a2x, b0); s2x_1 = mac(s2x_1, a2x, b1); s2x_2 = mac(s2x_2, a2x, b2); s2x_3 = mac(s2x_3, a2x, b3);
    s2x_4 = mac(s2x_4, a2x, b4); s2x_5 = mac(s2x_5, a2x, b5); s2x_6 = mac(s2x_6, a2x, b6); s2x_7 = mac(s2x_7, a2x, b7);
    let a2y = vec4<f32>(x2_0.y, x2_1.y, x2_2.y, x2_3.y);
    s2y_0 = mac(s2y_0, a2y, b0); s2y_1 = mac(s2y_1, a2y, b1); s2y_2 = mac(s2y_2, a2y, b2); s2y_3 = mac(s2y_3, a2y, b3);
    s2y_4 = mac(s2y_4, a2y, b4); s2y_5 = mac(s2y_5, a2y, b5); s2y_6 = mac(s2y_6, a2y, b6); s2y_7 = mac(s2y_7, a2y, b7);
    let a2z = vec4<f32>(x2_0.z, x2_1.z, x2_2.z, x2_3.z);
    s2z_0 = mac(s2z_0, a2z, b0); s2z_1 = mac(s2z_1, a2z, b1); s2z_2 = mac(s2z_2, a2z, b2); s2z_3 = mac(s2z_3, a2z, b3);
    s2z_4 = mac(s2z_4, a2z, b4); s2z_5 = mac(s2z_5, a2z, b5); s2z_6 = mac(s2z_6, a2z, b6); s2z_7 = mac(s2z_7, a2z, b7);
    let a2w = vec4<f32>(x2_0.w, x2_1.w, x2_2.w, x2_3.w);
    s2w_0 = mac(s2w_0, a2w, b0); s2w_1 = mac(s2w_1, a2w, b1); s2w_2 = mac(s2w_2, a2w, b2); s2w_3 = mac(s2w_3, a2w, b3);
    s2w_4 = mac(s2w_4, a2w, b4); s2w_5 = mac(s2w_5, a2w, b5); s2w_6 = mac(s2w_6, a2w, b6); s2w_7 = mac(s2w_7, a2w, b7);
    let x3_0 = load_x(q0, m_end, r3, cin4); let x3_1 = load_x(q1, m_end, r3, cin4);
    let x3_2 = load_x(q2, m_end, r3, cin4); let x3_3 = load_x(q3, m_end, r3, cin4);
    let a3x = vec4<f32>(x3_0.x, x3_1.x, x3_2.x, x3_3.x);
    s3x_0 = mac(s3x_0, a3x, b0); s3x_1 = mac(s3x_1, a3x, b1); s3x_2 = mac(s3x_2, a3x, b2); s3x_3 = mac(s3x_3, a3x, b3);
    s3x_4 = mac(s3x_4, a3x, b4); s3x_5 = mac(s3x_5, a3x, b5); s3x_6 = mac(s3x_6, a3x, b6); s3x_7 = mac(s3x_7, a3x, b7);
    let a3y = vec4<f32>(x3_0.y, x3_1.y, x3_2.y, x3_3.y);
    s3y_0 = mac(s3y_0, a3y, b0); s3y_1 = mac(s3y_1, a3y, b1); s3y_2 = mac(s3y_2, a3y, b2); s3y_3 = mac(s3y_3, a3y, b3);
    s3y_4 = mac(s3y_4, a3y, b4); s3y_5 = mac(s3y_5, a3y, b5); s3y_6 = mac(s3y_6, a3y, b6); s3y_7 = mac(s3y_7, a3y, b7);
    let a3z = vec4<f32>(x3_0.z, x3_1.z, x3_2.z, x3_3.z);
    s3z_0 = mac(s3z_0, a3z, b0); s3z_1 = mac(s3z_1, a3z, b1); s3z_2 = mac(s3z_2, a3z, b2); s3z_3 = mac(s3z_3, a3z, b3);
    s3z_4 = mac(s3z_4, a3z, b4); s3z_5 = mac(s3z_5, a3z, b5); s3z_6 = mac(s3z_6, a3z, b6); s3z_7 = mac(s3z_7, a3z, b7);
    let a3w = vec4<f32>(x3_0.w, x3_1.w, x3_2.w, x3_3.w);
    s3w_0 = mac(s3w_0, a3w, b0); s3w_1 = mac(s3w_1, a3w, b1); s3w_2 = mac(s3w_2, a3w, b2); s3w_3 = mac(s3w_3, a3w, b3);
    s3w_4 = mac(s3w_4, a3w, b4); s3w_5 = mac(s3w_5, a3w, b5); s3w_6 = mac(s3w_6, a3w, b6); s3w_7 = mac(s3w_7, a3w, b7);
    let x4_0 = load_x(q0, m_end, r4, cin4); let x4_1 = load_x(q1, m_end, r4, cin4);
    let x4_2 = load_x(q2, m_end, r4, cin4); let x4_3 = load_x(q3, m_end, r4, cin4);
    let a4x = vec4<f32>(x4_0.x, x4_1.x, x4_2.x, x4_3.x);
    s4x_0 = mac(s4x_0, a4x, b0); s4x_1 = mac(s4x_1, a4x, b1); s4x_2 = mac(s4x_2, a4x, b2); s4x_3 = mac(s4x_3, a4x, b3);
    s4x_4 = mac(s4x_4, a4x, b4); s4x_5 = mac(s4x_5, a4x, b5); s4x_6 = mac(s4x_6, a4x, b6); s4x_7 = mac(s4x_7, a4x, b7);
    let a4y = vec4<f32>(x4_0.y, x4_1.y, x4_2.y, x4_3.y);
    s4y_0 = mac(s4y_0, a4y, b0); s4y_1 = mac(s4y_1, a4y, b1); s4y_2 = mac(s4y_2, a4y, b2); s4y_3 = mac(s4y_3, a4y, b3);
    s4y_4 = mac(s4y_4, a4y, b4); s4y_5 = mac(s4y_5, a4y, b5); s4y_6 = mac(s4y_6, a4y, b6); s4y_7 = mac(s4y_7, a4y, b7);
    let a4z = vec4<f32>(x4_0.z, x4_1.z, x4_2.z, x4_3.z);
    s4z_0 = mac(s4z_0, a4z, b0); s4z_1 = mac(s4z_1, a4z, b1); s4z_2 = mac(s4z_2, a4z, b2); s4z_3 = mac(s4z_3, a4z, b3);
    s4z_4 = mac(s4z_4, a4z, b4); s4z_5 = mac(s4z_5, a4z, b5); s4z_6 = mac(s4z_6, a4z, b6); s4z_7 = mac(s4z_7, a4z, b7);
    let a4w = vec4<f32>(x4_0.w, x4_1.w, x4_2.w, x4_3.w);
    s4w_0 = mac(s4w_0, a4w, b0); s4w_1 = mac(s4w_1, a4w, b1); s4w_2 = mac(s4w_2, a4w, b2); s4w_3 = mac(s4w_3, a4w, b3);
    s4w_4 = mac(s4w_4, a4w, b4); s4w_5 = mac(s4w_5, a4w, b5); s4w_6 = mac(s4w_6, a4w, b6); s4w_7 = mac(s4w_7, a4w, b7);
    let x5_0 = load_x(q0, m_end, r5, cin4); let x5_1 = load_x(q1, m_end, r5, cin4);
    let x5_2 = load_x(q2, m_end, r5, cin4); let x5_3 = load_x(q3, m_end, r5, cin4);
    let a5x = vec4<f32>(x5_0.x, x5_1.x, x5_2.x, x5_3.x);
    s5x_0 = mac(s5x_0, a5x, b0); s5x_1 = mac(s5x_1, a5x, b1); s5x_2 = mac(s5x_2, a5x, b2); s5x_3 = mac(s5x_3, a5x, b3);
    s5x_4 = mac(s5x_4, a5x, b4); s5x_5 = mac(s5x_5, a5x, b5); s5x_6 = mac(s5x_6, a5x, b6); s5x_7 = mac(s5x_7, a5x, b7);
    let a5y = vec4<f32>(x5_0.y, x5_1.y, x5_2.y, x5_3.y);
    s5y_0 = mac(s5y_0, a5y, b0); s5y_1 = mac(s5y_1, a5y, b1); s5y_2 = mac(s5y_2, a5y, b2); s5y_3 = mac(s5y_3, a5y, b3);
    s5y_4 = mac(s5y_4, a5y, b4); s5y_5 = mac(s5y_5, a5y, b5); s5y_6 = mac(s5y_6, a5y, b6); s5y_7 = mac(s5y_7, a5y, b7);
    let a5z = vec4<f32>(x5_0.z, x5_1.z, x5_2.z, x5_3.z);
    s5z_0 = mac(s5z_0, a5z, b0); s5z_1 = mac(s5z_1, a5z, b1); s5z_2 = mac(s5z_2, a5z, b2); s5z_3 = mac(s5z_3, a5z, b3);
    s5z_4 = mac(s5z_4, a5z, b4); s5z_5 = mac(s5z_5, a5z, b5); s5z_6 = mac(s5z_6, a5z, b6); s5z_7 = mac(s5z_7, a5z, b7);
    let a5w = vec4<f32>(x5_0.w, x5_1.w, x5_2.w, x5_3.w);
    s5w_0 = mac(s5w_0, a5w, b0); s5w_1 = mac(s5w_1, a5w, b1); s5w_2 = mac(s5w_2, a5w, b2); s5w_3 = mac(s5w_3, a5w, b3);
    s5w_4 = mac(s5w_4, a5w, b4); s5w_5 = mac(s5w_5, a5w, b5); s5w_6 = mac(s5w_6, a5w, b6); s5w_7 = mac(s5w_7, a5w, b7);
    let x6_0 = load_x(q0, m_end, r6, cin4); let x6_1 = load_x(q1, m_end, r6, cin4);
    let x6_2 = load_x(q2, m_end, r6, cin4); let x6_3 = load_x(q3, m_end, r6, cin4);
    let a6x = vec4<f32>(x6_0.x, x6_1.x, x6_2.x, x6_3.x);
    s6x_0 = mac(s6x_0, a6x, b0); s6x_1 = mac(s6x_1, a6x, b1); s6x_2 = mac(s6x_2, a6x, b2); s6x_3 = mac(s6x_3, a6x, b3);
    s6x_4 = mac(s6x_4, a6x, b4); s6x_5 = mac(s6x_5, a6x, b5); s6x_6 = mac(s6x_6, a6x, b6); s6x_7 = mac(s6x_7, a6x, b7);
    let a6y = vec4<f32>(x6_0.y, x6_1.y, x6_2.y, x6_3.y);
    s6y_0 = mac(s6y_0, a6y, b0); s6y_1 = mac(s6y_1, a6y, b1); s6y_2 = mac(s6y_2, a6y, b2); s6y_3 = mac(s6y_3, a6y, b3);
    s6y_4 = mac(s6y_4, a6y, b4); s6y_5 = mac(s6y_5, a6y, b5); s6y_6 = mac(s6y_6, a6y, b6); s6y_7 = mac(s6y_7, a6y, b7);
    let a6z = vec4<f32>(x6_0.z, x6_1.z, x6_2.z, x6_3.z);
    s6z_0 = mac(s6z_0, a6z, b0); s6z_1 = mac(s6z_1, a6z, b1); s6z_2 = mac(s6z_2, a6z, b2); s6z_3 = mac(s6z_3, a6z, b3);
    s6z_4 = mac(s6z_4, a6z, b4); s6z_5 = mac(s6z_5, a6z, b5); s6z_6 = mac(s6z_6, a6z, b6); s6z_7 = mac(s6z_7, a6z, b7);
    let a6w = vec4<f32>(x6_0.w, x6_1.w, x6_2.w, x6_3.w);
    s6w_0 = mac(s6w_0, a6w, b0); s6w_1 = mac(s6w_1, a6w, b1); s6w_2 = mac(s6w_2, a6w, b2); s6w_3 = mac(s6w_3, a6w, b3);
    s6w_4 = mac(s6w_4, a6w, b4); s6w_5 = mac(s6w_5, a6w, b5); s6w_6 = mac(s6w_6, a6w, b6); s6w_7 = mac(s6w_7, a6w, b7);
    let x7_0 = load_x(q0, m_end, r7, cin4); let x7_1 = load_x(q1, m_end, r7, cin4);
    let x7_2 = load_x(q2, m_end, r7, cin4); let x7_3 = load_x(q3, m_end, r7, cin4);
    let a7x = vec4<f32>(x7_0.x, x7_1.x, x7_2.x, x7_3.x);
    s7x_0 = mac(s7x_0, a7x, b0); s7x_1 = mac(s7x_1, a7x, b1); s7x_2 = mac(s7x_2, a7x, b2); s7x_3 = mac(s7x_3, a7x, b3);
    s7x_4 = mac(s7x_4, a7x, b4); s7x_5 = mac(s7x_5, a7x, b5); s7x_6 = mac(s7x_6, a7x, b6); s7x_7 = mac(s7x_7, a7x, b7);
    let a7y = vec4<f32>(x7_0.y, x7_1.y, x7_2.y, x7_3.y);
    s7y_0 = mac(s7y_0, a7y, b0); s7y_1 = mac(s7y_1, a7y, b1); s7y_2 = mac(s7y_2, a7y, b2); s7y_3 = mac(s7y_3, a7y, b3);
    s7y_4 = mac(s7y_4, a7y, b4); s7y_5 = mac(s7y_5, a7y, b5); s7y_6 = mac(s7y_6, a7y, b6); s7y_7 = mac(s7y_7, a7y, b7);
    let a7z = vec4<f32>(x7_0.z, x7_1.z, x7_2.z, x7_3.z);
    s7z_0 = mac(s7z_0, a7z, b0); s7z_1 = mac(s7z_1, a7z, b1); s7z_2 = mac(s7z_2, a7z, b2); s7z_3 = mac(s7z_3, a7z, b3);
    s7z_4 = mac(s7z_4, a7z, b4); s7z_5 = mac(s7z_5, a7z, b5); s7z_6 = mac(s7z_6, a7z, b6); s7z_7 = mac(s7z_7, a7z, b7);
    let a7w = vec4<f32>(x7_0.w, x7_1.w, x7_2.w, x7_3.w);
    s7w_0 = mac(s7w_0, a7w, b0); s7w_1 = mac(s7w_1, a7w, b1); s7w_2 = mac(s7w_2, a7w, b2); s7w_3 = mac(s7w_3, a7w, b3);
    s7w_4 = mac(s7w_4, a7w, b4); s7w_5 = mac(s7w_5, a7w, b5); s7w_6 = mac(s7w_6, a7w, b6); s7w_7 = mac(s7w_7, a7w, b7);
  }
  let base = wid.z * p.kernel_h * p.kernel_w * p.in_c;
  { let blk = b0 + 0u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s0x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s0x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s0x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s0x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s0x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s0x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s0x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s0x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s0y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s0y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s0y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s0y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s0y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s0y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s0y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s0y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s0z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s0z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s0z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s0z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s0z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s0z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s0z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s0z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s0w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s0w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s0w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s0w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s0w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s0w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s0w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s0w_7);
  }
  { let blk = b0 + 1u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s1x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s1x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s1x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s1x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s1x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s1x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s1x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s1x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s1y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s1y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s1y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s1y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s1y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s1y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s1y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s1y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s1z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s1z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s1z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s1z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s1z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s1z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s1z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s1z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s1w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s1w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s1w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s1w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s1w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s1w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s1w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s1w_7);
  }
  { let blk = b0 + 2u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s2x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s2x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s2x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s2x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s2x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s2x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s2x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s2x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s2y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s2y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s2y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s2y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s2y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s2y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s2y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s2y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s2z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s2z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s2z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s2z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s2z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s2z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s2z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s2z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s2w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s2w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s2w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s2w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s2w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s2w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s2w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s2w_7);
  }
  { let blk = b0 + 3u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s3x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s3x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s3x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s3x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s3x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s3x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s3x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s3x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s3y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s3y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s3y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s3y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s3y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s3y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s3y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s3y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s3z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s3z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s3z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s3z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s3z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s3z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s3z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s3z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s3w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s3w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s3w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s3w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s3w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s3w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s3w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s3w_7);
  }
  { let blk = b0 + 4u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s4x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s4x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s4x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s4x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s4x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s4x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s4x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s4x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s4y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s4y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s4y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s4y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s4y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s4y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s4y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s4y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s4z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s4z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s4z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s4z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s4z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s4z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s4z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s4z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s4w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s4w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s4w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s4w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s4w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s4w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s4w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s4w_7);
  }
  { let blk = b0 + 5u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s5x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s5x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s5x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s5x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s5x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s5x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s5x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s5x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s5y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s5y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s5y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s5y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s5y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s5y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s5y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s5y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s5z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s5z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s5z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s5z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s5z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s5z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s5z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s5z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s5w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s5w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s5w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s5w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s5w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s5w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s5w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s5w_7);
  }
  { let blk = b0 + 6u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s6x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s6x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s6x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s6x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s6x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s6x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s6x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s6x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s6y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s6y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s6y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s6y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s6y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s6y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s6y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s6y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s6z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s6z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s6z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s6z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s6z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s6z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s6z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s6z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s6w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s6w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s6w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s6w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s6w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s6w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s6w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s6w_7);
  }
  { let blk = b0 + 7u * WG;
    store(base, blk, blocks, 0u, cin4, n4 + 0u, cout4, s7x_0); store(base, blk, blocks, 0u, cin4, n4 + 1u, cout4, s7x_1); store(base, blk, blocks, 0u, cin4, n4 + 2u, cout4, s7x_2); store(base, blk, blocks, 0u, cin4, n4 + 3u, cout4, s7x_3);
    store(base, blk, blocks, 0u, cin4, n4 + 4u, cout4, s7x_4); store(base, blk, blocks, 0u, cin4, n4 + 5u, cout4, s7x_5); store(base, blk, blocks, 0u, cin4, n4 + 6u, cout4, s7x_6); store(base, blk, blocks, 0u, cin4, n4 + 7u, cout4, s7x_7);
    store(base, blk, blocks, 1u, cin4, n4 + 0u, cout4, s7y_0); store(base, blk, blocks, 1u, cin4, n4 + 1u, cout4, s7y_1); store(base, blk, blocks, 1u, cin4, n4 + 2u, cout4, s7y_2); store(base, blk, blocks, 1u, cin4, n4 + 3u, cout4, s7y_3);
    store(base, blk, blocks, 1u, cin4, n4 + 4u, cout4, s7y_4); store(base, blk, blocks, 1u, cin4, n4 + 5u, cout4, s7y_5); store(base, blk, blocks, 1u, cin4, n4 + 6u, cout4, s7y_6); store(base, blk, blocks, 1u, cin4, n4 + 7u, cout4, s7y_7);
    store(base, blk, blocks, 2u, cin4, n4 + 0u, cout4, s7z_0); store(base, blk, blocks, 2u, cin4, n4 + 1u, cout4, s7z_1); store(base, blk, blocks, 2u, cin4, n4 + 2u, cout4, s7z_2); store(base, blk, blocks, 2u, cin4, n4 + 3u, cout4, s7z_3);
    store(base, blk, blocks, 2u, cin4, n4 + 4u, cout4, s7z_4); store(base, blk, blocks, 2u, cin4, n4 + 5u, cout4, s7z_5); store(base, blk, blocks, 2u, cin4, n4 + 6u, cout4, s7z_6); store(base, blk, blocks, 2u, cin4, n4 + 7u, cout4, s7z_7);
    store(base, blk, blocks, 3u, cin4, n4 + 0u, cout4, s7w_0); store(base, blk, blocks, 3u, cin4, n4 + 1u, cout4, s7w_1); store(base, blk, blocks, 3u, cin4, n4 + 2u, cout4, s7w_2); store(base, blk, blocks, 3u, cin4, n4 + 3u, cout4, s7w_3);
    store(base, blk, blocks, 3u, cin4, n4 + 4u, cout4, s7w_4); store(base, blk, blocks, 3u, cin4, n4 + 5u, cout4, s7w_5); store(base, blk, blocks, 3u, cin4, n4 + 6u, cout4, s7w_6); store(base, blk, blocks, 3u, cin4, n4 + 7u, cout4, s7w_7);
  }
}
