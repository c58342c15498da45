"""Expression accuracy on the labelled real faces of ``../shared/real_dev/``, beside ``fer``, on
the same faces in one run.

    uv run --group dev python benchmarks/real_faces_bench.py --fer-python /tmp/ferbench/bin/python \
        [--model models/fer_cnn.tflite other.tflite ...]

Every face of the truth with an expression label (meeting tiles and room photos) is classified
from its hand-drawn box: by our model(s) from the crop the app makes for each model
(:func:`~fer_desktop.analysis.faces.face_crops`: eye-aligned from YuNet's landmarks for a model
trained on aligned faces, else the box made square; 48x48, area averaging)
through :class:`~fer_desktop.analysis.emotions.EmotionModel` as the app runs it (flip TTA and
temperature of the model's metrics file), and by ``fer``'s classifier from the same box
(``FER(mtcnn=False).detect_emotions(img, face_rectangles=[box])``, its own framing and 64x64
mini-Xception; ``benchmarks/fer_classify.py``). So both are scored on exactly the same faces,
whatever each detector would have found (``real_bench.py`` scores the faces each one finds).

Prints a table (accuracy on meeting faces, room faces and all; recall of each labelled class)
and writes ``benchmarks/results/real_faces.json``. Skipped without the ``real_dev`` folder.
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
OUT = ROOT / "benchmarks" / "results" / "real_faces.json"


def labelled_faces(images) -> list[tuple]:
    """``(path, kind, box, label)`` of every labelled face of the truth."""
    return [(t.path, t.kind, [int(v) for v in box], label)
            for t in images for box, label in zip(t.faces, t.face_labels) if label is not None]


def ours(model_path: Path, faces: list[tuple]) -> list[str]:
    """Our top expression for each face, through the crop the app makes for this model
    (:attr:`EmotionModel.crop`: eye-aligned from the landmarks of the YuNet face that matches
    the hand-drawn box, IoU >= 0.4, else the box made square) and its inference path."""
    from fer_desktop.analysis.boxes import iou
    from fer_desktop.analysis.cvutil import cv2
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.analysis.faces import Faces, face_crops
    from fer_desktop.analysis.yunet import YuNetDetector
    from fer_desktop.capture.sources import read_image
    from fer_desktop.labels import EMOTIONS

    model = EmotionModel(model_path)
    det = YuNetDetector()
    crops, found = [], {}
    for path, _kind, box, _label in faces:
        img = read_image(path)
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if path not in found:
            found[path] = det.detect(img, min_face_px=12)
        face = Faces(np.array([box]))
        cand = found[path]
        if model.crop.aligned and len(cand):
            m = iou(np.array([box]), cand.boxes)[0]
            if m.max() >= 0.4:
                face = cand[int(np.argmax(m))].with_(boxes=np.array([box]))
        crop = model.crop
        crops.append(face_crops(gray, face, crop.aligned, crop.zoom, crop.margin)[0])
    crops = np.stack(crops)
    probs = np.concatenate([model.predict(crops[i:i + 49]) for i in range(0, len(crops), 49)])
    return [EMOTIONS[k] for k in probs.argmax(1)]


def fer(python: str, faces: list[tuple]) -> list[str | None]:
    """``fer``'s top expression for each face, from the same boxes."""
    boxes: dict[str, list] = {}
    for path, _kind, box, _label in faces:
        boxes.setdefault(str(path), []).append(box)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(boxes, f)
    proc = subprocess.run([python, str(ROOT / "benchmarks" / "fer_classify.py"), f.name],
                          capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    seen: dict[str, int] = {}
    out = []
    for path, *_ in faces:
        k = seen.get(str(path), 0)
        out.append(got[str(path)][k])
        seen[str(path)] = k + 1
    return out


def summary(faces: list[tuple], predicted: list) -> dict:
    """Accuracy per kind and in all, and the recall of each labelled class."""
    truth = [f[3] for f in faces]
    right = [p == t for p, t in zip(predicted, truth)]
    out = {"n": len(faces), "accuracy": round(float(np.mean(right)), 4)}
    for kind in ("meeting", "room"):
        r = [ok for ok, f in zip(right, faces) if f[1] == kind]
        out[f"accuracy_{kind}"] = round(float(np.mean(r)), 4) if r else None
        out[f"n_{kind}"] = len(r)
    out["recall"] = {c: round(float(np.mean([ok for ok, t in zip(right, truth) if t == c])), 4)
                     for c in sorted(set(truth))}
    confusions: dict[str, int] = {}
    for p, t in zip(predicted, truth):
        if p != t:
            confusions[f"{t}->{p}"] = confusions.get(f"{t}->{p}", 0) + 1
    out["errors"] = dict(sorted(confusions.items(), key=lambda kv: -kv[1]))
    return out


def main(argv: list[str] | None = None) -> int:
    from testing import real_dev

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(real_dev.ROOT), help="the real_dev folder")
    ap.add_argument("--fer-python", help="a Python with fer installed (omit: ours only)")
    ap.add_argument("--model", type=Path, nargs="+",
                    default=[ROOT / "models" / "fer_cnn.tflite"])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    from fer_desktop.runtime import configure

    configure()
    if not real_dev.available(Path(args.data)):
        print(f"no real_dev set at {args.data}")
        return 2
    faces = labelled_faces(real_dev.load(Path(args.data)))
    results = {str(m): summary(faces, ours(m, faces)) for m in args.model}
    if args.fer_python:
        results["fer"] = summary(faces, fer(args.fer_python, faces))
    print("| model | all | meeting faces | room faces | recall |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        rec = ", ".join(f"{c} {100 * v:.0f} %" for c, v in r["recall"].items())
        print(f"| {Path(name).name} | {100 * r['accuracy']:.1f} % ({r['n']}) | "
              f"{100 * r['accuracy_meeting']:.1f} % ({r['n_meeting']}) | "
              f"{100 * r['accuracy_room']:.1f} % ({r['n_room']}) | {rec} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
