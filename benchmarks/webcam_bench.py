"""Expression accuracy on faces as the app sees them after a video call, beside clean faces.

    uv run --group dev python benchmarks/webcam_bench.py [--model models/fer_cnn.tflite ...]

FER-2013's validation split (3,589 faces; scored against the FER+ majority label of the 3,370
that have one when the votes are beside the data, else the original labels) in four forms, each
scored through the app's own
inference path (:class:`~fer_desktop.analysis.emotions.EmotionModel`: int8 LiteRT, the flip TTA
and temperature of the model's metrics file, batches of 49 as a 7x7 gallery):

``clean``
    the faces as published;
``h264_180p`` / ``h264_90p``
    each face as a participant's webcam video sent with H.264 as a 180p (150 kbit/s) or 90p
    (60 kbit/s) thumbnail, scaled into a tile of a 49-tile 1080p gallery and cut by a moving
    Haar-like box (``testing/webcam.py``);
``proxy``
    :func:`fer_desktop.training.webcam.degrade` on every face (the training augmentation's
    imitation of the above; seed 0).

The degraded faces are kept in a cache (``$XDG_CACHE_HOME/fer-desktop-bench``, never in the
repository) so several models can be compared. Prints a table and writes
``benchmarks/results/webcam.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fer2013_train_val.npz"
FORMS = ("clean", "h264_180p", "h264_90p", "proxy")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fer-desktop-bench"


def degraded(form: str, x: np.ndarray) -> np.ndarray:
    """The validation faces ``x`` in ``form`` (cached for the H.264 forms)."""
    if form == "clean":
        return x
    if form == "proxy":
        from fer_desktop.training.webcam import degrade

        return degrade(x, np.random.default_rng(0))
    path = _cache_dir() / f"val_{form}_{len(x)}.npy"
    if path.is_file():
        return np.load(path)
    from testing.webcam import through_call

    out = through_call(x, form.split("_")[1], seed=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def score(model_path: Path, faces: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy, macro-F1 and per-class recall of the model (as the app runs it) on ``faces``."""
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.training.evaluate import classification_report

    model = EmotionModel(model_path)
    probs = np.concatenate([model.predict(faces[i:i + 49]) for i in range(0, len(faces), 49)])
    rep = classification_report(y, probs.argmax(1))
    return {"accuracy": round(rep["accuracy"], 4), "macro_f1": round(rep["macro_f1"], 4),
            "recall": {k: v["recall"] for k, v in rep["per_class"].items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", type=Path, nargs="+",
                        default=[ROOT / "models" / "fer_cnn.tflite"])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/webcam.json")
    args = parser.parse_args(argv)
    from fer_desktop.runtime import configure
    from fer_desktop.training.evaluate import load_split

    configure()
    if not args.data.is_file():
        print(f"no data at {args.data}: nothing to measure", file=sys.stderr)
        return 1
    x, y = load_split(args.data, "val")
    from fer_desktop.training import ferplus

    votes = ferplus.find_votes(args.data)
    truth = "original"
    if votes is not None:  # score against the FER+ majority where there is one
        maj = ferplus.load_votes(votes, "val", len(x)).majority()
        truth = "ferplus_majority"
    forms = {form: degraded(form, x) for form in FORMS}
    if votes is not None:
        keep = maj >= 0
        forms = {form: faces[keep] for form, faces in forms.items()}
        y = maj[keep]
    results = {}
    print("| model | " + " | ".join(FORMS) + " |")
    print("|---|" + "---|" * len(FORMS))
    for path in args.model:
        results[str(path)] = {form: score(path, faces, y) for form, faces in forms.items()}
        print(f"| {path.name} | " + " | ".join(
            f"{100 * results[str(path)][f]['accuracy']:.1f} %" for f in FORMS) + " |", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"n": int(len(y)), "truth": truth, "results": results},
                                   indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
