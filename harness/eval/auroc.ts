// Area under the ROC curve by ranks, on its own: the phantom's difficulty report (data) and the
// detection metrics (evaluation) both use it, and data must not depend on evaluation.

/**
 * Area under the ROC curve, exact, through the Mann–Whitney U statistic: the probability that a
 * random positive scores higher than a random negative, ties counting one half. Higher scores mean
 * "more anomalous"; labels are 1/true for anomalous, 0/false for normal.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<0 | 1 | boolean>): number {
  if (scores.length !== labels.length) {
    throw new Error(`auroc: ${scores.length} scores but ${labels.length} labels; expected equal lengths`);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i);
  let positives = 0;
  for (const i of order) {
    if (Number.isNaN(scores[i])) throw new Error(`auroc: score ${i} is NaN; expected a number`);
    const label = labels[i];
    if (label !== 0 && label !== 1 && label !== true && label !== false) {
      throw new Error(`auroc: label ${i} is ${label}; expected 0, 1, true or false`);
    }
    if (label === 1 || label === true) positives++;
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new Error(
      `auroc needs both classes, got ${positives} positive and ${negatives} negative labels`,
    );
  }
  order.sort((a, b) => scores[a] - scores[b]);
  // Sum of the (1-based) ranks of the positives, tied scores sharing their average rank.
  let positiveRankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      const label = labels[order[k]];
      if (label === 1 || label === true) positiveRankSum += averageRank;
    }
    start = end;
  }
  const u = positiveRankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}
