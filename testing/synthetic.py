"""Synthetic video-call gallery screenshots with ground truth, for tests, benchmarks and demos.

A Zoom-like meeting window (title bar, dark gallery background, thin gaps, a partial last row
centred, a bottom toolbar) whose tiles hold real photographs of faces (camera on) or a name on a
plain background (camera off). The faces come from images that ship inside packages, never from a
download: matplotlib's ``grace_hopper.jpg`` and scikit-image's ``astronaut``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.cvutil import cv2

BACKGROUND = (26, 26, 26)  # BGR, Zoom's dark gallery background
TITLE_BAR = (232, 232, 232)
TOOLBAR = (36, 36, 36)
CAMERA_OFF = (48, 48, 48)
NAMES = ("Ada", "Ben", "Chloe", "Dev", "Emma", "Femi", "Gus", "Hana", "Ivan", "Jun", "Kofi",
         "Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Raj", "Sara", "Tom", "Uma", "Vic", "Wen",
         "Xavi", "Yara", "Zoe")


def sample_faces() -> list[np.ndarray]:
    """Real face photographs shipped inside packages, cropped to head and shoulders as a webcam
    frames them, as BGR ``(H, W, 3) uint8`` images.

    Raises
    ------
    ImportError
        If neither matplotlib nor scikit-image is installed (they are development dependencies).
    """
    faces = []
    try:
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            data = np.frombuffer(f.read(), np.uint8)
        faces.append(cv2.imdecode(data, cv2.IMREAD_COLOR)[:430])  # head and shoulders
    except ImportError:
        pass
    try:
        import skimage.data

        faces.append(cv2.cvtColor(skimage.data.astronaut()[:330, 50:420], cv2.COLOR_RGB2BGR))
    except ImportError:
        pass
    if not faces:
        raise ImportError("sample faces need matplotlib or scikit-image")
    return faces


@dataclass(frozen=True)
class GalleryTruth:
    """Ground truth of a synthetic gallery.

    Attributes
    ----------
    tiles : np.ndarray
        ``(n, 4) int32`` tile boxes, xywh in image pixels, row-major.
    occupied : np.ndarray
        ``(n,) bool``, True where the tile shows a face (camera on).
    names : tuple of str
        Name label of each tile.
    """

    tiles: np.ndarray
    occupied: np.ndarray
    names: tuple[str, ...]


def grid_layout(n: int, area: tuple[int, int, int, int], gap: int = 6,
                aspect: float = 16 / 9) -> np.ndarray:
    """Tile boxes of a gallery of ``n`` tiles in ``area`` (x, y, w, h): as many columns as
    ``ceil(sqrt(n))``, tiles as large as fit, the grid centred and a partial last row centred.
    Returns ``(n, 4) int32`` xywh."""
    ax, ay, aw, ah = area
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    tw = min((aw - gap * (cols + 1)) / cols, ((ah - gap * (rows + 1)) / rows) * aspect)
    tw = int(tw)
    th = int(tw / aspect)
    boxes = []
    y0 = ay + (ah - (rows * th + (rows - 1) * gap)) // 2
    for r in range(rows):
        k = min(cols, n - r * cols)
        x0 = ax + (aw - (k * tw + (k - 1) * gap)) // 2
        for c in range(k):
            boxes.append((x0 + c * (tw + gap), y0 + r * (th + gap), tw, th))
    return np.array(boxes, np.int32)


def _put_text(img, text, org, scale, colour, thickness=1) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def _face_tile(face: np.ndarray, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A tile of ``w x h`` showing ``face`` (a portrait) in front of a plain wall."""
    wall = rng.integers(70, 200, 3)
    tile = np.empty((h, w, 3), np.uint8)
    tile[:] = wall.astype(np.uint8)
    # slight vertical gradient, like a lit room
    grad = np.linspace(1.08, 0.9, h)[:, None, None]
    tile = np.clip(tile * grad, 0, 255).astype(np.uint8)
    scale = h * rng.uniform(1.0, 1.12) / face.shape[0]
    fw, fh = max(1, int(face.shape[1] * scale)), max(1, int(face.shape[0] * scale))
    f = cv2.resize(face, (fw, fh), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        f = f[:, ::-1]
    gain = rng.uniform(0.8, 1.15)
    f = np.clip(f.astype(np.float32) * gain + rng.uniform(-15, 15), 0, 255).astype(np.uint8)
    x = (w - fw) // 2 + int(rng.integers(-w // 10, w // 10 + 1))
    y = h - fh + int(rng.integers(0, max(1, fh // 20)))
    # paste with clipping
    sx0, sy0 = max(0, -x), max(0, -y)
    dx0, dy0 = max(0, x), max(0, y)
    cw, ch = min(fw - sx0, w - dx0), min(fh - sy0, h - dy0)
    if cw > 0 and ch > 0:
        tile[dy0:dy0 + ch, dx0:dx0 + cw] = f[sy0:sy0 + ch, sx0:sx0 + cw]
    return tile


def make_gallery(faces: list[np.ndarray], n_tiles: int, size: tuple[int, int] = (1920, 1080),
                 empty: tuple[int, ...] | list[int] = (), seed: int = 0,
                 chrome: bool = True, names: Sequence[str] | None = None
                 ) -> tuple[np.ndarray, GalleryTruth]:
    """Render a gallery-view screenshot.

    Parameters
    ----------
    faces : list of np.ndarray
        BGR portraits to place in the tiles (cycled, each randomly scaled, shifted, flipped and
        brightened).
    n_tiles : int
        1 to 49 tiles.
    size : tuple of int
        ``(width, height)`` of the screenshot, pixels.
    empty : sequence of int
        Indices of camera-off tiles (a name on a plain grey background, no face).
    seed : int
        Random seed.
    chrome : bool
        Draw the meeting window's title bar and toolbar around the gallery.
    names : sequence of str, optional
        ``n_tiles`` participants in tile order, each drawn the same way in every screenshot
        (face and wall follow the name); default: :data:`NAMES` in order, drawn at random.

    Returns
    -------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR screenshot.
    truth : GalleryTruth
    """
    if not 1 <= n_tiles <= 49:
        raise ValueError("n_tiles must be 1..49")
    rng = np.random.default_rng(seed)
    W, H = size
    img = np.empty((H, W, 3), np.uint8)
    img[:] = BACKGROUND
    top, bottom = (int(H * 0.03), int(H * 0.06)) if chrome else (0, 0)
    if chrome:
        img[:top] = TITLE_BAR
        _put_text(img, "Zoom Meeting", (W // 2 - 60, int(top * 0.7)), top / 40, (40, 40, 40))
        img[H - bottom:] = TOOLBAR
        for k, label in enumerate(("Mute", "Stop Video", "Participants", "Chat", "Share Screen",
                                   "Record", "Reactions")):
            cx = int(W * (0.12 + 0.11 * k))
            cv2.circle(img, (cx, H - int(bottom * 0.62)), max(3, bottom // 6), (200, 200, 200), 1)
            _put_text(img, label, (cx - 30, H - int(bottom * 0.18)), bottom / 160, (200, 200, 200))
        cv2.rectangle(img, (W - 130, H - bottom + 10), (W - 30, H - 12), (60, 60, 220), -1)
    pad = max(4, W // 240)
    area = (pad, top + pad, W - 2 * pad, H - top - bottom - 2 * pad)
    tiles = grid_layout(n_tiles, area, gap=max(4, W // 320))
    occupied = np.ones(n_tiles, bool)
    occupied[list(empty)] = False
    if names is not None and len(names) != n_tiles:
        raise ValueError("names must have n_tiles entries")
    fixed = names is not None
    names = tuple(names) if fixed else tuple(
        NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i}") for i in range(n_tiles))
    for i, (x, y, w, h) in enumerate(tiles):
        if occupied[i] and fixed:  # the same look for the same person in every screenshot
            key = zlib.crc32(names[i].encode())
            tile = _face_tile(faces[key % len(faces)], w, h, np.random.default_rng(key))
        elif occupied[i]:
            tile = _face_tile(faces[i % len(faces)], w, h, rng)
        else:
            tile = np.empty((h, w, 3), np.uint8)
            tile[:] = CAMERA_OFF
            s = h / 180
            _put_text(tile, names[i], (w // 2 - int(len(names[i]) * 9 * s), h // 2),
                      0.8 * s, (235, 235, 235), max(1, int(2 * s)))
        # name label, bottom left, as video-call apps draw it
        lh = max(12, h // 10)
        cv2.rectangle(tile, (0, h - lh), (min(w - 1, int(lh * 0.6 * len(names[i])) + 8), h - 1),
                      (30, 30, 30), -1)
        _put_text(tile, names[i], (4, h - lh // 4), lh / 32, (255, 255, 255))
        img[y:y + h, x:x + w] = tile
    return img, GalleryTruth(tiles, occupied, names)


@dataclass(frozen=True)
class RoomTruth:
    """Ground truth of a synthetic room-camera frame.

    Attributes
    ----------
    faces : np.ndarray
        ``(n, 4) int32`` face boxes (hairline to chin), xywh in image pixels, one per person in
        the order the people were given; ``-1`` rows for people hidden in this frame.
    """

    faces: np.ndarray


def room_people(n: int, size: tuple[int, int] = (1920, 1080), seed: int = 0) -> np.ndarray:
    """Where ``n`` students sit in a classroom seen from the front by a webcam: rows from the
    back (small faces, high in the frame) to the front (large, low), people spread along each
    row. ``(n, 3) float64`` rows ``cx, cy, face side`` in pixels of a ``size`` frame."""
    rng = np.random.default_rng(seed)
    W, H = size
    rows = max(1, int(round(math.sqrt(n / 2))))
    per = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
    out = []
    for r, k in enumerate(per):
        t = (r + 0.5) / rows  # 0 back .. 1 front
        side = H * (0.03 + 0.05 * t)
        cy = H * (0.3 + 0.5 * t)
        xs = np.linspace(0, 1, k + 2)[1:-1]
        for x in xs:
            out.append((W * (0.05 + 0.9 * x) + rng.uniform(-0.2, 0.2) * side,
                        cy + rng.uniform(-0.15, 0.15) * side, side))
    return np.array(out[:n], np.float64)


def _face_in(portrait: np.ndarray) -> tuple[float, float, float, float]:
    """The face box of a portrait, as fractions of its width and height (found once with the
    Haar cascade; the middle of the upper half when none is found)."""
    from fer_desktop.analysis.haar import HaarDetector

    gray = cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY)
    box = HaarDetector().best_in_tile(gray, np.array([0, 0, gray.shape[1], gray.shape[0]]))
    h, w = gray.shape
    if box[2] <= 0:
        return 0.3, 0.1, 0.4, 0.4
    return box[0] / w, box[1] / h, box[2] / w, box[3] / h


def make_room(faces: list[np.ndarray], people: np.ndarray, size: tuple[int, int] = (1920, 1080),
              hidden: Sequence[int] = (), seed: int = 0) -> tuple[np.ndarray, RoomTruth]:
    """Render a webcam frame of a classroom: a wall, desks, and each student's head and
    shoulders cut out of a sample portrait (a soft-edged silhouette, so that no photo's edge
    draws a rectangle), each student flipped and lit their own way.

    Parameters
    ----------
    faces : list of np.ndarray
        BGR portraits (:func:`sample_faces`), cycled over the students.
    people : np.ndarray
        ``(n, 3)`` rows ``cx, cy, face side`` (pixels) of each student's face
        (:func:`room_people`; move them between frames for a sequence).
    size : tuple of int
        ``(width, height)`` of the frame, pixels.
    hidden : sequence of int
        Students hidden behind someone walking past (a grey coat in front of their face).
    seed : int
        Seed of the room and of each student's look (keep it fixed over a sequence).

    Returns
    -------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame.
    truth : RoomTruth
    """
    W, H = size
    rng = np.random.default_rng(seed)
    img = np.empty((H, W, 3), np.uint8)
    wall = rng.integers(150, 210, 3)
    img[:] = wall.astype(np.uint8)
    img[: int(H * 0.12)] = np.clip(wall - 40, 0, 255).astype(np.uint8)  # a board at the top
    boxes = np.full((len(people), 4), -1, np.int32)
    fracs = [_face_in(f) for f in faces]
    order = np.argsort(people[:, 1], kind="stable")  # back rows first, the front covers them
    for i in order:
        cx, cy, side = people[i]
        k = i % len(faces)
        fx, fy, fw, fh = fracs[k]
        portrait = faces[k]
        scale = side / (fw * portrait.shape[1])
        pw, ph = max(1, int(portrait.shape[1] * scale)), max(1, int(portrait.shape[0] * scale))
        p = cv2.resize(portrait, (pw, ph), interpolation=cv2.INTER_AREA)
        look = np.random.default_rng(seed * 1000 + i)
        flip = look.random() < 0.5
        if flip:
            p = p[:, ::-1]
        p = np.clip(p.astype(np.float32) * look.uniform(0.85, 1.15) + look.uniform(-12, 12),
                    0, 255).astype(np.uint8)
        fxx = (1 - fx - fw) if flip else fx
        x0 = int(round(cx - (fxx + fw / 2) * pw))
        y0 = int(round(cy - (fy + fh / 2) * ph))
        # the silhouette: head (an ellipse round the face) and shoulders (a wider one below)
        mask = np.zeros((ph, pw), np.float32)
        fcx, fcy = (fxx + fw / 2) * pw, (fy + fh / 2) * ph
        cv2.ellipse(mask, (int(fcx), int(fcy)), (int(0.8 * side), int(1.05 * side)), 0, 0, 360,
                    1.0, -1)
        cv2.ellipse(mask, (int(fcx), int(fcy + 2.0 * side)), (int(1.7 * side), int(1.2 * side)),
                    0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, side / 12))[..., None]
        sx0, sy0 = max(0, -x0), max(0, -y0)
        dx0, dy0 = max(0, x0), max(0, y0)
        cw, ch = min(pw - sx0, W - dx0), min(ph - sy0, H - dy0)
        if cw > 0 and ch > 0:
            m = mask[sy0:sy0 + ch, sx0:sx0 + cw]
            dst = img[dy0:dy0 + ch, dx0:dx0 + cw].astype(np.float32)
            img[dy0:dy0 + ch, dx0:dx0 + cw] = (m * p[sy0:sy0 + ch, sx0:sx0 + cw]
                                               + (1 - m) * dst).astype(np.uint8)
        # a desk in front of the student
        dy = int(cy + 1.6 * side)
        cv2.rectangle(img, (int(cx - 1.6 * side), dy), (int(cx + 1.6 * side), int(dy + side)),
                      (60, 90, 140), -1)
        if i in hidden:
            cv2.rectangle(img, (int(cx - side), int(cy - side)), (int(cx + side), int(cy + side)),
                          (90, 90, 90), -1)
        else:
            boxes[i] = (round(x0 + fxx * pw), round(y0 + fy * ph), round(fw * pw), round(fh * ph))
    return img, RoomTruth(boxes)
