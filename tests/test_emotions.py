"""The runtime model: probabilities, calibration file, bad model files, smoothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import EmotionModel, ModelError, softmax
from fer_desktop.analysis.faces import crop_faces
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.labels import EMOTIONS
from fer_desktop.analysis.students import ProbabilitySmoother


def _real_face_crops(faces) -> np.ndarray:
    det = HaarDetector()
    crops = []
    for img in faces:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        box = det.best_in_tile(gray, np.array([0, 0, gray.shape[1], gray.shape[0]]))
        assert box[2] > 0
        crops.append(crop_faces(gray, box[None])[0])
    return np.stack(crops)


def test_seven_probabilities_summing_to_one(model_path, faces):
    model = EmotionModel(model_path)
    crops = _real_face_crops(faces)
    for batch in (crops, crops[:1], np.repeat(crops, 25, axis=0)):
        p = model.predict(batch)
        assert p.shape == (len(batch), len(EMOTIONS)) and p.dtype == np.float32
        assert np.all(p >= 0)
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    # the same face gives the same answer whatever the batch size
    np.testing.assert_allclose(model.predict(crops[:1])[0], model.predict(crops)[0], atol=1e-5)
    assert model.predict(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)


def test_temperature_from_metrics_file_softens_probabilities(model_path, tmp_path, faces):
    crops = _real_face_crops(faces)
    copy = tmp_path / "m.tflite"
    copy.write_bytes(model_path.read_bytes())
    base = EmotionModel(copy).predict(crops)
    (tmp_path / "m.metrics.json").write_text(json.dumps({"temperature": 3.0}))
    hot = EmotionModel(copy)
    assert hot.temperature == 3.0
    soft = hot.predict(crops)
    assert np.all(soft.max(1) <= base.max(1) + 1e-6)
    assert soft.argmax(1).tolist() == base.argmax(1).tolist()


def test_softmax_matches_definition():
    z = np.array([[1.0, 2.0, 3.0, 0, 0, 0, 0]])
    e = np.exp(z / 2.0)
    np.testing.assert_allclose(softmax(z, 2.0), e / e.sum(), rtol=1e-6)


def test_missing_and_corrupt_model_files_give_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        EmotionModel(tmp_path / "none.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelError, match="damaged"):
        EmotionModel(bad)


def test_smoother_damps_flicker_and_follows_a_lasting_change():
    sm = ProbabilitySmoother(tau_s=1.5)
    a = np.eye(7, dtype=np.float32)[[3]]  # happy
    b = np.eye(7, dtype=np.float32)[[6]]  # neutral
    sm.update([0], a, 0.0)
    flicker = sm.update([0], b, 0.5)  # one frame of neutral half a second later
    assert EMOTIONS[int(flicker.argmax())] == "happy"
    for t in np.arange(1.0, 5.0, 0.5):
        out = sm.update([0], b, float(t))
    assert EMOTIONS[int(out.argmax())] == "neutral"
    np.testing.assert_allclose(out.sum(), 1.0, atol=1e-5)
    nan = np.full((1, 7), np.nan, np.float32)
    assert np.isnan(sm.update([0], nan, 5.5)).all()


def test_temperature_fit_recovers_the_temperature_that_generated_the_labels():
    from fer_desktop.training.evaluate import expected_calibration_error, fit_temperature

    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (20000, 7))
    p = softmax(z, 2.5)
    y = np.array([rng.choice(7, p=row / row.sum()) for row in p.astype(np.float64)])
    t = fit_temperature(z, y)
    assert t == pytest.approx(2.5, rel=0.05)
    assert expected_calibration_error(softmax(z, t), y) < expected_calibration_error(softmax(z), y)


def test_flip_tta_is_mirror_invariant_and_read_from_the_metrics_file(model_path, tmp_path, faces):
    crops = _real_face_crops(faces)
    copy = tmp_path / "m.tflite"
    copy.write_bytes(model_path.read_bytes())
    (tmp_path / "m.metrics.json").write_text(json.dumps({"flip_tta": True}))
    tta = EmotionModel(copy)
    assert tta.flip_tta
    np.testing.assert_allclose(tta.logits(crops), tta.logits(crops[:, :, ::-1]), atol=1e-4)
    plain = EmotionModel(copy, flip_tta=False)
    both = 0.5 * (plain.logits(crops) + plain.logits(crops[:, :, ::-1]))
    np.testing.assert_allclose(tta.logits(crops), both, atol=1e-4)


def test_selective_flip_tta_mirrors_only_the_least_confident_faces(model_path, tmp_path, faces):
    crops = _real_face_crops(faces)
    rng = np.random.default_rng(0)
    # real faces plus shifted and dimmed variants, so confidences differ across the batch
    batch = np.concatenate([crops, np.roll(crops, 3, axis=2),
                            (crops * rng.uniform(0.5, 0.9)).astype(np.uint8),
                            crops[:, ::-1, :]])
    plain = EmotionModel(model_path, flip_share=0.0)
    full = EmotionModel(model_path, flip_share=1.0)
    half = EmotionModel(model_path, flip_share=0.5)
    a, b = plain.logits(batch), full.logits(batch)
    got = half.logits(batch)
    k = int(np.ceil(0.5 * len(batch)))
    unsure = np.argsort(softmax(a).max(1), kind="stable")[:k]
    sure = np.setdiff1d(np.arange(len(batch)), unsure)
    np.testing.assert_allclose(got[unsure], b[unsure], atol=1e-4)
    np.testing.assert_allclose(got[sure], a[sure], atol=1e-5)
    assert not np.allclose(got, a, atol=1e-3)
    # read from the metrics file; a second call with another batch size still works
    copy = tmp_path / "m.tflite"
    copy.write_bytes(model_path.read_bytes())
    (tmp_path / "m.metrics.json").write_text(json.dumps({"flip_share": 0.25}))
    m = EmotionModel(copy)
    assert m.flip_share == 0.25 and not m.flip_tta
    assert m.logits(batch[:5]).shape == (5, 7) and m.logits(batch).shape == (len(batch), 7)
