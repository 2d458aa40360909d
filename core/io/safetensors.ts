// safetensors files (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the data.
// Tensors are F32; a file with another dtype is rejected with a message naming the tensor. Headers are
// validated (offsets cover the data exactly). Writes are atomic (temp file + rename).
//
// Every file written here carries a CRC-32 of each tensor's bytes in the metadata key "checksums" (a
// JSON object, tensor name → "crc32:" and 8 hex digits), checked on read, so that a flipped bit on disk
// or a half-copied file fails loudly instead of loading as wrong weights. CRC-32 (the IEEE polynomial of
// zlib, gzip and PNG) because it is a few lines, fast enough for 100 MB checkpoints, and anyone can check
// it: Python's `zlib.crc32(tensor.numpy().tobytes())`. It guards against accidents, not against tampering.
// Files without the key (older files, PyTorch's) load unchecked.

export interface HostTensor {
  shape: number[];
  data: Float32Array<ArrayBuffer>;
}

export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER = 100 * 1024 * 1024;

/** The metadata key of the per-tensor checksums; consumed by decoding, never returned as metadata. */
export const CHECKSUMS_KEY = "checksums";

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, reflected, as zlib.crc32) of the bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function tensorChecksum(bytes: Uint8Array): string {
  return `crc32:${crc32(bytes).toString(16).padStart(8, "0")}`;
}

export class SafetensorsError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "SafetensorsError";
  }
}

/** Serialises tensors (in the order given) and string metadata to safetensors bytes, with checksums. */
export function encodeSafetensors(
  tensors: Iterable<[string, HostTensor]>,
  metadata: Record<string, string> = {},
): Uint8Array<ArrayBuffer> {
  if (Object.hasOwn(metadata, CHECKSUMS_KEY)) {
    throw new Error(`metadata key "${CHECKSUMS_KEY}" is reserved for the tensors' checksums; rename it`);
  }
  const header: Record<string, unknown> = {};
  const checksums: Record<string, string> = {};
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new Error(`tensor name "__metadata__" is reserved`);
    if (Object.hasOwn(header, name)) throw new Error(`tensor ${name} is given twice; expected unique names`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new Error(`tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    }
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + n * 4] };
    checksums[name] = tensorChecksum(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    parts.push(t.data);
    offset += n * 4;
  }
  header.__metadata__ = { ...metadata, [CHECKSUMS_KEY]: JSON.stringify(checksums) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pads the header with spaces (counted in bytes, metadata may hold non-ASCII) so the data is 8-byte aligned.
  const headerBytes = new Uint8Array(json.length + ((8 - ((json.length + 8) % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
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
  const checksums = parseChecksums(metadata, new Set(entries.map(([name]) => name)), path);
  delete metadata[CHECKSUMS_KEY];
  const tensors = new Map<string, HostTensor>();
  for (const [name, e] of entries) {
    const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
    const expected = checksums.get(name);
    if (expected !== undefined && tensorChecksum(copy) !== expected) {
      throw new SafetensorsError(
        path,
        `tensor ${name}: checksum mismatch: the file is corrupt (expected ${expected}, the data gives ` +
          `${tensorChecksum(copy)}); restore it from a copy or write it again`,
      );
    }
    tensors.set(name, { shape: e.shape, data: new Float32Array(copy.buffer) });
  }
  return { tensors, metadata };
}

/** The "checksums" metadata by tensor name (empty when the file has none), validated against the tensors. */
function parseChecksums(
  metadata: Record<string, string>,
  names: Set<string>,
  path: string,
): Map<string, string> {
  const text = metadata[CHECKSUMS_KEY];
  if (text === undefined) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(path, `metadata ${CHECKSUMS_KEY} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SafetensorsError(
      path,
      `metadata ${CHECKSUMS_KEY} is not a JSON object of tensor name → checksum`,
    );
  }
  const checksums = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (!names.has(name)) {
      throw new SafetensorsError(
        path,
        `metadata ${CHECKSUMS_KEY} names tensor ${name}, which the file does not hold; the file is corrupt`,
      );
    }
    if (typeof value !== "string" || !/^crc32:[0-9a-f]{8}$/.test(value)) {
      throw new SafetensorsError(
        path,
        `checksum of tensor ${name} is ${JSON.stringify(value)}; expected "crc32:" and 8 hex digits`,
      );
    }
    checksums.set(name, value);
  }
  return checksums;
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
