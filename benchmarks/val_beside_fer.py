"""FER-2013 validation faces scored against the FER+ majority and the original labels, our
model(s) beside ``fer`` on the same 3,589 faces in one run.

    uv run --group dev python benchmarks/val_beside_fer.py --fer-python /tmp/ferbench/bin/python \
        [--data ../shared/data/fer2013_train_val.npz] [--model models/fer_cnn.tflite other.tflite]

Ours: :func:`fer_desktop.training.evaluate.evaluate` (the app's inference path: int8 LiteRT,
flip TTA and temperature of the model's metrics file). ``fer``: its own classifier in its own
Python (``benchmarks/fer_val.py``), two ways: ``fer (direct)``, each face resized to fer's 64x64
input (its most favourable reading), and ``fer (detect_emotions)``, the whole image given as
the face box (as a user of fer calls it). The FER+ votes are read beside the data
(:func:`fer_desktop.training.ferplus.find_votes`); the majority is scored on the images that
have one (ties and contempt/unknown/not-a-face majorities left out, as Barsoum et al. 2016).

Prints a table and writes ``benchmarks/results/val_beside_fer.json``. Exit 2 without the data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "val_beside_fer.json"


def scores(probs: np.ndarray, y: np.ndarray, majority: np.ndarray) -> dict:
    """Accuracy against the original labels, accuracy, macro-F1 and per-class recall against
    the FER+ majority (``-1`` = none), ECE against the majority, of ``(n, 7)`` probabilities."""
    from fer_desktop.training.evaluate import classification_report, expected_calibration_error

    m = majority >= 0
    fp = classification_report(majority[m], probs[m].argmax(1))
    return {"original": round(classification_report(y, probs.argmax(1))["accuracy"], 4),
            "ferplus": round(fp["accuracy"], 4), "macro_f1": round(fp["macro_f1"], 4),
            "recall": {k: v["recall"] for k, v in fp["per_class"].items()},
            "ece": round(expected_calibration_error(probs[m], majority[m]), 4),
            "n": int(len(y)), "n_ferplus": int(m.sum())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data"
                    / "fer2013_train_val.npz")
    ap.add_argument("--fer-python", help="a Python with fer installed (omit: ours only)")
    ap.add_argument("--model", type=Path, nargs="+", default=[ROOT / "models" / "fer_cnn.tflite"])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    from fer_desktop.runtime import configure

    configure()
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.training import ferplus
    from fer_desktop.training.evaluate import load_split

    if not args.data.is_file():
        print(f"no data at {args.data}")
        return 2
    votes = ferplus.find_votes(args.data)
    if votes is None:
        print(f"no FER+ votes beside {args.data}")
        return 2
    x, y = load_split(args.data, "val")
    v = ferplus.load_votes(votes, "val", len(x))
    majority = v.majority()
    results = {}
    for path in args.model:
        model = EmotionModel(path)
        faces = x
        if model.crop.aligned:
            from fer_desktop.training.align import aligned_split

            faces = aligned_split(x, model.crop.zoom)
        probs = np.concatenate([model.predict(faces[i:i + 49]) for i in range(0, len(x), 49)])
        results[str(path)] = scores(probs, y, majority)
    if args.fer_python:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "fer.npz"
            subprocess.run([args.fer_python, str(ROOT / "benchmarks" / "fer_val.py"),
                            str(args.data), str(out)], check=True, capture_output=True)
            with np.load(out) as d:
                results["fer (direct)"] = scores(d["direct"], y, majority)
                results["fer (detect_emotions)"] = scores(d["detect"], y, majority)
    print("| model | FER+ majority | macro-F1 (FER+) | original labels | ECE (FER+) |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {Path(name).name} | {100 * r['ferplus']:.1f} % | {100 * r['macro_f1']:.1f} % | "
              f"{100 * r['original']:.1f} % | {100 * r['ece']:.1f} % |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"data": args.data.name, "votes": votes.name,
                                    "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
