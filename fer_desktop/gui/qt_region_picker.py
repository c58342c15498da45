"""Pick a rectangle of the screen (the video call's gallery) on a screenshot."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QRubberBand, QSizePolicy, \
    QVBoxLayout, QWidget

from fer_desktop.gui.qt_preview import bgr_to_qimage
from fer_desktop.capture.sources import ScreenSource

#: Smallest region accepted, screen pixels (the gallery finder needs tiles of 64x36).
MIN_REGION = 64


def grab_monitor(monitor: dict) -> np.ndarray:
    """Screenshot of an mss monitor dict (``left, top, width, height``) as BGR ``(H, W, 3)``.

    Raises
    ------
    fer_desktop.capture.sources.SourceError
        If the screen cannot be captured.
    """
    with ScreenSource(region=(monitor["left"], monitor["top"], monitor["width"],
                              monitor["height"])) as source:
        return np.ascontiguousarray(source.read().image)


class _QtShotCanvas(QWidget):
    """Draws a screenshot scaled to fit and lets the user drag a rectangle on it."""

    def __init__(self, shot: np.ndarray, parent: QWidget | None = None):
        super().__init__(parent)
        self._array = np.ascontiguousarray(shot)
        self._image = bgr_to_qimage(self._array)
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, self)
        self._origin: QPoint | None = None
        #: Selection in screenshot pixels.
        self.selection: QRect | None = None
        self.on_changed = None  # callable, set by the dialog
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def image_rect(self) -> QRectF:
        iw, ih = self._image.width(), self._image.height()
        k = min(self.width() / iw, self.height() / ih)
        return QRectF((self.width() - iw * k) / 2, (self.height() - ih * k) / 2, iw * k, ih * k)

    def _to_image(self, pos: QPoint) -> QPoint:
        r = self.image_rect()
        k = r.width() / self._image.width()
        x = min(max((pos.x() - r.left()) / k, 0), self._image.width())
        y = min(max((pos.y() - r.top()) / k, 0), self._image.height())
        return QPoint(round(x), round(y))

    def _to_widget(self, rect: QRect) -> QRect:
        r = self.image_rect()
        k = r.width() / self._image.width()
        return QRectF(r.left() + rect.x() * k, r.top() + rect.y() * k,
                      rect.width() * k, rect.height() * k).toRect()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1E1F22"))
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(self.image_rect(), self._image)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._origin = event.position().toPoint()
            self._band.setGeometry(QRect(self._origin, QSize()))
            self._band.show()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._origin is not None:
            self._band.setGeometry(QRect(self._origin, event.position().toPoint()).normalized())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._origin is None or event.button() != Qt.MouseButton.LeftButton:
            return
        a, b = self._to_image(self._origin), self._to_image(event.position().toPoint())
        self._origin = None
        rect = QRect(a, b).normalized()
        self.selection = QRect(rect.x(), rect.y(), rect.width(), rect.height())
        self._band.setGeometry(self._to_widget(self.selection))
        if self.on_changed is not None:
            self.on_changed()

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self.selection is not None:
            self._band.setGeometry(self._to_widget(self.selection))
        super().resizeEvent(event)


class QtRegionPicker(QDialog):
    """A modal dialog showing a screenshot of one monitor; the user drags a rectangle and the
    dialog returns it in screen pixels.

    Parameters
    ----------
    monitor : dict
        mss monitor (``left, top, width, height``), as from
        :func:`fer_desktop.capture.sources.list_monitors`.
    screenshot : np.ndarray, optional
        ``(height, width, 3) uint8`` BGR image of the monitor; taken with mss when omitted.
    parent : QWidget, optional

    Raises
    ------
    fer_desktop.capture.sources.SourceError
        If no screenshot is given and the screen cannot be captured.
    """

    def __init__(self, monitor: dict, screenshot: np.ndarray | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Select the video-call gallery")
        self._monitor = monitor
        shot = grab_monitor(monitor) if screenshot is None else screenshot
        self._shot_size = (shot.shape[1], shot.shape[0])
        self.canvas = _QtShotCanvas(shot, self)
        self.canvas.on_changed = self._on_canvas_changed
        hint = QLabel("Drag a rectangle around the students' video tiles, then press OK.", self)
        self._size_label = QLabel("", self)
        self._buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                         | QDialogButtonBox.StandardButton.Cancel, self)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        self._ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self._size_label)
        layout.addWidget(self._buttons)
        self.resize(1000, 640)

    def _on_canvas_changed(self) -> None:
        region = self.region()
        self._ok.setEnabled(region is not None)
        if region is None:
            self._size_label.setText(f"Too small: drag at least {MIN_REGION}×{MIN_REGION} "
                                     "pixels.")
        else:
            x, y, w, h = region
            self._size_label.setText(f"{w}×{h} pixels at ({x}, {y})")

    def region(self) -> tuple[int, int, int, int] | None:
        """The selection as ``(x, y, w, h)`` in virtual-screen pixels, or ``None`` when nothing
        (or too small a rectangle) is selected."""
        sel = self.canvas.selection
        if sel is None or sel.width() < MIN_REGION or sel.height() < MIN_REGION:
            return None
        # screenshot pixels -> monitor pixels (equal unless the grab was scaled) -> screen
        kx = self._monitor["width"] / self._shot_size[0]
        ky = self._monitor["height"] / self._shot_size[1]
        return (self._monitor["left"] + round(sel.x() * kx), self._monitor["top"]
                + round(sel.y() * ky), round(sel.width() * kx), round(sel.height() * ky))

    @classmethod
    def get_region(cls, monitor: dict, parent: QWidget | None = None,
                   screenshot: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
        """Run the dialog; the chosen ``(x, y, w, h)`` or ``None`` when cancelled. Raises
        :class:`fer_desktop.capture.sources.SourceError` when the screen cannot be captured."""
        dialog = cls(monitor, screenshot, parent)
        try:
            return dialog.region() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()
