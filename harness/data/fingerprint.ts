// Fingerprints of training data: what a data spec (`png:DIR`, `fmnist:CLASS`, `phantom`) reads, as a
// JSON-able record with one SHA-256 digest over all of it, so that a run can tell whether it is resumed
// or compared on the same data it was trained on, and say what changed when it is not.
//
// The digest covers the data, not where it lies: file names (without their folder), sizes and contents
// for files; the settings that determine the images for the procedural phantom. How patches are drawn
// from the images (size, patches per image, --limit) is the run's configuration, not part of the data.

import { basename } from "node:path";
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, findIdx } from "./idx.ts";
import { DEFAULT_BSCANS, DEFAULT_HEIGHT, DEFAULT_WIDTH, planVolume, renderBscan } from "./phantom.ts";
import { listPngFiles } from "./png.ts";
import { DEFAULT_PHANTOM_VOLUMES, type SourceOptions } from "./source.ts";

/** One file the data is read from. */
export interface FileFingerprint {
  /** The file's name without its folder. */
  name: string;
  bytes: number;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
}

/** The settings that determine the phantom's training images. */
export interface PhantomSettings {
  seed: number;
  volumes: number;
  width: number;
  height: number;
  bscans: number;
  /**
   * SHA-256 of one reference B-scan (healthy, seed 0, slice 0): the same settings give other images
   * when the generator's code changes, and this is what notices.
   */
  generatorProbe: string;
}

export type DataFingerprint =
  & { spec: string; digest: string }
  & (
    | { kind: "png"; files: FileFingerprint[] }
    | { kind: "fmnist"; class: number; files: FileFingerprint[] }
    | { kind: "phantom"; settings: PhantomSettings }
  );

/** The options of loadTrainingSource that decide which images a spec yields. */
export type FingerprintOptions = Pick<SourceOptions, "seed" | "fmnistDir" | "phantomVolumes">;

/** SHA-256 of bytes, in hex. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function fileFingerprint(path: string): Promise<FileFingerprint> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read it to fingerprint the training data (${(e as Error).message})`);
  }
  return { name: basename(path), bytes: bytes.length, sha256: await sha256Hex(bytes) };
}

/** One digest over a canonical text of the record's parts, so equal data gives an equal digest. */
function digestOf(parts: unknown): Promise<string> {
  return sha256Hex(new TextEncoder().encode(JSON.stringify(parts)));
}

/** The Fashion-MNIST training files loadFashionMnist reads from `dir`. */
function fashionMnistTrainFiles(dir: string): string[] {
  return ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"].map((stem) => findIdx(dir, stem));
}

function generatorProbe(): Promise<string> {
  const { image } = renderBscan(planVolume({ seed: 0, pathological: false }), 0);
  return sha256Hex(new Uint8Array(image.buffer as ArrayBuffer, image.byteOffset, image.byteLength));
}

/** The fingerprint of the training data a spec names (see loadTrainingSource for the specs). */
export async function dataFingerprint(spec: string, opts: FingerprintOptions): Promise<DataFingerprint> {
  const [kind, ...rest] = spec.split(":");
  const arg = rest.join(":");
  if (kind === "png") {
    if (arg === "") throw new Error(`--data ${spec}: expected png:DIR`);
    const files: FileFingerprint[] = [];
    for (const path of await listPngFiles(arg)) files.push(await fileFingerprint(path));
    return { spec, kind, files, digest: await digestOf({ kind, files }) };
  }
  if (kind === "fmnist") {
    const cls = Number(arg);
    if (arg === "" || !Number.isInteger(cls) || cls < 0 || cls > 9) {
      throw new Error(
        `--data ${spec}: expected fmnist:CLASS with CLASS in 0–9 (${FASHION_MNIST_CLASSES.join(", ")})`,
      );
    }
    const files: FileFingerprint[] = [];
    for (const path of fashionMnistTrainFiles(opts.fmnistDir ?? FASHION_MNIST_DIR)) {
      files.push(await fileFingerprint(path));
    }
    return { spec, kind, class: cls, files, digest: await digestOf({ kind, class: cls, files }) };
  }
  if (kind === "phantom" && arg === "") {
    const settings: PhantomSettings = {
      seed: opts.seed,
      volumes: opts.phantomVolumes ?? DEFAULT_PHANTOM_VOLUMES,
      width: DEFAULT_WIDTH,
      height: DEFAULT_HEIGHT,
      bscans: DEFAULT_BSCANS,
      generatorProbe: await generatorProbe(),
    };
    return { spec, kind, settings, digest: await digestOf({ kind, settings }) };
  }
  throw new Error(`--data ${spec}: cannot fingerprint it; expected png:DIR, fmnist:CLASS or phantom`);
}

