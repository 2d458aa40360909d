// `deno task bench TARGET [flags]`: runs one benchmark, bench/TARGET.ts, whose `main(args)` parses its
// flags; `deno task bench TARGET --help` says what it measures.

import { UsageError } from "./util.ts";

/** The benchmarks, each a module beside this one, with what it measures. */
export const TARGETS: Record<string, string> = {
  runtime: "dispatch overhead inside one submit, elementwise and batch-norm bandwidth",
  kernels: "every layer of the 64×64 DCGAN and the G forward, against TensorFlow.js and PyTorch",
  train: "images/s of one DCGAN training step, against TensorFlow.js and PyTorch",
  mapping: "latent-mapping throughput per batch size, against TensorFlow.js and PyTorch",
  encoder: "encoder mapping against Γ = 500 iterative mapping, on a trained run",
};

function usage(): string {
  const width = Math.max(...Object.keys(TARGETS).map((t) => t.length));
  return [
    "usage: deno task bench TARGET [flags]   (deno task bench TARGET --help for its flags)",
    "",
    ...Object.entries(TARGETS).map(([t, what]) => `  ${t.padEnd(width)}  ${what}`),
  ].join("\n");
}

if (import.meta.main) {
  const [target, ...args] = Deno.args;
  if (target === "--help" || target === "-h") {
    console.log(usage());
    Deno.exit(0);
  }
  if (!target || !(target in TARGETS)) {
    console.error(`error: ${target ? `unknown benchmark "${target}"` : "name a benchmark"}\n\n${usage()}`);
    Deno.exit(1);
  }
  const bench: { main(args: string[]): Promise<void> } = await import(`./${target}.ts`);
  try {
    await bench.main(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message} (see deno task bench ${target} --help)`);
    Deno.exit(1);
  }
}
