// conv2d forward for CPU adapters: the implicit GEMM of conv2d_forward_vec4.wgsl with a 32 × 32
// register tile written out statement by statement. Each invocation computes 32 output pixels × 32
// output channels (256 vec4 accumulators); lavapipe keeps looped register tiles in memory and runs
// them at half the speed, so the tile's rows and columns are spelled out (rows are numbered 0–31,
// column blocks 0–7) and only the taps and input channels are loops.
// Used by: core/ops/conv.ts — conv2d forward and convTranspose2d's input gradient, "cpu" variant,
// when Cin and Cout are multiples of 4.
// Constants: WG (invocations per workgroup, along M). Kernel size, stride and padding are uniforms
// (the tap loops are outside the channel loop, so they cost little); no workgroup memory, no barriers.
// Bindings: 0 uniform Params; 1 x [N,H,W,Cin/4] vec4 (read); 2 w [kh,kw,Cin,Cout/4] vec4 (read);
// 3 bias [Cout/4] vec4 (read; ignored unless has_bias); 4 y [N,OH,OW,Cout/4] vec4 (write).
// Layout: pixel r of invocation l is m0 + r·WG + l; column block j is the workgroup's 8·wid.y + j.
// Pixels and column blocks past the end are clamped to the last valid one for loads and not
// written. Each output sums over taps in order, then over Cin in order (mac: four channels at a
// time): the order depends on neither the batch nor the tile, so results are batch-independent.
// Dispatch: (ceil(N·OH·OW / (32·WG)), ceil(Cout / 32), 1).

struct Params {
  batch: u32, in_h: u32, in_w: u32, in_c: u32,
  out_h: u32, out_w: u32, out_c: u32, has_bias: u32,
  kernel_h: u32, kernel_w: u32, stride_h: u32, stride_w: u32,
  pad_h: u32, pad_w: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

// An output pixel: its image's first input row and the top-left corner of its window.
struct Pixel { row: u32, iy0: i32, ix0: i32 }

fn pixel(m: u32) -> Pixel {
  let t = m / p.out_w;
  let iy0 = i32((t % p.out_h) * p.stride_h) - i32(p.pad_h);
  let ix0 = i32((m % p.out_w) * p.stride_w) - i32(p.pad_w);
  return Pixel((t / p.out_h) * p.in_h, iy0, ix0);
}

// Where tap (ky, kx) of a pixel's window starts in x (in vec4s); ok is false in the padding.
struct Tap { at: u32, ok: bool }

fn tap(q: Pixel, ky: u32, kx: u32, cin4: u32) -> Tap {
  let iy = q.iy0 + i32(ky);
  let ix = q.ix0 + i32(kx);
  let ok = iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
  return Tap(select(0u, ((q.row + u32(iy)) * p.in_w + u32(ix)) * cin4, ok), ok);
}

fn load(t: Tap, c4: u32) -> vec4<f32> {
  return select(vec4<f32>(), x[t.at + c4], t.ok); // padding reads as zero
}

// Four input channels (rows r … r + 3 of the weight, one vec4 of output channels each) as the
// columns of a matrix: mac() takes them as four K steps.
fn weights(r: u32, cout4: u32, col4: u32) -> mat4x4<f32> {
  return mat4x4<f32>(w[r + col4], w[r + cout4 + col4], w[r + 2u * cout4 + col4], w[r + 3u * cout4 + col4]);
}

// acc + Σ_k a[k]·b[k], the four K steps in order (fused multiply-adds).
fn mac(acc: vec4<f32>, a: vec4<f32>, b: mat4x4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(a.w), b[3], fma(vec4<f32>(a.z), b[2], fma(vec4<f32>(a.y), b[1], fma(vec4<f32>(a.x), b[0], acc))));
}

