// Score files, the one owner of their format: the row type, the writer of scores.csv, its reader and
// validator, and the join of rows by image id (one row per query image: its id, source, label, the
// paths of its mask, query, generated and residual images, what the anomaly is, and its scores).

import { dirname, isAbsolute, join } from "node:path";
import { readSafetensors } from "../core/io/safetensors.ts";

/** Columns that describe an image; every other numeric column is a score (higher = more anomalous). */
export const METADATA_COLUMNS = [
  "id",
  "source",
  "label",
  "mask",
  "query",
  "generated",
  "residual",
  "kind",
] as const;

/** Names that are always scores, so text in them is an error rather than a column to ignore. */
const SCORE_NAME = /^(A|R|D|PD)(_[A-Za-z0-9]+)?$/;

export interface ScoreRow {
  id: string;
  /** File path (resolved against the CSV's folder when it names a file) or `dataset:index`. */
  source: string;
  /** 0 normal, 1 anomalous, undefined when unknown. */
  label: 0 | 1 | undefined;
  /**
   * Image paths; undefined when there is none. Scoring gives them relative to the score folder, as
   * written; read from a file, they are resolved against the CSV's folder.
   */
  mask?: string;
  /** The query image x as fed to the model (a patch), when written. */
  query?: string;
  generated?: string;
  residual?: string;
  /** What the anomaly is, in words (e.g. "subretinal fluid"), for tables stratified by kind; optional. */
  kind?: string;
  /** The row's scores by column name. */
  scores: Record<string, number>;
  /** Where a row read from a file came from, for error messages. */
  file?: string;
  line?: number;
}

/** Where a row is, for messages: its file and line, or that it was scored in this process. */
function at(row: ScoreRow): string {
  return row.file === undefined ? "the rows scored here" : `${row.file}:${row.line}`;
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** scores.csv: the metadata columns, then the score columns given, in that order. */
export function formatScoresCsv(rows: readonly ScoreRow[], scoreColumns: readonly string[]): string {
  const lines = [[...METADATA_COLUMNS, ...scoreColumns].join(",")];
  for (const r of rows) {
    const meta = [
      r.id,
      r.source,
      r.label === undefined ? "" : String(r.label),
      r.mask ?? "",
      r.query ?? "",
      r.generated ?? "",
      r.residual ?? "",
      r.kind ?? "",
    ];
    lines.push([...meta.map(csvField), ...scoreColumns.map((c) => String(r.scores[c]))].join(","));
  }
  return lines.join("\n") + "\n";
}

/**
 * `rows` with the score columns of `other` joined in by image id (e.g. the aCAE's scores of the same
 * images as the DCGAN's), in the order of `rows`. Both must hold the same images; a column both have must
 * agree (see joinRowsById).
 */
export function joinScoreColumns(rows: ScoreRow[], other: ScoreRow[], what: string): ScoreRow[] {
  const ids = new Set(rows.map((r) => r.id)), otherIds = new Set(other.map((r) => r.id));
  const missing = [...ids].filter((id) => !otherIds.has(id)),
    extra = [...otherIds].filter((id) => !ids.has(id));
  if (missing.length > 0 || extra.length > 0 || ids.size !== rows.length || otherIds.size !== other.length) {
    throw new ScoresCsvError(
      `${what}: the rows to join are not the same images (${missing.length} missing, ${extra.length} extra` +
        `${
          missing.length + extra.length > 0 ? `, e.g. "${[...missing, ...extra][0]}"` : ", or repeated ids"
        })`,
    );
  }
  return joinRowsById([...rows, ...other]);
}

export interface ScoreTable {
  files: string[];
  rows: ScoreRow[];
  /** Score columns in order of first appearance. */
  scoreNames: string[];
  /** Non-numeric columns that are neither metadata nor scores, skipped. */
  ignoredColumns: string[];
}

export class ScoresCsvError extends Error {
  override name = "ScoresCsvError";
}

/** One CSV record and the (1-based) line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Splits RFC 4180 CSV text into records: fields in double quotes may hold commas, line breaks and
 * doubled quotes (""). Accepts LF or CRLF; a final line break is optional; blank lines are skipped.
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [], field = "", line = 1, recordLine = 1, quoted = false, fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== "") records.push({ fields, line: recordLine });
    fields = [];
    field = "";
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') [field, i] = [field + '"', i + 1];
      else if (ch === '"') quoted = false;
      else {
        if (ch === "\n") line++;
        field += ch;
      }
    } else if (ch === '"' && !fieldStarted) [quoted, fieldStarted] = [true, true];
    else if (ch === '"') {
      throw new ScoresCsvError(
        `${file}:${line}: a quote inside an unquoted field; quote the whole field ` +
          `and double the quote ("a ""b"" c")`,
      );
    } else if (ch === ",") {
      fields.push(field);
      [field, fieldStarted] = ["", false];
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      recordLine = ++line;
    } else [field, fieldStarted] = [field + ch, true];
  }
  if (quoted) throw new ScoresCsvError(`${file}:${recordLine}: a quoted field is never closed`);
  if (fieldStarted || fields.length > 0) endRecord();
  return records;
}

/** Resolves a path written in the CSV against the CSV's own folder. */
function resolveBeside(csvPath: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(csvPath), path);
}

