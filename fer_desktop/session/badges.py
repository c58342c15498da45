"""What the preview writes on each student: a badge per row of a :class:`FrameResult` (each
tile's participant, and each other face: a second person in a tile, every face of a room
camera).

A badge has a kind (:class:`BadgeKind`): a firm expression, an uncertain one (top probability
below a threshold), no face, or camera off. Each kind reads differently at a glance: its own
icon (:mod:`fer_desktop.gui.qt_icons`), text and colour. Qt-free so that the text, colours and
boxes can be tested without a display.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fer_desktop.session.palette import CAMERA_OFF_COLOUR, CAMERA_OFF_TEXT, NO_FACE_TEXT, \
    UNCERTAIN_COLOUR, emotion_colour, text_colour_on
from fer_desktop.analysis.result import FrameResult
from fer_desktop.analysis.tiles import TileState

__all__ = ["Badge", "BadgeKind", "TileState", "badges_for", "confidence_text", "natural_key"]

#: Default confidence below which a result is shown as uncertain.
UNCERTAIN_BELOW = 0.4


class BadgeKind(enum.Enum):
    """How a badge is drawn."""

    EMOTION = "emotion"
    UNCERTAIN = "uncertain"
    NO_FACE = "no face"
    CAMERA_OFF = "camera off"


@dataclass(frozen=True)
class Badge:
    """The label of one student.

    Attributes
    ----------
    row : int
        Row of the student in the result.
    student : str
        Display name of the student.
    emotion : str or None
        Top smoothed expression; ``None`` without a face.
    confidence : float
        Probability of ``emotion`` in 0..1; NaN without a face.
    box : tuple of int
        ``(x, y, w, h)`` where the student is, source-frame pixels
        (:attr:`FrameResult.boxes`: their tile, or their face).
    face : tuple of int or None
        ``(x, y, w, h)`` of the face in source-frame pixels, ``None`` without a face.
    state : TileState
        What the student's tile (or place) shows.
    uncertain_below : float
        Confidence below which the expression is only a guess.
    tile : bool
        Whether :attr:`box` is a gallery tile (whose name label the anonymous mode covers).
    """

    row: int
    student: str
    emotion: str | None
    confidence: float
    box: tuple[int, int, int, int]
    face: tuple[int, int, int, int] | None
    state: TileState = TileState.FACE
    uncertain_below: float = UNCERTAIN_BELOW
    tile: bool = True

    @property
    def has_face(self) -> bool:
        """Whether a face was found in the tile."""
        return self.emotion is not None and self.state is TileState.FACE

    @property
    def kind(self) -> BadgeKind:
        """How the badge is drawn."""
        if self.state is TileState.CAMERA_OFF:
            return BadgeKind.CAMERA_OFF
        if not self.has_face:
            return BadgeKind.NO_FACE
        if not self.confidence >= self.uncertain_below:
            return BadgeKind.UNCERTAIN
        return BadgeKind.EMOTION

    @property
    def label(self) -> str:
        """The words of the badge without the percentage: ``"happy"``, ``"happy?"`` (a guess),
        ``"no face"``, ``"camera off"``."""
        kind = self.kind
        if kind is BadgeKind.CAMERA_OFF:
            return CAMERA_OFF_TEXT
        if kind is BadgeKind.NO_FACE:
            return NO_FACE_TEXT
        return f"{self.emotion}?" if kind is BadgeKind.UNCERTAIN else str(self.emotion)

    @property
    def text(self) -> str:
        """``"happy 82%"``, ``"happy? 31%"`` (uncertain), ``"no face"`` or ``"camera off"``."""
        if not self.has_face:
            return self.label
        return f"{self.label} {confidence_text(self.confidence)}"

    @property
    def colour(self) -> str:
        """Background colour ``#rrggbb`` of the badge."""
        kind = self.kind
        if kind is BadgeKind.CAMERA_OFF:
            return CAMERA_OFF_COLOUR
        if kind is BadgeKind.UNCERTAIN:
            return UNCERTAIN_COLOUR
        return emotion_colour(self.emotion if self.has_face else None)

    @property
    def accent(self) -> str:
        """The expression's colour (also for an uncertain badge: its frame and stripe); the
        badge colour otherwise."""
        return emotion_colour(self.emotion) if self.has_face else self.colour

    @property
    def text_colour(self) -> str:
        """Black or white, whichever reads better on :attr:`colour`."""
        return text_colour_on(self.colour)

    @property
    def tooltip(self) -> str:
        """A sentence for tooltips and screen readers."""
        kind = self.kind
        if kind is BadgeKind.CAMERA_OFF:
            return f"{self.student}: camera off"
        if kind is BadgeKind.NO_FACE:
            return f"{self.student}: no face found" + (" in the tile" if self.tile else "")
        sure = "uncertain, maybe" if kind is BadgeKind.UNCERTAIN else "looks"
        return (f"{self.student}: {sure} {self.emotion} "
                f"({confidence_text(self.confidence)} estimated probability)")


