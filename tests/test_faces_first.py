"""Every face, wherever it is: the real layout families on generated frames, faces outside the
tiles, room cameras (every face a student, followed across frames) and source switches."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.session.export import CSV_COLUMNS, result_rows
from fer_desktop.analysis.gallery import find_tiles
from fer_desktop.analysis.result import FrameResult
from fer_desktop.capture.sources import Frame
from fer_desktop.analysis.tiles import TileState
from testing import real_dev
from testing.meetings import App, MeetingSpec, View, render, tile_matches
from testing.synthetic import make_room, room_people

#: One spec per layout family seen on real screenshots, and the IoU their tiles are found at.
FAMILIES = {
    "speaker border in the gap": (MeetingSpec(App.ZOOM, View.GALLERY, True, 9, speaking=4,
                                              border_outside=True, seed=2), 0.9),
    "4:3 video pillarboxed in its cell": (MeetingSpec(App.ZOOM, View.GALLERY, True, 9,
                                                      letterbox=(0, 1, 4, 5, 8),
                                                      cell=(34, 34, 34), seed=3), 0.9),
    "every video pillarboxed": (MeetingSpec(App.ZOOM, View.GALLERY, True, 6,
                                            letterbox=tuple(range(6)), cell=(34, 34, 34),
                                            seed=3), 0.9),
    "camera-off cards near the background": (MeetingSpec(App.ZOOM, View.GALLERY, True, 9,
                                                         camera_off=(1, 5, 7), cell=(32, 32, 32),
                                                         seed=4), 0.9),
    "tight grid, small gaps, rounded corners": (MeetingSpec(App.MEET, View.GALLERY, True, 30,
                                                            gap=2, radius=10, jpeg=75, seed=5),
                                                0.9),
    "light theme, dark theme": (MeetingSpec(App.TEAMS, View.GALLERY, False, 12, seed=12), 0.9),
    "profile photos when the camera is off": (MeetingSpec(App.MEET, View.GALLERY, True, 6,
                                                          camera_off=(1, 4), avatars=(1, 4),
                                                          seed=6), 0.9),
    "in a browser window on a light page": (MeetingSpec(App.ZOOM, View.GALLERY, True, 12,
                                                        window="browser", seed=7), 0.9),
    "floating strip of thumbnails on a page": (MeetingSpec(App.ZOOM, View.GALLERY, True, 5,
                                                           window="ribbon", seed=8), 0.5),
    "speaker view": (MeetingSpec(App.TEAMS, View.SPEAKER, True, 6, seed=5), 0.9),
    "screen share with a thumbnail strip": (MeetingSpec(App.ZOOM, View.SHARE, False, 5,
                                                        seed=10), 0.9),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_layout_family_tiles_and_faces(name, faces, analyzer_factory):
    spec, min_iou = FAMILIES[name]
    img, truth = render(spec, faces)
    tiles = find_tiles(img)
    assert tile_matches(tiles.boxes, truth.tiles, min_iou) == (len(truth.tiles), 0, 0)
    res = analyzer_factory(names=None).analyze(Frame(img, 0, 1_700_000_000.0, 0.0, name))
    # every camera seen has a face, no camera-off card or profile photo has one
    rows_in: dict[int, int] = {}
    for i, t in enumerate(res.tile_index.tolist()):
        rows_in.setdefault(t, i)
    for k, box in enumerate(truth.tiles):
        match = [t for t in range(len(res.tiles))
                 if tile_matches(res.tiles[t:t + 1], box[None], min_iou)[0]]
        assert match, f"tile {k} not found"
        row = rows_in[match[0]]
        if truth.occupied[k]:
            assert res.has_face[row], f"no face in tile {k}"
        else:
            assert not res.has_face[row] and res.states[row] is TileState.CAMERA_OFF
    assert res.has_face.sum() == truth.occupied.sum()


def test_a_face_outside_every_tile_is_found(faces, analyzer_factory):
    """A participant's video the gallery search cannot see as a tile (here: a portrait pasted
    on the toolbar) is still searched and classified, as a student of their own."""
    img, truth = render(MeetingSpec(App.ZOOM, View.GALLERY, True, 4, size=(1920, 1080),
                                    seed=1), faces)
    portrait = cv2.resize(faces[0], (150, 150 * faces[0].shape[0] // faces[0].shape[1]))
    y0 = img.shape[0] - portrait.shape[0] - 5
    img[y0:y0 + portrait.shape[0], 20:20 + portrait.shape[1]] = portrait
    res = analyzer_factory(names=None).analyze(Frame(img, 0, 1_700_000_000.0, 0.0, "x"))
    assert len(res.tiles) == 4 and res.has_face[res.tile_index >= 0].sum() == 4
    outside = np.flatnonzero(res.tile_index < 0)
    assert len(outside) == 1 and res.has_face[outside[0]]
    fx, fy = res.faces[outside[0], :2]
    assert 20 <= fx < 170 and fy >= y0
    assert len(set(res.student_ids)) == 5


def test_room_camera_every_face_is_a_student_in_the_csv(faces, analyzer_factory):
    people = room_people(30, seed=1)
    img, truth = make_room(faces, people, seed=1)
    res = analyzer_factory(names=None).analyze(Frame(img, 0, 1_700_000_000.0, 0.0, "camera:0"))
    found = real_dev.match(res.faces[res.has_face], truth.faces, 0.4)
    assert len(found) >= 29 and res.has_face.sum() <= 31
    assert not res.grid or all(res.tile_index < 0) or len(res.tiles) == 1
    rows = result_rows(res)
    assert len(rows) == len(res) and len(set(res.student_ids)) == len(res)
    col = {c: i for i, c in enumerate(CSV_COLUMNS)}
    for r in rows:
        if res.grid is False:
            assert r[col["tile"]] == "" and r[col["tile_x"]] == ""
        assert r[col["face_w"]] != "" and r[col["emotion"]] != ""


def test_room_students_keep_their_ids_through_30_s_of_movement_and_an_occlusion(
        faces, analyzer_factory):
    """30 students who move a little for 30 s at 2 analyses a second; one is hidden behind
    someone walking past for 2 s; one more sits down after 20 s: each keeps one id, the
    newcomer gets a new one."""
    base = room_people(31, seed=3)
    rng = np.random.default_rng(0)
    people = base.copy()
    analyzer = analyzer_factory(names=None)
    ids: dict[int, set] = {i: set() for i in range(31)}
    seen = np.zeros(31, int)
    for k in range(60):
        t = 0.5 * k
        people[:, :2] = base[:, :2] + np.clip(people[:, :2] - base[:, :2]
                                              + rng.normal(0, 1.5, (31, 2)), -12, 12)
        present = np.arange(31) if t >= 20 else np.arange(30)
        hidden = (7,) if 10 <= t < 12 else ()
        img, truth = make_room(faces, people[present], seed=3, hidden=hidden)
        res = analyzer.analyze(Frame(img, k, 1_700_000_000.0 + t, t, "camera:0"))
        rows = np.flatnonzero(res.has_face)
        visible = np.flatnonzero(truth.faces[:, 2] > 0)
        for i, j in real_dev.match(res.faces[rows], truth.faces[visible], 0.3):
            ids[int(present[visible[j]])].add(res.student_ids[rows[i]])
            seen[present[visible[j]]] += 1
        if hidden:  # the hidden student is still listed, without a face
            assert (np.array(res.states) == TileState.NO_FACE).sum() >= 1
    assert (seen[:30] >= 50).all() and seen[30] >= 15
    assert all(len(v) == 1 for v in ids.values()), ids
    assert len({next(iter(v)) for v in ids.values()}) == 31  # 31 distinct students


def test_switching_between_a_gallery_and_a_camera_keeps_the_students(faces, analyzer_factory):
    """The session goes on across source switches: the gallery's named students keep their
    ids when the teacher comes back to it; the room's faces are students of their own."""
    names = ("Ada", "Ben", "Chloe", "Dev")
    gallery, _ = render(MeetingSpec(App.ZOOM, View.GALLERY, True, 4, names=names, seed=1), faces)
    room, _ = make_room(faces, room_people(6, seed=2), seed=2)
    analyzer = analyzer_factory()
    first = analyzer.analyze(Frame(gallery, 0, 1_700_000_000.0, 0.0, "screen:1"))
    cam = analyzer.analyze(Frame(room, 0, 1_700_000_001.0, 0.0, "camera:0"))
    back = analyzer.analyze(Frame(gallery, 1, 1_700_000_002.0, 0.5, "screen:1"))
    assert first.students == back.students and first.student_ids == back.student_ids
    assert cam.has_face.sum() == 6 and not set(cam.student_ids) & set(first.student_ids)


