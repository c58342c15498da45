"""Which face crop matches FER-2013's framing best: by box (with a margin) or eye-aligned (at a
zoom), for the YuNet detector (and by box for the Haar cascade, for reference).

Two measures, each through the app's own detector and the runtime model:

* **FER-2013 validation faces, re-framed**: each 48x48 face is enlarged x4 and set in a larger
  16:9 grey frame (a replicated border, as if it were a webcam picture), found again by the
  detector and cut by each crop; accuracy against the FER+ majority label (or the original label
  without votes), beside the model's accuracy on the raw crops. This measures how far each crop
  moves a face away from the framing the model learnt.
* **real faces** of ``../shared/real_dev`` (meeting tiles and room photos with an expression
  label; skipped without the folder): each hand-drawn face box is matched to a YuNet face (IoU
  >= 0.4, for its landmarks) and cut by each crop.

``--template`` instead measures FER-2013's own landmark positions (YuNet on 3,000 training faces
enlarged x4), the :data:`fer_desktop.analysis.faces.FER_TEMPLATE` the aligned crop maps faces to.

    uv run --group dev python benchmarks/crop_framing.py [--data ../shared/data/fer2013_train_val.npz]

Writes ``benchmarks/results/crop_framing.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from fer_desktop.analysis.boxes import iou
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.analysis.faces import Faces, align_faces, crop_faces
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.analysis.yunet import YuNetDetector
from fer_desktop.labels import EMOTIONS
from fer_desktop.runtime import configure
from fer_desktop.training.evaluate import load_split

MARGINS = (-0.1, 0.0, 0.1, 0.2, 0.3)
ZOOMS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2)


def embed(face: np.ndarray, scale: int = 4, pad: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Upscale a 48x48 face and pad it into a 16:9 frame; returns (frame, true box xywh)."""
    big = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    s = big.shape[0]
    top = bottom = int(s * pad)
    side = int((s + 2 * top) * 16 / 9 - s) // 2
    frame = cv2.copyMakeBorder(big, top, bottom, side, side, cv2.BORDER_REPLICATE)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.8)
    return frame, np.array([side, top, s, s])


def crops_of(gray: np.ndarray, face: Faces) -> dict[str, np.ndarray]:
    """``{crop name: (48, 48) uint8}`` of one face (boxes at each margin; aligned at each
    zoom when it has landmarks)."""
    out = {f"box {m:+.2f}": crop_faces(gray, face.boxes, margin=m)[0] for m in MARGINS}
    if face.has_landmarks[0]:
        out.update({f"aligned x{z:.2f}": align_faces(gray, face.boxes, face.landmarks, z)[0]
                    for z in ZOOMS})
    return out


def fer_val(data: str, model: EmotionModel, limit: int) -> dict:
    """Accuracy of each crop on re-framed validation faces, per detector."""
    from fer_desktop.training import ferplus

    x, y = load_split(data, "val")
    votes = ferplus.find_votes(data)
    truth = y
    if votes is not None:
        truth = ferplus.load_votes(votes, "val", len(x)).majority()
    keep = np.flatnonzero(truth >= 0)[:limit]
    x, truth = x[keep], truth[keep]
    raw = model.predict_batched(x).argmax(1)
    out: dict = {"n": len(x), "truth": "ferplus_majority" if votes else "original",
                 "raw_accuracy": round(float((raw == truth).mean()), 4)}
    for det in (YuNetDetector(), HaarDetector()):
        crops: dict[str, list] = {}
        idx: list[int] = []
        for i, face in enumerate(x):
            frame, _ = embed(face)
            bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            found = det.detect(bgr)
            if not len(found):
                continue
            idx.append(i)
            for name, c in crops_of(frame, found.best_first()[0]).items():
                crops.setdefault(name, []).append(c)
        idx_a = np.array(idx, int)
        res = {"found": len(idx_a),
               "raw_accuracy_on_found": round(float((raw[idx_a] == truth[idx_a]).mean()), 4)}
        for name, c in crops.items():
            if len(c) != len(idx_a):
                continue
            pred = model.predict_batched(np.stack(c)).argmax(1)
            res[name] = round(float((pred == truth[idx_a]).mean()), 4)
        out[det.name] = res
    return out


def real_faces(model: EmotionModel) -> dict | None:
    """Accuracy of each crop on the labelled real faces of real_dev (YuNet's landmarks)."""
    from fer_desktop.capture.sources import read_image
    from testing import real_dev

    if not real_dev.available():
        return None
    det = YuNetDetector()
    crops: dict[str, list] = {}
    labels: list[int] = []
    for t in real_dev.load():
        img = read_image(t.path)
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        found = det.detect(img, min_face_px=12)
        for box, label in zip(t.faces, t.face_labels):
            if label is None:
                continue
            m = iou(np.array([box]), found.boxes)[0] if len(found) else np.zeros(0)
            if not len(m) or m.max() < 0.4:
                continue  # no landmarks for this face: it is not compared
            face = found[int(np.argmax(m))].with_(boxes=np.array([box]))
            labels.append(EMOTIONS.index(label))
            for name, c in crops_of(gray, face).items():
                crops.setdefault(name, []).append(c)
    y = np.array(labels)
    out: dict = {"n": len(y)}
    for name, c in crops.items():
        pred = model.predict_batched(np.stack(c)).argmax(1)
        out[name] = round(float((pred == y).mean()), 4)
    return out


def template(data: str, n: int = 3000) -> dict:
    """FER-2013's landmark positions: YuNet on the first ``n`` training faces enlarged x4."""
    x, _ = load_split(data, "train")
    det = YuNetDetector(min_face_px=40)
    pts = []
    for face in x[:n]:
        big = cv2.resize(face, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, 96, 96, 96, 96, cv2.BORDER_CONSTANT, value=128)
        found = det.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
        if len(found):
            pts.append((found.best_first().landmarks[0] - 96) / 4)
    pts = np.array(pts)
    return {"found": len(pts), "of": n, "median_landmarks": np.median(pts, 0).round(2).tolist(),
            "sd": pts.std(0).round(2).tolist()}


def main() -> int:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" /
                                          "fer2013_train_val.npz"))
    ap.add_argument("--model", default=None, help="LiteRT model (default: the shipped one)")
    ap.add_argument("--limit", type=int, default=3589, help="validation faces re-framed")
    ap.add_argument("--template", action="store_true", help="measure FER-2013's landmarks")
    args = ap.parse_args()
    if args.template:
        print(json.dumps(template(args.data), indent=1))
        return 0
    model = EmotionModel(args.model)
    out = {"model": str(model.path), "fer_val": fer_val(args.data, model, args.limit),
           "real_faces": real_faces(model)}
    print(json.dumps(out, indent=1))
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "crop_framing.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
