"""Time the ``fer`` package's own detector and classifier, ``FER(mtcnn=False).detect_emotions``,
on image files: run by ``speed_bench.py`` with a separate Python that has ``fer`` installed
(never fer-desktop's environment).

    /tmp/ferbench/bin/python benchmarks/fer_timing.py --repeats 3 a.png b.png ...

Prints one JSON object: per file, the median seconds per call (after one warm-up call), the
number of faces fer found, their boxes (xywh pixels) and top expressions.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    import cv2
    from fer.fer import FER

    detector = FER(mtcnn=False)
    out = {}
    for path in args.files:
        img = cv2.imread(path)
        faces = detector.detect_emotions(img)  # warm-up
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            detector.detect_emotions(img)
            runs.append(time.perf_counter() - t0)
        out[os.path.basename(path)] = {
            "s": statistics.median(runs), "faces": len(faces),
            "boxes": [[int(v) for v in f["box"]] for f in faces],
            "emotions": [max(f["emotions"], key=f["emotions"].get) for f in faces]}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
