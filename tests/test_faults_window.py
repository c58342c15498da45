"""No fault loses data (issue 21), the window: a session folder that cannot be written where the
settings say (not a folder, full, read-only) is saved in a fallback folder of the app's data,
and the window says where; the saved folder is private. Each test failed before its fix."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from fer_desktop.gui import qt_report
from fer_desktop.gui.qt_main_window import QtMainWindow
from fer_desktop.gui.qt_window_menus import fallback_dir

WAIT_MS = 20_000


@pytest.fixture
def make_window(qtbot, model_path, tmp_path, monkeypatch, warnings):
    """A window whose sessions go to ``export_dir`` and whose app data is under ``tmp_path``."""
    from PySide6.QtCore import QSettings

    from fer_desktop.gui.qt_settings import NOTICE_VERSION

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)

    def make(export_dir) -> QtMainWindow:
        settings = QSettings(str(tmp_path / "test.ini"), QSettings.Format.IniFormat)
        settings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
        settings.setValue("settings/export_dir", str(export_dir))
        settings.sync()
        win = QtMainWindow(model_path=model_path, settings=settings)
        qtbot.addWidget(win)
        win.show()
        return win

    return make


def _record_and_stop(qtbot, win: QtMainWindow, source) -> object:
    win.start(str(source))
    qtbot.waitUntil(lambda: len(win.preview.badges) == 9, timeout=WAIT_MS)
    return win.stop()


def _fallback_folders() -> list:
    folder = fallback_dir()
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_sessions_folder_that_is_a_file_falls_back_to_the_app_data(qtbot, make_window,
                                                                      gallery_png, tmp_path):
    """The window exited 0 having saved no session folder (only a log line)."""
    blocker = tmp_path / "Documents-fer-desktop"
    blocker.write_text("not a folder")
    win = make_window(blocker)
    saved = _record_and_stop(qtbot, win, gallery_png)
    assert saved is not None and saved.folder.parent == fallback_dir()
    assert saved.folder.is_relative_to(tmp_path / "data")
    assert (saved.folder / "report.html").is_file() and (saved.folder / "session.csv").is_file()
    assert _fallback_folders() == [saved.folder]
    shown = win.statusBar().currentMessage()
    assert str(saved.folder) in shown and str(blocker) in shown
    assert str(saved.folder) in win.alert_bar.text()  # stays until dismissed
    assert win.store.recent_sessions()[0] == saved.folder
    assert not win.save_failed
    if os.name == "posix":
        assert stat.S_IMODE(saved.folder.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in saved.folder.iterdir())
    win.close()


def test_a_full_sessions_folder_falls_back_and_nothing_saved_is_an_error(
        qtbot, make_window, gallery_png, tmp_path, monkeypatch):
    chosen = tmp_path / "sessions"
    real = qt_report.open_private

    def full_disk(path, *args, **kwargs):
        if chosen in path.parents:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(qt_report, "open_private", full_disk)
    win = make_window(chosen)
    saved = _record_and_stop(qtbot, win, gallery_png)
    assert saved is not None and saved.folder.parent == fallback_dir()
    assert "No space left on device" in win.alert_bar.text()
    # and when the fallback cannot be written either: said in the window, the run fails
    monkeypatch.setattr(qt_report, "open_private", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    assert _record_and_stop(qtbot, win, gallery_png) is None
    assert "could not be saved" in win.alert_bar.text() and win.save_failed
    assert "Its CSV is kept in" in win.alert_bar.text()
    win.close()


def test_export_session_to_an_unwritable_folder_says_why_and_saves_nothing_elsewhere(
        qtbot, make_window, gallery_png, tmp_path):
    """Export session… goes where the teacher chose, or says why not (no silent fallback)."""
    win = make_window(tmp_path / "sessions")
    win.start(str(gallery_png))
    qtbot.waitUntil(lambda: len(win.preview.badges) == 9, timeout=WAIT_MS)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert win.export_session(blocker) is None
    assert "not a folder" in win.alert_bar.text()
    assert _fallback_folders() == []
    win.close()
