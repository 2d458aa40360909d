// The runtime's contracts: device errors, scopes and steps, readback, shape errors, the RNG, state dicts.

import assert from "node:assert/strict";
import * as T from "../core/mod.ts";
import { gpu } from "./helpers.ts";

const runtime = await gpu();

Deno.test("the adapter's description is printable and names a CPU adapter as such", () => {
  assert.ok(runtime.gpu.description.length > 0);
  if (runtime.gpu.info.isFallbackAdapter) assert.match(runtime.gpu.description, /CPU adapter/);
  assert.ok(runtime.gpu.limits.maxStorageBufferBindingSize >= 128 * 2 ** 20);
});

Deno.test("without a Vulkan driver, the adapter script fails with the install hint", async () => {
  const script = new URL("../scripts/adapter.ts", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", script],
    // Vulkan only (no OpenGL fallback), with the loader pointed at a driver that does not exist.
    env: {
      DENO_WEBGPU_BACKEND: "vulkan",
      VK_DRIVER_FILES: "/nonexistent/icd.json",
      VK_ICD_FILENAMES: "/nonexistent/icd.json",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 1, text);
  assert.match(text, /no WebGPU adapter/);
  assert.match(text, /mesa-vulkan-drivers/);
});

Deno.test("a GPU validation error surfaces as a thrown GpuError at the next readback", async () => {
  const t = T.zeros([4]);
  // unary.wgsl without its OP constant does not compile: the pipeline and the dispatch are invalid.
  runtime.dispatch(
    { file: "unary.wgsl", constants: { WG: 64 }, storage: 2, writes: [1] },
    [t.buffer, t.buffer],
    new T.Params().u32(4),
    [1],
    "broken",
  );
  await assert.rejects(() => t.read(), T.GpuError);
  // The error is reported once; the device keeps working.
  assert.deepEqual([...await T.ones([3]).read()], [1, 1, 1]);
});

Deno.test("shape mismatches name the op and both shapes", () => {
  const a = T.zeros([2, 3]), b = T.zeros([4, 5]);
  assert.throws(() => T.add(a, b), /add: shapes \[2,3\] and \[4,5\] cannot be broadcast together/);
  assert.throws(() => T.matmul(a, b), /matmul: shapes \[2,3\] and \[4,5\] do not chain/);
  assert.throws(() => T.linear(a, b), /linear: input \[2,3\] has 3 features, weight \[4,5\] expects 5/);
  assert.throws(() => T.l1Sum(a, b), /l1Sum: shapes \[2,3\] and \[4,5\] must be equal/);
  assert.throws(() => T.reshape(a, [4, 2]), /reshape: cannot view \[2,3\]/);
  assert.throws(() => T.sum(a, 2), /sum: axis 2 is out of range for shape \[2,3\]/);
  assert.throws(() => T.backward(T.zeros([2])), /does not require a gradient/);
});

Deno.test("a scope frees what it does not return; a disposed tensor cannot be used", async () => {
  const stats = () => runtime.pool.stats().inUseBytes;
  await runtime.sync();
  const before = stats();
  const kept = T.scope(() => {
    const a = T.ones([1000]);
    const b = T.add(a, a);
    return T.mul(b, 3);
  });
  assert.equal(stats() - before, 4096, "only the returned tensor stays in use");
  assert.deepEqual((await kept.read()).slice(0, 2), Float32Array.of(6, 6));
  kept.dispose();
  assert.equal(stats(), before);
  await assert.rejects(() => kept.read(), /used after being disposed/);
});

Deno.test("a step inside a step joins the outer submit; tensors it returns reach the outer step", async () => {
  await runtime.sync();
  const before = runtime.submits;
  const total = T.step(() => {
    const inner = T.step(() => T.add(T.ones([8]), T.ones([8])));
    assert.equal(runtime.submits, before, "the inner step did not submit");
    return T.mul(inner, 2);
  });
  assert.equal(runtime.submits - before, 1);
  assert.deepEqual(await total.read(), new Float32Array(8).fill(4));
  total.dispose();
});

Deno.test("reshape views share storage and keep it alive until the last view is disposed", async () => {
  const a = T.Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  const v = T.reshape(a, [3, -1]);
  assert.deepEqual(v.shape, [3, 2]);
  a.dispose();
  assert.deepEqual([...await v.read()], [1, 2, 3, 4, 5, 6]);
  v.dispose();
});

Deno.test("backward accumulates into leaf gradients across calls; noGrad records nothing", async () => {
  const w = T.Tensor.from([1, 2, 3]);
  w.requiresGrad = true;
  T.backward(T.sum(T.mul(w, w)));
  T.backward(T.sum(T.mul(w, 5)));
  assert.deepEqual([...await w.grad!.read()], [7, 9, 11]); // 2w + 5
  const y = T.noGrad(() => T.mul(w, w));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
});

Deno.test("Philox 4x32-10 reproduces the Random123 known-answer vectors", () => {
  const hex = (a: Uint32Array) => [...a].map((x) => x.toString(16).padStart(8, "0")).join(" ");
  assert.equal(hex(T.philox4x32([0, 0, 0, 0], [0, 0])), "6627e8d5 e169c58d bc57ac4c 9b00dbd8");
  const ones = 0xffffffff;
  assert.equal(
    hex(T.philox4x32([ones, ones, ones, ones], [ones, ones])),
    "408f276d 41c83b0e a20bc7c6 6d5451fd",
  );
  const pi = T.philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]);
  assert.equal(hex(pi), "d16cfe09 94fdcceb 5001e420 24126ea1");
});

