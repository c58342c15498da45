"""pytest-qt tests of the teacher's cockpit: privacy (no network, no frame on disk, the
responsible-use notice, anonymous and aggregate-only modes), the live views (chart, badges,
timeline, alerts), sessions (pause, stop, session folder, recent sessions) and settings that
survive a restart. Each test runs the real window on a synthetic gallery image."""

from __future__ import annotations

import re

import socket
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QDesktopServices, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.session.export import CLASS_COLUMNS, CSV_COLUMNS, SUMMARY_COLUMNS, read_csv
from fer_desktop.session.alerts import AlertKind, AlertRules
from fer_desktop.session.badges import BadgeKind
from fer_desktop.gui.qt_icons import badge_icon
from fer_desktop.gui.qt_main_window import QtMainWindow
from fer_desktop.gui.qt_mood_chart import QtMoodChart
from fer_desktop.gui.qt_settings import QtSettingsStore
from fer_desktop.session.updates import SessionState
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.session.settings import AppSettings
from fer_desktop.labels import EMOTIONS

WAIT_MS = 20_000


@pytest.fixture
def make_window(qtbot, model_path, tmp_path, warnings, app_settings):
    """Windows on the test's own settings; closed at the end."""
    made = []

    def make(settings: QSettings | None = None, **kw) -> QtMainWindow:
        kw.setdefault("csv_path", tmp_path / f"session{len(made)}.csv")
        win = QtMainWindow(model_path=model_path, settings=settings or app_settings, **kw)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.is_running


def _run(qtbot, win: QtMainWindow, source: Path, analyses: int = 2) -> None:
    win.start(str(source))
    qtbot.waitUntil(lambda: len(win.record) >= analyses, timeout=WAIT_MS)


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# -- privacy ------------------------------------------------------------------------------------


