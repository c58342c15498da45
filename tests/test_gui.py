"""GUI tests with pytest-qt: the window on a synthetic gallery, errors, export, the worker's
latest-wins capture, source switching and the region picker. Each test runs in a few seconds."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.session.export import CSV_COLUMNS, read_csv
from fer_desktop.gui.qt_app import run_gui
from fer_desktop.session.palette import CAMERA_OFF_COLOUR, EMOTION_COLOURS, NO_FACE_COLOUR
from fer_desktop.gui.qt_main_window import QtMainWindow
from fer_desktop.gui.qt_region_picker import QtRegionPicker
from fer_desktop.gui.qt_worker import QtAnalysisWorker
from fer_desktop.labels import EMOTIONS
from testing.synthetic import make_gallery

WAIT_MS = 20_000  # first result: model load + one analysis, slow on a busy 2-core machine


@pytest.fixture
def window(qtbot, model_path, tmp_path, warnings, app_settings) -> QtMainWindow:
    win = QtMainWindow(model_path=model_path, csv_path=tmp_path / "session.csv",
                       settings=app_settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.is_running


def _wait_for_badges(qtbot, win: QtMainWindow, n: int) -> None:
    qtbot.waitUntil(lambda: len(win.preview.badges) == n, timeout=WAIT_MS)


def test_window_shows_badges_students_mood_and_records_csv(qtbot, window, gallery_png):
    window.start(str(gallery_png))
    assert window.is_running
    _wait_for_badges(qtbot, window, 9)

    badges = window.preview.badges
    no_face = [b for b in badges if not b.has_face]
    assert [b.row for b in no_face] == [4]
    # the tile without a face is a camera-off card (a name on grey), told apart by the core
    assert no_face[0].text == "camera off" and no_face[0].colour == CAMERA_OFF_COLOUR
    assert NO_FACE_COLOUR not in EMOTION_COLOURS.values()
    for b in badges:
        if b.has_face:
            name, percent = b.text.split(" ")
            assert name.rstrip("?") in EMOTIONS and percent.endswith("%")
            assert b.accent == EMOTION_COLOURS[name.rstrip("?")]

    rows = window.students.row_texts()
    assert len(rows) == 9
    assert rows[4] == ("Student 5", "camera off", "–")
    assert all(r[1].rstrip("?") in EMOTIONS for i, r in enumerate(rows) if i != 4)

    window.mood_chart.redraw()
    x, tops = window.mood_chart.curve_data()
    assert x.size >= 1 and tops.shape == (7, x.size)
    assert np.all(np.diff(tops, axis=0) >= -1e-6)  # stacked: each band on the one below
    np.testing.assert_allclose(tops[-1], 100.0, atol=1e-4)  # shares of the faces sum to 100 %
    assert x[-1] == 0.0 and np.all(x <= 0)

    stats = window.statusBar().findChildren(type(window._stats))
    assert any("9 tiles · 8 faces" in label.text() for label in stats)

    window.stop()
    assert not window.is_running
    rows = read_csv(window.session_csv)
    assert rows and len(rows) % 9 == 0
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[4]["emotion"] == "" and rows[0]["emotion"] in EMOTIONS


def test_missing_camera_is_reported_in_the_window_and_another_source_can_follow(
        qtbot, window, gallery_png, warnings):
    """Issue 12 #1 and #2: the error is shown in the window (no modal box), and the next
    source chosen is the one analysed."""
    window.start("camera:9")
    qtbot.waitUntil(lambda: "Camera 9 is not available" in window.alert_bar.text(),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.start_action.text() == "Start", timeout=5000)
    assert not window.is_running and warnings == []
    assert QApplication.activeModalWidget() is None
    assert "Traceback" not in window.alert_bar.text()
    window.start(str(gallery_png))
    _wait_for_badges(qtbot, window, 9)
    assert window.session.source.path.name == "gallery9.png"
    assert window.alert_bar.text() == ""  # the error went with the dead camera


def test_export_to_an_unwritable_path_is_reported_in_the_window(qtbot, window, gallery_png,
                                                                tmp_path, warnings,
                                                                monkeypatch):
    window.start(str(gallery_png))
    _wait_for_badges(qtbot, window, 9)
    target = {"path": str(tmp_path / "no-such-folder" / "out.csv")}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (target["path"], "CSV files (*.csv)")))

    window.export_action.trigger()
    assert warnings == [] and "Cannot export" in window.alert_bar.text()

    target["path"] = str(tmp_path / "out.csv")
    window.export_action.trigger()
    exported = read_csv(target["path"])
    assert exported and len(exported) % 9 == 0


def test_switching_source_restarts_and_keeps_one_session_csv(qtbot, window, faces, gallery_png,
                                                             tmp_path):
    four, _ = make_gallery(faces, 4, (960, 540), seed=3)
    four_png = tmp_path / "gallery4.png"
    cv2.imwrite(str(four_png), four)
    window.start(str(gallery_png))
    _wait_for_badges(qtbot, window, 9)
    first = window.worker
    window.start(str(four_png))
    assert first.isFinished() and window.is_running
    _wait_for_badges(qtbot, window, 4)
    assert len(window.students.row_texts()) == 4
    assert window.source_combo.currentText() == "gallery4.png"
    window.stop()
    sources = {row["source"] for row in read_csv(window.session_csv)}
    assert sources == {"gallery9.png", "gallery4.png"}


def test_the_worker_loads_the_analysis_once_and_stops_without_terminate(qtbot, model_path,
                                                                         gallery_png,
                                                                         tmp_path):
    """The model, cascade and OCR are loaded by the first run and reused by the next (a
    resume, a source switch); stopping waits for the current analysis, never terminates."""
    from fer_desktop.session.live import LiveSession
    from fer_desktop.session.settings import AppSettings

    session = LiveSession(AppSettings(), sessions_dir=tmp_path)
    first = QtAnalysisWorker(session.start(str(gallery_png)), model_path=model_path)
    kits = []
    first.kit_ready.connect(kits.append)
    with qtbot.waitSignal(first.updated, timeout=WAIT_MS):
        first.start()
    first.stop()
    assert first.isFinished() and len(kits) == 1
    second = QtAnalysisWorker(session.choose_source(str(gallery_png)), kit=kits[0])
    second.kit_ready.connect(kits.append)
    with qtbot.waitSignal(second.updated, timeout=WAIT_MS) as blocker:
        second.start()
    second.stop()
    assert second.isFinished() and len(kits) == 1  # nothing loaded again
    assert blocker.args[0].run_id == second.run_id
    assert first.rows_written > 0 and second.rows_written > 0


def test_region_picker_returns_screen_pixels(qtbot):
    shot = np.full((1080, 1920, 3), 90, np.uint8)
    monitor = {"left": 1920, "top": 0, "width": 1920, "height": 1080}
    dialog = QtRegionPicker(monitor, screenshot=shot)
    qtbot.addWidget(dialog)
    dialog.resize(1000, 700)
    dialog.show()
    qtbot.waitExposed(dialog)
    canvas = dialog.canvas
    r = canvas.image_rect()
    k = r.width() / 1920

    def at(x, y):
        return QPoint(round(r.left() + x * k), round(r.top() + y * k))

    assert dialog.region() is None
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(200, 100))
    qtbot.mouseMove(canvas, at(1000, 600))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(1000, 600))
    x, y, w, h = dialog.region()
    tol = 2 / k
    assert abs(x - (1920 + 200)) <= tol and abs(y - 100) <= tol
    assert abs(w - 800) <= tol and abs(h - 500) <= tol


def test_session_autosaves_under_app_data(qtbot, model_path, tmp_path, monkeypatch,
                                          app_settings):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    win = QtMainWindow(model_path=model_path, settings=app_settings)
    qtbot.addWidget(win)
    win.session.start("class.png")  # opens the session (no run started)
    assert win.session_csv.parent.name == "sessions"
    assert win.session_csv.is_relative_to(tmp_path)
    assert win.session_csv.name.startswith("session-") and win.session_csv.suffix == ".csv"


def test_run_gui_shows_source_errors_instead_of_raising(qtbot, model_path, tmp_path,
                                                        app_settings):
    seen = []

    def close_all():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QtMainWindow):
                seen.append(widget.alert_bar.text())
        for widget in QApplication.topLevelWidgets():
            widget.close()

    def poll():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, QtMainWindow)]
        if wins and "File not found" in wins[0].alert_bar.text():
            close_all()
        else:
            QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
    QTimer.singleShot(WAIT_MS, close_all)  # safety net
    code = run_gui(str(tmp_path / "missing.mp4"), str(tmp_path / "s.csv"), str(model_path),
                   settings=app_settings)
    assert code == 0
    assert seen and "File not found" in seen[0]


def test_room_camera_every_face_has_a_badge_a_row_and_csv_rows(qtbot, window, faces, tmp_path):
    """A frame without a gallery (a room camera): a compact badge under every face, a list row
    and a CSV row per face, the tile columns empty."""
    from testing.synthetic import make_room, room_people

    img, truth = make_room(faces, room_people(12, seed=4), seed=4)
    path = tmp_path / "room.png"
    cv2.imwrite(str(path), img)
    window.start(str(path))
    _wait_for_badges(qtbot, window, 12)
    badges = window.preview.badges
    assert all(b.has_face and not b.tile for b in badges)
    assert len(window.students.row_texts()) == 12
    window.stop()
    rows = read_csv(window.session_csv)
    assert rows and len(rows) % 12 == 0
    assert all(r["tile"] == "" and r["tile_x"] == "" and r["face_w"] != "" for r in rows)
    assert len({r["student_id"] for r in rows}) == 12
