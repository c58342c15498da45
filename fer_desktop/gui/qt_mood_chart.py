"""The class mood over the last minutes: a stacked area of the share of faces per expression, the
class mood line (positive minus negative share) below it, and the alerts on the time axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from fer_desktop.session.mood_history import MoodHistory, pauses
from fer_desktop.session.palette import EMOTION_COLOURS
from fer_desktop.session.settings import CHART_WINDOWS_MIN, RATE
from fer_desktop.labels import EMOTIONS
from fer_desktop.analysis.result import FrameResult
from fer_desktop.session.summary import class_mood

#: Bands from the bottom of the chart to the top: positive, neutral, then negative expressions.
STACK_ORDER: tuple[str, ...] = ("happy", "surprise", "neutral", "sad", "fear", "disgust", "angry")
_STACK_INDEX = np.array([EMOTIONS.index(e) for e in STACK_ORDER])
#: Most analyses per second the history is sized for.
MAX_RATE = RATE.hi


def _with_gaps(t: np.ndarray, x: np.ndarray, tops: np.ndarray, mood: np.ndarray):
    """``x``, ``tops`` and ``mood`` with a break in every pause
    (:func:`~fer_desktop.session.mood_history.pauses`): two points where every band is 0 (the
    area is empty there) and the mood is NaN (the line stops)."""
    gaps = pauses(t)
    if not len(gaps):
        return x, tops, mood
    eps = 1e-6
    at = np.repeat(gaps + 1, 2)
    new_x = np.ravel(np.column_stack([x[gaps] + eps, x[gaps + 1] - eps]))
    return (np.insert(x, at, new_x), np.insert(tops, at, 0.0, axis=1),
            np.insert(mood, at, np.nan))


def _theme(widget: QWidget) -> tuple[str, str, str]:
    """``(background, text, grid)`` colours of the chart for the widget's palette."""
    dark = widget.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return ("#202124", "#E8E8E8", "#8A8A8A") if dark else ("#FFFFFF", "#202020", "#808080")


