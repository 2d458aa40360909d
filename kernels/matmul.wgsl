// C[M,N] = op(A) · op(B) (+ bias[N]), op = identity or transpose; each invocation computes a 4×4 tile
// of C with registers only, reading A and B straight from storage (no workgroup memory, no barriers),
// summing over K in order (deterministic).
// Used by: core/ops/matmul.ts (matmul, linear and their gradients).
// Constants: TRANS_A (A stored [K,M]), TRANS_B (B stored [N,K]), HAS_BIAS; workgroup 8×8.
// Bindings: 0 uniform Params { M, N, K }; 1 A (read); 2 B (read); 3 bias (read; unused unless
// HAS_BIAS); 4 C (write). Row-major.
// Dispatch: (ceil(N / 32), ceil(M / 32)).

struct Params { M: u32, N: u32, K: u32, _p: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

fn load_a(m: u32, k: u32) -> f32 {
  if (m >= p.M) { return 0.0; }
  if (TRANS_A) { return A[k * p.M + m]; }
  return A[m * p.K + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  if (n >= p.N) { return 0.0; }
  if (TRANS_B) { return B[n * p.K + k]; }
  return B[k * p.N + n];
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < p.K; k++) {
    let b = vec4<f32>(load_b(k, n0), load_b(k, n0 + 1u), load_b(k, n0 + 2u), load_b(k, n0 + 3u));
    for (var i = 0u; i < 4u; i++) {
      acc[i] += load_a(m0 + i, k) * b;
    }
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      var v = acc[i][j];
      if (HAS_BIAS) { v += bias[n]; }
      C[m * p.N + n] = v;
    }
  }
}
