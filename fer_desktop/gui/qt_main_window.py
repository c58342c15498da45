"""The main window: the teacher's cockpit. Source picker, Start / Pause / Stop of a session,
the live preview with badges, the student list, the class-mood chart, a student's timeline,
alerts, the privacy mode, settings, and the session folder saved at the end.

The window holds no analysis logic: the worker thread analyses, the Qt-free
:class:`SessionRecord`, :class:`AlertEngine` and :func:`badges_for` turn results into what is
shown, and :func:`save_session` writes the session folder.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDesktopServices, QKeySequence, \
    QShowEvent
from PySide6.QtWidgets import QComboBox, QDialog, QDoubleSpinBox, QFileDialog, QInputDialog, \
    QLabel, QMainWindow, QMessageBox, QSplitter, QStyle, QToolBar, QVBoxLayout, QWidget

from fer_desktop.session.export import ExportError, copy_csv
from fer_desktop.session.alerts import Alert, AlertEngine
from fer_desktop.session.badges import badges_for
from fer_desktop.gui.qt_dialogs import QtAlertBar, QtPrivacyNotice, QtSettingsDialog
from fer_desktop.gui.qt_mood_chart import QtMoodChart
from fer_desktop.gui.qt_preview import QtFramePreview
from fer_desktop.gui.qt_region_picker import QtRegionPicker
from fer_desktop.gui.qt_report import SavedSession, save_session
from fer_desktop.gui.qt_settings import QtSettingsStore
from fer_desktop.gui.qt_student_table import QtStudentTable
from fer_desktop.gui.qt_timeline import QtStudentTimeline
from fer_desktop.gui.qt_worker import QtAnalysisWorker
from fer_desktop.session.updates import AnalysisUpdate, SessionState, session_file_name
from fer_desktop.session.record import SessionRecord
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.session.settings import AppSettings
from fer_desktop.capture.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, SourceError, list_monitors
from fer_desktop.analysis.roster import Roster
from fer_desktop.analysis.students import student_name

log = logging.getLogger(__name__)

#: Combo-box entries that open a dialog instead of naming a source.
_PICK_REGION = "@region"
_PICK_FILE = "@file"
#: Cameras offered in the source picker.
CAMERAS = (0, 1)
#: Privacy modes as the picker names them.
PRIVACY_TITLES = {PrivacyMode.NAMED: "Names", PrivacyMode.ANONYMOUS: "Anonymous",
                  PrivacyMode.AGGREGATE: "Aggregate only"}
PRIVACY_TIPS = {
    PrivacyMode.NAMED: "Students appear under the names you type in the list (double-click).",
    PrivacyMode.ANONYMOUS: "Every student is \"Student N\" on screen and in every export; the "
                           "names in the preview's tiles are covered.",
    PrivacyMode.AGGREGATE: "Only the class mood is shown and kept: no per-student badge, row, "
                           "timeline or export.",
}


def autosave_csv_path(when: float | None = None) -> Path:
    """Where a session is recorded when no CSV path is given:
    ``<AppDataLocation>/sessions/session-YYYYmmdd-HHMMSS.csv``."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "sessions" / session_file_name(when)


def normalise_spec(spec: str) -> str:
    """A canonical form of a source spec, to find it in the picker (``screen`` ->
    ``screen:1``, ``camera`` -> ``camera:0``, files -> absolute paths)."""
    s = spec.strip()
    low = s.lower()
    if low == "screen":
        return "screen:1"
    if low == "camera":
        return "camera:0"
    if low.startswith(("screen:", "camera:", "region:")):
        return low.replace(" ", "")
    return str(Path(s).expanduser().absolute())


def source_title(spec: str) -> str:
    """What the source picker shows for a spec."""
    s = normalise_spec(spec)
    if s.startswith("screen:"):
        return f"Screen {s.split(':', 1)[1]}"
    if s.startswith("camera:"):
        return f"Camera {s.split(':', 1)[1]}"
    if s.startswith("region:"):
        try:
            x, y, w, h = (int(v) for v in s.split(":", 1)[1].split(","))
            return f"Region {w}×{h} at ({x}, {y})"
        except ValueError:
            return s
    return Path(s).name


