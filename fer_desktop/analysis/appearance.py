"""How a student looks, to know them again when they come back: a signature of the face and of
what surrounds it, robust to the tile's scale and place. Qt-free.

No face-recognition network whose weights may be shipped could be obtained here (OpenCV's SFace
weights live in Git LFS; every PyPI package found downloads them at run time), so the signature
is made of two classic parts that tell the people of one class apart within one session, where
lighting, camera, clothes and background stay the same:

* the **face**: the eye-aligned crop (:func:`fer_desktop.analysis.faces.align_faces`, which
  removes scale, place and tilt), reduced to 24x24 grey levels, blurred, zero mean, unit norm;
  compared by correlation;
* the **look**: hue-saturation-value histograms (12 x 3 x 3 bins, Swain & Ballard, "Color
  Indexing", IJCV 1991) of what surrounds the face, in two parts: above the mouth (hair, the
  wall behind) and below it (clothes); the region is the tile's picture (its name label left
  out) for a face in a tile, else the face box grown a face width to each side, from half a face
  above to three below; compared by the Bhattacharyya distance (as ``cv2.compareHist``'s
  ``HISTCMP_BHATTACHARYYA``).

:func:`distance` combines both; :data:`SAME` is the largest distance at which two signatures are
taken for one person (chosen on the lessons of ``benchmarks/identity_bench.py``: rescaled,
reflowed and re-captured galleries of real screenshots; other people of the same class stay far
above it).
"""

from __future__ import annotations

import numpy as np

from fer_desktop.analysis.boxes import as_boxes
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.faces import Faces, face_crops

