"""The two face detectors behind one interface, the Faces type, box geometry and the crops, on
real faces (the sample photos that ship inside packages)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fer_desktop.analysis import boxes as bx
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import CropSpec
from fer_desktop.analysis.faces import (FaceDetector, FaceDetectorError, Faces, align_faces,
                                        crop_faces, face_crops, load_detector)
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.analysis.yunet import DEFAULT_YUNET, YuNetDetector
from testing.synthetic import make_gallery


# -- box geometry ---------------------------------------------------------------------------------

def test_iou_overlap_and_centres_are_vectorised_and_exact():
    a = np.array([[0, 0, 10, 10], [5, 5, 10, 10]])
    b = np.array([[0, 0, 10, 10], [10, 10, 10, 10], [100, 100, 5, 5]])
    m = bx.iou(a, b)
    assert m.shape == (2, 3)
    assert m[0, 0] == 1.0 and m[0, 2] == 0.0
    assert m[1, 0] == pytest.approx(25 / 175) and m[1, 1] == pytest.approx(25 / 175)
    assert bx.overlap_of_smaller([[0, 0, 10, 10]], [[2, 2, 4, 4]])[0, 0] == 1.0
    assert bx.region_of(a, b).tolist() == [0, 1]  # (10, 10) lies in the second box (half-open)
    assert bx.region_of([[200, 200, 2, 2]], b).tolist() == [-1]
    assert bx.region_of(a, b, among=[False, True, True]).tolist() == [-1, 1]
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        bx.iou(np.zeros((3, 3)), b)


def test_suppress_keeps_the_best_of_each_duplicate_group():
    boxes = np.array([[0, 0, 100, 100], [5, 5, 100, 100], [30, 30, 20, 20], [300, 0, 50, 50]])
    scores = np.array([0.5, 0.9, 0.99, 0.1])
    keep = bx.suppress(boxes, scores)
    # the small box wins (best score) and removes the big box holding it whose centre it holds
    # (box 0's centre (50, 50) is not in it, but box 0 overlaps box 1 by IoU 0.82)
    assert keep.tolist() == [2, 1, 3]
    assert bx.suppress(np.zeros((0, 4)), np.zeros(0)).tolist() == []


# -- the Faces type -------------------------------------------------------------------------------

def test_faces_are_validated_read_only_and_indexable():
    f = Faces(np.array([[0, 0, 10, 10], [20, 20, 10, 10], [40, 0, 5, 5]]), [0.9, 0.5, 0.7])
    assert len(f) == 3 and f.landmarks.shape == (3, 5, 2) and not f.has_landmarks.any()
    assert f.tile.tolist() == [-1, -1, -1] and f.student.tolist() == [-1, -1, -1]
    with pytest.raises(ValueError):
        f.boxes[0, 0] = 5
    sub = f[f.scores > 0.6]
    assert sub.boxes.tolist() == [[0, 0, 10, 10], [40, 0, 5, 5]]
    assert f.best_first().scores.tolist() == pytest.approx([0.9, 0.7, 0.5])
    both = Faces.concat([f, Faces.empty(), sub.with_(tile=[3, 4])])
    assert len(both) == 5 and both.tile.tolist() == [-1, -1, -1, 3, 4]
    with pytest.raises(ValueError, match="shape"):
        Faces(np.zeros((2, 4)), scores=[1.0])
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        Faces(np.zeros((2, 5)))


# -- the detectors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["yunet", "haar"])
def test_both_detectors_find_the_real_faces_through_one_interface(faces, name):
    det = load_detector(name)
    assert isinstance(det, FaceDetector) and det.name == name
    for img in faces:
        found = det.detect(img)
        assert len(found) >= 1
        x, y, w, h = found.best_first().boxes[0]
        H, W = img.shape[:2]
        assert 0.15 * H < h < 0.9 * H and x >= 0 and y >= 0 and x + w <= W + 2
        if name == "yunet":  # landmarks in the box: eyes above the nose above the mouth
            lm = found.best_first().landmarks[0]
            assert np.all((lm[:, 0] > x) & (lm[:, 0] < x + w) & (lm[:, 1] > y) & (lm[:, 1] < y + h))
            assert lm[0, 0] < lm[1, 0] and lm[:2, 1].max() < lm[2, 1] < lm[3:, 1].min()
        else:
            assert not found.has_landmarks.any()


def test_yunet_finds_every_face_of_a_gallery_and_a_region_of_it(faces):
    img, truth = make_gallery(faces, 9, (1280, 720), empty=(4,), seed=3)
    det = YuNetDetector()
    found = det.detect(img)
    holder = bx.region_of(found.boxes, truth.tiles)
    assert sorted(set(holder[holder >= 0].tolist())) == np.flatnonzero(truth.occupied).tolist()
    tile = truth.tiles[0]
    inside = det.detect(img, region=tile)
    assert len(inside) >= 1 and bx.centre_in(inside.boxes, tile[None]).all()
    # a grey frame gives the same faces as its BGR copy
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    assert len(det.detect(gray)) == len(det.detect(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)))


def test_a_missing_or_damaged_yunet_file_is_named_and_the_kit_falls_back_to_haar(tmp_path):
    from fer_desktop.session.runner import _load_detector

    with pytest.raises(FaceDetectorError, match="nowhere.onnx"):
        YuNetDetector(tmp_path / "nowhere.onnx")
    bad = tmp_path / "yunet_n_640_640.onnx"
    shutil.copy(DEFAULT_YUNET, bad)
    shutil.copy(DEFAULT_YUNET.with_name(DEFAULT_YUNET.name + ".sha256"),
                tmp_path / (bad.name + ".sha256"))
    with open(bad, "r+b") as f:  # one byte changed
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(FaceDetectorError, match="yunet_n_640_640.onnx.*SHA-256"):
        YuNetDetector(bad)
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a network")
    with pytest.raises(FaceDetectorError, match="garbage.onnx"):
        YuNetDetector(garbage)
    import fer_desktop.analysis.yunet as yunet

    old = yunet.DEFAULT_YUNET
    yunet.DEFAULT_YUNET = tmp_path / "nowhere.onnx"
    try:
        det, notice = _load_detector("yunet")
    finally:
        yunet.DEFAULT_YUNET = old
    assert isinstance(det, HaarDetector) and "nowhere.onnx" in notice and "Haar" in notice
    with pytest.raises(ValueError, match="unknown face detector"):
        load_detector("mtcnn")


# -- the crops ---------------------------------------------------------------------------------------

def _rotate(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def test_aligned_crops_level_the_eyes_of_a_tilted_head(faces):
    """A head tilted by 20 degrees either way, cut eye-aligned, looks like the upright head cut
    the same way; cut by its box it does not."""
    det = YuNetDetector()

    def corr(a, b):  # of the blurred crops (a pixel of shift must not decide)
        a, b = (cv2.GaussianBlur(v.astype(np.float32), (0, 0), 2).ravel() for v in (a, b))
        return float(np.corrcoef(a, b)[0, 1])

    for k, img in enumerate(faces):
        upright = det.detect(img).best_first()[0]
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        reference = align_faces(gray, upright.boxes, upright.landmarks)[0]
        for angle in (-20.0, 20.0):
            tilted = _rotate(img, angle)
            face = det.detect(tilted).best_first()[0]
            tgray = cv2.cvtColor(tilted, cv2.COLOR_BGR2GRAY)
            aligned = corr(align_faces(tgray, face.boxes, face.landmarks)[0], reference)
            boxed = corr(crop_faces(tgray, face.boxes)[0], reference)
            assert aligned > boxed + 0.05
            if k == 0:  # Grace Hopper, a frontal portrait
                assert aligned > 0.8 > boxed + 0.15
    both = face_crops(tgray, Faces.concat([face, Faces(face.boxes)]))
    assert both.shape == (2, 48, 48) and both.dtype == np.uint8
    assert np.array_equal(both[0], align_faces(tgray, face.boxes, face.landmarks)[0])
    assert np.array_equal(both[1], crop_faces(tgray, face.boxes)[0])


def test_a_model_declares_its_crop_in_its_metrics():
    assert CropSpec.from_metrics({"aligned": True, "zoom": 0.9}) == CropSpec(True, 0.9, 0.0)
    assert CropSpec.from_metrics(None) == CropSpec()
    assert CropSpec.from_metrics({"zoom": "x"}) == CropSpec()
    assert CropSpec.from_metrics({"zoom": 50}) == CropSpec()