def test_no_network_connection_and_no_frame_written(qtbot, make_window, gallery_png, tmp_path,
                                                    monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network connection attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    imwrites = []
    monkeypatch.setattr(cv2, "imwrite", lambda *a, **k: imwrites.append(a) or True)
    before = {p for p in tmp_path.rglob("*") if p.is_file()}

    win = make_window()
    _run(qtbot, win, gallery_png, analyses=3)
    assert win.export_csv(tmp_path / "exported.csv")
    saved = win.stop()

    assert attempts == [] and imwrites == []
    assert saved is not None and saved.report.exists()
    written = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    images = sorted(p.name for p in written if p.suffix.lower() in {".png", ".jpg", ".jpeg",
                                                                  ".bmp", ".ppm", ".webp"})
    assert images == ["class_mood.png", "students.png"]  # charts, not frames
    for name in images:
        chart = cv2.imread(str(saved.folder / name))
        assert chart.shape[1] >= 1300  # drawn by the report, not a 1280x720 frame
    assert {p.suffix for p in written} <= {".csv", ".png", ".html", ".ini"}


def test_first_run_notice_must_be_acknowledged_once(qtbot, model_path, tmp_path, gallery_png):
    settings = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/export_dir", str(tmp_path / "sessions"))
    win = QtMainWindow(model_path=model_path, csv_path=tmp_path / "s.csv", settings=settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win._notice is not None and win._notice.isVisible(), timeout=5000)
    notice = win._notice
    assert notice.windowModality() != Qt.WindowModality.NonModal  # blocks the window, not Qt
    win.start(str(gallery_png))
    assert not win.is_running and win.state is SessionState.IDLE  # not before acknowledging
    assert not win.notice_acknowledged
    qtbot.mouseClick(notice.accept_button, Qt.MouseButton.LeftButton)
    assert win.notice_acknowledged
    qtbot.waitUntil(lambda: win.is_running, timeout=5000)  # the pending start goes ahead
    win.close()

    again = QtMainWindow(model_path=model_path, csv_path=tmp_path / "s2.csv", settings=settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.wait(50)
    assert again._notice is None
    again.close()


def test_notice_says_what_is_analysed_and_the_law(qtbot, make_window):
    win = make_window()
    notice = win.show_notice()
    body = " ".join(" ".join(label.text().split()) for label in notice.findChildren(QLabel))
    assert "facial expression" in body and "not a measure of feelings" in body
    assert "Art. 5(1)(f)" in body and "prohibited in the EU" in body
    assert "opens no network connection" in body
    assert notice.quit_button.text() == "Close"  # already acknowledged
    notice.reject()
    assert win.isVisible()


def test_named_anonymous_and_aggregate_exports(qtbot, make_window, gallery_png, tmp_path):
    win = make_window()
    _run(qtbot, win, gallery_png)
    win.students.name_edited.emit(win.session.student_at(0), "Ada Lovelace")  # typed
    assert win.preview.badges[0].student == "Ada Lovelace"
    qtbot.waitUntil(lambda: len(win.record) >= 4, timeout=WAIT_MS)
    named = win.stop()
    assert _files(named.folder) == {"session.csv", "students.csv", "class_mood.csv",
                                    "class_mood.png", "students.png", "report.html"}
    rows = read_csv(named.folder / "session.csv")
    assert list(rows[0]) == list(CSV_COLUMNS) and rows[0]["student"] == "Ada Lovelace"
    students = read_csv(named.folder / "students.csv")
    assert list(students[0]) == list(SUMMARY_COLUMNS) and len(students) == 9
    assert students[0]["student"] == "Ada Lovelace"
    # the camera-off student is camera off, not "no face" (issue 12 #9)
    assert float(students[4]["camera_off_share"]) == pytest.approx(1.0)
    assert float(students[4]["no_face_share"]) == 0
    assert all(abs(sum(float(r[f"share_{e}"]) for e in EMOTIONS) + float(r["no_face_share"])
                   + float(r["camera_off_share"]) - 1) < 1e-3 for r in students)
    page = (named.folder / "report.html").read_text()
    assert 'src="class_mood.png"' in page and 'src="students.png"' in page

    _run(qtbot, win, gallery_png)
    win.students.name_edited.emit(win.session.student_at(0), "Ada Lovelace")
    assert win.set_privacy(PrivacyMode.ANONYMOUS)  # during the session: everything at once
    assert win.preview.cover_names and win.preview.badges[0].student == "Student 1"
    assert win.students.row_texts()[0][0] == "Student 1"
    assert not win.students.names_editable
    n = len(win.record)
    qtbot.waitUntil(lambda: len(win.record) >= n + 2, timeout=WAIT_MS)
    anonymous = win.stop()
    assert anonymous.folder != named.folder
    for path in anonymous.folder.iterdir():
        if path.suffix in (".csv", ".html"):
            assert "Ada" not in path.read_text(), path.name
    assert read_csv(anonymous.folder / "session.csv")[0]["student"] == "Student 1"

    assert win.set_privacy(PrivacyMode.AGGREGATE)
    recorded = win.session_csv.stat().st_size
    _run(qtbot, win, gallery_png)
    assert not win.set_privacy(PrivacyMode.NAMED)  # not during a session
    assert win.settings.privacy is PrivacyMode.AGGREGATE
    assert not win.preview.show_badges and not win.students.isVisible()
    assert win.students.row_texts() == []  # nothing per student, not even hidden
    aggregate = win.stop()
    assert _files(aggregate.folder) == {"class_mood.csv", "class_mood.png", "report.html"}
    assert win.session_csv.stat().st_size == recorded  # no per-student row recorded
    cls = read_csv(aggregate.folder / "class_mood.csv")
    assert list(cls[0]) == list(CLASS_COLUMNS) and cls[0]["faces"] == "8"
    page = (aggregate.folder / "report.html").read_text()
    assert "Student" not in page.replace("per student", "")
    assert not win.export_csv(tmp_path / "x.csv")


# -- live view ----------------------------------------------------------------------------------


def test_mood_chart_window_mood_line_and_alert_marks(qtbot):
    chart = QtMoodChart(window_min=5)
    qtbot.addWidget(chart)
    chart.show()
    happy, sad = np.zeros(7, np.float32), np.zeros(7, np.float32)
    happy[EMOTIONS.index("happy")] = 1.0
    sad[EMOTIONS.index("sad")] = 0.75
    sad[EMOTIONS.index("neutral")] = 0.25
    t0 = 1_700_000_000.0
    for k in range(20 * 60):  # 20 minutes at 1 analysis/s: happy, then sad for the last 2 min
        chart.add_shares(t0 + k, happy if k < 18 * 60 else sad)
    chart.add_alert(t0 + 19 * 60)
    chart.add_alert(t0 + 2 * 60)  # older than every window
    items = (chart.curves[0], chart.mood_curve, chart.alert_markers)
    ids = [id(i) for i in items]
    for minutes in (1, 5, 15):
        chart.set_window_min(minutes)
        chart.redraw()
        x, tops = chart.curve_data()
        assert x[0] >= -minutes - 1e-9 and x[-1] == 0 and len(x) == minutes * 60 + 1
        np.testing.assert_allclose(tops[-1], 100, atol=1e-4)
        mx, mood = chart.mood_data()
        assert mood[-1] == pytest.approx(-75) and len(mx) == len(x)
        if minutes == 15:
            assert mood[0] == pytest.approx(100)
        np.testing.assert_allclose(chart.alert_x(), [-59 / 60])
    assert [id(i) for i in (chart.curves[0], chart.mood_curve, chart.alert_markers)] == ids
    assert chart.legend_values["sad"].text() == "75%"
    assert chart.mood_label.text() == "mood index now: -75"
    with pytest.raises(ValueError):
        chart.set_window_min(7)


def test_mood_chart_leaves_gaps_for_pauses_and_frames_without_faces(qtbot):
    """Issue 12 #8: the mood line was drawn at 0 without a face and pauses were bridged by
    sloped lines; the axis and the View menu disagreed."""
    chart = QtMoodChart(window_min=5)
    qtbot.addWidget(chart)
    chart.show()
    happy, nobody = np.zeros(7, np.float32), np.zeros(7, np.float32)
    happy[EMOTIONS.index("happy")] = 1.0
    t0 = 1_700_000_000.0
    for k in range(30):  # 30 s happy, 10 s without a face, a 60 s pause, 20 s happy
        chart.add_shares(t0 + k, happy)
    for k in range(30, 40):
        chart.add_shares(t0 + k, nobody)
    for k in range(100, 120):
        chart.add_shares(t0 + k, happy)
    chart.redraw()
    x, mood = chart.mood_data()
    assert np.isnan(mood[30:40]).all() and not np.isnan(mood[:30]).any()
    pause = np.flatnonzero(np.isnan(mood) & (x > x[39]) & (x < x[-20]))
    assert len(pause) == 2  # the line stops over the pause
    xa, tops = chart.curve_data()
    assert (tops[:, pause] == 0).all()  # and so does the area
    assert chart.mood_label.text() == "mood index now: +100"
    assert chart.area.getViewBox().viewRange()[0][0] == pytest.approx(-5, abs=0.2)


def test_badges_table_icons_and_clicking_a_student_shows_the_timeline(qtbot, make_window,
                                                                     gallery_png):
    win = make_window()
    _run(qtbot, win, gallery_png, analyses=3)
    kinds = {b.kind for b in win.preview.badges}
    # tile 4 is a camera-off card (testing.synthetic draws a name on grey)
    assert BadgeKind.CAMERA_OFF in kinds and kinds & {BadgeKind.EMOTION, BadgeKind.UNCERTAIN}
    assert win.students.row_texts()[4][1] == "camera off"
    assert win.students.model().index(0, 1).data(Qt.ItemDataRole.DecorationRole) is not None
    for kind in BadgeKind:
        assert not badge_icon(kind, "happy", "#000000").pixmap(32, 32).toImage().isNull()

    assert not win.timeline.isVisible()
    centre = win.preview.tile_rect(2).center().toPoint()
    qtbot.mouseClick(win.preview, Qt.MouseButton.LeftButton, pos=centre)
    assert win.timeline.isVisible() and win.timeline.student_id == 2 and win.preview.selected == 2
    bars = win.timeline.bar_data()
    assert len(bars["x0"]) >= 1 and bars["width"].sum() > 0
    # "Chloe" as read from her label (OCR runs in the background: "Student 3" until it has)
    assert re.search(r"Ch|Student 3", win.timeline.title.text())

    rect = win.students.visualRect(win.students.model().index(4, 0))
    qtbot.mouseClick(win.students.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.timeline.student_id == 4
    assert win.timeline.bar_data()["y"].tolist() == [0.0]  # "no face" row only

    win.pause()
    assert win.set_privacy(PrivacyMode.ANONYMOUS)
    win.stop()
    assert win.set_privacy(PrivacyMode.AGGREGATE)
    assert not win.timeline.isVisible()


@pytest.fixture
def no_face_png(faces, tmp_path) -> Path:
    """The 9-tile gallery whose tile 6 has its camera on but shows no face (noise where the
    face was); tile 4's camera is off."""
    from testing.synthetic import make_gallery

    image, truth = make_gallery(faces, 9, (1280, 720), empty=(4,))
    x, y, w, h = (int(v) for v in truth.tiles[6])
    inner = image[y + h // 8:y + h * 7 // 8, x + w // 8:x + w * 7 // 8]
    inner[:] = np.random.default_rng(0).integers(40, 200, inner.shape, dtype=np.uint8)
    path = tmp_path / "no-face.png"
    cv2.imwrite(str(path), image)
    return path


def test_alerts_are_shown_without_blocking_and_marked_on_the_chart(qtbot, make_window,
                                                                    app_settings, no_face_png):
    """A missing face fires for the camera-on tile without a face, never for the camera-off
    one (issue 12 #9)."""
    store = QtSettingsStore(app_settings)
    store.save(AppSettings(export_dir=str(store.load().export_dir),
                           alerts=AlertRules(negative_enabled=False, face_missing_min=0.01)))
    win = make_window()
    win.start(str(no_face_png))
    qtbot.waitUntil(lambda: win.alert_bar.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(win.record) >= 4, timeout=WAIT_MS)
    assert re.search(r"No face of \S+", win.alert_bar.label.text())
    assert QApplication.activeModalWidget() is None
    (alert,) = win.record.alerts
    assert alert.kind is AlertKind.FACE_MISSING and alert.student_id == 6
    assert win.preview.badges[4].kind is BadgeKind.CAMERA_OFF
    assert win.preview.badges[6].kind is BadgeKind.NO_FACE
    win.mood_chart.redraw()
    assert len(win.mood_chart.alert_x()) == 1
    name = win.session.name_of(6)
    saved = win.stop()
    # the report names the student as the window did
    assert f"No face of {name}" in (saved.folder / "report.html").read_text()
    assert not win.alert_bar.isVisible()  # nothing of the session stays after Stop


# -- sessions and settings ----------------------------------------------------------------------


def test_pause_resume_stop_and_recent_sessions(qtbot, make_window, gallery_png, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(
        lambda url: opened.append(url.toLocalFile()) or True))
    win = make_window()
    _run(qtbot, win, gallery_png)
    assert win.state is SessionState.RUNNING and win.start_action.text() == "Stop"
    win.pause_action.trigger()
    assert win.state is SessionState.PAUSED and not win.is_running
    assert win.pause_action.text() == "Resume"
    n = len(win.record)
    win.pause_action.trigger()
    qtbot.waitUntil(lambda: len(win.record) > n, timeout=WAIT_MS)  # same session goes on
    saved = win.stop()
    assert win.state is SessionState.IDLE and win.start_action.text() == "Start"
    assert saved.folder.parent == win.store.export_dir(win.settings)
    assert win.store.recent_sessions() == [saved.folder]
    win.recent_menu.aboutToShow.emit()
    (action,) = [a for a in win.recent_menu.actions() if a.data() == str(saved.folder)]
    action.trigger()
    assert opened == [str(saved.report)]


def test_settings_and_layout_survive_a_restart(qtbot, make_window, app_settings, tmp_path,
                                               gallery_png):
    win = make_window()
    custom = AppSettings(rate=4.0, smoothing_s=3.0, uncertain_below=0.55, chart_window_min=15,
                         export_dir=str(tmp_path / "elsewhere"), privacy=PrivacyMode.ANONYMOUS,
                         alerts=AlertRules(negative_share=0.3, negative_for_s=20,
                                           face_missing_min=4))
    win.apply_settings(custom)
    _run(qtbot, win, gallery_png, analyses=1)
    assert win.worker.params.rate == 4.0 and win.worker.params.smoothing_s == 3.0
    win.main_split.setSizes([700, 620])
    sizes = win.main_split.sizes()
    win.close()

    again = make_window()
    assert again.settings == custom
    assert again.controls.rate.value() == 4.0 and again.mood_chart.window_min == 15
    assert again.controls.privacy.currentData() is PrivacyMode.ANONYMOUS
    assert again.source_combo.currentText() == "gallery9.png"
    restored = again.main_split.sizes()  # offscreen, the window may be clamped: compare shares
    assert restored[0] / sum(restored) == pytest.approx(sizes[0] / sum(sizes), abs=0.02)
    assert again.start_action.shortcut() == QKeySequence("Ctrl+R")
    assert again.pause_action.shortcut() == QKeySequence("Ctrl+P")
    assert again.controls.export_session.shortcut() == QKeySequence("Ctrl+E")


def test_snapshot_only_when_asked_and_charts_follow_the_theme(qtbot, make_window, gallery_png,
                                                             tmp_path):
    win = make_window()
    _run(qtbot, win, gallery_png, analyses=1)
    assert not list(tmp_path.rglob("*.png"))  # nothing but the teacher's snapshot writes one
    assert win.save_snapshot(tmp_path / "snap.png")
    snap = cv2.imread(str(tmp_path / "snap.png"))
    assert snap.shape[:2] == (win.preview.height(), win.preview.width())

    def background() -> int:
        return win.mood_chart.plot.backgroundBrush().color().lightness()

    assert background() > 128
    dark = win.palette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#E8E8E8"))
    win.setPalette(dark)  # what Qt does when the system switches to dark
    assert background() < 128


def test_selection_timeline_and_rename_follow_the_student_when_tiles_reflow(qtbot, make_window,
                                                                            tmp_path):
    """Ben is selected and renamed in tile 1; the gallery reflows and he moves to tile 2: the
    highlight, his row, his timeline and his name go with him."""
    from fer_desktop.gui.qt_timeline import ROWS
    from fer_desktop.analysis.result import FrameResult
    from fer_desktop.session.runner import AnalysisUpdate

    win = make_window()
    run = win.session.start("class.png")  # the session runs; results are fed by hand

    def feed(t: float, ids: tuple[int, ...], names: tuple[str, ...], emotion: str) -> None:
        probs = np.full((3, 7), 0.02, np.float32)
        probs[:, EMOTIONS.index(emotion)] = 0.88
        result = FrameResult.of_tiles(
            frame_index=int(t), timestamp=1_700_000_000.0 + t, position_s=t, source="test",
            frame_size=(300, 100), tiles=np.array([[i * 100, 0, 100, 100] for i in range(3)]),
            faces=np.array([[i * 100 + 25, 20, 50, 50] for i in range(3)]),
            probs=probs, students=names, student_ids=ids)
        win._on_worker_updated(AnalysisUpdate(
            run_id=run.run_id, result=result, preview=np.full((100, 300, 3), 90, np.uint8),
            scale=1.0, analyses_per_s=1.0, latency_s=0.1, dropped=0, rows=0))

    try:
        for t in range(3):
            feed(t, (0, 1, 2), ("Ada", "Ben", "Cy"), "happy")
        win.show_student(1)
        assert win.selected_student == 1 and win.preview.selected == 1
        win.students.name_edited.emit(1, "Benjamin")
        assert [b.student for b in win.preview.badges] == ["Ada", "Benjamin", "Cy"]
        for t in range(3, 6):  # Cy leaves the first page: Ben moves to tile 2, Ada to tile 1
            feed(t, (2, 0, 1), ("Cy", "Ada", "Ben"), "sad")
        assert win.selected_student == 1 and win.preview.selected == 2
        (selected,) = win.students.selectionModel().selectedRows()
        assert win.students.student_ids()[selected.row()] == 1
        assert win.students.row_texts()[selected.row()][0] == "Benjamin"
        assert [b.student for b in win.preview.badges] == ["Cy", "Ada", "Benjamin"]
        win._refresh_timeline()
        assert "Benjamin" in win.timeline.title.text()
        rows = {ROWS[int(y)] for y in win.timeline.bar_data()["y"]}
        assert rows == {"happy", "sad"}  # his whole session, across both tiles
        saved = win.export_session(tmp_path / "out")
        students = {r["student"]: r for r in read_csv(saved.folder / "students.csv")}
        assert set(students) == {"Ada", "Benjamin", "Cy"}
        assert float(students["Benjamin"]["share_happy"]) == pytest.approx(0.5, abs=0.1)
    finally:
        win.session.stop()
