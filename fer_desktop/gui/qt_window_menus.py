"""What the window's menus do besides running the session: export the session (folder or CSV),
save a snapshot of the preview, open recent sessions, the settings dialog, Help and the
responsible-use notice. A mixin of :class:`fer_desktop.gui.qt_main_window.QtMainWindow`, which
provides ``session``, ``_store``, ``preview``, ``controls``, ``recent_menu`` and
``_show_error``; kept apart so that the window's own module holds the session's flow.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog

from fer_desktop.gui import qt_help
from fer_desktop.gui.qt_dialogs import QtPrivacyNotice, QtSettingsDialog
from fer_desktop.gui.qt_report import SavedSession, save_session
from fer_desktop.session.export import ExportError, copy_csv
from fer_desktop.session.files import make_private

log = logging.getLogger(__name__)


def sessions_dir() -> Path:
    """``<AppDataLocation>/sessions``: where each session's CSV is recorded as it goes."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "sessions"


def fallback_dir() -> Path:
    """``<AppDataLocation>/fallback-sessions``: where a stopped session's folder is saved when
    the folder chosen for sessions cannot be written (read-only, full, not a folder)."""
    return sessions_dir().parent / "fallback-sessions"


class QtWindowMenus:
    """Exports, snapshot, recent sessions, settings, Help and the notice (a mixin)."""

    #: Whether a stopped session could be saved nowhere (the process then exits with 1).
    save_failed = False

    @property
    def last_saved(self) -> SavedSession | None:
        """The session folder saved last."""
        return self._last_saved

    @property
    def notice_acknowledged(self) -> bool:
        """Whether the teacher acknowledged the responsible-use notice."""
        return self._store.notice_acknowledged

    def export_session(self, parent: str | os.PathLike) -> SavedSession | None:
        """Save the current (or last) session in a new folder under ``parent``."""
        s = self.session
        if not len(s.record):
            self._show_error("Nothing to export yet: start a source first.")
            return None
        return self._save(Path(parent), None)

    def export_csv(self, path: str | os.PathLike) -> bool:
        """Copy the session CSV to ``path`` with the names the privacy mode allows."""
        s = self.session
        if not s.privacy.per_student:
            self._show_error("In the aggregate-only mode no per-student CSV is recorded. Use "
                             "Export session for the class mood.")
            return False
        if s.csv_path is None or not s.csv_path.exists():
            self._show_error("Nothing to export yet: start a source first.")
            return False
        try:
            dst = copy_csv(s.csv_path, path, renames=s.final_names() if s.privacy.names else {},
                           anonymous=not s.privacy.names, relabel=s.student_of_row)
        except ExportError as exc:
            self._show_error(str(exc))
            return False
        self.statusBar().showMessage(f"Exported the session to {dst}.", 10_000)
        return True

    def save_snapshot(self, path: str | os.PathLike) -> bool:
        """Save the preview as shown (badges, covered names) as a PNG at ``path``."""
        ok = self.preview.grab().save(str(path), "PNG")
        if not ok:
            self._show_error(f"Cannot write {path}.")
        else:  # it shows students' faces and names
            make_private(path)
        return ok

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
            self._show_error(f"There is no session report in {folder}.")
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(report)))

    def _save(self, parent: Path, ended) -> SavedSession | None:
        """Save the session (``ended``: the one just stopped; None: the current one) under
        ``parent``. A stopped session that cannot be saved there is saved under
        :func:`fallback_dir`, and the window (status bar, red strip) and the log say where;
        never a silent loss."""
        s = self.session
        if ended is None:
            args = (s.record, s.privacy, s.final_names(),
                    s.csv_path if s.csv_path and s.csv_path.exists() else None, s.stamp,
                    s.student_of_row)
        else:
            args = (ended.record, ended.privacy, ended.names, ended.csv_path, ended.stamp,
                    ended.relabel)
        try:
            saved = save_session(parent, *args[:4], stamp=args[4], relabel=args[5])
            where = f"Saved the session to {saved.folder}."
        except ExportError as exc:
            if ended is None:  # the teacher chose the folder: they hear why and choose again
                self._show_error(str(exc))
                return None
            try:
                saved = save_session(fallback_dir(), *args[:4], stamp=args[4], relabel=args[5])
            except ExportError as again:
                self.save_failed = True
                kept = f" Its CSV is kept in {ended.csv_path}." if ended.csv_path else ""
                self._show_error(f"The session could not be saved: {exc} {again}{kept}")
                return None
            where = (f"The session could not be saved in {parent} ({exc}) It was saved in "
                     f"{saved.folder} instead.")
            self._show_error(where)
        log.info("%s", where)
        self._last_saved = saved
        self._store.add_recent_session(saved.folder)
        self.statusBar().showMessage(where, 60_000 if saved.folder.parent != parent else 15_000)
        return saved

    @Slot()
    def _on_export_csv_triggered(self) -> None:
        csv = self.session.csv_path
        if csv is None or not csv.exists():
            self.export_csv(csv or Path())  # says why not
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the session CSV",
                                              str(self._store.last_folder / csv.name),
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self._store.last_folder = Path(path).parent
            self.export_csv(path)

    @Slot()
    def _on_export_session_triggered(self) -> None:
        if not len(self.session.record):
            self.export_session(Path())  # says why not
            return
        path = QFileDialog.getExistingDirectory(self, "Save the session in",
                                                str(self._store.export_dir(self.settings)))
        if path:
            self.export_session(path)

    @Slot()
    def _on_snapshot_triggered(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save a snapshot of the preview",
            str(self._store.last_folder / "fer-desktop-snapshot.png"), "PNG images (*.png)")
        if path:
            self._store.last_folder = Path(path).parent
            self.save_snapshot(path)

    @Slot()
    def _on_settings_triggered(self) -> None:
        default = self._store.export_dir(dataclasses.replace(self.settings, export_dir=""))
        self._settings_dialog = QtSettingsDialog(self.settings, str(default), self)
        self._settings_dialog.finished.connect(self._on_settings_dialog_finished)
        self._settings_dialog.open()

    @Slot(int)
    def _on_settings_dialog_finished(self, result: int) -> None:
        dialog, self._settings_dialog = self._settings_dialog, None
        if dialog is None:
            return
        if result == QDialog.DialogCode.Accepted:
            self.apply_settings(dialog.settings())
        dialog.deleteLater()

    @Slot()
    def _on_shortcuts_triggered(self) -> None:
        qt_help.show_shortcuts(self, self.controls.all_actions())

    @Slot()
    def _on_legend_triggered(self) -> None:
        qt_help.show_badge_legend(self)

    @Slot()
    def _on_about_triggered(self) -> None:
        qt_help.show_about(self)

    @Slot(int)
    def _on_notice_finished(self, result: int) -> None:
        if result == QDialog.DialogCode.Accepted:
            self._store.acknowledge_notice()
            pending, self._pending_start = self._pending_start, False
            if pending:
                self.start(pending if isinstance(pending, str) else None)
        elif not self.notice_acknowledged:
            self.close()

    @Slot()
    def _on_recent_about_to_show(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self._store.recent_sessions()
        for folder in recent:
            action = menu.addAction(folder.name)
            action.setToolTip(str(folder))
            action.setData(str(folder))
        if not recent:
            menu.addAction("No saved session yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Open the sessions folder").triggered.connect(
            self._on_open_sessions_folder_triggered)

    @Slot(QAction)
    def _on_recent_triggered(self, action: QAction) -> None:
        if action.data():  # a session (the other entries have their own slots)
            self.open_session(action.data())

    @Slot()
    def _on_open_sessions_folder_triggered(self) -> None:
        folder = self._store.export_dir(self.settings)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
