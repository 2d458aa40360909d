// Score files, Table 1 and the report: CSV parsing and its errors, evaluation of several files, and
// `deno task eval` end to end on a small synthetic run with PNGs, masks and a config.json.

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { encodeGrayPng, encodeMaskPng, readGrayPng, readMaskPng } from "../harness/data/png.ts";
import { XoshiroRng } from "../harness/data/rng.ts";
import {
  evaluateScores,
  LESION_SHARE_STRATA,
  methodName,
  orderScores,
  strataMarkdown,
  stratify,
  table1Markdown,
} from "../harness/eval/evaluation.ts";
import { auroc, pixelMetrics } from "../harness/eval/metrics.ts";
import { writeSafetensors } from "../core/io/safetensors.ts";
import { figure3Columns, pickExamples } from "../harness/report/figure3.ts";
import { findRunInfo, runEvaluation } from "../harness/report/report.ts";
import {
  concatScoreTables,
  joinScoreColumns,
  MAPS_FILE,
  parseCsv,
  parseScoresCsv,
  readScoreFiles,
  ScoresCsvError,
} from "../harness/score_file.ts";

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "anogan-eval-test-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const SIZE = 12;

/** One synthetic query: background texture, and for anomalies a bright square marked in the mask. */
function syntheticImage(rng: XoshiroRng, anomalous: boolean) {
  const query = new Float32Array(SIZE * SIZE), generated = new Float32Array(SIZE * SIZE);
  const mask = new Uint8Array(SIZE * SIZE);
  const [x0, y0] = [2 + rng.int(SIZE - 6), 2 + rng.int(SIZE - 6)];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const p = y * SIZE + x;
      generated[p] = -0.4 + 0.3 * Math.sin(y / 2);
      query[p] = generated[p] + 0.1 * rng.normal();
      if (anomalous && x >= x0 && x < x0 + 3 && y >= y0 && y < y0 + 3) [query[p], mask[p]] = [0.9, 1];
    }
  }
  if (anomalous) mask[0] = 2; // one hyperreflective focus pixel
  const residual = query.map((v, p) => Math.abs(v - generated[p]) - 1); // |x − G(z)| ∈ [0, 2] → [-1, 1]
  return { query, generated, residual, mask };
}

/**
 * A run folder like `deno task train` + `deno task score` leave: run/config.json and run/score/ with
 * scores.csv, train_scores.csv and the PNGs the rows name.
 */
async function writeSyntheticRun(
  dir: string,
  count = 24,
  source = (i: number) => `phantom:test:${i}`,
): Promise<{ scores: string; train: string }> {
  const scoreDir = join(dir, "score");
  await Deno.mkdir(join(scoreDir, "png"), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({
      data: "phantom:test",
      model: "dcgan64",
      epochs: 2,
      seed: 5,
      adapter: { vendor: "mesa" },
    }),
  );
  const rng = new XoshiroRng(9);
  const header = "id,source,label,mask,query,generated,residual,volume,A,R,D,A_ganr,D_ganr,PD";
  const lines = [header], trainLines = [header];
  for (let i = 0; i < count; i++) {
    const anomalous = i % 3 === 0;
    const image = syntheticImage(rng, anomalous);
    const name = (kind: string) => `png/${i}_${kind}.png`;
    const gray = (data: Float32Array) => encodeGrayPng({ data, width: SIZE, height: SIZE });
    await Deno.writeFile(join(scoreDir, name("query")), gray(image.query));
    await Deno.writeFile(join(scoreDir, name("generated")), gray(image.generated));
    await Deno.writeFile(join(scoreDir, name("residual")), gray(image.residual));
    await Deno.writeFile(join(scoreDir, name("mask")), encodeMaskPng(image.mask, SIZE, SIZE));
    const r = image.residual.reduce((s, v) => s + v + 1, 0), d = 2 + rng.normal() + (anomalous ? 1 : 0);
    const scores = [
      0.9 * r + 0.1 * d,
      r,
      d,
      r + rng.normal(),
      d + rng.normal(),
      rng.normal() + (anomalous ? 0.5 : 0),
    ];
    lines.push(
      [
        `q${i}`,
        source(i),
        anomalous ? 1 : 0,
        name("mask"),
        name("query"),
        name("generated"),
        name("residual"),
        `"vol, ${i % 4}"`,
        ...scores.map((s) => s.toFixed(6)),
      ].join(","),
    );
    const t = [3 + rng.normal(), 2 + rng.normal()];
    trainLines.push(
      [`t${i}`, `dataset:${i}`, 0, "", "", "", "", "v", 0.9 * t[0] + 0.1 * t[1], ...t, 1, 1, 0].join(","),
    );
  }
  const scores = join(scoreDir, "scores.csv"), train = join(scoreDir, "train_scores.csv");
  await Deno.writeTextFile(scores, lines.join("\n") + "\n");
  await Deno.writeTextFile(train, trainLines.join("\r\n"));
  return { scores, train };
}

