// Synthetic retinal OCT: flattened B-scans (the paper's preprocessing: retina extracted, flattened
// to the RPE, ~256 columns, intensities in [-1, 1]) with pixel-level ground truth for intraretinal
// fluid, subretinal fluid and hyperreflective foci.
//
// A volume is planned once from its seed (anatomy and anomalies as smooth 3-D objects), then each
// B-scan is rendered independently from its own sub-stream: layer boundaries per column → a
// reflectivity map in dB → coherent speckle imaging (complex field blurred by the PSF, several looks
// averaged, plus a noise floor) → log compression to [-1, 1].

import { deriveSeed, XoshiroRng } from "./rng.ts";
import {
  extractPatch,
  type GrayImage,
  labelPatch,
  MASK_BACKGROUND,
  MASK_FLUID,
  MASK_HRF,
  type PatchPosition,
  samplePatchPositions,
} from "./patches.ts";
import { auroc } from "../eval/auroc.ts";
import { encodeGrayPng, encodeMaskPng, encodeRgbPng, intensityLevel, writeFileAtomic } from "./png.ts";
import { basename, dirname, join, resolve } from "node:path";

// ---------------------------------------------------------------------------------------------------
// Layers

/** Layers from the top of the image to the bottom; boundary k is the top of layer k. */
export const LAYER_NAMES = [
  "vitreous",
  "RNFL",
  "GCL",
  "IPL",
  "INL",
  "OPL",
  "ONL",
  "ELM",
  "myoid",
  "EZ",
  "OS",
  "IZ",
  "subretinal fluid",
  "RPE",
  "choroid",
] as const;
const L = {
  vitreous: 0,
  RNFL: 1,
  GCL: 2,
  IPL: 3,
  INL: 4,
  OPL: 5,
  ONL: 6,
  ELM: 7,
  myoid: 8,
  EZ: 9,
  OS: 10,
  IZ: 11,
  SRF: 12,
  RPE: 13,
  choroid: 14,
} as const;
const LAYER_COUNT = LAYER_NAMES.length;
const BOUNDARY_COUNT = LAYER_COUNT + 1;

interface LayerSpec {
  /** Thickness range in pixels at the reference height of 128 rows (0: set elsewhere). */
  thickness: [number, number];
  /** Mean reflectivity above the noise floor, dB. */
  db: number;
  /** Standard deviation of the layer's structural texture, dB. */
  textureDb: number;
}

// Reflectivities follow the familiar look of a log-scale SD-OCT B-scan: bright RNFL, IPL/OPL, EZ and
// RPE bands; dark GCL, INL and (darkest) ONL; a bright, textured choroid below the RPE.
const LAYER_SPECS: LayerSpec[] = [
  { thickness: [0, 0], db: -10, textureDb: 0 }, // vitreous (well below the noise floor)
  { thickness: [0, 0], db: 27, textureDb: 2.0 }, // RNFL: thickness from its own profile
  { thickness: [9, 13], db: 15, textureDb: 2.2 }, // GCL
  { thickness: [7, 9.5], db: 21, textureDb: 2.4 }, // IPL
  { thickness: [7, 9.5], db: 11, textureDb: 2.0 }, // INL
  { thickness: [4.5, 6.5], db: 20, textureDb: 2.0 }, // OPL
  { thickness: [15, 21], db: 6.5, textureDb: 1.2 }, // ONL
  { thickness: [1.0, 1.4], db: 17, textureDb: 1.0 }, // ELM
  { thickness: [2.5, 3.5], db: 8, textureDb: 1.0 }, // myoid zone
  { thickness: [2.5, 3.5], db: 27.5, textureDb: 1.2 }, // ellipsoid zone
  { thickness: [3, 4.5], db: 14, textureDb: 1.5 }, // outer segments
  { thickness: [1.5, 2.2], db: 23, textureDb: 1.5 }, // interdigitation zone
  { thickness: [0, 0], db: -4, textureDb: 0.8 }, // subretinal fluid: thickness and db from the anomaly
  { thickness: [4.5, 6], db: 31, textureDb: 1.5 }, // RPE / Bruch's membrane
  { thickness: [0, 0], db: 23, textureDb: 3.0 }, // choroid: down to the bottom of the image
];

// ---------------------------------------------------------------------------------------------------
// Options and plan

export interface PhantomOptions {
  seed: number;
  pathological: boolean;
  /** Columns per B-scan (default 256, the paper's resampled width). */
  width?: number;
  /** Rows per B-scan (default 128). */
  height?: number;
  /** B-scans per volume, evenly spaced across the scanned square (default 49, as in the paper). */
  bscans?: number;
}

export const DEFAULT_WIDTH = 256;
export const DEFAULT_HEIGHT = 128;
export const DEFAULT_BSCANS = 49;

export type AnomalyKind = "intraretinal-fluid" | "subretinal-fluid" | "hyperreflective-focus";

/**
 * A 3-D anomaly in volume coordinates: x in columns, y across B-scans in the same pixel units
 * (the scan covers a square, y ∈ [0, width)), depth given relative to a host layer.
 */
export interface AnomalyObject {
  id: number;
  kind: AnomalyKind;
  label: typeof MASK_FLUID | typeof MASK_HRF;
  x: number;
  y: number;
  /** Semi-axes in pixels: lateral, across B-scans, axial (subretinal fluid: axial = peak height). */
  radiusX: number;
  radiusY: number;
  radiusZ: number;
  /** Host layer and relative depth inside it (intraretinal fluid, foci). */
  layer?: string;
  depthFraction?: number;
  /** Fluid: fraction of the way from the tissue's reflectivity to the fluid's (1 = fully dark). */
  strength?: number;
  /** Fluid: reflectivity of the fluid in dB above the noise floor; foci: brightness added, dB. */
  db: number;
}

interface SmoothField {
  freqX: number[];
  freqY: number[];
  phase: number[];
}

interface Vessel {
  x0: number;
  slope: number;
  wobble: number;
  phase: number;
  radius: number;
  shadowDb: number;
}

interface Anatomy {
  foveaX: number;
  foveaY: number;
  pitSigma: number;
  pitDepth: number;
  rpeTop: number;
  rpeResidual: SmoothField;
  thickness: number[];
  thicknessVariation: SmoothField[];
  rnflTemporal: number;
  rnflNasal: number;
  nasalSide: 1 | -1;
  layerDb: number[];
  gainDb: number;
  lateralGain: SmoothField;
  speckleLooks: number;
  vessels: Vessel[];
}

/** Everything needed to render any B-scan of a volume; plain data (JSON-serialisable). */
export interface VolumePlan {
  seed: number;
  pathological: boolean;
  width: number;
  height: number;
  bscans: number;
  anatomy: Anatomy;
  anomalies: AnomalyObject[];
}

// Sub-stream identifiers for deriveSeed.
const STREAM_ANATOMY = 1;
const STREAM_ANOMALIES = 2;
const STREAM_BSCAN = 3;

function checkOptions(options: PhantomOptions): Required<PhantomOptions> {
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  const bscans = options.bscans ?? DEFAULT_BSCANS;
  const checks: [string, number, number][] = [["width", width, 64], ["height", height, 64], [
    "bscans",
    bscans,
    1,
  ]];
  for (const [name, value, min] of checks) {
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`phantom ${name} must be an integer ≥ ${min}, got ${value}`);
    }
  }
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
    throw new Error(`phantom seed must be a non-negative integer, got ${options.seed}`);
  }
  return { seed: options.seed, pathological: options.pathological, width, height, bscans };
}

/** y coordinate (pixel units across the volume) of B-scan `slice`. */
function sliceY(plan: { width: number; bscans: number }, slice: number): number {
  return ((slice + 0.5) / plan.bscans) * plan.width;
}

function makeSmoothField(
  rng: XoshiroRng,
  minWavelength: number,
  maxWavelength: number,
  terms = 4,
): SmoothField {
  const field: SmoothField = { freqX: [], freqY: [], phase: [] };
  for (let t = 0; t < terms; t++) {
    const wavelength = rng.range(minWavelength, maxWavelength);
    const angle = rng.range(0, 2 * Math.PI);
    field.freqX.push((Math.cos(angle) * 2 * Math.PI) / wavelength);
    field.freqY.push((Math.sin(angle) * 2 * Math.PI) / wavelength);
    field.phase.push(rng.range(0, 2 * Math.PI));
  }
  return field;
}

