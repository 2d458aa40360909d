// Helpers shared by the benchmark scripts: statistics and result files.

import { writeFileAtomic } from "../core/io/safetensors.ts";

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** This machine's CPU model, from /proc/cpuinfo (through grep: Deno reads /proc only with --allow-all). */
export async function cpuName(): Promise<string> {
  const out = await new Deno.Command("grep", {
    args: ["-m1", "model name", "/proc/cpuinfo"],
    stdout: "piped",
  })
    .output().catch(() => null);
  return (out && new TextDecoder().decode(out.stdout).split(":")[1]?.trim()) || "unknown CPU";
}

/** Writes `bench/results/NAME-<timestamp>.json` atomically and returns its path. */
export async function writeResults(name: string, results: unknown): Promise<string> {
  const dir = new URL("../bench/results/", import.meta.url).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = `${dir}${name}-${stamp}.json`;
  const body = {
    date: new Date().toISOString(),
    cpu: await cpuName(),
    cores: navigator.hardwareConcurrency,
    results,
  };
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(body, null, 2) + "\n"));
  return path;
}

/** Runs a PyTorch companion script and parses its JSON; null (with a message) when it fails. */
export async function runTorch(script: string, args: string[]): Promise<Record<string, unknown> | null> {
  const path = new URL(script, import.meta.url).pathname; // scripts/ beside this file
  try {
    const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: [path, ...args],
      env: { OPENBLAS_NUM_THREADS: "1" }, // torch's own threads; OpenBLAS threads on top oversubscribe
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(new TextDecoder().decode(stderr).trim().split("\n").at(-1));
    return JSON.parse(new TextDecoder().decode(stdout));
  } catch (e) {
    console.error(`PyTorch figures skipped: ${(e as Error).message}`);
    return null;
  }
}
