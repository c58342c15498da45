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