fn store(m: u32, pixels: u32, col4: u32, cout4: u32, v: vec4<f32>) {
  if (m >= pixels || col4 >= cout4) { return; }
  y[m * cout4 + col4] = select(v, v + bias[col4], p.has_bias != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let pixels = p.batch * p.out_h * p.out_w;
  let m0 = wid.x * (32u * WG) + lid.x;
  let cin4 = p.in_c / 4u;
  let cout4 = p.out_c / 4u;
  let n4 = wid.y * 8u;
  // Column blocks, clamped to the last one.
  let col0 = min(n4 + 0u, cout4 - 1u); let col1 = min(n4 + 1u, cout4 - 1u); let col2 = min(n4 + 2u, cout4 - 1u); let col3 = min(n4 + 3u, cout4 - 1u);
  let col4 = min(n4 + 4u, cout4 - 1u); let col5 = min(n4 + 5u, cout4 - 1u); let col6 = min(n4 + 6u, cout4 - 1u); let col7 = min(n4 + 7u, cout4 - 1u);
  // Output pixels, clamped to the last one.
  let q0 = pixel(min(m0 + 0u * WG, pixels - 1u)); let q1 = pixel(min(m0 + 1u * WG, pixels - 1u));
  let q2 = pixel(min(m0 + 2u * WG, pixels - 1u)); let q3 = pixel(min(m0 + 3u * WG, pixels - 1u));
  let q4 = pixel(min(m0 + 4u * WG, pixels - 1u)); let q5 = pixel(min(m0 + 5u * WG, pixels - 1u));
  let q6 = pixel(min(m0 + 6u * WG, pixels - 1u)); let q7 = pixel(min(m0 + 7u * WG, pixels - 1u));
  let q8 = pixel(min(m0 + 8u * WG, pixels - 1u)); let q9 = pixel(min(m0 + 9u * WG, pixels - 1u));
  let q10 = pixel(min(m0 + 10u * WG, pixels - 1u)); let q11 = pixel(min(m0 + 11u * WG, pixels - 1u));
  let q12 = pixel(min(m0 + 12u * WG, pixels - 1u)); let q13 = pixel(min(m0 + 13u * WG, pixels - 1u));
  let q14 = pixel(min(m0 + 14u * WG, pixels - 1u)); let q15 = pixel(min(m0 + 15u * WG, pixels - 1u));
  let q16 = pixel(min(m0 + 16u * WG, pixels - 1u)); let q17 = pixel(min(m0 + 17u * WG, pixels - 1u));
  let q18 = pixel(min(m0 + 18u * WG, pixels - 1u)); let q19 = pixel(min(m0 + 19u * WG, pixels - 1u));
  let q20 = pixel(min(m0 + 20u * WG, pixels - 1u)); let q21 = pixel(min(m0 + 21u * WG, pixels - 1u));
  let q22 = pixel(min(m0 + 22u * WG, pixels - 1u)); let q23 = pixel(min(m0 + 23u * WG, pixels - 1u));
  let q24 = pixel(min(m0 + 24u * WG, pixels - 1u)); let q25 = pixel(min(m0 + 25u * WG, pixels - 1u));
  let q26 = pixel(min(m0 + 26u * WG, pixels - 1u)); let q27 = pixel(min(m0 + 27u * WG, pixels - 1u));
  let q28 = pixel(min(m0 + 28u * WG, pixels - 1u)); let q29 = pixel(min(m0 + 29u * WG, pixels - 1u));
  let q30 = pixel(min(m0 + 30u * WG, pixels - 1u)); let q31 = pixel(min(m0 + 31u * WG, pixels - 1u));
  var s0_0 = vec4<f32>(); var s0_1 = vec4<f32>(); var s0_2 = vec4<f32>(); var s0_3 = vec4<f32>(); var s0_4 = vec4<f32>(); var s0_5 = vec4<f32>(); var s0_6 = vec4<f32>(); var s0_7 = vec4<f32>();
  var s1_0 = vec4<f32>(); var s1_1 = vec4<f32>(); var s1_2 = vec4<f32>(); var s1_3 = vec4<f32>(); var s1_4 = vec4<f32>(); var s1_5 = vec4<f32>(); var s1_6 = vec4<f32>(); var s1_7 = vec4<f32>();
  var s2_0 = vec4<f32>(); var s2_1 = vec4<f32>(); var s2_2 = vec4<f32>(); var s2_3 = vec4<f32>(); var s2_4 = vec4<f32>(); var s2_5 = vec4<f32>(); var s2_6 = vec4<f32>(); var s2_7 = vec4<f32>();
  var s3_0 = vec4<f32>(); var s3_1 = vec4<f32>(); var s3_2 = vec4<f32>(); var s3_3 = vec4<f32>(); var s3_4 = vec4<f32>(); var s3_5 = vec4<f32>(); var s3_6 = vec4<f32>(); var s3_7 = vec4<f32>();
  var s4_0 = vec4<f32>(); var s4_1 = vec4<f32>(); var s4_2 = vec4<f32>(); var s4_3 = vec4<f32>(); var s4_4 = vec4<f32>(); var s4_5 = vec4<f32>(); var s4_6 = vec4<f32>(); var s4_7 = vec4<f32>();
  var s5_0 = vec4<f32>(); var s5_1 = vec4<f32>(); var s5_2 = vec4<f32>(); var s5_3 = vec4<f32>(); var s5_4 = vec4<f32>(); var s5_5 = vec4<f32>(); var s5_6 = vec4<f32>(); var s5_7 = vec4<f32>();
  var s6_0 = vec4<f32>(); var s6_1 = vec4<f32>(); var s6_2 = vec4<f32>(); var s6_3 = vec4<f32>(); var s6_4 = vec4<f32>(); var s6_5 = vec4<f32>(); var s6_6 = vec4<f32>(); var s6_7 = vec4<f32>();
  var s7_0 = vec4<f32>(); var s7_1 = vec4<f32>(); var s7_2 = vec4<f32>(); var s7_3 = vec4<f32>(); var s7_4 = vec4<f32>(); var s7_5 = vec4<f32>(); var s7_6 = vec4<f32>(); var s7_7 = vec4<f32>();
  var s8_0 = vec4<f32>(); var s8_1 = vec4<f32>(); var s8_2 = vec4<f32>(); var s8_3 = vec4<f32>(); var s8_4 = vec4<f32>(); var s8_5 = vec4<f32>(); var s8_6 = vec4<f32>(); var s8_7 = vec4<f32>();
  var s9_0 = vec4<f32>(); var s9_1 = vec4<f32>(); var s9_2 = vec4<f32>(); var s9_3 = vec4<f32>(); var s9_4 = vec4<f32>(); var s9_5 = vec4<f32>(); var s9_6 = vec4<f32>(); var s9_7 = vec4<f32>();
  var s10_0 = vec4<f32>(); var s10_1 = vec4<f32>(); var s10_2 = vec4<f32>(); var s10_3 = vec4<f32>(); var s10_4 = vec4<f32>(); var s10_5 = vec4<f32>(); var s10_6 = vec4<f32>(); var s10_7 = vec4<f32>();
  var s11_0 = vec4<f32>(); var s11_1 = vec4<f32>(); var s11_2 = vec4<f32>(); var s11_3 = vec4<f32>(); var s11_4 = vec4<f32>(); var s11_5 = vec4<f32>(); var s11_6 = vec4<f32>(); var s11_7 = vec4<f32>();
  var s12_0 = vec4<f32>(); var s12_1 = vec4<f32>(); var s12_2 = vec4<f32>(); var s12_3 = vec4<f32>(); var s12_4 = vec4<f32>(); var s12_5 = vec4<f32>(); var s12_6 = vec4<f32>(); var s12_7 = vec4<f32>();
  var s13_0 = vec4<f32>(); var s13_1 = vec4<f32>(); var s13_2 = vec4<f32>(); var s13_3 = vec4<f32>(); var s13_4 = vec4<f32>(); var s13_5 = vec4<f32>(); var s13_6 = vec4<f32>(); var s13_7 = vec4<f32>();
  var s14_0 = vec4<f32>(); var s14_1 = vec4<f32>(); var s14_2 = vec4<f32>(); var s14_3 = vec4<f32>(); var s14_4 = vec4<f32>(); var s14_5 = vec4<f32>(); var s14_6 = vec4<f32>(); var s14_7 = vec4<f32>();
  var s15_0 = vec4<f32>(); var s15_1 = vec4<f32>(); var s15_2 = vec4<f32>(); var s15_3 = vec4<f32>(); var s15_4 = vec4<f32>(); var s15_5 = vec4<f32>(); var s15_6 = vec4<f32>(); var s15_7 = vec4<f32>();
  var s16_0 = vec4<f32>(); var s16_1 = vec4<f32>(); var s16_2 = vec4<f32>(); var s16_3 = vec4<f32>(); var s16_4 = vec4<f32>(); var s16_5 = vec4<f32>(); var s16_6 = vec4<f32>(); var s16_7 = vec4<f32>();
  var s17_0 = vec4<f32>(); var s17_1 = vec4<f32>(); var s17_2 = vec4<f32>(); var s17_3 = vec4<f32>(); var s17_4 = vec4<f32>(); var s17_5 = vec4<f32>(); var s17_6 = vec4<f32>(); var s17_7 = vec4<f32>();
  var s18_0 = vec4<f32>(); var s18_1 = vec4<f32>(); var s18_2 = vec4<f32>(); var s18_3 = vec4<f32>(); var s18_4 = vec4<f32>(); var s18_5 = vec4<f32>(); var s18_6 = vec4<f32>(); var s18_7 = vec4<f32>();
  var s19_0 = vec4<f32>(); var s19_1 = vec4<f32>(); var s19_2 = vec4<f32>(); var s19_3 = vec4<f32>(); var s19_4 = vec4<f32>(); var s19_5 = vec4<f32>(); var s19_6 = vec4<f32>(); var s19_7 = vec4<f32>();
  var s20_0 = vec4<f32>(); var s20_1 = vec4<f32>(); var s20_2 = vec4<f32>(); var s20_3 = vec4<f32>(); var s20_4 = vec4<f32>(); var s20_5 = vec4<f32>(); var s20_6 = vec4<f32>(); var s20_7 = vec4<f32>();
  var s21_0 = vec4<f32>(); var s21_1 = vec4<f32>(); var s21_2 = vec4<f32>(); var s21_3 = vec4<f32>(); var s21_4 = vec4<f32>(); var s21_5 = vec4<f32>(); var s21_6 = vec4<f32>(); var s21_7 = vec4<f32>();
  var s22_0 = vec4<f32>(); var s22_1 = vec4<f32>(); var s22_2 = vec4<f32>(); var s22_3 = vec4<f32>(); var s22_4 = vec4<f32>(); var s22_5 = vec4<f32>(); var s22_6 = vec4<f32>(); var s22_7 = vec4<f32>();
  var s23_0 = vec4<f32>(); var s23_1 = vec4<f32>(); var s23_2 = vec4<f32>(); var s23_3 = vec4<f32>(); var s23_4 = vec4<f32>(); var s23_5 = vec4<f32>(); var s23_6 = vec4<f32>(); var s23_7 = vec4<f32>();
  var s24_0 = vec4<f32>(); var s24_1 = vec4<f32>(); var s24_2 = vec4<f32>(); var s24_3 = vec4<f32>(); var s24_4 = vec4<f32>(); var s24_5 = vec4<f32>(); var s24_6 = vec4<f32>(); var s24_7 = vec4<f32>();
  var s25_0 = vec4<f32>(); var s25_1 = vec4<f32>(); var s25_2 = vec4<f32>(); var s25_3 = vec4<f32>(); var s25_4 = vec4<f32>(); var s25_5 = vec4<f32>(); var s25_6 = vec4<f32>(); var s25_7 = vec4<f32>();
  var s26_0 = vec4<f32>(); var s26_1 = vec4<f32>(); var s26_2 = vec4<f32>(); var s26_3 = vec4<f32>(); var s26_4 = vec4<f32>(); var s26_5 = vec4<f32>(); var s26_6 = vec4<f32>(); var s26_7 = vec4<f32>();
  var s27_0 = vec4<f32>(); var s27_1 = vec4<f32>(); var s27_2 = vec4<f32>(); var s27_3 = vec4<f32>(); var s27_4 = vec4<f32>(); var s27_5 = vec4<f32>(); var s27_6 = vec4<f32>(); var s27_7 = vec4<f32>();
  var s28_0 = vec4<f32>(); var s28_1 = vec4<f32>(); var s28_2 = vec4<f32>(); var s28_3 = vec4<f32>(); var s28_4 = vec4<f32>(); var s28_5 = vec4<f32>(); var s28_6 = vec4<f32>(); var s28_7 = vec4<f32>();
  var s29_0 = vec4<f32>(); var s29_1 = vec4<f32>(); var s29_2 = vec4<f32>(); var s29_3 = vec4<f32>(); var s29_4 = vec4<f32>(); var s29_5 = vec4<f32>(); var s29_6 = vec4<f32>(); var s29_7 = vec4<f32>();
  var s30_0 = vec4<f32>(); var s30_1 = vec4<f32>(); var s30_2 = vec4<f32>(); var s30_3 = vec4<f32>(); var s30_4 = vec4<f32>(); var s30_5 = vec4<f32>(); var s30_6 = vec4<f32>(); var s30_7 = vec4<f32>();
  var s31_0 = vec4<f32>(); var s31_1 = vec4<f32>(); var s31_2 = vec4<f32>(); var s31_3 = vec4<f32>(); var s31_4 = vec4<f32>(); var s31_5 = vec4<f32>(); var s31_6 = vec4<f32>(); var s31_7 = vec4<f32>();
  for (var ky = 0u; ky < p.kernel_h; ky++) {
    for (var kx = 0u; kx < p.kernel_w; kx++) {
      let t0 = tap(q0, ky, kx, cin4); let t1 = tap(q1, ky, kx, cin4); let t2 = tap(q2, ky, kx, cin4); let t3 = tap(q3, ky, kx, cin4);
      let t4 = tap(q4, ky, kx, cin4); let t5 = tap(q5, ky, kx, cin4); let t6 = tap(q6, ky, kx, cin4); let t7 = tap(q7, ky, kx, cin4);
      let t8 = tap(q8, ky, kx, cin4); let t9 = tap(q9, ky, kx, cin4); let t10 = tap(q10, ky, kx, cin4); let t11 = tap(q11, ky, kx, cin4);
      let t12 = tap(q12, ky, kx, cin4); let t13 = tap(q13, ky, kx, cin4); let t14 = tap(q14, ky, kx, cin4); let t15 = tap(q15, ky, kx, cin4);
      let t16 = tap(q16, ky, kx, cin4); let t17 = tap(q17, ky, kx, cin4); let t18 = tap(q18, ky, kx, cin4); let t19 = tap(q19, ky, kx, cin4);
      let t20 = tap(q20, ky, kx, cin4); let t21 = tap(q21, ky, kx, cin4); let t22 = tap(q22, ky, kx, cin4); let t23 = tap(q23, ky, kx, cin4);
      let t24 = tap(q24, ky, kx, cin4); let t25 = tap(q25, ky, kx, cin4); let t26 = tap(q26, ky, kx, cin4); let t27 = tap(q27, ky, kx, cin4);
      let t28 = tap(q28, ky, kx, cin4); let t29 = tap(q29, ky, kx, cin4); let t30 = tap(q30, ky, kx, cin4); let t31 = tap(q31, ky, kx, cin4);
      let w_tap = (ky * p.kernel_w + kx) * p.in_c;
      for (var c4 = 0u; c4 < cin4; c4++) {
        let r = (w_tap + 4u * c4) * cout4;
        let b0 = weights(r, cout4, col0); let b1 = weights(r, cout4, col1); let b2 = weights(r, cout4, col2); let b3 = weights(r, cout4, col3);
        let b4 = weights(r, cout4, col4); let b5 = weights(r, cout4, col5); let b6 = weights(r, cout4, col6); let b7 = weights(r, cout4, col7);
        let a0 = load(t0, c4);
        s0_0 = mac(s0_0, a0, b0); s0_1 = mac(s0_1, a0, b1); s0_2 = mac(s0_2, a0, b2); s0_3 = mac(s0_3, a0, b3);
        s0_4 = mac(s0_4, a0, b4); s0_5 = mac(s0_5, a0, b5); s0_6 = mac(s0_6, a0, b6); s0_7 = mac(s0_7, a0, b7);
        let a1 = load(t1, c4);
        s1_0 = mac(s1_0, a1, b0); s1_1 = mac(s1_1, a1, b1); s1_2 = mac(s1_2, a1, b2); s1_3 = mac(s1_3, a1, b3);
        s1_4 = mac(s1_4, a1, b4); s1_5 = mac(s1_5, a1, b5); s1_6 = mac(s1_6, a1, b6); s1_7 = mac(s1_7, a1, b7);
        let a2 = load(t2, c4);
        s2_0 = mac(s2_0, a2, b0); s2_1 = mac(s2_1, a2, b1); s2_2 = mac(s2_2, a2, b2); s2_3 = mac(s2_3, a2, b3);
        s2_4 = mac(s2_4, a2, b4); s2_5 = mac(s2_5, a2, b5); s2_6 = mac(s2_6, a2, b6); s2_7 = mac(s2_7, a2, b7);
        let a3 = load(t3, c4);
        s3_0 = mac(s3_0, a3, b0); s3_1 = mac(s3_1, a3, b1); s3_2 = mac(s3_2, a3, b2); s3_3 = mac(s3_3, a3, b3);
        s3_4 = mac(s3_4, a3, b4); s3_5 = mac(s3_5, a3, b5); s3_6 = mac(s3_6, a3, b6); s3_7 = mac(s3_7, a3, b7);
        let a4 = load(t4, c4);
        s4_0 = mac(s4_0, a4, b0); s4_1 = mac(s4_1, a4, b1); s4_2 = mac(s4_2, a4, b2); s4_3 = mac(s4_3, a4, b3);
        s4_4 = mac(s4_4, a4, b4); s4_5 = mac(s4_5, a4, b5); s4_6 = mac(s4_6, a4, b6); s4_7 = mac(s4_7, a4, b7);
        let a5 = load(t5, c4);
        s5_0 = mac(s5_0, a5, b0); s5_1 = mac(s5_1, a5, b1); s5_2 = mac(s5_2, a5, b2); s5_3 = mac(s5_3, a5, b3);
        s5_4 = mac(s5_4, a5, b4); s5_5 = mac(s5_5, a5, b5); s5_6 = mac(s5_6, a5, b6); s5_7 = mac(s5_7, a5, b7);
        let a6 = load(t6, c4);
        s6_0 = mac(s6_0, a6, b0); s6_1 = mac(s6_1, a6, b1); s6_2 = mac(s6_2, a6, b2); s6_3 = mac(s6_3, a6, b3);
        s6_4 = mac(s6_4, a6, b4); s6_5 = mac(s6_5, a6, b5); s6_6 = mac(s6_6, a6, b6); s6_7 = mac(s6_7, a6, b7);
        let a7 = load(t7, c4);
        s7_0 = mac(s7_0, a7, b0); s7_1 = mac(s7_1, a7, b1); s7_2 = mac(s7_2, a7, b2); s7_3 = mac(s7_3, a7, b3);
        s7_4 = mac(s7_4, a7, b4); s7_5 = mac(s7_5, a7, b5); s7_6 = mac(s7_6, a7, b6); s7_7 = mac(s7_7, a7, b7);
        let a8 = load(t8, c4);
        s8_0 = mac(s8_0, a8, b0); s8_1 = mac(s8_1, a8, b1); s8_2 = mac(s8_2, a8, b2); s8_3 = mac(s8_3, a8, b3);
        s8_4 = mac(s8_4, a8, b4); s8_5 = mac(s8_5, a8, b5); s8_6 = mac(s8_6, a8, b6); s8_7 = mac(s8_7, a8, b7);
        let a9 = load(t9, c4);
        s9_0 = mac(s9_0, a9, b0); s9_1 = mac(s9_1, a9, b1); s9_2 = mac(s9_2, a9, b2); s9_3 = mac(s9_3, a9, b3);
        s9_4 = mac(s9_4, a9, b4); s9_5 = mac(s9_5, a9, b5); s9_6 = mac(s9_6, a9, b6); s9_7 = mac(s9_7, a9, b7);
        let a10 = load(t10, c4);
        s10_0 = mac(s10_0, a10, b0); s10_1 = mac(s10_1, a10, b1); s10_2 = mac(s10_2, a10, b2); s10_3 = mac(s10_3, a10, b3);
        s10_4 = mac(s10_4, a10, b4); s10_5 = mac(s10_5, a10, b5); s10_6 = mac(s10_6, a10, b6); s10_7 = mac(s10_7, a10, b7);
        let a11 = load(t11, c4);
        s11_0 = mac(s11_0, a11, b0); s11_1 = mac(s11_1, a11, b1); s11_2 = mac(s11_2, a11, b2); s11_3 = mac(s11_3, a11, b3);
        s11_4 = mac(s11_4, a11, b4); s11_5 = mac(s11_5, a11, b5); s11_6 = mac(s11_6, a11, b6); s11_7 = mac(s11_7, a11, b7);
        let a12 = load(t12, c4);
        s12_0 = mac(s12_0, a12, b0); s12_1 = mac(s12_1, a12, b1); s12_2 = mac(s12_2, a12, b2); s12_3 = mac(s12_3, a12, b3);
        s12_4 = mac(s12_4, a12, b4); s12_5 = mac(s12_5, a12, b5); s12_6 = mac(s12_6, a12, b6); s12_7 = mac(s12_7, a12, b7);
        let a13 = load(t13, c4);
        s13_0 = mac(s13_0, a13, b0); s13_1 = mac(s13_1, a13, b1); s13_2 = mac(s13_2, a13, b2); s13_3 = mac(s13_3, a13, b3);
        s13_4 = mac(s13_4, a13, b4); s13_5 = mac(s13_5, a13, b5); s13_6 = mac(s13_6, a13, b6); s13_7 = mac(s13_7, a13, b7);
        let a14 = load(t14, c4);
        s14_0 = mac(s14_0, a14, b0); s14_1 = mac(s14_1, a14, b1); s14_2 = mac(s14_2, a14, b2); s14_3 = mac(s14_3, a14, b3);
        s14_4 = mac(s14_4, a14, b4); s14_5 = mac(s14_5, a14, b5); s14_6 = mac(s14_6, a14, b6); s14_7 = mac(s14_7, a14, b7);
        let a15 = load(t15, c4);
        s15_0 = mac(s15_0, a15, b0); s15_1 = mac(s15_1, a15, b1); s15_2 = mac(s15_2, a15, b2); s15_3 = mac(s15_3, a15, b3);
        s15_4 = mac(s15_4, a15, b4); s15_5 = mac(s15_5, a15, b5); s15_6 = mac(s15_6, a15, b6); s15_7 = mac(s15_7, a15, b7);
        let a16 = load(t16, c4);
        s16_0 = mac(s16_0, a16, b0); s16_1 = mac(s16_1, a16, b1); s16_2 = mac(s16_2, a16, b2); s16_3 = mac(s16_3, a16, b3);
        s16_4 = mac(s16_4, a16, b4); s16_5 = mac(s16_5, a16, b5); s16_6 = mac(s16_6, a16, b6); s16_7 = mac(s16_7, a16, b7);
        let a17 = load(t17, c4);
        s17_0 = mac(s17_0, a17, b0); s17_1 = mac(s17_1, a17, b1); s17_2 = mac(s17_2, a17, b2); s17_3 = mac(s17_3, a17, b3);
        s17_4 = mac(s17_4, a17, b4); s17_5 = mac(s17_5, a17, b5); s17_6 = mac(s17_6, a17, b6); s17_7 = mac(s17_7, a17, b7);
        let a18 = load(t18, c4);
        s18_0 = mac(s18_0, a18, b0); s18_1 = mac(s18_1, a18, b1); s18_2 = mac(s18_2, a18, b2); s18_3 = mac(s18_3, a18, b3);
        s18_4 = mac(s18_4, a18, b4); s18_5 = mac(s18_5, a18, b5); s18_6 = mac(s18_6, a18, b6); s18_7 = mac(s18_7, a18, b7);
        let a19 = load(t19, c4);
        s19_0 = mac(s19_0, a19, b0); s19_1 = mac(s19_1, a19, b1); s19_2 = mac(s19_2, a19, b2); s19_3 = mac(s19_3, a19, b3);
        s19_4 = mac(s19_4, a19, b4); s19_5 = mac(s19_5, a19, b5); s19_6 = mac(s19_6, a19, b6); s19_7 = mac(s19_7, a19, b7);
        let a20 = load(t20, c4);
        s20_0 = mac(s20_0, a20, b0); s20_1 = mac(s20_1, a20, b1); s20_2 = mac(s20_2, a20, b2); s20_3 = mac(s20_3, a20, b3);
        s20_4 = mac(s20_4, a20, b4); s20_5 = mac(s20_5, a20, b5); s20_6 = mac(s20_6, a20, b6); s20_7 = mac(s20_7, a20, b7);
        let a21 = load(t21, c4);
        s21_0 = mac(s21_0, a21, b0); s21_1 = mac(s21_1, a21, b1); s21_2 = mac(s21_2, a21, b2); s21_3 = mac(s21_3, a21, b3);
        s21_4 = mac(s21_4, a21, b4); s21_5 = mac(s21_5, a21, b5); s21_6 = mac(s21_6, a21, b6); s21_7 = mac(s21_7, a21, b7);
        let a22 = load(t22, c4);
        s22_0 = mac(s22_0, a22, b0); s22_1 = mac(s22_1, a22, b1); s22_2 = mac(s22_2, a22, b2); s22_3 = mac(s22_3, a22, b3);
        s22_4 = mac(s22_4, a22, b4); s22_5 = mac(s22_5, a22, b5); s22_6 = mac(s22_6, a22, b6); s22_7 = mac(s22_7, a22, b7);
        let a23 = load(t23, c4);
        s23_0 = mac(s23_0, a23, b0); s23_1 = mac(s23_1, a23, b1); s23_2 = mac(s23_2, a23, b2); s23_3 = mac(s23_3, a23, b3);
        s23_4 = mac(s23_4, a23, b4); s23_5 = mac(s23_5, a23, b5); s23_6 = mac(s23_6, a23, b6); s23_7 = mac(s23_7, a23, b7);
        let a24 = load(t24, c4);
        s24_0 = mac(s24_0, a24, b0); s24_1 = mac(s24_1, a24, b1); s24_2 = mac(s24_2, a24, b2); s24_3 = mac(s24_3, a24, b3);
        s24_4 = mac(s24_4, a24, b4); s24_5 = mac(s24_5, a24, b5); s24_6 = mac(s24_6, a24, b6); s24_7 = mac(s24_7, a24, b7);
        let a25 = load(t25, c4);
        s25_0 = mac(s25_0, a25, b0); s25_1 = mac(s25_1, a25, b1); s25_2 = mac(s25_2, a25, b2); s25_3 = mac(s25_3, a25, b3);
        s25_4 = mac(s25_4, a25, b4); s25_5 = mac(s25_5, a25, b5); s25_6 = mac(s25_6, a25, b6); s25_7 = mac(s25_7, a25, b7);
        let a26 = load(t26, c4);
        s26_0 = mac(s26_0, a26, b0); s26_1 = mac(s26_1, a26, b1); s26_2 = mac(s26_2, a26, b2); s26_3 = mac(s26_3, a26, b3);
        s26_4 = mac(s26_4, a26, b4); s26_5 = mac(s26_5, a26, b5); s26_6 = mac(s26_6, a26, b6); s26_7 = mac(s26_7, a26, b7);
        let a27 = load(t27, c4);
        s27_0 = mac(s27_0, a27, b0); s27_1 = mac(s27_1, a27, b1); s27_2 = mac(s27_2, a27, b2); s27_3 = mac(s27_3, a27, b3);
        s27_4 = mac(s27_4, a27, b4); s27_5 = mac(s27_5, a27, b5); s27_6 = mac(s27_6, a27, b6); s27_7 = mac(s27_7, a27, b7);
        let a28 = load(t28, c4);
        s28_0 = mac(s28_0, a28, b0); s28_1 = mac(s28_1, a28, b1); s28_2 = mac(s28_2, a28, b2); s28_3 = mac(s28_3, a28, b3);
        s28_4 = mac(s28_4, a28, b4); s28_5 = mac(s28_5, a28, b5); s28_6 = mac(s28_6, a28, b6); s28_7 = mac(s28_7, a28, b7);
        let a29 = load(t29, c4);
        s29_0 = mac(s29_0, a29, b0); s29_1 = mac(s29_1, a29, b1); s29_2 = mac(s29_2, a29, b2); s29_3 = mac(s29_3, a29, b3);
        s29_4 = mac(s29_4, a29, b4); s29_5 = mac(s29_5, a29, b5); s29_6 = mac(s29_6, a29, b6); s29_7 = mac(s29_7, a29, b7);
        let a30 = load(t30, c4);
        s30_0 = mac(s30_0, a30, b0); s30_1 = mac(s30_1, a30, b1); s30_2 = mac(s30_2, a30, b2); s30_3 = mac(s30_3, a30, b3);
        s30_4 = mac(s30_4, a30, b4); s30_5 = mac(s30_5, a30, b5); s30_6 = mac(s30_6, a30, b6); s30_7 = mac(s30_7, a30, b7);
        let a31 = load(t31, c4);
        s31_0 = mac(s31_0, a31, b0); s31_1 = mac(s31_1, a31, b1); s31_2 = mac(s31_2, a31, b2); s31_3 = mac(s31_3, a31, b3);
        s31_4 = mac(s31_4, a31, b4); s31_5 = mac(s31_5, a31, b5); s31_6 = mac(s31_6, a31, b6); s31_7 = mac(s31_7, a31, b7);
      }
    }
  }
  { let m = m0 + 0u * WG;
    store(m, pixels, n4 + 0u, cout4, s0_0); store(m, pixels, n4 + 1u, cout4, s0_1); store(m, pixels, n4 + 2u, cout4, s0_2); store(m, pixels, n4 + 3u, cout4, s0_3);
    store(m, pixels, n4 + 4u, cout4, s0_4); store(m, pixels, n4 + 5u, cout4, s0_5); store(m, pixels, n4 + 6u, cout4, s0_6); store(m, pixels, n4 + 7u, cout4, s0_7);
  }
  { let m = m0 + 1u * WG;
    store(m, pixels, n4 + 0u, cout4, s1_0); store(m, pixels, n4 + 1u, cout4, s1_1); store(m, pixels, n4 + 2u, cout4, s1_2); store(m, pixels, n4 + 3u, cout4, s1_3);
    store(m, pixels, n4 + 4u, cout4, s1_4); store(m, pixels, n4 + 5u, cout4, s1_5); store(m, pixels, n4 + 6u, cout4, s1_6); store(m, pixels, n4 + 7u, cout4, s1_7);
  }
  { let m = m0 + 2u * WG;
    store(m, pixels, n4 + 0u, cout4, s2_0); store(m, pixels, n4 + 1u, cout4, s2_1); store(m, pixels, n4 + 2u, cout4, s2_2); store(m, pixels, n4 + 3u, cout4, s2_3);
    store(m, pixels, n4 + 4u, cout4, s2_4); store(m, pixels, n4 + 5u, cout4, s2_5); store(m, pixels, n4 + 6u, cout4, s2_6); store(m, pixels, n4 + 7u, cout4, s2_7);
  }
  { let m = m0 + 3u * WG;
    store(m, pixels, n4 + 0u, cout4, s3_0); store(m, pixels, n4 + 1u, cout4, s3_1); store(m, pixels, n4 + 2u, cout4, s3_2); store(m, pixels, n4 + 3u, cout4, s3_3);
    store(m, pixels, n4 + 4u, cout4, s3_4); store(m, pixels, n4 + 5u, cout4, s3_5); store(m, pixels, n4 + 6u, cout4, s3_6); store(m, pixels, n4 + 7u, cout4, s3_7);
  }
  { let m = m0 + 4u * WG;
    store(m, pixels, n4 + 0u, cout4, s4_0); store(m, pixels, n4 + 1u, cout4, s4_1); store(m, pixels, n4 + 2u, cout4, s4_2); store(m, pixels, n4 + 3u, cout4, s4_3);
    store(m, pixels, n4 + 4u, cout4, s4_4); store(m, pixels, n4 + 5u, cout4, s4_5); store(m, pixels, n4 + 6u, cout4, s4_6); store(m, pixels, n4 + 7u, cout4, s4_7);
  }
  { let m = m0 + 5u * WG;
    store(m, pixels, n4 + 0u, cout4, s5_0); store(m, pixels, n4 + 1u, cout4, s5_1); store(m, pixels, n4 + 2u, cout4, s5_2); store(m, pixels, n4 + 3u, cout4, s5_3);
    store(m, pixels, n4 + 4u, cout4, s5_4); store(m, pixels, n4 + 5u, cout4, s5_5); store(m, pixels, n4 + 6u, cout4, s5_6); store(m, pixels, n4 + 7u, cout4, s5_7);
  }
  { let m = m0 + 6u * WG;
    store(m, pixels, n4 + 0u, cout4, s6_0); store(m, pixels, n4 + 1u, cout4, s6_1); store(m, pixels, n4 + 2u, cout4, s6_2); store(m, pixels, n4 + 3u, cout4, s6_3);
    store(m, pixels, n4 + 4u, cout4, s6_4); store(m, pixels, n4 + 5u, cout4, s6_5); store(m, pixels, n4 + 6u, cout4, s6_6); store(m, pixels, n4 + 7u, cout4, s6_7);
  }
  { let m = m0 + 7u * WG;
    store(m, pixels, n4 + 0u, cout4, s7_0); store(m, pixels, n4 + 1u, cout4, s7_1); store(m, pixels, n4 + 2u, cout4, s7_2); store(m, pixels, n4 + 3u, cout4, s7_3);
    store(m, pixels, n4 + 4u, cout4, s7_4); store(m, pixels, n4 + 5u, cout4, s7_5); store(m, pixels, n4 + 6u, cout4, s7_6); store(m, pixels, n4 + 7u, cout4, s7_7);
  }
  { let m = m0 + 8u * WG;
    store(m, pixels, n4 + 0u, cout4, s8_0); store(m, pixels, n4 + 1u, cout4, s8_1); store(m, pixels, n4 + 2u, cout4, s8_2); store(m, pixels, n4 + 3u, cout4, s8_3);
    store(m, pixels, n4 + 4u, cout4, s8_4); store(m, pixels, n4 + 5u, cout4, s8_5); store(m, pixels, n4 + 6u, cout4, s8_6); store(m, pixels, n4 + 7u, cout4, s8_7);
  }
  { let m = m0 + 9u * WG;
    store(m, pixels, n4 + 0u, cout4, s9_0); store(m, pixels, n4 + 1u, cout4, s9_1); store(m, pixels, n4 + 2u, cout4, s9_2); store(m, pixels, n4 + 3u, cout4, s9_3);
    store(m, pixels, n4 + 4u, cout4, s9_4); store(m, pixels, n4 + 5u, cout4, s9_5); store(m, pixels, n4 + 6u, cout4, s9_6); store(m, pixels, n4 + 7u, cout4, s9_7);
  }
  { let m = m0 + 10u * WG;
    store(m, pixels, n4 + 0u, cout4, s10_0); store(m, pixels, n4 + 1u, cout4, s10_1); store(m, pixels, n4 + 2u, cout4, s10_2); store(m, pixels, n4 + 3u, cout4, s10_3);
    store(m, pixels, n4 + 4u, cout4, s10_4); store(m, pixels, n4 + 5u, cout4, s10_5); store(m, pixels, n4 + 6u, cout4, s10_6); store(m, pixels, n4 + 7u, cout4, s10_7);
  }
  { let m = m0 + 11u * WG;
    store(m, pixels, n4 + 0u, cout4, s11_0); store(m, pixels, n4 + 1u, cout4, s11_1); store(m, pixels, n4 + 2u, cout4, s11_2); store(m, pixels, n4 + 3u, cout4, s11_3);
    store(m, pixels, n4 + 4u, cout4, s11_4); store(m, pixels, n4 + 5u, cout4, s11_5); store(m, pixels, n4 + 6u, cout4, s11_6); store(m, pixels, n4 + 7u, cout4, s11_7);
  }
  { let m = m0 + 12u * WG;
    store(m, pixels, n4 + 0u, cout4, s12_0); store(m, pixels, n4 + 1u, cout4, s12_1); store(m, pixels, n4 + 2u, cout4, s12_2); store(m, pixels, n4 + 3u, cout4, s12_3);
    store(m, pixels, n4 + 4u, cout4, s12_4); store(m, pixels, n4 + 5u, cout4, s12_5); store(m, pixels, n4 + 6u, cout4, s12_6); store(m, pixels, n4 + 7u, cout4, s12_7);
  }
  { let m = m0 + 13u * WG;
    store(m, pixels, n4 + 0u, cout4, s13_0); store(m, pixels, n4 + 1u, cout4, s13_1); store(m, pixels, n4 + 2u, cout4, s13_2); store(m, pixels, n4 + 3u, cout4, s13_3);
    store(m, pixels, n4 + 4u, cout4, s13_4); store(m, pixels, n4 + 5u, cout4, s13_5); store(m, pixels, n4 + 6u, cout4, s13_6); store(m, pixels, n4 + 7u, cout4, s13_7);
  }
  { let m = m0 + 14u * WG;
    store(m, pixels, n4 + 0u, cout4, s14_0); store(m, pixels, n4 + 1u, cout4, s14_1); store(m, pixels, n4 + 2u, cout4, s14_2); store(m, pixels, n4 + 3u, cout4, s14_3);
    store(m, pixels, n4 + 4u, cout4, s14_4); store(m, pixels, n4 + 5u, cout4, s14_5); store(m, pixels, n4 + 6u, cout4, s14_6); store(m, pixels, n4 + 7u, cout4, s14_7);
  }
  { let m = m0 + 15u * WG;
    store(m, pixels, n4 + 0u, cout4, s15_0); store(m, pixels, n4 + 1u, cout4, s15_1); store(m, pixels, n4 + 2u, cout4, s15_2); store(m, pixels, n4 + 3u, cout4, s15_3);
    store(m, pixels, n4 + 4u, cout4, s15_4); store(m, pixels, n4 + 5u, cout4, s15_5); store(m, pixels, n4 + 6u, cout4, s15_6); store(m, pixels, n4 + 7u, cout4, s15_7);
  }
  { let m = m0 + 16u * WG;
    store(m, pixels, n4 + 0u, cout4, s16_0); store(m, pixels, n4 + 1u, cout4, s16_1); store(m, pixels, n4 + 2u, cout4, s16_2); store(m, pixels, n4 + 3u, cout4, s16_3);
    store(m, pixels, n4 + 4u, cout4, s16_4); store(m, pixels, n4 + 5u, cout4, s16_5); store(m, pixels, n4 + 6u, cout4, s16_6); store(m, pixels, n4 + 7u, cout4, s16_7);
  }
  { let m = m0 + 17u * WG;
    store(m, pixels, n4 + 0u, cout4, s17_0); store(m, pixels, n4 + 1u, cout4, s17_1); store(m, pixels, n4 + 2u, cout4, s17_2); store(m, pixels, n4 + 3u, cout4, s17_3);
    store(m, pixels, n4 + 4u, cout4, s17_4); store(m, pixels, n4 + 5u, cout4, s17_5); store(m, pixels, n4 + 6u, cout4, s17_6); store(m, pixels, n4 + 7u, cout4, s17_7);
  }
  { let m = m0 + 18u * WG;
    store(m, pixels, n4 + 0u, cout4, s18_0); store(m, pixels, n4 + 1u, cout4, s18_1); store(m, pixels, n4 + 2u, cout4, s18_2); store(m, pixels, n4 + 3u, cout4, s18_3);
    store(m, pixels, n4 + 4u, cout4, s18_4); store(m, pixels, n4 + 5u, cout4, s18_5); store(m, pixels, n4 + 6u, cout4, s18_6); store(m, pixels, n4 + 7u, cout4, s18_7);
  }
  { let m = m0 + 19u * WG;
    store(m, pixels, n4 + 0u, cout4, s19_0); store(m, pixels, n4 + 1u, cout4, s19_1); store(m, pixels, n4 + 2u, cout4, s19_2); store(m, pixels, n4 + 3u, cout4, s19_3);
    store(m, pixels, n4 + 4u, cout4, s19_4); store(m, pixels, n4 + 5u, cout4, s19_5); store(m, pixels, n4 + 6u, cout4, s19_6); store(m, pixels, n4 + 7u, cout4, s19_7);
  }
  { let m = m0 + 20u * WG;
    store(m, pixels, n4 + 0u, cout4, s20_0); store(m, pixels, n4 + 1u, cout4, s20_1); store(m, pixels, n4 + 2u, cout4, s20_2); store(m, pixels, n4 + 3u, cout4, s20_3);
    store(m, pixels, n4 + 4u, cout4, s20_4); store(m, pixels, n4 + 5u, cout4, s20_5); store(m, pixels, n4 + 6u, cout4, s20_6); store(m, pixels, n4 + 7u, cout4, s20_7);
  }
  { let m = m0 + 21u * WG;
    store(m, pixels, n4 + 0u, cout4, s21_0); store(m, pixels, n4 + 1u, cout4, s21_1); store(m, pixels, n4 + 2u, cout4, s21_2); store(m, pixels, n4 + 3u, cout4, s21_3);
    store(m, pixels, n4 + 4u, cout4, s21_4); store(m, pixels, n4 + 5u, cout4, s21_5); store(m, pixels, n4 + 6u, cout4, s21_6); store(m, pixels, n4 + 7u, cout4, s21_7);
  }
  { let m = m0 + 22u * WG;
    store(m, pixels, n4 + 0u, cout4, s22_0); store(m, pixels, n4 + 1u, cout4, s22_1); store(m, pixels, n4 + 2u, cout4, s22_2); store(m, pixels, n4 + 3u, cout4, s22_3);
    store(m, pixels, n4 + 4u, cout4, s22_4); store(m, pixels, n4 + 5u, cout4, s22_5); store(m, pixels, n4 + 6u, cout4, s22_6); store(m, pixels, n4 + 7u, cout4, s22_7);
  }
  { let m = m0 + 23u * WG;
    store(m, pixels, n4 + 0u, cout4, s23_0); store(m, pixels, n4 + 1u, cout4, s23_1); store(m, pixels, n4 + 2u, cout4, s23_2); store(m, pixels, n4 + 3u, cout4, s23_3);
    store(m, pixels, n4 + 4u, cout4, s23_4); store(m, pixels, n4 + 5u, cout4, s23_5); store(m, pixels, n4 + 6u, cout4, s23_6); store(m, pixels, n4 + 7u, cout4, s23_7);
  }
  { let m = m0 + 24u * WG;
    store(m, pixels, n4 + 0u, cout4, s24_0); store(m, pixels, n4 + 1u, cout4, s24_1); store(m, pixels, n4 + 2u, cout4, s24_2); store(m, pixels, n4 + 3u, cout4, s24_3);
    store(m, pixels, n4 + 4u, cout4, s24_4); store(m, pixels, n4 + 5u, cout4, s24_5); store(m, pixels, n4 + 6u, cout4, s24_6); store(m, pixels, n4 + 7u, cout4, s24_7);
  }
  { let m = m0 + 25u * WG;
    store(m, pixels, n4 + 0u, cout4, s25_0); store(m, pixels, n4 + 1u, cout4, s25_1); store(m, pixels, n4 + 2u, cout4, s25_2); store(m, pixels, n4 + 3u, cout4, s25_3);
    store(m, pixels, n4 + 4u, cout4, s25_4); store(m, pixels, n4 + 5u, cout4, s25_5); store(m, pixels, n4 + 6u, cout4, s25_6); store(m, pixels, n4 + 7u, cout4, s25_7);
  }
  { let m = m0 + 26u * WG;
    store(m, pixels, n4 + 0u, cout4, s26_0); store(m, pixels, n4 + 1u, cout4, s26_1); store(m, pixels, n4 + 2u, cout4, s26_2); store(m, pixels, n4 + 3u, cout4, s26_3);
    store(m, pixels, n4 + 4u, cout4, s26_4); store(m, pixels, n4 + 5u, cout4, s26_5); store(m, pixels, n4 + 6u, cout4, s26_6); store(m, pixels, n4 + 7u, cout4, s26_7);
  }
  { let m = m0 + 27u * WG;
    store(m, pixels, n4 + 0u, cout4, s27_0); store(m, pixels, n4 + 1u, cout4, s27_1); store(m, pixels, n4 + 2u, cout4, s27_2); store(m, pixels, n4 + 3u, cout4, s27_3);
    store(m, pixels, n4 + 4u, cout4, s27_4); store(m, pixels, n4 + 5u, cout4, s27_5); store(m, pixels, n4 + 6u, cout4, s27_6); store(m, pixels, n4 + 7u, cout4, s27_7);
  }
  { let m = m0 + 28u * WG;
    store(m, pixels, n4 + 0u, cout4, s28_0); store(m, pixels, n4 + 1u, cout4, s28_1); store(m, pixels, n4 + 2u, cout4, s28_2); store(m, pixels, n4 + 3u, cout4, s28_3);
    store(m, pixels, n4 + 4u, cout4, s28_4); store(m, pixels, n4 + 5u, cout4, s28_5); store(m, pixels, n4 + 6u, cout4, s28_6); store(m, pixels, n4 + 7u, cout4, s28_7);
  }
  { let m = m0 + 29u * WG;
    store(m, pixels, n4 + 0u, cout4, s29_0); store(m, pixels, n4 + 1u, cout4, s29_1); store(m, pixels, n4 + 2u, cout4, s29_2); store(m, pixels, n4 + 3u, cout4, s29_3);
    store(m, pixels, n4 + 4u, cout4, s29_4); store(m, pixels, n4 + 5u, cout4, s29_5); store(m, pixels, n4 + 6u, cout4, s29_6); store(m, pixels, n4 + 7u, cout4, s29_7);
  }
  { let m = m0 + 30u * WG;
    store(m, pixels, n4 + 0u, cout4, s30_0); store(m, pixels, n4 + 1u, cout4, s30_1); store(m, pixels, n4 + 2u, cout4, s30_2); store(m, pixels, n4 + 3u, cout4, s30_3);
    store(m, pixels, n4 + 4u, cout4, s30_4); store(m, pixels, n4 + 5u, cout4, s30_5); store(m, pixels, n4 + 6u, cout4, s30_6); store(m, pixels, n4 + 7u, cout4, s30_7);
  }
  { let m = m0 + 31u * WG;
    store(m, pixels, n4 + 0u, cout4, s31_0); store(m, pixels, n4 + 1u, cout4, s31_1); store(m, pixels, n4 + 2u, cout4, s31_2); store(m, pixels, n4 + 3u, cout4, s31_3);
    store(m, pixels, n4 + 4u, cout4, s31_4); store(m, pixels, n4 + 5u, cout4, s31_5); store(m, pixels, n4 + 6u, cout4, s31_6); store(m, pixels, n4 + 7u, cout4, s31_7);
  }
}
