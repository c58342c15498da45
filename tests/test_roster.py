"""Students keep their identity while tiles reflow: names read from the labels, the roster's
matching, and whole frame sequences in which participants join, leave and move."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from testing import meetings
from fer_desktop.session.export import result_rows
from fer_desktop.analysis.names import NameReader, card_text_crop, clean_name, label_strip, \
    text_crop
from fer_desktop.analysis.cvutil import cv2
from testing import real_dev
from fer_desktop.analysis.roster import Roster, name_key, tile_thumbnails
from fer_desktop.capture.sources import Frame
from testing.synthetic import NAMES, make_gallery

BOX = np.array([[0, 0, 160, 90]], np.int32)


def _thumbs(seeds) -> np.ndarray:
    return np.stack([np.random.default_rng(s).uniform(0, 255, (7, 12, 3)).astype(np.float32)
                     for s in seeds])


def _boxes(n: int) -> np.ndarray:
    return np.array([[170 * i, 0, 160, 90] for i in range(n)], np.int32)


def test_roster_keys_students_by_name_through_joins_leaves_and_moves():
    roster = Roster()
    first = roster.assign(_boxes(3), ["Ada", "Ben", "Chloe"], _thumbs([1, 2, 3]))
    assert first == (0, 1, 2)
    # Ben leaves, Dev joins in front: everyone moves
    ids = roster.assign(_boxes(3), ["Dev", "Ada", "Chloe"], _thumbs([9, 8, 7]))
    assert ids == (3, 0, 2)
    # Ben comes back: his old id; the names stay with their ids
    ids = roster.assign(_boxes(4), ["Chloe", "Ben", "Dev", "Ada"], _thumbs([5, 6, 7, 8]))
    assert ids == (2, 1, 3, 0)
    assert [roster.name(s) for s in ids] == ["Chloe", "Ben", "Dev", "Ada"]


def test_roster_without_names_follows_the_look_of_the_tiles():
    roster = Roster()
    assert roster.assign(_boxes(3), [None] * 3, _thumbs([1, 2, 3])) == (0, 1, 2)
    # reflow: the same people in another order, slightly changed (video noise)
    noisy = _thumbs([3, 1, 2]) + np.float32(4.0)
    assert roster.assign(_boxes(3), [None] * 3, noisy) == (2, 0, 1)
    # someone new is the next "Student N"
    ids = roster.assign(_boxes(4), [None] * 4, _thumbs([1, 2, 3, 42]))
    assert ids == (0, 1, 2, 3)
    assert roster.name(3) == "Student 4"


def test_roster_names_a_numbered_student_once_the_label_is_read():
    roster = Roster()
    assert roster.assign(BOX, [None], _thumbs([1])) == (0,)
    assert roster.name(0) == "Student 1"
    assert roster.assign(BOX, ["Ada"], _thumbs([1])) == (0,)
    assert roster.name(0) == "Ada"


def test_roster_compares_names_as_ocr_misreads_them():
    roster = Roster()
    roster.assign(_boxes(2), ["Ivan", "Emma"], _thumbs([1, 2]))
    ids = roster.assign(_boxes(3), ["EmmaV", "lvan", "Emmet"], _thumbs([3, 4, 5]))
    assert ids[:2] == (1, 0)
    assert ids[2] == 2  # two edits away: someone else
    roster.assign(_boxes(1), ["Emma"], _thumbs([2]))
    assert roster.name(1) == "Emma"  # the most frequent reading
    assert name_key(" Ivan  K ") == name_key("lvan k")


def test_names_one_letter_apart_are_different_students():
    """Issue 12 #4: Ana H. / Ana V. and Jon F. / Jon I. were merged into one student."""
    roster = Roster()
    first = roster.assign(_boxes(2), ["Ana H.", "Jon F."], _thumbs([1, 2]))
    # the next page: other people at the same places, who look alike
    second = roster.assign(_boxes(2), ["Ana V.", "Jon I."], _thumbs([1, 2]))
    assert set(first).isdisjoint(second)
    assert [roster.name(s) for s in second] == ["Ana V.", "Jon I."]
    # both pages' people on one screen: four students, each under their own name
    both = roster.assign(_boxes(4), ["Jon I.", "Ana H.", "Jon F.", "Ana V."],
                         _thumbs([5, 6, 7, 8]))
    assert both == (second[1], first[0], first[1], second[0])
    # OCR's own misreadings still go to the same student
    assert roster.assign(_boxes(2), ["Ana H", "J0n F."], _thumbs([1, 2])) == first


