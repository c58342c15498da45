"""Qt-free tests of the cockpit's logic: class mood, per-student summary, alerts, the session
record, settings, badges kinds, the summary/class CSVs and the HTML report. Fast, no model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fer_desktop.session.export import CLASS_COLUMNS, CSV_COLUMNS, SUMMARY_COLUMNS, copy_csv, \
    read_csv, \
    result_rows, write_class_csv, write_summary_csv
from fer_desktop.session.alerts import AlertEngine, AlertKind, AlertRules
from fer_desktop.session.badges import BadgeKind, TileState, badges_for
from fer_desktop.session.palette import CAMERA_OFF_COLOUR, EMOTION_COLOURS, NO_FACE_COLOUR, \
    UNCERTAIN_COLOUR
from fer_desktop.session.record import SessionRecord
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.session.settings import AppSettings
from fer_desktop.labels import EMOTIONS
from fer_desktop.analysis.result import FrameResult
from fer_desktop.session.report import ReportData, render_html
from fer_desktop.session.summary import NO_FACE, class_mood, sample_weights, summarize, \
    summarize_rows

HAPPY, SAD, NEUTRAL = (EMOTIONS.index(e) for e in ("happy", "sad", "neutral"))


def _onehot(*codes: int) -> np.ndarray:
    p = np.full((len(codes), 7), np.nan, np.float32)
    for i, c in enumerate(codes):
        if c >= 0:
            p[i] = 0.05
            p[i, c] = 0.7
    return p


def _result(t: float, codes: list[int], conf: float | None = None) -> FrameResult:
    """A 1-row gallery of ``len(codes)`` tiles; code -1 = no face."""
    n = len(codes)
    probs = _onehot(*codes)
    if conf is not None:
        probs[~np.isnan(probs[:, 0])] = (1 - conf) / 6
        for i, c in enumerate(codes):
            if c >= 0:
                probs[i, c] = conf
    faces = np.array([[i * 100 + 10, 10, 50, 50] if c >= 0 else [-1] * 4
                      for i, c in enumerate(codes)], np.int32).reshape(n, 4)
    return FrameResult.of_tiles(
        frame_index=int(t * 2), timestamp=1_700_000_000.0 + t, position_s=t, source="test",
        frame_size=(100 * n, 100), tiles=np.array([[i * 100, 0, 100, 100] for i in range(n)],
                                                  np.int32).reshape(n, 4),
        faces=faces, probs=probs, students=tuple(f"Student {i + 1}" for i in range(n)))


def test_class_mood_is_positive_minus_negative():
    shares = np.zeros((3, 7))
    shares[0, HAPPY] = 1
    shares[1, SAD] = 1
    shares[2, [HAPPY, SAD, NEUTRAL]] = [0.5, 0.25, 0.25]
    np.testing.assert_allclose(class_mood(shares), [1, -1, 0.25])
    assert class_mood(np.zeros(7)) == 0


def test_sample_weights_cap_gaps():
    np.testing.assert_allclose(sample_weights([0, 0.5, 1.0, 60.0, 60.5], max_gap_s=5),
                               [0.5, 0.5, 5, 0.5, 0.5])
    assert sample_weights([3.0]).tolist() == [1.0]  # one image: one nominal second


def test_summarize_time_shares_and_no_face():
    t = np.repeat(np.arange(10) * 0.5, 2)  # 10 frames, 2 tiles, 0.5 s apart
    tile = np.tile([0, 1], 10)
    emotion = np.array([[HAPPY, NO_FACE]] * 6 + [[SAD, NEUTRAL]] * 4).ravel()
    first, second = summarize(t, tile, emotion, names={1: "Ada"})
    assert first.student == "Student 1" and second.student == "Ada"
    assert first.observed_s == pytest.approx(5.0)
    assert first.shares[HAPPY] == pytest.approx(0.6) and first.shares[SAD] == pytest.approx(0.4)
    assert first.no_face_share == 0 and first.top_emotion == "happy"
    assert second.no_face_s == pytest.approx(3.0) and second.no_face_share == pytest.approx(0.6)
    assert second.shares.sum() + second.no_face_share == pytest.approx(1.0)
    with pytest.raises(ValueError):
        summarize([0.0], [0], [9])


def test_summarize_rows_matches_the_session_csv(tmp_path):
    rows = []
    for k in range(6):
        rows += result_rows(_result(k * 0.5, [HAPPY if k < 3 else SAD, NO_FACE]))
    path = tmp_path / "s.csv"
    path.write_text("\n".join(",".join(map(str, r)) for r in [CSV_COLUMNS, *rows]) + "\n")
    first, second = summarize_rows(read_csv(path))
    assert first.shares[HAPPY] == pytest.approx(0.5) and first.shares[SAD] == pytest.approx(0.5)
    assert second.no_face_share == pytest.approx(1.0) and second.top_emotion is None


def test_negative_alert_fires_once_after_its_duration_and_rearms():
    engine = AlertEngine(AlertRules(negative_share=0.5, negative_for_s=10,
                                    missing_enabled=False))
    sad = np.zeros(7)
    sad[SAD] = 0.75
    sad[HAPPY] = 0.25
    calm = np.zeros(7)
    calm[NEUTRAL] = 1
    faces = np.ones(4, bool)
    names = [f"S{i}" for i in range(4)]
    fired = [(t, engine.update(t, sad, faces, names)) for t in range(0, 15)]
    times = [t for t, alerts in fired if alerts]
    assert times == [10]  # held for 10 s, fired once
    alert = fired[10][1][0]
    assert alert.kind is AlertKind.NEGATIVE_SHARE and "75%" in alert.message
    # still negative, or a short break: it never repeats (issue 12 #9: it fired every 2 min)
    assert not any(engine.update(t, sad, faces, names) for t in range(15, 600))
    assert not any(engine.update(t, calm, faces, names) for t in range(600, 605))
    assert not any(engine.update(t, sad, faces, names) for t in range(605, 620))
    # calm for as long as the alert's duration ends the episode: a new one fires again
    assert not any(engine.update(t, calm, faces, names) for t in range(620, 631))
    fired = [t for t in range(631, 645) if engine.update(t, sad, faces, names)]
    assert fired == [641]
    exactly = np.zeros(7)
    exactly[[SAD, HAPPY]] = 0.5  # not above the threshold
    engine.reset()
    assert not any(engine.update(t, exactly, faces, names) for t in range(0, 30))


def test_missing_face_alert_per_student():
    engine = AlertEngine(AlertRules(negative_enabled=False, face_missing_min=1.0))
    names = ["Ada", "Ben"]
    out = []
    for t in range(0, 130, 5):
        out += engine.update(float(t), np.zeros(7), np.array([True, t < 20]), names)
    assert len(out) == 1
    assert out[0].kind is AlertKind.FACE_MISSING and out[0].student_id == 1 and out[0].t == 80
    assert "Ben" in out[0].message and "1 min" in out[0].message
    assert out[0].message_for("Student 2") == "No face of Student 2 for 1 min."
    assert engine.update(200.0, np.zeros(7), np.array([True]), names[:1]) == []  # fewer tiles


def test_camera_off_students_are_never_missing_a_face():
    engine = AlertEngine(AlertRules(negative_enabled=False, face_missing_min=0.5))
    states = [TileState.FACE, TileState.CAMERA_OFF, TileState.NO_FACE]
    out = []
    for t in range(0, 120, 5):
        out += engine.update(float(t), np.zeros(7), np.array([True, False, False]),
                             ["Ada", "Ben", "Cy"], [0, 1, 2], states)
    assert [(a.student_id, a.t) for a in out] == [(2, 30)]


def _swapped(result: FrameResult, ids: tuple[int, ...], names: tuple[str, ...]) -> FrameResult:
    """``result`` with the given persistent student ids and names per tile (a reflow)."""
    return dataclasses.replace(result, student_ids=ids, students=names)


def test_students_keep_their_history_rename_and_alerts_when_tiles_reflow(tmp_path):
    """Ada (id 0) and Ben (id 1) swap tiles half-way: timelines, summaries, the missing-face
    timer and a rename follow the student, not the tile."""
    record, rows = SessionRecord(), []
    engine = AlertEngine(AlertRules(negative_enabled=False, face_missing_min=0.5))
    alerts = []
    for k in range(8):
        t = k * 10.0
        if k < 4:  # Ada happy in tile 0, Ben (no face) in tile 1
            r = _swapped(_result(t, [HAPPY, NO_FACE]), (0, 1), ("Ada", "Ben"))
        else:  # after the reflow: Ben (still no face) in tile 0, Ada (now sad) in tile 1
            r = _swapped(_result(t, [NO_FACE, SAD]), (1, 0), ("Ben", "Ada"))
        record.add(r)
        rows += result_rows(r)
        alerts += engine.update(r.timestamp, r.class_shares(), r.has_face, list(r.students),
                                r.student_ids)
    _, ada, _ = record.student_timeline(0)
    assert ada.tolist() == [HAPPY] * 4 + [SAD] * 4
    assert record.student_timeline(1)[1].tolist() == [NO_FACE] * 8
    ada_sum, ben_sum = record.summaries(record.read_names)
    assert (ada_sum.student, ben_sum.student) == ("Ada", "Ben")
    assert ada_sum.no_face_share == 0 and ben_sum.no_face_share == pytest.approx(1.0)
    # Ben's face has been missing for 30 s across the reflow: one alert, about Ben
    assert [(a.student_id, a.student, a.t - 1_700_000_000) for a in alerts] == [(1, "Ben", 30.0)]

    src = tmp_path / "s.csv"
    src.write_text("\n".join(",".join(map(str, r)) for r in [CSV_COLUMNS, *rows]) + "\n")
    from_csv = {s.student: s for s in summarize_rows(read_csv(src))}
    assert from_csv["Ada"].no_face_share == 0 and from_csv["Ada"].shares[SAD] == 0.5
    copy_csv(src, tmp_path / "renamed.csv", renames={0: "Ada L."}, ids={"Ada": 0, "Ben": 1})
    renamed = read_csv(tmp_path / "renamed.csv")
    assert {r["tile"] for r in renamed if r["student"] == "Ada L."} == {"0", "1"}
    assert [r["student"] for r in renamed].count("Ada L.") == 8
    copy_csv(src, tmp_path / "anon.csv", anonymous=True, ids={"Ada": 0, "Ben": 1})
    anon = read_csv(tmp_path / "anon.csv")
    assert [r["student"] for r in anon if r["emotion"] == "sad"] == ["Student 1"] * 4


def test_alert_rules_validate():
    with pytest.raises(ValueError):
        AlertRules(negative_share=1.5)


def test_session_record_series_timelines_and_summaries():
    record = SessionRecord()
    for k in range(4):
        record.add(_result(k * 0.5, [HAPPY, NO_FACE if k < 2 else SAD]))
    assert len(record) == 4 and record.students == [0, 1] and record.sources == ["test"]
    t, shares, faces = record.class_series()
    assert t.shape == (4,) and shares.shape == (4, 7) and faces.tolist() == [1, 1, 2, 2]
    np.testing.assert_allclose(shares[0, HAPPY], 1.0)
    tt, emo, conf = record.student_timeline(1)
    assert emo.tolist() == [NO_FACE, NO_FACE, SAD, SAD] and conf[0] == 0
    s0, s1 = record.summaries({0: "Ada"})
    assert s0.student == "Ada" and s0.shares[HAPPY] == pytest.approx(1.0)
    assert s1.no_face_share == pytest.approx(0.5)
    for k in range(3000):  # grows past its first capacity
        record.add(_result(2 + k * 0.5, [HAPPY]))
    assert len(record.class_series()[0]) == 3004


def test_settings_round_trip_and_fallbacks():
    s = AppSettings(rate=3.5, smoothing_s=0.0, chart_window_min=15, export_dir="/x",
                    privacy=PrivacyMode.ANONYMOUS,
                    alerts=AlertRules(negative_share=0.3, face_missing_min=5))
    assert AppSettings.from_mapping(s.to_mapping()) == s
    as_strings = {k: str(v).lower() if isinstance(v, bool) else str(v)
                  for k, v in s.to_mapping().items()}  # as an INI file gives them back
    assert AppSettings.from_mapping(as_strings) == s
    bad = AppSettings.from_mapping({"rate": "fast", "chart_window_min": 7, "privacy": "x",
                                    "smoothing_s": "2.5", "alerts/negative_share": "3"})
    assert bad == dataclasses.replace(AppSettings(), smoothing_s=2.5)
    with pytest.raises(ValueError):
        AppSettings(rate=100)


def test_badge_kinds_are_distinct():
    result = _result(0, [HAPPY, NO_FACE, SAD, NEUTRAL])
    smoothed = result.smoothed.copy()
    smoothed[3] = 1 / 7  # a flat guess
    result = dataclasses.replace(result, smoothed=smoothed)
    firm, none, off, guess = badges_for(
        result, names={0: "Ada"}, uncertain_below=0.4,
        states=[TileState.FACE, TileState.NO_FACE, TileState.CAMERA_OFF, TileState.FACE])
    assert firm.kind is BadgeKind.EMOTION and firm.text == "happy 70%" and firm.student == "Ada"
    assert none.kind is BadgeKind.NO_FACE and none.text == "no face"
    assert off.kind is BadgeKind.CAMERA_OFF and off.text == "camera off" and not off.has_face
    assert guess.kind is BadgeKind.UNCERTAIN and guess.text.startswith("angry? ")
    colours = {firm.colour, none.colour, off.colour, guess.colour}
    assert colours == {EMOTION_COLOURS["happy"], NO_FACE_COLOUR, CAMERA_OFF_COLOUR,
                       UNCERTAIN_COLOUR}
    assert not {NO_FACE_COLOUR, CAMERA_OFF_COLOUR, UNCERTAIN_COLOUR} & set(
        EMOTION_COLOURS.values())
    assert guess.accent == EMOTION_COLOURS["angry"] and "uncertain" in guess.tooltip


def test_summary_class_csvs_and_renamed_copy(tmp_path):
    record = SessionRecord()
    rows = []
    for k in range(4):
        r = _result(k * 0.5, [HAPPY, SAD])
        record.add(r)
        rows += result_rows(r)
    write_summary_csv(record.summaries({1: "Ada"}), tmp_path / "students.csv")
    students = read_csv(tmp_path / "students.csv")
    assert list(students[0]) == list(SUMMARY_COLUMNS)
    assert students[1]["student"] == "Ada" and float(students[1]["share_sad"]) == 1.0
    t, shares, faces = record.class_series()
    write_class_csv(t, shares, faces, tmp_path / "class.csv")
    cls = read_csv(tmp_path / "class.csv")
    assert list(cls[0]) == list(CLASS_COLUMNS) and len(cls) == 4
    assert float(cls[0]["mood"]) == 0.0 and cls[0]["faces"] == "2"
    src = tmp_path / "s.csv"
    src.write_text("\n".join(",".join(map(str, r)) for r in [CSV_COLUMNS, *rows]) + "\n")
    copy_csv(src, tmp_path / "named.csv", renames={1: "Ada"},
             ids={"Student 1": 0, "Student 2": 1})
    named = read_csv(tmp_path / "named.csv")
    assert list(named[0]) == list(CSV_COLUMNS)
    assert [r["student"] for r in named[:2]] == ["Student 1", "Ada"]


def test_report_html_escapes_and_follows_the_mode():
    record = SessionRecord()
    for k in range(4):
        record.add(_result(k * 0.5, [HAPPY, SAD]))
    t, shares, _ = record.class_series()
    data = ReportData(title="Session <1>", started=t[0], ended=t[-1], sources=["a&b.png"],
                      privacy="named", t=t, shares=shares,
                      alerts=[(t[1], "No face in <b>x</b>'s tile")],
                      students=record.summaries({0: "<script>"}), chart_image="class_mood.png",
                      table_image="students.png", files=[("students.csv", "per student")])
    page = render_html(data)
    assert "<script>" not in page and "&lt;script&gt;" not in page  # names are in the image
    assert "Session &lt;1&gt;" in page and "a&amp;b.png" in page and "&lt;b&gt;x" in page
    assert 'src="class_mood.png"' in page and 'src="students.png"' in page
    assert "Art. 5(1)(f)" in page and "http" not in page
    assert "happy 50%" in page and "sad 50%" in page
    aggregate = render_html(dataclasses.replace(data, privacy="aggregate only", students=(),
                                                table_image=""))
    assert "students.png" not in aggregate and "nothing was recorded per student" in aggregate
