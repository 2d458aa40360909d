// `--profile` of `deno task bench train` and `deno task bench mapping`: one step broken down by kernel family.
//
// Method. The step is recorded once with the runtime's opt-in profiling hook (core/kernel.ts's
// `Runtime.profiler`) on, which hands over every dispatch (kernel, bindings, uniform parameters, grid,
// label) and buffer copy as it is recorded, and the time each submit call takes. Then:
// - timestamps, where the device has "timestamp-query" (core/device.ts requests it wherever the
//   adapter offers it): the step's dispatches are replayed in order, each in a compute pass of its own
//   with timestamp writes at its start and end, `reps` times; a family's time is the median over
//   replays of its dispatches' summed times (MAX_TIMED_DISPATCHES at most);
// - replay, otherwise: family by family (KERNEL_FAMILIES), only that family's dispatches are encoded
//   again into one command buffer of their own, with the same pipelines and buffers, submitted and
//   waited for (`queue.onSubmittedWorkDone()`): the median of `reps` such replays, less the median
//   round trip of an empty submit, is the family's time. A wait ends at a device poll (an empty submit's
//   round trip is ~11 ms on lavapipe under Deno), so a family that runs for less than REPLAY_MS is
//   encoded up to MAX_TIMES times over into its one submit and the time divided.
// Buffer copies are replayed alone either way.
//
// Host overhead is the wall time of the synchronous step call (ops, autograd, uniforms, bind groups,
// encoding, finish) less the time inside `queue.submit`: nothing runs on the device while a step
// records, as a step submits once at its end. The families' times plus the host's are compared with the
// whole step (record, submit, wait: the median of `reps` steps); the rest is "other/unattributed": the
// wait for completion, and a family's replay running alone with warmer or colder caches than in the step.
//
// A replay runs the kernels on the buffers the step used, so it overwrites what they hold (temporaries,
// and for a training step the weights and the optimiser's moments, which Adam's replays move again):
// the benchmarks profile after everything they time and report.

import * as T from "../core/mod.ts";
import {
  type Binding,
  bindingResource,
  type DispatchRecord,
  type Runtime,
  type TextureBinding,
} from "../core/kernel.ts";
import { markdownTable, median } from "./util.ts";

// ---- the families ------------------------------------------------------------------------------------

export type Family =
  | "conv forward"
  | "conv input gradient"
  | "conv weight gradient"
  | "conv operand textures"
  | "batch norm"
  | "elementwise"
  | "reductions"
  | "linear (matmul)"
  | "optimiser (Adam/SGD)"
  | "buffer copies"
  | "other kernels";

/** What a family's rate is computed from: FLOPs of its GEMMs, or bytes its bindings read and write. */
type Measure = "flops" | "bytes";

/**
 * The one table from kernel file to family, first match wins. A transposed conv's forward runs the
 * conv input-gradient kernel and its input gradient the forward kernel (DESIGN.md §3): families go by
 * the kernel, so G's forward shows under "conv input gradient".
 */
