// What the benchmarks share: flags and their errors, statistics, the machine's name, the PyTorch call,
// and the report (JSON under bench/results/, markdown tables on stdout and in BENCHMARKS.md).

import { parseArgs, type ParseArgsConfig } from "node:util";
import { writeFileAtomic } from "../core/io/safetensors.ts";
import type { DcganConfig } from "../anogan/dcgan.ts";

// ---- flags -----------------------------------------------------------------------------------------

/** A wrong flag or value: the dispatcher prints `error: ...` and exits with code 1, without a stack trace. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Flags<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>["values"];

/**
 * Parses a benchmark's flags. With `--help` (or `-h`) it prints `usage` and returns null; an unknown
 * flag or a stray argument becomes a UsageError.
 */
export function parseFlags<O extends Options>(args: string[], options: O, usage: string): Flags<O> | null {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return null;
  }
  try {
    return parseArgs({ args, options, strict: true }).values as Flags<O>;
  } catch (e) {
    // As scripts/cli.ts words them: one line, naming the flag.
    const message = (e as Error).message.replace(/\s*\n\s*/g, " ");
    const unknown = message.match(/^Unknown option '([^']+)'/);
    throw new UsageError(unknown ? `unknown flag ${unknown[1]}` : message);
  }
}

export function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${flag} must be a positive integer, got ${value}`);
  }
  return n;
}

export function imageSize(value: string | undefined): 32 | 64 {
  if (value !== "32" && value !== "64") throw new UsageError(`--size must be 32 or 64, got ${value}`);
  return Number(value) as 32 | 64;
}

/** The flags of the model-level benchmarks: the model, and which companions to run and where to write. */
export const MODEL_BENCH_FLAGS = {
  size: { type: "string", default: "64" },
  width: { type: "string", default: "64" },
  "no-tfjs": { type: "boolean", default: false },
  "no-wasm": { type: "boolean", default: false },
  "no-torch": { type: "boolean", default: false },
  markdown: { type: "string" },
} as const;

/** The benchmarked DCGAN: --size and --width, z of 100 as in the paper. */
export function benchModel(values: { size: string; width: string }): DcganConfig {
  return { size: imageSize(values.size), width: positiveInt("width", values.width), zDim: 100 };
}

// ---- statistics and the machine ----------------------------------------------------------------------

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

/** "AMD EPYC …, 2 cores; llvmpipe (…)": the machine as the tables name it. */
export async function machineLine(adapter: string): Promise<string> {
  return `${await cpuName()}, ${navigator.hardwareConcurrency} cores; ${adapter}`;
}

// ---- PyTorch ---------------------------------------------------------------------------------------

/**
 * The Python that has PyTorch: ANOGAN_PYTHON if set (a machine whose PyTorch lives elsewhere, e.g. a
 * CUDA build in a virtual environment), else Debian's /usr/bin/python3.
 */
export function torchPython(): string {
  return Deno.env.get("ANOGAN_PYTHON") || "/usr/bin/python3";
}

/** Runs a PyTorch companion script beside this file and parses its JSON; null (with a message) when it fails. */
export async function runTorch(script: string, args: string[]): Promise<Record<string, unknown> | null> {
  const path = new URL(script, import.meta.url).pathname;
  try {
    const { code, stdout, stderr } = await new Deno.Command(torchPython(), {
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

// ---- the report ------------------------------------------------------------------------------------

/** Writes `bench/results/NAME-<timestamp>.json` atomically and returns its path. */
export async function writeResults(name: string, results: unknown): Promise<string> {
  const dir = new URL("./results/", import.meta.url).pathname;
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

export const ratio = (ours: number | null | undefined, other: number | null | undefined) =>
  ours && other ? `${ours >= other ? (ours / other).toFixed(1) : (ours / other).toPrecision(2)}×` : "—";
export const rate = (x: number | null | undefined) => (x ? x.toPrecision(3) : "—");

const tableLine = (cells: string[]) => `| ${cells.join(" | ")} |`;

/** A markdown table, unaligned (BENCHMARKS.md gets it through `deno fmt`). */
export function markdownTable(header: string[], rows: string[][]): string {
  return [tableLine(header), tableLine(header.map(() => "---")), ...rows.map(tableLine)].join("\n");
}

async function formatMarkdown(text: string): Promise<string> {
  const fmt = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "--line-width=110", "-"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = fmt.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout } = await fmt.output();
  return `${(code === 0 ? new TextDecoder().decode(stdout) : text).trimEnd()}\n`;
}

/**
 * Puts `rows` into the table of FILE's `heading` section: a row replaces the one with the same first
 * cell, others are kept; the intro above the table is rewritten, notes below it are kept. The section
 * goes through `deno fmt`, so that the file stays as `deno task check` wants it.
 */
export async function upsertTableRows(
  path: string,
  heading: string,
  intro: string,
  header: string[],
  rows: string[][],
): Promise<void> {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    text = "# Benchmarks\n";
  }
  const start = text.indexOf(`\n${heading}\n`);
  const end = start < 0 ? -1 : text.indexOf("\n## ", start + 1);
  const old = start < 0 ? "" : text.slice(start + 1, end < 0 ? undefined : end + 1);
  const oldLines = old.split("\n");
  const tableStart = oldLines.findIndex((l) => l.startsWith("|"));
  let tableEnd = tableStart;
  while (tableEnd >= 0 && tableEnd < oldLines.length && oldLines[tableEnd].startsWith("|")) tableEnd++;
  const kept = new Map<string, string>();
  if (tableStart >= 0) {
    for (const l of oldLines.slice(tableStart + 2, tableEnd)) kept.set(l.split("|")[1].trim(), l);
  }
  for (const r of rows) kept.set(r[0], tableLine(r));
  const notes = tableStart >= 0 ? oldLines.slice(tableEnd).join("\n").trim() : "";
  const section = await formatMarkdown([
    heading,
    "",
    intro,
    "",
    markdownTable(header, []),
    ...kept.values(),
    ...(notes ? ["", notes] : []),
    "",
  ].join("\n"));
  text = start < 0
    ? `${text.trimEnd()}\n\n${section}`
    : text.slice(0, start + 1) + section + (end < 0 ? "" : text.slice(end));
  Deno.writeTextFileSync(path, text);
}
