// Kernel variants by driver: which driver an adapter's info names, which conv variant each driver
// gets, the fall-back to the known-good variant when a kernel fails to compile or takes too long,
// the adapter script on SwiftShader where its driver is installed, and lavapipe's vector width.

import assert from "node:assert/strict";
import { type AdapterDriver, type AdapterIdentity, chooseVectorWidth, driverOf } from "../core/device.ts";
import { KernelCompileError, type KernelDef } from "../core/kernel.ts";
import {
  convKernelsInUse,
  type ConvVariant,
  convVariant,
  convVariantFor,
  GPU_CONV_TILE,
  GPU_SPLIT_GROUPS,
  gpuConvTile,
  gpuSplitGroups,
  preferredConvVariant,
  setConvVariant,
  settleConvVariant,
  variantOnlyKernels,
} from "../core/ops/conv.ts";
import { gpu } from "./helpers.ts";

const runtime = await gpu();

const LAVAPIPE: AdapterIdentity = {
  vendor: "65541",
  architecture: "",
  device: "0",
  description: "llvmpipe (LLVM 15.0.6, 256 bits)",
};
const SWIFTSHADER: AdapterIdentity = {
  vendor: "6880",
  architecture: "",
  device: "49374",
  description: "SwiftShader Device (Subzero)",
};

const ADAPTERS: { name: string; info: AdapterIdentity; driver: AdapterDriver; variant: ConvVariant }[] = [
  { name: "lavapipe as Deno reports it", info: LAVAPIPE, driver: "lavapipe", variant: "cpu" },
  { name: "SwiftShader as Deno reports it", info: SWIFTSHADER, driver: "swiftshader", variant: "gpu" },
  {
    name: "SwiftShader as a browser reports it",
    info: { vendor: "google", architecture: "swiftshader", device: "", description: "" },
    driver: "swiftshader",
    variant: "gpu",
  },
  {
    name: "SwiftShader by its Vulkan IDs alone",
    info: { vendor: "0x1ae0", architecture: "", device: "0xc0de", description: "" },
    driver: "swiftshader",
    variant: "gpu",
  },
  {
    name: "an unnamed adapter with Mesa's vendor ID",
    info: { vendor: "65541", architecture: "", device: "0", description: "" },
    driver: "lavapipe",
    variant: "cpu",
  },
  {
    name: "an NVIDIA GPU",
    info: { vendor: "4318", architecture: "", device: "8995", description: "NVIDIA H200" },
    driver: "other",
    variant: "gpu",
  },
  {
    name: "an AMD GPU on Mesa's RADV",
    info: {
      vendor: "4098",
      architecture: "",
      device: "29772",
      description: "AMD Radeon RX 7900 (RADV NAVI31)",
    },
    driver: "other",
    variant: "gpu",
  },
];

for (const a of ADAPTERS) {
  Deno.test(`${a.name}: driver ${a.driver}, "${a.variant}" conv kernels`, () => {
    assert.equal(driverOf(a.info), a.driver);
    assert.equal(convVariantFor(a.info), a.variant);
  });
}

Deno.test("the written-out 32×32 tiles are never chosen for SwiftShader, even though it is a CPU adapter", () => {
  assert.equal(convVariantFor(SWIFTSHADER), "gpu");
  assert.deepEqual(variantOnlyKernels(convVariantFor(SWIFTSHADER)), []);
  assert.ok(variantOnlyKernels("cpu").some((def) => def.file.endsWith("_tile32.wgsl")));
});

Deno.test("ANOGAN_CONV_VARIANT overrides the driver's choice; an unknown value is refused", () => {
  assert.equal(preferredConvVariant(SWIFTSHADER, "cpu"), "cpu");
  assert.equal(preferredConvVariant(LAVAPIPE, "gpu"), "gpu");
  assert.equal(preferredConvVariant(LAVAPIPE, ""), "cpu");
  assert.equal(preferredConvVariant(SWIFTSHADER, undefined), "gpu");
  assert.throws(() => preferredConvVariant(LAVAPIPE, "tile32"), /must be "cpu" or "gpu", got "tile32"/);
});

Deno.test("ANOGAN_GPU_CONV_TILE and ANOGAN_GPU_SPLIT_GROUPS tune the gpu variant; bad values are refused", () => {
  assert.deepEqual(gpuConvTile(""), GPU_CONV_TILE);
  assert.deepEqual(gpuConvTile("8,4,128"), { TM: 8, TN: 4, WG: 128 });
  for (const bad of ["3,3,3", "4,6,64", "4,4,48", "32,16,64", "4,4", "4,4,64,1", "a,b,c"]) {
    assert.throws(() => gpuConvTile(bad), new RegExp(`ANOGAN_GPU_CONV_TILE must be .*got "${bad}"`));
  }
  assert.equal(gpuSplitGroups(undefined, false), GPU_SPLIT_GROUPS.gpu);
  assert.equal(gpuSplitGroups("", true), GPU_SPLIT_GROUPS.cpuAdapter);
  assert.equal(gpuSplitGroups("64", true), 64);
  assert.equal(gpuSplitGroups("4096", false), 4096);
  for (const bad of ["0", "1.5", "70000", "many"]) {
    assert.throws(
      () => gpuSplitGroups(bad, false),
      new RegExp(`ANOGAN_GPU_SPLIT_GROUPS must be .*got "${bad}"`),
    );
  }
});

