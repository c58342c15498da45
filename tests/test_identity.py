"""Students stay themselves: one id per person across absences, reflows, rescaling and source
switches; never one person's id for another (issue 20). Galleries drawn by testing.meetings
(each named participant drawn the same way in every screenshot), real_dev lessons when the
folder exists."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from fer_desktop.analysis.boxes import iou
from fer_desktop.analysis.frame import Frame
from fer_desktop.analysis.roster import Roster
from testing.lessons import slide
from testing.meetings import MeetingSpec, render

POOL = tuple(f"{first} {last}" for last in ("Okri", "Park", "Sato", "Berg", "Diaz", "Rao")
             for first in ("Ada", "Ben", "Chloe", "Dev", "Emma", "Femi", "Gus", "Hana", "Ivan",
                           "Jun", "Kofi", "Lena", "Mia", "Noah", "Omar", "Pia", "Quinn", "Rosa"))


def _distinct(names, n: int) -> tuple[str, ...]:
    """``n`` names of people who look different in testing.meetings's galleries (the renderer
    draws only two sample faces, so people differ by the wall behind them and by which face:
    two whose walls are within 60 grey levels on every channel, with the same face, would be
    the same person to anyone)."""
    import zlib

    chosen: list[tuple[str, int, np.ndarray]] = []
    for name in names:
        key = zlib.crc32(name.encode())
        wall = np.random.default_rng(key).integers(70, 200, 3)
        if all(k % 2 != key % 2 or np.abs(w - wall).max() > 60 for _, k, w in chosen):
            chosen.append((name, key, wall))
        if len(chosen) == n:
            return tuple(c[0] for c in chosen)
    raise AssertionError("not enough distinct names")


_PEOPLE = _distinct(POOL, 14)
CLASS, OTHERS = _PEOPLE[:8], _PEOPLE[8:]


def _gallery(faces, names, size=(1920, 1080), seed=0):
    return render(MeetingSpec(n_tiles=len(names), size=size, names=names, seed=seed), faces)


def _play(analyzer, scenes):
    """Analyse ``scenes`` (``(image, truth or None, seconds, source)``) at 2 frames a second;
    returns ``{name: set of ids}`` and ``{id: set of names}``."""
    ids_of, owners = defaultdict(set), defaultdict(set)
    t, k = 0.0, 0
    for image, truth, seconds, source in scenes:
        for _ in range(int(seconds * 2)):
            res = analyzer.analyze(Frame(image, k, 1.7e9 + t, t, source))
            if truth is not None:
                rows = res.row_tiles()
                for r, sid in enumerate(res.student_ids):
                    if res.tile_index[r] < 0:
                        continue
                    m = iou(rows[r][None], truth.tiles)[0]
                    if m.max() >= 0.5:
                        name = truth.names[int(np.argmax(m))]
                        ids_of[name].add(sid)
                        owners[sid].add(name)
            t += 0.5
            k += 1
    return ids_of, owners


@pytest.mark.parametrize("read_names", [False, True])
def test_a_class_keeps_its_ids_after_a_slide_a_reflow_a_resize_and_a_source_switch(
        analyzer_factory, faces, read_names):
    roster = Roster()
    analyzer = analyzer_factory(roster=roster, names="default" if read_names else None)
    first, truth = _gallery(faces, CLASS)
    reflow_names = CLASS[3:] + CLASS[:3]
    reflowed, truth2 = _gallery(faces, reflow_names, seed=1)
    small, truth3 = _gallery(faces, CLASS[::-1], size=(1280, 720), seed=2)
    page = slide((1920, 1080))
    ids_of, owners = _play(analyzer, [
        (first, truth, 3, "screen:1"), (page, None, 20, "screen:1"),
        (reflowed, truth2, 3, "screen:1"), (page, None, 60, "screen:1"),
        (small, truth3, 3, "file:lesson.mp4")])
    assert set(ids_of) == set(CLASS)
    assert all(len(ids) == 1 for ids in ids_of.values()), dict(ids_of)
    assert all(len(who) == 1 for who in owners.values())


def test_another_class_gets_new_students_and_the_first_class_its_own_back(analyzer_factory,
                                                                         faces):
    roster = Roster()
    analyzer = analyzer_factory(roster=roster, names=None)
    first, truth = _gallery(faces, CLASS)
    other, truth_o = _gallery(faces, OTHERS, seed=5)
    page = slide((1920, 1080))
    ids_of, owners = _play(analyzer, [
        (first, truth, 3, "screen:1"), (page, None, 10, "screen:1"),
        (other, truth_o, 3, "screen:1"), (page, None, 10, "screen:1"),
        (first, truth, 3, "screen:1")])
    assert all(len(who) == 1 for who in owners.values()), "an id was given to two people"
    assert all(len(ids_of[n]) == 1 for n in CLASS)
    assert not {i for n in CLASS for i in ids_of[n]} & {i for n in OTHERS for i in ids_of[n]}


def test_reidentification_refuses_when_two_students_look_alike():
    from fer_desktop.analysis import appearance

    roster = Roster()
    a, b = roster.new_student(), roster.new_student()
    rng = np.random.default_rng(0)
    sig = rng.normal(size=appearance.SIZE).astype(np.float32)
    k = appearance.FACE_SIDE ** 2
    sig[:k] /= np.linalg.norm(sig[:k])
    for j in range(2):
        part = slice(k + j * appearance.LOOK, k + (j + 1) * appearance.LOOK)
        sig[part] = np.abs(sig[part]) / np.abs(sig[part]).sum()
    roster.remember(a, sig)
    roster.remember(b, sig + 0.001)  # two students who look the same
    assert roster.reidentify(sig) is None  # unsure: a new id is better than a wrong one
    assert roster.reidentify(sig, exclude={b}) == a
    other = sig.copy()
    other[:k] = -other[:k]  # another face
    assert roster.reidentify(other, exclude={b}) is None


def test_a_name_read_on_one_gallery_never_passes_to_whoever_sits_in_that_tile_next(faces):
    """"Ben Miller" moved to another person of the next gallery for 13 s: the labels' reading was
    reused at the same place because the two labels looked alike at 48x8 pixels."""
    from fer_desktop.analysis.names import NameReader

    first = ("Ben Miller", "Ada Lovelace", "Gus Grant", "Hana Sato")
    second = ("Ben Mills", "Bob Miller", "Gus Grand", "Hana Sako")
    a, ta = _gallery(faces, first)
    b, tb = _gallery(faces, second)
    assert np.array_equal(ta.tiles, tb.tiles)  # the same layout
    reader = NameReader()
    if not reader.load():
        pytest.skip("no OCR")
    reader.read_tiles(a, ta.tiles)
    again = reader.read_tiles(b, tb.tiles)
    assert not set(again) & set(first), again
