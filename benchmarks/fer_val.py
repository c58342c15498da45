"""Classify FER-2013 validation faces with the ``fer`` package's own classifier: run by
``val_beside_fer.py`` with a separate Python that has ``fer`` installed (never fer-desktop's
environment).

    /tmp/ferbench/bin/python benchmarks/fer_val.py data.npz out.npz

Two ways, both on the ``(N, 48, 48) uint8`` faces of ``x_val``:

* ``direct``: each face resized to fer's 64x64 input with fer's normalisation (``x/255``, then
  ``(x-0.5)*2``) and given to fer's classifier (its default, an int8 LiteRT copy of its CNN):
  fer on the images it was trained on (the most favourable reading);
* ``detect``: ``FER(mtcnn=False).detect_emotions(face, face_rectangles=[(0, 0, 48, 48)])``, i.e.
  the whole image given as the face box, as a user of fer would (fer grows the box by its offsets
  and pads with the bottom rows' mean grey).

Writes ``out.npz`` with ``direct`` and ``detect``: ``(N, 7) float32`` softmax probabilities in
FER-2013 order (fer's label order is FER-2013's).
"""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    logging.disable(logging.WARNING)
    import cv2
    import numpy as np
    from fer.fer import FER

    with np.load(sys.argv[1]) as d:
        x = d["x_val"]
    fer = FER(mtcnn=False)  # fer's default classifier: its int8 LiteRT CNN (use_tflite=True)
    faces = np.stack([cv2.resize(f, (64, 64)) for f in x]).astype(np.float32)
    faces = (faces / 255.0 - 0.5) * 2.0
    direct = np.asarray(fer._classify_emotions(faces), np.float32)
    detect = np.zeros_like(direct)
    for i, f in enumerate(x):
        bgr = cv2.cvtColor(f, cv2.COLOR_GRAY2BGR)
        found = fer.detect_emotions(bgr, face_rectangles=[(0, 0, f.shape[1], f.shape[0])])
        if found:
            e = found[0]["emotions"]
            detect[i] = [e[k] for k in ("angry", "disgust", "fear", "happy", "sad", "surprise",
                                        "neutral")]
    np.savez(sys.argv[2], direct=direct.astype(np.float32), detect=detect.astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
