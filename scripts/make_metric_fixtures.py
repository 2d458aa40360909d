"""Reference ROC curves, AUCs, Youden cut-offs and pixel-level figures from scikit-learn.

Writes fixtures/metrics.json for tests/metrics_test.ts. Run with Debian's python3-sklearn:
    /usr/bin/python3 scripts/make_metric_fixtures.py
Scores are rounded so that JSON carries them exactly and ties are the same in both languages.
"""

import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score, roc_curve

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "metrics.json")


def image_case(name, scores, labels):
    scores = [float(s) for s in scores]
    labels = [int(l) for l in labels]
    fpr, tpr, thresholds = roc_curve(labels, scores, drop_intermediate=False)
    youden = int(np.argmax(tpr - fpr))
    cutoff = thresholds[youden]
    predicted = (np.array(scores) >= cutoff).astype(int)
    return {
        "name": name,
        "scores": scores,
        "labels": labels,
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        # thresholds[0] is max + 1 in scikit-learn 1.2 and +inf from 1.3: compare from index 1.
        "thresholds_after_first": thresholds[1:].tolist(),
        "auc": float(roc_auc_score(labels, scores)),
        "youden": {
            "index": youden,
            "threshold": float(cutoff) if youden > 0 else None,
            "j": float(tpr[youden] - fpr[youden]),
            "sensitivity": float(recall_score(labels, predicted)),
            "specificity": float(recall_score(labels, predicted, pos_label=0)),
            "precision": float(precision_score(labels, predicted, zero_division=0)),
            "recall": float(recall_score(labels, predicted)),
            "accuracy": float(accuracy_score(labels, predicted)),
        },
    }


def image_cases(rng):
    cases = []
    n = 200
    labels = rng.random(n) < 0.4
    scores = np.round(rng.normal(size=n) + 1.2 * labels, 12)
    cases.append(image_case("no ties, 40% anomalous", scores, labels))

    n = 300
    labels = rng.random(n) < 0.1
    scores = np.clip(np.round(rng.normal(2 + 1.5 * labels, 1.2)), 0, 5)
    cases.append(image_case("heavy ties (six levels), 10% anomalous", scores, labels))

    n = 500
    labels = np.zeros(n, dtype=bool)
    labels[rng.choice(n, 5, replace=False)] = True
    scores = np.round(rng.random(n) + 0.3 * labels, 12)
    cases.append(image_case("no ties, 5 anomalous in 500", scores, labels))

    labels = rng.random(120) < 0.85
    scores = np.round(rng.normal(size=120) * 3) / 4 + 0.5 * labels
    cases.append(image_case("ties, 85% anomalous", scores, labels))

    cases.append(image_case("all scores tied", [0.5] * 10, [0, 1] * 5))
    cases.append(image_case("perfect separation", [0.1, 0.2, 0.3, 0.7, 0.9], [0, 0, 0, 1, 1]))
    cases.append(image_case("perfectly reversed", [0.9, 0.7, 0.3, 0.2, 0.1], [0, 0, 0, 1, 1]))
    cases.append(image_case("ties across classes", [1, 2, 2, 3, 3, 3, 4], [0, 0, 1, 0, 1, 1, 1]))
    return cases


def pixel_case(rng):
    """Residual maps quantised to 8 bits (as PNGs store them: heavy ties) and masks with blobs."""
    images = []
    for k in range(6):
        h, w = 12, 16
        yy, xx = np.mgrid[0:h, 0:w]
        mask = np.zeros((h, w), dtype=int)
        if k % 3 != 0:
            cy, cx, r = rng.integers(3, h - 3), rng.integers(3, w - 3), rng.integers(2, 4)
            mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
            mask[rng.integers(0, h), rng.integers(0, w)] = 2
        residual = np.clip(rng.normal(0.15, 0.1, (h, w)) + 0.35 * (mask > 0), 0, 1)
        residual = np.round(residual * 255) / 255
        images.append({"residual": residual.ravel().tolist(), "mask": mask.ravel().tolist()})
    scores = np.concatenate([im["residual"] for im in images])
    truth = np.concatenate([im["mask"] for im in images]) > 0
    fpr, tpr, thresholds = roc_curve(truth, scores, drop_intermediate=False)
    tps = tpr * truth.sum()
    fps = fpr * (~truth).sum()
    dice = 2 * tps / (tps + fps + truth.sum())
    best = int(np.argmax(dice))
    return {
        "images": images,
        "auc": float(roc_auc_score(truth, scores)),
        "dice": float(dice[best]),
        "dice_threshold": float(thresholds[best]),
        "anomalous_pixels": int(truth.sum()),
    }


def main():
    rng = np.random.default_rng(20170312)
    fixture = {"image": image_cases(rng), "pixel": pixel_case(rng)}
    with open(OUT, "w") as f:
        json.dump(fixture, f)
    print(f"wrote {OUT}: {len(fixture['image'])} image-level cases and one pixel-level case")


if __name__ == "__main__":
    main()
