"""What the Haar search per tile costs and finds, for the shipped settings and cheaper ones.

FER-2013 validation faces (48x48) are scaled to a fraction of a 16:9 tile's height and placed in
the tile (a replicated border, as a webcam picture around the face), at four tile sizes: 135
pixels (a 49-tile 1080p gallery), 300 and 540 pixels. Each setting of
:class:`fer_desktop.analysis.haar.HaarDetector` searches every tile on one thread; reported per tile
size: milliseconds per tile, the share of faces found (and of those, on the face: IoU >= 0.5
with the placed face), the share of tiles without a face (pieces of scikit-image's sample
pictures without people) where a face is reported, and the runtime model's accuracy on the
faces found (through :func:`fer_desktop.analysis.faces.crop_faces`). The table shows "ms, % found on
the face / % of empty tiles with a false face".

    uv run --group dev python benchmarks/haar_bench.py [--n 1200] [--data ../shared/data/fer2013_train_val.npz]

Writes ``benchmarks/results/haar.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.training.evaluate import load_split
from fer_desktop.analysis.boxes import iou as boxes_iou
from fer_desktop.analysis.boxes import to_frame
from fer_desktop.analysis.faces import NO_FACE, crop_faces
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.runtime import configure

#: (tile height in pixels, face side as a fraction of it)
TILES = ((135, 0.3), (135, 0.45), (300, 0.3), (540, 0.4))


class HalfSizeDetector(HaarDetector):
    """The search split by octaves: faces under 48 pixels (of the searched copy) on the tile,
    larger ones on copies of half, a quarter... the size. OpenCV's cascade steps 2 pixels of its
    scaled image below a scale of 2 and 1 pixel above, so each octave keeps the coarser step;
    raw hits of all octaves are grouped together (``groupRectangles``, eps 0.2)."""

    def best_in_tile(self, gray: np.ndarray, tile: np.ndarray) -> np.ndarray:
        crop, s = self.search_copy(gray, tile)
        if crop.size == 0:
            return NO_FACE.copy()
        side = max(20, int(self.min_face_frac * crop.shape[0]))
        rects, weights, level, f = [], [], crop, 1
        while level.shape[0] >= 24:
            lo, hi = max(24, int(np.ceil(side / f))), min(47, level.shape[0])
            if lo <= hi:
                r, _, wt = self.cascade.detectMultiScale3(
                    level, scaleFactor=self.scale_factor, minNeighbors=0, minSize=(lo, lo),
                    maxSize=(hi, hi), outputRejectLevels=True)
                if len(r):
                    rects.append(np.asarray(r) * f)
                    weights.append(np.ravel(wt))
            level = cv2.resize(level, (level.shape[1] // 2, level.shape[0] // 2),
                               interpolation=cv2.INTER_AREA)
            f *= 2
        if not rects:
            return NO_FACE.copy()
        raw, wts = np.concatenate(rects).astype(np.int32), np.concatenate(weights)
        grouped, _ = cv2.groupRectangles(raw.tolist(), self.min_neighbors, 0.2)
        best, best_w = None, -np.inf
        for g in np.asarray(grouped).reshape(-1, 4):
            d = 0.1 * (np.minimum(raw[:, 2], g[2]) + np.minimum(raw[:, 3], g[3]))
            near = ((np.abs(raw[:, 0] - g[0]) <= d) & (np.abs(raw[:, 1] - g[1]) <= d)
                    & (np.abs(raw[:, 0] + raw[:, 2] - g[0] - g[2]) <= d)
                    & (np.abs(raw[:, 1] + raw[:, 3] - g[1] - g[3]) <= d))
            if near.any() and wts[near].max() > best_w:
                best, best_w = g, wts[near].max()
        if best is None:
            return NO_FACE.copy()
        return to_frame(best, tile, s)


_CASCADES = Path(cv2.data.haarcascades)
_DEFAULT = str(_CASCADES / "haarcascade_frontalface_default.xml")
_ALT = str(_CASCADES / "haarcascade_frontalface_alt.xml")
SETTINGS = {
    "shipped: frontalface_alt2, step 1.15, tiles at 128-160 px": (HaarDetector, {}),
    "alt2, step 1.2": (HaarDetector, {"scale_factor": 1.2}),
    "alt2, step 1.25": (HaarDetector, {"scale_factor": 1.25}),
    "alt2, tiles at 120 px": (HaarDetector, {"max_tile_h": 120, "min_tile_h": 120}),
    "alt2, large faces on half-size copies": (HalfSizeDetector, {}),
    "frontalface_default (before), step 1.15": (HaarDetector, {"cascade_path": _DEFAULT}),
    "default, step 1.2": (HaarDetector, {"cascade_path": _DEFAULT, "scale_factor": 1.2}),
    "default, step 1.25": (HaarDetector, {"cascade_path": _DEFAULT, "scale_factor": 1.25}),
    "frontalface_alt, step 1.15": (HaarDetector, {"cascade_path": _ALT}),
}


def place(face: np.ndarray, tile_h: int, frac: float, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """A ``(tile_h, 16/9 tile_h) uint8`` grey tile with ``face`` scaled to ``frac`` of its
    height, somewhere in its middle, the border replicated and lightly blurred; and the face's
    box (xywh, pixels)."""
    f = int(tile_h * frac)
    big = cv2.resize(face, (f, f), interpolation=cv2.INTER_CUBIC if f > 48 else cv2.INTER_AREA)
    tw = int(tile_h * 16 / 9)
    top = int(rng.uniform(0.1, 0.9) * (tile_h - f))
    left = int(rng.uniform(0.3, 0.7) * (tw - f))
    tile = cv2.copyMakeBorder(big, top, tile_h - f - top, left, tw - f - left,
                              cv2.BORDER_REPLICATE)
    return cv2.GaussianBlur(tile, (0, 0), 0.7), np.array([left, top, f, f])


#: scikit-image's sample pictures without a human face (the negatives)
NEGATIVES = ("brick", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass", "gravel",
             "horse", "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina",
             "rocket", "text")


def negatives(tile_h: int, per_image: int = 25) -> list[np.ndarray]:
    """Grey 16:9 tiles ``tile_h`` pixels high cut at random from pictures without a face."""
    import skimage.data

    rng = np.random.default_rng(tile_h)
    out = []
    for name in NEGATIVES:
        img = np.asarray(getattr(skimage.data, name)())
        if img.ndim == 3:
            img = cv2.cvtColor(img[..., :3].astype(np.uint8), cv2.COLOR_RGB2GRAY)
        img = img.astype(np.uint8)
        h, w = img.shape
        for _ in range(per_image):
            ch = int(rng.uniform(0.3, 1.0) * min(h, w * 9 / 16))
            cw = int(ch * 16 / 9)
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            out.append(cv2.resize(img[y:y + ch, x:x + cw], (int(tile_h * 16 / 9), tile_h),
                                  interpolation=cv2.INTER_AREA))
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xywh boxes."""
    return float(boxes_iou(a, b)[0, 0])


