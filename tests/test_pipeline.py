"""The Analyzer on a stream of frames: reuse of tiles and face boxes, and what invalidates it."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.capture.sources import Frame
from testing.synthetic import CAMERA_OFF, make_gallery


def _frame(img, i, t, source="screen:1"):
    return Frame(img, i, 1_700_000_000.0 + t, t, source)


@pytest.mark.parametrize("detector", ["yunet", "haar"])
def test_live_analysis_reuses_boxes_until_a_tile_changes(analyzer_factory, faces, detector):
    analyzer = analyzer_factory(detector=detector)
    img, truth = make_gallery(faces, 9, (1280, 720), empty=(4,), seed=1)
    rng = np.random.default_rng(0)
    first = analyzer.analyze(_frame(img, 0, 0.0))
    assert first.timings["faces_detected"] == 9 and first.timings["tiles_reused"] == 0
    noisy = np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)  # sensor noise
    second = analyzer.analyze(_frame(noisy, 1, 0.5))
    assert second.timings["tiles_reused"] == 1 and second.timings["faces_detected"] == 0
    assert np.array_equal(second.faces, first.faces)

    # student 1 turns the camera off: only that tile is searched again, and has no face now
    x, y, w, h = truth.tiles[0]
    off = noisy.copy()
    off[y:y + h, x:x + w] = CAMERA_OFF
    third = analyzer.analyze(_frame(off, 2, 1.0))
    assert third.timings["faces_detected"] == 1
    assert third.has_face.tolist() == [False] + truth.occupied[1:].tolist()

    # boxes are re-detected on a schedule even when nothing changes
    times = np.arange(1.5, 1.01 + 2 * analyzer.faces_every_s, 0.5)
    timings = [analyzer.analyze(_frame(off, 3 + k, t)).timings for k, t in enumerate(times)]
    counts = [t["faces_detected"] for t in timings]
    if detector == "haar":  # spread over frames: within two schedules every tile is searched
        # again, never all nine in one frame (a Haar search of a tile costs 10-30 ms)
        assert 9 <= sum(counts) <= 18 and max(counts) <= 5
    else:  # one whole-frame search per schedule (about 20 ms for the whole frame), nothing else
        assert sum(t["jobs"] for t in timings) == 2 and sorted(set(counts)) == [0, 9]


def test_a_new_layout_is_detected_at_once(analyzer_factory, faces):
    analyzer = analyzer_factory()
    nine, _ = make_gallery(faces, 9, (1280, 720), seed=2)
    ten, truth10 = make_gallery(faces, 10, (1280, 720), seed=3)  # a student joins
    analyzer.analyze(_frame(nine, 0, 0.0))
    res = analyzer.analyze(_frame(ten, 1, 0.5))
    assert res.timings["tiles_reused"] == 0
    assert len(res.tiles) == 10 and res.has_face.all()
    assert np.abs(res.tiles - truth10.tiles).max() <= 1


def test_cold_analysis_and_source_change_reuse_nothing(analyzer_factory, faces):
    analyzer = analyzer_factory()
    img, _ = make_gallery(faces, 4, (1280, 720), seed=4)
    analyzer.analyze(_frame(img, 0, 0.0))
    other = analyzer.analyze(_frame(img, 0, 0.1, source="camera:0"))
    assert other.timings["faces_detected"] == 4
    ff = analyzer.analyze_image(img)
    assert ff.timings["faces_detected"] == 4 and ff.timings["tiles_reused"] == 0
    assert len(ff.faces) == 4 and np.allclose(ff.probs.sum(axis=1), 1.0, atol=1e-5)


def test_tiles_searched_on_two_threads_give_the_same_faces(analyzer_factory, faces):
    """Each search thread has its own Haar cascade: the result does not depend on threading."""
    img, truth = make_gallery(faces, 25, (1920, 1080), empty=(3, 11), seed=5)
    one = analyzer_factory(workers=1, names=None).analyze_image(img)
    two = analyzer_factory(workers=2, names=None)
    for _ in range(3):
        res = two.analyze_image(img)
        assert np.array_equal(res.faces.boxes, one.faces.boxes)
        assert np.array_equal(res.faces.tile, one.faces.tile)
    assert sorted(set(res.faces.tile.tolist())) == np.flatnonzero(truth.occupied).tolist()


def test_thumbnail_is_the_area_average_of_large_and_small_images():
    from fer_desktop.analysis.cvutil import cv2, thumbnail

    rng = np.random.default_rng(0)
    # a 4K-sized tile: smooth shading, sharp blocks and sensor noise
    yy, xx = np.mgrid[0:1070, 0:1900]
    img = (60 + 120 * xx / 1900 + 40 * ((yy // 200 + xx // 300) % 2)
           + rng.normal(0, 2, xx.shape)).clip(0, 255).astype(np.uint8)
    img = np.dstack([img, 255 - img, img // 2])
    exact = cv2.resize(img, (12, 7), interpolation=cv2.INTER_AREA).astype(np.float32)
    fast = thumbnail(img, (12, 7))
    assert fast.shape == (7, 12, 3) and fast.dtype == np.uint8
    assert np.abs(fast - exact).mean() < 1.5
    # images under 8x the thumbnail are area-averaged as they are
    small = img[:50, :90, 0]
    assert np.array_equal(thumbnail(small, (12, 7)),
                          cv2.resize(small, (12, 7), interpolation=cv2.INTER_AREA))
    mask = (img[..., 0] > 128).astype(np.float32)
    assert thumbnail(mask, (48, 8)).dtype == np.float32
