"""One student's expression over the session: a strip per expression (and one for "no face"),
coloured where that expression was on top; a paler colour where the result was uncertain."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from fer_desktop.session.palette import CAMERA_OFF_COLOUR, EMOTION_COLOURS, NO_FACE_COLOUR
from fer_desktop.gui.qt_mood_chart import STACK_ORDER
from fer_desktop.labels import EMOTIONS
from fer_desktop.session.summary import CAMERA_OFF, MAX_GAP_S, NO_FACE, sample_weights, \
    summarize

#: Rows from the bottom: camera off, no face, then the expressions as in the class chart.
ROWS: tuple[str, ...] = ("camera off", "no face", *STACK_ORDER)
#: Row of each code: 0..6 (EMOTIONS), then -2 (camera off) and -1 (no face) from the end.
_ROW_OF_CODE = np.array([ROWS.index(e) for e in EMOTIONS] + [0, 1])


def segments(t: np.ndarray, codes: np.ndarray, uncertain: np.ndarray,
             max_gap_s: float = MAX_GAP_S) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Merge consecutive samples with the same expression and certainty into segments.

    Parameters
    ----------
    t : np.ndarray
        ``(k,)`` sample times, seconds, non-decreasing.
    codes : np.ndarray
        ``(k,)`` expression codes (``0..6`` or :data:`~fer_desktop.session.summary.NO_FACE`).
    uncertain : np.ndarray
        ``(k,) bool``.
    max_gap_s : float
        A sample lasts until the next one, at most this long.

    Returns
    -------
    start, duration : np.ndarray
        ``(s,)`` seconds.
    code : np.ndarray
        ``(s,)`` int.
    uncertain : np.ndarray
        ``(s,) bool``.
    """
    t = np.asarray(t, np.float64)
    if len(t) == 0:
        z = np.zeros(0)
        return z, z, z.astype(int), z.astype(bool)
    w = sample_weights(t, max_gap_s)
    codes = np.asarray(codes, int)
    uncertain = np.asarray(uncertain, bool)
    change = np.ones(len(t), bool)
    change[1:] = (codes[1:] != codes[:-1]) | (uncertain[1:] != uncertain[:-1]) | (
        np.diff(t) > max_gap_s)
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(t)) - 1
    duration = t[ends] + w[ends] - t[starts]
    return t[starts], duration, codes[starts], uncertain[starts]


class QtStudentTimeline(QWidget):
    """The timeline of one student, for the session so far.

    Signals
    -------
    closed()
        The teacher closed the view.
    """

    closed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.student_id: int | None = None
        self.title = QLabel("", self)
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Close the student's timeline")
        close.setAutoRaise(True)
        close.clicked.connect(self._on_close_clicked)

        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setMouseEnabled(False, False)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setYRange(-0.6, len(ROWS) - 0.4, padding=0)
        item.setLabel("bottom", "minutes since the start of the session")
        item.getAxis("left").setTicks([[(i, name) for i, name in enumerate(ROWS)]])
        item.getAxis("left").setStyle(hideOverlappingLabels=False)  # the bottom row's label
        item.getAxis("left").setWidth(80)  # room for "camera off"
        #: The segments; updated with ``setOpts`` only.
        self.bars = pg.BarGraphItem(x0=[], width=[], y=[], height=0.8, pen=None)
        item.addItem(self.bars)

        head = QHBoxLayout()
        head.setContentsMargins(6, 4, 2, 0)
        head.addWidget(self.title, 1)
        head.addWidget(close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        self.summary.setContentsMargins(6, 0, 6, 0)
        self._apply_theme()

    def set_data(self, student_id: int, name: str, t0: float, t: np.ndarray, codes: np.ndarray,
                 confidence: np.ndarray, uncertain_below: float) -> None:
        """Show ``name``'s history.

        Parameters
        ----------
        student_id : int
            Their id (the key of :meth:`SessionRecord.student_timeline`).
        name : str
            Display name.
        t0 : float
            Start of the session, Unix seconds (x = 0).
        t, codes, confidence : np.ndarray
            ``(k,)`` as :meth:`SessionRecord.student_timeline` returns.
        uncertain_below : float
            Confidence below which a result is drawn pale.
        """
        self.student_id = student_id
        self.title.setText(f"<b>{html.escape(name)}</b> — expression over the session")
        start, duration, code, unsure = segments(
            t, codes, (np.asarray(confidence) < uncertain_below) & (np.asarray(codes) >= 0))
        brushes = []
        for c, u in zip(code, unsure):
            colour = pg.mkColor(NO_FACE_COLOUR if c == NO_FACE else CAMERA_OFF_COLOUR
                                if c == CAMERA_OFF else EMOTION_COLOURS[EMOTIONS[c]])
            if u:
                colour.setAlpha(90)
            brushes.append(pg.mkBrush(colour))
        self.bars.setOpts(x0=(start - t0) / 60.0, width=duration / 60.0,
                          y=_ROW_OF_CODE[code].astype(float), height=0.8, brushes=brushes)
        span = max(1.0, float((start[-1] + duration[-1] - t0) / 60.0)) if len(start) else 1.0
        self.plot.getPlotItem().setXRange(0, span, padding=0.02)
        (s,) = summarize(t, np.zeros(len(t), int), codes) if len(t) else (None,)
        if s is None or s.observed_s == 0:
            self.summary.setText("")
            return
        self.summary.setText("Of the time observed: " + " · ".join(s.share_words(3)) +
                             ". Pale: uncertain estimate.")

    def bar_data(self) -> dict:
        """The segments drawn: ``x0``, ``width`` (minutes), ``y`` (row in :data:`ROWS`)."""
        return {k: np.asarray(self.bars.opts[k]) for k in ("x0", "width", "y")}

    def _apply_theme(self) -> None:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        self.plot.setBackground("#202124" if dark else "#FFFFFF")
        for name in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setTextPen("#E8E8E8" if dark else "#202020")
            axis.setPen("#8A8A8A" if dark else "#808080")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_theme()
        super().changeEvent(event)

    def _on_close_clicked(self) -> None:
        self.hide()
        self.closed.emit()