def test_roster_never_gives_one_id_to_two_tiles():
    roster = Roster()
    roster.assign(_boxes(2), ["Ada", None], _thumbs([1, 1]))
    ids = roster.assign(_boxes(3), ["Ada", "Ada", None], _thumbs([1, 1, 1]))
    assert len(set(ids)) == 3


def test_roster_rejects_mismatched_inputs():
    with pytest.raises(ValueError):
        Roster().assign(_boxes(2), ["Ada"], _thumbs([1, 2]))


def test_name_label_is_found_and_cleaned(faces):
    img, truth = meetings.render(meetings.MeetingSpec(n_tiles=4), faces)
    strip = label_strip(img, truth.tiles[0])
    assert strip.shape[0] == round(truth.tiles[0][3] * 0.16)
    crop = text_crop(strip)
    assert crop is not None and crop.shape[1] < strip.shape[1] // 2  # just the word "Ada"
    assert text_crop(np.zeros((20, 100, 3), np.uint8)) is None
    assert clean_name("  Ada »") == "Ada"
    assert clean_name("|.") is None


def test_a_number_without_a_name_is_the_participants_name():
    assert clean_name("+1 (917) 453-7853") == "19174537853"  # a phone that called in
    assert clean_name("20200756 ?") == "20200756"  # a student number
    assert clean_name("12:05") is None and clean_name("3") is None  # too few digits
    assert clean_name("15114016_Adria") == "15114016_Adria"  # letters: the name as read


def _card(text: str, size=(456, 256)) -> np.ndarray:
    """A dark camera-off card printing ``text`` in its middle, as Zoom draws one."""
    w, h = size
    img = np.full((h, w, 3), 35, np.uint8)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.9, 2)
    cv2.putText(img, text, ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                (245, 245, 245), 2, cv2.LINE_AA)
    return img


def test_a_camera_off_card_is_read_from_its_middle_only_when_it_is_a_card():
    img = np.hstack([_card("Marianna Schaffer"), _card("19174537853"), _card("MS")])
    tiles = np.array([[0, 0, 456, 256], [456, 0, 456, 256], [912, 0, 456, 256]], np.int32)
    crop = card_text_crop(img, tiles[0])
    assert crop is not None and 150 < crop.shape[1] < 320  # both words, not the whole band
    assert card_text_crop(np.full((256, 456, 3), 35, np.uint8), tiles[0]) is None
    reader = NameReader()
    # initials are no name: many students share them
    assert reader.read_tiles(img, tiles, [True] * 3) == ("Marianna Schaffer", "19174537853", None)
    reader.clear()
    assert reader.read_tiles(img, tiles) == (None,) * 3  # a camera-on picture: never its middle


@pytest.mark.skipif(not real_dev.available(), reason="../shared/real_dev is absent")
def test_real_camera_off_cards_are_read_at_any_scale():
    truth = next(t for t in real_dev.load(kind="meeting") if "meeting_05" in t.name)
    img = cv2.imread(str(truth.path))
    cards = [s == "off" for s in truth.tile_states]
    reader = NameReader()
    for scale in (1.0, 0.7):
        small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        tiles = (np.asarray(truth.tiles) * scale).astype(np.int32)
        names = reader.read_tiles(small, tiles, cards)
        reader.clear()
        read = {n for n, c in zip(names, cards) if c}
        assert {"Marianna Schaffer", "19174537853", "19197706963"} <= read


def test_name_reader_reads_labels_once_per_tile(faces):
    img, truth = meetings.render(meetings.MeetingSpec(n_tiles=6, seed=3), faces)
    reader = NameReader()
    assert reader.read_tiles(img, truth.tiles) == truth.names
    assert reader.reads == 6
    assert reader.read_tiles(img, truth.tiles) == truth.names
    assert reader.reads == 6  # nothing changed: nothing read again
    moved = truth.tiles + np.array([2, 0, 0, 0], np.int32)
    reader.read_tiles(img, moved)
    assert reader.reads == 12


def test_name_reader_reads_at_most_max_reads_per_call(faces):
    img, truth = meetings.render(meetings.MeetingSpec(n_tiles=5), faces)
    reader = NameReader(max_reads=2)
    assert reader.read_tiles(img, truth.tiles)[2:] == (None, None, None)
    reader.read_tiles(img, truth.tiles)
    assert reader.read_tiles(img, truth.tiles) == truth.names


def test_missing_ocr_falls_back_to_numbered_students(monkeypatch, caplog, faces,
                                                     analyzer_factory):
    def broken():
        raise ImportError("No module named 'rapidocr'")

    monkeypatch.setattr("fer_desktop.analysis.names.rapidocr_recognizer", broken)
    img, truth = make_gallery(faces, 4, size=(960, 540))
    with caplog.at_level(logging.WARNING, logger="fer_desktop.analysis.names"):
        result = analyzer_factory().analyze(Frame(img, 0, time.time(), 0.0, "x"))
    assert result.students == ("Student 1", "Student 2", "Student 3", "Student 4")
    assert "names cannot be read" in caplog.text