Deno.test("a run's record names the conv kernels in use, with the gpu variant's tile and split-K", async () => {
  const { provenance } = await import("../harness/provenance.ts");
  try {
    setConvVariant("cpu");
    assert.equal(convKernelsInUse(), "cpu (tile32)");
    setConvVariant("gpu");
    const t = gpuConvTile(Deno.env.get("ANOGAN_GPU_CONV_TILE"));
    const groups = gpuSplitGroups(Deno.env.get("ANOGAN_GPU_SPLIT_GROUPS"), runtime.gpu.isCpu);
    assert.equal(convKernelsInUse(), `gpu (tile ${t.TM},${t.TN},${t.WG}; split-K ${groups} groups)`);
    assert.equal((await provenance(runtime)).convKernels, convKernelsInUse());
  } finally {
    setConvVariant(null);
  }
});

Deno.test("this runtime records its driver and, with no compile failure, uses that driver's variant", () => {
  assert.equal(runtime.gpu.driver, driverOf(runtime.gpu.info));
  if (!Deno.env.get("ANOGAN_CONV_VARIANT")) assert.equal(convVariant(), convVariantFor(runtime.gpu.info));
});

/** A kernel that cannot compile: conv2d_forward_vec4.wgsl needs TM, TN and WG. */
const BROKEN: KernelDef = { file: "conv2d_forward_vec4.wgsl", storage: 4, writes: [3] };

Deno.test("a variant kernel that fails to compile gives the known-good variant and a one-line notice", async () => {
  const settled = await settleConvVariant(
    "cpu",
    runtime.gpu.description,
    (def) => runtime.compileChecked(def, 60_000),
    [BROKEN],
  );
  assert.equal(settled.variant, "gpu");
  assert.ok(settled.notice, "expected a notice");
  assert.doesNotMatch(settled.notice, /\n/);
  assert.match(settled.notice, /"cpu" variant does not compile/);
  assert.match(settled.notice, /conv2d_forward_vec4\.wgsl/);
  assert.match(settled.notice, /TN|TM|WG/); // the driver's own words: the missing constant
  assert.match(settled.notice, /using the "gpu" variant/);
  await runtime.sync(); // the failure stayed in its error scopes: nothing surfaces later
});

Deno.test("a pipeline that does not arrive within the time budget is a compile failure", async () => {
  const device = runtime.device as GPUDevice & { createComputePipelineAsync: unknown };
  // A driver that never answers: the pipeline promise stays pending.
  device.createComputePipelineAsync = () => new Promise<GPUComputePipeline>(() => {});
  try {
    const def: KernelDef = { file: "fill.wgsl", constants: { WG: 48 }, storage: 1, writes: [0] };
    await assert.rejects(
      runtime.compileChecked(def, 50),
      (e) => e instanceof KernelCompileError && /no pipeline after 50 ms/.test(e.reason),
    );
    const settled = await settleConvVariant(
      "cpu",
      "a slow driver",
      (d) => runtime.compileChecked(d, 50),
      [def],
    );
    assert.equal(settled.variant, "gpu");
    assert.match(settled.notice ?? "", /fill\.wgsl.*no pipeline after 50 ms.*using the "gpu" variant/);
  } finally {
    delete (device as { createComputePipelineAsync?: unknown }).createComputePipelineAsync;
  }
  assert.equal(typeof runtime.device.createComputePipelineAsync, "function");
  await runtime.sync();
});

Deno.test("kernels that compile keep the wanted variant, with no notice", async () => {
  const wanted = convVariantFor(runtime.gpu.info);
  const settled = await settleConvVariant(
    wanted,
    runtime.gpu.description,
    (def) => runtime.compileChecked(def, 60_000),
  );
  assert.deepEqual(settled, { variant: wanted, notice: null });
});

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const haveSwiftShader = (() => {
  try {
    return Deno.statSync(SWIFTSHADER_ICD).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: 'on SwiftShader the adapter script names the driver and the "gpu" conv kernels',
  ignore: !haveSwiftShader,
  async fn() {
    const script = new URL("../scripts/adapter.ts", import.meta.url).pathname;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", "--allow-write", script],
      env: { DENO_WEBGPU_BACKEND: "vulkan", VK_ICD_FILENAMES: SWIFTSHADER_ICD, ANOGAN_CONV_VARIANT: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.match(text, /SwiftShader/);
    assert.match(text, /driver swiftshader: "gpu" conv kernels/);
  },
});

Deno.test("lavapipe's vector width: 512 bits on an AVX-512 CPU, in a shader cache of its own, unless the user chose", () => {
  const avx512 = "flags : fpu sse avx2 fma avx512f avx512dq avx512vl avx512bw";
  const home = { HOME: "/home/u" };
  assert.deepEqual(chooseVectorWidth(avx512, home), {
    LP_NATIVE_VECTOR_WIDTH: "512",
    MESA_SHADER_CACHE_DIR: "/home/u/.cache/anogan-lavapipe-512",
  });
  assert.deepEqual(chooseVectorWidth(avx512, { ...home, XDG_CACHE_HOME: "/c" }), {
    LP_NATIVE_VECTOR_WIDTH: "512",
    MESA_SHADER_CACHE_DIR: "/c/anogan-lavapipe-512",
  });
  // The user's cache directory and width are kept; without a home, only the width is set.
  assert.deepEqual(chooseVectorWidth(avx512, { ...home, MESA_SHADER_CACHE_DIR: "/m" }), {
    LP_NATIVE_VECTOR_WIDTH: "512",
  });
  assert.deepEqual(chooseVectorWidth(avx512, {}), { LP_NATIVE_VECTOR_WIDTH: "512" });
  assert.deepEqual(chooseVectorWidth(avx512, { ...home, LP_NATIVE_VECTOR_WIDTH: "256" }), {});
  // No AVX-512 (or only part of it): Mesa's default.
  assert.deepEqual(chooseVectorWidth("flags : fpu sse avx2 fma", home), {});
  assert.deepEqual(chooseVectorWidth("flags : avx2 avx512f", home), {});
});
