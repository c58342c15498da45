"""Synthetic meeting screenshots whose tiles the background between cells cannot find: cells
that touch on black (Google Meet's tiled view, BigBlueButton's webcam dock) and thumbnails drawn
over the speaker's video (Nextcloud Talk's speaker view), with ground truth. For
:mod:`fer_desktop.analysis.lattice`'s tests.

Faces come from :func:`testing.synthetic.sample_faces` (images shipped inside packages).
"""

from __future__ import annotations

import math

import numpy as np

from fer_desktop.analysis.cvutil import cv2
from testing.synthetic import NAMES, GalleryTruth, _face_tile

#: Meet's mute icon: a red disc (BGR).
MUTE_RED = (40, 50, 215)
#: The colours of initials discs (BGR).
DISC_COLOURS = ((120, 200, 150), (200, 140, 70), (90, 120, 230), (170, 90, 160))


def _name(i: int) -> str:
    return NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i // len(NAMES) + 1}")


def _label(tile: np.ndarray, name: str, muted: bool, centred: bool = False) -> None:
    """A name in white with a dark shadow at the tile's bottom left (Meet) or bottom centre
    (Nextcloud Talk), after a red mute icon when ``muted``."""
    h, w = tile.shape[:2]
    lh = max(9, min(22, h // 8))
    fs = lh / 30
    (tw, _), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
    x0, y1 = max(3, w // 60), h - max(3, h // 30)
    if muted:
        r = lh // 2 + 1
        cv2.circle(tile, (x0 + r, y1 - r), r, MUTE_RED, -1, cv2.LINE_AA)
        cv2.line(tile, (x0 + r // 2, y1 - 2 * r + 2), (x0 + 3 * r // 2, y1 - 2), (255, 255, 255),
                 1, cv2.LINE_AA)
        x0 += 2 * r + 4
    if centred:
        x0 = max(2, (w - tw) // 2)
    org = (x0, y1 - int(lh * 0.25))
    cv2.putText(tile, name, (org[0] + 1, org[1] + 1), cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 0, 0), 2,
                cv2.LINE_AA)
    cv2.putText(tile, name, org, cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), 1, cv2.LINE_AA)


def _camera_off(w: int, h: int, name: str, face: np.ndarray | None, colour, k: int) -> np.ndarray:
    """A camera-off cell: a round profile photo of ``face`` (or, without one, a coloured disc
    with the initials) in the middle of a plain ``colour`` card."""
    tile = np.empty((h, w, 3), np.uint8)
    tile[:] = colour
    r = max(6, int(h * 0.3))
    if face is None:
        cv2.circle(tile, (w // 2, h // 2), r, DISC_COLOURS[k % len(DISC_COLOURS)], -1, cv2.LINE_AA)
        initials = "".join(p[0] for p in name.split()[:2]).upper()
        s = r / 26
        (tw, th), _ = cv2.getTextSize(initials, cv2.FONT_HERSHEY_SIMPLEX, s, max(1, int(2 * s)))
        cv2.putText(tile, initials, (w // 2 - tw // 2, h // 2 + th // 2),
                    cv2.FONT_HERSHEY_SIMPLEX, s, (255, 255, 255), max(1, int(2 * s)), cv2.LINE_AA)
        return tile
    side = 2 * r
    fh, fw = face.shape[:2]
    f = side / min(fh, fw)
    photo = cv2.resize(face, (max(side, round(fw * f)), max(side, round(fh * f))),
                       interpolation=cv2.INTER_AREA)
    py, px = (photo.shape[0] - side) // 3, (photo.shape[1] - side) // 2
    photo = photo[py:py + side, px:px + side]
    mask = np.zeros((side, side), np.uint8)
    cv2.circle(mask, (r, r), r, 255, -1, cv2.LINE_AA)
    a = (mask.astype(np.float32) / 255)[..., None]
    y0, x0 = h // 2 - r, w // 2 - r
    roi = tile[y0:y0 + side, x0:x0 + side].astype(np.float32)
    tile[y0:y0 + side, x0:x0 + side] = (a * photo + (1 - a) * roi).astype(np.uint8)
    return tile


def abutting_grid(faces: list[np.ndarray], n_tiles: int, size: tuple[int, int] = (1280, 800),
                  camera_off: tuple[int, ...] = (), avatars: tuple[int, ...] = (),
                  muted: tuple[int, ...] = (), seed: int = 0, jpeg: int = 0
                  ) -> tuple[np.ndarray, GalleryTruth]:
    """A Google-Meet-like tiled view whose cells touch on black: no gap, no border, camera-off
    cells as black as the background (Meet 2020), names in white at each cell's bottom left,
    a light toolbar at the bottom of the window.

    Parameters
    ----------
    faces : list of np.ndarray
        BGR portraits (:func:`testing.synthetic.sample_faces`), cycled over the cells.
    n_tiles : int
        1 to 100 cells: ``ceil(sqrt(n))`` columns of 16:9 cells, as large as fit, the grid
        centred, a partial last row centred.
    size : tuple of int
        ``(width, height)`` of the screenshot, pixels.
    camera_off : tuple of int
        Cells whose camera is off: an initials disc on a black card, or a round profile photo
        for those also in ``avatars``.
    muted : tuple of int
        Cells whose name follows a red mute icon.
    seed : int
    jpeg : int
        JPEG quality the screenshot is passed through, 0 for lossless.

    Returns
    -------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR screenshot.
    truth : GalleryTruth
        The cells (xywh, row-major), whether each shows a camera, the names.

    Raises
    ------
    ValueError
        If ``n_tiles`` is not in 1..100.
    """
    if not 1 <= n_tiles <= 100:
        raise ValueError("n_tiles must be 1..100")
    rng = np.random.default_rng(seed)
    W, H = size
    img = np.zeros((H, W, 3), np.uint8)
    bar = max(40, H // 10)
    img[H - bar:] = (255, 255, 255)
    for k in range(3):  # the toolbar's round buttons
        cv2.circle(img, (W // 2 + (k - 1) * bar, H - bar // 2), bar // 3, (60, 60, 220), -1,
                   cv2.LINE_AA)
    cols = math.ceil(math.sqrt(n_tiles))
    rows = math.ceil(n_tiles / cols)
    tw = int(min(W / cols, (H - bar) / rows * 16 / 9))
    th = int(tw * 9 / 16)
    y0 = (H - bar - rows * th) // 2
    boxes = []
    for r in range(rows):
        k = min(cols, n_tiles - r * cols)
        x0 = (W - k * tw) // 2
        boxes += [(x0 + c * tw, y0 + r * th, tw, th) for c in range(k)]
    occupied = np.ones(n_tiles, bool)
    occupied[[i for i in camera_off if i < n_tiles]] = False
    names = tuple(_name(i) for i in range(n_tiles))
    for i, (x, y, w, h) in enumerate(boxes):
        face = faces[i % len(faces)]
        if occupied[i]:
            tile = _face_tile(face, w, h, rng)
        else:
            tile = _camera_off(w, h, names[i], face if i in avatars else None, (0, 0, 0), i)
        _label(tile, names[i], i in muted)
        img[y:y + h, x:x + w] = tile
    if jpeg:
        _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img, GalleryTruth(np.array(boxes, np.int32), occupied, names)


def strip_over_speaker(faces: list[np.ndarray], n_strip: int, size: tuple[int, int] = (1920, 1080),
                       camera_off: tuple[int, ...] = (), seed: int = 0
                       ) -> tuple[np.ndarray, GalleryTruth]:
    """A Nextcloud-Talk-like speaker view: the speaker's video fills the call area between two
    side bars, and a row of ``n_strip`` thumbnails (4:3, their names centred at the bottom) is
    drawn over its bottom edge, the speaker's video showing in the gaps between them.

    Parameters
    ----------
    faces : list of np.ndarray
        BGR portraits, cycled: the speaker gets the first.
    n_strip : int
        Thumbnails, 1..8.
    size : tuple of int
        ``(width, height)`` of the screenshot, pixels.
    camera_off : tuple of int
        Thumbnails (0-based) whose camera is off: their name on a dark translucent card.
    seed : int

    Returns
    -------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR screenshot.
    truth : GalleryTruth
        The speaker's tile first, then the thumbnails left to right.

    Raises
    ------
    ValueError
        If ``n_strip`` is not in 1..8.
    """
    if not 1 <= n_strip <= 8:
        raise ValueError("n_strip must be 1..8")
    rng = np.random.default_rng(seed)
    W, H = size
    img = np.full((H, W, 3), 255, np.uint8)
    top = H // 20
    img[:top] = (200, 130, 0)  # the app's header bar
    left, right = W // 9, W - W // 5
    speaker = (left, top, right - left, H - top)
    sx, sy, sw, sh = speaker
    img[sy:sy + sh, sx:sx + sw] = _face_tile(faces[0], sw, sh, rng)
    th = sh // 6
    tw = th * 4 // 3
    gap = tw // 5
    x0 = sx + (sw - (n_strip * tw + (n_strip - 1) * gap)) // 2
    thumbs = [(x0 + i * (tw + gap), sy + sh - th, tw, th) for i in range(n_strip)]
    occupied = np.ones(n_strip, bool)
    occupied[[i for i in camera_off if i < n_strip]] = False
    names = tuple(_name(i + 1) for i in range(n_strip))
    for i, (x, y, w, h) in enumerate(thumbs):
        if occupied[i]:
            tile = _face_tile(faces[(i + 1) % len(faces)], w, h, rng)
        else:  # a translucent dark card over the speaker's video
            tile = (img[y:y + h, x:x + w].astype(np.uint16) // 4).astype(np.uint8)
        _label(tile, names[i], False, centred=True)
        img[y:y + h, x:x + w] = tile
    return img, GalleryTruth(np.array([speaker, *thumbs], np.int32),
                             np.concatenate([[True], occupied]), ("Speaker",) + names)
