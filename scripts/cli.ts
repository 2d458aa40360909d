// Helpers shared by the command-line scripts: each script lists its flags as a table of validators,
// parseFlags reads and checks them all before any work, and runCli turns a thrown error into
// `error: message` and exit code 1.

import { parseArgs } from "node:util";
import { DATA_SPEC_HELP } from "../harness/data/source.ts";
import { PHANTOM_PATCH_SETS, QUERY_SPEC_HELP } from "../harness/query_sets.ts";

/** One flag of a script's table: how parseArgs reads it and how its raw text becomes a checked value. */
export interface Flag<V> {
  type: "string" | "boolean";
  multiple?: boolean;
  /** The checked value (the default when `raw` is undefined); throws an error that names the flag. */
  check(name: string, raw: string | boolean | string[] | undefined): V;
}

// deno-lint-ignore no-explicit-any
type FlagTable = Record<string, Flag<any>>;
export type FlagValues<S extends FlagTable> = { [K in keyof S]: ReturnType<S[K]["check"]> };

export type ParsedFlags<S extends FlagTable> =
  | { help: true }
  | {
    help: false;
    values: FlagValues<S>;
    /** The flags given on the command line, by name without the dashes. */
    given: Set<string>;
    positionals: string[];
  };

/**
 * Reads `args` against a script's table (plus --help, -h) and checks every flag; unknown flags,
 * missing values and bad values throw. With --help nothing is checked, so that help always works,
 * even beside a bad or unknown flag.
 */
export function parseFlags<S extends FlagTable>(
  args: string[],
  table: S,
  o: { positionals?: boolean } = {},
): ParsedFlags<S> {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(table)) {
    options[name] = { type: flag.type, multiple: flag.multiple ?? false };
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: o.positionals ?? false, tokens: true });
  } catch (e) {
    if (!String((e as { code?: string }).code).startsWith("ERR_PARSE_ARGS")) throw e;
    if (args.includes("--help") || args.includes("-h")) return { help: true };
    // parseArgs's messages name the flag but may span lines; the error is one line.
    const message = (e as Error).message.replace(/\s*\n\s*/g, " ");
    const unknown = message.match(/^Unknown option '([^']+)'/);
    throw new Error(unknown ? `unknown flag ${unknown[1]} (see --help)` : `${message} (see --help)`);
  }
  if (parsed.values.help) return { help: true };
  const given = new Set(parsed.tokens.flatMap((t) => (t.kind === "option" ? [t.name] : [])));
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(table)) {
    values[name] = flag.check(name, parsed.values[name] as string | boolean | string[] | undefined);
  }
  return { help: false, values: values as FlagValues<S>, given, positionals: parsed.positionals };
}

function fail(name: string, expected: string, raw: string): never {
  throw new Error(`--${name}: expected ${expected}, got "${raw}"`);
}

/** Bounds of a numeric flag; `exclusiveMin`/`exclusiveMax` leave the bound itself out. */
export interface Range {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  exclusiveMax?: boolean;
}

/** "an integer ≥ 1", "a number > 0", "a number in [0, 1)". */
function describeRange(r: Range, integer: boolean): string {
  const what = integer ? "an integer" : "a number";
  if (r.min !== undefined && r.max !== undefined) {
    return `${what} in ${r.exclusiveMin ? "(" : "["}${r.min}, ${r.max}${r.exclusiveMax ? ")" : "]"}`;
  }
  if (r.min !== undefined) return `${what} ${r.exclusiveMin ? ">" : "≥"} ${r.min}`;
  if (r.max !== undefined) return `${what} ${r.exclusiveMax ? "<" : "≤"} ${r.max}`;
  return what;
}

function inRange(n: number, r: Range): boolean {
  if (r.min !== undefined && (r.exclusiveMin ? n <= r.min : n < r.min)) return false;
  if (r.max !== undefined && (r.exclusiveMax ? n >= r.max : n > r.max)) return false;
  return true;
}

function numeric(range: Range, integer: boolean, fallback: number | undefined): Flag<number | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw === undefined) return fallback;
      const text = String(raw);
      const n = Number(text);
      const form = integer ? /^-?\d+$/.test(text.trim()) && Number.isSafeInteger(n) : Number.isFinite(n);
      if (text.trim() === "" || !form || !inRange(n, range)) fail(name, describeRange(range, integer), text);
      return n;
    },
  };
}

/** An integer flag within `range` (`fallback` when absent). */
export function integerFlag(range: Range): Flag<number | undefined>;
export function integerFlag(range: Range, fallback: number): Flag<number>;
export function integerFlag(range: Range, fallback?: number): Flag<number | undefined> {
  return numeric(range, true, fallback);
}