Deno.test("CSV records follow RFC 4180: quoted commas, doubled quotes, line breaks, CRLF", () => {
  const text = 'id,source,A\r\n"a,1","say ""hi""",0.5\r\n"multi\nline",x,1\n\nlast,y,2';
  assert.deepEqual(parseCsv(text, "t.csv"), [
    { fields: ["id", "source", "A"], line: 1 },
    { fields: ["a,1", 'say "hi"', "0.5"], line: 2 },
    { fields: ["multi\nline", "x", "1"], line: 3 },
    { fields: ["last", "y", "2"], line: 6 },
  ]);
  assert.throws(() => parseCsv('id,A\n"open,1', "t.csv"), /t\.csv:2: a quoted field is never closed/);
});

Deno.test("score rows: labels, scores, paths beside the CSV, text columns skipped, numeric ones scored", () => {
  const table = parseScoresCsv(
    "id,source,label,mask,generated,residual,volume,A,R,A_acae,extra\n" +
      "a,img/a.png,0,m/a.png,,/abs/r.png,v1,1.5,2,3,7\n" +
      "b,dataset:4,1,,,,v2,-1e-3,0,1,8\n" +
      "c,dataset:5,,,,,v3,2,1,0,9\n",
    "run/score/scores.csv",
  );
  assert.deepEqual(table.scoreNames, ["A", "R", "A_acae", "extra"]);
  assert.deepEqual(table.ignoredColumns, ["volume"]);
  const [a, b, c] = table.rows;
  assert.equal(a.source, "run/score/img/a.png");
  assert.equal(a.mask, "run/score/m/a.png");
  assert.equal(a.generated, undefined);
  assert.equal(a.residual, "/abs/r.png");
  assert.equal(b.source, "dataset:4");
  assert.deepEqual([a.label, b.label, c.label], [0, 1, undefined]);
  assert.deepEqual(b.scores, { A: -0.001, R: 0, A_acae: 1, extra: 8 });
  assert.equal(c.line, 4);
});

const HEADER = "id,source,label,mask,generated,residual,A,R";
const BAD_CSVS: { name: string; text: string; message: RegExp }[] = [
  {
    name: "NaN score",
    text: `${HEADER}\na,s,0,,,,1,2\nb,s,1,,,,NaN,2`,
    message: /bad\.csv:3, column 7 \("A"\): score is "NaN"/,
  },
  {
    name: "non-numeric score",
    text: `${HEADER}\na,s,0,,,,1,2\nb,s,1,,,,1,high`,
    message: /bad\.csv:3, column 8 \("R"\): score is "high"; expected a finite number/,
  },
  {
    name: "empty score",
    text: `${HEADER}\na,s,0,,,,,2`,
    message: /bad\.csv:2, column 7 \("A"\): score is an empty cell/,
  },
  { name: "infinite score", text: `${HEADER}\na,s,0,,,,Infinity,2`, message: /score is "Infinity"/ },
  {
    name: "missing id column",
    text: "source,label,A\ns,0,1",
    message: /bad\.csv:1: no "id" column in the header/,
  },
  { name: "missing label column", text: "id,source,A\na,s,1", message: /bad\.csv:1: no "label" column/ },
  {
    name: "no score columns",
    text: "id,source,label,note\na,s,0,hello",
    message: /bad\.csv: no score columns/,
  },
  {
    name: "bad label",
    text: `${HEADER}\na,s,yes,,,,1,2`,
    message: /bad\.csv:2, column 3 \("label"\): "yes"; expected 0/,
  },
  { name: "empty id", text: `${HEADER}\n,s,0,,,,1,2`, message: /bad\.csv:2, column 1 \("id"\): empty/ },
  {
    name: "duplicate id",
    text: `${HEADER}\na,s,0,,,,1,2\na,t,1,,,,1,2`,
    message: /duplicate id "a": bad\.csv:2 and bad\.csv:3/,
  },
  {
    name: "wrong field count",
    text: `${HEADER}\na,s,0,,,,1,2,3`,
    message: /bad\.csv:2: 9 fields, but the header has 8/,
  },
  { name: "empty file", text: "", message: /bad\.csv is empty/ },
  { name: "header only", text: HEADER, message: /bad\.csv has a header but no rows/ },
];

