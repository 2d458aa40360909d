// `deno task bench NAME [flags]`: runs the benchmark scripts/bench_NAME.ts (e.g. runtime, kernels).

const name = Deno.args[0];
const known = [...Deno.readDirSync(new URL(".", import.meta.url))]
  .map((e) => e.name.match(/^bench_(\w+)\.ts$/)?.[1])
  .filter((n): n is string => !!n)
  .sort();
if (!name || !known.includes(name)) {
  console.error(`usage: deno task bench NAME [flags]   where NAME is one of: ${known.join(", ")}`);
  Deno.exit(2);
}
const mod = await import(`./bench_${name}.ts`);
await mod.main(Deno.args.slice(1));
