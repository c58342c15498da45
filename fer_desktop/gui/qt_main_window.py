"""The main window: the teacher's cockpit. It lays out the preview, the student list, the class
chart and a student's timeline, and binds them to a Qt-free :class:`~fer_desktop.session.live.
LiveSession`, which holds the session's state (running or paused, the source, the privacy mode,
names, who each student is, alerts). The window forwards the teacher's commands to the session,
runs the analysis the session asks for on a :class:`~fer_desktop.gui.qt_worker.QtAnalysisWorker`
and draws what the session returns."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from fer_desktop.capture.sources import SourceError
from fer_desktop.runtime import release_memory
from fer_desktop.capture.spec import SourceSpec
from fer_desktop.gui.qt_actions import QtSessionControls
from fer_desktop.gui.qt_dialogs import QtAlertBar, QtPrivacyNotice
from fer_desktop.gui.qt_mood_chart import QtMoodChart
from fer_desktop.gui.qt_preview import QtFramePreview
from fer_desktop.gui.qt_report import SavedSession
from fer_desktop.gui.qt_settings import QtSettingsStore
from fer_desktop.gui.qt_sources import PICK_FILE, PICK_REGION
from fer_desktop.gui.qt_student_table import QtStudentTable
from fer_desktop.gui.qt_timeline import QtStudentTimeline
from fer_desktop.gui.qt_window_corrections import QtWindowCorrections
from fer_desktop.gui.qt_window_menus import QtWindowMenus, sessions_dir
from fer_desktop.gui.qt_window_views import QtWindowViews, ScreenRects
from fer_desktop.gui.qt_worker import QtAnalysisWorker
from fer_desktop.session.live import LiveSession
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.session.record import SessionRecord
from fer_desktop.session.runner import AnalysisUpdate, RunParams
from fer_desktop.session.settings import RATE, AppSettings
from fer_desktop.session.updates import SessionState

class QtMainWindow(QtWindowMenus, QtWindowViews, QtWindowCorrections, QMainWindow):
    """fer-desktop's window.

    Parameters
    ----------
    model_path : str or Path, optional
        Emotion model; default the shipped one.
    csv_path : str or Path, optional
        Session CSV for every session of this window (appended); default a new
        ``session-YYYYmmdd-HHMMSS.csv`` per session, in
        :func:`~fer_desktop.gui.qt_window_menus.sessions_dir`.
    rate : float, optional
        Analyses per second; default the stored setting.
    settings : QSettings, optional
        Where settings persist; default the application's ``QSettings()`` (tests pass an INI).
    probe : callable, optional
        Returns the cameras that open (default: probe them in the background).
    parent : QWidget, optional
    """

    def __init__(self, model_path: str | os.PathLike | None = None,
                 csv_path: str | os.PathLike | None = None, rate: float | None = None,
                 settings: QSettings | None = None, probe=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("fer-desktop")
        self._store = QtSettingsStore(settings)
        app_settings = self._store.load()
        if rate is not None:
            app_settings = dataclasses.replace(app_settings, rate=RATE.clamp(rate))
        self._model_path = Path(model_path) if model_path else None
        self._own_rects = ScreenRects()  # read by the capture thread; holds no Qt object
        self.session = LiveSession(app_settings, csv_path=csv_path, sessions_dir=sessions_dir(),
                                   exclude=self._own_rects)
        self._worker: QtAnalysisWorker | None = None
        self._kit = None  # the model, cascade and OCR, loaded once and kept across runs
        self._notice: QtPrivacyNotice | None = None
        self._pending_start = False
        self._last_saved: SavedSession | None = None
        self._timeline_dirty = False
        self._shown_once = False
        self._ticks = 0

        self.preview = QtFramePreview(self)
        self.alert_bar = QtAlertBar(self)
        self.students = QtStudentTable(self)
        self.mood_chart = QtMoodChart(app_settings.chart_window_min, parent=self)
        self.timeline = QtStudentTimeline(self)
        self.timeline.setMaximumHeight(320)
        self.timeline.hide()
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.alert_bar)
        column.addWidget(self.preview, 1)
        self.right_split = QSplitter(Qt.Orientation.Vertical, self)
        for widget, stretch in ((self.students, 3), (self.mood_chart, 2), (self.timeline, 2)):
            self.right_split.addWidget(widget)
            self.right_split.setStretchFactor(self.right_split.count() - 1, stretch)
        self.main_split = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_split.addWidget(left)
        self.main_split.addWidget(self.right_split)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([860, 460])
        self.setCentralWidget(self.main_split)

        self.controls = c = QtSessionControls(self, self._store, app_settings, probe)
        self.source_combo = c.source
        self.start_action, self.pause_action = c.start, c.pause
        self.export_action, self.recent_menu = c.export_csv, c.recent
        self._stats = QLabel("", self)
        self._recording = QLabel("", self)
        local = QLabel("Local only · no network", self)
        local.setToolTip("Everything runs on this computer: fer-desktop opens no network "
                         "connection and saves no video frame unless you take a snapshot.")
        for label in (self._recording, self._stats, local):
            self.statusBar().addPermanentWidget(label)

        for signal, slot in (
                (c.start.triggered, self._on_start_triggered),
                (c.pause.triggered, self._on_pause_triggered),
                (c.choose_meeting.triggered, self._on_choose_meeting_triggered),
                (c.export_session.triggered, self._on_export_session_triggered),
                (c.export_csv.triggered, self._on_export_csv_triggered),
                (c.snapshot.triggered, self._on_snapshot_triggered),
                (c.settings.triggered, self._on_settings_triggered),
                (c.quit.triggered, self.close),
                (c.notice.triggered, self.show_notice),
                (c.shortcuts.triggered, self._on_shortcuts_triggered),
                (c.legend.triggered, self._on_legend_triggered),
                (c.about.triggered, self._on_about_triggered),
                (c.chart_windows.triggered, self._on_chart_windows_triggered),
                (c.source.chosen, self._on_source_chosen),
                (c.source.message, self._on_source_message),
                (c.rate.valueChanged, self._on_rate_changed),
                (c.privacy.activated, self._on_privacy_activated),
                (c.recent.aboutToShow, self._on_recent_about_to_show),
                (c.recent.triggered, self._on_recent_triggered),
                (self.preview.student_clicked, self._on_preview_student_clicked),
                (self.students.student_clicked, self._show_student),
                (self.students.name_edited, self._on_students_name_edited),
                (self.timeline.closed, self._on_timeline_closed),
                (self.mood_chart.window_changed, self._on_mood_chart_window_changed)):
            signal.connect(slot)
        self._bind_corrections()
        self._timeline_timer = QTimer(self)
        self._timeline_timer.setInterval(1000)
        self._timeline_timer.timeout.connect(self._on_timeline_timer)
        self._timeline_timer.start()

        self.resize(1320, 800)
        if (geometry := self._store.layout("geometry")) is not None:
            self.restoreGeometry(geometry)
        if (state := self._store.layout("window")) is not None:
            self.restoreState(state)
        last = self._store.last_source
        if last and (SourceSpec.parse(last).live or Path(last).exists()):
            self.source_combo.select(last)
        self._show_settings()
        self._show_idle()

    # -- what the window shows ----------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """Whether a session is running, paused, or none is open."""
        return self.session.state

    @property
    def is_running(self) -> bool:
        """Whether an analysis run is in progress."""
        return self._worker is not None and self._worker.isRunning()

    @property
    def worker(self) -> QtAnalysisWorker | None:
        """The current (or last) analysis worker."""
        return self._worker

    @property
    def record(self) -> SessionRecord:
        """The numbers of the current (or last) session."""
        return self.session.record

    @property
    def settings(self) -> AppSettings:
        return self.session.settings

    @property
    def store(self) -> QtSettingsStore:
        return self._store

    @property
    def session_csv(self) -> Path | None:
        """The CSV the current (or last) session is recorded to."""
        return self.session.csv_path

    @property
    def selected_student(self) -> int | None:
        """Id of the selected student, or ``None``."""
        return self.session.selected

    # -- the teacher's commands -----------------------------------------------------------------

    def start(self, source: str | None = None) -> None:
        """Analyse ``source`` (a spec, see :class:`SourceSpec`; default the picker's). Opens a
        session when none is open; within one, switches source or resumes. Problems are shown
        in the window, never raised. Before the responsible-use notice is acknowledged, shows
        it first."""
        if not self.notice_acknowledged:
            self._pending_start = source or True
            self.show_notice()
            return
        if source is None:
            source = self.source_combo.currentData()
            if source in (PICK_REGION, PICK_FILE):
                source = self.source_combo.ask(source)
                if source is None:
                    return
        self._stop_worker()
        try:
            params = self.session.start(source)
        except (SourceError, ValueError) as exc:
            self._show_error(str(exc))
            return
        self._begin_ui()
        self._run(params)

    def choose_source(self, source: str) -> None:
        """The teacher picked ``source``: analysed at once while running; while paused or idle,
        it is what Resume or Start opens."""
        running = self.state is SessionState.RUNNING
        if running:
            self._stop_worker()
        try:
            params = self.session.choose_source(source)
        except SourceError as exc:
            self._show_error(str(exc))
            return
        self.source_combo.select(str(self.session.source))
        self._store.last_source = str(self.session.source)
        if params is not None:
            self._run(params)
        elif self.state is SessionState.PAUSED:
            if self.session.error is None:  # the old source's error is no longer true
                self.alert_bar.clear_error()
            self._show_paused()

    def pause(self) -> None:
        """Pause: the source is released, the session's numbers and the analysis are kept."""
        if self.session.pause():
            self._stop_worker()
            self._show_state()

    def resume(self) -> None:
        """Go on with a paused session, on the source chosen last."""
        self._stop_worker()
        params = self.session.resume()
        if params is not None:
            self._run(params)

    def stop(self) -> SavedSession | None:
        """Stop the session and save its folder under the export folder; everything shown
        about it is cleared. Returns what was saved, if anything."""
        self._stop_worker()
        ended = self.session.stop()
        self.alert_bar.clear()  # first: a message of the save (a fallback folder) stays
        saved = None
        if ended is not None:
            saved = self._save(self._store.export_dir(self.settings), ended)
        self.students.clear_rows()
        self._show_student(None)
        self.mood_chart.set_ended()  # it keeps the ended session until the next one's frame
        self.preview.set_paused(None)
        self.preview.clear()
        self._show_idle("Session saved. Press Start for a new session." if saved else None)
        self._show_state()
        if saved is None:
            self.statusBar().showMessage("Stopped.", 10_000)
        return saved

    def apply_settings(self, settings: AppSettings) -> None:
        """Use and store ``settings`` (a privacy switch that must wait is refused, with why)."""
        detector = self.settings.detector
        why = self.session.apply_settings(settings)
        if why:
            self.statusBar().showMessage(why, 10_000)
        if self.settings.detector != detector and self.state is SessionState.RUNNING:
            self.choose_source(str(self.session.source))  # the next run loads the detector
        self._store.save(self.settings)  # a run reads the rate the session set: no relay
        if self.mood_chart.window_min != self.settings.chart_window_min:
            self.mood_chart.set_window_min(self.settings.chart_window_min)
        self._show_settings()

    def set_privacy(self, mode: PrivacyMode) -> bool:
        """Switch the privacy mode; it reaches the list, the preview, the live CSV and every
        export at once. Returns whether switched (Aggregate only waits for the session's
        end)."""
        self.apply_settings(dataclasses.replace(self.settings, privacy=mode))
        return self.settings.privacy is mode

    def show_student(self, row: int | None) -> None:
        """Select the student of ``row`` of the latest frame and show their timeline."""
        self._show_student(self.session.student_at(row))

    # -- internals ------------------------------------------------------------------------------

    def _run(self, params: RunParams) -> None:
        worker = QtAnalysisWorker(params, kit=self._kit, model_path=self._model_path,
                                  parent=self)
        worker.updated.connect(self._on_worker_updated)
        worker.errored.connect(self._on_worker_errored)
        worker.status.connect(self._on_worker_status)
        worker.kit_ready.connect(self._on_worker_kit_ready)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        self._store.last_source = str(params.source)
        self.source_combo.select(str(params.source))
        self.alert_bar.clear_error()
        self.preview.set_paused(None)
        if self.preview.timestamp == float("-inf"):
            self.preview.set_placeholder(f"Starting {params.source.title}…")
        worker.start()  # "Analysing" once its first frame is analysed, not before
        self.statusBar().showMessage(f"Opening {params.source.title}…", 10_000)
        self._show_state()

    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:  # stopped on purpose: the session knows what comes next
            worker.stop()
            self.session.rows_written(worker.rows_written)
            worker.deleteLater()

    def _begin_ui(self) -> None:
        """A new session: nothing of the last one stays on screen (the chart keeps the ended
        session until the new one's first frame: a start that fails leaves it)."""
        if len(self.session.record) == 0:
            self.alert_bar.clear()
            self.students.clear_rows()
            self._show_student(None)

    # -- slots ----------------------------------------------------------------------------------

    @Slot()
    def _on_start_triggered(self) -> None:
        if self.state is SessionState.IDLE:
            self.start()
        else:
            self.stop()

    @Slot()
    def _on_pause_triggered(self) -> None:
        if self.state is SessionState.PAUSED:
            self.resume()
        else:
            self.pause()

    @Slot()
    def _on_choose_meeting_triggered(self) -> None:
        spec = self.source_combo.ask(PICK_REGION)
        if spec is not None:
            self._on_source_chosen(spec)

    @Slot(str)
    def _on_source_chosen(self, spec: str) -> None:
        if self.state is SessionState.IDLE:
            self.source_combo.select(spec)
            self._store.last_source = spec
            if self.preview.timestamp == float("-inf"):
                self._show_idle()
            self.statusBar().showMessage("Press Start (Ctrl+R) to analyse it.", 10_000)
        else:
            self.choose_source(spec)

    @Slot(str)
    def _on_source_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 10_000)

    @Slot(float)
    def _on_rate_changed(self, value: float) -> None:
        if (rate := self.controls.rate.number()) != self.settings.rate:
            self.apply_settings(dataclasses.replace(self.settings, rate=rate))

    @Slot(int)
    def _on_privacy_activated(self, index: int) -> None:
        self.set_privacy(self.controls.privacy.itemData(index))

    @Slot(QAction)
    def _on_chart_windows_triggered(self, action: QAction) -> None:
        self.apply_settings(dataclasses.replace(self.settings,
                                                chart_window_min=int(action.data())))
        self.mood_chart.redraw()

    @Slot(int)
    def _on_mood_chart_window_changed(self, minutes: int) -> None:
        self.apply_settings(dataclasses.replace(self.settings, chart_window_min=minutes))

    @Slot(int)
    def _on_preview_student_clicked(self, row: int) -> None:
        self.show_student(row)

    @Slot(int, str)
    def _on_students_name_edited(self, student_id: int, name: str) -> None:
        self.session.rename(student_id, name)
        self._show(self.session.last)

    @Slot()
    def _on_timeline_closed(self) -> None:
        self._show_student(None)

    @Slot()
    def _on_timeline_timer(self) -> None:
        self._track_geometry()  # also when the frame changes without a move or resize
        self._ticks += 1
        if self._ticks % 60 == 0:  # once a minute: freed memory back to the system
            release_memory()
        if self._timeline_dirty:
            self._refresh_timeline()

    @Slot(object)
    def _on_worker_updated(self, update: AnalysisUpdate) -> None:
        shown = self.session.add(update.result, update.run_id)
        if shown is None or not self.preview.set_update(update, shown.badges):
            return
        self._show(shown)
        if len(self.session.record) == 1:  # a new session's first frame: the last one goes
            self.mood_chart.clear()
        self._show_analysing(update.run_id)
        self.mood_chart.add_result(shown.result)
        for alert in shown.alerts:
            self.mood_chart.add_alert(alert.t)
            self.alert_bar.show_alert(alert.t, alert.message)
        self._stats.setText(f"{update.analyses_per_s:.1f} analyses/s · latency "
                            f"{update.latency_s * 1000:.0f} ms · {shown.status}")

    @Slot(str)
    def _on_worker_errored(self, message: str) -> None:
        worker = self.sender()
        if worker is self._worker:
            self.session.run_finished(worker.run_id, message)
            self.statusBar().clearMessage()  # not "Opening…" or "Analysing…" any more
            self._show_error(message)

    @Slot(str)
    def _on_worker_status(self, message: str) -> None:
        if self.sender() is self._worker:
            self.statusBar().showMessage(message, 15_000)
            self.session.error = message

    @Slot(object)
    def _on_worker_kit_ready(self, kit) -> None:
        self._kit = kit

    @Slot()
    def _on_worker_finished(self) -> None:
        worker = self.sender()
        if worker is not self._worker:
            return
        self._worker = None
        self.session.run_finished(worker.run_id, self.session.error)
        self.session.rows_written(worker.rows_written)
        worker.deleteLater()
        self._show_state()

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        self._track_geometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._track_geometry()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._track_geometry()
        if not self._shown_once:
            self._shown_once = True
            for name, splitter in (("main_split", self.main_split),
                                   ("right_split", self.right_split)):
                if (state := self._store.layout(name)) is not None:
                    splitter.restoreState(state)
        if not self.notice_acknowledged and self._notice is None:
            QTimer.singleShot(0, self.show_notice)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._track_geometry()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.state is not SessionState.IDLE:
            self.stop()
        self._stop_worker()
        self._store.set_layout("geometry", self.saveGeometry())
        self._store.set_layout("window", self.saveState())
        self._store.set_layout("main_split", self.main_split.saveState())
        self._store.set_layout("right_split", self.right_split.saveState())
        self._store.qsettings.sync()
        super().closeEvent(event)
