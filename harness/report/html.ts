// The self-contained HTML report of an evaluation, the answer first: Table 1, detection by lesion share
// and kind, the Fig. 3 grid, the ROC curves and score histograms of Fig. 4, the pixel-level figures, the
// training run's check of G, and last the configuration as tables. Plots are inline SVG and
// pictures inline PNG, so the single file can be mailed or archived without its run folder.

import {
  type Evaluation,
  isComponentScore,
  maskWords,
  type PixelSummary,
  type StratumRow,
  type Table1Row,
} from "../eval/evaluation.ts";
import { encodeGrayPixelsPng, type GrayPixels } from "../data/png.ts";
import type { ScoreRow } from "../score_file.ts";
import { FIGURE3_ROWS, type Figure3Column } from "./figure3.ts";
import { type CurveSeries, histogramSpec, lineSpec, renderSvg, rocSpec } from "./plots.ts";

export interface ReportInputs {
  evaluation: Evaluation;
  testRows: ScoreRow[];
  trainRows: ScoreRow[];
  /** The training run's config.json, when found (see findRunInfo). */
  config?: { path: string; values: Record<string, unknown> };
  /** The scoring settings (score.json beside the first score file), when present. */
  scoring?: { path: string; values: Record<string, unknown> };
  figure3: Figure3Column[];
  /** The training run's per-epoch held-out check (metrics.jsonl), when it logged one. */
  trainingFits?: { epoch: number; heldOutResidual: number; constantResidual: number }[];
  createdAt: Date;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** A grayscale picture as an inline PNG data URI. */
export function grayPngDataUri(img: GrayPixels): string {
  return `data:image/png;base64,${base64(encodeGrayPixelsPng(img))}`;
}

function fmt(value: number, digits = 3): string {
  if (value === Infinity) return "+∞";
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1120px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { margin: 0; font-size: 12px; white-space: pre-wrap; }
.plots { display: flex; flex-wrap: wrap; gap: 24px; } .plots figure { margin: 0; }
figcaption, .note { font-size: 12px; color: #555; max-width: 760px; }
.grid { display: flex; gap: 14px; flex-wrap: wrap; align-items: flex-start; }
.block { border: 1px solid #ddd; padding: 6px; } .block h3 { font-size: 13px; margin: 0 0 6px 0; }
.columns { display: flex; gap: 6px; } .column { text-align: center; font-size: 11px; }
.rowlabels { display: flex; flex-direction: column; font-size: 11px; color: #555; }
.rowlabels div { flex: 1; display: flex; align-items: center; }
.column img { image-rendering: pixelated; display: block; }
.bar { height: 5px; margin: 2px 0; } .bar.r { background: #d62728; } .bar.d { background: #e6c619; }
.bar.off { background: #eee; }
`;

/** A settings object's leaves as [dotted key, text] pairs: nested objects flattened, lists joined. */
function settingsRows(values: Record<string, unknown>, prefix = ""): [string, string][] {
  return Object.entries(values).flatMap(([key, value]): [string, string][] => {
    const name = prefix + key;
    if (Array.isArray(value)) {
      return value.every((v) => typeof v !== "object" || v === null)
        ? [[name, value.join(", ")]]
        : [[name, JSON.stringify(value)]];
    }
    if (typeof value === "object" && value !== null) {
      return settingsRows(value as Record<string, unknown>, `${name}.`);
    }
    return [[name, String(value)]];
  });
}

/** A settings file as a two-column table, one line per setting. */
function settingsTable(config: ReportInputs["config"], missing: string): string {
  if (!config) return `<p class="note">${missing}</p>`;
  const rows = settingsRows(config.values).map(([key, value]) =>
    `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`
  );
  return `<p class="note">From ${escapeHtml(config.path)}</p><table>${rows.join("")}</table>`;
}

/** Detection by lesion share and by kind: each score's AUC (interval) and sensitivity per stratum. */
function strataHtml(strata: StratumRow[]): string {
  if (strata.length === 0) {
    return `<p class="note">No masks or kinds in the score files: no stratified figures.</p>`;
  }
  const scores = strata[0].scores.map((x) => x.score);
  const head = `<tr><th>stratum</th><th>anomalous</th>${
    scores.map((name) => `<th>${escapeHtml(name)}: AUC (95% CI), sensitivity</th>`).join("")
  }</tr>`;
  const body = strata.map((st) => {
    const cells = scores.map((name) => {
      const x = st.scores.find((y) => y.score === name);
      return x
        ? `<td class="num">${fmt(x.auc)} (${fmt(x.aucInterval.low)}–${fmt(x.aucInterval.high)}), ${
          fmt(x.sensitivity, 2)
        }</td>`
        : "<td>—</td>";
    }).join("");
    const label = st.by === "kind" ? `kind: ${st.stratum}` : `lesion share ${st.stratum}`;
    return `<tr><td>${escapeHtml(label)}</td><td class="num">${st.anomalous}</td>${cells}</tr>`;
  });
  return `<table>${head}${body.join("")}</table><p class="note">Each stratum's anomalous images against ` +
    `all ${
      strata[0].normal
    } normal ones. Lesion share: the share of an image's pixels in its mask (label 1). ` +
    `Sensitivity at Table 1's cut-off, which was chosen on this same set (in-sample).</p>`;
}

/** A warning when the training run's last check found that G had not learned the normal data. */
function untrainedWarning(fits: ReportInputs["trainingFits"]): string {
  const last = fits?.at(-1);
  if (!last || last.heldOutResidual < last.constantResidual) return "";
  return `<p><b>Warning: after the last epoch G reproduces held-out normal images no better than a constant ` +
    `image (the training images' per-pixel median): it has learned no more of the normal data than their ` +
    `average look, and the scores in this report may mean little.</b></p>`;
}

/** The training run's per-epoch check of G, from its metrics.jsonl: held-out residual against a constant image. */
function trainingFitHtml(fits: ReportInputs["trainingFits"]): string {
  if (!fits || fits.length === 0) return "";
  const rows = fits.map((f) =>
    `<tr><td class="num">${f.epoch}</td><td class="num">${fmt(f.heldOutResidual)}</td><td class="num">${
      fmt(f.constantResidual)
    }</td><td>${f.heldOutResidual < f.constantResidual ? "yes" : "<b>no</b>"}</td></tr>`
  );
  return `${
    untrainedWarning(fits)
  }<table><tr><th>epoch</th><th>held-out |x − G(z)| per pixel</th><th>constant image</th>` +
    `<th>G better than the constant</th></tr>${rows.join("")}</table><p class="note">After each epoch the ` +
    `training run maps normal images it held out of training (a short mapping on the residual alone) ` +
    `and compares their residual with that of the training images' per-pixel median.</p>`;
}

function table1Html(rows: Table1Row[]): string {
  const head = [
    "score",
    "method",
    "AUC",
    "95% CI",
    "sensitivity",
    "specificity",
    "precision",
    "recall",
    "accuracy",
    "cut-off",
    "normal",
    "anomalous",
  ];
  const body = rows.map((r) => {
    const cells = [
      fmt(r.auc),
      `${fmt(r.aucInterval.low)}–${fmt(r.aucInterval.high)}`,
      fmt(r.sensitivity),
      fmt(r.specificity),
      fmt(r.precision),
      fmt(r.recall),
      fmt(r.accuracy),
      fmt(r.cutoff, 4),
      String(r.normal),
      String(r.anomalous),
    ];
    return `<tr><td>${escapeHtml(r.score)}</td><td>${escapeHtml(r.method)}</td>` +
      cells.map((c) => `<td class="num">${c}</td>`).join("") + "</tr>";
  });
  return `<table><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>${body.join("")}</table>`;
}

async function rocFigures(evaluation: Evaluation): Promise<string> {
  const toSeries = (filter: (score: string) => boolean): CurveSeries[] =>
    evaluation.roc.filter((s) => filter(s.score)).map((s) => ({
      score: s.score,
      label: `${s.method} (AUC ${fmt(s.auc)})`,
      x: s.fpr,
      y: s.tpr,
    }));
  const figures: string[] = [];
  const models = toSeries((score) => !isComponentScore(score));
  const components = toSeries(isComponentScore);
  if (models.length > 0) {
    figures.push(
      await plotFigure(rocSpec("Fig. 4(a) Model comparison", models), "ROC curves of the anomaly scores."),
    );
  }
  if (components.length > 0) {
    figures.push(
      await plotFigure(
        rocSpec("Fig. 4(b) Anomaly score components", components),
        "ROC curves of the residual score R(x), the discrimination score D(x) and GANR's D̂(x) alone.",
      ),
    );
  }
  return `<div class="plots">${figures.join("")}</div>`;
}

async function plotFigure(spec: Parameters<typeof renderSvg>[0], caption: string): Promise<string> {
  return `<figure>${await renderSvg(spec)}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** Fig. 4(c, d): the distribution of R and D over training normals, test normals and anomalies. */
async function histogramFigures(inputs: ReportInputs): Promise<string> {
  const figures: string[] = [];
  const panels = [["R", "(c) residual score R(x)"], ["D", "(d) discrimination score D(x)"]] as const;
  for (const [score, title] of panels) {
    const values = (rows: ScoreRow[], label?: 0 | 1) =>
      rows.filter((r) => score in r.scores && (label === undefined || r.label === label)).map((r) =>
        r.scores[score]
      );
    const groups = [
      { label: "training normals", colour: "#1f77b4", values: values(inputs.trainRows) },
      { label: "test normals", colour: "#2ca02c", values: values(inputs.testRows, 0) },
      { label: "anomalous", colour: "#d62728", values: values(inputs.testRows, 1) },
    ];
    if (groups[1].values.length === 0 && groups[2].values.length === 0) continue;
    figures.push(
      await plotFigure(
        histogramSpec(`Fig. 4${title}`, score, groups),
        "Each set's histogram is normalised to its own size." +
          (groups[0].values.length === 0 ? " No training-set scores were given (--train-scores)." : ""),
      ),
    );
  }
  if (figures.length === 0) return `<p class="note">No R or D column: no score distributions to show.</p>`;
  return `<div class="plots">${figures.join("")}</div>`;
}

/** The paper's red (R) and yellow (D) bars: the score is at or above its Youden cut-off. */
function detectionBars(row: ScoreRow, cutoffs: Map<string, number>): string {
  return (["R", "D"] as const).map((score) => {
    const cutoff = cutoffs.get(score);
    if (cutoff === undefined || !(score in row.scores)) return "";
    const flagged = row.scores[score] >= cutoff;
    return `<div class="bar ${flagged ? score.toLowerCase() : "off"}" title="${score} ${
      flagged ? "≥" : "<"
    } cut-off"></div>`;
  }).join("");
}

function figure3Section(inputs: ReportInputs): string {
  if (inputs.figure3.length === 0) {
    return `<p class="note">The score files name no query, generated or residual PNGs: no image grid.</p>`;
  }
  const cutoffs = new Map(inputs.evaluation.table1.map((r) => [r.score, r.cutoff]));
  const scale = Math.max(1, Math.floor(96 / inputs.figure3[0].strip.width));
  const blocks = [...new Set(inputs.figure3.map((c) => c.block))].map((block) => {
    const columns = inputs.figure3.filter((c) => c.block === block).map(({ row, strip }) => {
      const label = row.label === undefined ? "unlabelled" : row.label === 1 ? "anomalous" : "normal";
      const scores = ["A", "R", "D"].filter((s) => s in row.scores).map((s) =>
        `${s} ${fmt(row.scores[s], 2)}`
      );
      return `<div class="column"><img src="${grayPngDataUri(strip)}" width="${strip.width * scale}" ` +
        `height="${strip.height * scale}" alt="${escapeHtml(row.id)}">${detectionBars(row, cutoffs)}` +
        `<div>${escapeHtml(row.id)}</div><div>${label}</div><div>${scores.join("<br>")}</div></div>`;
    });
    const height = inputs.figure3[0].strip.height * scale;
    const rowLabels = `<div class="rowlabels" style="height:${height}px">${
      FIGURE3_ROWS.map((r) => `<div>${r}</div>`).join("")
    }</div>`;
    return `<div class="block"><h3>${escapeHtml(block)}</h3><div class="columns">${rowLabels}${
      columns.join("")
    }</div></div>`;
  });
  return `<div class="grid">${blocks.join("")}</div><p class="note">Rows: query image x, generated ` +
    `G(z<sub>Γ</sub>), residual |x − G(z<sub>Γ</sub>)|, mask (${maskWords(inputs.testRows).legend}). ` +
    `Mid-gray tiles are not available. Red bar: R(x) at or above its Youden cut-off; yellow bar: D(x) ` +
    `at or above its cut-off; pale bar: below.</p>`;
}

/** A plot legend's short name of one pixel-level series. */
function pixelSeriesName(p: PixelSummary): string {
  return `${p.map.startsWith("smoothed") ? "smoothed, " : ""}${p.truth.replace(/ \(.*\)$/, "")}`;
}

async function pixelSection(pixel: PixelSummary[]): Promise<string> {
  if (pixel.length === 0) {
    return `<p class="note">No row has both a mask and a residual PNG: no pixel-level figures.</p>`;
  }
  const rows = pixel.map((p) =>
    `<tr><td>${escapeHtml(p.map)}</td><td>${
      escapeHtml(p.truth)
    }</td><td class="num">${p.images}</td><td class="num">${p.pixels}</td>` +
    `<td class="num">${p.anomalousPixels}</td><td class="num">${fmt(p.auroc)}</td>` +
    `<td class="num">${fmt(p.dice)}</td><td class="num">${fmt(p.diceThreshold)}</td>` +
    `<td class="num">${fmt(p.massInside)}</td><td class="num">${fmt(p.areaInside)}</td></tr>`
  );
  const table =
    `<table><tr><th>map</th><th>anomalous pixels are</th><th>images</th><th>pixels</th><th>anomalous</th>` +
    `<th>pixel AUROC</th><th>best Dice</th><th>at residual ≥</th><th>residual mass inside</th>` +
    `<th>area inside</th></tr>${rows.join("")}</table><p class="note">Residual mass inside: the share of ` +
    `the map's sum that falls on anomalous pixels, over the images that have any; area inside: ` +
    `the share of those images' pixels that are anomalous. Localisation puts the first well above the second. ` +
    `The best Dice and its threshold are chosen on this same set (in-sample). Residuals from ` +
    `${escapeHtml(pixel[0].from)}. ` +
    `The smoothed residual blurs the signed x − G(z<sub>Γ</sub>) before taking its magnitude, so zero-mean ` +
    `texture no generator reproduces (speckle) cancels and consistent intensity differences remain.</p>`;
  const colours = ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c"];
  const roc = rocSpec(
    "Pixel-level ROC of the residual",
    pixel.map((p, k) => ({
      score: "pixel",
      colour: colours[k],
      label: `${pixelSeriesName(p)} (AUC ${fmt(p.auroc)})`,
      x: p.roc.fpr,
      y: p.roc.tpr,
    })),
  );
  const dice = lineSpec(
    "Dice against the residual threshold",
    "threshold on the map (intensities in [-1, 1])",
    "Dice",
    pixel.map((p, k) => ({
      score: "pixel",
      colour: colours[k],
      label: `${pixelSeriesName(p)} (best ${fmt(p.dice)})`,
      x: p.dicePerThreshold.threshold,
      y: p.dicePerThreshold.dice,
    })),
  );
  const note =
    "All images' pixels pooled; pixels with the map at or above the threshold are called anomalous.";
  return `${table}<div class="plots">${await plotFigure(roc, note)}${await plotFigure(
    dice,
    "Dice = 2·TP / (2·TP + FP + FN).",
  )}</div>`;
}

function summaryLine(inputs: ReportInputs): string {
  const { evaluation: e } = inputs;
  const files = e.files.map(escapeHtml).join(", ");
  const train = e.trainFiles.length > 0
    ? ` Training normals: ${e.counts.trainNormals} rows from ${e.trainFiles.map(escapeHtml).join(", ")}.`
    : "";
  const unlabelled = e.counts.unlabelled > 0 ? `, ${e.counts.unlabelled} unlabelled (not counted)` : "";
  return `<p class="note">Scores: ${files}. Test set: ${e.counts.normal} normal, ${e.counts.anomalous} ` +
    `anomalous${unlabelled}.${train} AUC intervals: ${e.bootstrapSamples} stratified bootstrap ` +
    `replicates, seed ${e.seed}. Made ${inputs.createdAt.toISOString()}.</p>`;
}

/** The whole report as one HTML document. */
export async function renderReportHtml(inputs: ReportInputs): Promise<string> {
  const { evaluation } = inputs;
  const ignored = evaluation.ignoredColumns.length > 0
    ? `<p class="note">Text columns skipped: ${evaluation.ignoredColumns.map(escapeHtml).join(", ")}.</p>`
    : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AnoGAN evaluation</title><style>${STYLE}</style></head>
<body>
<h1>AnoGAN evaluation</h1>
${summaryLine(inputs)}
${untrainedWarning(inputs.trainingFits)}
<h2>Table 1: detection at Youden's cut-off</h2>
${table1Html(evaluation.table1)}
<p class="note">Higher scores are more anomalous. AUC with its bootstrap interval. Sensitivity,
specificity, precision and recall at the cut-off that maximises Youden's index (sensitivity +
specificity − 1), chosen on this same set: those four figures are in-sample, optimistic for new data.
Images scoring at or above the cut-off are called anomalous.</p>${ignored}
<h2>Where the method works: detection by lesion share and kind</h2>
${strataHtml(evaluation.strata)}
<h2>Fig. 3: query, generated, residual and mask</h2>
${figure3Section(inputs)}
<h2>Fig. 4: image-level detection</h2>
${await rocFigures(evaluation)}
${await histogramFigures(inputs)}
<h2>Pixel level: residual against the masks</h2>
${await pixelSection(evaluation.pixel)}
<h2>Training: has G learned the normal data?</h2>
${trainingFitHtml(inputs.trainingFits) || `<p class="note">The training run logged no held-out check.</p>`}
<h2>Configuration: training run</h2>
${
    settingsTable(
      inputs.config,
      "No config.json found (score.json's run folder, beside the score file, or one folder up).",
    )
  }
<h2>Configuration: scoring</h2>
${settingsTable(inputs.scoring, "No score.json beside the score file.")}
</body></html>
`;
}
