"""Who is who, as the teacher corrects it and as every file says it (issue 20): merge two
students, split one, undo; one name per student in the session CSV, students.csv and the report;
a name read while names are hidden is never shown nor written."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.analysis.roster import Roster, tile_thumbnails
from fer_desktop.session.export import CsvSink, read_csv
from fer_desktop.session.privacy import PrivacyMode
from tests.test_live_session import T0, _result, _session


def _play(s, run, frames):
    """``frames``: ``(t, ids, names)``; returns the last Shown."""
    shown = None
    for t, ids, names in frames:
        shown = s.add(_result(t, ids=ids, names=names), run.run_id)
    return shown


def test_a_merge_joins_two_students_everywhere_and_is_undone(tmp_path):
    s = _session(tmp_path)
    run = s.start("gallery.png")
    _play(s, run, [(t, (0, 1), ("Ada", "Ben")) for t in range(4)]
          + [(t, (2, 1), ("Student 3", "Ben")) for t in range(10, 14)])  # Ada back as 2
    s.rename(2, "Ada L.")
    assert s.merge(2, 1) == "They are both on screen now: they are two people."
    assert s.merge(0, 0) is not None
    assert s.merge(0, 2) is None
    assert 2 not in s.record.students and len(s.record.student_timeline(0)[0]) == 8
    assert s.name_of(0) == "Ada L."  # the typed name went with them
    assert s.roster.canonical(2) == 0
    assert s.student_of_row(2, T0 + 11) == 0 and s.student_of_row(1, T0 + 11) == 1
    assert {x.student_id for x in s.record.summaries(s.final_names())} == {0, 1}
    assert s.undo().startswith("Merge of")
    assert 2 in s.record.students and len(s.record.student_timeline(0)[0]) == 4
    assert s.name_of(2) == "Ada L." and s.roster.canonical(2) == 2
    assert s.undo() is None


def test_a_split_gives_the_person_since_they_came_back_a_new_id(tmp_path):
    s = _session(tmp_path)
    run = s.start("gallery.png")
    _play(s, run, [(t, (0, 1), ("Student 1", "Ben")) for t in range(4)]
          + [(t, (1,), ("Ben",)) for t in range(4, 20)]  # 0 away for 16 s
          + [(t, (0, 1), ("Student 1", "Ben")) for t in range(20, 24)])  # someone else as 0
    assert s.split(0) is None
    new = s.corrections[-1].gone
    assert new not in (0, 1)
    assert s.record.student_timeline(0)[0].tolist() == [T0 + t for t in range(4)]
    assert s.record.student_timeline(new)[0].tolist() == [T0 + t for t in range(20, 24)]
    assert s.student_of_row(0, T0 + 2) == 0 and s.student_of_row(0, T0 + 21) == new
    assert s.roster.take_redirects() == {0: new}  # the analysis hands the faces over
    s.undo()
    assert len(s.record.student_timeline(0)[0]) == 8 and new not in s.record.students


def test_every_saved_file_names_a_student_one_way(tmp_path, qtbot):
    from fer_desktop.gui.qt_report import save_session

    s = _session(tmp_path)
    run = s.start("gallery.png")
    csv = tmp_path / "live.csv"
    sink = CsvSink(csv)
    frames = ([(t, (0, 1), ("Student 1", "Ben")) for t in range(3)]  # 0's name not read yet
              + [(t, (0, 1), ("Ada", "Ben")) for t in range(3, 6)]
              + [(t, (2,), ("Student 3",)) for t in range(10, 13)])  # Ben back as 2
    for t, ids, names in frames:
        r = _result(t, ids=ids, names=names)
        sink.write(r)
        s.add(r, run.run_id)
    sink.close()
    s.rename(1, "Benjamin")
    assert s.merge(1, 2) is None
    ended = s.stop()
    saved = save_session(tmp_path / "out", ended.record, ended.privacy, ended.names, csv,
                         relabel=ended.relabel)
    rows = read_csv(saved.folder / "session.csv")
    by_id: dict[str, set] = {}
    for row in rows:
        by_id.setdefault(row["student_id"], set()).add(row["student"])
    assert by_id == {"0": {"Ada"}, "1": {"Benjamin"}}
    students = {r["student_id"]: r["student"] for r in read_csv(saved.folder / "students.csv")}
    assert students == {"0": "Ada", "1": "Benjamin"}
    report = (saved.folder / "report.html").read_text(encoding="utf-8")
    assert "Student 3" not in report  # the merged student is nowhere


def _assign(roster, names, tiles, image):
    return roster.assign(tiles, names, tile_thumbnails(image, tiles))


def test_a_name_read_while_names_are_hidden_is_never_shown_even_later():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (100, 300, 3), np.uint8)
    tiles = np.array([[0, 0, 100, 100], [100, 0, 100, 100], [200, 0, 100, 100]])
    roster = Roster()
    roster.show_names = False  # Anonymous: the names are read, they tell people apart
    ids = _assign(roster, ["Ada", "Ben", None], tiles, image)
    assert [roster.name(i) for i in ids] == ["Student 1", "Student 2", "Student 3"]
    roster.show_names = True  # back to Names: only what is read from now on shows
    ids2 = _assign(roster, ["Ben", "Ada", "Cy"], tiles[[1, 0, 2]], image)
    assert ids2 == (ids[1], ids[0], ids[2])  # the same people (known by their hidden names)
    assert {roster.name(i) for i in ids2} == {"Ada", "Ben", "Cy"}
    fresh = Roster()
    fresh.show_names = False
    (only,) = _assign(fresh, ["Dana"], tiles[:1], image)
    fresh.show_names = True
    _assign(fresh, [None], tiles[:1], image)
    assert fresh.name(only) == "Student 1"


def test_anonymous_sessions_write_no_name_in_the_saved_files(tmp_path, qtbot):
    from fer_desktop.gui.qt_report import save_session

    s = _session(tmp_path, privacy=PrivacyMode.ANONYMOUS)
    run = s.start("gallery.png")
    assert not s.roster.show_names
    csv = tmp_path / "live.csv"
    with CsvSink(csv, names=False) as sink:
        for t in range(3):
            r = _result(t)
            sink.write(r)
            s.add(r, run.run_id)
    ended = s.stop()
    saved = save_session(tmp_path / "out", ended.record, ended.privacy, ended.names, csv,
                         relabel=ended.relabel)
    for f in saved.files:
        if f.suffix in (".csv", ".html"):
            text = f.read_text(encoding="utf-8")
            assert "Ada" not in text and "Ben" not in text, f.name
    assert pytest.approx(len(read_csv(saved.folder / "session.csv"))) == 9