/** A smooth random function of (x, y) with zero mean and unit variance. */
function evalField(field: SmoothField, x: number, y: number): number {
  let sum = 0;
  for (let t = 0; t < field.freqX.length; t++) {
    sum += Math.cos(field.freqX[t] * x + field.freqY[t] * y + field.phase[t]);
  }
  return sum * Math.sqrt(2 / field.freqX.length);
}

function planVessels(rng: XoshiroRng, width: number, lateral: number): Vessel[] {
  const vessels: Vessel[] = [];
  const count = 2 + rng.int(4);
  for (let v = 0; v < count; v++) {
    vessels.push({
      x0: rng.range(0.05, 0.95) * width,
      slope: rng.range(-0.6, 0.6),
      wobble: rng.range(2, 12) * lateral,
      phase: rng.range(0, 2 * Math.PI),
      radius: rng.range(1.2, 3.2) * lateral,
      shadowDb: rng.range(3, 9),
    });
  }
  return vessels;
}

function planAnatomy(rng: XoshiroRng, width: number, height: number): Anatomy {
  const axial = height / DEFAULT_HEIGHT;
  const lateral = width / DEFAULT_WIDTH;
  const retinaScale = rng.range(0.9, 1.1);
  const thickness = LAYER_SPECS.map((spec) => rng.range(...spec.thickness) * axial * retinaScale);
  return {
    foveaX: rng.range(0.3, 0.7) * width,
    foveaY: rng.range(0.3, 0.7) * width,
    pitSigma: rng.range(16, 28) * lateral,
    pitDepth: rng.range(0.75, 1),
    rpeTop: rng.range(0.72, 0.76) * height,
    rpeResidual: makeSmoothField(rng, 150 * lateral, 500 * lateral),
    thickness,
    thicknessVariation: LAYER_SPECS.map(() => makeSmoothField(rng, 60 * lateral, 300 * lateral)),
    rnflTemporal: rng.range(3, 6) * axial * retinaScale,
    rnflNasal: rng.range(11, 20) * axial * retinaScale,
    nasalSide: rng.chance(0.5) ? 1 : -1,
    layerDb: LAYER_SPECS.map((spec) => spec.db + rng.normal() * 1.2),
    gainDb: rng.range(-3, 2),
    lateralGain: makeSmoothField(rng, 120 * lateral, 400 * lateral),
    speckleLooks: 3 + rng.int(4),
    vessels: planVessels(rng, width, lateral),
  };
}

/** Plans a volume: anatomy, and for a pathological volume its fluid and foci. */
export function planVolume(options: PhantomOptions): VolumePlan {
  const { seed, pathological, width, height, bscans } = checkOptions(options);
  const anatomy = planAnatomy(new XoshiroRng(deriveSeed(seed, STREAM_ANATOMY)), width, height);
  const plan: VolumePlan = { seed, pathological, width, height, bscans, anatomy, anomalies: [] };
  if (pathological) plan.anomalies = planAnomalies(new XoshiroRng(deriveSeed(seed, STREAM_ANOMALIES)), plan);
  return plan;
}

// ---------------------------------------------------------------------------------------------------
// Pathology planning

/** The y of the B-scan nearest to y, so that an anomaly placed there is sure to be imaged. */
function snapToSlice(plan: VolumePlan, y: number): number {
  const slice = Math.min(plan.bscans - 1, Math.max(0, Math.floor((y / plan.width) * plan.bscans)));
  return sliceY(plan, slice);
}

function pickWeighted<T>(rng: XoshiroRng, choices: [T, number][]): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let u = rng.uniform() * total;
  for (const [value, weight] of choices) {
    if ((u -= weight) < 0) return value;
  }
  return choices[choices.length - 1][0];
}

/** A lesion centre: near the fovea (where fluid usually collects) or anywhere in the scan. */
function lesionCentre(rng: XoshiroRng, plan: VolumePlan, nearFovea: number): { x: number; y: number } {
  const { anatomy, width } = plan;
  const clampIn = (v: number) => Math.min(0.92 * width, Math.max(0.08 * width, v));
  if (rng.chance(nearFovea)) {
    const spread = 25 * (width / DEFAULT_WIDTH);
    return {
      x: clampIn(anatomy.foveaX + rng.normal() * spread),
      y: clampIn(anatomy.foveaY + rng.normal() * spread),
    };
  }
  return { x: rng.range(0.1, 0.9) * width, y: rng.range(0.1, 0.9) * width };
}

function planCystCluster(
  rng: XoshiroRng,
  plan: VolumePlan,
  severity: number,
  nextId: () => number,
): AnomalyObject[] {
  const lateral = plan.width / DEFAULT_WIDTH;
  const axial = plan.height / DEFAULT_HEIGHT;
  const centre = lesionCentre(rng, plan, 0.6);
  centre.y = snapToSlice(plan, centre.y);
  const count = 2 + rng.int(3 + Math.round(severity * 12));
  const cysts: AnomalyObject[] = [];
  for (let c = 0; c < count; c++) {
    const first = c === 0;
    const layer = pickWeighted<string>(rng, [["INL", 0.4], ["ONL", 0.5], ["OPL", 0.1]]);
    // Log-uniform sizes: many small cysts, some large; the first is big enough to be visible.
    const maxRadius = 3 + 9 * severity;
    const radiusX = Math.exp(rng.range(Math.log(first ? 2.5 : 1.2), Math.log(Math.max(3, maxRadius)))) *
      lateral;
    const spread = 20 * lateral;
    cysts.push({
      id: nextId(),
      kind: "intraretinal-fluid",
      label: MASK_FLUID,
      x: first ? centre.x : centre.x + rng.normal() * spread,
      y: first ? centre.y : centre.y + rng.normal() * 2.5 * spread, // clusters reach across B-scans
      radiusX,
      radiusY: radiusX * rng.range(0.8, 1.5),
      radiusZ: Math.max(2 * axial, (radiusX / lateral) * axial * rng.range(0.6, layer === "ONL" ? 1.4 : 1)),
      layer,
      depthFraction: rng.range(0.3, 0.7),
      strength: rng.range(0.6, 1),
      db: rng.range(-10, -2),
    });
  }
  return cysts;
}

function planSubretinalFluid(rng: XoshiroRng, plan: VolumePlan, severity: number, id: number): AnomalyObject {
  const lateral = plan.width / DEFAULT_WIDTH;
  const axial = plan.height / DEFAULT_HEIGHT;
  const centre = lesionCentre(rng, plan, 0.7);
  const radiusX = rng.range(25, 40 + 60 * severity) * lateral;
  return {
    id,
    kind: "subretinal-fluid",
    label: MASK_FLUID,
    x: centre.x,
    y: snapToSlice(plan, centre.y),
    radiusX,
    radiusY: radiusX * rng.range(0.8, 1.5),
    radiusZ: rng.range(3, 5 + 12 * severity) * axial,
    db: rng.range(-8, 0),
  };
}

function planFoci(
  rng: XoshiroRng,
  plan: VolumePlan,
  severity: number,
  nextId: () => number,
): AnomalyObject[] {
  const lateral = plan.width / DEFAULT_WIDTH;
  const count = rng.int(1 + Math.round(severity * 25));
  const foci: AnomalyObject[] = [];
  for (let f = 0; f < count; f++) {
    const centre = lesionCentre(rng, plan, 0.5);
    const radius = rng.range(0.9, 2.0) * lateral;
    foci.push({
      id: nextId(),
      kind: "hyperreflective-focus",
      label: MASK_HRF,
      x: centre.x,
      y: snapToSlice(plan, centre.y),
      radiusX: radius,
      radiusY: radius,
      radiusZ: radius,
      layer: pickWeighted<string>(rng, [["IPL", 0.15], ["INL", 0.3], ["OPL", 0.25], ["ONL", 0.3]]),
      depthFraction: rng.range(0.2, 0.8),
      db: rng.range(7, 16),
    });
  }
  return foci;
}

