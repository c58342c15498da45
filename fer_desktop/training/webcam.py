"""Training faces made to look like the faces the app sees: webcam pictures sent through a video
call, scaled into a gallery tile and cut out of a screen capture by a Haar face box.

FER-2013's faces are registered 48x48 crops of photographs. In the app a face reaches the model
after (1) a Haar cascade's box, which frames it a little differently each time; (2) a small
picture: a 1080p gallery of 49 tiles gives a face 40-70 pixels high, and a participant's video
sent as a 180p or 90p thumbnail has fewer pixels still; (3) the call's video compression
(H.264 at a low bit rate: 8x8 and 4x4 blocks, lost detail, smoothing by the deblocking filter);
(4) the camera's noise. :func:`degrade` imitates all four cheaply enough for a training pipeline
(about 20 µs a face); ``testing/webcam.py`` sends faces through real H.264 for the benchmark
(``benchmarks/webcam_bench.py``), which is how this imitation was checked.

Only NumPy and OpenCV: no TensorFlow, so the benchmark and the tests use it without training.
"""

from __future__ import annotations

import numpy as np

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.labels import FACE_SIZE

#: Ranges of the random degradation, per face (uniform in each range).
#: ``scale``: side of the face box against FER-2013's crop; ``shift``: its centre's offset as a
#: fraction of the side (Haar's boxes vary by about this much from frame to frame);
#: ``pixels``: the face's size in the captured frame; ``noise``: camera noise, grey levels
#: (standard deviation); ``quality``: JPEG quality, standing in for the call's codec;
#: ``blur``: Gaussian sigma in pixels of the small picture (the codec's deblocking filter).
RANGES = {"scale": (0.88, 1.15), "shift": (-0.07, 0.07), "pixels": (26, 48),
          "noise": (0.0, 4.0), "quality": (20, 75), "blur": (0.0, 0.7)}


def degrade(faces: np.ndarray, rng: np.random.Generator, p: float = 1.0,
            ranges: dict | None = None) -> np.ndarray:
    """A copy of ``faces`` in which a share ``p`` of them went through a webcam and a call.

    Each chosen face is re-framed (a square box of ``scale`` times the crop's side, its centre
    moved by ``shift``; the border is reflected), reduced to ``pixels`` pixels a side (area
    averaging), given camera noise, JPEG-compressed at ``quality``, blurred by ``blur``, and
    resized back to 48x48 with area averaging, as the app's :func:`~fer_desktop.analysis.faces.
    crop_faces` does.

    Parameters
    ----------
    faces : np.ndarray
        ``(N, 48, 48) uint8`` grey faces.
    rng : np.random.Generator
        The source of randomness (a seeded generator gives the same faces again).
    p : float
        Share of the faces to degrade, 0..1; the others are copied unchanged.
    ranges : dict, optional
        Replaces entries of :data:`RANGES`.

    Returns
    -------
    np.ndarray
        ``(N, 48, 48) uint8``.

    Raises
    ------
    ValueError
        If ``faces`` is not ``(N, 48, 48)`` or ``p`` is outside 0..1.
    """
    faces = np.asarray(faces)
    if faces.ndim != 3 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE):
        raise ValueError(f"faces must be (N, 48, 48), not {faces.shape}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in 0..1, not {p}")
    r = {**RANGES, **(ranges or {})}
    out = faces.astype(np.uint8, copy=True)
    n = len(out)
    chosen = np.flatnonzero(rng.random(n) < p)
    if not len(chosen):
        return out
    k = len(chosen)
    u = {name: rng.uniform(lo, hi, k) for name, (lo, hi) in r.items() if name != "shift"}
    shift = rng.uniform(*r["shift"], (k, 2))
    noise_field = rng.standard_normal((k, FACE_SIZE, FACE_SIZE)).astype(np.float32)
    half = FACE_SIZE / 2.0
    for j, i in enumerate(chosen):
        s = u["scale"][j]
        # output pixel (x, y) samples the source at centre + (x - half) * s + shift
        cx, cy = half + shift[j, 0] * FACE_SIZE, half + shift[j, 1] * FACE_SIZE
        m = np.array([[s, 0.0, cx - half * s], [0.0, s, cy - half * s]], np.float64)
        img = cv2.warpAffine(out[i], m, (FACE_SIZE, FACE_SIZE),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT_101)
        side = int(round(u["pixels"][j]))
        if side < FACE_SIZE:
            img = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
        noisy = img.astype(np.float32) + u["noise"][j] * noise_field[j, :side, :side]
        img = np.clip(noisy, 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(u["quality"][j])])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
        if u["blur"][j] > 0.05:
            img = cv2.GaussianBlur(img, (0, 0), float(u["blur"][j]))
        if side != FACE_SIZE:
            img = cv2.resize(img, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
        out[i] = img
    return out