for (const { name, text, message } of BAD_CSVS) {
  Deno.test(`a score file with ${name} fails with a message naming file, line and value`, () => {
    assert.throws(() => parseScoresCsv(text, "bad.csv"), (error: Error) => {
      assert.ok(error instanceof ScoresCsvError, `${error}`);
      assert.match(error.message, message);
      return true;
    });
  });
}

Deno.test("labels of one class only make AUC undefined: eval says so and names the file", () => {
  const table = parseScoresCsv(`${HEADER}\na,s,0,,,,1,2\nb,s,0,,,,3,4\nc,s,,,,,3,4`, "normals.csv");
  assert.throws(
    () => evaluateScores(table),
    /normals\.csv: labels hold one class only \(2 normal, 0 anomalous\); AUC .* undefined/,
  );
});

Deno.test("an id scored twice differently is refused; shards concatenate; separate methods' columns stay apart", () => {
  const shard0 = parseScoresCsv(`${HEADER}\na,s,0,,,,1,2\nb,s,1,,,,3,4`, "s0.csv");
  const shard1 = parseScoresCsv(`${HEADER}\nc,s,0,,,,2,1\nd,s,1,,,,2.5,5`, "s1.csv");
  const differs = parseScoresCsv(`${HEADER}\nb,s,1,,,,3,4.5`, "s2.csv");
  assert.throws(
    () => concatScoreTables([shard0, differs]),
    /id "b" has R = 4 at s0\.csv:3 but 4\.5 at s2\.csv:2; one image scored twice must score the same/,
  );
  const same = parseScoresCsv(`${HEADER}\nb,s,1,,,,3,4`, "s3.csv");
  assert.equal(concatScoreTables([shard0, same]).rows.length, 2, "an overlap that agrees counts once");
  const acae = parseScoresCsv("id,label,A_acae\nx,0,1\ny,1,0.5\nz,1,2", "acae.csv");
  const joined = concatScoreTables([shard0, shard1, acae]);
  const evaluation = evaluateScores(joined, { bootstrapSamples: 50 });
  assert.deepEqual(evaluation.table1.map((r) => r.score), ["A", "A_acae", "R"]);
  const [a, acaeRow, r] = evaluation.table1;
  assert.equal(a.auc, auroc([1, 3, 2, 2.5], [0, 1, 0, 1]));
  assert.deepEqual([a.normal, a.anomalous], [2, 2]);
  assert.deepEqual([acaeRow.normal, acaeRow.anomalous, acaeRow.auc], [1, 2, 0.5]);
  assert.equal(r.auc, 1);
  assert.equal(evaluation.counts.rows, 7);
});

Deno.test("two runs' files over the same images join by id into one row each", () => {
  const dcgan = parseScoresCsv(`${HEADER}\na,s,0,m.png,,,1,2\nb,s,1,,,,3,4\nc,s,0,,,,2,1`, "dcgan.csv");
  const acae = parseScoresCsv("id,label,mask,A_acae\nc,0,,0.5\na,0,x.png,1\nb,1,,2", "acae.csv");
  const joined = concatScoreTables([dcgan, acae]);
  assert.deepEqual(joined.rows.map((r) => [r.id, r.label, r.scores]), [
    ["a", 0, { A: 1, R: 2, A_acae: 1 }],
    ["b", 1, { A: 3, R: 4, A_acae: 2 }],
    ["c", 0, { A: 2, R: 1, A_acae: 0.5 }],
  ]);
  assert.ok(joined.rows[0].mask?.endsWith("m.png"), "the first file's paths are kept");
  assert.equal(evaluateScores(joined, { bootstrapSamples: 20 }).counts.rows, 3);
  const relabelled = parseScoresCsv("id,label,A_acae\nb,0,2", "other.csv");
  // Columns both runs write (the trivial baselines) join when they agree.
  const withBaseline = parseScoresCsv("id,label,A,trivial_std\nq,1,1,0.25", "one.csv");
  const baselineAgain = parseScoresCsv("id,label,A_acae,trivial_std\nq,1,2,0.25", "two.csv");
  assert.deepEqual(concatScoreTables([withBaseline, baselineAgain]).rows[0].scores, {
    A: 1,
    trivial_std: 0.25,
    A_acae: 2,
  });
  assert.throws(
    () => concatScoreTables([dcgan, relabelled]),
    /id "b" has label 1 at dcgan\.csv:3 but 0 at other\.csv:2; expected one image with one label/,
  );
  assert.throws(
    () => parseScoresCsv("id,label,A\na,0,1\na,0,2", "twice.csv"),
    /duplicate id "a": twice\.csv:2 and twice\.csv:3/,
  );
});

