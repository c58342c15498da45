"""The window's points of issue 20's walkthrough (item 7), each checked: the report's chart leaves gaps for pauses as the live chart does; the chart keeps
an ended session; badges never overlap and every row has one; long names are never cut in the
report; the Help reads as written; names sort naturally; no stale text; the names on the tiles
are covered in Anonymous and Aggregate only, the pictures never in Anonymous."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QDialog, QLabel

from fer_desktop.analysis.result import FrameResult
from fer_desktop.analysis.tiles import TileState
from fer_desktop.gui.qt_main_window import QtMainWindow
from fer_desktop.gui.qt_mood_chart import QtMoodChart
from fer_desktop.gui.qt_report import render_class_chart, render_student_table
from fer_desktop.gui.qt_settings import QtSettingsStore
from fer_desktop.gui.qt_window_views import WELCOME
from fer_desktop.labels import EMOTIONS
from fer_desktop.session.badges import BadgeSlot, natural_key, place_badges
from fer_desktop.session.mood_history import pauses
from fer_desktop.session.palette import EMOTION_COLOURS
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.session.record import SessionRecord
from fer_desktop.session.runner import AnalysisUpdate
from fer_desktop.session.settings import AppSettings
from fer_desktop.session.summary import listed_students
from fer_desktop.session.updates import SessionState
from testing import real_dev
from tests.test_live_session import T0, _result

WAIT_MS = 30_000
HAPPY = np.eye(7, dtype=np.float32)[EMOTIONS.index("happy")]


@pytest.fixture
def make_window(qtbot, model_path, tmp_path, app_settings):
    made = []

    def make(**kw) -> QtMainWindow:
        kw.setdefault("csv_path", tmp_path / f"session{len(made)}.csv")
        kw.setdefault("probe", lambda: [])
        win = QtMainWindow(model_path=model_path, settings=app_settings, **kw)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()


def feed(win: QtMainWindow, run, result: FrameResult, width: int | None = None) -> None:
    w, h = result.frame_size if width is None else (width, 100)
    win._on_worker_updated(AnalysisUpdate(
        run_id=run.run_id, result=result, preview=np.full((h, w, 3), (40, 200, 40), np.uint8),
        scale=1.0, analyses_per_s=1.0, latency_s=0.1, dropped=0, rows=0))


# -- the charts ---------------------------------------------------------------------------------

def _chart_geometry(size=(1600, 760)):
    """Where render_class_chart draws (its layout, for reading its pixels)."""
    w, h = size
    left, right, top = 90, w - 190, 20
    area = QRectF(left, top, right - left, (h - 90) * 0.68)
    mood = QRectF(left, area.bottom() + 24, right - left, h - 70 - area.bottom() - 24)
    return left, right, area, mood


def test_the_report_chart_leaves_a_gap_where_the_live_chart_does(qtbot):
    """2 analyses/s for 30 s, 4 s without a frame (bridged: no pause), 30 s more, 60 s paused,
    30 s more: both charts break at the same place, the report with a gap, not a slope."""
    t = np.concatenate([np.arange(0, 30, 0.5), np.arange(34, 64, 0.5),
                        np.arange(124, 154, 0.5)])
    mixed = 0.75 * HAPPY + 0.25 * np.eye(7, dtype=np.float32)[EMOTIONS.index("neutral")]
    shares = np.tile(mixed, (len(t), 1))  # happy at the bottom, the mood line at +75
    gap = pauses(t)
    assert t[gap].tolist() == [63.5]  # only the pause; 4 s without a frame is bridged
    chart = QtMoodChart(window_min=5)
    qtbot.addWidget(chart)
    for ti, s in zip(t, shares):
        chart.add_shares(T0 + ti, s)
    chart.redraw()
    x, mood = chart.mood_data()
    assert np.isnan(mood).sum() == 2  # the live chart's two break points

    image = render_class_chart(T0 + t, shares)
    left, right, area, mood_rect = _chart_geometry()
    span = (t[-1] - t[0]) / 60.0

    def px(seconds: float) -> int:
        return round(left + seconds / 60.0 / span * (right - left))

    y = round(area.center().y())
    happy = QColor(EMOTION_COLOURS["happy"]).rgb()
    assert image.pixel(px(15), y) == happy and image.pixel(px(32), y) == happy  # bridged
    assert QColor(image.pixel(px(94), y)).name() == "#ffffff"  # the pause is a gap
    ink = [QColor(image.pixel(px(94), yy)).lightness() for yy in
           range(round(mood_rect.top()) + 30, round(mood_rect.bottom()) - 2)]
    assert min(ink) > 150  # and the mood line stops there (only the pale zero line)
    line = [QColor(image.pixel(px(15), yy)).lightness() for yy in
            range(round(mood_rect.top()) + 2, round(mood_rect.bottom()) - 2)]
    assert min(line) < 80  # where frames were analysed, it is drawn


def test_after_stop_the_chart_keeps_the_ended_session(qtbot, make_window):
    """Stop kept the chart, but a Start that failed (a camera that does not exist) wiped it,
    and "Analysing Camera 97" showed while nothing was analysed."""
    win = make_window()
    run = win.session.start("class.png")
    for k in range(6):
        feed(win, run, _result(k))
    win.mood_chart.redraw()
    assert win.mood_chart.mood_label.text() == "mood index now: +100"
    assert win.stop() is not None
    assert len(win.mood_chart.history) == 6 and win.mood_chart.ended
    assert "at the end of the session" in win.mood_chart.mood_label.text()
    assert win.mood_chart.curve_data()[0].size == 6

    win.start("camera:97")  # no such camera: no new session, the chart stays
    qtbot.waitUntil(lambda: win._worker is None and win.state is SessionState.IDLE,
                    timeout=WAIT_MS)
    assert win.alert_bar.error and "97" in win.alert_bar.text()
    assert "Analysing" not in win.statusBar().currentMessage()
    assert win._stats.text() == "" and "Recording" not in win._recording.text()
    assert len(win.mood_chart.history) == 6 and win.mood_chart.ended

    run = win.session.start("class.png")  # a new session: its first frame replaces it
    win._begin_ui()
    feed(win, run, _result(100))
    assert len(win.mood_chart.history) == 1 and not win.mood_chart.ended
    assert "Analysing" in win.statusBar().currentMessage()  # once a frame is analysed
    win.session.stop()


# -- stale texts --------------------------------------------------------------------------------

def test_each_text_matches_the_state(qtbot, make_window, gallery_png, tmp_path):
    win = make_window()
    assert win.preview._placeholder == WELCOME
    win._on_source_chosen(str(gallery_png))  # chosen, not started: no more "choose"
    assert "Choose the meeting" not in win.preview._placeholder
    assert win.preview._placeholder.startswith("Press Start (Ctrl+R) to analyse gallery9.png")

    win.start(str(gallery_png))
    qtbot.waitUntil(lambda: len(win.record) >= 1, timeout=WAIT_MS)
    assert win.statusBar().currentMessage() == "Analysing gallery9.png."
    win.choose_source("camera:97")  # the camera dies: paused, with a red strip
    qtbot.waitUntil(lambda: win.state is SessionState.PAUSED and win.alert_bar.error,
                    timeout=WAIT_MS)
    assert "97" in win.preview.paused and "Analysing" not in win.statusBar().currentMessage()
    other = tmp_path / "another-class.png"
    shutil.copy(gallery_png, other)
    win.choose_source(str(other))  # a file chosen while paused: the strip goes
    assert not win.alert_bar.isVisible() and win.alert_bar.text() == ""
    assert "97" not in win.preview.paused and "another-class.png" in win.preview.paused
    win.resume()
    n = len(win.record)
    qtbot.waitUntil(lambda: len(win.record) > n, timeout=WAIT_MS)
    saved = win.stop()
    assert saved is not None and "Session saved" in win.preview._placeholder
    again = make_window()  # the last source is restored: it is what Start analyses
    assert again.preview._placeholder.startswith("Press Start (Ctrl+R) to analyse "
                                                 "another-class.png")


# -- the student list and Help ------------------------------------------------------------------

def test_names_sort_naturally(qtbot, make_window):
    names = ("Student 100", "student 74", "Ada", "Student 9", "ben", "Student 74b")
    assert sorted(names, key=natural_key) == ["Ada", "ben", "Student 9", "student 74",
                                              "Student 74b", "Student 100"]
    win = make_window()
    run = win.session.start("class.png")
    win._begin_ui()
    feed(win, run, _result(0, ids=tuple(range(6)), names=names))
    win.students.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [r[0] for r in win.students.row_texts()] == sorted(names, key=natural_key)
    win.students.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert [r[0] for r in win.students.row_texts()][0] == "Student 100"
    win.session.stop()


def test_help_shows_the_words_as_written(qtbot, make_window):
    win = make_window()
    win.controls.shortcuts.trigger()
    dialog = next(d for d in win.findChildren(QDialog)
                  if d.isVisible() and d.windowTitle() == "Keyboard shortcuts")
    labels = dialog.findChildren(QLabel)
    plain = [lbl for lbl in labels if lbl.textFormat() == Qt.TextFormat.PlainText]
    assert "Type the student's name" in [lbl.text() for lbl in plain]
    assert not any("&#" in lbl.text() or "&amp;" in lbl.text() for lbl in labels)
    rich = [lbl for lbl in labels if lbl.textFormat() == Qt.TextFormat.RichText]
    assert "<b>Ctrl+Z</b>" in [lbl.text() for lbl in rich]


# -- the report's table -------------------------------------------------------------------------

def test_long_names_are_never_cut_in_the_report_table(qtbot):
    long = "Giodio Nathanael Pratama Mitaart-Wijayakusuma"
    record = SessionRecord()
    for k in range(40):
        record.add(_result(k, ids=(0, 1), names=(long, "Bo")))
    summaries = listed_students(record.summaries({0: long, 1: "Bo"}))
    image = render_student_table(summaries)
    font = QFont("DejaVu Sans")
    font.setPixelSize(19)
    advance = QFontMetricsF(font).horizontalAdvance(long)
    assert advance > 230  # longer than the old column
    y = 84 + 19  # the middle of the first row
    ink = [x for x in range(image.width())
           if QColor(image.pixel(x, y)).lightness() < 100]
    first_bar = next(x for x in range(20, image.width())
                     if QColor(image.pixel(x, y)).saturation() > 80)
    name_ink = [x for x in ink if x < first_bar]
    assert max(name_ink) >= 10 + advance - 8  # drawn to its last letter, no "…"
    assert first_bar > 10 + advance  # the bar starts after it


# -- badges -------------------------------------------------------------------------------------

def _overlaps(boxes) -> list[tuple[int, int]]:
    out = []
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        if a.intersected(b).width() > 0.01 and a.intersected(b).height() > 0.01:
            out.append((i, j))
    return out


def test_badges_never_overlap_in_a_crowd_and_each_row_has_one():
    """A crowded room: 48 faces 30 px wide, 4 px apart; compact badges would cover each
    other below every face."""
    sizes = ((90, 16), (44, 16), (18, 16))
    slots = [BadgeSlot((x, y, 30, 30), False, (x, y, 30, 30), sizes)
             for x, y in itertools.product(range(100, 372, 34), range(60, 264, 34))]
    places = place_badges(slots, (0, 0, 600, 400))
    boxes = [QRectF(*box) for box, _ in places]
    assert len(boxes) == len(slots) and not _overlaps(boxes)
    assert all(QRectF(0, 0, 600, 400).contains(b) for b in boxes)
    assert {style for _, style in places} <= {1, 2}  # never the full badge on a face
    # a 49-tile gallery with a name-only tile, a small-picture tile and a face in no tile
    tiles = [(x * 60, y * 40, 58, 38) for y in range(7) for x in range(7)]
    slots = []
    for k, tile in enumerate(tiles):
        if k == 24:  # camera off: no face
            slots.append(BadgeSlot(tile, True, None, ((70, 16), (18, 16), (18, 16))))
        elif k == 30:  # a small picture in its tile
            small = (tile[0] + 20, tile[1] + 14, 20, 14)
            slots.append(BadgeSlot(small, False, small, ((80, 16), (40, 16), (18, 16))))
        else:
            face = (tile[0] + 19, tile[1] + 8, 20, 22)
            slots.append(BadgeSlot(tile, True, face, ((80, 16), (40, 16), (18, 16))))
    places = place_badges(slots, (0, 0, 420, 280))
    boxes = [QRectF(*box) for box, _ in places]
    assert not _overlaps(boxes)
    assert QRectF(*tiles[24]).contains(boxes[24])  # the name-only tile has its badge
    assert QRectF(*tiles[30]).intersects(boxes[30])  # so has the small picture, near it


def _room_update(analyzer, path):
    from fer_desktop.capture.sources import Frame, read_image
    from fer_desktop.session.updates import make_preview

    result = analyzer.analyze(Frame(read_image(path), 0, T0, 0.0, path.name))
    preview, scale = make_preview(result.image)
    return AnalysisUpdate(0, result.without_image(), preview, scale, 1.0, 0.1, 0, 0)


@pytest.mark.skipif(not real_dev.available(), reason="../shared/real_dev is absent")
def test_badges_on_real_crowded_room_photos_never_overlap(qtbot, analyzer_factory):
    from fer_desktop.gui.qt_preview import QtFramePreview

    preview = QtFramePreview()
    qtbot.addWidget(preview)
    preview.resize(860, 560)
    preview.show()
    analyzer = analyzer_factory(reuse=False, keep_image=True, names=None)
    rooms = [t for t in real_dev.load(kind="room") if len(t.faces) >= 12]
    assert rooms
    for truth in rooms:
        analyzer.reset()
        update = _room_update(analyzer, truth.path)
        preview.clear()  # the photos' times are all T0
        assert preview.set_update(update)
        layout = preview.badge_layout()
        assert len(layout) == len(update.result) >= 10, truth.path.name
        boxes = [box for box, _, _ in layout]
        assert not _overlaps(boxes), (truth.path.name, _overlaps(boxes))
        assert all(preview.image_rect().adjusted(-1, -1, 1, 1).contains(b) for b in boxes)


# -- privacy: names covered, pictures kept ------------------------------------------------------

def _three_tiles(t: float) -> FrameResult:
    """A face, a camera-on tile without a found face, and a camera-off (name-only) tile."""
    probs = np.full((3, 7), np.nan, np.float32)
    probs[0] = HAPPY
    return FrameResult.of_tiles(
        frame_index=int(t), timestamp=T0 + t, position_s=t, source="test", frame_size=(300, 100),
        tiles=np.array([[i * 100, 0, 100, 100] for i in range(3)]),
        faces=np.array([[25, 20, 50, 50], [-1] * 4, [-1] * 4]), probs=probs,
        students=("Ada", "Ben", "Cy"),
        states=(TileState.FACE, TileState.NO_FACE, TileState.CAMERA_OFF))


@pytest.mark.parametrize("mode", list(PrivacyMode))
def test_names_on_tiles_are_covered_unless_shown_and_pictures_never_in_anonymous(
        qtbot, make_window, app_settings, mode):
    QtSettingsStore(app_settings).save(AppSettings(privacy=mode))
    win = make_window()
    run = win.session.start("class.png")
    win._begin_ui()
    for k in range(2):
        feed(win, run, _three_tiles(k))
    preview = win.preview
    assert preview.cover_names is (mode is not PrivacyMode.NAMED)
    covers = preview.name_covers()
    image = preview.grab().toImage()
    target = preview.image_rect()
    k = target.width() / 300

    def pixel(x: float, y: float) -> QColor:
        return QColor(image.pixel(round(target.left() + x * k), round(target.top() + y * k)))

    green = pixel(50, 8)  # the picture (above the name strip, away from the badge)
    if mode is PrivacyMode.NAMED:
        assert covers == [] and pixel(150, 94).green() > 150  # the name strip shows
        return
    assert len(covers) == 3  # every tile's name, also without badges (Aggregate only)
    for x in (50, 150):
        assert pixel(x, 94).lightness() < 40  # the name strip is covered
    assert pixel(250, 50).lightness() < 40  # a camera-off tile: its name in the middle too
    assert green.green() > 150
    assert pixel(150, 50).green() > 150  # camera on, no face found: still seen
    if mode is PrivacyMode.AGGREGATE:
        assert preview.badge_layout() == [] and win.students.row_texts() == []
    win.session.stop()
