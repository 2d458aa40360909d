// `deno task eval` end to end: read score files, compute Table 1 and the pixel-level figures, and
// write eval.json and the self-contained report.html.

import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { writeFileAtomic, writeGrayPixelsPng } from "../data/png.ts";
import {
  evaluateScores,
  type Evaluation,
  evaluationJson,
  lesionShares,
  maskWords,
  readResidualsAndMasks,
  strataMarkdown,
  stratify,
  summarisePixels,
  table1Markdown,
} from "../eval/evaluation.ts";
import { readScoreFiles, type ScoreRow } from "../score_file.ts";
import { figure3Columns, joinStrips, pickExamples } from "./figure3.ts";
import { renderReportHtml } from "./html.ts";

export interface EvalOptions {
  scores: string[];
  trainScores?: string[];
  /** Output folder; default: the first score file's folder. */
  out?: string;
  seed?: number;
  bootstrapSamples?: number;
  /** Examples per block of the Fig. 3 grid. */
  examples?: number;
  /** σ (pixels) of the smoothed residual reported beside |x − G(z)|; 0: none. */
  residualSmoothing?: number;
}

export interface EvalOutputs {
  evaluation: Evaluation;
  markdown: string;
  /** The stratified table (empty without masks or kinds). */
  strataMarkdown: string;
  jsonPath: string;
  htmlPath: string;
  figure3Path?: string;
}

export interface JsonFile {
  path: string;
  values: Record<string, unknown>;
}

/** A JSON object file, undefined when absent; text that is not a JSON object is shown as it is. */
async function readJsonObject(path: string): Promise<JsonFile | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const values = JSON.parse(text);
    if (typeof values === "object" && values !== null && !Array.isArray(values)) return { path, values };
  } catch {
    // An unreadable settings file must not stop the evaluation; the report shows its text instead.
  }
  return { path, values: { "(not a JSON object)": text.slice(0, 2000) } };
}

/**
 * The settings behind a score file: score.json beside it (written by scoring), and the training run's
 * config.json — in the folder score.json's `run` names, else beside the score file or one folder up.
 */
export async function findRunInfo(scoresPath: string): Promise<{ config?: JsonFile; scoring?: JsonFile }> {
  const folder = dirname(scoresPath);
  const scoring = await readJsonObject(join(folder, "score.json"));
  const run = scoring?.values.run;
  const candidates = typeof run === "string" ? [isAbsolute(run) ? run : join(folder, run)] : [];
  candidates.push(folder, dirname(folder));
  for (const candidate of candidates) {
    const config = await readJsonObject(join(candidate, "config.json"));
    if (config) return { config, scoring };
  }
  return { scoring };
}

/** The per-epoch held-out check lines of a training run's metrics.jsonl (empty for runs without it). */
async function readTrainingFits(
  runDir: string,
): Promise<{ epoch: number; heldOutResidual: number; constantResidual: number }[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(runDir, "metrics.jsonl"));
  } catch {
    return [];
  }
  return text.split("\n").filter((line) => line.includes('"heldOutResidual"')).map((line) =>
    JSON.parse(line)
  );
}

async function ensureFolder(path: string): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new Error(
        `--out ${path} exists and is not a folder; pass a folder for eval.json and report.html`,
      );
    }
    throw error;
  }
}

/** Fig. 3's blocks as in the paper: training normals, test normals, anomalous test images. */
function figure3Blocks(testRows: ScoreRow[], trainRows: ScoreRow[], examples: number, seed: number) {
  return [
    { title: "training normals", rows: pickExamples(trainRows, examples, seed) },
    { title: "test normals", rows: pickExamples(testRows.filter((r) => r.label === 0), examples, seed + 1) },
    { title: "anomalous", rows: pickExamples(testRows.filter((r) => r.label === 1), examples, seed + 2) },
  ].filter((block) => block.rows.length > 0);
}

/** Evaluates score files and writes eval.json, report.html (and figure3.png when there are images). */
export async function runEvaluation(options: EvalOptions): Promise<EvalOutputs> {
  const seed = options.seed ?? 0;
  const test = await readScoreFiles(options.scores);
  const train = options.trainScores?.length ? await readScoreFiles(options.trainScores) : undefined;
  const evaluation = evaluateScores(test, { seed, bootstrapSamples: options.bootstrapSamples, train });
  evaluation.pixel = summarisePixels(
    await readResidualsAndMasks(test.rows),
    maskWords(test.rows).truths,
    options.residualSmoothing,
  );
  evaluation.strata = stratify(test.rows, evaluation.table1, await lesionShares(test.rows), {
    seed,
    bootstrapSamples: options.bootstrapSamples,
  });

  const out = options.out ?? dirname(options.scores[0]);
  await ensureFolder(out);
  // The score files as seen from eval.json's folder: the record stays true when the folders move
  // together (a staged output renamed into place, a results folder copied elsewhere).
  const fromOut = (f: string) => relative(resolve(out), resolve(f));
  evaluation.files = evaluation.files.map(fromOut);
  evaluation.trainFiles = evaluation.trainFiles.map(fromOut);
  const jsonPath = join(out, "eval.json");
  await writeFileAtomic(jsonPath, new TextEncoder().encode(evaluationJson(evaluation)));

  const trainRows = train?.rows ?? [];
  const figure3 = await figure3Columns(figure3Blocks(test.rows, trainRows, options.examples ?? 5, seed));
  let figure3Path: string | undefined;
  if (figure3.length > 0) {
    figure3Path = join(out, "figure3.png");
    await writeGrayPixelsPng(figure3Path, joinStrips(figure3));
  }
  const runInfo = await findRunInfo(options.scores[0]);
  const shown = (f?: JsonFile) => f && { ...f, path: fromOut(f.path) };
  const html = await renderReportHtml({
    evaluation,
    testRows: test.rows,
    trainRows,
    config: shown(runInfo.config),
    scoring: shown(runInfo.scoring),
    trainingFits: runInfo.config && await readTrainingFits(dirname(runInfo.config.path)),
    figure3,
    createdAt: new Date(),
  });
  const htmlPath = join(out, "report.html");
  await writeFileAtomic(htmlPath, new TextEncoder().encode(html));
  return {
    evaluation,
    markdown: table1Markdown(evaluation.table1),
    strataMarkdown: strataMarkdown(evaluation.strata),
    jsonPath,
    htmlPath,
    figure3Path,
  };
}
