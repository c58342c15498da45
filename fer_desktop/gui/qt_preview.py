"""The live preview: the latest analysed frame, scaled to fit, with a badge on every tile."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from fer_desktop.gui.badges import Badge, badges_for
from fer_desktop.gui.session import AnalysisUpdate

#: Canvas colour around the frame.
CANVAS_COLOUR = "#1E1F22"
#: Badge font size, pixels.
BADGE_FONT_PX = 13
#: Space between the tile's corner and its badge, and inside the badge, pixels.
BADGE_MARGIN, BADGE_PAD_X, BADGE_PAD_Y = 4, 6, 2


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """Wrap a C-contiguous ``(h, w, 3) uint8`` BGR array as a QImage (no copy: keep the array
    alive as long as the image)."""
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888)


class QtFramePreview(QWidget):
    """Paints the latest :class:`AnalysisUpdate`: the frame scaled to fit (aspect kept), a thin
    box around each face and a badge per tile (``"happy 82%"`` in the expression's colour, or a
    grey ``"no face"``).

    Updates whose frame is older than the one drawn are ignored.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._array: np.ndarray | None = None  # keeps the QImage's buffer alive
        self._image: QImage | None = None
        self._scale = 1.0
        self._badges: list[Badge] = []
        self._timestamp = float("-inf")
        self._placeholder = "Choose a source and press Start."
        self._font = QFont(self.font())
        self._font.setPixelSize(BADGE_FONT_PX)
        self._font.setBold(True)

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 180)

    @property
    def badges(self) -> list[Badge]:
        """Badges of the frame drawn, in tile order."""
        return list(self._badges)

    @property
    def timestamp(self) -> float:
        """Capture time of the frame drawn (Unix seconds); ``-inf`` before the first."""
        return self._timestamp

    def set_update(self, update: AnalysisUpdate) -> bool:
        """Show ``update`` unless its frame is older than the one drawn; returns whether shown."""
        if update.result.timestamp < self._timestamp:
            return False
        self._timestamp = update.result.timestamp
        self._array = np.ascontiguousarray(update.preview)
        self._image = bgr_to_qimage(self._array)
        self._scale = update.scale
        self._badges = badges_for(update.result)
        self.update()
        return True

    def clear(self, placeholder: str | None = None) -> None:
        """Forget the frame (a new source); show ``placeholder`` text until the next one."""
        self._array = self._image = None
        self._badges = []
        self._timestamp = float("-inf")
        if placeholder is not None:
            self._placeholder = placeholder
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Text shown while there is no frame."""
        self._placeholder = text
        self.update()

    def image_rect(self) -> QRectF:
        """Where the frame is drawn, widget pixels (empty without a frame)."""
        if self._image is None:
            return QRectF()
        iw, ih = self._image.width(), self._image.height()
        k = min(self.width() / iw, self.height() / ih)
        w, h = iw * k, ih * k
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(CANVAS_COLOUR))
        if self._image is None:
            p.setPen(QColor("#B0B0B0"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
            return
        target = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.drawImage(target, self._image)
        k = target.width() / self._image.width() * self._scale  # widget px per frame px
        p.setFont(self._font)
        metrics = QFontMetricsF(self._font)
        for badge in self._badges:
            tile = _map_box(badge.tile, target, k)
            if badge.face is not None:
                pen = QPen(QColor(badge.colour), 1.5)
                pen.setCosmetic(True)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(_map_box(badge.face, target, k))
            self._paint_badge(p, metrics, badge, tile)

    def _paint_badge(self, p: QPainter, metrics: QFontMetricsF, badge: Badge,
                     tile: QRectF) -> None:
        text = badge.text
        width = min(metrics.horizontalAdvance(text) + 2 * BADGE_PAD_X,
                    max(tile.width() - 2 * BADGE_MARGIN, 0))
        box = QRectF(tile.left() + BADGE_MARGIN, tile.top() + BADGE_MARGIN, width,
                     metrics.height() + 2 * BADGE_PAD_Y)
        p.setPen(QPen(QColor(0, 0, 0, 110), 1))
        p.setBrush(QColor(badge.colour))
        p.drawRoundedRect(box, 4, 4)
        p.setPen(QColor(badge.text_colour))
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, box.width() - 2 * BADGE_PAD_X)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def _map_box(box: tuple[int, int, int, int], target: QRectF, k: float) -> QRectF:
    """A frame-pixel ``(x, y, w, h)`` box in widget pixels (``k``: widget px per frame px)."""
    x, y, w, h = box
    return QRectF(target.left() + x * k, target.top() + y * k, w * k, h * k)