function looksLikeFile(source: string): boolean {
  return /\.(png|pgm|jpe?g|tiff?)$/i.test(source);
}

/** Reads one column's cell of a record as a finite number, or says where and what is wrong. */
function parseScore(text: string, where: string, column: string, columnNumber: number): number {
  const trimmed = text.trim();
  const value = trimmed === "" ? NaN : Number(trimmed);
  if (!Number.isFinite(value)) {
    const shown = trimmed === "" ? "an empty cell" : `"${text}"`;
    throw new ScoresCsvError(
      `${where}, column ${columnNumber} ("${column}"): score is ${shown}; expected a finite number ` +
        `(scoring produced no usable value for this image; rescore it or drop the row)`,
    );
  }
  return value;
}

function parseLabel(text: string, where: string, columnNumber: number): 0 | 1 | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (trimmed === "0") return 0;
  if (trimmed === "1") return 1;
  throw new ScoresCsvError(
    `${where}, column ${columnNumber} ("label"): "${text}"; expected 0 (normal), 1 (anomalous) or empty`,
  );
}

/**
 * Which of the header's columns are scores: the known score names always; any other non-metadata
 * column whose first non-empty cell is a number. Other text columns are skipped.
 */
function classifyColumns(header: string[], records: CsvRecord[]): { scores: string[]; ignored: string[] } {
  const scores: string[] = [], ignored: string[] = [];
  header.forEach((name, column) => {
    if ((METADATA_COLUMNS as readonly string[]).includes(name)) return;
    const first = records.find((r) => r.fields[column].trim() !== "")?.fields[column].trim();
    const numeric = first !== undefined && Number.isFinite(Number(first));
    (SCORE_NAME.test(name) || numeric ? scores : ignored).push(name);
  });
  return { scores, ignored };
}

function checkHeader(header: string[], file: string): void {
  for (const required of ["id", "label"]) {
    if (!header.includes(required)) {
      throw new ScoresCsvError(
        `${file}:1: no "${required}" column in the header (${header.join(",")}); ` +
          `expected at least id,label and one score column such as A`,
      );
    }
  }
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new ScoresCsvError(`${file}:1: column "${name}" appears twice in the header`);
    seen.add(name);
  }
}

