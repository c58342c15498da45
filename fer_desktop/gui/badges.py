"""What the preview writes on each tile: a badge per tile, derived from a :class:`FrameResult`.

Qt-free so that the text, colours and boxes can be tested without a display.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_desktop.gui.palette import NO_FACE_TEXT, emotion_colour, text_colour_on
from fer_desktop.pipeline import FrameResult


@dataclass(frozen=True)
class Badge:
    """The label of one tile.

    Attributes
    ----------
    tile_index : int
        Row of the tile in the result.
    student : str
        Student name of the tile.
    emotion : str or None
        Top smoothed expression; ``None`` when the tile has no face.
    confidence : float
        Probability of ``emotion`` in 0..1; NaN without a face.
    tile : tuple of int
        ``(x, y, w, h)`` of the tile in source-frame pixels.
    face : tuple of int or None
        ``(x, y, w, h)`` of the face in source-frame pixels, ``None`` without a face.
    """

    tile_index: int
    student: str
    emotion: str | None
    confidence: float
    tile: tuple[int, int, int, int]
    face: tuple[int, int, int, int] | None

    @property
    def has_face(self) -> bool:
        """Whether a face was found in the tile."""
        return self.emotion is not None

    @property
    def text(self) -> str:
        """``"happy 82%"``, or ``"no face"``."""
        if self.emotion is None:
            return NO_FACE_TEXT
        return f"{self.emotion} {confidence_text(self.confidence)}"

    @property
    def colour(self) -> str:
        """Background colour ``#rrggbb`` of the badge."""
        return emotion_colour(self.emotion)

    @property
    def text_colour(self) -> str:
        """Black or white, whichever reads better on :attr:`colour`."""
        return text_colour_on(self.colour)


def confidence_text(confidence: float) -> str:
    """A probability as a whole percentage, ``"82%"``; ``""`` for NaN."""
    if not np.isfinite(confidence):
        return ""
    return f"{round(100 * float(confidence))}%"


def badges_for(result: FrameResult) -> list[Badge]:
    """One :class:`Badge` per tile of ``result``, in tile order."""
    emotions = result.emotions
    conf = result.confidences
    badges = []
    for i in range(len(result.tiles)):
        has = bool(result.faces[i, 2] > 0)
        badges.append(Badge(
            tile_index=i, student=result.students[i],
            emotion=emotions[i] if has else None,
            confidence=float(conf[i]) if has else float("nan"),
            tile=tuple(int(v) for v in result.tiles[i]),
            face=tuple(int(v) for v in result.faces[i]) if has else None))
    return badges