def test_a_failing_recognizer_stops_reading_without_crashing(faces):
    def recognize(crops):
        raise RuntimeError("onnxruntime exploded")

    img, truth = meetings.render(meetings.MeetingSpec(n_tiles=3), faces)
    reader = NameReader(recognizer=recognize)
    assert reader.read_tiles(img, truth.tiles) == (None, None, None)
    assert reader.available is False


def _run(analyzer, frames):
    results = []
    for k, img in enumerate(frames):
        results.append(analyzer.analyze(Frame(img, k, 1_700_000_000.0 + k, float(k), "class")))
    return results


def _assert_identity_kept(results, truths):
    """Every true participant has one student id over the whole sequence, and no two share one."""
    id_of: dict[str, int] = {}
    for result, truth in zip(results, truths):
        assert len(result.student_ids) == len(truth.names)
        for name, sid in zip(truth.names, result.student_ids):
            assert id_of.setdefault(name, sid) == sid, f"{name} changed id"
    assert len(set(id_of.values())) == len(id_of)
    return id_of


# participants per frame: Dev leaves, Kofi and Lena join, everyone reflows, the page shrinks,
# Dev comes back
SEQUENCE = [NAMES[:9], NAMES[:3] + NAMES[4:11], NAMES[4:11], NAMES[2:6], NAMES[:12]]


@pytest.mark.parametrize("app", list(meetings.App))
def test_students_keep_their_identity_when_people_join_leave_and_move(app, faces,
                                                                     analyzer_factory):
    frames, truths = [], []
    for k, names in enumerate(SEQUENCE):
        spec = meetings.MeetingSpec(app=app, dark=k % 2 == 0, n_tiles=len(names),
                                    names=tuple(names), camera_off=(1,) if k % 2 == 0 else (),
                                    seed=k)
        img, truth = meetings.render(spec, faces)
        frames.append(img)
        truths.append(truth)
    results = _run(analyzer_factory(), frames)
    id_of = _assert_identity_kept(results, truths)
    assert id_of["Dev"] == 3  # left in frame 2, came back in frame 5 with the old id
    shown = [(name_key(s), name_key(n)) for r, t in zip(results, truths)
             for s, n in zip(r.students, t.names)]
    assert sum(s == n for s, n in shown) >= 0.9 * len(shown)  # shown under the names read
    # the CSV's student columns follow the person, the tile column stays the tile index
    rows = result_rows(results[1])
    assert [r[6] for r in rows] == list(range(len(rows)))
    assert [r[4] for r in rows] == list(results[1].student_ids)
    assert [r[5] for r in rows] == list(results[1].students)
    assert name_key(rows[0][5]) == "ada" and name_key(rows[-1][5])[:3] == "kof"


def test_students_without_readable_names_are_followed_by_look(faces, analyzer_factory):
    people = [f"P{i}" for i in range(8)]
    sequence = [people[:6], people[:6][::-1], people[1:6] + people[6:8], people[1:8][::-1]]
    frames, truths = [], []
    for k, names in enumerate(sequence):
        img, truth = make_gallery(faces, len(names), size=(1280, 720), names=names, seed=k)
        frames.append(img)
        truths.append(truth)
    results = _run(analyzer_factory(names=None), frames)
    id_of = _assert_identity_kept(results, truths)
    assert results[0].students == tuple(f"Student {i + 1}" for i in range(6))
    assert id_of["P6"] == 6 and id_of["P7"] == 7  # newcomers numbered on
    assert results[-1].students[0] == "Student 8"


def test_smoothing_follows_the_student_not_the_tile(faces, analyzer_factory):
    frames = [make_gallery(faces, len(n), size=(1280, 720), names=n, seed=k)[0]
              for k, n in enumerate([["Ada", "Ben"], ["Ben", "Ada"]])]
    analyzer = analyzer_factory(names=None, smoothing_s=100.0)
    first, second = _run(analyzer, frames)
    assert second.student_ids == (1, 0)
    has = first.has_face & second.has_face[::-1]
    if has.all():  # with a long time constant each student's row barely moves
        np.testing.assert_allclose(second.smoothed[::-1], first.smoothed, atol=0.05)


def test_tile_thumbnails_shape(faces):
    img, truth = make_gallery(faces, 3, size=(640, 360))
    thumbs = tile_thumbnails(img, truth.tiles)
    assert thumbs.shape == (3, 7, 12, 3) and thumbs.dtype == np.float32
