"""The window's part of the teacher's corrections (issue 20, item 3): a row's context menu merges
two students or splits one, Edit › Undo (Ctrl+Z) takes it back, and the list, the preview's
badges and the selected student's timeline follow at once; refusals are said in the status
bar. Results are fed by hand (no model run)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QLabel

from fer_desktop.gui.qt_main_window import QtMainWindow
from fer_desktop.gui.qt_student_table import MERGE_TEXT, SPLIT_TEXT
from fer_desktop.session.runner import AnalysisUpdate
from tests.test_live_session import T0, _result


@pytest.fixture
def win(qtbot, model_path, tmp_path, app_settings):
    window = QtMainWindow(model_path=model_path, settings=app_settings,
                          csv_path=tmp_path / "session.csv", probe=lambda: [])
    qtbot.addWidget(window)
    window.show()
    yield window
    window.session.stop()
    window.close()


def feed(win: QtMainWindow, run, t: float, ids, names) -> None:
    """One analysed frame of ``len(ids)`` tiles at ``T0 + t``."""
    win._on_worker_updated(AnalysisUpdate(
        run_id=run.run_id, result=_result(t, ids=ids, names=names),
        preview=np.full((100, 100 * len(ids), 3), 90, np.uint8), scale=1.0,
        analyses_per_s=1.0, latency_s=0.1, dropped=0, rows=0))


def _menu(win: QtMainWindow, student: int):
    menu = win.students.context_menu(student)
    entries = {a.text(): a for a in menu.actions()}
    merge = entries[MERGE_TEXT].menu()
    return merge, entries[SPLIT_TEXT]


def _names(win: QtMainWindow) -> list[str]:
    return [row[0] for row in win.students.row_texts()]


def test_merge_from_the_context_menu_then_undo_with_ctrl_z(qtbot, win):
    run = win.session.start("class.png")
    win._begin_ui()
    for t in range(4):
        feed(win, run, t, (0, 1, 2), ("Ada", "Ben", "Cy"))
    for t in range(10, 14):  # Ada came back as a new student
        feed(win, run, t, (3, 1, 2), ("Student 4", "Ben", "Cy"))
    win.show_student(0)
    assert win.selected_student == 3 and win.timeline.isVisible()
    shares = len(win.mood_chart.history)
    assert not win.controls.undo.isEnabled()

    merge, _ = _menu(win, 3)
    # every other student of the session by their shown name, also Ada, who is not on screen
    assert [a.text() for a in merge.actions()] == ["Ada", "Ben", "Cy"]
    next(a for a in merge.actions() if a.text() == "Ada").trigger()
    # keep = the student seen first (the lower id): Ada, 0
    assert sorted(_names(win)) == ["Ada", "Ben", "Cy"]
    assert 3 not in win.students.student_ids() and 0 in win.students.student_ids()
    assert [b.student for b in win.preview.badges] == ["Ada", "Ben", "Cy"]
    assert win.selected_student == 0 and win.preview.selected == 0
    assert "Ada" in win.timeline.title.text()
    assert len(win.session.record.student_timeline(0)[0]) == 8
    x0 = win.timeline.bar_data()["x0"]
    assert x0.min() == pytest.approx(0.0) and x0.max() > 9 / 60  # both of Ada's visits
    assert "one student" in win.statusBar().currentMessage()
    assert len(win.mood_chart.history) == shares  # the class chart keeps every frame
    assert win.controls.undo.isEnabled() and win.controls.undo.text() == "Undo merge"

    # refused: both are on screen now (two people); the status bar says why
    merge, _ = _menu(win, 1)
    next(a for a in merge.actions() if a.text() == "Cy").trigger()
    assert "both on screen" in win.statusBar().currentMessage()
    assert sorted(_names(win)) == ["Ada", "Ben", "Cy"]

    undo = win.controls.undo
    assert undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert undo in win.menuBar().actions()[1].menu().actions()  # Edit › Undo
    undo.trigger()
    assert "undone" in win.statusBar().currentMessage()
    assert sorted(win.students.student_ids()) == [1, 2, 3]
    assert [b.student for b in win.preview.badges] == ["Student 4", "Ben", "Cy"]
    assert len(win.session.record.student_timeline(0)[0]) == 4
    assert not undo.isEnabled()
    assert win.undo_correction() == "Nothing to undo."  # said, not an error


def test_split_from_the_context_menu_and_its_undo(qtbot, win):
    run = win.session.start("class.png")
    win._begin_ui()
    for t in range(4):
        feed(win, run, t, (0, 1), ("Ada", "Ben"))
    for t in range(4, 12):  # Ben away for 8 s
        feed(win, run, t, (0,), ("Ada",))
    for t in range(12, 16):  # someone else came back as Ben
        feed(win, run, t, (0, 1), ("Ada", "Ben"))
    win.students.name_edited.emit(1, "Benjamin")
    win.show_student(1)
    _, split = _menu(win, 1)
    split.trigger()
    new = win.session.corrections[-1].gone
    assert new not in (0, 1)
    assert sorted(win.students.student_ids()) == [0, new]
    assert win.selected_student == new and win.preview.selected == 1
    assert [b.student for b in win.preview.badges] == ["Ada", win.session.name_of(new)]
    assert win.session.name_of(1) == "Benjamin"  # the typed name stays with the first Ben
    assert len(win.session.record.student_timeline(new)[0]) == 4
    assert win.session.name_of(new) in win.timeline.title.text()
    assert "came back" in win.statusBar().currentMessage()
    assert win.controls.undo.text() == "Undo split"

    win.undo_correction()
    assert sorted(win.students.student_ids()) == [0, 1] and win.selected_student == 1
    assert [b.student for b in win.preview.badges] == ["Ada", "Benjamin"]
    assert len(win.session.record.student_timeline(1)[0]) == 8
    assert "Benjamin" in win.timeline.title.text()


def test_no_correction_after_stop_and_help_lists_ctrl_z(qtbot, win):
    run = win.session.start("class.png")
    for t in range(3):
        feed(win, run, t, (0, 1), ("Ada", "Ben"))
    win.session.stop()
    win._show_state()
    assert not win.controls.undo.isEnabled()
    assert not win.merge_students(0, 1) and "ended" in win.statusBar().currentMessage()
    win.controls.shortcuts.trigger()
    dialog = next(d for d in win.findChildren(QDialog)
                  if d.isVisible() and d.windowTitle() == "Keyboard shortcuts")
    texts = [lbl.text() for lbl in dialog.findChildren(QLabel)]
    assert any("Ctrl+Z" in t for t in texts) and any(t.startswith("Undo") for t in texts)
