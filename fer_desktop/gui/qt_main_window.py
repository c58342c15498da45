"""The main window: source picker, Start/Stop, live preview, student list, class-mood chart and
the session CSV."""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFileDialog, QInputDialog, QLabel, \
    QMainWindow, QMessageBox, QSplitter, QStyle, QToolBar, QWidget

from fer_desktop.export import ExportError, copy_csv
from fer_desktop.gui.qt_mood_chart import QtMoodChart
from fer_desktop.gui.qt_preview import QtFramePreview
from fer_desktop.gui.qt_region_picker import QtRegionPicker
from fer_desktop.gui.qt_student_table import QtStudentTable
from fer_desktop.gui.qt_worker import QtAnalysisWorker
from fer_desktop.gui.session import AnalysisUpdate, session_file_name
from fer_desktop.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, SourceError, list_monitors

log = logging.getLogger(__name__)

#: Combo-box entries that open a dialog instead of naming a source.
_PICK_REGION = "@region"
_PICK_FILE = "@file"
#: Cameras offered in the source picker.
CAMERAS = (0, 1)


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
        Session CSV; default an autosave file, see :func:`autosave_csv_path`.
    rate : float
        Analyses per second.
    parent : QWidget, optional
    """

    def __init__(self, model_path: str | os.PathLike | None = None,
                 csv_path: str | os.PathLike | None = None, rate: float = 2.0,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("fer-desktop")
        self._model_path = Path(model_path) if model_path else None
        self._session_csv = Path(csv_path) if csv_path else autosave_csv_path()
        self._session_written = False  # later runs append to the session CSV
        self._worker: QtAnalysisWorker | None = None
        self._run_ids = itertools.count(1)
        self._spec: str | None = None  # spec of the current (or last) run
        self._error_box: QMessageBox | None = None

        self.preview = QtFramePreview(self)
        self.students = QtStudentTable(self)
        self.mood_chart = QtMoodChart(parent=self)
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(self.students)
        right.addWidget(self.mood_chart)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.preview)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([900, 420])
        self.setCentralWidget(split)

        self._build_toolbar(rate)
        self._stats = QLabel("", self)
        self._recording = QLabel("", self)
        self.statusBar().addPermanentWidget(self._recording)
        self.statusBar().addPermanentWidget(self._stats)
        self._update_running_ui()
        self.resize(1320, 760)

    # -- construction -------------------------------------------------------------------------

    def _build_toolbar(self, rate: float) -> None:
        bar = QToolBar("Session", self)
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

        self.start_action = QAction(self)
        self.start_action.setShortcut(QKeySequence("Ctrl+R"))
        self.start_action.triggered.connect(self._on_start_action_triggered)
        bar.addAction(self.start_action)
        bar.addSeparator()

        bar.addWidget(QLabel(" Analyses per second: ", self))
        self.rate_spin = QDoubleSpinBox(self)
        self.rate_spin.setRange(0.5, 10.0)
        self.rate_spin.setSingleStep(0.5)
        self.rate_spin.setDecimals(1)
        self.rate_spin.setValue(rate)
        self.rate_spin.valueChanged.connect(self._on_rate_spin_value_changed)
        bar.addWidget(self.rate_spin)
        bar.addSeparator()

        self.export_action = QAction("Export CSV…", self)
        self.export_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_action.setShortcut(QKeySequence.StandardKey.Save)
        self.export_action.triggered.connect(self._on_export_action_triggered)
        bar.addAction(self.export_action)

    # -- public API ---------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether an analysis run is in progress."""
        return self._worker is not None and self._worker.isRunning()

    @property
    def session_csv(self) -> Path:
        """The CSV this window records the session to."""
        return self._session_csv

    @property
    def worker(self) -> QtAnalysisWorker | None:
        """The current (or last) analysis worker."""
        return self._worker

    def start(self, source: str | None = None) -> None:
        """Analyse ``source`` (a spec as for :func:`fer_desktop.sources.parse_source`; default
        the one selected in the picker), stopping any run in progress. Problems with the
        source are reported in the window, never raised."""
        if source is None:
            source = self.source_combo.currentData()
            if source in (_PICK_REGION, _PICK_FILE):
                source = self._ask_source(source)
                if source is None:
                    return
        spec = normalise_spec(source)
        self._select_spec(spec)
        self._stop_worker()
        if spec != self._spec:
            self.preview.clear()
            self.students.setRowCount(0)
            self.mood_chart.clear()
        self._spec = spec
        self.preview.set_placeholder(f"Starting {source_title(spec)}…")
        worker = QtAnalysisWorker(spec, model_path=self._model_path, rate=self.rate_spin.value(),
                                  csv_path=self._session_csv, csv_append=self._session_written,
                                  run_id=next(self._run_ids), parent=self)
        worker.updated.connect(self._on_worker_updated)
        worker.errored.connect(self._on_worker_errored)
        worker.status.connect(self._on_worker_status)
        worker.finished.connect(self._on_worker_finished)
        self._worker = worker
        worker.start()
        self.statusBar().showMessage(f"Analysing {source_title(spec)}.")
        self._update_running_ui()

    def stop(self) -> None:
        """Stop the analysis (waits for the current frame); the session CSV is kept."""
        self._stop_worker()
        self._update_running_ui()
        self.statusBar().showMessage("Stopped.")

    def export_csv(self, path: str | os.PathLike) -> bool:
        """Copy the session CSV to ``path``; on failure warn and return False."""
        if not self._session_csv.exists():
            self._warn("Nothing to export yet", "No analysis has been recorded in this session "
                       "yet. Start a source first.")
            return False
        try:
            dst = copy_csv(self._session_csv, path)
        except ExportError as exc:
            self._warn("Export failed", str(exc))
            return False
        self.statusBar().showMessage(f"Exported the session to {dst}.", 10_000)
        return True

    # -- internals ----------------------------------------------------------------------------

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
        return None if region is None else "region:" + ",".join(str(v) for v in region)

    def _ask_file(self) -> str | None:
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self, "Open a video or an image", "",
                                              f"Videos and images ({patterns});;All files (*)")
        return path or None

    def _update_running_ui(self) -> None:
        running = self.is_running
        icon = QStyle.StandardPixmap.SP_MediaStop if running else QStyle.StandardPixmap.SP_MediaPlay
        self.start_action.setIcon(self.style().standardIcon(icon))
        self.start_action.setText("Stop" if running else "Start")
        self.start_action.setToolTip("Stop the analysis (Ctrl+R)" if running
                                     else "Start analysing the selected source (Ctrl+R)")
        self._recording.setText(f"● Recording to {self._session_csv.name}" if running else "")
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
        if self.is_running:
            self.stop()
        else:
            self.start()

    @Slot(float)
    def _on_rate_spin_value_changed(self, value: float) -> None:
        if self._worker is not None:
            self._worker.set_rate(value)

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

    @Slot(object)
    def _on_worker_updated(self, update: AnalysisUpdate) -> None:
        if self._worker is None or update.run_id != self._worker.run_id:
            return  # a result of a run already replaced
        if not self.preview.set_update(update):
            return
        self._session_written = True
        self.students.set_badges(self.preview.badges)
        self.mood_chart.add_result(update.result)
        result = update.result
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
        if self.sender() is self._worker:
            self._update_running_ui()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop_worker()
        super().closeEvent(event)