/** A real-valued flag within `range` (`fallback` when absent). */
export function numberFlag(range: Range): Flag<number | undefined>;
export function numberFlag(range: Range, fallback: number): Flag<number>;
export function numberFlag(range: Range, fallback?: number): Flag<number | undefined> {
  return numeric(range, false, fallback);
}

/**
 * The largest seed a flag takes. Seeds pass through JavaScript numbers and are offset for sub-streams
 * (seed + 1, …); 32 bits keep every derived seed exact for both generators (core/random.ts takes
 * [0, 2^64), harness/data/rng.ts safe integers).
 */
export const MAX_SEED = 2 ** 32 - 1;

/** A random seed: an integer in [0, MAX_SEED]. */
export function seedFlag(): Flag<number | undefined>;
export function seedFlag(fallback: number): Flag<number>;
export function seedFlag(fallback?: number): Flag<number | undefined> {
  return numeric({ min: 0, max: MAX_SEED }, true, fallback);
}

function oneOf(members: readonly string[]): string {
  return members.length <= 2 ? members.join(" or ") : `one of ${members.join(", ")}`;
}

/** One of `members` (`fallback` when absent). */
export function enumFlag<M extends string>(members: readonly M[]): Flag<M | undefined>;
export function enumFlag<M extends string>(members: readonly M[], fallback: M): Flag<M>;
export function enumFlag<M extends string>(members: readonly M[], fallback?: M): Flag<M | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw === undefined) return fallback;
      if (!members.includes(raw as M)) fail(name, oneOf(members), String(raw));
      return raw as M;
    },
  };
}

/** A comma-separated list of distinct `members`, at least one (`fallback` when absent). */
export function listFlag<M extends string>(members: readonly M[]): Flag<M[] | undefined>;
export function listFlag<M extends string>(members: readonly M[], fallback: readonly M[]): Flag<M[]>;
export function listFlag<M extends string>(
  members: readonly M[],
  fallback?: readonly M[],
): Flag<M[] | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw === undefined) return fallback && [...fallback];
      const items = String(raw).split(",").map((s) => s.trim());
      const expected = `a comma-separated list of ${members.join(", ")}`;
      for (const item of items) {
        if (!members.includes(item as M)) {
          throw new Error(
            `--${name}: ${
              item === "" ? "empty item" : `unknown item "${item}"`
            } in "${raw}"; expected ${expected}`,
          );
        }
      }
      const twice = items.find((item, i) => items.indexOf(item) !== i);
      if (twice) throw new Error(`--${name}: "${twice}" is listed twice in "${raw}"`);
      return items as M[];
    },
  };
}

/** A boolean switch. */
export function booleanFlag(): Flag<boolean> {
  return { type: "boolean", check: (_, raw) => raw === true };
}

/**
 * The flags every training command shares: Adam's settings and the schedule (with their defaults),
 * how often losses are read back, --quiet and --force.
 */
export function trainingFlags(
  d: { epochs: number; batch: number; lr: number; beta1: number; beta2: number; maxSteps: number },
) {
  return {
    epochs: integerFlag({ min: 1 }, d.epochs),
    batch: integerFlag({ min: 1 }, d.batch),
    lr: numberFlag({ min: 0, exclusiveMin: true }, d.lr),
    beta1: numberFlag({ min: 0, max: 1, exclusiveMax: true }, d.beta1),
    beta2: numberFlag({ min: 0, max: 1, exclusiveMax: true }, d.beta2),
    "max-steps": integerFlag({ min: 0 }, d.maxSteps),
    "log-every": integerFlag({ min: 1 }),
    quiet: booleanFlag(),
    force: booleanFlag(),
  };
}

/** A free-form value (a name, a command, options for another program); never empty. */
export function textFlag(): Flag<string | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw === undefined) return undefined;
      if (String(raw).trim() === "") fail(name, "a value", String(raw));
      return String(raw);
    },
  };
}

/**
 * A path (`fallback` when absent); never empty. `exists: "folder"` also requires an existing folder
 * (a read, never a write), so that a typo fails before any work.
 */
export function pathFlag(o?: { exists?: "folder" }): Flag<string | undefined>;
export function pathFlag(o: { exists?: "folder"; fallback: string }): Flag<string>;
export function pathFlag(o: { exists?: "folder"; fallback?: string } = {}): Flag<string | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw === undefined) return o.fallback;
      const path = String(raw);
      if (path.trim() === "") fail(name, "a path", path);
      if (o.exists === "folder") checkFolder(`--${name} ${path}`, path);
      return path;
    },
  };
}