class QtMoodChart(QWidget):
    """Class mood over the last 1, 5 or 15 minutes.

    * Top: stacked area of :meth:`FrameResult.class_shares` (y: percent of the visible faces;
      positive expressions at the bottom, negative ones on top), with a legend in the badge
      colours and the latest share of each.
    * Bottom: the class mood index, ``100 * (positive - negative share)``, -100..100.
    * Alerts: a vertical dashed line through both plots and a triangle above the area.

    x is in minutes before the newest sample; the axis grows with the session up to the chosen
    window. Every plot item is created once; samples go into a :class:`MoodHistory` and the
    items are updated in place with ``setData`` at most ``redraw_hz`` times per second.

    Parameters
    ----------
    window_min : int
        Minutes shown, one of :data:`CHART_WINDOWS_MIN`.
    redraw_hz : float
        Most redraws per second.
    parent : QWidget, optional

    Signals
    -------
    window_changed(int)
        The teacher picked another window (minutes).
    """

    window_changed = Signal(int)

    def __init__(self, window_min: int = 5, redraw_hz: float = 4.0,
                 parent: QWidget | None = None):
        super().__init__(parent)
        longest = max(CHART_WINDOWS_MIN) * 60.0
        self.history = MoodHistory(longest, capacity=int(longest * MAX_RATE))
        self._alerts = np.zeros(0, np.float64)  # Unix seconds
        self._window_min = window_min if window_min in CHART_WINDOWS_MIN else 5
        self._dirty = False
        self._ended = False

        self.plot = pg.GraphicsLayoutWidget()
        self.plot.ci.setContentsMargins(2, 6, 14, 2)
        self.plot.ci.setSpacing(2)
        self.area = area = self.plot.addPlot(row=0, col=0)
        self.mood = mood = self.plot.addPlot(row=1, col=0)
        self.plot.ci.layout.setRowStretchFactor(0, 3)
        self.plot.ci.layout.setRowStretchFactor(1, 1)
        mood.setXLink(area)
        for item in (area, mood):
            item.setMouseEnabled(False, False)
            item.hideButtons()
            item.setMenuEnabled(False)
            item.getAxis("left").setWidth(48)
        area.setYRange(0, 100, padding=0)
        area.setLabel("left", "% of faces")
        area.getAxis("bottom").setStyle(showValues=False)
        # no "0" label: it would touch the mood plot's "+100" just below
        area.getAxis("left").setTicks([[(v, f"{v}") for v in (25, 50, 75, 100)], [(0, "")]])
        mood.setYRange(-100, 100, padding=0.05)
        mood.setLabel("left", "mood index")
        mood.setLabel("bottom", "minutes")
        mood.getAxis("left").setTicks([[(-100, "−100"), (0, "0"), (100, "+100")]])
        mood.getAxis("bottom").setStyle(hideOverlappingLabels=20)

        self._baseline = pg.PlotCurveItem(pen=None)
        area.addItem(self._baseline)
        #: Top boundary of each band, in :data:`STACK_ORDER`; the last one is always at 100 %.
        self.curves: list[pg.PlotCurveItem] = []
        self.fills: list[pg.FillBetweenItem] = []
        below = self._baseline
        for emotion in STACK_ORDER:
            curve = pg.PlotCurveItem(pen=pg.mkPen(255, 255, 255, 160, width=1))
            fill = pg.FillBetweenItem(below, curve, brush=pg.mkBrush(EMOTION_COLOURS[emotion]))
            area.addItem(fill)
            area.addItem(curve)
            self.curves.append(curve)
            self.fills.append(fill)
            below = curve
        self._zero = pg.InfiniteLine(pos=0, angle=0, movable=False)
        mood.addItem(self._zero)
        #: The class mood line (percent).
        self.mood_curve = pg.PlotCurveItem()
        mood.addItem(self.mood_curve)
        #: Alerts: vertical lines (pairs of points) on both plots and markers above the area.
        self.alert_lines = (pg.PlotCurveItem(connect="pairs"), pg.PlotCurveItem(connect="pairs"))
        area.addItem(self.alert_lines[0])
        mood.addItem(self.alert_lines[1])
        self.alert_markers = pg.ScatterPlotItem(symbol="t", size=12)
        area.addItem(self.alert_markers)

        self._span_min = 0.0
        self._set_span(self._window_min)
        #: Latest share per expression, shown in the legend.
        self.legend_values: dict[str, QLabel] = {}

        self.window_combo = QComboBox(self)
        for m in CHART_WINDOWS_MIN:
            self.window_combo.addItem(f"last {m} min", m)
        self.window_combo.setCurrentIndex(CHART_WINDOWS_MIN.index(self._window_min))
        self.window_combo.setToolTip("How much of the class mood the chart shows")
        self.window_combo.activated.connect(self._on_window_combo_activated)
        self.mood_label = QLabel("", self)
        self.mood_label.setToolTip("The class mood index: the share of positive minus the "
                                   "share of negative expressions among the visible faces, "
                                   "from −100 (all negative) to +100 (all positive)")
        title = QLabel("<b>Class mood</b>", self)

        header = QHBoxLayout()
        header.setContentsMargins(6, 4, 6, 0)
        header.setSpacing(14)
        header.addWidget(title)
        header.addWidget(self.mood_label)
        header.addStretch(1)
        header.addWidget(self.window_combo)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.plot, 1)
        body.addWidget(self._make_legend())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(body, 1)
        self._apply_theme()

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
        font.setPixelSize(13)
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

    # -- public API ---------------------------------------------------------------------------

    @property
    def window_min(self) -> int:
        """Minutes shown at most."""
        return self._window_min

    def set_window_min(self, minutes: int) -> None:
        """Show at most the last ``minutes`` (one of :data:`CHART_WINDOWS_MIN`).

        Raises
        ------
        ValueError
            For another value.
        """
        if minutes not in CHART_WINDOWS_MIN:
            raise ValueError(f"chart window must be one of {CHART_WINDOWS_MIN} min")
        self._window_min = minutes
        self.window_combo.setCurrentIndex(CHART_WINDOWS_MIN.index(minutes))
        self._set_span(minutes)  # the axis shows what the menus say
        self._dirty = True

    def add_result(self, result: FrameResult) -> None:
        """Add the class shares of an analysed frame (at its capture time)."""
        self.add_shares(result.timestamp, result.class_shares())

    def add_shares(self, t: float, shares: np.ndarray) -> None:
        """Add ``(7,)`` shares (fractions in :data:`EMOTIONS` order) observed at Unix time ``t``;
        drawn at the next redraw."""
        self.history.append(t, shares)
        self._dirty = True

    def add_alert(self, t: float) -> None:
        """Mark an alert at Unix time ``t``."""
        self._alerts = np.append(self._alerts, t)
        self._dirty = True

    def clear(self) -> None:
        """Forget the history and the alerts (a new class)."""
        self.history.clear()
        self._alerts = np.zeros(0, np.float64)
        self._ended = False
        self._dirty = True

    @property
    def ended(self) -> bool:
        """Whether the chart shows a session that has ended (until :meth:`clear`)."""
        return self._ended

    def set_ended(self) -> None:
        """The session shown has ended: the chart keeps it, and says so."""
        self._ended = True
        self.redraw()

    def redraw(self) -> None:
        """Update the plot items from the history now. Frames without a visible face leave
        the mood line empty (not 0) and the area empty; a pause (no sample for longer than
        :data:`~fer_desktop.session.mood_history.GAP_S` and five analysis intervals,
        :func:`~fer_desktop.session.mood_history.pauses`) is a gap in both, never a slope."""
        self._dirty = False
        t_all, shares_all = self.history.view()
        window_s = 60.0 * self._window_min
        first = int(np.searchsorted(t_all, t_all[-1] - window_s)) if len(t_all) else 0
        t, shares = t_all[first:], shares_all[first:]
        n = len(t)
        x = np.zeros(0)
        tops = np.zeros((len(STACK_ORDER) + 1, 0))
        mood = np.zeros(0)
        if n:
            x = (t - t[-1]) / 60.0
            tops = np.zeros((len(STACK_ORDER) + 1, n))
            np.cumsum(shares[:, _STACK_INDEX] * 100.0, axis=1, out=tops[1:].T)
            seen = shares.sum(axis=1) > 0
            mood = np.where(seen, class_mood(shares) * 100.0, np.nan)
            x, tops, mood = _with_gaps(t, x, tops, mood)
        for curve, y in zip([self._baseline, *self.curves], tops):
            curve.setData(x, y, skipFiniteCheck=True)
        self.mood_curve.setData(x, mood, connect="finite")
        self._redraw_alerts(float(t[-1]) if n else 0.0, n > 0)
        latest = shares[-1] if n else None
        seen = latest is not None and latest.sum() > 0
        for emotion, label in self.legend_values.items():
            label.setText(f"{round(100 * float(latest[EMOTIONS.index(emotion)]))}%"
                          if seen else "")
        when = "at the end of the session" if self._ended else "now"
        if seen:
            value = round(float(class_mood(latest)) * 100)
            self.mood_label.setText(f"mood index {when}: {value:+d}")
        else:
            self.mood_label.setText(f"mood index {when}: no face" if n else "")

    def _redraw_alerts(self, now: float, any_data: bool) -> None:
        ax = (self._alerts - now) / 60.0 if any_data else np.zeros(0)
        ax = ax[(ax >= -self._span_min) & (ax <= 0)]
        xs = np.repeat(ax, 2)
        self.alert_lines[0].setData(xs, np.tile([0.0, 100.0], len(ax)))
        self.alert_lines[1].setData(xs, np.tile([-100.0, 100.0], len(ax)))
        self.alert_markers.setData(ax, np.full(len(ax), 96.0))

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x (n,), tops (7, n))``: what the curves show (x in minutes, tops in percent)."""
        x = self.curves[0].getData()[0]
        tops = np.array([c.getData()[1] for c in self.curves]) if x is not None else None
        return (np.zeros(0) if x is None else np.asarray(x),
                np.zeros((len(self.curves), 0)) if tops is None else tops)

    def mood_data(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x (n,), mood (n,))``: the class mood line (x in minutes, mood -100..100)."""
        x, y = self.mood_curve.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    def alert_x(self) -> np.ndarray:
        """x (minutes) of the alert markers shown."""
        x = self.alert_markers.getData()[0]
        return np.zeros(0) if x is None else np.asarray(x)

    # -- internals ----------------------------------------------------------------------------

    def _set_span(self, minutes: float) -> None:
        """Show the last ``minutes`` minutes with ticks suited to the span."""
        if minutes == self._span_min:
            return
        self._span_min = minutes
        self.area.setXRange(-minutes, 0.0, padding=0.02)
        step, minor_step = (0.5, 0.25) if minutes <= 1 else (1, 0.5) if minutes <= 5 else (5, 1)
        major = [(-v, "now" if v == 0 else f"−{v:g}")
                 for v in np.arange(0, minutes + 1e-9, step)]
        minor = [(-v, "") for v in np.arange(0, minutes + 1e-9, minor_step)]
        for item in (self.area, self.mood):
            item.getAxis("bottom").setTicks([major, minor])

    def _apply_theme(self) -> None:
        background, text, grid = _theme(self)
        self.plot.setBackground(background)
        for item in (self.area, self.mood):
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setTextPen(text)
                axis.setPen(grid)
        self._zero.setPen(pg.mkPen(grid, width=1, style=Qt.PenStyle.DashLine))
        self.mood_curve.setPen(pg.mkPen(text, width=2))
        for line in self.alert_lines:
            line.setPen(pg.mkPen(text, width=2, style=Qt.PenStyle.DashLine))
        self.alert_markers.setBrush(pg.mkBrush(text))
        self.alert_markers.setPen(pg.mkPen(background))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()
        super().changeEvent(event)

    def _on_window_combo_activated(self, index: int) -> None:
        minutes = int(self.window_combo.itemData(index))
        self.set_window_min(minutes)
        self.redraw()
        self.window_changed.emit(minutes)

    def _on_redraw_timer(self) -> None:
        if self._dirty and self.isVisible():
            self.redraw()