def confidence_text(confidence: float) -> str:
    """A probability as a whole percentage, ``"82%"``; ``""`` for NaN."""
    if not np.isfinite(confidence):
        return ""
    return f"{round(100 * float(confidence))}%"


def natural_key(name: str) -> str:
    """A key that sorts names as people read them: case-insensitive, numbers by value
    ("Student 9" before "Student 74" before "Student 100")."""
    return re.sub(r"\d+", lambda m: m.group().lstrip("0").rjust(24, "0"), name.casefold())


def badges_for(result: FrameResult, names: Mapping[int, str] | Sequence[str] | None = None,
               uncertain_below: float = UNCERTAIN_BELOW,
               states: Sequence[TileState] | None = None) -> list[Badge]:
    """One :class:`Badge` per row of ``result``, in row order.

    Parameters
    ----------
    result : FrameResult
    names : mapping or sequence of str, optional
        Display name per row; default ``result.students``.
    uncertain_below : float
        Confidence (0..1) below which an expression is shown as uncertain.
    states : sequence of TileState, optional
        State per row; default ``result.states`` (the core's face / no face / camera off).
    """
    if states is None:
        states = result.states
    emotions = result.emotions
    conf = result.confidences
    tiles = result.row_tiles()
    badges = []
    for i in range(len(result)):
        state = states[i]
        has = bool(result.has_face[i]) and state is TileState.FACE
        if names is None:
            name = result.students[i]
        elif isinstance(names, Mapping):
            name = names.get(i, result.students[i])
        else:
            name = names[i]
        box = tuple(int(v) for v in result.boxes[i])
        badges.append(Badge(
            row=i, student=name,
            emotion=emotions[i] if has else None,
            confidence=float(conf[i]) if has else float("nan"),
            box=box, face=tuple(int(v) for v in result.faces[i]) if has else None,
            state=state, uncertain_below=uncertain_below,
            tile=bool(result.tile_index[i] >= 0 and box == tuple(int(v) for v in tiles[i]))))
    return badges


@dataclass(frozen=True)
class BadgeSlot:
    """What one badge needs to be placed (widget pixels, boxes ``(x, y, w, h)``).

    Attributes
    ----------
    area : tuple of float
        The student's tile (``tile``), or their face when they are in no tile.
    tile : bool
        Whether ``area`` is a gallery tile: the badge stays inside it.
    face : tuple of float or None
        Their face, which the badge should not cover.
    sizes : tuple of (float, float)
        ``(w, h)`` of each style the badge can take, largest first: the full badge (icon,
        label and probability; only at the tile's top-left corner), the compact one (icon and
        probability), and the icon alone (the last resort in a crowd).
    """

    area: tuple[float, float, float, float]
    tile: bool
    face: tuple[float, float, float, float] | None
    sizes: tuple[tuple[float, float], ...]


#: Margin between a tile's edge (or a face) and a compact badge, pixels.
SLOT_MARGIN = 2.0
#: Inset of the full badge from its tile's top-left corner, pixels.
BADGE_SLOT_INSET = 4.0
#: What taking the next smaller style costs, in faces covered (a smaller badge is worth it when
#: it uncovers more than this share of a face).
SMALLER_COST = 0.5


