"""Classify given face boxes with the ``fer`` package's own classifier,
``FER(mtcnn=False).detect_emotions(img, face_rectangles=...)``: run by ``real_faces_bench.py``
with a separate Python that has ``fer`` installed (never fer-desktop's environment).

    /tmp/ferbench/bin/python benchmarks/fer_classify.py boxes.json

``boxes.json``: ``{"path/to/image.png": [[x, y, w, h], ...], ...}`` (pixels). Prints one JSON
object: per file, the top expression of each box, in order.
"""

from __future__ import annotations

import json
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    logging.disable(logging.WARNING)
    import cv2
    from fer.fer import FER

    detector = FER(mtcnn=False)
    out = {}
    for path, boxes in json.loads(open(sys.argv[1]).read()).items():
        img = cv2.imread(path)
        labels = []
        for box in boxes:  # one call per box: fer drops a box it cannot resize
            faces = detector.detect_emotions(img, face_rectangles=[tuple(int(v) for v in box)])
            labels.append(max(faces[0]["emotions"], key=faces[0]["emotions"].get)
                          if faces else None)
        out[path] = labels
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
