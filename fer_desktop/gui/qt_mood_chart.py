"""The class mood over the last minutes: a stacked area of the share of faces per expression."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from fer_desktop.gui.mood_history import MoodHistory
from fer_desktop.gui.palette import EMOTION_COLOURS
from fer_desktop.labels import EMOTIONS
from fer_desktop.pipeline import FrameResult

#: Bands from the bottom of the chart to the top: positive, neutral, then negative expressions.
STACK_ORDER: tuple[str, ...] = ("happy", "surprise", "neutral", "sad", "fear", "disgust", "angry")
_STACK_INDEX = np.array([EMOTIONS.index(e) for e in STACK_ORDER])


class QtMoodChart(QWidget):
    """Stacked area of :meth:`FrameResult.class_shares` over the last ``window_s`` seconds (the
    x axis grows minute by minute up to it): x in minutes before the newest sample, y in percent
    of the visible faces, and a legend in the badge colours with the latest share of each.

    The curves and fills are created once; samples go into a :class:`MoodHistory` and the curves
    are redrawn from preallocated buffers at most ``redraw_hz`` times per second.

    Parameters
    ----------
    window_s : float
        History shown, seconds.
    redraw_hz : float
        Most redraws per second.
    parent : QWidget, optional
    """

    def __init__(self, window_s: float = 300.0, redraw_hz: float = 4.0,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.history = MoodHistory(window_s)
        cap = self.history.capacity
        self._x = np.zeros(cap, np.float64)
        self._y = np.zeros((len(STACK_ORDER) + 1, cap), np.float64)  # row 0: the baseline
        self._dirty = False

        self.plot = pg.PlotWidget(background="w")
        item = self.plot.getPlotItem()
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setYRange(0, 100, padding=0)
        item.setContentsMargins(2, 8, 14, 2)  # room for the "now" tick label
        item.setLabel("bottom", "minutes", color="#303030")
        item.setLabel("left", "% of faces", color="#303030")
        item.getAxis("bottom").setStyle(hideOverlappingLabels=20)
        item.getAxis("left").setTicks([[(v, f"{v}") for v in (0, 25, 50, 75, 100)]])
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTextPen("#303030")
            axis.setPen("#808080")

        self._baseline = pg.PlotCurveItem(pen=None)
        item.addItem(self._baseline)
        #: Top boundary of each band, in :data:`STACK_ORDER`; the last one is always at 100 %.
        self.curves: list[pg.PlotCurveItem] = []
        self.fills: list[pg.FillBetweenItem] = []
        below = self._baseline
        for emotion in STACK_ORDER:
            curve = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 160, width=1))
            fill = pg.FillBetweenItem(below, curve, brush=pg.mkBrush(EMOTION_COLOURS[emotion]))
            item.addItem(fill)
            item.addItem(curve)
            self.curves.append(curve)
            self.fills.append(fill)
            below = curve

        self._span_min = 0
        self._set_span(1)
        #: Latest share per expression, shown in the legend.
        self.legend_values: dict[str, QLabel] = {}

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self._make_legend())

        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / redraw_hz)))
        self._timer.timeout.connect(self._on_redraw_timer)
        self._timer.start()

    def _make_legend(self) -> QWidget:
        """One swatch, name and latest share per expression, top band first, like the stack."""
        legend = QWidget(self)
        grid = QGridLayout(legend)
        grid.setContentsMargins(4, 8, 8, 8)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        font = QFont(self.font())
        font.setPixelSize(12)
        for row, emotion in enumerate(reversed(STACK_ORDER)):
            swatch = QLabel(legend)
            swatch.setFixedSize(14, 14)
            swatch.setStyleSheet(f"background: {EMOTION_COLOURS[emotion]};"
                                 "border: 1px solid rgba(0,0,0,90); border-radius: 2px;")
            name = QLabel(emotion, legend)
            name.setFont(font)
            value = QLabel("", legend)
            value.setFont(font)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setMinimumWidth(QFontMetrics(font).horizontalAdvance("100%"))
            self.legend_values[emotion] = value
            grid.addWidget(swatch, row, 0)
            grid.addWidget(name, row, 1)
            grid.addWidget(value, row, 2)
        grid.setRowStretch(len(STACK_ORDER), 1)
        return legend

    def add_result(self, result: FrameResult) -> None:
        """Add the class shares of an analysed frame (at its capture time)."""
        self.add_shares(result.timestamp, result.class_shares())

    def add_shares(self, t: float, shares: np.ndarray) -> None:
        """Add ``(7,)`` shares (fractions in :data:`EMOTIONS` order) observed at Unix time ``t``;
        drawn at the next redraw."""
        self.history.append(t, shares)
        self._dirty = True

    def clear(self) -> None:
        """Forget the history (a new class)."""
        self.history.clear()
        self._dirty = True

    def _set_span(self, minutes: int) -> None:
        """Show the last ``minutes`` minutes, with a tick per minute and per half minute."""
        if minutes == self._span_min:
            return
        self._span_min = minutes
        item = self.plot.getPlotItem()
        item.setXRange(-minutes, 0.0, padding=0.02)
        major = [(-m, f"-{m}" if m else "now") for m in range(minutes, -1, -1)]
        minor = [(-m - 0.5, f"-{m + 0.5:g}" if minutes <= 2 else "") for m in range(minutes)]
        item.getAxis("bottom").setTicks([major, minor])

    def redraw(self) -> None:
        """Update the curves from the history now. The x axis grows with the session, from one
        minute up to the whole window."""
        self._dirty = False
        t, shares = self.history.view()
        n = len(t)
        x = self._x[:n]
        longest = max(1, math.ceil(self.history.window_s / 60))
        self._set_span(min(longest, max(1, math.ceil((t[-1] - t[0]) / 60 + 1e-6))) if n else 1)
        if n:
            np.subtract(t, t[-1], out=x)
            x /= 60.0
            np.cumsum(shares[:, _STACK_INDEX] * 100.0, axis=1, out=self._y[1:, :n].T)
        for curve, y in zip([self._baseline, *self.curves], self._y[:, :n]):
            curve.setData(x, y, skipFiniteCheck=True)
        latest = shares[-1] if n else None
        for emotion, label in self.legend_values.items():
            label.setText("" if latest is None or latest.sum() == 0 else
                          f"{round(100 * float(latest[EMOTIONS.index(emotion)]))}%")

    def _on_redraw_timer(self) -> None:
        if self._dirty and self.isVisible():
            self.redraw()

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x (n,), tops (7, n))``: what the curves show (x in minutes, tops in percent)."""
        x = self.curves[0].getData()[0]
        tops = np.array([c.getData()[1] for c in self.curves]) if x is not None else None
        return (np.zeros(0) if x is None else np.asarray(x),
                np.zeros((len(self.curves), 0)) if tops is None else tops)
