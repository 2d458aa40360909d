// Where a result came from: adapter, conv kernels, runtime and project version, recorded in every run's
// config.

import type { Runtime } from "../core/kernel.ts";
import { convKernelsInUse } from "../core/ops/conv.ts";

/** The project's git commit (with "+dirty" when the tree has changes), or "unknown" outside git. */
export async function projectCommit(): Promise<string> {
  const root = new URL("..", import.meta.url).pathname;
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args: ["-C", root, ...args],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  try {
    const head = await git("rev-parse", "HEAD");
    if (!head) return "unknown";
    const dirty = await git("status", "--porcelain", "--untracked-files=no");
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown"; // no git, or no permission to run it
  }
}

export async function provenance(rt: Runtime): Promise<Record<string, string>> {
  return {
    adapter: rt.gpu.description,
    convKernels: convKernelsInUse(),
    deno: Deno.version.deno,
    commit: await projectCommit(),
    date: new Date().toISOString(),
  };
}