function planAnomalies(rng: XoshiroRng, plan: VolumePlan): AnomalyObject[] {
  // Severity spans subtle cases (a couple of small, faint cysts) to florid ones.
  const severity = rng.uniform();
  let id = 0;
  const nextId = () => id++;
  let hasIntraretinal = rng.chance(0.8);
  const hasSubretinal = rng.chance(0.6);
  if (!hasIntraretinal && !hasSubretinal) hasIntraretinal = true; // every pathological case has fluid
  const anomalies: AnomalyObject[] = [];
  if (hasIntraretinal) {
    const clusters = 1 + rng.int(2 + Math.round(severity * 4));
    for (let c = 0; c < clusters; c++) anomalies.push(...planCystCluster(rng, plan, severity, nextId));
  }
  if (hasSubretinal) anomalies.push(planSubretinalFluid(rng, plan, severity, nextId()));
  anomalies.push(...planFoci(rng, plan, severity, nextId));
  return anomalies;
}

// ---------------------------------------------------------------------------------------------------
// Geometry of one B-scan

/** An axis-aligned ellipse in a B-scan, in pixels (x: column, z: row, pixel centres at +0.5). */
interface Ellipse {
  x: number;
  z: number;
  radiusX: number;
  radiusZ: number;
}

/** An anomaly's cut through one B-scan (for subretinal fluid, radiusZ is the dome's height). */
interface Section extends Ellipse {
  object: AnomalyObject;
}

function sectionsAt(plan: VolumePlan, y: number): Section[] {
  const sections: Section[] = [];
  for (const object of plan.anomalies) {
    const dy = (y - object.y) / object.radiusY;
    if (Math.abs(dy) >= 1) continue;
    const shrink = Math.sqrt(1 - dy * dy);
    const radiusX = object.radiusX * shrink;
    const radiusZ = object.kind === "subretinal-fluid"
      ? object.radiusZ * shrink ** 1.5
      : object.radiusZ * shrink;
    if (radiusX < 0.7 || radiusZ < 0.7) continue; // thinner than a pixel: not imaged
    sections.push({ object, x: object.x, z: 0, radiusX, radiusZ });
  }
  return sections;
}

/** Foveal pit: a Gaussian dip of the inner retina around the fovea. */
function pitAt(anatomy: Anatomy, x: number, y: number): { pit: number; ring: number } {
  const r = Math.hypot(x - anatomy.foveaX, y - anatomy.foveaY);
  const s = anatomy.pitSigma;
  return {
    pit: anatomy.pitDepth * Math.exp(-(r * r) / (2 * s * s)),
    ring: Math.exp(-((r - 1.6 * s) ** 2) / (2 * (0.7 * s) ** 2)), // thick parafoveal ganglion cells
  };
}

/** RNFL thickness: thin temporally, thick nasally (towards the disc), thicker along the arcades. */
function rnflThickness(anatomy: Anatomy, x: number, y: number, lateral: number): number {
  const towardsNasal = ((x - anatomy.foveaX) * anatomy.nasalSide) / (40 * lateral);
  const nasal = 1 / (1 + Math.exp(-towardsNasal));
  const arcade = Math.exp(-(((Math.abs(y - anatomy.foveaY) - 55 * lateral) / (35 * lateral)) ** 2));
  return (anatomy.rnflTemporal + (anatomy.rnflNasal - anatomy.rnflTemporal) * nasal) * (1 + 0.6 * arcade);
}

/** How much of each layer's thickness remains at the fovea, per unit of pit depth. */
const PIT_THINNING: Partial<Record<number, number>> = {
  [L.RNFL]: 1,
  [L.GCL]: 0.97,
  [L.IPL]: 0.92,
  [L.INL]: 0.85,
  [L.OPL]: 0.6,
  [L.ONL]: -0.45, // the outer nuclear layer thickens where the inner retina parts
};

const HOST_LAYERS: Record<string, number> = { IPL: L.IPL, INL: L.INL, OPL: L.OPL, ONL: L.ONL };

/**
 * Layer boundaries of every column: `boundaries[x * BOUNDARY_COUNT + k]` is the depth (rows, 0 at the
 * top) where layer k starts. Flattened to the RPE; subretinal fluid lifts everything above it, and
 * cysts swell the layer that holds them.
 */
function layerBoundaries(plan: VolumePlan, y: number, sections: Section[]): Float64Array {
  const { anatomy, width, height } = plan;
  const lateral = width / DEFAULT_WIDTH;
  const axial = height / DEFAULT_HEIGHT;
  const boundaries = new Float64Array(width * BOUNDARY_COUNT);
  const thickness = new Float64Array(LAYER_COUNT);
  for (let col = 0; col < width; col++) {
    const x = col + 0.5;
    const { pit, ring } = pitAt(anatomy, x, y);
    for (let k = 0; k < LAYER_COUNT; k++) {
      const base = k === L.RNFL ? rnflThickness(anatomy, x, y, lateral) : anatomy.thickness[k];
      const variation = 1 + 0.1 * evalField(anatomy.thicknessVariation[k], x, y);
      thickness[k] = base * variation * (1 - pit * (PIT_THINNING[k] ?? 0));
    }
    thickness[L.GCL] *= 1 + 0.35 * ring;
    thickness[L.SRF] = 0;
    for (const s of sections) addLesionThickness(s, x, thickness);
    const rpeTop = anatomy.rpeTop + 1.5 * axial * evalField(anatomy.rpeResidual, x, y);
    // Keep the lifted retina inside the image: a little vitreous always remains above the ILM.
    let retina = 0;
    for (let k = L.RNFL; k <= L.SRF; k++) retina += thickness[k];
    const overflow = retina - (rpeTop - 3 * axial);
    if (overflow > 0) thickness[L.SRF] = Math.max(0, thickness[L.SRF] - overflow);
    const b = col * BOUNDARY_COUNT;
    boundaries[b + L.RPE] = rpeTop;
    for (let k = L.SRF; k >= L.RNFL; k--) boundaries[b + k] = boundaries[b + k + 1] - thickness[k];
    boundaries[b + L.vitreous] = 0;
    boundaries[b + L.choroid] = rpeTop + thickness[L.RPE];
    boundaries[b + LAYER_COUNT] = height;
  }
  return boundaries;
}

/** Cysts swell their host layer; subretinal fluid is a layer of its own under the photoreceptors. */
function addLesionThickness(section: Section, x: number, thickness: Float64Array): void {
  const dx = (x - section.x) / section.radiusX;
  const { object } = section;
  if (object.kind === "subretinal-fluid" && Math.abs(dx) < 1) {
    thickness[L.SRF] += section.radiusZ * (1 - dx * dx) ** 1.5;
  } else if (object.kind === "intraretinal-fluid" && Math.abs(dx) < 5) {
    // A cyst swells its layer; the tissue above bows up in a smooth hump wider than the cyst.
    thickness[HOST_LAYERS[object.layer!]] += 1.2 * section.radiusZ * Math.exp(-0.5 * (dx / 1.5) ** 2);
  }
}

/** Puts each cyst and focus at its relative depth inside its host layer, at its centre column. */
function placeSections(plan: VolumePlan, boundaries: Float64Array, sections: Section[]): void {
  for (const s of sections) {
    const col = Math.min(plan.width - 1, Math.max(0, Math.floor(s.x)));
    const b = col * BOUNDARY_COUNT;
    if (s.object.kind === "subretinal-fluid") {
      s.z = boundaries[b + L.RPE];
      continue;
    }
    const k = HOST_LAYERS[s.object.layer!];
    const top = boundaries[b + k];
    s.z = top + s.object.depthFraction! * (boundaries[b + k + 1] - top);
  }
}

// ---------------------------------------------------------------------------------------------------
// Rendering

export interface SliceAnomaly {
  id: number;
  kind: AnomalyKind;
  label: number;
  /** Mask pixels of this anomaly in this B-scan (≥ 1 for every listed anomaly). */
  pixels: number;
  /** Bounding box of those pixels: [x0, y0, x1, y1), y as image row. */
  bbox: [number, number, number, number];
}