Deno.test("a score column whose rows hold one class only is refused by name", () => {
  const test = parseScoresCsv(`${HEADER}\na,s,0,,,,1,2\nb,s,1,,,,3,4`, "t.csv");
  const normalsOnly = parseScoresCsv("id,label,A_acae\nx,0,1\ny,0,2", "acae.csv");
  assert.throws(
    () => evaluateScores(concatScoreTables([test, normalsOnly])),
    /one class only among the rows scored by "A_acae" \(2 normal, 0 anomalous\)/,
  );
});

Deno.test("Table 1 orders the paper's methods first and names them in the paper's terms", () => {
  assert.deepEqual(orderScores(["D", "PD", "zeta", "R", "A_ganr", "D_ganr", "A", "A_acae", "R_acae"]), [
    "A",
    "A_ganr",
    "A_acae",
    "PD",
    "zeta",
    "R",
    "D",
    "D_ganr",
    "R_acae",
  ]);
  assert.equal(methodName("A"), "AnoGAN A(x)");
  assert.equal(methodName("A_ganr"), "GANR Â(x)");
  assert.equal(methodName("A_encoder"), "encoder A(x)");
  assert.equal(methodName("A_foo"), "foo A(x)");
  assert.equal(methodName("zeta"), "zeta");
});

Deno.test("eval writes eval.json, a self-contained report.html and figure3.png for a run", async () => {
  await withTempDir(async (dir) => {
    const { scores, train } = await writeSyntheticRun(dir);
    const outputs = await runEvaluation({
      scores: [scores],
      trainScores: [train],
      seed: 1,
      bootstrapSamples: 200,
    });
    assert.equal(outputs.jsonPath, join(dir, "score", "eval.json"));
    const json = JSON.parse(await Deno.readTextFile(outputs.jsonPath));
    assert.deepEqual(json.table1.map((r: { score: string }) => r.score), [
      "A",
      "A_ganr",
      "PD",
      "R",
      "D",
      "D_ganr",
    ]);
    assert.deepEqual(json.counts, { rows: 24, normal: 16, anomalous: 8, unlabelled: 0, trainNormals: 24 });
    assert.equal(json.table1[0].auc, 1, "the residual of a bright square separates perfectly");
    assert.deepEqual(
      json.pixel.map((p: { map: string; truth: string }) => [p.map.split(" ")[0], p.truth.split(" ")[0]]),
      [["residual", "fluid"], ["residual", "fluid"], ["smoothed", "fluid"], ["smoothed", "fluid"]],
    );
    assert.ok(json.pixel[0].auroc > 0.9 && json.pixel[0].dice > 0.5, JSON.stringify(json.pixel[0]));
    assert.ok(json.pixel[2].massInside > json.pixel[2].areaInside, JSON.stringify(json.pixel[2]));
    assert.ok(outputs.markdown.startsWith("| score "), outputs.markdown);
    assert.match(outputs.markdown, /\| A +\| AnoGAN A\(x\) +\| 1\.000 \(1\.000–1\.000\)/);

    const html = await Deno.readTextFile(outputs.htmlPath);
    for (
      const text of ["Fig. 4(a)", "Fig. 4(b)", "Fig. 4(c)", "Fig. 4(d)", "Fig. 3", "Pixel level", "dcgan64"]
    ) {
      assert.ok(html.includes(text), `report.html lacks ${text}`);
    }
    assert.ok((html.match(/<svg/g) ?? []).length >= 6, "ROC, histogram and pixel plots are inline SVG");
    assert.ok(html.includes('src="data:image/png;base64,'), "pictures are inline PNG");
    assert.doesNotMatch(html, /(src|href)="(?!data:)/, "no external references");
    assert.ok(html.includes("Text columns skipped: volume"));
    const figure3 = await Deno.stat(outputs.figure3Path!);
    assert.ok(figure3.size > 100);
  });
});

Deno.test("a user's own masks are reported as anomaly masks, not in the phantoms' words", async () => {
  await withTempDir(async (dir) => {
    const { scores } = await writeSyntheticRun(dir, 24, (i) => `png/${i}_query.png`);
    const outputs = await runEvaluation({ scores: [scores], seed: 1, bootstrapSamples: 50 });
    const json = JSON.parse(await Deno.readTextFile(outputs.jsonPath));
    assert.deepEqual(
      json.pixel.map((p: { map: string; truth: string }) => [p.map.split(" ")[0], p.truth]),
      [["residual", "anomaly mask (mask > 0)"], ["smoothed", "anomaly mask (mask > 0)"]],
    );
    assert.doesNotMatch(JSON.stringify(json), /fluid|hyperreflective/);
    const html = await Deno.readTextFile(outputs.htmlPath);
    assert.doesNotMatch(html, /fluid|hyperreflective/);
    assert.match(html, /mask \(white anomaly/);
  });
});

Deno.test("training scores for the histograms must be normals", async () => {
  await withTempDir(async (dir) => {
    const { scores } = await writeSyntheticRun(dir, 6);
    const train = join(dir, "train.csv");
    await Deno.writeTextFile(train, `${HEADER}\nt0,s,0,,,,1,2\nt1,s,1,,,,1,2\n`);
    await assert.rejects(
      () => runEvaluation({ scores: [scores], trainScores: [train], out: join(dir, "out") }),
      /train\.csv:3: row "t1" is labelled anomalous, but --train-scores takes the scores of training normals/,
    );
  });
});

Deno.test("a missing score file is named", async () => {
  await assert.rejects(
    () => readScoreFiles(["/no/such/scores.csv"]),
    /score file not found: \/no\/such\/scores\.csv/,
  );
});

Deno.test("deno task eval prints Table 1, and fails with exit code 1 and the reason on a bad file", async () => {
  await withTempDir(async (dir) => {
    const { scores } = await writeSyntheticRun(dir, 6);
    const bad = join(dir, "bad.csv");
    await Deno.writeTextFile(bad, `${HEADER}\na,s,0,,,,1,2\nb,s,1,,,,NaN,2\n`);
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-write", "--allow-env", "scripts/eval.ts", ...args],
        cwd: new URL("..", import.meta.url),
      }).output();
    const good = await run(["--scores", scores, "--out", join(dir, "out"), "--bootstrap", "20"]);
    const stdout = new TextDecoder().decode(good.stdout);
    assert.equal(good.code, 0, new TextDecoder().decode(good.stderr));
    assert.match(stdout, /\| A +\| AnoGAN A\(x\)/);
    assert.match(stdout, /wrote .*report\.html/);
    const failed = await run(["--scores", scores, bad, "--out", join(dir, "out")]);
    assert.equal(failed.code, 1);
    assert.match(
      new TextDecoder().decode(failed.stderr),
      /error: .*bad\.csv:3, column 7 \("A"\): score is "NaN"/,
    );
  });
});

