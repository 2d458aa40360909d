// `deno task test:swiftshader`: the op, conv, batch-norm, optimiser, training and mapping tests again on
// Google's SwiftShader Vulkan driver, a second CPU driver beside lavapipe. Kernel variants are chosen by
// driver, so this is what keeps the kernels that SwiftShader gets compiling and correct there.
//
// SwiftShader ships with Debian's `chromium` package. The subset is every file that checks an op, a
// gradient, an optimiser, or a training or mapping step against the float64 oracle or PyTorch, and the
// driver table; the other files test the harness (data, metrics, CLIs, experiments) over the same
// kernels. On a 2-core machine it takes about 2 min on SwiftShader (1.5 min on lavapipe), train_test.ts
// more than half of it, so nothing needs leaving out for time.
// conv_test.ts runs without its "cpu" variant tests: those force lavapipe's written-out 32×32 tiles,
// which SwiftShader cannot compile (it grows past 20 GB trying), and the runtime never gives it them.
// runtime_test.ts is not in it: its check that GPU normals match the CPU's within 1e-4 fails here
// (1.2e-3 apart: SwiftShader's sin, cos and log are less exact than lavapipe's, within what Vulkan allows).

const ICD = Deno.env.get("SWIFTSHADER_ICD") ?? "/usr/lib/chromium/vk_swiftshader_icd.json";

const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-run"];
const RUNS: { files: string[]; filter?: string }[] = [
  {
    files: [
      "tests/drivers_test.ts",
      "tests/ops_test.ts",
      "tests/batchnorm_test.ts",
      "tests/mlp_test.ts",
      "tests/dcgan_torch_test.ts",
      "tests/mapping_torch_test.ts",
      "tests/mapping_test.ts",
      "tests/train_test.ts",
    ],
  },
  {
    files: ["tests/conv_test.ts"],
    // Every conv test but the "cpu" variant ones (deno's --filter has no negative match).
    filter: "/gpu kernels|PyTorch|bit-identical|bad conv arguments|frozen weights|state dicts/",
  },
];

/**
 * The subset peaks near 0.6 GiB here; a run that grows past this is compiling a kernel SwiftShader
 * cannot take (the tiles grow ~1 GiB every 15 s): stop it before the OOM killer picks a process.
 */
const MAX_RSS_GIB = 4;
const MAX_MINUTES = 30;

try {
  Deno.statSync(ICD);
} catch {
  console.error(
    `test:swiftshader: SwiftShader's Vulkan driver is missing: no ${ICD}.\n` +
      "Install it with `apt-get install chromium` (Debian ships SwiftShader with it), " +
      "or set SWIFTSHADER_ICD to its ICD json.",
  );
  Deno.exit(1);
}

const root = new URL("..", import.meta.url).pathname;
const env = { VK_ICD_FILENAMES: ICD, VK_DRIVER_FILES: ICD, DENO_WEBGPU_BACKEND: "vulkan" };

// The loader silently offers another driver when this one fails to load: check that it is SwiftShader.
const adapter = await new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-read", "--allow-env", "--allow-write", "scripts/adapter.ts"],
  cwd: root,
  env,
  stdout: "piped",
}).output();
const adapterText = new TextDecoder().decode(adapter.stdout);
if (!adapter.success || !/driver swiftshader/.test(adapterText)) {
  console.error(`test:swiftshader: ${ICD} did not give a SwiftShader adapter:\n${adapterText}`);
  Deno.exit(1);
}
console.log(adapterText.trim());

/** Resident memory of a process in GiB; null once it is gone. Deno reads /proc only with --allow-all. */
function rssGiB(pid: number): number | null {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const kib = /VmRSS:\s+(\d+) kB/.exec(status);
  return kib ? Number(kib[1]) / 2 ** 20 : null;
}

/** Kills the child when it grows past the memory limit or the time limit; says why, or null. */
async function guard(child: Deno.ChildProcess, finished: () => boolean): Promise<string | null> {
  const started = performance.now();
  while (!finished()) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rss = rssGiB(child.pid);
    let reason: string | null = null;
    if (rss !== null && rss > MAX_RSS_GIB) {
      reason = `its memory reached ${rss.toFixed(1)} GiB (limit ${MAX_RSS_GIB}); ` +
        "is it compiling a kernel variant SwiftShader cannot take (ANOGAN_CONV_VARIANT=cpu)?";
    }
    if (performance.now() - started > MAX_MINUTES * 60_000) reason = `it ran past ${MAX_MINUTES} min`;
    if (reason !== null && !finished()) {
      try {
        child.kill("SIGKILL");
      } catch {
        return null; // it ended on its own meanwhile
      }
      return reason;
    }
  }
  return null;
}

const t0 = performance.now();
let failed = false;
for (const run of RUNS) {
  const args = ["test", ...PERMISSIONS, ...run.files, ...(run.filter ? ["--filter", run.filter] : [])];
  console.log(`\n$ deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), { args, cwd: root, env }).spawn();
  let done = false;
  const stopped = guard(child, () => done);
  const status = await child.status;
  done = true;
  const reason = await stopped;
  if (reason) console.error(`test:swiftshader: stopped ${run.files.join(" ")}: ${reason}`);
  failed ||= !status.success;
}
console.log(
  `\ntest:swiftshader: ${failed ? "FAILED" : "ok"} in ${((performance.now() - t0) / 60_000).toFixed(1)} min`,
);
Deno.exit(failed ? 1 : 0);
