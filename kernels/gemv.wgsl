// Matrix–vector products and the outer product, the linear layers with one output or one input (a
// discriminator's classifier and its gradients), where a GEMM tile would be almost all idle lanes:
//   rows:    y[m] = b + Σ_k A[m, k]·v[k]      (A [M, K], v [K]; one workgroup per row)
//   columns: y[n] = Σ_k u[k]·B[k, n]          (u [K], B [K, N]; one invocation per vec4 of y)
//   outer:   y[m, n] = v[m]·b[n]              (v [M], b [N]; one invocation per vec4 of y)
// Used by: core/ops/matmul.ts (matmulKernel: A·v with N = 1, uᵀ·B with M = 1, the weight gradient of a
// one-output layer, and a product with K = 1, its input gradient). Rows: K a multiple of 4 (A's rows
// read as vec4); columns and outer: N a multiple of 4.
// Sums in a fixed order (deterministic): rows — invocation l of WG adds the vec4 columns l, l + WG, …
// in order (each vec4's four products in order), then the WG partial sums meet in a fixed binary tree,
// then the bias is added; columns — k in order, one fused multiply-add per k; outer — one product.
// Constants: WG (rows: invocations per workgroup, a power of two; columns, outer: per workgroup).
// Bindings: 0 uniform Params; 1 A, B or b (read, vec4); 2 v or u (read); 3 bias (read; rows only,
// ignored unless has_bias); 4 y (write, vec4: rows writes its M values one by one).
// Dispatch: rows — grid1d(M); columns — grid1d(ceil(N / 4 / WG)); outer — grid1d(ceil(M·N / 4 / WG)).

struct Params { rows: u32, k: u32, n: u32, has_bias: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = wid.y * groups.x + wid.x;
  let k4 = p.k / 4u;
  let row = min(m, p.rows - 1u) * k4;
  var acc = 0.0;
  for (var c = lid.x; c < k4; c += WG) {
    let x = a[row + c];
    let w = vec4<f32>(v[4u * c], v[4u * c + 1u], v[4u * c + 2u], v[4u * c + 3u]);
    acc = fma(x.w, w.w, fma(x.z, w.z, fma(x.y, w.y, fma(x.x, w.x, acc))));
  }
  partial[lid.x] = acc;
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    workgroupBarrier();
    if (lid.x < half) { partial[lid.x] += partial[lid.x + half]; }
  }
  if (lid.x == 0u && m < p.rows) {
    let s = partial[0];
    y[m / 4u][m % 4u] = select(s, s + bias[0], p.has_bias != 0u);
  }
}

@compute @workgroup_size(WG)
fn columns(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
           @builtin(local_invocation_id) lid: vec3<u32>) {
  let n4 = p.n / 4u;
  let c = (wid.y * groups.x + wid.x) * WG + lid.x;
  if (c >= n4) { return; }
  var acc = vec4<f32>();
  for (var k = 0u; k < p.k; k++) {
    acc = fma(vec4<f32>(v[k]), a[k * n4 + c], acc);
  }
  y[c] = acc;
}

@compute @workgroup_size(WG)
fn outer(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
  let n4 = p.n / 4u;
  let i = (wid.y * groups.x + wid.x) * WG + lid.x;
  if (i >= p.rows * n4) { return; }
  y[i] = vec4<f32>(v[i / n4]) * a[i % n4];
}