export interface RenderedBscan {
  /** height × width, row-major, in [-1, 1]. */
  image: Float32Array;
  /** height × width labels: 0 background, 1 fluid, 2 hyperreflective focus. */
  mask: Uint8Array;
  /** height × width: 1 where a fluid pixel is subretinal fluid (the rest of the fluid is cysts). */
  subretinal: Uint8Array;
  anomalies: SliceAnomaly[];
}

/** Reflectivity (dB) of every pixel: area-weighted layers (partial volume), each with its texture. */
function layeredReflectivity(
  plan: VolumePlan,
  boundaries: Float64Array,
  texture: Float64Array,
  subretinalFluidDb: number,
  out: Float64Array,
): void {
  const { width, height, anatomy } = plan;
  const axial = height / DEFAULT_HEIGHT;
  const linear = new Float64Array(height);
  for (let col = 0; col < width; col++) {
    linear.fill(0);
    const b = col * BOUNDARY_COUNT;
    const choroidTop = boundaries[b + L.choroid];
    for (let k = 0; k < LAYER_COUNT; k++) {
      const top = boundaries[b + k];
      const bottom = boundaries[b + k + 1];
      if (bottom <= top) continue;
      for (let row = Math.max(0, Math.floor(top)); row < Math.min(height, Math.ceil(bottom)); row++) {
        const overlap = Math.min(row + 1, bottom) - Math.max(row, top);
        if (overlap <= 0) continue;
        const layerDb = k === L.SRF ? subretinalFluidDb : anatomy.layerDb[k];
        let db = layerDb + LAYER_SPECS[k].textureDb * texture[row * width + col];
        // The choroid fades with depth as the light is scattered and absorbed.
        if (k === L.choroid) db -= (0.3 / axial) * (row + 0.5 - choroidTop);
        linear[row] += overlap * 10 ** (db / 10);
      }
    }
    for (let row = 0; row < height; row++) out[row * width + col] = 10 * Math.log10(linear[row]);
  }
}

/** Fraction of an ellipse's effect on a pixel: 1 inside, 0 outside, a one-pixel ramp at the edge. */
function ellipseCoverage(dx: number, dz: number, rx: number, rz: number): number {
  const rho = Math.hypot(dx / rx, dz / rz);
  return Math.min(1, Math.max(0, 0.5 + (1 - rho) * Math.min(rx, rz)));
}

function forEachPixelNear(
  plan: VolumePlan,
  s: Ellipse,
  margin: number,
  visit: (col: number, row: number, dx: number, dz: number) => void,
): void {
  const x0 = Math.max(0, Math.floor(s.x - s.radiusX - margin));
  const x1 = Math.min(plan.width - 1, Math.ceil(s.x + s.radiusX + margin));
  const z0 = Math.max(0, Math.floor(s.z - s.radiusZ - margin));
  const z1 = Math.min(plan.height - 1, Math.ceil(s.z + s.radiusZ + margin));
  for (let row = z0; row <= z1; row++) {
    for (let col = x0; col <= x1; col++) visit(col, row, col + 0.5 - s.x, row + 0.5 - s.z);
  }
}

/** Cysts: dark fluid inside the neurosensory retina (between the ILM and the ELM). */
function drawCyst(
  plan: VolumePlan,
  s: Section,
  boundaries: Float64Array,
  db: Float64Array,
  mask: Uint8Array,
) {
  const { width } = plan;
  forEachPixelNear(plan, s, 1, (col, row, dx, dz) => {
    const b = col * BOUNDARY_COUNT;
    const z = row + 0.5;
    if (z < boundaries[b + L.RNFL] + 1 || z > boundaries[b + L.ELM]) return;
    const cover = ellipseCoverage(dx, dz, s.radiusX, s.radiusZ);
    if (cover <= 0) return;
    const i = row * width + col;
    db[i] += cover * s.object.strength! * (s.object.db - db[i]);
    if (cover >= 0.5) mask[i] = MASK_FLUID;
  });
}

/** Subretinal fluid is already a dark layer; here it is labelled where a pixel's centre lies inside. */
function labelSubretinalFluid(plan: VolumePlan, s: Section, boundaries: Float64Array, mask: Uint8Array) {
  const { width, height } = plan;
  const x0 = Math.max(0, Math.floor(s.x - s.radiusX));
  const x1 = Math.min(width - 1, Math.ceil(s.x + s.radiusX));
  for (let col = x0; col <= x1; col++) {
    const b = col * BOUNDARY_COUNT;
    const top = boundaries[b + L.SRF];
    const bottom = boundaries[b + L.RPE];
    for (let row = Math.max(0, Math.floor(top)); row < Math.min(height, Math.ceil(bottom)); row++) {
      if (row + 0.5 >= top && row + 0.5 < bottom) mask[row * width + col] = MASK_FLUID;
    }
  }
}

/** Hyperreflective foci: small bright dots that cast a faint shadow. */
function drawFocus(plan: VolumePlan, s: Section, db: Float64Array, mask: Uint8Array, shadow: Float64Array) {
  const { width } = plan;
  forEachPixelNear(plan, s, 1, (col, row, dx, dz) => {
    const cover = ellipseCoverage(dx, dz, s.radiusX, s.radiusZ);
    if (cover <= 0) return;
    const i = row * width + col;
    db[i] += cover * s.object.db;
    if (cover >= 0.5 && mask[i] === 0) mask[i] = MASK_HRF;
  });
  addShadow(plan, shadow, s.x, s.radiusX, s.z + s.radiusZ, 2.5);
}

/** Attenuation (dB) below depth zTop, Gaussian across columns: what an absorbing object casts. */
function addShadow(
  plan: VolumePlan,
  shadow: Float64Array,
  x: number,
  radius: number,
  zTop: number,
  dB: number,
) {
  const { width, height } = plan;
  const x0 = Math.max(0, Math.floor(x - 3 * radius));
  const x1 = Math.min(width - 1, Math.ceil(x + 3 * radius));
  for (let col = x0; col <= x1; col++) {
    const profile = dB * Math.exp(-(((col + 0.5 - x) / (0.9 * radius)) ** 2));
    for (let row = Math.max(0, Math.ceil(zTop)); row < height; row++) shadow[row * width + col] += profile;
  }
}

/** Retinal vessels: bright cross-sections in the inner retina with a shadow down to the choroid. */
function drawVessels(
  plan: VolumePlan,
  y: number,
  boundaries: Float64Array,
  db: Float64Array,
  shadow: Float64Array,
) {
  const { anatomy, width } = plan;
  const lateral = width / DEFAULT_WIDTH;
  for (const v of anatomy.vessels) {
    const x = v.x0 + v.slope * (y - width / 2) + v.wobble * Math.sin(y / (60 * lateral) + v.phase);
    if (x < -v.radius || x > width + v.radius) continue;
    // No vessels in the foveal avascular zone.
    if (Math.hypot(x - anatomy.foveaX, y - anatomy.foveaY) < 1.3 * anatomy.pitSigma) continue;
    const col = Math.min(width - 1, Math.max(0, Math.floor(x)));
    const z = Math.max(
      boundaries[col * BOUNDARY_COUNT + L.GCL],
      boundaries[col * BOUNDARY_COUNT + L.RNFL] + v.radius,
    );
    const section: Ellipse = { x, z, radiusX: v.radius, radiusZ: v.radius * 0.8 };
    forEachPixelNear(plan, section, 1, (c, row, dx, dz) => {
      const cover = ellipseCoverage(dx, dz, section.radiusX, section.radiusZ);
      const i = row * width + c;
      db[i] += cover * (anatomy.layerDb[L.RNFL] - 1 - db[i]);
    });
    addShadow(plan, shadow, x, v.radius, z + section.radiusZ, v.shadowDb);
  }
}

