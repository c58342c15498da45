"""Draw the confusion matrix of ``fer-desktop evaluate``'s JSON report as a PNG (model card).

    uv run --group dev python models/plot_confusion.py benchmarks/results/evaluate_val.json \
        models/confusion_matrix.png

Cells show the share of each true class (row) given to each predicted class (column), with the
image count; the title gives accuracy and macro-F1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = json.loads(Path(argv[0]).read_text())
    cm = np.asarray(report["confusion_matrix"], np.float64)
    classes = report.get("classes") or [c for c in report["per_class"]]
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=120)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{100 * share[i, j]:.0f}%\n{int(cm[i, j])}", ha="center",
                    va="center", fontsize=8, color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=30)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"FER-2013 validation (PublicTest, {int(cm.sum())} faces): accuracy "
                 f"{100 * report['accuracy']:.1f} %, macro-F1 {100 * report['macro_f1']:.1f} %",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
