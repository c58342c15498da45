"""Tiles of Zoom, Meet and Teams meeting windows (testing.meetings) and camera-off tiles."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.gallery import find_tiles
from testing.meetings import App, MeetingSpec, View, corpus, iou, render, tile_matches
from fer_desktop.capture.sources import Frame
from fer_desktop.analysis.tiles import TileState, camera_off_mask, plainness


def _score(spec, faces):
    img, truth = render(spec, faces)
    return tile_matches(find_tiles(img).boxes, truth.tiles, 0.9), truth


def test_fast_corpus_subset_precision_and_recall(faces):
    """Every 10th layout of the benchmark's corpus: 24 layouts of all apps, themes and views."""
    tp = fp = fn = 0
    for spec in corpus(240)[::10]:
        (a, b, c), _ = _score(spec, faces)
        tp, fp, fn = tp + a, fp + b, fn + c
    assert tp + fn > 200
    assert tp / (tp + fp) >= 0.99 and tp / (tp + fn) >= 0.99


@pytest.mark.parametrize("app", list(App))
@pytest.mark.parametrize("dark", [True, False])
def test_gallery_of_every_app_and_theme_with_panel_and_speaker_border(faces, app, dark):
    spec = MeetingSpec(app, View.GALLERY, dark, 13, (1920, 1080), panel=True, camera_off=(2, 7),
                       speaking=4, seed=3)
    (tp, fp, fn), truth = _score(spec, faces)
    assert (tp, fp, fn) == (13, 0, 0)


@pytest.mark.parametrize("app", list(App))
def test_speaker_view_is_the_large_tile_and_the_strip(faces, app):
    spec = MeetingSpec(app, View.SPEAKER, True, 6, (1920, 1080), seed=5)
    img, truth = render(spec, faces)
    tiles = find_tiles(img)
    assert tile_matches(tiles.boxes, truth.tiles) == (len(truth.tiles), 0, 0)
    areas = tiles.boxes[:, 2] * tiles.boxes[:, 3]
    assert (areas > 4 * np.median(areas)).sum() == 1  # one speaker


@pytest.mark.parametrize("app", list(App))
def test_shared_screen_is_not_a_tile(faces, app):
    spec = MeetingSpec(app, View.SHARE, False, 5, (2560, 1440), scale=1.5, seed=8)
    (tp, fp, fn), truth = _score(spec, faces)
    assert (tp, fp, fn) == (len(truth.tiles), 0, 0)


def test_compressed_dense_galleries(faces):
    for app in App:
        spec = MeetingSpec(app, View.GALLERY, True, 49, (1280, 720), jpeg=90, seed=90)
        assert _score(spec, faces)[0] == (49, 0, 0)


def test_heavily_compressed_dense_720p_gallery(faces):
    # 49 tiles of 147x82 px at 720p through JPEG quality 60: dark suits and flags reach from a
    # tile's top to its bottom and join the dark background, cutting tiles in two; the grid's
    # cells put them back together
    spec = MeetingSpec(App.ZOOM, View.GALLERY, True, 49, (1280, 720), jpeg=60, seed=60)
    assert _score(spec, faces)[0] == (49, 0, 0)
    spec = MeetingSpec(App.ZOOM, View.GALLERY, True, 36, (1280, 720), jpeg=60, seed=60)
    assert _score(spec, faces)[0] == (36, 0, 0)


def test_4k_high_dpi_partial_last_row(faces):
    spec = MeetingSpec(App.TEAMS, View.GALLERY, False, 17, (3840, 2160), scale=2.0, seed=1)
    (tp, fp, fn), truth = _score(spec, faces)
    assert (tp, fp, fn) == (17, 0, 0)


def test_render_truth_and_errors(faces):
    img, truth = render(MeetingSpec(n_tiles=4, camera_off=(1,)), faces)
    assert img.shape == (1080, 1920, 3) and img.dtype == np.uint8
    assert truth.tiles.shape == (4, 4) and truth.occupied.tolist() == [True, False, True, True]
    with pytest.raises(ValueError, match="1..49"):
        render(MeetingSpec(n_tiles=50), faces)
    assert len(corpus(240)) == 240 and corpus(5) == corpus(5)


def test_iou_and_matching():
    a = np.array([[0, 0, 10, 10]])
    assert iou(a, np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])).tolist() == \
        [[1.0, 50 / 150, 0.0]]
    assert tile_matches(a, np.array([[0, 0, 10, 9], [40, 40, 10, 10]])) == (1, 0, 1)
    assert tile_matches(np.zeros((0, 4)), a) == (0, 0, 1)


def test_plainness_tells_cards_pages_and_video_apart(faces):
    card = np.full((180, 320), 50, np.uint8)
    cv2.circle(card, (160, 90), 40, 200, -1)
    assert plainness(card, (0, 0, 320, 180)).camera_off
    page = np.full((180, 320), 255, np.uint8)
    for y in range(20, 140, 18):
        cv2.line(page, (20, y), (300, y), 30, 3)
    p = plainness(page, (0, 0, 320, 180))
    assert p.document and not p.camera_off
    video = cv2.cvtColor(cv2.resize(faces[0], (320, 180)), cv2.COLOR_BGR2GRAY)
    v = plainness(video, (0, 0, 320, 180))
    assert not v.camera_off and not v.document


@pytest.mark.parametrize("app", list(App))
def test_camera_off_tiles_are_recognised_never_faces(analyzer_factory, faces, app):
    spec = MeetingSpec(app, View.GALLERY, app is not App.MEET, 9, (1920, 1080),
                       camera_off=(0, 4, 8), jpeg=80, seed=11)
    img, truth = render(spec, faces)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    assert camera_off_mask(gray, truth.tiles).tolist() == (~truth.occupied).tolist()
    result = analyzer_factory().analyze(Frame(img, 0, 1_700_000_000.0, 0.0, "test"))
    expected = [TileState.FACE if on else TileState.CAMERA_OFF for on in truth.occupied]
    assert list(result.states) == expected
    assert result.has_face.tolist() == truth.occupied.tolist()
    # reused between frames, and in the badges
    again = analyzer_factory().analyze(Frame(img, 1, 1_700_000_000.5, 0.5, "test"))
    assert list(again.states) == expected
