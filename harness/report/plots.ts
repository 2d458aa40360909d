// The report's plots: Vega-Lite specifications compiled to Vega and rendered to SVG headless (no
// canvas, no browser): the ROC curves of Fig. 4(a, b), the score histograms of Fig. 4(c, d) and the
// pixel-level ROC and Dice curves.

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Colours as in the paper's Fig. 4: AnoGAN and D black, GANR and D̂ red, PD and R green, aCAE blue. */
const PAPER_COLOURS: Record<string, string> = {
  A: "#000000",
  A_ganr: "#d62728",
  A_acae: "#1f77b4",
  PD: "#2ca02c",
  R: "#2ca02c",
  D: "#000000",
  D_ganr: "#d62728",
  R_ganr: "#ff7f0e",
};
const OTHER_COLOURS = ["#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

const FONT = "Helvetica, Arial, sans-serif";

/** Renders a Vega-Lite specification to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function baseConfig() {
  return {
    font: FONT,
    axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#eeeeee" },
    legend: { labelFontSize: 11, titleFontSize: 12 },
    title: { fontSize: 14, anchor: "start" as const },
  };
}

export interface CurveSeries {
  /** The scores.csv column, which picks the paper's colour. */
  score: string;
  /** The legend entry. */
  label: string;
  x: number[];
  y: number[];
  /** Overrides the colour the score column would pick. */
  colour?: string;
}

function colourScale(series: CurveSeries[]) {
  let other = 0;
  return {
    domain: series.map((s) => s.label),
    range: series.map((s) =>
      s.colour ?? PAPER_COLOURS[s.score] ?? OTHER_COLOURS[other++ % OTHER_COLOURS.length]
    ),
  };
}

/** Line points in their curve order (the `order` channel keeps vertical ROC steps in sequence). */
function curvePoints(series: CurveSeries[]) {
  return series.flatMap((s) => s.x.map((x, k) => ({ series: s.label, x, y: s.y[k], k })));
}

/** ROC curves (Fig. 4(a) or (b)) with the chance diagonal. */
export function rocSpec(title: string, series: CurveSeries[]): TopLevelSpec {
  return {
    title,
    width: 360,
    height: 360,
    config: baseConfig(),
    layer: [
      {
        data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
        mark: { type: "line", strokeDash: [4, 4], color: "#999999", strokeWidth: 1 },
        encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
      },
      {
        data: { values: curvePoints(series) },
        mark: { type: "line", strokeWidth: 2, interpolate: "linear" },
        encoding: {
          x: { field: "x", type: "quantitative", title: "false positive rate (1 − specificity)" },
          y: { field: "y", type: "quantitative", title: "true positive rate (sensitivity)" },
          ...seriesEncoding(series),
        },
      },
    ],
  };
}

/** Colour by series (a legend below the plot), points joined in their order k. */
function seriesEncoding(series: CurveSeries[]) {
  return {
    color: {
      field: "series",
      type: "nominal" as const,
      title: null,
      scale: colourScale(series),
      legend: { orient: "bottom" as const, direction: "vertical" as const, labelLimit: 1000 },
    },
    order: { field: "k", type: "quantitative" as const },
  };
}

/** A line chart of y against x for a few series (Dice against threshold). */
export function lineSpec(title: string, xTitle: string, yTitle: string, series: CurveSeries[]): TopLevelSpec {
  return {
    title,
    width: 360,
    height: 260,
    config: baseConfig(),
    data: { values: curvePoints(series) },
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle },
      y: { field: "y", type: "quantitative", title: yTitle, scale: { domain: [0, 1] } },
      ...seriesEncoding(series),
    },
  };
}

export interface HistogramGroup {
  label: string;
  colour: string;
  values: number[];
}

/**
 * Overlaid histograms of one score per set (Fig. 4(c, d)), each normalised to its own set's size so
 * that a small anomalous set and a large normal set compare on one axis.
 */
export function histogramSpec(title: string, scoreTitle: string, groups: HistogramGroup[]): TopLevelSpec {
  const present = groups.filter((g) => g.values.length > 0);
  return {
    title,
    width: 360,
    height: 240,
    config: baseConfig(),
    data: { values: present.flatMap((g) => g.values.map((value) => ({ set: g.label, value }))) },
    transform: [
      { bin: { maxbins: 40 }, field: "value", as: ["bin_start", "bin_end"] },
      { aggregate: [{ op: "count", as: "count" }], groupby: ["set", "bin_start", "bin_end"] },
      { joinaggregate: [{ op: "sum", field: "count", as: "total" }], groupby: ["set"] },
      { calculate: "datum.count / datum.total", as: "fraction" },
    ],
    mark: { type: "bar", opacity: 0.45, binSpacing: 0 },
    encoding: {
      x: { field: "bin_start", type: "quantitative", bin: { binned: true }, title: scoreTitle },
      x2: { field: "bin_end" },
      y: { field: "fraction", type: "quantitative", stack: null, title: "fraction of the set" },
      color: {
        field: "set",
        type: "nominal",
        title: null,
        scale: { domain: present.map((g) => g.label), range: present.map((g) => g.colour) },
        legend: { orient: "bottom", direction: "horizontal" },
      },
    },
  };
}