Deno.test("the GPU draws the same uniform stream as the CPU, bit for bit, and the same normals to rounding", async () => {
  for (const [lo, hi] of [[0, 1], [-1, 1]]) {
    const cpu = new T.Rng(99n), dev = new T.Rng(99n);
    cpu.uniform(3); // advance both by a partial block
    dev.uniform(3);
    const a = cpu.uniform(10_001, lo, hi);
    const b = await T.randomUniform([10_001], dev, lo, hi).read();
    assert.deepEqual(new Uint32Array(b.buffer), new Uint32Array(a.buffer));
    assert.equal(cpu.counter, dev.counter);
    assert.ok(a.every((v) => v >= lo && v < hi));
  }
  const cpu = new T.Rng(5), dev = new T.Rng(5);
  const a = cpu.normal(4096, 0.5, 2);
  const b = await T.randomNormal([4096], dev, 0.5, 2).read();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-4, `normals differ by ${worst}`);
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  const sd = Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
  assert.ok(Math.abs(m - 0.5) < 0.1 && Math.abs(sd - 2) < 0.1, `mean ${m}, std ${sd}`);
});

Deno.test("an RNG restored from its state continues the same stream", () => {
  const g = new T.Rng(12345678901234n);
  g.uniform(17);
  const copy = T.Rng.fromState(JSON.parse(JSON.stringify(g.state())));
  assert.deepEqual(g.uniform(9), copy.uniform(9));
  assert.throws(() => new T.Rng(-1), /seed must be an integer/);
});

Deno.test("a Linear state dict round-trips through safetensors with PyTorch's names and layouts", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  const a = new T.Linear(5, 3, new T.Rng(1));
  await T.writeSafetensors(path, await a.hostStateDict(), { format: "pt" });
  const file = await T.readSafetensors(path);
  assert.deepEqual(file.tensors.get("weight")!.shape, [3, 5]);
  assert.equal(file.metadata.format, "pt");
  const b = new T.Linear(5, 3, new T.Rng(2));
  b.loadStateDict(file.tensors, path);
  assert.deepEqual(await b.weight.read(), await a.weight.read());
  assert.deepEqual(await b.bias!.read(), await a.bias!.read());
  const wrong = new T.Linear(4, 3, new T.Rng(3));
  assert.throws(
    () => wrong.loadStateDict(file.tensors, path),
    /tensor weight has shape \[3,5\], the model expects \[3,4\]/,
  );
  await Deno.remove(path);
});

Deno.test("safetensors: corrupt, truncated and foreign files fail with messages naming the file", () => {
  const good = T.encodeSafetensors([["w", { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }]], { k: "v" });
  const decoded = T.decodeSafetensors(good, "good.safetensors");
  assert.deepEqual([...decoded.tensors.get("w")!.data], [1, 2, 3, 4]);
  assert.equal((good.length - 8) % 8, 0, "data is 8-byte aligned");
  assert.throws(() => T.decodeSafetensors(good.slice(0, 5), "a.st"), /a\.st: file is 5 bytes/);
  assert.throws(
    () => T.decodeSafetensors(good.slice(0, good.length - 4), "b.st"),
    /b\.st: .*(truncated|cover)/,
  );
  const badJson = good.slice();
  badJson[8] = 0x7b + 1;
  assert.throws(() => T.decodeSafetensors(badJson, "c.st"), /c\.st: header is not valid JSON/);
  const f16 = new TextEncoder().encode(
    JSON.stringify({ w: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }),
  );
  const bytes = new Uint8Array(8 + f16.length + 4);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(f16.length), true);
  bytes.set(f16, 8);
  assert.throws(
    () => T.decodeSafetensors(bytes, "d.st"),
    /d\.st: tensor w has dtype "F16"; only F32 is supported/,
  );
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => T.decodeSafetensors(huge, "e.st"), /e\.st: header length/);
});

Deno.test("writes are atomic: a failed write leaves the previous file intact and no temp file", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  await T.writeSafetensors(path, [["a", { shape: [1], data: Float32Array.of(7) }]]);
  await assert.rejects(
    () => T.writeSafetensors(path, [["a", { shape: [2], data: Float32Array.of(1) }]]),
    /shape \[2\] holds 2 values/,
  );
  assert.deepEqual([...(await T.readSafetensors(path)).tensors.get("a")!.data], [7]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);
  await Deno.remove(dir, { recursive: true });
});