class QtMainWindow(QMainWindow):
    """fer-desktop's window.

    Parameters
    ----------
    model_path : str or Path, optional
        Emotion model; default the shipped one.
    csv_path : str or Path, optional
        Session CSV, for every session of this window (appended); default a new autosave file
        per session, see :func:`autosave_csv_path`.
    rate : float, optional
        Analyses per second; default the stored setting.
    settings : QSettings, optional
        Where settings persist; default the application's ``QSettings()``. Tests pass their
        own INI file.
    parent : QWidget, optional
    """

    def __init__(self, model_path: str | os.PathLike | None = None,
                 csv_path: str | os.PathLike | None = None, rate: float | None = None,
                 settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("fer-desktop")
        self._store = QtSettingsStore(settings)
        self._settings = self._store.load()
        if rate is not None:
            self._settings = dataclasses.replace(self._settings, rate=min(10.0, max(0.5, rate)))
        self._model_path = Path(model_path) if model_path else None
        self._fixed_csv = Path(csv_path) if csv_path else None
        self._session_csv = self._fixed_csv or autosave_csv_path()
        self._session_written = False  # later runs of a session append to its CSV
        self._worker: QtAnalysisWorker | None = None
        self._run_ids = itertools.count(1)
        self._spec: str | None = None  # spec of the current (or last) run
        self._error_box: QMessageBox | None = None
        self._notice: QtPrivacyNotice | None = None
        self._pending_source: str | None = None
        self._state = SessionState.IDLE
        self._record = SessionRecord()
        self._alerts = AlertEngine(self._alert_rules())
        self._names: dict[int, str] = {}  # teacher's names per student id
        self._roster = Roster()  # student ids of this session's source, kept over pauses
        self._ids_by_name: dict[str, int] = {}  # recorded student name -> student id
        self._shown: tuple[tuple[int, ...], tuple[str, ...]] = ((), ())  # last ids, names
        self._last_saved: SavedSession | None = None
        self._selected: int | None = None  # student id
        self._timeline_dirty = False
        self._shown_once = False

        self.preview = QtFramePreview(self)
        self.alert_bar = QtAlertBar(self)
        self.students = QtStudentTable(self)
        self.mood_chart = QtMoodChart(self._settings.chart_window_min, parent=self)
        self.timeline = QtStudentTimeline(self)
        self.timeline.setMaximumHeight(320)  # the list and the class chart stay the larger
        self.timeline.hide()
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(4)
        left_layout.addWidget(self.alert_bar)
        left_layout.addWidget(self.preview, 1)
        self.right_split = right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.students)
        right.addWidget(self.mood_chart)
        right.addWidget(self.timeline)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setStretchFactor(2, 2)
        self.main_split = split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([860, 460])
        self.setCentralWidget(split)

        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._stats = QLabel("", self)
        self._recording = QLabel("", self)
        self._local = QLabel("Local only · no network", self)
        self._local.setToolTip("Everything runs on this computer: fer-desktop opens no network "
                               "connection and saves no video frame unless you take a snapshot.")
        self.statusBar().addPermanentWidget(self._recording)
        self.statusBar().addPermanentWidget(self._stats)
        self.statusBar().addPermanentWidget(self._local)

        self.preview.student_clicked.connect(self._on_preview_student_clicked)
        self.students.student_clicked.connect(self._on_students_student_clicked)
        self.students.name_edited.connect(self._on_students_name_edited)
        self.timeline.closed.connect(self._on_timeline_closed)
        self.mood_chart.window_changed.connect(self._on_mood_chart_window_changed)
        self._timeline_timer = QTimer(self)
        self._timeline_timer.setInterval(1000)
        self._timeline_timer.timeout.connect(self._on_timeline_timer)
        self._timeline_timer.start()

        self.resize(1320, 800)
        self._restore_layout()
        self._restore_last_source()
        self._apply_privacy()
        self._update_running_ui()

    # -- construction -------------------------------------------------------------------------

    def _build_actions(self) -> None:
        std = self.style().standardIcon
        self.start_action = QAction(self)
        self.start_action.setShortcut(QKeySequence("Ctrl+R"))
        self.start_action.triggered.connect(self._on_start_action_triggered)
        self.pause_action = QAction("Pause", self)
        self.pause_action.setShortcut(QKeySequence("Ctrl+P"))
        self.pause_action.setIcon(std(QStyle.StandardPixmap.SP_MediaPause))
        self.pause_action.triggered.connect(self._on_pause_action_triggered)
        self.export_session_action = QAction("Export session…", self)
        self.export_session_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_session_action.setIcon(std(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_session_action.setToolTip("Save the session's CSVs and report in a folder "
                                              "(Ctrl+E)")
        self.export_session_action.triggered.connect(self._on_export_session_action_triggered)
        self.export_action = QAction("Export CSV…", self)
        self.export_action.setShortcut(QKeySequence.StandardKey.Save)
        self.export_action.triggered.connect(self._on_export_action_triggered)
        self.snapshot_action = QAction("Save snapshot…", self)
        self.snapshot_action.setToolTip("Save the preview as you see it as a PNG image (the only "
                                        "way fer-desktop writes a picture to disk)")
        self.snapshot_action.triggered.connect(self._on_snapshot_action_triggered)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self._on_settings_action_triggered)
        self.notice_action = QAction("Responsible use…", self)
        self.notice_action.triggered.connect(self._on_notice_action_triggered)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        self.chart_actions = QActionGroup(self)
        for minutes in (1, 5, 15):
            action = QAction(f"Class mood: last {minutes} min", self, checkable=True)
            action.setData(minutes)
            action.setChecked(minutes == self._settings.chart_window_min)
            self.chart_actions.addAction(action)
        self.chart_actions.triggered.connect(self._on_chart_actions_triggered)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Session", self)
        bar.setObjectName("sessionToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(bar)

        bar.addWidget(QLabel(" Source: ", self))
        self.source_combo = QComboBox(self)
        self.source_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for m in list_monitors():
            self.source_combo.addItem(f"Screen {m['index']} ({m['width']}×{m['height']})",
                                      f"screen:{m['index']}")
        self.source_combo.addItem("Screen region…", _PICK_REGION)
        for index in CAMERAS:
            self.source_combo.addItem(f"Camera {index}", f"camera:{index}")
        self.source_combo.addItem("Video or image file…", _PICK_FILE)
        self.source_combo.activated.connect(self._on_source_combo_activated)
        bar.addWidget(self.source_combo)
        bar.addAction(self.start_action)
        bar.addAction(self.pause_action)
        bar.addSeparator()

        bar.addWidget(QLabel(" Analyses/s: ", self))
        self.rate_spin = QDoubleSpinBox(self)
        self.rate_spin.setRange(0.5, 10.0)
        self.rate_spin.setSingleStep(0.5)
        self.rate_spin.setDecimals(1)
        self.rate_spin.setValue(self._settings.rate)
        self.rate_spin.setToolTip("Analyses per second")
        self.rate_spin.valueChanged.connect(self._on_rate_spin_value_changed)
        bar.addWidget(self.rate_spin)
        bar.addSeparator()

        bar.addWidget(QLabel(" Privacy: ", self))
        self.privacy_combo = QComboBox(self)
        for mode, title in PRIVACY_TITLES.items():
            self.privacy_combo.addItem(title, mode)
            self.privacy_combo.setItemData(self.privacy_combo.count() - 1, PRIVACY_TIPS[mode],
                                           Qt.ItemDataRole.ToolTipRole)
        self.privacy_combo.setCurrentIndex(self.privacy_combo.findData(self._settings.privacy))
        self.privacy_combo.activated.connect(self._on_privacy_combo_activated)
        bar.addWidget(self.privacy_combo)
        bar.addSeparator()
        bar.addAction(self.export_session_action)

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&Session")
        for action in (self.start_action, self.pause_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.export_session_action)
        menu.addAction(self.export_action)
        menu.addAction(self.snapshot_action)
        self.recent_menu = menu.addMenu("Recent sessions")
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        self._fill_recent_menu()
        menu.addSeparator()
        menu.addAction(self.settings_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        view = self.menuBar().addMenu("&View")
        view.addActions(self.chart_actions.actions())
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.notice_action)

    # -- public API ---------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether an analysis run is in progress."""
        return self._worker is not None and self._worker.isRunning()

    @property
    def state(self) -> SessionState:
        """Whether a session is running, paused, or none is open."""
        return self._state

    @property
    def session_csv(self) -> Path:
        """The CSV this window records the current (or last) session to."""
        return self._session_csv

    @property
    def worker(self) -> QtAnalysisWorker | None:
        """The current (or last) analysis worker."""
        return self._worker

    @property
    def record(self) -> SessionRecord:
        """The numbers of the current (or last) session."""
        return self._record

    @property
    def settings(self) -> AppSettings:
        """The settings in use."""
        return self._settings

    @property
    def store(self) -> QtSettingsStore:
        """Where settings persist."""
        return self._store

    @property
    def last_saved(self) -> SavedSession | None:
        """The session folder saved last."""
        return self._last_saved

    @property
    def notice_acknowledged(self) -> bool:
        """Whether the teacher acknowledged the responsible-use notice."""
        return self._store.notice_acknowledged

    def start(self, source: str | None = None) -> None:
        """Analyse ``source`` (a spec as for :func:`fer_desktop.capture.sources.parse_source`; default
        the one selected in the picker). Opens a session when none is open; within a session,
        switches source or resumes. Problems with the source are reported in the window, never
        raised. Before the responsible-use notice is acknowledged, shows it instead."""
        if not self.notice_acknowledged:
            self._pending_source = source or ""
            self.show_notice()
            return
        if source is None:
            source = self.source_combo.currentData()
            if source in (_PICK_REGION, _PICK_FILE):
                source = self._ask_source(source)
                if source is None:
                    return
        spec = normalise_spec(source)
        self._select_spec(spec)
        self._stop_worker()
        if self._state is SessionState.IDLE:
            self._begin_session()
        if spec != self._spec:
            self.preview.clear()
            self.students.setRowCount(0)
            self._names.clear()
            self._roster = Roster()
            self._show_student(None)
        self._spec = spec
        self._store.last_source = spec
        self._alerts.reset()
        self.preview.set_placeholder(f"Starting {source_title(spec)}…")
        record_csv = self._settings.privacy is not PrivacyMode.AGGREGATE
        worker = QtAnalysisWorker(spec, model_path=self._model_path, rate=self._settings.rate,
                                  csv_path=self._session_csv if record_csv else None,
                                  csv_append=self._session_written,
                                  run_id=next(self._run_ids),
                                  smoothing_s=self._settings.smoothing_s, parent=self,
                                  csv_names=self._settings.privacy is PrivacyMode.NAMED,
                                  roster=self._roster)
        worker.updated.connect(self._on_worker_updated)
        worker.errored.connect(self._on_worker_errored)
        worker.status.connect(self._on_worker_status)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        self._state = SessionState.RUNNING
        worker.start()
        self.statusBar().showMessage(f"Analysing {source_title(spec)}.")
        self._update_running_ui()

    def pause(self) -> None:
        """Pause the session: the source is released, the session's numbers are kept."""
        if self._state is not SessionState.RUNNING:
            return
        self._stop_worker()
        self._state = SessionState.PAUSED
        self._alerts.reset()
        self._update_running_ui()
        self.statusBar().showMessage("Paused. Resume to go on with this session, or Stop to "
                                     "save it.")

    def resume(self) -> None:
        """Go on with a paused session, on the same source."""
        if self._state is SessionState.PAUSED and self._spec is not None:
            self.start(self._spec)

    def stop(self) -> SavedSession | None:
        """Stop the session and save its folder under the export folder (see
        :meth:`export_session`); the session CSV is kept. Returns what was saved, if
        anything."""
        self._stop_worker()
        was_open = self._state is not SessionState.IDLE
        self._state = SessionState.IDLE
        self._update_running_ui()
        saved = None
        if was_open and len(self._record):
            saved = self.export_session(self._store.export_dir(self._settings))
        if saved is None:
            self.statusBar().showMessage("Stopped.")
        return saved

    def export_session(self, parent: str | os.PathLike) -> SavedSession | None:
        """Save the current (or last) session in a new folder under ``parent``: CSVs and the
        HTML report, as the privacy mode allows. On failure, warn and return ``None``."""
        if not len(self._record):
            self._warn("Nothing to export yet", "No analysis has been recorded in this session "
                       "yet. Start a source first.")
            return None
        try:
            saved = save_session(Path(parent), self._record, self._settings.privacy,
                                 self._names, self._session_csv, ids=self._ids_by_name)
        except ExportError as exc:
            self._warn("Export failed", str(exc))
            return None
        self._last_saved = saved
        self._store.add_recent_session(saved.folder)
        self.statusBar().showMessage(f"Saved the session to {saved.folder}.", 15_000)
        return saved

    def export_csv(self, path: str | os.PathLike) -> bool:
        """Copy the session CSV to ``path`` (with the names the privacy mode allows); on
        failure warn and return False."""
        if self._settings.privacy is PrivacyMode.AGGREGATE:
            self._warn("Nothing to export", "In the aggregate-only mode no per-student CSV is "
                       "recorded. Use Export session for the class mood.")
            return False
        if not self._session_csv.exists():
            self._warn("Nothing to export yet", "No analysis has been recorded in this session "
                       "yet. Start a source first.")
            return False
        try:
            dst = copy_csv(self._session_csv, path, renames=self._export_names(),
                           anonymous=self._settings.privacy is not PrivacyMode.NAMED,
                           ids=self._ids_by_name)
        except ExportError as exc:
            self._warn("Export failed", str(exc))
            return False
        self.statusBar().showMessage(f"Exported the session to {dst}.", 10_000)
        return True

    def save_snapshot(self, path: str | os.PathLike) -> bool:
        """Save the preview as shown (badges, covered names) as a PNG image at ``path``."""
        ok = self.preview.grab().save(str(path), "PNG")
        if not ok:
            self._warn("Snapshot failed", f"Cannot write {path}.")
        return ok

    def apply_settings(self, settings: AppSettings) -> None:
        """Use and store ``settings``."""
        self._settings = settings
        self._store.save(settings)
        self._alerts.set_rules(self._alert_rules())
        if self.rate_spin.value() != settings.rate:
            self.rate_spin.setValue(settings.rate)
        if self._worker is not None:
            self._worker.set_rate(settings.rate)
            self._worker.set_smoothing(settings.smoothing_s)
        if self.mood_chart.window_min != settings.chart_window_min:
            self.mood_chart.set_window_min(settings.chart_window_min)
        for action in self.chart_actions.actions():
            action.setChecked(action.data() == settings.chart_window_min)
        self.privacy_combo.setCurrentIndex(self.privacy_combo.findData(settings.privacy))
        self._apply_privacy()

    def set_privacy(self, mode: PrivacyMode) -> bool:
        """Switch the privacy mode. The aggregate-only mode decides what a session records,
        so it can be entered or left only between sessions; returns whether switched."""
        old = self._settings.privacy
        if mode is old:
            return True
        if PrivacyMode.AGGREGATE in (mode, old) and self._state is not SessionState.IDLE:
            self.privacy_combo.setCurrentIndex(self.privacy_combo.findData(old))
            self.statusBar().showMessage("Stop the session to switch the aggregate-only mode: "
                                         "it decides what a session records.", 10_000)
            return False
        self.apply_settings(dataclasses.replace(self._settings, privacy=mode))
        return True

    def show_student(self, tile: int | None) -> None:
        """Select the student now in ``tile`` and show their timeline (``None``: close it).
        The selection follows the student, not the tile, when the gallery reflows."""
        self._show_student(self._student_in(tile))

    @property
    def selected_student(self) -> int | None:
        """Id of the selected student (:attr:`FrameResult.student_ids`), or ``None``."""
        return self._selected

    def show_notice(self) -> QtPrivacyNotice:
        """Show the responsible-use notice (window-modal, not blocking)."""
        if self._notice is None:
            self._notice = QtPrivacyNotice(self)
            self._notice.finished.connect(self._on_notice_finished)
        self._notice.quit_button.setText("Close" if self.notice_acknowledged else "Quit")
        self._notice.open()
        return self._notice

    def open_session(self, folder: str | os.PathLike) -> bool:
        """Open a saved session's report in the browser."""
        report = Path(folder) / "report.html"
        if not report.exists():
            self._warn("Session not found", f"There is no report in {folder}.")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))

    # -- internals ----------------------------------------------------------------------------

    def _begin_session(self) -> None:
        self._record = SessionRecord()
        self._alerts.reset()
        self.mood_chart.clear()
        self.alert_bar.hide()
        self.alert_bar.count = 0
        if self._fixed_csv is None and self._session_written:
            self._session_csv = autosave_csv_path()
            self._session_written = False

    def _alert_rules(self):
        rules = self._settings.alerts
        if self._settings.privacy is PrivacyMode.AGGREGATE:  # no per-student alert
            rules = dataclasses.replace(rules, missing_enabled=False)
        return rules

    def _display_names(self, n: int) -> list[str]:
        ids, read = self._shown
        ids = [ids[i] if i < len(ids) else i for i in range(n)]
        if self._settings.privacy is PrivacyMode.NAMED:
            return [self._names.get(ids[i], read[i] if i < len(read) else student_name(ids[i]))
                    for i in range(n)]
        return [student_name(s) for s in ids]

    def _name_of(self, student_id: int) -> str:
        """Display name of a student, whether or not they are in the gallery now."""
        if self._settings.privacy is PrivacyMode.NAMED:
            return self._names.get(student_id,
                                   self._record.read_names.get(student_id, student_name(student_id)))
        return student_name(student_id)

    def _student_in(self, tile: int | None) -> int | None:
        """Id of the student shown in ``tile`` in the latest frame (``None`` when none)."""
        keys = self._shown[0]
        if tile is None or tile < 0:
            return None
        if tile < len(keys):
            return keys[tile]
        return tile if tile < len(self.preview.badges) else None

    def _tile_of(self, student_id: int | None) -> int | None:
        """Tile of a student in the latest frame; ``None`` when they are not in it."""
        keys = self._shown[0]
        if student_id is None:
            return None
        if not keys:
            return student_id if student_id < len(self.preview.badges) else None
        return keys.index(student_id) if student_id in keys else None

    def _export_names(self) -> dict[int, str]:
        return dict(self._names) if self._settings.privacy is PrivacyMode.NAMED else {}

    def _apply_privacy(self) -> None:
        mode = self._settings.privacy
        aggregate = mode is PrivacyMode.AGGREGATE
        self.preview.show_badges = not aggregate
        self.preview.cover_names = mode is PrivacyMode.ANONYMOUS
        self.students.names_editable = mode is PrivacyMode.NAMED
        self.students.setVisible(not aggregate)
        if aggregate:
            self._show_student(None)
        self.export_action.setEnabled(not aggregate)
        self.privacy_combo.setToolTip(PRIVACY_TIPS[mode])
        self._refresh_badges()

    def _refresh_badges(self) -> None:
        """Re-label the badges and rows drawn (after a name or mode change)."""
        badges = self.preview.badges
        if not badges:
            self.preview.update()
            return
        names = self._display_names(len(badges))
        badges = [dataclasses.replace(b, student=names[b.row],
                                      uncertain_below=self._settings.uncertain_below)
                  for b in badges]
        self.preview.set_badges(badges)
        if self._settings.privacy is not PrivacyMode.AGGREGATE:
            self.students.set_badges(badges)
        self._timeline_dirty = True

    def _show_student(self, student_id: int | None) -> None:
        if self._settings.privacy is PrivacyMode.AGGREGATE:
            student_id = None
        self._selected = student_id
        self._mark_selected()
        if student_id is None:
            self.timeline.hide()
            return
        self.timeline.show()
        self._refresh_timeline()

    def _mark_selected(self) -> None:
        """Highlight the selected student's tile and row, wherever they are now."""
        tile = self._tile_of(self._selected)
        self.preview.set_selected(tile)
        self.students.select_student(tile)

    def _refresh_timeline(self) -> None:
        self._timeline_dirty = False
        student = self._selected
        if student is None or not self.timeline.isVisible():
            return
        t, codes, conf = self._record.student_timeline(student)
        self.timeline.set_data(student, self._name_of(student), self._record.started or 0.0,
                               t, codes, conf, self._settings.uncertain_below)

    def _on_alert(self, alert: Alert) -> None:
        self._record.add_alert(alert)
        self.mood_chart.add_alert(alert.t)
        self.alert_bar.show_alert(alert.t, alert.message)
        log.info("alert: %s", alert.message)

    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.stop()
        if worker.rows_written:
            self._session_written = True
        worker.deleteLater()

    def _select_spec(self, spec: str) -> None:
        """Make ``spec`` the picker's current entry, adding it when it is not listed."""
        combo = self.source_combo
        for i in range(combo.count()):
            data = combo.itemData(i)
            if data not in (_PICK_REGION, _PICK_FILE) and normalise_spec(data) == spec:
                combo.setCurrentIndex(i)
                return
        before = _PICK_REGION if spec.startswith(("region:", "screen:")) else _PICK_FILE
        index = combo.findData(before)
        combo.insertItem(index, source_title(spec), spec)
        combo.setItemData(index, spec, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(index)

    def _restore_last_source(self) -> None:
        for spec in (self._store.last_region, self._store.last_source):
            if spec and (not spec.startswith(("region:", "screen:", "camera:"))
                         and not Path(spec).exists()):
                continue  # a file that is gone
            if spec:
                self._select_spec(normalise_spec(spec))

    def _restore_layout(self) -> None:
        if (geometry := self._store.layout("geometry")) is not None:
            self.restoreGeometry(geometry)
        if (state := self._store.layout("window")) is not None:
            self.restoreState(state)

    def _restore_splitters(self) -> None:
        """Splitter sizes, once the window has its size (before, they would be rescaled)."""
        for name, splitter in (("main_split", self.main_split),
                               ("right_split", self.right_split)):
            if (state := self._store.layout(name)) is not None:
                splitter.restoreState(state)

    def _save_layout(self) -> None:
        self._store.set_layout("geometry", self.saveGeometry())
        self._store.set_layout("window", self.saveState())
        self._store.set_layout("main_split", self.main_split.saveState())
        self._store.set_layout("right_split", self.right_split.saveState())
        self._store.qsettings.sync()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self._store.recent_sessions()
        for folder in recent:
            action = self.recent_menu.addAction(folder.name)
            action.setToolTip(str(folder))
            action.setData(str(folder))
            action.triggered.connect(self._on_recent_action_triggered)
        if not recent:
            self.recent_menu.addAction("No saved session yet").setEnabled(False)
        self.recent_menu.addSeparator()
        folder = self.recent_menu.addAction("Open the sessions folder")
        folder.triggered.connect(self._on_open_sessions_folder_triggered)

    def _ask_source(self, action: str) -> str | None:
        """Run the region picker or the file dialog; the chosen spec or ``None``."""
        return self._ask_region() if action == _PICK_REGION else self._ask_file()

    def _ask_region(self) -> str | None:
        monitors = list_monitors()
        if not monitors:
            self._warn("No screen", "No screen can be captured on this computer.")
            return None
        monitor = monitors[0]
        if len(monitors) > 1:
            names = [f"Screen {m['index']} ({m['width']}×{m['height']})" for m in monitors]
            name, ok = QInputDialog.getItem(self, "Screen region", "Which screen?", names, 0,
                                            False)
            if not ok:
                return None
            monitor = monitors[names.index(name)]
        try:
            region = QtRegionPicker.get_region(monitor, self)
        except SourceError as exc:
            self._warn("Cannot capture the screen", str(exc))
            return None
        if region is None:
            return None
        spec = "region:" + ",".join(str(v) for v in region)
        self._store.last_region = spec
        return spec

    def _ask_file(self) -> str | None:
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or an image", "",
                                              f"Videos and images ({patterns});;All files (*)")
        return path or None

    def _update_running_ui(self) -> None:
        state = self._state
        running = self.is_running
        open_ = state is not SessionState.IDLE
        icon = QStyle.StandardPixmap.SP_MediaStop if open_ else QStyle.StandardPixmap.SP_MediaPlay
        self.start_action.setIcon(self.style().standardIcon(icon))
        self.start_action.setText("Stop" if open_ else "Start")
        self.start_action.setToolTip("Stop the session and save it (Ctrl+R)" if open_
                                     else "Start a session on the selected source (Ctrl+R)")
        paused = state is SessionState.PAUSED
        self.pause_action.setEnabled(open_)
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.pause_action.setToolTip("Go on with the session (Ctrl+P)" if paused
                                     else "Pause the session (Ctrl+P)")
        if running and self._settings.privacy is not PrivacyMode.AGGREGATE:
            self._recording.setText(f"● Recording to {self._session_csv.name}")
        elif running:
            self._recording.setText("● Class mood only")
        else:
            self._recording.setText("Paused" if paused else "")
        self._recording.setToolTip(str(self._session_csv))

    def _warn(self, title: str, message: str) -> None:
        """A modal warning (user actions: export, region picking) and a status message."""
        self.statusBar().showMessage(message)
        QMessageBox.warning(self, title, message)

    def _show_error(self, message: str) -> None:
        """A non-blocking warning for errors of the running analysis."""
        if self._error_box is None:
            self._error_box = QMessageBox(QMessageBox.Icon.Warning, "fer-desktop", "",
                                          QMessageBox.StandardButton.Ok, self)
            self._error_box.setWindowModality(Qt.WindowModality.NonModal)
        self._error_box.setText(message)
        self._error_box.show()

    # -- slots --------------------------------------------------------------------------------

    @Slot(int)
    def _on_source_combo_activated(self, index: int) -> None:
        data = self.source_combo.itemData(index)
        spec = self._ask_source(data) if data in (_PICK_REGION, _PICK_FILE) else data
        if spec is None:  # dialog cancelled: back to the previous entry
            if self._spec is not None:
                self._select_spec(self._spec)
            return
        if self.is_running:
            self.start(spec)
        else:
            self._select_spec(normalise_spec(spec))

    @Slot()
    def _on_start_action_triggered(self) -> None:
        if self._state is SessionState.IDLE:
            self.start()
        else:
            self.stop()

    @Slot()
    def _on_pause_action_triggered(self) -> None:
        if self._state is SessionState.PAUSED:
            self.resume()
        else:
            self.pause()

    @Slot(float)
    def _on_rate_spin_value_changed(self, value: float) -> None:
        if value != self._settings.rate:
            self.apply_settings(dataclasses.replace(self._settings, rate=value))

    @Slot(int)
    def _on_privacy_combo_activated(self, index: int) -> None:
        self.set_privacy(self.privacy_combo.itemData(index))

    @Slot(QAction)
    def _on_chart_actions_triggered(self, action: QAction) -> None:
        self.apply_settings(dataclasses.replace(self._settings,
                                                chart_window_min=int(action.data())))
        self.mood_chart.redraw()

    @Slot(int)
    def _on_mood_chart_window_changed(self, minutes: int) -> None:
        self.apply_settings(dataclasses.replace(self._settings, chart_window_min=minutes))

    @Slot()
    def _on_export_action_triggered(self) -> None:
        if not self._session_csv.exists():
            self.export_csv(self._session_csv)  # explains that nothing is recorded yet
            return
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _ = QFileDialog.getSaveFileName(self, "Export the session CSV",
                                              str(Path(docs) / self._session_csv.name),
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.export_csv(path)

    @Slot()
    def _on_export_session_action_triggered(self) -> None:
        if not len(self._record):
            self.export_session(self._store.export_dir(self._settings))  # explains
            return
        parent = self._store.export_dir(self._settings)
        path = QFileDialog.getExistingDirectory(self, "Save the session in", str(parent))
        if path:
            self.export_session(path)

    @Slot()
    def _on_snapshot_action_triggered(self) -> None:
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        path, _ = QFileDialog.getSaveFileName(self, "Save a snapshot of the preview",
                                              str(Path(docs) / "fer-desktop-snapshot.png"),
                                              "PNG images (*.png)")
        if path:
            self.save_snapshot(path)

    @Slot()
    def _on_settings_action_triggered(self) -> None:
        dialog = QtSettingsDialog(self._settings,
                                  str(self._store.export_dir(dataclasses.replace(
                                      self._settings, export_dir=""))), self)
        dialog.finished.connect(self._on_settings_dialog_finished)
        dialog.open()

    @Slot(int)
    def _on_settings_dialog_finished(self, result: int) -> None:
        dialog = self.sender()
        if result == QDialog.DialogCode.Accepted:
            self.apply_settings(dialog.settings())
        dialog.deleteLater()

    @Slot()
    def _on_notice_action_triggered(self) -> None:
        self.show_notice()

    @Slot(int)
    def _on_notice_finished(self, result: int) -> None:
        if result == QDialog.DialogCode.Accepted:
            self._store.acknowledge_notice()
            pending, self._pending_source = self._pending_source, None
            if pending is not None:
                self.start(pending or None)
        elif not self.notice_acknowledged:
            self.close()

    @Slot()
    def _on_recent_menu_about_to_show(self) -> None:
        self._fill_recent_menu()

    @Slot()
    def _on_recent_action_triggered(self) -> None:
        self.open_session(self.sender().data())

    @Slot()
    def _on_open_sessions_folder_triggered(self) -> None:
        folder = self._store.export_dir(self._settings)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    @Slot(int)
    def _on_preview_student_clicked(self, tile: int) -> None:
        self._show_student(self._student_in(tile))

    @Slot(int)
    def _on_students_student_clicked(self, tile: int) -> None:
        self._show_student(self._student_in(tile))

    @Slot(int, str)
    def _on_students_name_edited(self, tile: int, name: str) -> None:
        if self._settings.privacy is not PrivacyMode.NAMED:
            return
        student = self._student_in(tile)
        if student is None:
            return
        if name and name != self._display_names(tile + 1)[tile]:
            self._names[student] = name
        else:
            self._names.pop(student, None)
        self._refresh_badges()

    @Slot()
    def _on_timeline_closed(self) -> None:
        self._show_student(None)

    @Slot()
    def _on_timeline_timer(self) -> None:
        if self._timeline_dirty:
            self._refresh_timeline()

    @Slot(object)
    def _on_worker_updated(self, update: AnalysisUpdate) -> None:
        if self._worker is None or update.run_id != self._worker.run_id:
            return  # a result of a run already replaced
        result = update.result
        self._shown = (result.student_ids, result.students)
        self._ids_by_name.update(zip(result.students, result.student_ids))
        names = self._display_names(len(result))
        badges = badges_for(result, names, self._settings.uncertain_below)
        if not self.preview.set_update(update, badges):
            return
        self._session_written = self._settings.privacy is not PrivacyMode.AGGREGATE
        self._record.add(result)
        if self._settings.privacy is not PrivacyMode.AGGREGATE:
            self.students.set_badges(badges)
        if self._selected is not None:
            self._mark_selected()
        self.mood_chart.add_result(result)
        for alert in self._alerts.update(result.timestamp, result.class_shares(),
                                         result.has_face, names, result.student_ids):
            self._on_alert(alert)
        self._timeline_dirty = self._selected is not None
        self._stats.setText(
            f"{update.analyses_per_s:.1f} analyses/s · latency {update.latency_s * 1000:.0f} ms"
            f" · {len(result.tiles)} tiles · {int(result.has_face.sum())} faces")

    @Slot(str)
    def _on_worker_errored(self, message: str) -> None:
        if self.sender() is not self._worker:
            return
        log.warning("analysis error: %s", message)
        self.statusBar().showMessage(message)
        if self.preview.timestamp == float("-inf"):
            self.preview.set_placeholder(message)
        self._show_error(message)

    @Slot(str)
    def _on_worker_status(self, message: str) -> None:
        if self.sender() is self._worker:
            self.statusBar().showMessage(message)

    @Slot()
    def _on_worker_finished(self) -> None:
        if self.sender() is not self._worker:
            return
        if self._state is SessionState.RUNNING:  # the source ended or failed
            self._state = SessionState.PAUSED if len(self._record) else SessionState.IDLE
        self._update_running_ui()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self._restore_splitters()
        if not self.notice_acknowledged and self._notice is None:
            QTimer.singleShot(0, self.show_notice)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_worker()
        if self._state is not SessionState.IDLE:
            self.stop()
        self._save_layout()
        super().closeEvent(event)