Deno.test("the markdown Table 1 has one line per score and shows a cut-off that flags nothing as +∞", () => {
  const table = parseScoresCsv(`${HEADER}\na,s,0,,,,2,1\nb,s,1,,,,1,2\nc,s,0,,,,3,0`, "t.csv");
  const lines = table1Markdown(evaluateScores(table, { bootstrapSamples: 10 }).table1).split("\n");
  assert.equal(lines.length, 4);
  assert.match(
    lines[0],
    /^\| score +\| method +\| AUC \(95% CI\) +\| sensitivity \| specificity \| precision \|/,
  );
  assert.match(lines[1], /^\|-+\|-+\|/);
  assert.match(
    lines[2],
    /^\| A +\| AnoGAN A\(x\) +\| 0\.000 \(0\.000–0\.000\) +\| 0\.000 +\| 1\.000 .*\| \+∞ +\| 2 \/ 1 +\|$/,
  );
  assert.match(lines[3], /^\| R +\| R\(x\) residual +\| 1\.000 /);
});

Deno.test("the Fig. 3 grid stacks query, generated, residual and mask; missing pictures are mid-gray", async () => {
  await withTempDir(async (dir) => {
    const { scores } = await writeSyntheticRun(dir, 6);
    const table = await readScoreFiles([scores]);
    assert.equal(table.rows[0].query, join(dir, "score", "png", "0_query.png"));
    const picked = pickExamples(table.rows, 2, 0);
    assert.equal(picked.length, 2);
    assert.deepEqual(pickExamples(table.rows, 2, 0), picked, "seeded");
    const withoutGenerated = { ...picked[1], generated: undefined };
    const [full, partial] = await figure3Columns([{ title: "t", rows: [picked[0], withoutGenerated] }]);
    const { width, height, pixels } = full.strip;
    assert.deepEqual([width, height], [SIZE + 2, 4 * SIZE + 5], "four tiles, one pixel apart");
    const tile = (strip: typeof full.strip, k: number) =>
      Array.from({ length: SIZE }, (_, y) => strip.pixels[(1 + k * (SIZE + 1) + y) * width + 1 + y]);
    for (let k = 0; k < 4; k++) assert.ok(tile(full.strip, k).some((v) => v !== 128), `tile ${k} drawn`);
    assert.ok(tile(partial.strip, 1).every((v) => v === 128), "no generated PNG: mid-gray");
    assert.equal(pixels.length, width * height);
  });
});

