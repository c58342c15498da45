"""Gallery tiles and faces on composed gallery screenshots of real faces."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.faces import crop_faces
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.analysis.gallery import _component_stats, find_tiles, sort_row_major
from testing.synthetic import make_gallery


@pytest.mark.parametrize("n", [1, 2, 4, 7, 9, 16, 25, 49])
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (2560, 1440)])
def test_tile_count_and_boxes(faces, n, size):
    img, truth = make_gallery(faces, n, size, empty=(n - 1,) if n > 2 else (), seed=n)
    tiles = find_tiles(img)
    assert tiles.grid
    assert len(tiles) == n
    assert np.abs(tiles.boxes - truth.tiles).max() <= 1


@pytest.mark.parametrize("gap_at", [300, 301])
def test_half_resolution_labelling_keeps_a_one_pixel_gap(gap_at):
    # two tiles side by side, one background column between them (at an even and an odd
    # column), specks of background noise inside the tiles
    fg = np.zeros((400, 700), np.uint8)
    fg[50:250, 20:gap_at] = 255
    fg[50:250, gap_at + 1:640] = 255
    rng = np.random.default_rng(0)
    fg[rng.integers(60, 240, 300), rng.integers(30, 630, 300)] = 0
    stats = _component_stats(fg)
    big = stats[stats[:, 4] > 1000]
    assert len(big) == 2
    truth = np.array([[20, 50, gap_at - 20, 200], [gap_at + 1, 50, 639 - gap_at, 200]])
    got = big[np.argsort(big[:, 0]), :4]
    assert np.abs(got[:, :2] - truth[:, :2]).max() <= 1
    assert np.abs((got[:, :2] + got[:, 2:]) - (truth[:, :2] + truth[:, 2:])).max() <= 1


def test_4k_gallery_is_searched_downscaled_but_boxes_are_in_frame_pixels(faces):
    img, truth = make_gallery(faces, 12, (3840, 2160), seed=4)
    tiles = find_tiles(img)
    assert len(tiles) == 12
    assert np.abs(tiles.boxes - truth.tiles).max() <= 3


def test_gallery_without_window_chrome(faces):
    img, truth = make_gallery(faces, 6, (1600, 900), chrome=False, seed=6)
    tiles = find_tiles(img)
    assert np.abs(tiles.boxes - truth.tiles).max() <= 1


def test_webcam_frame_is_one_tile(faces):
    frame = cv2.resize(faces[1], (1280, 720))
    tiles = find_tiles(frame)
    assert not tiles.grid
    assert tiles.boxes.tolist() == [[0, 0, 1280, 720]]


def test_blank_screen_is_one_tile_without_face():
    frame = np.full((1080, 1920, 3), 30, np.uint8)
    tiles = find_tiles(frame)
    assert len(tiles) == 1
    assert not tiles.grid
    found = HaarDetector().detect_in_region(frame[:, :, 0], tiles.boxes[0])
    assert found.boxes.shape == (0, 4) and found.scores.shape == (0,)


def test_find_tiles_rejects_non_bgr():
    with pytest.raises(ValueError, match="uint8"):
        find_tiles(np.zeros((10, 10), np.float32))


def test_row_major_order():
    boxes = np.array([[300, 105, 100, 50], [0, 100, 100, 50], [150, 0, 100, 50], [0, 0, 100, 50]])
    assert sort_row_major(boxes)[:, :2].tolist() == [[0, 0], [150, 0], [0, 100], [300, 105]]


@pytest.mark.parametrize("n,size,empty", [(4, (1280, 720), (2,)), (9, (1920, 1080), (0, 5)),
                                          (25, (1920, 1080), (3, 12, 24)),
                                          (49, (1920, 1080), (10, 48))])
def test_a_face_in_every_occupied_tile_and_none_in_empty_ones(faces, n, size, empty):
    img, truth = make_gallery(faces, n, size, empty=empty, seed=n + 100)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    det = HaarDetector()
    boxes = np.array([det.best_in_tile(gray, t) for t in truth.tiles])
    has = boxes[:, 2] > 0
    assert has.tolist() == truth.occupied.tolist()
    # every face lies inside its tile and is a plausible size for a webcam face
    for (fx, fy, fw, fh), (tx, ty, tw, th) in zip(boxes[has], truth.tiles[has]):
        assert tx <= fx and fx + fw <= tx + tw + 1 and ty <= fy and fy + fh <= ty + th + 1
        assert 0.2 * th <= fh <= th


def test_face_crops_are_48x48_grey_and_padded_at_the_border():
    gray = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    crops = crop_faces(gray, np.array([[10, 10, 40, 40], [80, 80, 40, 30]]))
    assert crops.shape == (2, 48, 48) and crops.dtype == np.uint8


def test_the_most_confident_detection_wins_over_a_larger_face_like_object(faces):
    # tile 3 of this gallery: the astronaut with the space shuttle on her left, which the
    # cascade also fires on (weaker, but with a larger box than her face)
    img, truth = make_gallery(faces, 25, (1920, 1080), empty=(7, 18), seed=11)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    tx, ty, tw, th = truth.tiles[3]
    fx, fy, fw, fh = HaarDetector().best_in_tile(gray, truth.tiles[3])
    assert fx + fw / 2 < tx + 0.6 * tw  # on her face, not on the shuttle at the tile's right


def test_threaded_search_finds_the_same_tiles(faces):
    from testing.meetings import App, MeetingSpec, render

    img, _ = render(MeetingSpec(app=App.TEAMS, n_tiles=14, size=(1920, 1080), panel=True,
                                    jpeg=80, seed=3), faces)
    one, two = find_tiles(img, workers=1), find_tiles(img, workers=2)
    assert np.array_equal(one.boxes, two.boxes) and len(two) == 14