/** Large choroidal vessels: dark lumens of various sizes in the bright choroidal stroma. */
function drawChoroidalVessels(plan: VolumePlan, rng: XoshiroRng, boundaries: Float64Array, db: Float64Array) {
  const { width, height } = plan;
  const lateral = width / DEFAULT_WIDTH;
  const axial = height / DEFAULT_HEIGHT;
  const count = Math.round(width / (14 * lateral));
  for (let n = 0; n < count; n++) {
    const x = rng.range(0, width);
    const col = Math.min(width - 1, Math.floor(x));
    const top = boundaries[col * BOUNDARY_COUNT + L.choroid];
    const depth = rng.range(3, 40) * axial;
    const section: Ellipse = {
      x,
      z: top + depth,
      radiusX: rng.range(2, 4 + depth / 3) * lateral,
      radiusZ: rng.range(1.2, 2 + depth / 6) * axial,
    };
    const darkening = rng.range(6, 12);
    forEachPixelNear(plan, section, 1, (c, row, dx, dz) => {
      if (row + 0.5 < boundaries[c * BOUNDARY_COUNT + L.choroid] + 1) return;
      db[row * width + c] -= darkening * ellipseCoverage(dx, dz, section.radiusX, section.radiusZ);
    });
  }
}

/** A normalised 1-D Gaussian kernel (sum 1), radius 3σ. */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Float64Array.from(
    { length: 2 * radius + 1 },
    (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const sum = kernel.reduce((a, b) => a + b, 0);
  return kernel.map((w) => w / sum);
}

/** Separable convolution of a width × height image with edge replication, in place (uses `scratch`). */
function blurSeparable(
  image: Float64Array,
  width: number,
  height: number,
  kernelX: Float64Array,
  kernelZ: Float64Array,
  scratch: Float64Array,
): void {
  const rx = (kernelX.length - 1) / 2;
  const rz = (kernelZ.length - 1) / 2;
  for (let row = 0; row < height; row++) {
    const base = row * width;
    for (let col = 0; col < width; col++) {
      let sum = 0;
      for (let k = -rx; k <= rx; k++) {
        const c = Math.min(width - 1, Math.max(0, col + k));
        sum += kernelX[k + rx] * image[base + c];
      }
      scratch[base + col] = sum;
    }
  }
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      let sum = 0;
      for (let k = -rz; k <= rz; k++) {
        const r = Math.min(height - 1, Math.max(0, row + k));
        sum += kernelZ[k + rz] * scratch[r * width + col];
      }
      image[row * width + col] = sum;
    }
  }
}

/** Structural texture: smooth noise with unit variance, grains elongated along the layers. */
function textureField(plan: VolumePlan, rng: XoshiroRng): Float64Array {
  const { width, height } = plan;
  const field = new Float64Array(width * height);
  rng.fillNormal(field);
  const kx = gaussianKernel(1.8 * (width / DEFAULT_WIDTH));
  const kz = gaussianKernel(0.8 * (height / DEFAULT_HEIGHT));
  blurSeparable(field, width, height, kx, kz, new Float64Array(field.length));
  // A blurred unit white noise has variance Σkx² · Σkz²; rescale back to unit variance.
  const energy = kx.reduce((s, w) => s + w * w, 0) * kz.reduce((s, w) => s + w * w, 0);
  const scale = 1 / Math.sqrt(energy);
  return field.map((v) => v * scale);
}

// Unit phasors for the speckle's random phases, looked up by a random byte.
const PHASE_TABLE_SIZE = 256;
const PHASE_COS = Float64Array.from(
  { length: PHASE_TABLE_SIZE },
  (_, k) => Math.cos((2 * Math.PI * k) / PHASE_TABLE_SIZE),
);
const PHASE_SIN = Float64Array.from(
  { length: PHASE_TABLE_SIZE },
  (_, k) => Math.sin((2 * Math.PI * k) / PHASE_TABLE_SIZE),
);

/**
 * Coherent imaging: each look gives every scatterer (signal plus the 0 dB noise floor) a random phase,
 * sends the complex field through the system's point-spread function and takes |·|²; the sum of
 * many random phasors under the PSF is the fully developed speckle of OCT. Averaging a few looks gives
 * the partly smoothed grain of a frame-averaged B-scan.
 */
function speckleIntensity(plan: VolumePlan, rng: XoshiroRng, reflectivityDb: Float64Array): Float64Array {
  const { width, height, anatomy } = plan;
  const n = width * height;
  // A PSF of unit energy keeps the mean intensity equal to the (locally averaged) reflectivity.
  const unitEnergy = (k: Float64Array) => k.map((w) => w / Math.sqrt(k.reduce((s, v) => s + v * v, 0)));
  const psfX = unitEnergy(gaussianKernel(1.0 * (width / DEFAULT_WIDTH)));
  const psfZ = unitEnergy(gaussianKernel(0.8 * (height / DEFAULT_HEIGHT)));
  const amplitude = reflectivityDb.map((db) => Math.sqrt(10 ** (db / 10) + 1));
  const intensity = new Float64Array(n);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const scratch = new Float64Array(n);
  for (let look = 0; look < anatomy.speckleLooks; look++) {
    for (let i = 0; i < n; i++) {
      const phase = rng.nextUint32() >>> 24;
      re[i] = amplitude[i] * PHASE_COS[phase];
      im[i] = amplitude[i] * PHASE_SIN[phase];
    }
    blurSeparable(re, width, height, psfX, psfZ, scratch);
    blurSeparable(im, width, height, psfX, psfZ, scratch);
    for (let i = 0; i < n; i++) intensity[i] += (re[i] * re[i] + im[i] * im[i]) / anatomy.speckleLooks;
  }
  return intensity;
}

/** Display window of the log-compressed intensity, dB above the noise floor, mapped to [-1, 1]. */
export const DISPLAY_WINDOW_DB: readonly [number, number] = [2, 36];

function logCompress(intensity: Float64Array): Float32Array {
  const [lo, hi] = DISPLAY_WINDOW_DB;
  return Float32Array.from(intensity, (v) => {
    const db = 10 * Math.log10(v);
    return Math.min(1, Math.max(-1, ((db - lo) / (hi - lo)) * 2 - 1));
  });
}

/** Counts the pixels of one section that carry its label in the mask, with their bounding box. */
function sectionPixels(
  plan: VolumePlan,
  s: Section,
  boundaries: Float64Array,
  mask: Uint8Array,
): { pixels: number; bbox: [number, number, number, number] } {
  const bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  let pixels = 0;
  const count = (col: number, row: number) => {
    if (mask[row * plan.width + col] !== s.object.label) return;
    pixels++;
    bbox[0] = Math.min(bbox[0], col);
    bbox[1] = Math.min(bbox[1], row);
    bbox[2] = Math.max(bbox[2], col + 1);
    bbox[3] = Math.max(bbox[3], row + 1);
  };
  if (s.object.kind === "subretinal-fluid") {
    // The dome lies between the photoreceptors and the RPE, where no cyst can be.
    const x0 = Math.max(0, Math.floor(s.x - s.radiusX));
    const x1 = Math.min(plan.width - 1, Math.ceil(s.x + s.radiusX));
    for (let col = x0; col <= x1; col++) {
      const b = col * BOUNDARY_COUNT;
      for (let row = Math.floor(boundaries[b + L.SRF]); row <= boundaries[b + L.RPE]; row++) {
        if (row >= 0 && row < plan.height) count(col, row);
      }
    }
  } else {
    forEachPixelNear(plan, s, 1, (col, row, dx, dz) => {
      if (ellipseCoverage(dx, dz, s.radiusX, s.radiusZ) >= 0.5) count(col, row);
    });
  }
  return { pixels, bbox };
}

/** Per-B-scan anomaly list: every section that left at least one pixel of its label in the mask. */
function listSliceAnomalies(
  plan: VolumePlan,
  sections: Section[],
  boundaries: Float64Array,
  mask: Uint8Array,
): SliceAnomaly[] {
  const listed: SliceAnomaly[] = [];
  for (const s of sections) {
    const { pixels, bbox } = sectionPixels(plan, s, boundaries, mask);
    if (pixels > 0) {
      listed.push({ id: s.object.id, kind: s.object.kind, label: s.object.label, pixels, bbox });
    }
  }
  return listed;
}