def main() -> int:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" /
                                          "fer2013_train_val.npz"))
    ap.add_argument("--n", type=int, default=1200, help="validation faces drawn at random")
    ap.add_argument("--only", help="run the settings whose name contains this")
    args = ap.parse_args()
    x, y = load_split(args.data, "val")
    idx = np.random.default_rng(0).choice(len(x), min(args.n, len(x)), replace=False)
    model = EmotionModel()
    tiles = {t: [place(x[i], *t, np.random.default_rng(int(i))) for i in idx] for t in TILES}
    empty = {h: negatives(h) for h in sorted({t[0] for t in TILES})}
    results = {}
    for name, (cls, kw) in SETTINGS.items():
        if args.only and args.only not in name:
            continue
        det = cls(**kw)
        results[name] = {}
        for t in TILES:
            imgs, truth = [im for im, _ in tiles[t]], [b for _, b in tiles[t]]
            t0 = time.perf_counter()
            boxes = [det.best_in_tile(im, np.array([0, 0, im.shape[1], im.shape[0]]))
                     for im in imgs]
            ms = (time.perf_counter() - t0) * 1000 / len(imgs)
            found = [k for k, b in enumerate(boxes) if b[2] > 0]
            on_face = sum(iou(boxes[k], truth[k]) >= 0.5 for k in found)
            wrong = sum(det.best_in_tile(im, np.array([0, 0, im.shape[1], im.shape[0]]))[2] > 0
                        for im in empty[t[0]])
            acc = float("nan")
            if found:
                crops = np.stack([crop_faces(imgs[k], boxes[k][None])[0] for k in found])
                acc = float((model.predict_batched(crops).argmax(1) == y[idx][found]).mean())
            results[name][f"{t[0]}px, face {t[1]:.2f}"] = {
                "ms_per_tile": round(ms, 2), "found": round(len(found) / len(imgs), 4),
                "found_on_the_face": round(on_face / len(imgs), 4),
                "false_faces": round(wrong / len(empty[t[0]]), 4),
                "accuracy_on_found": round(acc, 4)}
        print(name, results[name], flush=True)
    cols = list(next(iter(results.values())))
    print("\n| setting | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for name, r in results.items():
        print(f"| {name} | " + " | ".join(
            f"{v['ms_per_tile']:.1f} ms, {100 * v['found_on_the_face']:.1f} % / "
            f"{100 * v['false_faces']:.1f} %" for v in r.values())
            + " |")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "haar.json").write_text(json.dumps(
        {"n": len(idx), "threads": 1, "settings": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
