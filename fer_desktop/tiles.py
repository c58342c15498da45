"""What a tile shows before any face is searched: a video, a camera-off card, or a document.

A camera-off tile (Zoom: the name in large letters; Meet and Teams: a coloured disc with the
initials) is a plain background with a small drawing in its middle. A shared slide or document
is a plain page with ink spread across it. A video is neither: its pixels spread over many grey
levels, and the person reaches the bottom of the picture. :func:`plainness` measures both traits
on a small grey copy of the tile (the name label at the bottom and the tile's border, where
an active-speaker frame is drawn, are left out).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from fer_desktop.cvutil import cv2


class TileState(enum.Enum):
    """What a tile shows."""

    FACE = "face"
    NO_FACE = "no face"
    CAMERA_OFF = "camera off"


#: Share of a tile's inner pixels within :data:`PLAIN_LEVELS` of its commonest grey level above
#: which the tile is a plain card or page.
PLAIN_SHARE = 0.7
PLAIN_LEVELS = 6
#: A page with ink across it is a document from this plain share on (slides leave a third of
#: their area to text and charts; a video's commonest grey level covers a fifth at most).
DOCUMENT_SHARE = 0.55


@dataclass(frozen=True)
class Plainness:
    """How plain a tile is.

    Attributes
    ----------
    share : float
        Fraction (0..1) of the inner pixels within ``PLAIN_LEVELS`` grey levels of the commonest
        level.
    ink : tuple of float
        ``(x0, y0, x1, y1)`` extent of the other pixels, as fractions (0..1) of the inner
        region's width and height; ``(0, 0, 0, 0)`` when there are none.
    """

    share: float
    ink: tuple[float, float, float, float]

    @property
    def camera_off(self) -> bool:
        """A plain card with its drawing in the middle, away from the bottom and the sides."""
        x0, y0, x1, y1 = self.ink
        return (self.share >= PLAIN_SHARE and y1 <= 0.93 and x0 >= 0.07 and x1 <= 0.93
                and (x1 - x0) <= 0.85)

    @property
    def document(self) -> bool:
        """A plain page whose ink spreads over most of it (a shared slide or document)."""
        x0, y0, x1, y1 = self.ink
        return self.share >= DOCUMENT_SHARE and (x1 - x0) > 0.6 and (y1 - y0) > 0.5 \
            and not self.camera_off


def plainness(gray: np.ndarray, box, width: int = 96) -> Plainness:
    """Measure how plain the tile ``box`` of a grey frame is.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    box : array-like
        ``(4,)`` tile box, ``x, y, w, h`` in frame pixels.
    width : int
        The tile is measured on a copy this wide (area-averaged), which bounds the cost.

    Returns
    -------
    Plainness
    """
    x, y, w, h = (int(v) for v in box)
    # leave out the border (active-speaker frame, rounded corners) and the name label
    ix, iy = max(1, int(0.05 * w)), max(1, int(0.05 * h))
    crop = gray[max(0, y + iy):max(0, y + int(0.8 * h)), max(0, x + ix):max(0, x + w - ix)]
    if crop.size == 0:
        return Plainness(0.0, (0.0, 0.0, 0.0, 0.0))
    s = width / crop.shape[1]
    if s < 1:
        crop = cv2.resize(crop, (width, max(1, round(crop.shape[0] * s))),
                          interpolation=cv2.INTER_AREA)
    hist = np.bincount(crop.ravel(), minlength=256)
    mode = int(np.argmax(hist))
    plain = np.abs(crop.astype(np.int16) - mode) <= PLAIN_LEVELS
    share = float(plain.mean())
    ink = ~plain
    # rows and columns holding more than a trace of ink (compression noise is not ink)
    rows = np.flatnonzero(ink.mean(axis=1) > 0.02)
    cols = np.flatnonzero(ink.mean(axis=0) > 0.02)
    if len(rows) == 0 or len(cols) == 0:
        return Plainness(share, (0.0, 0.0, 0.0, 0.0))
    ch, cw = crop.shape
    return Plainness(share, (cols[0] / cw, rows[0] / ch, (cols[-1] + 1) / cw, (rows[-1] + 1) / ch))


def camera_off_mask(gray: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """``(n,) bool``: True for the tiles of ``tiles`` (``(n, 4)`` xywh) that look camera-off."""
    return np.array([plainness(gray, t).camera_off for t in np.asarray(tiles).reshape(-1, 4)],
                    bool)