FACE_SIDE = 24
BINS = (12, 3, 3)  # hue, saturation, value
LOOK = BINS[0] * BINS[1] * BINS[2]
#: Length of a signature: the face's grey levels, then the look's two histograms.
SIZE = FACE_SIDE * FACE_SIDE + 2 * LOOK
#: Size (w, h) of a card's drawing in a tile signature (as many values as the face part).
CARD = (2 * FACE_SIDE, FACE_SIDE // 2)
#: Largest :func:`distance` at which two signatures are one person.
SAME = 0.2


def signatures(image: np.ndarray, faces: Faces, tiles: np.ndarray | None = None) -> np.ndarray:
    """The signatures of ``faces`` in a BGR ``image``.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame.
    faces : Faces
        Its faces (landmarks make the face part scale- and tilt-free; without them the box
        crop is used).
    tiles : np.ndarray, optional
        ``(t, 4)`` tiles: the look of a face in a tile (``faces.tile``) stops at the tile's
        edge (the next tile is someone else).

    Returns
    -------
    np.ndarray
        ``(n, SIZE) float32``.
    """
    n = len(faces)
    out = np.zeros((n, SIZE), np.float32)
    if n == 0:
        return out
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    crops = face_crops(gray, faces, align=True, zoom=1.1)
    H, W = image.shape[:2]
    for i in range(n):
        small = cv2.resize(crops[i], (FACE_SIDE, FACE_SIDE), interpolation=cv2.INTER_AREA)
        v = cv2.GaussianBlur(small.astype(np.float32), (0, 0), 1.0).ravel()
        v -= v.mean()
        out[i, :FACE_SIDE ** 2] = v / max(1e-6, float(np.linalg.norm(v)))
        x, y, w, h = (float(c) for c in faces.boxes[i])
        x0, y0, x1, y1 = x - w, y - 0.5 * h, x + 2 * w, y + 3 * h
        t = int(faces.tile[i])
        if tiles is not None and 0 <= t < len(tiles):  # the camera's whole picture, but the label
            tx, ty, tw, th = (float(c) for c in as_boxes(tiles)[t])
            x0, y0, x1, y1 = tx, ty, tx + tw, ty + 0.84 * th
        x0, y0 = int(max(0, x0)), int(max(0, y0))
        x1, y1 = int(min(W, x1)), int(min(H, y1))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        part = image[y0:y1, x0:x1]
        scale = min(1.0, 96.0 / max(part.shape[:2]))  # the histograms of a small copy
        if scale < 1.0:
            part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(part, cv2.COLOR_BGR2HSV)
        cut = int(round((y + 0.75 * h - y0) * scale))  # the mouth's height: hair above, clothes below
        cut = min(max(cut, 1), hsv.shape[0] - 1)
        for j, half in enumerate((hsv[:cut], hsv[cut:])):
            hist = cv2.calcHist([half], [0, 1, 2], None, list(BINS), [0, 180, 0, 256, 0, 256])
            start = FACE_SIDE ** 2 + j * LOOK
            out[i, start:start + LOOK] = (hist / max(1.0, float(hist.sum()))).ravel()
    return out


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m) float32`` distance of signatures ``a`` ``(n, SIZE)`` and ``b`` ``(m, SIZE)``: the
    mean of the face part's ``(1 - correlation) / 2`` (0..1) and the look's Bhattacharyya
    distance (0..1, the mean of its two parts); 0 for the same picture."""
    a = np.asarray(a, np.float32).reshape(-1, SIZE)
    b = np.asarray(b, np.float32).reshape(-1, SIZE)
    k = FACE_SIDE ** 2
    face = np.clip((1.0 - a[:, :k] @ b[:, :k].T) / 2.0, 0.0, 1.0)
    ra, rb = np.sqrt(np.clip(a[:, k:], 0, None)), np.sqrt(np.clip(b[:, k:], 0, None))
    look = 0.0
    for j in range(2):  # Bhattacharyya coefficients as products of square roots
        sl = slice(j * LOOK, (j + 1) * LOOK)
        look = look + np.sqrt(np.clip(1.0 - ra[:, sl] @ rb[:, sl].T, 0.0, 1.0)) / 2.0
    return ((face + look) / 2.0).astype(np.float32)


def tile_signature(image: np.ndarray, tile) -> np.ndarray:
    """The signature of a tile where no face was found (a camera-off card, a profile photo, a
    student turned away): instead of a face, what is drawn on the card (the pixels that differ
    from the card's commonest colour, cut to their extent, so the same card at another size
    gives the same drawing: Zoom's name in large letters, Meet's initials, the photo), and the
    look of the whole tile. ``(SIZE,) float32``; cards alike in drawing and colours (the same
    initials) stay too close to tell apart, and :meth:`Roster.reidentify` then refuses.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame.
    tile : array-like
        ``(4,)`` xywh tile box, frame pixels.
    """
    out = np.zeros(SIZE, np.float32)
    x, y, w, h = (int(v) for v in as_boxes(tile)[0])
    H, W = image.shape[:2]
    part = image[max(0, y):min(H, y + int(0.84 * h)), max(0, x):min(W, x + w)]
    if part.shape[0] < 4 or part.shape[1] < 4:
        return out
    scale = min(1.0, 128.0 / max(part.shape[:2]))
    if scale < 1.0:
        part = cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(part, cv2.COLOR_BGR2GRAY).astype(np.float32)
    ink = np.abs(gray - float(np.median(gray))) > 24
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if len(rows) >= 2 and len(cols) >= 2:
        drawing = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        v = cv2.GaussianBlur(cv2.resize(drawing, CARD, interpolation=cv2.INTER_AREA),
                             (0, 0), 0.7).ravel()  # a word is wide: 48x12
        v -= v.mean()
        out[:FACE_SIDE ** 2] = v / max(1e-6, float(np.linalg.norm(v)))
    hsv = cv2.cvtColor(part, cv2.COLOR_BGR2HSV)
    cut = hsv.shape[0] // 2
    for j, half in enumerate((hsv[:cut], hsv[cut:])):
        hist = cv2.calcHist([half], [0, 1, 2], None, list(BINS), [0, 180, 0, 256, 0, 256])
        start = FACE_SIDE ** 2 + j * LOOK
        out[start:start + LOOK] = (hist / max(1.0, float(hist.sum()))).ravel()
    return out
