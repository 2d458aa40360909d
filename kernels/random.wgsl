// Philox 4x32-10 random numbers: uniform in [lo, hi) or normal (Box–Muller), the same u32 stream as
// core/random.ts on the CPU. Counter block b = base + i (64-bit), key = the seed; one block → 4 values.
// Used by: core/random.ts (randomUniform, randomNormal).
// Constants: NORMAL (false: uniform, true: normal), WG (workgroup size).
// Bindings: 0 uniform Params; 1 out: array<f32> (write), out[4 i + j] for j < 4 while < n.
// Includes: flat.wgsl (the entry point: block i of ceil(n / 4)).

//!include flat.wgsl
struct Params { n: u32, key0: u32, key1: u32, base_lo: u32, base_hi: u32, a: f32, b: f32, _p: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

fn mulhi(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let t = a_lo * b_lo;
  let m1 = a_hi * b_lo + (t >> 16u);
  let m2 = a_lo * b_hi + (m1 & 0xffffu);
  return a_hi * b_hi + (m1 >> 16u) + (m2 >> 16u);
}

fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = mulhi(0xD2511F53u, c.x);
    let lo0 = 0xD2511F53u * c.x;
    let hi1 = mulhi(0xCD9E8D57u, c.z);
    let lo1 = 0xCD9E8D57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

// 24 high bits → [0, 1), exactly representable.
fn unit(x: u32) -> f32 {
  return f32(x >> 8u) * (1.0 / 16777216.0);
}

// Blocks of 4 values: ceil(n / 4).
fn elements() -> u32 { return p.n / 4u + select(0u, 1u, p.n % 4u != 0u); }

fn element(i: u32) {
  let lo = p.base_lo + i;
  let carry = select(0u, 1u, lo < i);
  let bits = philox(vec4<u32>(lo, p.base_hi + carry, 0u, 0u), vec2<u32>(p.key0, p.key1));
  var v: vec4<f32>;
  if (NORMAL) {
    let u1 = f32((bits.x >> 8u) + 1u) * (1.0 / 16777216.0); // (0, 1]
    let u3 = f32((bits.z >> 8u) + 1u) * (1.0 / 16777216.0);
    let r1 = sqrt(-2.0 * log(u1));
    let r2 = sqrt(-2.0 * log(u3));
    let t1 = 6.283185307179586 * unit(bits.y);
    let t2 = 6.283185307179586 * unit(bits.w);
    v = vec4<f32>(r1 * cos(t1), r1 * sin(t1), r2 * cos(t2), r2 * sin(t2)) * p.b + p.a;
  } else {
    let u = vec4<f32>(unit(bits.x), unit(bits.y), unit(bits.z), unit(bits.w));
    v = p.a + (p.b - p.a) * u;
  }
  for (var j = 0u; j < 4u; j++) {
    if (i * 4u + j < p.n) { out[i * 4u + j] = v[j]; }
  }
}