Deno.test("the run's config.json is found through score.json's run folder, else beside or above", async () => {
  await withTempDir(async (dir) => {
    const { scores } = await writeSyntheticRun(dir, 3);
    const found = await findRunInfo(scores);
    assert.equal(found.config?.path, join(dir, "config.json"));
    assert.equal(found.config?.values.model, "dcgan64");
    assert.equal(found.scoring, undefined);
    await Deno.mkdir(join(dir, "elsewhere"));
    await Deno.writeTextFile(join(dir, "elsewhere", "config.json"), '{"model": "other"}');
    await Deno.writeTextFile(
      join(dir, "score", "score.json"),
      '{"run": "../elsewhere", "methods": ["anogan"]}',
    );
    const viaScoring = await findRunInfo(scores);
    assert.equal(viaScoring.config?.values.model, "other");
    assert.deepEqual(viaScoring.scoring?.values.methods, ["anogan"]);
    await Deno.writeTextFile(join(dir, "elsewhere", "config.json"), "not json");
    assert.deepEqual((await findRunInfo(scores)).config?.values, { "(not a JSON object)": "not json" });
  });
});

Deno.test("stratified detection: each stratum's anomalies against all normals, sensitivity at Table 1's cut-off", () => {
  const rng = new XoshiroRng(4);
  const lines = ["id,label,kind,A,PD,R"];
  const shares = new Map<string, number>();
  for (let i = 0; i < 80; i++) {
    const anomalous = i % 2 === 1;
    const share = anomalous ? [0.005, 0.03, 0.1, 0.4][(i >> 1) % 4] : 0;
    if (anomalous) shares.set(`x${i}`, share);
    const kind = anomalous ? (i % 3 === 0 ? "subretinal fluid" : "intraretinal cysts") : "";
    lines.push(
      `x${i},${anomalous ? 1 : 0},${kind},${rng.normal() + 10 * share},${rng.normal()},${rng.normal()}`,
    );
  }
  const table = parseScoresCsv(lines.join("\n"), "s.csv");
  const ev = evaluateScores(table, { bootstrapSamples: 50 });
  const strata = stratify(table.rows, ev.table1, shares, { bootstrapSamples: 50 });
  const normals = table.rows.filter((r) => r.label === 0);
  assert.deepEqual(strata.map((s) => `${s.by}: ${s.stratum}`), [
    ...LESION_SHARE_STRATA.map((st) => `lesion share: ${st.name}`),
    "kind: intraretinal cysts",
    "kind: subretinal fluid",
  ]);
  strata.forEach((s, k) => {
    const inside = table.rows.filter((r) =>
      r.label === 1 &&
      (s.by === "kind"
        ? r.kind === s.stratum
        : LESION_SHARE_STRATA.findIndex((st) => shares.get(r.id)! <= st.upTo) === k)
    );
    assert.equal(s.anomalous, inside.length, s.stratum);
    assert.equal(s.normal, normals.length);
    assert.deepEqual(s.scores.map((x) => x.score), ["A", "PD"], "detection scores only, not components");
    for (const x of s.scores) {
      const rows = [...normals, ...inside];
      assert.equal(x.auc, auroc(rows.map((r) => r.scores[x.score]), rows.map((r) => r.label!)));
      const cutoff = ev.table1.find((t) => t.score === x.score)!.cutoff;
      assert.equal(x.sensitivity, inside.filter((r) => r.scores[x.score] >= cutoff).length / inside.length);
    }
  });
  // Larger lesions score higher here by construction: the largest stratum is detected best.
  assert.ok(strata[3].scores[0].auc > strata[0].scores[0].auc);
  assert.match(strataMarkdown(strata), /\| lesion > 15% +\| +\d+ +\| \d\.\d{3} \(\d\.\d{2}\)/);
  assert.deepEqual(stratify(table.rows, ev.table1, new Map()).map((s) => s.by), ["kind", "kind"]);
});