/** Renders B-scan `slice` of a planned volume. Independent of the other B-scans (own sub-stream). */
export function renderBscan(plan: VolumePlan, slice: number): RenderedBscan {
  if (!Number.isInteger(slice) || slice < 0 || slice >= plan.bscans) {
    throw new Error(`B-scan index ${slice} is outside the volume's 0..${plan.bscans - 1}`);
  }
  const { width, height, anatomy } = plan;
  const rng = new XoshiroRng(deriveSeed(plan.seed, STREAM_BSCAN, slice));
  const y = sliceY(plan, slice);
  const sections = sectionsAt(plan, y);
  const boundaries = layerBoundaries(plan, y, sections);
  placeSections(plan, boundaries, sections);

  const db = new Float64Array(width * height);
  const mask = new Uint8Array(width * height);
  const shadow = new Float64Array(width * height);
  const subretinal = sections.find((s) => s.object.kind === "subretinal-fluid");
  const subretinalDb = subretinal?.object.db ?? anatomy.layerDb[L.SRF];
  layeredReflectivity(plan, boundaries, textureField(plan, rng), subretinalDb, db);
  drawChoroidalVessels(plan, rng, boundaries, db);
  drawVessels(plan, y, boundaries, db, shadow);
  for (const s of sections) {
    if (s.object.kind === "intraretinal-fluid") drawCyst(plan, s, boundaries, db, mask);
    if (s.object.kind === "subretinal-fluid") labelSubretinalFluid(plan, s, boundaries, mask);
  }
  for (const s of sections) {
    if (s.object.kind === "hyperreflective-focus") drawFocus(plan, s, db, mask, shadow);
  }

  // Signal strength: per volume, slowly varying across the scan (vignetting), and per B-scan.
  const sliceGain = anatomy.gainDb + 0.5 * rng.normal();
  for (let col = 0; col < width; col++) {
    const gain = sliceGain + 1.5 * evalField(anatomy.lateralGain, col + 0.5, y);
    for (let row = 0; row < height; row++) db[row * width + col] += gain - shadow[row * width + col];
  }
  const image = logCompress(speckleIntensity(plan, rng, db));
  // Which fluid is subretinal: its own labelling, on a blank mask, kept where the mask says fluid.
  const subretinalMask = new Uint8Array(width * height);
  for (const s of sections) {
    if (s.object.kind === "subretinal-fluid") labelSubretinalFluid(plan, s, boundaries, subretinalMask);
  }
  for (let i = 0; i < subretinalMask.length; i++) {
    subretinalMask[i] = subretinalMask[i] && mask[i] === MASK_FLUID ? 1 : 0;
  }
  const anomalies = listSliceAnomalies(plan, sections, boundaries, mask);
  return { image, mask, subretinal: subretinalMask, anomalies };
}

// ---------------------------------------------------------------------------------------------------
// Volumes

/** An anomaly of the volume with the B-scans where it left mask pixels. */
export interface VolumeAnomaly extends AnomalyObject {
  slices: number[];
}

export interface PhantomVolume {
  seed: number;
  pathological: boolean;
  width: number;
  height: number;
  /** One image per B-scan, height × width, row-major, in [-1, 1]. */
  bscans: Float32Array[];
  /** One label mask per B-scan (0 background, 1 fluid, 2 hyperreflective focus). */
  masks: Uint8Array[];
  /** Per B-scan: 1 where the fluid is subretinal (RenderedBscan.subretinal). */
  subretinal: Uint8Array[];
  /** Per B-scan: the anomalies with pixels in it. */
  sliceAnomalies: SliceAnomaly[][];
  /** The volume's anomalies that are visible in at least one B-scan. */
  anomalies: VolumeAnomaly[];
}

/** Generates a whole volume: healthy (no anomaly pixels) or pathological (always some fluid). */
export function generateVolume(options: PhantomOptions): PhantomVolume {
  const plan = planVolume(options);
  const rendered = Array.from({ length: plan.bscans }, (_, slice) => renderBscan(plan, slice));
  const slicesOf = new Map<number, number[]>();
  rendered.forEach((r, slice) => {
    for (const a of r.anomalies) slicesOf.set(a.id, [...(slicesOf.get(a.id) ?? []), slice]);
  });
  return {
    seed: plan.seed,
    pathological: plan.pathological,
    width: plan.width,
    height: plan.height,
    bscans: rendered.map((r) => r.image),
    masks: rendered.map((r) => r.mask),
    subretinal: rendered.map((r) => r.subretinal),
    sliceAnomalies: rendered.map((r) => r.anomalies),
    anomalies: plan.anomalies.filter((a) => slicesOf.has(a.id)).map((a) => ({
      ...a,
      slices: slicesOf.get(a.id)!,
    })),
  };
}

/** The seed of volume `index` of a data set: healthy and pathological volumes draw from separate streams. */
export function volumeSeed(seed: number, pathological: boolean, index: number): number {
  return deriveSeed(seed, pathological ? 1 : 0, index);
}

// ---------------------------------------------------------------------------------------------------
// Sample sheet

const FLUID_COLOUR = [0, 190, 255];
const HRF_COLOUR = [255, 210, 0];

/** Grayscale B-scan as RGB, optionally with the mask tinted on top (fluid cyan, foci yellow). */
function bscanToRgb(image: Float32Array, mask: Uint8Array | undefined): Uint8Array {
  const rgb = new Uint8Array(image.length * 3);
  for (let i = 0; i < image.length; i++) {
    const gray = intensityLevel(image[i]);
    const label = mask?.[i] ?? 0;
    const [tint, alpha] = label === MASK_FLUID
      ? [FLUID_COLOUR, 0.55]
      : label === MASK_HRF
      ? [HRF_COLOUR, 0.8]
      : [
        undefined,
        0,
      ];
    for (let c = 0; c < 3; c++) {
      rgb[i * 3 + c] = Math.round(gray * (1 - alpha) + (tint ? tint[c] * alpha : 0));
    }
  }
  return rgb;
}

export interface SheetPanel {
  image: Float32Array;
  mask?: Uint8Array;
}

/**
 * Lays panels out on a grid (row-major, `columns` per row), each scaled up by `zoom`, on a dark
 * background; returns 8-bit RGB.
 */
export function composeSheet(
  panels: SheetPanel[],
  panelWidth: number,
  panelHeight: number,
  columns: number,
  zoom = 2,
): { rgb: Uint8Array; width: number; height: number } {
  const gap = 6;
  const rows = Math.ceil(panels.length / columns);
  const width = columns * (panelWidth * zoom + gap) + gap;
  const height = rows * (panelHeight * zoom + gap) + gap;
  const rgb = new Uint8Array(width * height * 3).fill(40);
  panels.forEach((panel, p) => {
    const source = bscanToRgb(panel.image, panel.mask);
    const left = gap + (p % columns) * (panelWidth * zoom + gap);
    const top = gap + Math.floor(p / columns) * (panelHeight * zoom + gap);
    for (let y = 0; y < panelHeight * zoom; y++) {
      for (let x = 0; x < panelWidth * zoom; x++) {
        const from = (Math.floor(y / zoom) * panelWidth + Math.floor(x / zoom)) * 3;
        const to = ((top + y) * width + left + x) * 3;
        rgb.set(source.subarray(from, from + 3), to);
      }
    }
  });
  return { rgb, width, height };
}

/** The B-scan of a volume with the most fluid pixels (the middle one for a healthy volume). */
function mostFluidSlice(volume: PhantomVolume): number {
  let best = Math.floor(volume.bscans.length / 2);
  let bestCount = 0;
  volume.masks.forEach((mask, slice) => {
    const fluid = mask.reduce((n, label) => n + (label === MASK_FLUID ? 1 : 0), 0);
    if (fluid > bestCount) [best, bestCount] = [slice, fluid];
  });
  return best;
}

/**
 * A sheet for a person to look at: rows of two healthy B-scans side by side, then rows of a
 * pathological B-scan (the one with most fluid in its volume) next to its mask overlay.
 */
