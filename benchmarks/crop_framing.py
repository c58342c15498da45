"""How well the app's face crop matches FER-2013's framing.

Each validation face (48x48) is upscaled x4, placed in a larger grey frame (a replicated border,
as if it were a webcam picture), found again by the app's own Haar step, and cut with
:func:`fer_desktop.analysis.faces.crop_faces` at several margins. Accuracy of the runtime model through
that path is reported next to its accuracy on the raw crops.

    uv run --group dev python benchmarks/crop_framing.py [--data ../shared/data/fer2013_train_val.npz]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.training.evaluate import load_split
from fer_desktop.analysis.faces import crop_faces
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.runtime import configure


def embed(face: np.ndarray, scale: int = 4, pad: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Upscale a 48x48 face and pad it into a 16:9 frame; returns (frame, true box xywh)."""
    big = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    s = big.shape[0]
    top = bottom = int(s * pad)
    side = int((s + 2 * top) * 16 / 9 - s) // 2
    frame = cv2.copyMakeBorder(big, top, bottom, side, side, cv2.BORDER_REPLICATE)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.8)
    return frame, np.array([side, top, s, s])


def main() -> int:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" /
                                          "fer2013_train_val.npz"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--margins", default="-0.1,0,0.1,0.2,0.3")
    args = ap.parse_args()
    x, y = load_split(args.data, args.split)
    model = EmotionModel()
    det = HaarDetector()
    margins = [float(m) for m in args.margins.split(",")]
    raw = model.predict_batched(x).argmax(1)
    found_idx, boxes, frames, rel = [], [], [], []
    for i, face in enumerate(x):
        frame, true = embed(face)
        box = det.detect_in_tile(frame, np.array([0, 0, frame.shape[1], frame.shape[0]]))
        if box[2] > 0:
            found_idx.append(i)
            boxes.append(box)
            frames.append(frame)
            rel.append([(box[0] - true[0]) / true[2], (box[1] - true[1]) / true[3],
                        box[2] / true[2], box[3] / true[3]])
    found_idx = np.array(found_idx)
    rel = np.array(rel)
    out = {"n": len(x), "haar_found": len(found_idx),
           "raw_accuracy": float((raw == y).mean()),
           "raw_accuracy_on_found": float((raw[found_idx] == y[found_idx]).mean()),
           "haar_box_vs_fer_crop": {"dx": float(np.median(rel[:, 0])),
                                    "dy": float(np.median(rel[:, 1])),
                                    "w": float(np.median(rel[:, 2])),
                                    "h": float(np.median(rel[:, 3]))},
           "haar_path_accuracy": {}}
    for m in margins:
        crops = np.stack([crop_faces(f, b[None], margin=m)[0] for f, b in zip(frames, boxes)])
        pred = model.predict_batched(crops).argmax(1)
        out["haar_path_accuracy"][str(m)] = float((pred == y[found_idx]).mean())
    print(json.dumps(out, indent=2))
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "crop_framing.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
