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

from fer_desktop.analysis.cvutil import cv2


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


#: A disc's rim is a profile picture's when this share of it is a sharp edge across the rim...
DISC_SUPPORT = 0.35
#: ... and the card around it has less than this share of the picture's detail.
CARD_DETAIL = 0.2


def _disc(small: np.ndarray, cxs: np.ndarray, cys: np.ndarray, rs: np.ndarray,
          face: tuple[float, float], band: float) -> tuple[float, float, float] | None:
    """The profile-picture disc among circles of centres ``cxs`` x ``cys`` and radii ``rs``
    (pixels of the float32 grey copy ``small``) that hold the ``face`` centre well inside:
    ``(cx, cy, r)`` in copy pixels, or None (see :func:`avatar_disc` for the test; ``band`` is
    the width of the card examined around the disc)."""
    if len(rs) == 0:
        return None
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    sh, sw = small.shape
    theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    cos, sin = np.cos(theta), np.sin(theta)
    cx = cxs[:, None, None, None]
    cy = cys[None, :, None, None]

    def radial_at(r):
        px = cx + r * cos
        py = cy + r * sin
        ok = (px >= 0) & (px < sw) & (py >= 0) & (py < sh)
        ix = np.clip(np.round(px), 0, sw - 1).astype(np.int32)
        iy = np.clip(np.round(py), 0, sh - 1).astype(np.int32)
        ex, ey = gx[iy, ix], gy[iy, ix]
        return np.abs(ex * cos + ey * sin), np.abs(-ex * sin + ey * cos), ok

    r = rs[None, None, :, None]
    radial, along, inside = radial_at(r)
    peak = (radial >= radial_at(r - 2)[0]) & (radial >= radial_at(r + 2)[0])
    support = ((radial > 60) & (radial > 2 * along) & peak & inside).mean(axis=3)
    holds = (face[0] - cx[..., 0]) ** 2 + (face[1] - cy[..., 0]) ** 2 < (0.8 * r[..., 0]) ** 2
    support = np.where(holds, support, 0.0)
    i, j, k = np.unravel_index(int(np.argmax(support)), support.shape)
    if support[i, j, k] < DISC_SUPPORT:
        return None
    ccx, ccy, rr = cxs[i], cys[j], rs[k]
    lap = np.abs(cv2.Laplacian(small, cv2.CV_32F))
    yy, xx = np.mgrid[:sh, :sw]
    dist = np.hypot(xx - ccx, yy - ccy)
    pic = lap[dist < 0.85 * rr]
    card = lap[(dist > 1.15 * rr) & (dist < 1.15 * rr + band)]
    if pic.size == 0 or card.size == 0 or card.mean() > CARD_DETAIL * pic.mean():
        return None
    return float(ccx), float(ccy), float(rr)


def _copy(gray: np.ndarray, box, s: float) -> tuple[np.ndarray, int, int] | None:
    """A float32 copy of ``box`` (xywh, clipped to the frame) at scale ``s``, and its origin."""
    x, y, w, h = (int(round(v)) for v in box)
    x0, y0 = max(0, x), max(0, y)
    crop = gray[y0:max(y0, y + h), x0:max(x0, x + w)]
    if crop.shape[0] < 16 or crop.shape[1] < 16:
        return None
    size = (max(16, round(crop.shape[1] * s)), max(16, round(crop.shape[0] * s)))
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(np.float32), x0, y0


def avatar_disc(gray: np.ndarray, box, face, height: int = 96) -> tuple[float, float, float] | None:
    """The round profile picture that Meet, Teams and Nextcloud Talk show in a tile whose
    camera is off, when it holds the face ``face``: a disc centred in the tile, its rim a sharp
    circular edge, on a plain or blurred card (a webcam picture has no such rim around the
    face, and its background has detail).

    Circles are tried around the tile's centre (within 6 % of its width and 12 % of its
    height, 5 x 7 centres) that hold the face's centre, with radii from 20 % to 48 % of the
    tile's height (every pixel of a 96-pixel copy) and at least 0.4 face widths. A circle is
    the picture's rim when on :data:`DISC_SUPPORT` of 72 points along it the grey level
    changes sharply across it (Sobel, more than about 15 levels a pixel; more across than
    along it; most on the circle itself, not a pixel or two either side), and when the card
    around it (a band of a quarter of the tile's height) has less than :data:`CARD_DETAIL` of
    the detail of the picture (mean absolute Laplacian). The circles are not tried when the
    tile's sides (a seventh of its width each) have more than three times that share of the
    detail of its middle: a card's sides are plain or blurred.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    box : array-like
        ``(4,)`` tile box, xywh frame pixels.
    face : array-like
        ``(4,)`` face box, xywh frame pixels.
    height : int
        The tile is examined on a copy this high.

    Returns
    -------
    tuple of float or None
        ``(cx, cy, r)`` of the disc in frame pixels, or None.
    """
    if int(box[3]) < 16:
        return None
    s = height / int(box[3])
    got = _copy(gray, box, s)
    if got is None:
        return None
    small, x0, y0 = got
    sh, sw = small.shape
    # first the cheap half of the test: a card's sides are plain or blurred, a video's are not
    lap = np.abs(cv2.Laplacian(small, cv2.CV_32F))
    side = max(2, sw // 7)
    centre = lap[:, sw // 2 - side:sw // 2 + side].mean()
    if np.concatenate([lap[:, :side], lap[:, -side:]]).mean() > 3 * CARD_DETAIL * centre:
        return None
    fx, fy, fw = (face[0] + face[2] / 2 - x0) * s, (face[1] + face[3] / 2 - y0) * s, face[2] * s
    disc = _disc(small, sw / 2 + np.linspace(-0.06, 0.06, 5) * sw,
                 sh / 2 + np.linspace(-0.12, 0.12, 7) * sh,
                 np.arange(max(int(0.2 * sh), int(0.4 * fw)), int(0.48 * sh) + 1, 1.0),
                 (fx, fy), 0.25 * sh)
    return None if disc is None else (x0 + disc[0] / s, y0 + disc[1] / s, disc[2] / s)


def tile_state(image: np.ndarray, gray: np.ndarray, box, face=None) -> TileState:
    """What a tile shows, before (``face`` None) or after its faces were searched.

    Before: CAMERA_OFF for a camera-off card (:func:`plainness`), else NO_FACE (a video, not yet
    searched). After, with the tile's best face box ``face`` (xywh frame pixels): CAMERA_OFF
    when the face is on a profile picture (:func:`avatar_disc`), else FACE.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame (unused today; the tile's colours may tell more).
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    box : array-like
        ``(4,)`` tile box, xywh frame pixels.
    face : array-like, optional
        ``(4,)`` face box, xywh frame pixels.
    """
    if face is None:
        return TileState.CAMERA_OFF if plainness(gray, box).camera_off else TileState.NO_FACE
    return TileState.FACE if avatar_disc(gray, box, face) is None else TileState.CAMERA_OFF