def place_badges(slots: Sequence[BadgeSlot], bounds: tuple[float, float, float, float]
                 ) -> list[tuple[tuple[float, float, float, float], int]]:
    """Where each badge goes, so that no two badges overlap and they cover as little of any
    face as they can: ``[(box, style)]`` in ``slots`` order (``style`` indexes
    :attr:`BadgeSlot.sizes`).

    A tile's badge stays inside its tile (the full badge at its top-left corner when it fits;
    else compact in a corner or beside the face); the badge of a face in no tile (a room
    camera) goes below, above or beside the face, inside ``bounds`` (the frame drawn). Tiles'
    badges are placed first (in tile order), then faces' from the top. Each takes the first of
    its spots, largest style first, that overlaps no badge placed before it and covers least
    of the faces; only when every spot overlaps does it take the one that overlaps least.
    """
    faces = np.array([s.face for s in slots if s.face is not None], np.float64).reshape(-1, 4)
    face_area = np.maximum(faces[:, 2] * faces[:, 3], 1.0)
    order = [i for i, s in enumerate(slots) if s.tile] + sorted(
        (i for i, s in enumerate(slots) if not s.tile),
        key=lambda i: (slots[i].area[1], slots[i].area[0]))
    placed = np.zeros((0, 4))
    out: list = [None] * len(slots)
    for i in order:
        boxes, styles = _spots(slots[i], bounds)
        cover = (_overlap(boxes, faces) / face_area).sum(axis=1) if len(faces) else 0.0
        clash = _overlap(boxes, placed).sum(axis=1) if len(placed) else np.zeros(len(boxes))
        rank = np.arange(len(boxes)) * 1e-4
        score = np.where(clash > 0, 1e6 + clash, 0.0) + cover + styles * SMALLER_COST + rank
        k = int(np.argmin(score))
        out[i] = (tuple(float(v) for v in boxes[k]), int(styles[k]))
        placed = np.vstack([placed, boxes[k]])
    return out


def _spots(slot: BadgeSlot, bounds) -> tuple[np.ndarray, np.ndarray]:
    """Candidate boxes ``(k, 4)`` of a badge and their style ``(k,)``, in order of preference
    within a style."""
    x, y, w, h = slot.area
    m = SLOT_MARGIN
    if slot.tile:
        lo_x, lo_y, hi_x, hi_y = x + m, y + m, x + w - m, y + h - m
    else:
        lo_x, lo_y = bounds[0], bounds[1]
        hi_x, hi_y = bounds[0] + bounds[2], bounds[1] + bounds[3]
    boxes, styles = [], []
    for style, (bw, bh) in enumerate(slot.sizes):
        if style == 0 and len(slot.sizes) > 1:  # the full badge: a tile's top-left corner
            if slot.tile and bw <= w - 2 * BADGE_SLOT_INSET:
                boxes.append((x + BADGE_SLOT_INSET, y + BADGE_SLOT_INSET, bw, bh))
                styles.append(0)
            continue
        for px, py in _positions(slot, bw, bh, (lo_x, lo_y, hi_x, hi_y)):
            bx = min(max(px, lo_x), max(lo_x, hi_x - bw))
            by = min(max(py, lo_y), max(lo_y, hi_y - bh))
            boxes.append((bx, by, bw, bh))
            styles.append(style)
    return np.array(boxes, np.float64).reshape(-1, 4), np.array(styles, np.float64)



def _positions(slot: BadgeSlot, bw: float, bh: float, inner) -> list[tuple[float, float]]:
    """Top-left corners to try for a ``bw`` x ``bh`` badge."""
    g = SLOT_MARGIN
    if slot.tile:
        lo_x, lo_y, hi_x, hi_y = inner
    else:  # the corners of the student's own place first
        ax, ay, aw, ah = slot.area
        lo_x, lo_y, hi_x, hi_y = ax + g, ay + g, ax + aw - g, ay + ah - g
    corners = [(lo_x, lo_y), (hi_x - bw, lo_y), (lo_x, hi_y - bh), (hi_x - bw, hi_y - bh)]
    if slot.face is None:  # a tile, or a place, without a face
        return corners if slot.tile else corners + [(lo_x, hi_y + 2 * g), (lo_x, lo_y - bh - 2 * g)]
    fx, fy, fw, fh = slot.face
    cx, cy = fx + fw / 2 - bw / 2, fy + fh / 2 - bh / 2
    below, above = fy + fh + g, fy - bh - g
    left, right = fx - bw - g, fx + fw + g
    near = [(cx, below), (cx, above), (right, cy), (left, cy),
            (fx, below), (fx + fw - bw, below), (fx, above), (fx + fw - bw, above),
            (right, fy), (left, fy), (right, fy + fh - bh), (left, fy + fh - bh)]
    farther = [(cx, below + bh + g), (cx, above - bh - g), (right + bw / 2, cy),
               (left - bw / 2, cy), (right, below), (left, below), (right, above),
               (left, above)]
    return (corners + near) if slot.tile else (near + farther)


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b))`` intersection areas of xywh boxes."""
    ax0, ay0 = a[:, 0:1], a[:, 1:2]
    ax1, ay1 = ax0 + a[:, 2:3], ay0 + a[:, 3:4]
    bx0, by0 = b[:, 0], b[:, 1]
    bx1, by1 = bx0 + b[:, 2], by0 + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    return iw * ih