/** Parses and validates the text of one scores.csv; paths in it are taken relative to `file`'s folder. */
export function parseScoresCsv(text: string, file: string): ScoreTable {
  const records = parseCsv(text.replace(/^\uFEFF/, ""), file);
  if (records.length === 0) throw new ScoresCsvError(`${file} is empty; expected a header and score rows`);
  const header = records[0].fields.map((name) => name.trim());
  checkHeader(header, file);
  const body = records.slice(1);
  for (const record of body) {
    if (record.fields.length !== header.length) {
      throw new ScoresCsvError(
        `${file}:${record.line}: ${record.fields.length} fields, but the header has ` +
          `${header.length}; quote fields that contain commas`,
      );
    }
  }
  const { scores: scoreNames, ignored } = classifyColumns(header, body);
  if (scoreNames.length === 0) {
    throw new ScoresCsvError(
      `${file}: no score columns in the header (${header.join(",")}); expected ` +
        `numeric columns such as A, R, D, A_ganr, D_ganr or PD`,
    );
  }
  if (body.length === 0) throw new ScoresCsvError(`${file} has a header but no rows`);
  const column = (name: string) => header.indexOf(name);
  const rows = body.map((record): ScoreRow => {
    const where = `${file}:${record.line}`;
    const cell = (name: string) => (column(name) < 0 ? "" : record.fields[column(name)]);
    const path = (name: string) => (cell(name).trim() === "" ? undefined : resolveBeside(file, cell(name)));
    const id = cell("id");
    if (id.trim() === "") {
      throw new ScoresCsvError(`${where}, column ${column("id") + 1} ("id"): empty; every row needs an id`);
    }
    const scores: Record<string, number> = {};
    for (const name of scoreNames) scores[name] = parseScore(cell(name), where, name, column(name) + 1);
    const source = cell("source");
    return {
      id,
      source: looksLikeFile(source) ? resolveBeside(file, source) : source,
      label: parseLabel(cell("label"), where, column("label") + 1),
      mask: path("mask"),
      query: path("query"),
      generated: path("generated"),
      residual: path("residual"),
      kind: cell("kind").trim() || undefined,
      scores,
      file,
      line: record.line,
    };
  });
  checkUniqueIds(rows);
  return { files: [file], rows, scoreNames, ignoredColumns: ignored };
}

/** Within one file every id is one row. */
function checkUniqueIds(rows: ScoreRow[]): void {
  const first = new Map<string, ScoreRow>();
  for (const row of rows) {
    const earlier = first.get(row.id);
    if (earlier) {
      throw new ScoresCsvError(
        `duplicate id "${row.id}": ${at(earlier)} and ${at(row)}`,
      );
    }
    first.set(row.id, row);
  }
}

/**
 * Rows of several files by id. The same id in two files is one image scored by two runs (e.g. the
 * DCGAN's scores.csv and the aCAE's): its rows join into one, keeping the first row's paths and filling
 * in the ones it lacks. Columns both files have (the trivial baselines, or overlapping shards of one
 * run) must hold the same value and the labels must agree; anything else is an error.
 */
function joinRowsById(rows: ScoreRow[]): ScoreRow[] {
  const byId = new Map<string, ScoreRow>();
  for (const row of rows) {
    const earlier = byId.get(row.id);
    if (!earlier) {
      byId.set(row.id, { ...row, scores: { ...row.scores } });
      continue;
    }
    for (const [name, value] of Object.entries(row.scores)) {
      if (!(name in earlier.scores) || Object.is(earlier.scores[name], value)) continue;
      throw new ScoresCsvError(
        `id "${row.id}" has ${name} = ${earlier.scores[name]} at ${at(earlier)} but ${value} ` +
          `at ${at(row)}; one image scored twice must score the same (files of different runs ` +
          `over the same images join by id, and each score column must come from one run)`,
      );
    }
    if (earlier.label !== undefined && row.label !== undefined && earlier.label !== row.label) {
      throw new ScoresCsvError(
        `id "${row.id}" has label ${earlier.label} at ${at(earlier)} but ${row.label} at ` +
          `${at(row)}; expected one image with one label`,
      );
    }
    Object.assign(earlier.scores, row.scores);
    earlier.label ??= row.label;
    earlier.mask ??= row.mask;
    earlier.query ??= row.query;
    earlier.generated ??= row.generated;
    earlier.residual ??= row.residual;
    earlier.kind ??= row.kind;
  }
  return [...byId.values()];
}