export const KERNEL_FAMILIES: readonly {
  files: RegExp;
  labels?: RegExp;
  family: Family;
  measure: Measure;
}[] = [
  // The linear layers run on the conv kernels as 1×1 convolutions (core/ops/matmul.ts): by their label.
  { files: /^conv2d_/, labels: /^linear(\.|$)/, family: "linear (matmul)", measure: "flops" },
  // …and on gemv.wgsl where they have one output or one input, with transposes where they have few rows.
  { files: /^(gemv|transpose)\.wgsl$/, labels: /^linear(\.|$)/, family: "linear (matmul)", measure: "flops" },
  // A one-channel layer's columns count with its direction (their GEMM is a 1×1 conv, FLOPs from it).
  { files: /^conv2d_(forward(_\w+)?|im2col_c1)\.wgsl$/, family: "conv forward", measure: "flops" },
  { files: /^conv2d_(grad_input(_\w+)?|col2im_c1)\.wgsl$/, family: "conv input gradient", measure: "flops" },
  // The split-K partials' sum adds no GEMM FLOPs; its time counts.
  {
    files: /^conv2d_(grad_weight(_\w+)?|sum_partials)\.wgsl$/,
    family: "conv weight gradient",
    measure: "flops",
  },
  // The conv kernels' operands copied into textures (texture_from.wgsl, before each *_tile32tex conv).
  { files: /^texture_from\.wgsl$/, family: "conv operand textures", measure: "bytes" },
  { files: /^batchnorm_\w+\.wgsl$/, family: "batch norm", measure: "bytes" },
  {
    files: /^(unary|unary_grad|binary|fill|random|transpose)\.wgsl$/,
    family: "elementwise",
    measure: "bytes",
  },
  { files: /^reduce(_rows)?\.wgsl$/, family: "reductions", measure: "bytes" },
  { files: /^(adam|sgd|optim_grad)\.wgsl$/, family: "optimiser (Adam/SGD)", measure: "bytes" },
];

const FAMILY_ORDER: readonly Family[] = [
  ...new Set(KERNEL_FAMILIES.map((f) => f.family)),
  "buffer copies",
  "other kernels",
];

export function familyOf(file: string, label = ""): { family: Family; measure: Measure } {
  const found = KERNEL_FAMILIES.find((f) => f.files.test(file) && (f.labels?.test(label) ?? true));
  return found ?? { family: "other kernels", measure: "bytes" };
}

/** FLOPs of a dispatch's GEMM from its uniform parameters (the conv geometry block). */
function flopsOf(d: DispatchRecord): number {
  const u = new Uint32Array(d.params.buffer, 0, 16);
  if (/^conv2d_(forward|grad_input|grad_weight)/.test(d.def.file)) {
    const [batch, , , inC, outH, outW, outC, , kH, kW] = u;
    return 2 * batch * outH * outW * outC * inC * kH * kW;
  }
  if (d.def.file === "gemv.wgsl") {
    const [rows, k, n] = u;
    return d.def.entry === "outer" ? rows * n : 2 * rows * k * n;
  }
  return 0;
}

/** An rgba32float texel. */
const TEXEL_BYTES = 16;

/** Bytes a dispatch's storage bindings span (each read or written once; pooled buffers are bucket-sized). */
function bytesOf(d: DispatchRecord): number {
  return d.bindings.reduce((n, b) => {
    if ("view" in b) return n + b.texture.width * b.texture.height * TEXEL_BYTES;
    const binding: Binding = b instanceof GPUBuffer ? { buffer: b } : b;
    return n + (binding.size ?? binding.buffer.size - (binding.offset ?? 0));
  }, 0);
}

// ---- capture -----------------------------------------------------------------------------------------

/** A buffer copied into a buffer, or (dstOffset 0) into a conv operand's texture, whole. */
interface CopyRecord {
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer | TextureBinding;
  dstOffset: number;
  bytes: number;
}

function encodeCopy(encoder: GPUCommandEncoder, c: CopyRecord): void {
  if (c.dst instanceof GPUBuffer) {
    encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.bytes);
    return;
  }
  const { texture } = c.dst;
  encoder.copyBufferToTexture({ buffer: c.src, bytesPerRow: texture.width * TEXEL_BYTES }, { texture }, [
    texture.width,
    texture.height,
  ]);
}

function copyFamily(c: CopyRecord): Family {
  return c.dst instanceof GPUBuffer ? "buffer copies" : "conv operand textures";
}

type Recorded = { dispatch: DispatchRecord } | { copy: CopyRecord };

