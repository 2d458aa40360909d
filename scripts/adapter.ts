// Prints the WebGPU adapter this machine offers, or how to get one.
import { getGpu, NoAdapterError } from "../core/device.ts";
import { convVariantEnv, preferredConvVariant } from "../core/ops/conv.ts";

try {
  const g = await getGpu();
  const l = g.limits;
  console.log(`WebGPU adapter: ${g.description}`);
  console.log(
    `  max buffer ${(l.maxBufferSize / 2 ** 20).toFixed(0)} MiB, max storage binding ` +
      `${(l.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, ` +
      `${l.maxComputeInvocationsPerWorkgroup} invocations per workgroup`,
  );
  console.log(`  driver ${g.driver}: "${preferredConvVariant(g.info, convVariantEnv())}" conv kernels`);
  g.device.destroy();
} catch (e) {
  if (e instanceof NoAdapterError) {
    console.error(e.message);
    Deno.exit(1);
  }
  throw e;
}