/** Reads one scores.csv. */
export async function readScoresCsv(path: string): Promise<ScoreTable> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new ScoresCsvError(`score file not found: ${path}`);
    throw error;
  }
  return parseScoresCsv(text, path);
}

/** Code-unit order: the same on every machine and locale, unlike localeCompare. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Which file's row comes first when an id is joined (its paths are kept): a file with the paper's
 * score A first, since its residuals are the |x − G(z_Γ)| the pixel-level figures report; then by path.
 */
function compareSources(a: { hasA: boolean; file: string }, b: { hasA: boolean; file: string }): number {
  return Number(b.hasA) - Number(a.hasA) || compareText(a.file, b.file);
}

/**
 * Joins tables: the rows of shards of one run (disjoint ids), and the files of separate runs over the
 * same images (one row per id with every run's columns, see joinRowsById). A row lacks the scores of
 * columns no file gives it. The result does not depend on the order of the tables: files are joined in
 * a canonical order (see compareSources) and rows come out sorted by id, so that everything drawn from
 * them (bootstrap intervals, example picks) is the same whichever order the files were given in.
 */
export function concatScoreTables(tables: ScoreTable[]): ScoreTable {
  const ordered = tables.map((table) => ({
    table,
    hasA: table.scoreNames.includes("A"),
    file: table.files[0] ?? "",
  }))
    .sort(compareSources).map(({ table }) => table);
  const inputRows = ordered.flatMap((t) => t.rows).map((row) => ({
    row,
    hasA: "A" in row.scores,
    file: row.file ?? "",
  }))
    .sort((a, b) => compareSources(a, b) || (a.row.line ?? 0) - (b.row.line ?? 0)).map(({ row }) => row);
  const rows = joinRowsById(inputRows).sort((a, b) => compareText(a.id, b.id));
  const unique = (names: string[]) => [...new Set(names)];
  return {
    files: ordered.flatMap((t) => t.files),
    rows,
    scoreNames: unique(ordered.flatMap((t) => t.scoreNames)),
    ignoredColumns: unique(ordered.flatMap((t) => t.ignoredColumns)),
  };
}

/** Reads and joins several score files. */
export async function readScoreFiles(paths: string[]): Promise<ScoreTable> {
  if (paths.length === 0) throw new ScoresCsvError("no score files given; pass --scores OUT/scores.csv");
  const tables: ScoreTable[] = [];
  for (const path of paths) tables.push(await readScoresCsv(path));
  return concatScoreTables(tables);
}

/** The float maps beside a scores.csv, from which eval computes pixel-level figures (not from the PNGs). */
export const MAPS_FILE = "maps.safetensors";

/** Per image id, the query x and G(z_Γ) as written by scoring, float32, row-major. */
export type ScoreMaps = Map<string, { query: Float32Array; generated: Float32Array }>;

/** The MAPS_FILE in `folder`, or null when there is none (e.g. a scores.csv written elsewhere). */
export async function readScoreMaps(folder: string): Promise<ScoreMaps | null> {
  const path = `${folder}/${MAPS_FILE}`;
  try {
    await Deno.stat(path);
  } catch {
    return null;
  }
  const file = await readSafetensors(path);
  const query = file.tensors.get("query"), generated = file.tensors.get("generated");
  const ids = JSON.parse(file.metadata.ids ?? "null");
  if (
    !query || !generated || !Array.isArray(ids) || query.shape.length !== 3 || query.shape[0] !== ids.length
  ) {
    throw new ScoresCsvError(
      `${path}: expected tensors "query" and "generated" of shape [N, H, W] and N ids in its metadata`,
    );
  }
  const n = query.shape[1] * query.shape[2];
  return new Map(ids.map((id: string, k: number) => [id, {
    query: query.data.subarray(k * n, (k + 1) * n),
    generated: generated.data.subarray(k * n, (k + 1) * n),
  }]));
}