/** Runs `record` (which records one step and submits it) with the profiling hook on. */
function capture(runtime: Runtime, record: () => void) {
  const items: Recorded[] = [];
  let submitMs = 0;
  runtime.flush();
  runtime.profiler = {
    dispatch: (d) => void items.push({ dispatch: d }),
    copy: (src, srcOffset, dst, dstOffset, bytes) =>
      void items.push({ copy: { src, srcOffset, dst, dstOffset, bytes } }),
    copyToTexture: (src, dst, bytes) =>
      void items.push({ copy: { src, srcOffset: 0, dst, dstOffset: 0, bytes } }),
    submitted: (ms) => void (submitMs += ms),
  };
  const t0 = performance.now();
  try {
    record();
    runtime.flush();
  } finally {
    runtime.profiler = null;
  }
  const wallMs = performance.now() - t0;
  return { items, recordMs: wallMs - submitMs, submitMs };
}

// ---- replay ------------------------------------------------------------------------------------------

const PARAM_STRIDE = 256; // the runtime's parameter block; a multiple of minUniformBufferOffsetAlignment

/** Encodes `items` again into one command buffer of their own; returns the function that submits them. */
function replayer(runtime: Runtime, items: Recorded[]) {
  const device = runtime.device;
  const dispatches = items.flatMap((r) => ("dispatch" in r ? [r.dispatch] : []));
  const uniforms = device.createBuffer({
    size: Math.max(1, dispatches.length) * PARAM_STRIDE,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const groups = new Map<DispatchRecord, GPUBindGroup>();
  dispatches.forEach((d, i) => {
    device.queue.writeBuffer(uniforms, i * PARAM_STRIDE, d.params);
    const kernel = runtime.compile(d.def);
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: uniforms, offset: i * PARAM_STRIDE, size: PARAM_STRIDE } },
      ...d.bindings.map((b, j) => ({ binding: j + 1, resource: bindingResource(b) })),
    ];
    groups.set(d, device.createBindGroup({ layout: kernel.layout, entries }));
  });
  return {
    /** Submits the items `times` times over, in one command buffer. */
    submit(times = 1) {
      const encoder = device.createCommandEncoder();
      let pass: GPUComputePassEncoder | null = null;
      for (const r of Array.from({ length: times }, () => items).flat()) {
        if ("copy" in r) {
          pass?.end();
          pass = null;
          encodeCopy(encoder, r.copy);
          continue;
        }
        const d = r.dispatch;
        pass ??= encoder.beginComputePass();
        pass.setPipeline(runtime.compile(d.def).pipeline);
        pass.setBindGroup(0, groups.get(d)!);
        const [x, y, z] = d.workgroups;
        if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
      }
      pass?.end();
      device.queue.submit([encoder.finish()]);
    },
    /**
     * Timestamps (a device with "timestamp-query"): runs the items once, each dispatch in a compute
     * pass of its own with timestamps at its start and end; returns each dispatch's milliseconds.
     */
    async timed(): Promise<number[]> {
      const count = 2 * dispatches.length;
      const querySet = device.createQuerySet({ type: "timestamp", count });
      const resolved = device.createBuffer({
        size: 8 * count,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const read = device.createBuffer({
        size: 8 * count,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const encoder = device.createCommandEncoder();
      let i = 0;
      for (const r of items) {
        if ("copy" in r) {
          encodeCopy(encoder, r.copy);
          continue;
        }
        const d = r.dispatch;
        const pass = encoder.beginComputePass({
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
        pass.setPipeline(runtime.compile(d.def).pipeline);
        pass.setBindGroup(0, groups.get(d)!);
        const [x, y, z] = d.workgroups;
        if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
        pass.end();
        i++;
      }
      encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, read, 0, 8 * count);
      device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const ns = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      for (const b of [read, resolved]) b.destroy();
      querySet.destroy();
      return dispatches.map((_, k) => Number(ns[2 * k + 1] - ns[2 * k]) / 1e6);
    },
    destroy: () => uniforms.destroy(),
  };
}

/** A family's replay is repeated in one submit until it runs for about this long (at most MAX_TIMES). */
const REPLAY_MS = 200;
const MAX_TIMES = 64;

/** Timestamps: two queries per dispatch, in one query set of at most 4096. */
const MAX_TIMED_DISPATCHES = 2048;

/** Wall times of `reps` rounds of submit + wait. */
async function timeSubmits(device: GPUDevice, submit: () => void, reps: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    submit();
    await device.queue.onSubmittedWorkDone();
    ms.push(performance.now() - t);
  }
  return ms;
}

// ---- the profile -------------------------------------------------------------------------------------

export interface FamilyFigures {
  family: Family | "dispatch + recording (host)" | "other/unattributed";
  dispatches: number;
  ms: number;
  /** Share of the measured whole step. */
  share: number;
  samplesMs?: number[];
  /** How many times over the family ran in each timed submit. */
  replayedTimes?: number;
  gflop?: number;
  gflopPerSecond?: number;
  gigabytes?: number;
  gigabytesPerSecond?: number;
}

export interface StepProfile {
  method: string;
  /** Median of the whole steps (record, submit, wait). */
  stepMs: number;
  stepSamplesMs: number[];
  /**
   * Host: recording a step (the timed steps' synchronous calls, median, less the submit calls), the
   * same for the profiled step alone, and the profiled step's submit calls.
   */
  recordMs: number;
  profiledRecordMs: number;
  submitMs: number;
  /** Median round trip of an empty submit, subtracted from each family's replay. */
  emptySubmitMs: number;
  dispatches: number;
  copies: number;
  reps: number;
  families: FamilyFigures[];
  /** Dispatches per label in the profiled step, and their milliseconds where timestamps gave them. */
  labels: Record<string, { dispatches: number; ms?: number }>;
}

/**
 * Profiles one step. `step()` records one step (submitting it, as `T.step` does) and returns what to
 * dispose once it has run; it is run `reps` times whole (after one untimed run), once with the hook on,
 * and then each family is replayed `reps` times.
 */
export async function profileStep(step: () => () => void, reps: number): Promise<StepProfile> {
  const runtime = await T.init();
  const device = runtime.device;
  const callMs: number[] = [];
  const whole = async () => {
    const t = performance.now();
    const dispose = step();
    callMs.push(performance.now() - t);
    await runtime.sync();
    dispose();
    return performance.now() - t;
  };
  await whole(); // pipelines compiled, pool warm
  callMs.length = 0;
  const stepSamplesMs: number[] = [];
  for (let i = 0; i < reps; i++) stepSamplesMs.push(await whole());
  const stepMs = median(stepSamplesMs);

  let dispose = () => {};
  const captured = capture(runtime, () => void (dispose = step()));
  await runtime.sync();
  dispose();
  const { items } = captured;

  const emptySubmitMs = median(
    await timeSubmits(
      device,
      () => device.queue.submit([device.createCommandEncoder().finish()]),
      2 * reps + 1,
    ),
  );
  const byFamily = new Map<Family, Recorded[]>();
  for (const r of items) {
    const family = "copy" in r ? copyFamily(r.copy) : familyOf(r.dispatch.def.file, r.dispatch.label).family;
    if (!byFamily.has(family)) byFamily.set(family, []);
    byFamily.get(family)!.push(r);
  }
  const allDispatches = items.flatMap((r) => ("dispatch" in r ? [r.dispatch] : []));
  device.pushErrorScope("validation");
  // Timestamps where the device has them: the whole step replayed `reps` times, a pass per dispatch.
  const timestamps = device.features.has("timestamp-query") && allDispatches.length <= MAX_TIMED_DISPATCHES;
  const timedMs: number[][] = [];
  if (timestamps) {
    const replay = replayer(runtime, items);
    await replay.timed(); // warm-up
    for (let i = 0; i < reps; i++) timedMs.push(await replay.timed());
    replay.destroy();
  }
  // A group of recorded items encoded alone into one submit and waited for: ms per replay, less an
  // empty submit's round trip. A wait ends at a device poll (~11 ms apart on lavapipe under Deno): a
  // group that runs for less than REPLAY_MS is replayed `times` times over in one submit, so that the
  // wait's granularity stays small beside what is timed.
  const replayAlone = async (group: Recorded[]) => {
    const replay = replayer(runtime, group);
    const [once] = await timeSubmits(device, () => replay.submit(), 1);
    const times = Math.min(
      MAX_TIMES,
      Math.ceil(REPLAY_MS / Math.max(once - emptySubmitMs, REPLAY_MS / MAX_TIMES)),
    );
    const samplesMs = (await timeSubmits(device, () => replay.submit(times), reps))
      .map((ms) => Math.max(0, ms - emptySubmitMs) / times);
    replay.destroy();
    return { samplesMs, times };
  };
  const families: FamilyFigures[] = [];
  for (const family of FAMILY_ORDER) {
    const group = byFamily.get(family);
    if (!group) continue;
    const dispatches = group.flatMap((r) => ("dispatch" in r ? [r.dispatch] : []));
    let samplesMs: number[], times: number | undefined;
    if (timestamps && dispatches.length > 0) {
      const at = new Set(dispatches.map((d) => allDispatches.indexOf(d)));
      samplesMs = timedMs.map((ms) => ms.reduce((n, x, k) => n + (at.has(k) ? x : 0), 0));
    } else ({ samplesMs, times } = await replayAlone(group));
    const ms = median(samplesMs);
    const measure = dispatches.length === 0
      ? "bytes"
      : familyOf(dispatches[0].def.file, dispatches[0].label).measure;
    const f: FamilyFigures = {
      family,
      dispatches: dispatches.length,
      ms,
      share: ms / stepMs,
      samplesMs,
      replayedTimes: times,
    };
    if (measure === "flops") {
      f.gflop = dispatches.reduce((n, d) => n + flopsOf(d), 0) / 1e9;
      f.gflopPerSecond = ms > 0 ? f.gflop / (ms / 1e3) : undefined;
    } else {
      const copyBytes = group.reduce((n, r) => n + ("copy" in r ? 2 * r.copy.bytes : 0), 0);
      f.gigabytes = (dispatches.reduce((n, d) => n + bytesOf(d), 0) + copyBytes) / 1e9;
      f.gigabytesPerSecond = ms > 0 ? f.gigabytes / (ms / 1e3) : undefined;
    }
    families.push(f);
  }
  const error = await device.popErrorScope();
  if (error) throw new Error(`profile replay: ${error.message}`);

  const dispatchCount = items.filter((r) => "dispatch" in r).length;
  // The timed steps' calls (recording + submit), less the submit calls as the profiled step made them.
  const hostMs = Math.max(0, median(callMs) - captured.submitMs);
  families.push({
    family: "dispatch + recording (host)",
    dispatches: dispatchCount,
    ms: hostMs,
    share: hostMs / stepMs,
  });
  const attributed = families.reduce((n, f) => n + f.ms, 0);
  families.push({ family: "other/unattributed", dispatches: 0, ms: stepMs - attributed, share: 0 });
  families.at(-1)!.share = families.at(-1)!.ms / stepMs;
  const labels: Record<string, { dispatches: number; ms?: number }> = {};
  allDispatches.forEach((d, k) => {
    const l = labels[d.label] ??= { dispatches: 0 };
    l.dispatches++;
    if (timestamps) l.ms = (l.ms ?? 0) + median(timedMs.map((ms) => ms[k]));
  });
  if (!timestamps) {
    // Each label's dispatches replayed alone, as the families are.
    for (const [label, l] of Object.entries(labels)) {
      const group = items.filter((r) => "dispatch" in r && r.dispatch.label === label);
      l.ms = median((await replayAlone(group)).samplesMs);
    }
  }
  const adapterHas = runtime.gpu.adapter.features.has("timestamp-query") ? "offers" : "lacks";
  return {
    method: timestamps
      ? `timestamps: the step's dispatches replayed in order, each in a compute pass of its own with ` +
        `timestamp writes (median of ${reps}); buffer copies replayed alone`
      : "replay: each family's dispatches re-encoded alone, submitted and waited for " +
        `(median of ${reps}, less an empty submit's round trip; one under ${REPLAY_MS} ms repeated up to ` +
        `${MAX_TIMES} times in one submit); the device has no timestamp-query (the adapter ${adapterHas} it)`,
    stepMs,
    stepSamplesMs,
    recordMs: hostMs,
    profiledRecordMs: captured.recordMs,
    submitMs: captured.submitMs,
    emptySubmitMs,
    dispatches: dispatchCount,
    copies: items.filter((r) => "copy" in r && copyFamily(r.copy) === "buffer copies").length,
    reps,
    families,
    labels,
  };
}

/** The profile as a markdown table: family | dispatches | ms | share | GFLOP/s or GB/s. */
export function profileTable(p: StepProfile): string {
  const rateCell = (f: FamilyFigures) =>
    f.gflopPerSecond !== undefined
      ? `${f.gflopPerSecond.toFixed(1)} GFLOP/s (${f.gflop!.toPrecision(3)} GFLOP)`
      : f.gigabytesPerSecond !== undefined
      ? `${f.gigabytesPerSecond.toFixed(2)} GB/s (${(f.gigabytes! * 1e3).toPrecision(3)} MB)`
      : "—";
  const flops = p.families.reduce((n, f) => n + (f.gflop ?? 0), 0);
  const rows = p.families.map((f) => [
    f.family,
    f.family === "buffer copies" ? `${p.copies} copies` : f.dispatches ? `${f.dispatches}` : "—",
    f.ms.toFixed(1),
    `${(100 * f.share).toFixed(1)}%`,
    rateCell(f),
  ]);
  rows.push([
    "whole step (measured)",
    `${p.dispatches}${p.copies ? ` + ${p.copies} copies` : ""}`,
    p.stepMs.toFixed(1),
    "100%",
    `${(flops / (p.stepMs / 1e3)).toFixed(1)} GFLOP/s (${flops.toPrecision(3)} GFLOP)`,
  ]);
  const notes = [
    `Host: recording ${p.recordMs.toFixed(1)} ms (the host row; the profiled step: ${
      p.profiledRecordMs.toFixed(1)
    } ms), submit calls ${p.submitMs.toFixed(1)} ms ` +
    `(left in "other"); an empty submit's round trip, ${p.emptySubmitMs.toFixed(1)} ms, is part of the ` +
    `whole step's wait (and is subtracted from each wall-clock replay). Whole step: median of ${p.reps} (${
      p.stepSamplesMs.map((ms) => ms.toFixed(0)).join(", ")
    } ms).`,
    `Method: ${p.method}.`,
  ];
  const byLabel = Object.entries(p.labels)
    .filter(([, l]) => l.ms !== undefined)
    .sort(([, a], [, b]) => b.ms! - a.ms!)
    .slice(0, LABELS_SHOWN)
    .map((
      [label, l],
    ) => [label, `${l.dispatches}`, l.ms!.toFixed(1), `${(100 * l.ms! / p.stepMs).toFixed(1)}%`]);
  const labelTable = byLabel.length === 0 ? [] : [
    "",
    `The ${byLabel.length} longest labels (each label's dispatches timed alone, as the families are):`,
    "",
    markdownTable(["label", "dispatches", "ms", "share"], byLabel),
  ];
  return [
    markdownTable(["family", "dispatches", "ms", "share", "GFLOP/s or GB/s"], rows),
    "",
    ...notes,
    ...labelTable,
  ].join("\n");
}

/** Rows of the by-label table. */
const LABELS_SHOWN = 20;
