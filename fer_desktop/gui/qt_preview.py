"""The live preview: the latest analysed frame, scaled to fit, with a badge on every tile."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, \
    QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from fer_desktop.analysis.tiles import TileState
from fer_desktop.gui.qt_icons import paint_icon
from fer_desktop.session.badges import Badge, BadgeKind, BadgeSlot, badges_for, \
    confidence_text, place_badges
from fer_desktop.session.runner import AnalysisUpdate

#: Canvas colour around the frame.
CANVAS_COLOUR = "#1E1F22"
#: Badge font size, pixels.
BADGE_FONT_PX = 13
#: Space inside the badge, pixels.
BADGE_PAD_X, BADGE_PAD_Y = 6, 2
#: Font size of a compact badge (icon and percentage), pixels.
COMPACT_FONT_PX = 11
#: Height of the strip at the bottom of a tile where meeting apps print the name, as a fraction
#: of the tile height (covered in the anonymous and aggregate-only modes).
NAME_STRIP = 0.16


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """Wrap a C-contiguous ``(h, w, 3) uint8`` BGR array as a QImage (no copy: keep the array
    alive as long as the image)."""
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format.Format_BGR888)


class QtFramePreview(QWidget):
    """Paints the latest :class:`AnalysisUpdate`: the frame scaled to fit (aspect kept), a thin
    box around each face and a badge per tile: an icon, the label and the confidence
    (``"happy 82%"`` in the expression's colour; ``"happy? 31%"`` on pale grey with a stripe in
    that colour when uncertain; ``"no face"`` on grey; ``"camera off"`` on black).

    No two badges overlap, and they cover as little of the faces as they can
    (:func:`~fer_desktop.session.badges.place_badges`): in a crowded gallery or room they shrink
    to the icon and the probability, then, where even that collides, to the icon alone.

    Clicking a tile selects its student (:attr:`student_clicked`). With :attr:`show_badges`
    off (aggregate-only mode) no badge or face box is drawn. With :attr:`cover_names` on
    (anonymous and aggregate-only modes) the name a meeting app prints on every tile is
    covered: the strip at the bottom of the tile ("Student N" on it when badges are shown),
    and the whole tile when its camera is off (the name is printed large in its middle). The
    picture of a tile whose camera is on is never covered, face found or not.
    Updates whose frame is older than the one drawn are ignored.

    Signals
    -------
    student_clicked(int)
        Tile index of the student clicked.
    """

    student_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._array: np.ndarray | None = None  # keeps the QImage's buffer alive
        self._image: QImage | None = None
        self._scale = 1.0
        self._badges: list[Badge] = []
        #: The frame's tiles: ``(t, 4)`` boxes, their states, and each row's tile (or -1).
        self._tiles = np.zeros((0, 4), np.int32)
        self._tile_states: tuple[TileState, ...] = ()
        self._row_tile = np.zeros(0, np.int32)
        self._layout: list | None = None  # the badges' places, until the frame or size changes
        self._timestamp = float("-inf")
        self._placeholder = "Choose a source and press Start."
        self._font = QFont(self.font())
        self._font.setPixelSize(BADGE_FONT_PX)
        self._font.setBold(True)
        #: The full badge's style and the compact one's (crowded galleries, faces).
        self._styles = (_BadgeStyle(self.font(), BADGE_FONT_PX, BADGE_PAD_X, BADGE_PAD_Y),
                        _BadgeStyle(self.font(), COMPACT_FONT_PX, 3, 1))
        self._selected: int | None = None
        self._show_badges = True
        #: Whether the names printed on the tiles are covered (anonymous and aggregate-only).
        self.cover_names = False
        self._paused: str | None = None

    @property
    def show_badges(self) -> bool:
        """Whether badges and face boxes are drawn (off in the aggregate-only mode)."""
        return self._show_badges

    @show_badges.setter
    def show_badges(self, value: bool) -> None:
        self._show_badges = bool(value)
        self._layout = None
        self.update()

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

    @property
    def selected(self) -> int | None:
        """Tile index of the selected student, outlined in the preview."""
        return self._selected

    def set_selected(self, tile: int | None) -> None:
        self._selected = tile
        self.update()

    def set_update(self, update: AnalysisUpdate, badges: list[Badge] | None = None) -> bool:
        """Show ``update`` with ``badges`` (default :func:`badges_for` its result) unless its
        frame is older than the one drawn; returns whether shown."""
        if update.result.timestamp < self._timestamp:
            return False
        self._timestamp = update.result.timestamp
        self._array = np.ascontiguousarray(update.preview)
        self._image = bgr_to_qimage(self._array)
        self._scale = update.scale
        result = update.result
        self._tiles, self._tile_states = result.tiles, result.tile_states
        self._row_tile = result.tile_index
        self._badges = badges if badges is not None else badges_for(result)
        self._layout = None
        self.update()
        return True

    def set_badges(self, badges: list[Badge]) -> None:
        """Relabel the frame drawn (a name or privacy mode changed)."""
        self._badges = list(badges)
        self._layout = None
        self.update()

    def clear(self, placeholder: str | None = None) -> None:
        """Forget the frame (a new source); show ``placeholder`` text until the next one."""
        self._array = self._image = None
        self._badges = []
        self._tiles, self._tile_states = np.zeros((0, 4), np.int32), ()
        self._row_tile = np.zeros(0, np.int32)
        self._layout = None
        self._timestamp = float("-inf")
        if placeholder is not None:
            self._placeholder = placeholder
        self.update()

    @property
    def paused(self) -> str | None:
        """The paused banner's text, or None when not paused."""
        return self._paused

    def set_paused(self, text: str | None) -> None:
        """Show ``text`` on a banner across the frame (a paused session; ``None``: hide it)."""
        self._paused = text
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

    def tile_rect(self, tile: int) -> QRectF:
        """Where tile ``tile`` of the frame drawn is, widget pixels (empty if unknown)."""
        if self._image is None or not 0 <= tile < len(self._badges):
            return QRectF()
        target = self.image_rect()
        return _map_box(self._badges[tile].box, target, self._widget_per_frame_px(target))

    def tile_at(self, pos: QPointF) -> int | None:
        """Index of the tile under widget position ``pos``, or ``None``."""
        for i in range(len(self._badges)):
            if self.tile_rect(i).contains(pos):
                return i
        return None

    def _widget_per_frame_px(self, target: QRectF) -> float:
        return target.width() / self._image.width() * self._scale

    def mousePressEvent(self, event: QMouseEvent) -> None:
        tile = self.tile_at(event.position()) if self.show_badges else None
        if tile is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_selected(tile)
            self.student_clicked.emit(tile)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(CANVAS_COLOUR))
        if self._image is None:
            p.setPen(QColor("#D0D0D0"))
            p.drawText(self.rect().adjusted(20, 20, -20, -20),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._placeholder)
            return
        target = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.drawImage(target, self._image)
        k = self._widget_per_frame_px(target)
        p.setFont(self._font)
        if self.cover_names:
            self._paint_name_covers(p, target, k)
        geometry = self.badge_geometry()
        for badge, _ in zip(self._badges, geometry):  # outlines first: no badge is crossed
            if badge.face is not None:
                pen = QPen(QColor(badge.accent), 1.5)
                pen.setCosmetic(True)
                if badge.kind is BadgeKind.UNCERTAIN:
                    pen.setStyle(Qt.PenStyle.DashLine)
                p.setPen(pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(_map_box(badge.face, target, k))
            if badge.row == self._selected:
                p.setPen(QPen(QColor("#FFFFFF"), 3))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(_map_box(badge.box, target, k).adjusted(1.5, 1.5, -1.5, -1.5))
        for badge, (box, text, style) in zip(self._badges, geometry):
            self._paint_badge(p, badge, box, text, style)
        if self._paused:
            self._paint_banner(p, self._paused)

    def resizeEvent(self, event) -> None:
        self._layout = None
        super().resizeEvent(event)

    def _paint_banner(self, p: QPainter, text: str) -> None:
        """A band across the middle of the preview: the session is paused."""
        metrics = QFontMetricsF(self._font)
        p.setFont(self._font)
        band = QRectF(0, self.height() / 2 - 2 * metrics.height(), self.width(),
                      4 * metrics.height())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 190))
        p.drawRect(band)
        p.setPen(QColor("#FFFFFF"))
        p.drawText(band.adjusted(16, 0, -16, 0), Qt.AlignmentFlag.AlignCenter
                   | Qt.TextFlag.TextWordWrap, "❚❚  " + text)

    def _paint_name_covers(self, p: QPainter, target: QRectF, k: float) -> None:
        """Cover the name a meeting app prints on each tile: the strip at the bottom, with the
        student's "Student N" when badges are shown; the whole tile when its camera is off
        (the name is printed large in its middle). A tile whose camera is on keeps its
        picture, face found or not."""
        names = {}
        if self._show_badges:
            for badge in self._badges:
                if badge.tile and 0 <= badge.row < len(self._row_tile):
                    names[int(self._row_tile[badge.row])] = badge.student
        for t, (box, state) in enumerate(zip(self._tiles, self._tile_states)):
            tile = _map_box(tuple(int(v) for v in box), target, k)
            strip = QRectF(tile.left(), tile.bottom() - tile.height() * NAME_STRIP,
                           tile.width(), tile.height() * NAME_STRIP)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(20, 20, 20))
            p.drawRect(tile if state is TileState.CAMERA_OFF else strip)
            if t in names:
                p.setPen(QColor("#FFFFFF"))
                p.drawText(strip.adjusted(6, 0, -6, 0),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, names[t])

    def name_covers(self) -> list[QRectF]:
        """What the name covers hide, widget pixels, tile order (empty when names are not
        covered)."""
        if self._image is None or not self.cover_names:
            return []
        target = self.image_rect()
        k = self._widget_per_frame_px(target)
        out = []
        for box, state in zip(self._tiles, self._tile_states):
            tile = _map_box(tuple(int(v) for v in box), target, k)
            out.append(tile if state is TileState.CAMERA_OFF else QRectF(
                tile.left(), tile.bottom() - tile.height() * NAME_STRIP, tile.width(),
                tile.height() * NAME_STRIP))
        return out

    def badge_layout(self) -> list[tuple[QRectF, str, QRectF | None]]:
        """Where each badge is drawn: ``(box, text, face)`` in widget pixels, badge order (the
        text as drawn; ``face`` is the face box, or None)."""
        if self._image is None or not self._show_badges:
            return []
        target = self.image_rect()
        k = self._widget_per_frame_px(target)
        return [(box, text, _map_box(b.face, target, k) if b.face is not None else None)
                for b, (box, text, _) in zip(self._badges, self.badge_geometry())]

    def badge_geometry(self) -> list[tuple[QRectF, str, "_BadgeStyle"]]:
        """Each badge's box, text and style (placed by
        :func:`~fer_desktop.session.badges.place_badges`; kept until the frame, the badges or
        the size change)."""
        if self._image is None or not self._show_badges:
            return []
        if self._layout is None:
            target = self.image_rect()
            k = self._widget_per_frame_px(target)
            texts, slots = [], []
            for badge in self._badges:
                short = confidence_text(badge.confidence) if badge.has_face else ""
                if badge.kind is BadgeKind.UNCERTAIN:
                    short = "?" + short
                texts.append((badge.text, short, ""))
                slots.append(BadgeSlot(
                    _xywh(_map_box(badge.box, target, k)), badge.tile,
                    _xywh(_map_box(badge.face, target, k)) if badge.face is not None else None,
                    tuple((style.width(text), style.height)
                          for style, text in zip(self._all_styles(), texts[-1]))))
            places = place_badges(slots, _xywh(target))
            self._layout = [(QRectF(*box), texts[i][style], self._all_styles()[style])
                            for i, (box, style) in enumerate(places)]
        return self._layout

    def _all_styles(self) -> tuple["_BadgeStyle", "_BadgeStyle", "_BadgeStyle"]:
        """The full badge's style, the compact one's, and the icon alone (compact)."""
        full, small = self._styles
        return full, small, small

    def _paint_badge(self, p: QPainter, badge: Badge, box: QRectF, text: str,
                     style: "_BadgeStyle") -> None:
        icon = style.metrics.height()
        kind = badge.kind
        if kind is BadgeKind.UNCERTAIN:  # a pale badge framed in the guess's colour
            p.setPen(QPen(QColor(badge.accent), 2))
        else:
            p.setPen(QPen(QColor(0, 0, 0, 110), 1))
        p.setBrush(QColor(badge.colour))
        p.drawRoundedRect(box, 3, 3)
        if kind is BadgeKind.UNCERTAIN:
            p.fillRect(QRectF(box.left() + 1, box.top() + 1, 3, box.height() - 2),
                       QColor(badge.accent))
        fg = badge.text_colour
        icon_box = QRectF(box.left() + style.pad_x, box.top() + style.pad_y, icon, icon)
        paint_icon(p, icon_box, kind, badge.emotion, fg)
        if text:
            p.setPen(QColor(fg))
            p.setFont(style.font)
            text_box = box.adjusted(icon + 2 * style.pad_x, 0, 0, 0)
            p.drawText(text_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       text)


class _BadgeStyle:
    """A badge's font and padding (pixels)."""

    def __init__(self, base: QFont, px: int, pad_x: float, pad_y: float):
        self.font = QFont(base)
        self.font.setPixelSize(px)
        self.font.setBold(True)
        self.metrics = QFontMetricsF(self.font)
        self.pad_x, self.pad_y = pad_x, pad_y
        self.height = self.metrics.height() + 2 * pad_y

    def width(self, text: str) -> float:
        """Width of a badge with the icon and ``text`` (the icon alone for "")."""
        icon = self.metrics.height()
        return icon + 2 * self.pad_x + (self.metrics.horizontalAdvance(text) + self.pad_x
                                        if text else 0)


def _xywh(r: QRectF) -> tuple[float, float, float, float]:
    return (r.x(), r.y(), r.width(), r.height())


def _map_box(box: tuple[int, int, int, int], target: QRectF, k: float) -> QRectF:
    """A frame-pixel ``(x, y, w, h)`` box in widget pixels (``k``: widget px per frame px)."""
    x, y, w, h = box
    return QRectF(target.left() + x * k, target.top() + y * k, w * k, h * k)