Deno.test("pixel figures come from the float maps beside scores.csv, and say so when only PNGs exist", async () => {
  await withTempDir(async (dir) => {
    const { scores } = await writeSyntheticRun(dir);
    const rows = (await readScoreFiles([scores])).rows;
    const fromPngs = await runEvaluation({ scores: [scores], bootstrapSamples: 20 });
    assert.match(fromPngs.evaluation.pixel[0].from, /8-bit residual PNGs for 24 of 24 images/);
    // Float maps whose residual is half the PNGs' |x − G(z)|: eval must take its thresholds from them.
    const n = SIZE * SIZE;
    const query = new Float32Array(rows.length * n), generated = new Float32Array(rows.length * n);
    const masks: Uint8Array[] = [];
    for (let k = 0; k < rows.length; k++) {
      const q = (await readGrayPng(rows[k].query!)).data, g = (await readGrayPng(rows[k].generated!)).data;
      query.set(q, k * n);
      generated.set(g.map((v, p) => (v + q[p]) / 2), k * n);
      masks.push((await readMaskPng(rows[k].mask!)).mask);
    }
    const shape = [rows.length, SIZE, SIZE];
    await writeSafetensors(
      join(dirname(scores), MAPS_FILE),
      new Map([["query", { shape, data: query }], ["generated", { shape, data: generated }]]),
      { ids: JSON.stringify(rows.map((r) => r.id)) },
    );
    const raw = (await runEvaluation({ scores: [scores], bootstrapSamples: 20 })).evaluation.pixel[0];
    assert.equal(raw.from, "float32 maps");
    const expected = pixelMetrics(
      masks.map((mask, k) => ({
        residual: query.subarray(k * n, (k + 1) * n).map((q, p) => Math.abs(q - generated[k * n + p])),
        mask,
      })),
      (label) => label !== 0,
    );
    assert.equal(raw.auroc, expected.auroc);
    assert.equal(raw.diceThreshold, expected.diceThreshold);
    assert.ok(raw.diceThreshold < 0.75 * fromPngs.evaluation.pixel[0].diceThreshold, "halved residuals");
  });
});

Deno.test("scores of two methods over the same images join by id, never by position", () => {
  const row = (id: string, scores: Record<string, number>) => ({ id, source: "", label: 0 as const, scores });
  const dcgan = [row("a", { A: 1 }), row("b", { A: 2 })];
  const joined = joinScoreColumns(dcgan, [row("b", { A_acae: 20 }), row("a", { A_acae: 10 })], "test");
  assert.deepEqual(joined.map((r) => [r.id, r.scores]), [["a", { A: 1, A_acae: 10 }], ["b", {
    A: 2,
    A_acae: 20,
  }]]);
  assert.throws(
    () => joinScoreColumns(dcgan, [row("a", { A_acae: 10 }), row("c", { A_acae: 30 })], "the aCAE's scores"),
    /the aCAE's scores: the rows to join are not the same images \(1 missing, 1 extra, e\.g\. "b"\)/,
  );
});
