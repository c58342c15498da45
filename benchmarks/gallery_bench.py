"""Tile precision and recall of ``find_tiles`` on the generated meeting corpus
(:mod:`testing.meetings`): Zoom, Meet and Teams, dark and light, galleries of 1..49 tiles,
speaker views, shared screens, side panels, active-speaker borders, camera-off tiles, 720p to 4K,
high-DPI scales, a third JPEG-compressed.

    uv run --group dev python benchmarks/gallery_bench.py [--n 240] [--failures DIR]

A found tile is correct when it overlaps a true tile with IoU >= 0.9 (one-to-one). Also scores
the camera-off state of the matched tiles. Prints a Markdown table per slice and writes
``benchmarks/results/gallery.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.gallery import find_tiles
from testing.meetings import (
    App, MeetingSpec, View, corpus, iou, render, tile_matches)
from testing.synthetic import sample_faces
from fer_desktop.analysis.tiles import camera_off_mask
from fer_desktop.runtime import configure


def dense_low_res(faces, min_iou: float) -> dict:
    """Precision and recall on the hardest galleries: 30, 36, 42 and 49 tiles at 1280x720 and
    1366x768 through JPEG quality 60 and 75, every app, dark and light (96 screenshots), where
    tiles are small and gaps thin."""
    tot = np.zeros(3, np.int64)
    for app in App:
        for dark in (True, False):
            for n in (30, 36, 42, 49):
                for q in (60, 75):
                    for size in ((1280, 720), (1366, 768)):
                        spec = MeetingSpec(app, View.GALLERY, dark, n, size, jpeg=q, seed=n + q)
                        img, truth = render(spec, faces)
                        tot += tile_matches(find_tiles(img).boxes, truth.tiles, min_iou)
    tp, fp, fn = (int(v) for v in tot)
    return {"screenshots": 96, "true_tiles": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn)}


def main() -> int:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-iou", type=float, default=0.9)
    ap.add_argument("--failures", help="write the frames with errors here, with boxes drawn")
    args = ap.parse_args()
    faces = sample_faces()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    state = [0, 0, 0, 0]  # off->off, off->on, on->off, on->on
    times = []
    failures = []
    for spec in corpus(args.n, args.seed):
        img, truth = render(spec, faces)
        t0 = time.perf_counter()
        tiles = find_tiles(img)
        times.append(time.perf_counter() - t0)
        tp, fp, fn = tile_matches(tiles.boxes, truth.tiles, args.min_iou)
        keys = ["all", spec.app.value, "dark" if spec.dark else "light", spec.view.value,
                f"{spec.size[0]}x{spec.size[1]}", "jpeg" if spec.jpeg else "lossless"]
        if spec.panel:
            keys.append("side panel")
        if spec.speaking >= 0:
            keys.append("active speaker")
        for k in keys:
            t = totals[k]
            t[0] += tp
            t[1] += fp
            t[2] += fn
        # camera-off state of the true tiles that were found
        m = iou(truth.tiles, tiles.boxes)
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        off = camera_off_mask(gray, tiles.boxes)
        for j in range(len(truth.tiles)):
            if m.shape[1] and m[j].max() >= args.min_iou:
                k = int(np.argmax(m[j]))
                state[(0 if not truth.occupied[j] else 2) + (0 if off[k] else 1)] += 1
        if fp or fn:
            failures.append({"spec": spec.name, "tp": tp, "fp": fp, "fn": fn})
            if args.failures:
                out = img.copy()
                for x, y, w, h in truth.tiles:
                    cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (0, 255, 0), 2)
                for x, y, w, h in tiles.boxes:
                    cv2.rectangle(out, (int(x), int(y)), (int(x + w), int(y + h)), (0, 0, 255), 1)
                Path(args.failures).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(Path(args.failures) / f"{spec.seed:03d}-{spec.name}.jpg"), out)
    rows = []
    print(f"| slice | true tiles | precision | recall |  (IoU >= {args.min_iou}, "
          f"{args.n} layouts)")
    print("|---|---|---|---|")
    for k, (tp, fp, fn) in totals.items():
        p = tp / max(1, tp + fp)
        r = tp / max(1, tp + fn)
        rows.append({"slice": k, "true_tiles": tp + fn, "tp": tp, "fp": fp, "fn": fn,
                     "precision": p, "recall": r})
        print(f"| {k} | {tp + fn} | {100 * p:.2f} % | {100 * r:.2f} % |")
    off_off, off_on, on_off, on_on = state
    print(f"\ncamera off: {off_off} of {off_off + off_on} camera-off tiles recognised; "
          f"{on_off} of {on_off + on_on} camera-on tiles wrongly called camera off")
    print(f"find_tiles: median {1000 * statistics.median(times):.1f} ms, "
          f"max {1000 * max(times):.1f} ms per frame")
    for f in failures:
        print("failure:", f)
    dense = dense_low_res(faces, args.min_iou)
    print(f"dense galleries (30-49 tiles) at 1280x720 and 1366x768 through JPEG 60/75: "
          f"{dense['true_tiles']} tiles, precision {100 * dense['precision']:.2f} %, "
          f"recall {100 * dense['recall']:.2f} %")
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "gallery.json").write_text(json.dumps({
        "layouts": args.n, "min_iou": args.min_iou, "slices": rows,
        "camera_off": {"off_found": off_off, "off_missed": off_on, "on_called_off": on_off,
                       "on_ok": on_on},
        "find_tiles_ms": {"median": 1000 * statistics.median(times), "max": 1000 * max(times)},
        "failures": failures, "dense_low_res_jpeg": dense}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
