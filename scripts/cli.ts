// Helpers shared by the command-line scripts: numeric flags and the error exit.

/** A numeric flag's value (`fallback` when absent); the error names the flag and the value. */
export function numberFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  integer = true,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name}: expected ${integer ? "an integer" : "a number"}, got "${value}"`);
  }
  return n;
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
