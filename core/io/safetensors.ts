// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the data.
// Tensors are F32; a file with another dtype is rejected with a message naming the tensor. Headers are
// validated (offsets cover the data exactly). Writes are atomic (temp file + rename).

export interface HostTensor {
  shape: number[];
  data: Float32Array<ArrayBuffer>;
}

export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER = 100 * 1024 * 1024;

export class SafetensorsError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "SafetensorsError";
  }
}

/** Serialises tensors (in the order given) and string metadata to safetensors bytes. */
export function encodeSafetensors(
  tensors: Iterable<[string, HostTensor]>,
  metadata: Record<string, string> = {},
): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new Error(`tensor name "__metadata__" is reserved`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new Error(`tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    }
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + n * 4] };
    parts.push(t.data);
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((json.length + 8) % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return out;
}

/** Parses and validates safetensors bytes; `path` names the source in errors. */
export function decodeSafetensors(bytes: Uint8Array, path = "<bytes>"): SafetensorsFile {
  if (bytes.length < 8) {
    throw new SafetensorsError(path, `file is ${bytes.length} bytes, too short for a header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.length) {
    throw new SafetensorsError(
      path,
      `header length ${headerLen} exceeds the file size ${bytes.length} (truncated?)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(path, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(path, "header is not a JSON object");
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, { shape: number[]; begin: number; end: number }][] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(path, `metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== "F32") {
      throw new SafetensorsError(
        path,
        `tensor ${name} has dtype ${JSON.stringify(e.dtype)}; only F32 is supported`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(path, `tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new SafetensorsError(path, `tensor ${name} has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as number[];
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== n * 4) {
      throw new SafetensorsError(
        path,
        `tensor ${name}: data_offsets [${begin}, ${end}] do not hold ${n} float32 values`,
      );
    }
    if (end > dataLen) {
      throw new SafetensorsError(
        path,
        `tensor ${name} ends at byte ${end} but the data is ${dataLen} bytes (truncated?)`,
      );
    }
    entries.push([name, { shape: shape as number[], begin, end }]);
  }
  // The format requires the data to be covered exactly, without holes or overlaps.
  const sorted = [...entries].sort((a, b) => a[1].begin - b[1].begin);
  let covered = 0;
  for (const [name, e] of sorted) {
    if (e.begin !== covered) {
      throw new SafetensorsError(path, `tensor ${name} starts at ${e.begin}, expected ${covered}`);
    }
    covered = e.end;
  }
  if (covered !== dataLen) {
    throw new SafetensorsError(path, `tensors cover ${covered} bytes of data but the file holds ${dataLen}`);
  }
  const tensors = new Map<string, HostTensor>();
  for (const [name, e] of entries) {
    const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
    tensors.set(name, { shape: e.shape, data: new Float32Array(copy.buffer) });
  }
  return { tensors, metadata };
}

/** Writes bytes atomically: a temporary file beside the target, then a rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${Deno.pid}.${Date.now()}.tmp`;
  try {
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await f.write(bytes.subarray(written));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

export async function writeSafetensors(
  path: string,
  tensors: Iterable<[string, HostTensor]>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SafetensorsError(path, `cannot read: ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}