/** Up to three names, then how many more. */
function someNames(names: string[]): string {
  const shown = names.slice(0, 3).join(", ");
  return names.length > 3 ? `${shown}, … ${names.length - 3} more` : shown;
}

function fileChanges(saved: FileFingerprint[], now: FileFingerprint[]): string[] {
  const before = new Map(saved.map((f) => [f.name, f]));
  const after = new Map(now.map((f) => [f.name, f]));
  const added = now.filter((f) => !before.has(f.name)).map((f) => f.name);
  const removed = saved.filter((f) => !after.has(f.name)).map((f) => f.name);
  const changed = now.filter((f) => {
    const old = before.get(f.name);
    return old !== undefined && (old.sha256 !== f.sha256 || old.bytes !== f.bytes);
  }).map((f) => f.name);
  const count = (n: number, what: string) => `${n} file${n === 1 ? "" : "s"} ${what}`;
  return [
    added.length ? `${count(added.length, "added")} (${someNames(added)})` : "",
    removed.length ? `${count(removed.length, "removed")} (${someNames(removed)})` : "",
    changed.length ? `${changed.length} changed (${someNames(changed)})` : "",
  ].filter(Boolean);
}

function settingChanges(saved: PhantomSettings, now: PhantomSettings): string[] {
  const changes: string[] = [];
  for (const key of ["seed", "volumes", "width", "height", "bscans"] as const) {
    if (saved[key] !== now[key]) changes.push(`${key} ${saved[key]} → ${now[key]}`);
  }
  if (changes.length === 0 && saved.generatorProbe !== now.generatorProbe) {
    changes.push("the generator draws other images from the same settings (its code changed)");
  }
  return changes;
}

function isFingerprint(value: unknown): value is DataFingerprint {
  const f = value as Partial<DataFingerprint> | null;
  return typeof f === "object" && f !== null && typeof f.digest === "string" && typeof f.spec === "string" &&
    (f.kind === "png" || f.kind === "fmnist" || f.kind === "phantom");
}

/**
 * What changed between a saved fingerprint (e.g. from a run's config.json) and the data now, in one
 * line ("png:data/train: 3 files added (x.png, y.png, z.png), 1 changed (a.png)"), or null when the
 * data is the same (whatever folder it now lies in).
 */
export function compareFingerprints(saved: DataFingerprint, now: DataFingerprint): string | null {
  if (!isFingerprint(saved)) {
    return `the saved data fingerprint is unreadable (${JSON.stringify(saved)?.slice(0, 80)}); ` +
      `expected an object with spec, kind and digest`;
  }
  if (saved.digest === now.digest) return null;
  const where = saved.spec === now.spec ? now.spec : `${saved.spec} → ${now.spec}`;
  let changes: string[] = [];
  if (saved.kind !== now.kind) {
    changes = [`another kind of data (${saved.kind} → ${now.kind})`];
  } else if (saved.kind === "fmnist" && now.kind === "fmnist") {
    if (saved.class !== now.class) changes.push(`class ${saved.class} → ${now.class}`);
    changes.push(...fileChanges(saved.files ?? [], now.files));
  } else if (saved.kind === "png" && now.kind === "png") {
    changes = fileChanges(saved.files ?? [], now.files);
  } else if (saved.kind === "phantom" && now.kind === "phantom" && saved.settings) {
    changes = settingChanges(saved.settings, now.settings);
  }
  if (changes.length === 0) changes = [`digest ${saved.digest.slice(0, 12)}… → ${now.digest.slice(0, 12)}…`];
  return `${where}: ${changes.join(", ")}`;
}
