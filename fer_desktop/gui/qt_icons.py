"""Small vector icons for the badges: a face per expression, a question mark for an uncertain
result, an empty dashed circle for "no face" and a struck-through camera for "camera off".

Drawn with ``QPainter`` rather than emoji, so they look the same on every system (many Linux
desktops have no colour-emoji font) and at every DPI.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from fer_desktop.session.badges import BadgeKind

#: Mouth and brows per expression, in a unit face: (mouth kind, brows kind).
_FEATURES = {
    "happy": ("smile", None),
    "sad": ("frown", "worried"),
    "angry": ("frown", "angry"),
    "surprise": ("o", "raised"),
    "fear": ("wide", "worried"),
    "disgust": ("wavy", "angry"),
    "neutral": ("flat", None),
}


def paint_icon(p: QPainter, rect: QRectF, kind: BadgeKind, emotion: str | None,
               colour: str) -> None:
    """Draw the icon of a badge of ``kind`` (and ``emotion``) in ``rect`` with ``colour``."""
    s = min(rect.width(), rect.height())
    r = QRectF(rect.center().x() - s / 2, rect.center().y() - s / 2, s, s)
    pen = QPen(QColor(colour), max(1.0, s * 0.09))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if kind is BadgeKind.CAMERA_OFF:
        _camera_off(p, r, pen)
    elif kind is BadgeKind.NO_FACE:
        pen.setStyle(Qt.PenStyle.DotLine)
        p.setPen(pen)
        p.drawEllipse(r.adjusted(s * 0.08, s * 0.08, -s * 0.08, -s * 0.08))
    elif kind is BadgeKind.UNCERTAIN or emotion not in _FEATURES:
        pen.setStyle(Qt.PenStyle.DotLine)
        p.setPen(pen)
        p.drawEllipse(r.adjusted(s * 0.08, s * 0.08, -s * 0.08, -s * 0.08))
        font = p.font()
        font.setPixelSize(max(1, round(s * 0.72)))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(colour))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, "?")
    else:
        _face(p, r, pen, *_FEATURES[emotion])
    p.restore()


def _face(p: QPainter, r: QRectF, pen: QPen, mouth: str, brows: str | None) -> None:
    s = r.width()
    p.setPen(pen)
    p.drawEllipse(r.adjusted(s * 0.08, s * 0.08, -s * 0.08, -s * 0.08))

    def pt(x: float, y: float) -> QPointF:  # unit square -> rect
        return QPointF(r.left() + x * s, r.top() + y * s)

    p.setBrush(QColor(pen.color()))
    eye = s * 0.065
    for x in (0.36, 0.64):
        p.drawEllipse(pt(x, 0.40), eye, eye)
    p.setBrush(Qt.BrushStyle.NoBrush)
    if brows == "angry":
        p.drawLine(pt(0.26, 0.25), pt(0.42, 0.32))
        p.drawLine(pt(0.74, 0.25), pt(0.58, 0.32))
    elif brows == "worried":
        p.drawLine(pt(0.27, 0.31), pt(0.42, 0.25))
        p.drawLine(pt(0.73, 0.31), pt(0.58, 0.25))
    elif brows == "raised":
        p.drawLine(pt(0.28, 0.23), pt(0.43, 0.23))
        p.drawLine(pt(0.57, 0.23), pt(0.72, 0.23))
    path = QPainterPath()
    if mouth == "smile":
        path.moveTo(pt(0.32, 0.60))
        path.quadTo(pt(0.5, 0.82), pt(0.68, 0.60))
    elif mouth == "frown":
        path.moveTo(pt(0.33, 0.73))
        path.quadTo(pt(0.5, 0.56), pt(0.67, 0.73))
    elif mouth == "flat":
        path.moveTo(pt(0.34, 0.67))
        path.lineTo(pt(0.66, 0.67))
    elif mouth == "o":
        path.addEllipse(pt(0.5, 0.68), s * 0.08, s * 0.10)
    elif mouth == "wide":
        path.addEllipse(pt(0.5, 0.68), s * 0.15, s * 0.07)
    elif mouth == "wavy":
        path.moveTo(pt(0.32, 0.68))
        path.quadTo(pt(0.41, 0.58), pt(0.5, 0.68))
        path.quadTo(pt(0.59, 0.78), pt(0.68, 0.66))
    p.drawPath(path)


def _camera_off(p: QPainter, r: QRectF, pen: QPen) -> None:
    s = r.width()
    p.setPen(pen)
    p.drawRoundedRect(QRectF(r.left() + 0.08 * s, r.top() + 0.30 * s, 0.56 * s, 0.42 * s),
                      0.06 * s, 0.06 * s)
    lens = QPainterPath()
    lens.moveTo(r.left() + 0.66 * s, r.top() + 0.45 * s)
    lens.lineTo(r.left() + 0.92 * s, r.top() + 0.32 * s)
    lens.lineTo(r.left() + 0.92 * s, r.top() + 0.70 * s)
    lens.lineTo(r.left() + 0.66 * s, r.top() + 0.57 * s)
    p.drawPath(lens)
    p.drawLine(QPointF(r.left() + 0.10 * s, r.top() + 0.12 * s),
               QPointF(r.left() + 0.90 * s, r.top() + 0.88 * s))


@lru_cache(maxsize=64)
def badge_icon(kind: BadgeKind, emotion: str | None, colour: str, size: int = 32) -> QIcon:
    """A cached ``QIcon`` of :func:`paint_icon` (for item views), ``size`` device-independent
    pixels, drawn at twice that for high-DPI screens."""
    pix = QPixmap(2 * size, 2 * size)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    paint_icon(p, QRectF(0, 0, size, size), kind, emotion, colour)
    p.end()
    return QIcon(pix)