export function phantomSampleSheet(
  healthy: PhantomVolume[],
  pathological: PhantomVolume[],
  rows = { healthy: 2, pathological: 3 },
): { rgb: Uint8Array; width: number; height: number } {
  const panels: SheetPanel[] = [];
  const healthyPanels = healthy.flatMap((
    v,
  ) => [v.bscans[Math.floor(v.bscans.length / 2)], v.bscans[Math.floor(v.bscans.length / 4)]])
    .slice(0, rows.healthy * 2);
  for (const image of healthyPanels) panels.push({ image });
  if (panels.length % 2 === 1) panels.push({ image: new Float32Array(panels[0].image.length).fill(-1) });
  for (const volume of pathological.slice(0, rows.pathological)) {
    const slice = mostFluidSlice(volume);
    panels.push({ image: volume.bscans[slice] }, { image: volume.bscans[slice], mask: volume.masks[slice] });
  }
  const { width, height } = healthy[0] ?? pathological[0];
  return composeSheet(panels, width, height, 2);
}

// ---------------------------------------------------------------------------------------------------
// The patch test set and how hard it is

export interface PatchTestSetConfig {
  seed: number;
  healthyVolumes: number;
  pathologicalVolumes: number;
  bscans: number;
  patchesPerBscan: number;
  patchSize: number;
  width: number;
  height: number;
}

/**
 * The default patch test set, shaped like the paper's (8192 patches of 64×64 from healthy and
 * fluid cases not used for training): 8 healthy + 8 pathological volumes × 16 B-scans × 32 random
 * patches. Training data must come from other seeds.
 */
export const DEFAULT_TEST_SET: Readonly<PatchTestSetConfig> = Object.freeze({
  seed: 20170327,
  healthyVolumes: 8,
  pathologicalVolumes: 8,
  bscans: 16,
  patchesPerBscan: 32,
  patchSize: 64,
  width: DEFAULT_WIDTH,
  height: DEFAULT_HEIGHT,
});

export interface TestPatch extends PatchPosition {
  /** Index into the test set's images and masks. */
  image: number;
  /** 1 if the patch holds at least one fluid pixel (the paper's rule). */
  label: 0 | 1;
  fluidPixels: number;
  hrfPixels: number;
  /** Fluid pixels of subretinal fluid; the rest of fluidPixels are cysts (intraretinal fluid). */
  subretinalPixels: number;
}

/** What fluid a patch holds, in words for a stratified table; null for a patch without fluid. */
export function fluidKind(patch: { fluidPixels: number; subretinalPixels: number }): string | null {
  if (patch.fluidPixels === 0) return null;
  if (patch.subretinalPixels === 0) return "intraretinal cysts";
  return patch.subretinalPixels === patch.fluidPixels ? "subretinal fluid" : "cysts and subretinal fluid";
}

/**
 * The phantom masks (MASK_FLUID, MASK_HRF) in the words evaluation reports them with: the pixel-level
 * truths — any anomaly, and fluid alone (a patch's label counts fluid) — and how Fig. 3's mask tile
 * draws them. Other query sets' masks are plain anomaly masks (eval's ANOMALY_MASK_WORDS).
 */
export const PHANTOM_MASK_WORDS = {
  truths: [
    {
      truth: "fluid or hyperreflective focus (mask > 0)",
      isAnomalous: (label: number) => label !== MASK_BACKGROUND,
    },
    { truth: "fluid only (mask = 1)", isAnomalous: (label: number) => label === MASK_FLUID },
  ],
  legend: "white fluid, gray hyperreflective focus",
};

export interface PatchTestSet {
  config: PatchTestSetConfig;
  images: GrayImage[];
  masks: Uint8Array[];
  /** Where each image comes from. */
  sources: { volume: number; pathological: boolean; slice: number }[];
  patches: TestPatch[];
}

// Sub-stream for the positions of test patches.
const STREAM_TEST_PATCHES = 4;

/** Generates a patch test set: volumes from the config's seed, seeded random patches per B-scan. */
export function patchTestSet(config: PatchTestSetConfig): PatchTestSet {
  const set: PatchTestSet = { config: { ...config }, images: [], masks: [], sources: [], patches: [] };
  const kinds = [
    ...Array.from({ length: config.healthyVolumes }, (_, v) => ({ v, pathological: false })),
    ...Array.from({ length: config.pathologicalVolumes }, (_, v) => ({ v, pathological: true })),
  ];
  for (const { v, pathological } of kinds) {
    const { width, height, bscans } = config;
    const volume = generateVolume({
      seed: volumeSeed(config.seed, pathological, v),
      pathological,
      width,
      height,
      bscans,
    });
    volume.bscans.forEach((data, slice) => {
      const image = set.images.length;
      set.images.push({ data, width, height });
      set.masks.push(volume.masks[slice]);
      set.sources.push({ volume: v, pathological, slice });
      const positions = samplePatchPositions(width, height, {
        size: config.patchSize,
        count: config.patchesPerBscan,
        seed: deriveSeed(config.seed, STREAM_TEST_PATCHES, image),
      });
      for (const { x, y } of positions) {
        const { anomalous, fluidPixels, hrfPixels } = labelPatch(
          volume.masks[slice],
          width,
          x,
          y,
          config.patchSize,
        );
        const subretinalPixels =
          labelPatch(volume.subretinal[slice], width, x, y, config.patchSize).fluidPixels;
        set.patches.push({ image, x, y, label: anomalous ? 1 : 0, fluidPixels, hrfPixels, subretinalPixels });
      }
    });
  }
  return set;
}

/**
 * The validation patch set: shaped like the test set, from volumes of its own seed (no test or
 * training volume among them). Every choice — epochs, σ, the mapping's learning rate, Γ, λ,
 * thresholds, presets — is made on it; the test set is read once, for the report.
 */
export const DEFAULT_VALIDATION_SET: Readonly<PatchTestSetConfig> = Object.freeze({
  ...DEFAULT_TEST_SET,
  seed: 20170328,
});

/** The default patch test set (DEFAULT_TEST_SET); a few seconds to generate. */
export function defaultPatchTestSet(): PatchTestSet {
  return patchTestSet(DEFAULT_TEST_SET);
}

export interface TrivialDetectorResult {
  name: string;
  /** AUROC with the detector's natural orientation (higher score = more anomalous). */
  auroc: number;
  /** max(AUROC, 1 − AUROC): how well the statistic separates the classes with either sign. */
  separation: number;
}

export interface DifficultyReport {
  patches: number;
  positives: number;
  detectors: TrivialDetectorResult[];
}

function patchMean(patch: Float32Array): number {
  let sum = 0;
  for (const v of patch) sum += v;
  return sum / patch.length;
}

function patchStd(patch: Float32Array): number {
  const mean = patchMean(patch);
  let sum = 0;
  for (const v of patch) sum += (v - mean) ** 2;
  return Math.sqrt(sum / patch.length);
}

/** The mean of healthy patches drawn from reference volumes that share no seed with the test set. */
export function meanHealthyPatch(config: PatchTestSetConfig, referenceVolumes: number): Float32Array {
  const reference = patchTestSet({
    ...config,
    seed: deriveSeed(config.seed, STREAM_REFERENCE),
    healthyVolumes: referenceVolumes,
    pathologicalVolumes: 0,
  });
  const mean = new Float64Array(config.patchSize * config.patchSize);
  for (const p of reference.patches) {
    const data = extractPatch(reference.images[p.image], p.x, p.y, config.patchSize);
    for (let i = 0; i < mean.length; i++) mean[i] += data[i] / reference.patches.length;
  }
  return Float32Array.from(mean);
}

/** The trivial detectors' scores of one patch (higher = more anomalous for darkness and distance). */
export function trivialScores(
  patch: Float32Array,
  meanPatch: Float32Array,
): { darkness: number; std: number; distance: number } {
  let squared = 0;
  for (let i = 0; i < patch.length; i++) squared += (patch[i] - meanPatch[i]) ** 2;
  return { darkness: -patchMean(patch), std: patchStd(patch), distance: Math.sqrt(squared) };
}

// Sub-stream for the healthy reference volumes of the difficulty report.
const STREAM_REFERENCE = 5;

