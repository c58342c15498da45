"""Synthetic meeting-window screenshots of Zoom, Google Meet and Microsoft Teams with ground truth:
the corpus the gallery detector is measured on.

:func:`render` draws one :class:`MeetingSpec`: the app's window (title bar, toolbar, an optional
chat/participants side panel) in a dark or light theme, at a high-DPI scale, holding

* a **gallery** of 1 to 49 equal tiles, the partial last row centred;
* a **speaker** view: one large tile and a strip of small ones (Zoom: strip on top; Meet: on the
  right; Teams: below);
* a **share**: a shared slide (not a tile) and a strip of thumbnails;

with each app's tile look (Meet and Teams round the corners), name labels, camera-off tiles (a
name or initials on a plain background), an active-speaker border (green or yellow) and, when
asked, the JPEG compression of a screen-shared video. Beyond the corpus, the layouts that real
screenshots showed: the active-speaker border drawn around the cell in the gap (Zoom), a 4:3
video pillarboxed in its 16:9 cell, cells and camera-off cards a few levels off the background,
tight grids with small gaps and rounded corners, a profile photo shown when a camera is off, the
meeting in a browser window on a light page, and a floating strip of thumbnails over a document
(:class:`MeetingSpec`'s last fields). :func:`corpus` lists a fixed, varied set of
specs and :func:`tile_matches` scores detected tiles against the truth (IoU).

The colours and proportions are approximations of the apps' 2024-25 looks, not copies; faces come
from :func:`testing.synthetic.sample_faces` (images shipped inside packages).
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.boxes import iou as boxes_iou
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.gallery import sort_row_major
from testing.synthetic import NAMES, GalleryTruth, _face_tile, grid_layout


class App(enum.Enum):
    ZOOM = "zoom"
    MEET = "meet"
    TEAMS = "teams"


class View(enum.Enum):
    GALLERY = "gallery"
    SPEAKER = "speaker"
    SHARE = "share"


@dataclass(frozen=True)
class Look:
    """Colours (BGR) and proportions (pixels at 100 % scaling) of one app in one theme."""

    background: tuple[int, int, int]
    title_bar: tuple[int, int, int]
    toolbar: tuple[int, int, int]
    panel: tuple[int, int, int]
    camera_off: tuple[int, int, int]
    text: tuple[int, int, int]
    gap: int
    radius: int
    toolbar_on_top: bool
    label_box: bool


LOOKS: dict[tuple[App, bool], Look] = {  # (app, dark) -> look
    (App.ZOOM, True): Look((26, 26, 26), (40, 40, 40), (36, 36, 36), (34, 34, 34), (46, 46, 46),
                           (235, 235, 235), 4, 0, False, True),
    (App.ZOOM, False): Look((238, 238, 238), (250, 250, 250), (246, 246, 246), (255, 255, 255),
                            (212, 212, 212), (30, 30, 30), 4, 0, False, True),
    (App.MEET, True): Look((36, 33, 32), (36, 33, 32), (36, 33, 32), (255, 255, 255),
                           (67, 64, 60), (232, 234, 237), 8, 10, False, False),
    (App.MEET, False): Look((250, 248, 248), (255, 255, 255), (250, 248, 248), (255, 255, 255),
                            (220, 216, 214), (32, 33, 36), 8, 10, False, False),
    (App.TEAMS, True): Look((31, 31, 31), (45, 41, 41), (41, 41, 41), (41, 41, 41), (51, 51, 51),
                            (255, 255, 255), 6, 6, True, True),
    (App.TEAMS, False): Look((245, 245, 245), (235, 229, 229), (255, 255, 255), (255, 255, 255),
                             (222, 222, 222), (36, 36, 36), 6, 6, True, True),
}

AVATAR_COLOURS = ((180, 105, 255), (208, 140, 70), (95, 160, 75), (60, 140, 220), (160, 90, 160))
SPEAKER_BORDERS = ((80, 200, 60), (0, 210, 250))  # green, yellow (BGR)


@dataclass(frozen=True)
class MeetingSpec:
    """One meeting screenshot to draw.

    Attributes
    ----------
    app, view : App, View
    dark : bool
        Dark theme (else light).
    n_tiles : int
        Participants shown (gallery: 1..49; speaker and share: the strip may show fewer).
    size : tuple of int
        ``(width, height)`` of the screenshot, pixels.
    scale : float
        High-DPI scaling (1.0, 1.25, 1.5, 2.0): chrome, gaps and labels grow with it.
    panel : bool
        An open chat/participants panel on the right.
    camera_off : tuple of int
        Participants whose camera is off.
    speaking : int
        Participant with the active-speaker border, -1 for none.
    jpeg : int
        JPEG quality the screenshot is passed through (a screen-shared video), 0 for lossless.
    seed : int
    names : tuple of str
        Participants in tile order (at least ``n_tiles``), each drawn the same way in every
        screenshot (face, wall, avatar colour follow the name), for sequences in which people
        join, leave and move; empty: the corpus names, drawn at random.
    border_outside : bool
        The active-speaker border is drawn around the cell, in the gap (Zoom), not inside it.
    letterbox : tuple of int
        Participants whose video is 4:3, centred in their 16:9 cell between bands of the cell
        colour.
    cell : tuple of int or None
        BGR colour of the cells behind narrow videos and of camera-off cards (default: the
        look's camera-off colour).
    gap, radius : int or None
        Gap between tiles and corner radius, pixels at 100 % (default: the look's).
    avatars : tuple of int
        Camera-off participants shown by a round profile photo (a face) on their card.
    window : str
        ``""``: the meeting fills the screen; ``"browser"``: it is drawn in a browser window on
        a light page; ``"ribbon"``: the screen is a document page with a floating strip of
        thumbnails (the participants) over it.
    """

    app: App = App.ZOOM
    view: View = View.GALLERY
    dark: bool = True
    n_tiles: int = 9
    size: tuple[int, int] = (1920, 1080)
    scale: float = 1.0
    panel: bool = False
    camera_off: tuple[int, ...] = ()
    speaking: int = -1
    jpeg: int = 0
    seed: int = 0
    names: tuple[str, ...] = ()
    border_outside: bool = False
    letterbox: tuple[int, ...] = ()
    cell: tuple[int, int, int] | None = None
    gap: int | None = None
    radius: int | None = None
    avatars: tuple[int, ...] = ()
    window: str = ""

    @property
    def name(self) -> str:
        """A short id: ``zoom-dark-gallery-25-1920x1080-s1.0-panel-q75``."""
        parts = [self.app.value, "dark" if self.dark else "light", self.view.value,
                 str(self.n_tiles), f"{self.size[0]}x{self.size[1]}", f"s{self.scale:g}"]
        if self.panel:
            parts.append("panel")
        if self.jpeg:
            parts.append(f"q{self.jpeg}")
        if self.window:
            parts.append(self.window)
        return "-".join(parts)


def _text(img, text, org, scale, colour, thickness=1) -> None:
    cv2.putText(img, text, (int(org[0]), int(org[1])), cv2.FONT_HERSHEY_SIMPLEX, scale, colour,
                max(1, int(thickness)), cv2.LINE_AA)


def _round_corners(img: np.ndarray, box, radius: int, colour) -> None:
    """Paint the four corners of ``box`` outside a rounded rectangle with ``colour``."""
    if radius <= 1:
        return
    x, y, w, h = box
    r = min(radius, w // 4, h // 4)
    mask = np.zeros((r, r), np.uint8)
    cv2.circle(mask, (r, r), r, 255, -1, cv2.LINE_AA)
    outside = mask < 128
    for flip_x, flip_y, cx, cy in ((False, False, x, y), (True, False, x + w - r, y),
                                   (False, True, x, y + h - r), (True, True, x + w - r, y + h - r)):
        m = outside[:, ::-1] if flip_x else outside
        m = m[::-1] if flip_y else m
        img[cy:cy + r, cx:cx + r][m] = colour


def _avatar_tile(w: int, h: int, face: np.ndarray, colour) -> np.ndarray:
    """A camera-off card showing a round profile photo: ``face`` in a disc in its middle."""
    tile = np.empty((h, w, 3), np.uint8)
    tile[:] = colour
    r = int(h * 0.32)
    side = 2 * r
    fh, fw = face.shape[:2]
    k = side / min(fh, fw)
    photo = cv2.resize(face, (max(side, round(fw * k)), max(side, round(fh * k))),
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


def _camera_off_tile(w: int, h: int, name: str, look: Look, app: App,
                     rng: np.random.Generator, colour=None) -> np.ndarray:
    tile = np.empty((h, w, 3), np.uint8)
    tile[:] = look.camera_off if colour is None else colour
    if app is App.ZOOM:  # the name, large, in the middle
        s = h / 200
        (tw, th), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, s, max(1, int(2 * s)))
        _text(tile, name, ((w - tw) // 2, (h + th) // 2), s, look.text, 2 * s)
    else:  # a coloured disc with the initials
        r = int(h * 0.22)
        colour = AVATAR_COLOURS[int(rng.integers(len(AVATAR_COLOURS)))]
        cv2.circle(tile, (w // 2, h // 2), r, colour, -1, cv2.LINE_AA)
        initials = "".join(p[0] for p in name.split()[:2]).upper()
        s = r / 28
        (tw, th), _ = cv2.getTextSize(initials, cv2.FONT_HERSHEY_SIMPLEX, s, max(1, int(2 * s)))
        _text(tile, initials, (w // 2 - tw // 2, h // 2 + th // 2), s, (255, 255, 255), 2 * s)
    return tile


def _name_label(tile: np.ndarray, name: str, look: Look, scale: float) -> None:
    h, w = tile.shape[:2]
    lh = int(min(max(14, h // 9), 24 * scale))
    fs = lh / 30
    (tw, _), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, fs, 1)
    x0, y1 = int(4 * scale), h - int(4 * scale)
    if look.label_box:
        box = tile[y1 - lh:y1, x0:min(w, x0 + tw + 10)]
        box[:] = (box.astype(np.uint16) * 2 // 5).astype(np.uint8)  # semi-transparent black
        _text(tile, name, (x0 + 5, y1 - lh * 0.28), fs, (255, 255, 255))
    else:  # Meet: white text with a shadow, no box
        _text(tile, name, (x0 + 6, y1 - lh * 0.22), fs, (0, 0, 0), 2)
        _text(tile, name, (x0 + 5, y1 - lh * 0.28), fs, (255, 255, 255))


def _slide(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A presentation slide: a title, bullet lines and a bar chart on white."""
    s = np.full((h, w, 3), 255, np.uint8)
    fs = h / 420
    _text(s, "Week 7: Photosynthesis", (w * 0.06, h * 0.14), fs * 1.3, (60, 40, 20), 2 * fs)
    for k in range(5):
        y = h * (0.28 + 0.11 * k)
        cv2.circle(s, (int(w * 0.07), int(y - h * 0.015)), max(2, int(h * 0.008)), (80, 80, 80), -1)
        _text(s, "light reactions make ATP and NADPH"[: 18 + 3 * k], (w * 0.1, y), fs * 0.8,
              (40, 40, 40), fs * 1.5)
    for k in range(4):
        bh = int(h * rng.uniform(0.15, 0.45))
        x = int(w * (0.62 + 0.08 * k))
        cv2.rectangle(s, (x, int(h * 0.85) - bh), (x + int(w * 0.05), int(h * 0.85)),
                      (200, 120, 40), -1)
    return s


def _views(spec: MeetingSpec, area: tuple[int, int, int, int], gap: int):
    """Tile boxes and the shared-screen box (or None) of ``spec`` in ``area``."""
    ax, ay, aw, ah = area
    if spec.view is View.GALLERY:
        return grid_layout(spec.n_tiles, area, gap=gap), None
    n_strip = max(1, spec.n_tiles - (1 if spec.view is View.SPEAKER else 0))
    if spec.app is App.MEET:  # strip on the right, a column
        sw = int(aw * 0.18)
        sh = int(sw * 9 / 16)
        k = max(1, min(n_strip, (ah + gap) // (sh + gap)))
        y0 = ay + (ah - (k * sh + (k - 1) * gap)) // 2
        strip = [(ax + aw - sw, y0 + i * (sh + gap), sw, sh) for i in range(k)]
        main = (ax, ay, aw - sw - gap, ah)
    else:  # a row on top (Zoom) or below (Teams)
        sh = int(ah * 0.15)
        sw = int(sh * 16 / 9)
        k = max(1, min(n_strip, (aw + gap) // (sw + gap)))
        x0 = ax + (aw - (k * sw + (k - 1) * gap)) // 2
        sy = ay if spec.app is App.ZOOM else ay + ah - sh
        strip = [(x0 + i * (sw + gap), sy, sw, sh) for i in range(k)]
        main = (ax, ay + sh + gap, aw, ah - sh - gap) if spec.app is App.ZOOM \
            else (ax, ay, aw, ah - sh - gap)
    mx, my, mw, mh = main
    bw = min(mw, int(mh * 16 / 9))
    bh = int(bw * 9 / 16)
    big = (mx + (mw - bw) // 2, my + (mh - bh) // 2, bw, bh)
    if spec.view is View.SPEAKER:
        return np.array([big, *strip], np.int32), None
    return np.array(strip, np.int32), big


def render(spec: MeetingSpec, faces: list[np.ndarray]) -> tuple[np.ndarray, GalleryTruth]:
    """Draw the screenshot of ``spec``.

    Parameters
    ----------
    spec : MeetingSpec
    faces : list of np.ndarray
        BGR portraits (:func:`testing.synthetic.sample_faces`), cycled over the tiles.

    Returns
    -------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR screenshot.
    truth : GalleryTruth
        Every participant tile drawn (xywh, row-major; the shared slide is not a tile), whether
        its camera is on, and its name.

    Raises
    ------
    ValueError
        If ``n_tiles`` is not in 1..49, or ``names`` lists fewer participants than are shown.
    """
    if not 1 <= spec.n_tiles <= 49:
        raise ValueError("n_tiles must be 1..49")
    look = LOOKS[(spec.app, spec.dark)]
    rng = np.random.default_rng(spec.seed)
    W, H = spec.size
    sc = spec.scale
    img = np.empty((H, W, 3), np.uint8)
    img[:] = look.background
    title, bar = int(30 * sc), int(60 * sc)
    img[:title] = look.title_bar
    _text(img, f"{spec.app.value.title()} Meeting", (W // 2 - 60 * sc, title * 0.7), 0.5 * sc,
          look.text)
    bar_y = title if look.toolbar_on_top else H - bar
    img[bar_y:bar_y + bar] = look.toolbar
    for k, label in enumerate(("Mute", "Video", "People", "Chat", "Share", "React", "More")):
        cx = int(W * 0.3 + k * 70 * sc)
        cv2.circle(img, (cx, bar_y + int(bar * 0.4)), int(12 * sc), (128, 128, 128), 1,
                   cv2.LINE_AA)
        _text(img, label, (cx - 18 * sc, bar_y + bar * 0.85), 0.35 * sc, look.text)
    cv2.rectangle(img, (W - int(110 * sc), bar_y + int(14 * sc)),
                  (W - int(20 * sc), bar_y + bar - int(14 * sc)), (60, 60, 220), -1)
    top = title + (bar if look.toolbar_on_top else 0)
    bottom = H - (0 if look.toolbar_on_top else bar)
    right = W
    if spec.panel:
        pw = int(320 * sc)
        right = W - pw
        px0 = right + int(8 * sc) if spec.app is App.MEET else right
        img[top:bottom, px0:W] = look.panel
        ink = (30, 30, 30) if sum(look.panel) > 380 else (220, 220, 220)
        _text(img, "Participants", (px0 + 16 * sc, top + 30 * sc), 0.6 * sc, ink)
        for k in range(min(spec.n_tiles, int((bottom - top - 60 * sc) // (36 * sc)))):
            y = top + int((70 + 36 * k) * sc)
            cv2.circle(img, (px0 + int(28 * sc), y), int(12 * sc),
                       AVATAR_COLOURS[k % len(AVATAR_COLOURS)], -1, cv2.LINE_AA)
            _text(img, _name(k), (px0 + 50 * sc, y + 6 * sc), 0.5 * sc, ink)
    pad = int(8 * sc)
    area = (pad, top + pad, right - 2 * pad, bottom - top - 2 * pad)
    gap = look.gap if spec.gap is None else spec.gap
    radius = look.radius if spec.radius is None else spec.radius
    cell = look.camera_off if spec.cell is None else spec.cell
    tiles, shared = _views(spec, area, max(2, int(round(gap * sc))))
    if shared is not None:
        x, y, w, h = shared
        img[y:y + h, x:x + w] = _slide(w, h, rng)
    # participants in tile order: in speaker and share views the strip shows the first ones
    n = len(tiles)
    if spec.names and len(spec.names) < n:
        raise ValueError("names must list every participant shown")
    names = tuple(spec.names[:n]) if spec.names else tuple(_name(i) for i in range(n))
    off = np.zeros(n, bool)
    off[[i for i in spec.camera_off if i < n]] = True
    for i, (x, y, w, h) in enumerate(tiles):
        face, tile_rng = faces[i % len(faces)], rng
        if spec.names:  # the same look for the same person in every screenshot
            key = zlib.crc32(names[i].encode())
            face, tile_rng = faces[key % len(faces)], np.random.default_rng(key)
        if off[i] and i in spec.avatars:
            tile = _avatar_tile(w, h, face, cell)
        elif off[i]:
            tile = _camera_off_tile(w, h, names[i], look, spec.app, tile_rng, cell)
        elif i in spec.letterbox:  # a 4:3 video between bands of the cell colour
            tile = np.empty((h, w, 3), np.uint8)
            tile[:] = cell
            vw = min(w, int(round(h * 4 / 3)))
            tile[:, (w - vw) // 2:(w - vw) // 2 + vw] = _face_tile(face, vw, h, tile_rng)
        else:
            tile = _face_tile(face, w, h, tile_rng)
        _name_label(tile, names[i], look, sc)
        if i == spec.speaking and not spec.border_outside:
            t = max(2, int(3 * sc))
            cv2.rectangle(tile, (t // 2, t // 2), (w - 1 - t // 2, h - 1 - t // 2),
                          SPEAKER_BORDERS[spec.seed % 2], t)
        img[y:y + h, x:x + w] = tile
        _round_corners(img, (x, y, w, h), int(radius * sc), look.background)
        if i == spec.speaking and spec.border_outside:  # in the gap, around the cell
            t = max(1, int(round(gap * sc)) - 1)
            cv2.rectangle(img, (x - t, y - t), (x + w - 1 + t, y + h - 1 + t),
                          SPEAKER_BORDERS[spec.seed % 2], t)
    img, tiles = _place(spec, img, tiles, rng)
    if spec.jpeg:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    order = _row_major_order(tiles)
    return img, GalleryTruth(tiles[order], ~off[order], tuple(names[i] for i in order))


def _page(W: int, H: int, rng: np.random.Generator) -> np.ndarray:
    """A light web or document page: a heading, paragraphs of grey text lines, a picture."""
    page = np.full((H, W, 3), 248, np.uint8)
    _text(page, "Course notes - Week 7", (W * 0.06, H * 0.08), H / 700, (40, 40, 40), 2)
    y = H * 0.14
    while y < H * 0.95:
        for _ in range(int(rng.integers(3, 7))):
            x1 = int(W * rng.uniform(0.5, 0.9))
            cv2.line(page, (int(W * 0.06), int(y)), (x1, int(y)), (120, 120, 120),
                     max(1, H // 400))
            y += H * 0.025
        y += H * 0.03
    cv2.rectangle(page, (int(W * 0.62), int(H * 0.5)), (int(W * 0.9), int(H * 0.8)),
                  (200, 170, 120), -1)
    return page


def _place(spec: MeetingSpec, img: np.ndarray, tiles: np.ndarray, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    """The screenshot around the meeting (:attr:`MeetingSpec.window`) and the tiles in it."""
    H, W = img.shape[:2]
    if spec.window == "browser":  # the meeting in a browser window on a light page
        screen = _page(W, H, rng)
        x0, y0 = int(W * 0.08), int(H * 0.1)
        w, h = W - 2 * x0, H - y0 - int(H * 0.05)
        bar = max(24, H // 28)
        cv2.rectangle(screen, (x0 - 1, y0 - bar - 1), (x0 + w, y0 + h), (150, 150, 150), 1)
        screen[y0 - bar:y0] = (236, 236, 236)
        cv2.rectangle(screen, (x0 + w // 5, y0 - bar + bar // 5), (x0 + 4 * w // 5, y0 - bar // 5),
                      (255, 255, 255), -1)
        _text(screen, "meet.example.org/class", (x0 + w // 5 + 8, y0 - bar * 0.35), bar / 45,
              (60, 60, 60))
        k = min(w / W, h / H)
        inner = cv2.resize(img, (int(W * k), int(H * k)), interpolation=cv2.INTER_AREA)
        screen[y0:y0 + inner.shape[0], x0:x0 + inner.shape[1]] = inner
        boxes = np.round(tiles * k).astype(np.int32) + np.array([x0, y0, 0, 0], np.int32)
        return screen, boxes
    if spec.window == "ribbon":  # a strip of thumbnails floating over a document page
        screen = _page(W, H, rng)
        n = len(tiles)
        tw = max(96, W // 10)
        th = tw * 9 // 16
        g = max(4, W // 480)
        bw, bh = n * tw + (n + 1) * g, th + 2 * g + max(18, H // 50)
        bx, by = W - bw - W // 40, H // 12
        screen[by:by + bh, bx:bx + bw] = (40, 40, 40)
        boxes = []
        for i, (x, y, w, h) in enumerate(tiles):
            cx, cy = bx + g + i * (tw + g), by + bh - g - th
            screen[cy:cy + th, cx:cx + tw] = cv2.resize(img[y:y + h, x:x + w], (tw, th),
                                                        interpolation=cv2.INTER_AREA)
            boxes.append((cx, cy, tw, th))
        return screen, np.array(boxes, np.int32).reshape(-1, 4)
    return img, tiles


def _name(i: int) -> str:
    return NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f" {i // len(NAMES) + 1}")


def _row_major_order(boxes: np.ndarray) -> np.ndarray:
    ordered = sort_row_major(boxes)
    return np.array([int(np.flatnonzero((boxes == b).all(axis=1))[0]) for b in ordered], np.int64)


#: Screen sizes and the high-DPI scales drawn on them.
SCREENS: tuple[tuple[tuple[int, int], tuple[float, ...]], ...] = (
    ((1280, 720), (1.0,)), ((1366, 768), (1.0,)), ((1920, 1080), (1.0, 1.25, 1.5)),
    ((2560, 1440), (1.0, 1.25, 1.5, 2.0)), ((3840, 2160), (1.5, 2.0)),
)
GALLERY_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 16, 17, 20, 24, 25, 30, 36, 42, 48, 49)


def corpus(n: int = 240, seed: int = 0) -> list[MeetingSpec]:
    """``n`` varied specs, the same for the same arguments: every app and theme in turn; 60 %
    galleries of 1..49 tiles, 20 % speaker views, 20 % shares; every screen size and scale;
    a side panel in a third, an active speaker in half, camera-off tiles in most, and a third
    JPEG-compressed (quality 60..90)."""
    rng = np.random.default_rng(seed)
    specs = []
    for i in range(n):
        app = list(App)[i % 3]
        dark = (i // 3) % 2 == 0
        view = (View.GALLERY, View.GALLERY, View.GALLERY, View.SPEAKER, View.SHARE)[(i // 6) % 5]
        size, scales = SCREENS[int(rng.integers(len(SCREENS)))]
        scale = float(scales[int(rng.integers(len(scales)))])
        panel = rng.random() < 0.33
        if view is View.GALLERY:
            count = GALLERY_COUNTS[(i // 2) % len(GALLERY_COUNTS)]
            if panel and size[0] / scale < 1500:
                count = min(count, 25)  # apps drop to fewer tiles beside a panel on small screens
        else:
            count = int(rng.integers(2, 12))
        k_off = int(rng.binomial(count, 0.2))
        off = tuple(sorted(int(j) for j in rng.choice(count, k_off, replace=False)))
        speaking = int(rng.integers(count)) if rng.random() < 0.5 else -1
        jpeg = int(rng.choice([60, 75, 90])) if rng.random() < 0.33 else 0
        specs.append(MeetingSpec(app, view, dark, count, size, scale, bool(panel), off, speaking,
                                 jpeg, seed=i))
    return specs


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(n, m) float64`` intersection over union of ``(n, 4)`` and ``(m, 4)`` xywh boxes
    (:func:`fer_desktop.analysis.boxes.iou`)."""
    return boxes_iou(np.asarray(a).reshape(-1, 4), np.asarray(b).reshape(-1, 4))


def tile_matches(found: np.ndarray, truth: np.ndarray, min_iou: float = 0.9
                 ) -> tuple[int, int, int]:
    """Greedy one-to-one matching of found tiles to true tiles at IoU >= ``min_iou``.

    Returns
    -------
    tuple of int
        ``(true_positives, false_positives, false_negatives)``.
    """
    m = iou(found, truth)
    tp = 0
    if m.size:
        for _ in range(min(m.shape)):
            i, j = np.unravel_index(int(np.argmax(m)), m.shape)
            if m[i, j] < min_iou:
                break
            tp += 1
            m[i, :] = -1
            m[:, j] = -1
    return tp, len(found) - tp, len(truth) - tp
