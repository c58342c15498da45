"""How the window draws its session: badges and rows of the last frame, the settings and the
session's state in the controls, the paused banner, the selected student's timeline, errors,
and the window's own screen rectangle (blanked from every capture). A mixin of
:class:`fer_desktop.gui.qt_main_window.QtMainWindow`, which provides ``session``, the views
(``preview``, ``students``, ``timeline``, ``alert_bar``, ``controls``, ``_recording``) and
``_own_rects``.
"""

from __future__ import annotations

import logging

from fer_desktop.capture.sources import SourceError
from fer_desktop.capture.spec import SourceSpec
from fer_desktop.gui.qt_sources import PICK_FILE, PICK_REGION
from fer_desktop.session.live import Shown
from fer_desktop.session.updates import SessionState

log = logging.getLogger(__name__)

#: What the preview says before a source is chosen.
WELCOME = ("Choose the meeting: Session ▸ Choose the meeting on screen… (Ctrl+M), then drag a "
           "rectangle over the meeting's gallery. Or pick a camera or a recording under Source. "
           "fer-desktop never analyses its own window.")


class ScreenRects:
    """The window's own screen rectangles, ``(x, y, w, h)`` physical pixels, for the capture
    thread to blank out (replaced as a whole, never changed in place)."""

    def __init__(self) -> None:
        self.rects: tuple = ()

    def __call__(self) -> tuple:
        return self.rects


class QtWindowViews:
    """Draws the session's state in the window's views (a mixin)."""

    #: The run whose first analysed frame the status bar announced.
    _announced_run: int | None = None

    def _track_geometry(self) -> None:
        if not self.isVisible() or self.isMinimized():
            self._own_rects.rects = ()
            return
        g = self.frameGeometry()
        k = self.devicePixelRatioF()
        self._own_rects.rects = ((round(g.x() * k), round(g.y() * k), round(g.width() * k),
                                  round(g.height() * k)),)

    def _show(self, shown: Shown | None) -> None:
        """Badges and rows of the last frame (after a frame, a rename, a privacy switch)."""
        if shown is None:
            return
        self.preview.set_badges(shown.badges)
        if self.settings.privacy.per_student:
            self.students.set_rows(list(shown.result.student_ids), shown.badges)
        self._mark_selected()
        self._timeline_dirty = self.session.selected is not None

    def _show_settings(self) -> None:
        mode = self.settings.privacy
        self.controls.show_settings(self.settings)
        self.preview.show_badges = mode.per_student
        self.preview.cover_names = mode.covers_tiles
        self.students.names_editable = mode.names
        self.students.setVisible(mode.per_student)
        if not mode.per_student:
            self._show_student(None)
        self._show(self.session.last)
        self._show_state()

    def _idle_text(self) -> str:
        """What the preview says with no session running: choose the meeting, or (once a
        source is chosen) press Start to analyse it."""
        spec = self.source_combo.currentData()
        if not spec or spec in (PICK_REGION, PICK_FILE):
            return WELCOME
        try:
            title = SourceSpec.parse(spec).title
        except SourceError:
            return WELCOME
        return (f"Press Start (Ctrl+R) to analyse {title}, or choose another source under "
                "Source.")

    def _show_idle(self, text: str | None = None) -> None:
        """The preview's text while no frame is shown (``None``: :meth:`_idle_text`)."""
        self.preview.set_placeholder(text or self._idle_text())

    def _show_analysing(self, run_id: int) -> None:
        """"Analysing …" in the status bar once a run's first frame is analysed (not when
        it starts: a camera may never open)."""
        if run_id != self._announced_run and self.session.source is not None:
            self._announced_run = run_id
            self.statusBar().showMessage(f"Analysing {self.session.source.title}.", 5_000)

    def _show_state(self) -> None:
        s = self.session
        self.controls.show_state(s.state, s.privacy, s.privacy.per_student)
        running = s.state is SessionState.RUNNING
        if not running:  # nothing is analysed: no rate, no latency
            self._stats.setText("")
        if running and s.privacy.per_student and s.csv_path is not None:
            self._recording.setText(f"● Recording to {s.csv_path.name}")
        elif running:
            self._recording.setText("● Class mood only")
        else:
            self._recording.setText("Paused" if s.state is SessionState.PAUSED else "")
        self._recording.setToolTip(str(s.csv_path or ""))
        self._show_undo()
        if s.state is SessionState.PAUSED:
            self._show_paused()

    def _show_paused(self) -> None:
        s = self.session
        why = s.error or "Paused"
        source = s.source.title if s.source is not None else "a source"
        self.preview.set_paused(f"{why} — Resume (Ctrl+P) analyses {source}; Stop saves the "
                                "session.")

    def _show_student(self, student_id: int | None) -> None:
        if not self.settings.privacy.per_student:
            student_id = None
        self.session.selected = student_id
        self._mark_selected()
        if student_id is None:
            self.timeline.hide()
            return
        self.timeline.show()
        self._refresh_timeline()

    def _mark_selected(self) -> None:
        self.preview.set_selected(self.session.rows_of(self.session.selected))
        self.students.select_student(self.session.selected)

    def _refresh_timeline(self) -> None:
        self._timeline_dirty = False
        s = self.session
        if s.selected is None or not self.timeline.isVisible():
            return
        t, codes, conf = s.record.student_timeline(s.selected)
        self.timeline.set_data(s.selected, s.name_of(s.selected), s.record.started or 0.0,
                               t, codes, conf, self.settings.uncertain_below)

    def _show_error(self, message: str) -> None:
        """An error in the window (never a modal box) and in the status bar."""
        log.warning("%s", message)
        self.alert_bar.show_error(message)
        if self.preview.timestamp == float("-inf"):
            self.preview.set_placeholder(message)