def test_frame_result_validates_its_arrays():
    probs = np.full((2, 7), 1 / 7, np.float32)
    ok = FrameResult.of_tiles(tiles=np.array([[0, 0, 10, 10], [10, 0, 10, 10]]),
                              faces=np.array([[1, 1, 5, 5], [-1, -1, -1, -1]]), probs=probs,
                              students=("a", "b"))
    assert len(ok) == 2 and ok.has_face.tolist() == [True, False]
    with pytest.raises(ValueError, match="probs has 3 rows"):
        FrameResult.of_tiles(tiles=np.zeros((2, 4)), faces=np.zeros((2, 4)),
                             probs=np.zeros((3, 7)), students=("a", "b"))
    with pytest.raises(ValueError, match="distinct"):
        FrameResult.of_tiles(tiles=np.zeros((2, 4)), faces=np.zeros((2, 4)), probs=probs,
                             students=("a", "b"), student_ids=(1, 1))
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        FrameResult.of_tiles(tiles=np.zeros((2, 3)), faces=np.zeros((2, 4)), probs=probs,
                             students=("a", "b"))


def test_a_room_of_60_students_each_one_id(faces, analyzer_factory):
    """The most faces a room camera is asked to follow: 60 students, 10 s; a row of them is
    taken for a gallery's tiles now and then (regular desks against a plain wall) and keeps
    its ids all the same."""
    base = room_people(60, seed=5)
    rng = np.random.default_rng(1)
    people = base.copy()
    analyzer = analyzer_factory(names=None)
    ids: dict[int, set] = {}
    for k in range(20):
        t = 0.5 * k
        people[:, :2] = base[:, :2] + np.clip(people[:, :2] - base[:, :2]
                                              + rng.normal(0, 1.5, (60, 2)), -10, 10)
        img, truth = make_room(faces, people, seed=5)
        res = analyzer.analyze(Frame(img, k, 1_700_000_000.0 + t, t, "camera:0"))
        rows = np.flatnonzero(res.has_face)
        pairs = real_dev.match(res.faces[rows], truth.faces, 0.3)
        if k == 0:
            assert len(pairs) >= 57
        for i, j in pairs:
            ids.setdefault(j, set()).add(res.student_ids[rows[i]])
    assert len(ids) == 60 and all(len(v) == 1 for v in ids.values())