function checkFolder(what: string, path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    throw new Error(`${what}: no such folder`);
  }
  if (!info.isDirectory) throw new Error(`${what}: not a folder`);
}

/** Paths given after a flag that may repeat (`--scores a.csv b.csv`); none empty. */
export function pathListFlag(): Flag<string[] | undefined> {
  return {
    type: "string",
    multiple: true,
    check(name, raw) {
      if (raw === undefined) return undefined;
      for (const path of raw as string[]) if (path.trim() === "") fail(name, "a path", path);
      return raw as string[];
    },
  };
}

/**
 * `--shard i/n`: the i-th (0-based) of n slices, 0 ≤ i < n; absent: 0/1, the whole set. `auto` (the
 * scheduler's environment says; see shardFromEnvironment) is kept as "auto".
 */
export function shardFlag(): Flag<[number, number] | "auto"> {
  return {
    type: "string",
    check(name, raw) {
      if (raw === undefined) return [0, 1];
      if (raw === "auto") return "auto";
      const m = String(raw).match(/^(\d+)\/(\d+)$/);
      const [i, n] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
      if (!(Number.isSafeInteger(n) && n >= 1 && i < n)) {
        fail(name, "i/n with 0 ≤ i < n, e.g. 0/4, or auto", String(raw));
      }
      return [i, n];
    },
  };
}

/** Checks the form of a data spec (`kind` or `kind:ARG`); the data itself is read later. */
function checkDataSpec(
  name: string,
  spec: string,
  forms: Record<string, "none" | "class" | "folder">,
  help: string,
) {
  const [kind, ...rest] = spec.split(":");
  const arg = rest.join(":");
  const form = Object.hasOwn(forms, kind) ? forms[kind] : undefined;
  const bad = (what: string) => new Error(`--${name} ${spec}: ${what}`);
  if (form === undefined || (form === "none" && spec !== kind)) throw bad(`unknown data; expected ${help}`);
  if (form === "class" && !/^\d$/.test(arg)) throw bad(`expected ${kind}:CLASS with CLASS in 0–9`);
  if (form === "folder") {
    if (arg === "") throw bad(`expected ${kind}:DIR`);
    checkFolder(`--${name} ${spec}`, arg);
  }
}

const TRAINING_FORMS = { fmnist: "class", png: "folder", phantom: "none" } as const;

/** Training data: fmnist:CLASS, png:DIR (an existing folder) or phantom. */
export function trainingDataFlag(): Flag<string | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw !== undefined) checkDataSpec(name, String(raw), TRAINING_FORMS, DATA_SPEC_HELP);
      return raw as string | undefined;
    },
  };
}

const QUERY_FORMS = {
  ...TRAINING_FORMS,
  "fmnist-test": "class",
  ...Object.fromEntries(Object.keys(PHANTOM_PATCH_SETS).map((k) => [k, "none"])),
} as Record<string, "none" | "class" | "folder">;

/** A query set: fmnist-test:CLASS, phantom-test, phantom-val, png:DIR, or a training data spec. */
export function queryDataFlag(): Flag<string | undefined> {
  return {
    type: "string",
    check(name, raw) {
      if (raw !== undefined) checkDataSpec(name, String(raw), QUERY_FORMS, QUERY_SPEC_HELP);
      return raw as string | undefined;
    },
  };
}

/** "--a", "--a and --b", "--a, --b and --c". */
function flagNames(flags: readonly string[]): string {
  const names = flags.map((f) => `--${f}`);
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** Throws when `flag` is given without the flag it depends on: `--balanced needs --limit: …`. */
export function requireWith(given: Set<string>, flag: string, needed: string, why: string): void {
  if (given.has(flag) && !given.has(needed)) throw new Error(`--${flag} needs --${needed}: ${why}`);
}

/**
 * Throws when any of `flags` is given, naming them:
 * `${why}; --lr and --batch cannot be given with ${context}`.
 */
export function refuseFlags(
  given: Set<string>,
  flags: readonly string[],
  why: string,
  context: string,
): void {
  const refused = flags.filter((f) => given.has(f));
  if (refused.length > 0) {
    throw new Error(`${why}; ${flagNames(refused)} cannot be given with ${context}`);
  }
}

/** Like refuseFlags, for every given flag outside `allowed`. */
export function allowOnly(
  given: Set<string>,
  allowed: readonly string[],
  why: string,
  context: string,
): void {
  refuseFlags(given, [...given].filter((f) => !allowed.includes(f)), why, context);
}

/** Runs a script's main: its exit code, or `error: message` and exit code 1 on a thrown error. */
export async function runCli(main: () => Promise<number | void>): Promise<never> {
  try {
    Deno.exit((await main()) ?? 0);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