/**
 * Image-level AUROC of trivial detectors on a patch test set: a dark patch (−mean), a contrasty patch
 * (standard deviation), and the L2 distance to the mean healthy patch. If these separate the classes
 * well, intensity statistics alone would solve the phantom and it would say little about AnoGAN.
 */
export function difficultyReport(set: PatchTestSet, referenceVolumes = 4): DifficultyReport {
  const size = set.config.patchSize;
  const meanPatch = meanHealthyPatch(set.config, referenceVolumes);
  const scores = { mean: [] as number[], std: [] as number[], distance: [] as number[] };
  for (const p of set.patches) {
    const t = trivialScores(extractPatch(set.images[p.image], p.x, p.y, size), meanPatch);
    scores.mean.push(t.darkness);
    scores.std.push(t.std);
    scores.distance.push(t.distance);
  }
  const labels = set.patches.map((p) => p.label);
  const detector = (name: string, values: number[]): TrivialDetectorResult => {
    const area = auroc(values, labels);
    return { name, auroc: area, separation: Math.max(area, 1 - area) };
  };
  return {
    patches: set.patches.length,
    positives: labels.filter((l) => l === 1).length,
    detectors: [
      detector("patch mean (darker = anomalous)", scores.mean),
      detector("patch standard deviation", scores.std),
      detector("distance to the mean healthy patch", scores.distance),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Writing a data set of PNGs

export interface PhantomDatasetOptions {
  out: string;
  healthyVolumes: number;
  pathologicalVolumes: number;
  seed: number;
  bscans?: number;
  width?: number;
  height?: number;
  /** Bits per B-scan pixel (masks are always 8-bit). */
  bitDepth?: 8 | 16;
  onProgress?: (message: string) => void;
}

export const MANIFEST_FORMAT = "anogan-oct-phantom";
export const MANIFEST_VERSION = 1;

function checkDatasetOptions(options: PhantomDatasetOptions): void {
  for (const name of ["healthyVolumes", "pathologicalVolumes"] as const) {
    const value = options[name];
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (options.healthyVolumes + options.pathologicalVolumes === 0) {
    throw new Error("zero volumes requested; ask for at least one healthy or pathological volume");
  }
  if (options.bitDepth !== undefined && options.bitDepth !== 8 && options.bitDepth !== 16) {
    throw new Error(`bit depth must be 8 or 16, got ${options.bitDepth}`);
  }
  // Validates seed, width, height and B-scan count with the generator's own messages.
  checkOptions({ seed: options.seed, pathological: false, ...sizeOptions(options) });
}

function sizeOptions(options: PhantomDatasetOptions): { width?: number; height?: number; bscans?: number } {
  return { width: options.width, height: options.height, bscans: options.bscans };
}

/** Rounds the numbers of an anomaly for the manifest (3 decimals is far below a pixel). */
function roundForManifest<T extends object>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v)),
  );
}

/**
 * Makes an empty staging folder next to `out`; the finished data set is renamed onto `out` at the end,
 * so an interrupted or failed run never leaves a folder that looks complete.
 */
async function makeStagingDir(out: string): Promise<string> {
  const target = resolve(out);
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(target);
  } catch (error) {
    // Missing is fine; a parent that is a file is reported when the folder cannot be made.
    if (!(error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory)) throw error;
  }
  if (info && !info.isDirectory) throw new Error(`output path ${out} is a file, not a folder`);
  if (info) {
    for await (const _ of Deno.readDir(target)) {
      throw new Error(
        `output folder ${out} already exists and is not empty; remove it or choose another --out`,
      );
    }
  }
  const staging = join(dirname(target), `.${basename(target)}.partial-${crypto.randomUUID()}`);
  try {
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.mkdir(staging);
  } catch (error) {
    throw new Error(
      `cannot write the output folder ${out} (${(error as Error).message}); choose a writable --out`,
    );
  }
  return staging;
}

async function finishStagingDir(staging: string, out: string): Promise<void> {
  const target = resolve(out);
  await Deno.remove(target).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error; // an empty folder is replaced
  });
  await Deno.rename(staging, target);
}

interface ManifestImage {
  image: string;
  mask: string;
  volume: string;
  slice: number;
  pathological: boolean;
  anomalies: SliceAnomaly[];
}

async function writeVolume(
  staging: string,
  volume: PhantomVolume,
  volumeId: string,
  bitDepth: 8 | 16,
): Promise<ManifestImage[]> {
  const [group, name] = volumeId.split("/");
  const records: ManifestImage[] = [];
  const digits = String(volume.bscans.length - 1).length;
  for (let slice = 0; slice < volume.bscans.length; slice++) {
    const file = `${name}_b${String(slice).padStart(digits, "0")}.png`;
    const image = `${group}/images/${file}`;
    const mask = `${group}/masks/${file}`;
    const { width, height } = volume;
    await writeFileAtomic(
      join(staging, image),
      encodeGrayPng({ data: volume.bscans[slice], width, height }, bitDepth),
    );
    await writeFileAtomic(join(staging, mask), encodeMaskPng(volume.masks[slice], width, height));
    records.push({
      image,
      mask,
      volume: volumeId,
      slice,
      pathological: volume.pathological,
      anomalies: volume.sliceAnomalies[slice],
    });
  }
  return records;
}

/**
 * Writes a phantom data set: B-scans and masks as PNG under healthy/ and pathological/ (images/ and
 * masks/ in each), a sample sheet, and manifest.json last. Same options ⇒ byte-identical files.
 */
export async function writePhantomDataset(options: PhantomDatasetOptions): Promise<{ images: number }> {
  checkDatasetOptions(options);
  const bitDepth = options.bitDepth ?? 8;
  const staging = await makeStagingDir(options.out);
  try {
    for (const group of ["healthy", "pathological"]) {
      for (const sub of ["images", "masks"]) await Deno.mkdir(join(staging, group, sub), { recursive: true });
    }
    const volumes: object[] = [];
    const images: ManifestImage[] = [];
    const sheetVolumes = { healthy: [] as PhantomVolume[], pathological: [] as PhantomVolume[] };
    const counts = { healthy: options.healthyVolumes, pathological: options.pathologicalVolumes };
    for (const group of ["healthy", "pathological"] as const) {
      const pathological = group === "pathological";
      for (let v = 0; v < counts[group]; v++) {
        const volumeId = `${group}/v${String(v).padStart(3, "0")}`;
        const seed = volumeSeed(options.seed, pathological, v);
        const volume = generateVolume({ seed, pathological, ...sizeOptions(options) });
        images.push(...await writeVolume(staging, volume, volumeId, bitDepth));
        volumes.push({ id: volumeId, seed, pathological, anomalies: roundForManifest(volume.anomalies) });
        if (sheetVolumes[group].length < 3) sheetVolumes[group].push(volume);
        options.onProgress?.(
          `${volumeId}: ${volume.bscans.length} B-scans, ${volume.anomalies.length} anomalies`,
        );
      }
    }
    const sheet = phantomSampleSheet(sheetVolumes.healthy, sheetVolumes.pathological);
    await writeFileAtomic(
      join(staging, "sample_sheet.png"),
      encodeRgbPng(sheet.rgb, sheet.width, sheet.height),
    );
    const first = images.length > 0 ? sheetVolumes.healthy[0] ?? sheetVolumes.pathological[0] : undefined;
    const manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      seed: options.seed,
      healthyVolumes: options.healthyVolumes,
      pathologicalVolumes: options.pathologicalVolumes,
      bscansPerVolume: options.bscans ?? DEFAULT_BSCANS,
      width: first?.width,
      height: first?.height,
      bitDepth,
      intensity: "B-scan PNG value v maps to 2·v/(2^bitDepth − 1) − 1 in [-1, 1]",
      maskLabels: { "0": "background", "1": "fluid", "2": "hyperreflective focus" },
      patchRule: "a patch is anomalous if it contains at least one fluid pixel (label 1)",
      sampleSheet: "sample_sheet.png",
      volumes,
      images,
    };
    const json = new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n");
    await writeFileAtomic(join(staging, "manifest.json"), json);
    await finishStagingDir(staging, options.out);
    return { images: images.length };
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
}
