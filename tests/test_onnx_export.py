"""The ONNX copy of the expression model (``models/fer_cnn.onnx``, made by
``scripts/export_onnx.py`` for machines without LiteRT) answers as the shipped LiteRT model does.

A model retrained and shipped without running the export again leaves a stale ONNX file: its
logits then differ from the new LiteRT model's by far more than int8 rounding, and this test
says to run the script."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import DEFAULT_MODEL, EmotionModel, verify_model
from fer_desktop.labels import FACE_SIZE

ONNX = DEFAULT_MODEL.with_name("fer_cnn.onnx")
pytestmark = pytest.mark.skipif(not ONNX.is_file(), reason="no models/fer_cnn.onnx")


def _faces() -> np.ndarray:
    """96 grey 48x48 crops of the sample photographs: shifted, scaled, mirrored, darker and
    lighter, so that the model's answers vary."""
    from testing.synthetic import sample_faces

    crops = []
    for photo in sample_faces():
        grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        for scale in (0.5, 0.6, 0.7):
            side = int(min(h, w) * scale)
            for dx, dy in ((0.5, 0.3), (0.4, 0.35), (0.6, 0.35), (0.5, 0.45)):
                x = int(np.clip(w * dx - side / 2, 0, w - side))
                y = int(np.clip(h * dy - side / 2, 0, h - side))
                crop = cv2.resize(grey[y:y + side, x:x + side], (FACE_SIZE, FACE_SIZE),
                                  interpolation=cv2.INTER_AREA)
                for gain in (0.7, 1.2):
                    for flip in (False, True):
                        c = np.clip(crop * gain, 0, 255).astype(np.uint8)
                        crops.append(c[:, ::-1] if flip else c)
    return np.stack(crops)


def test_onnx_copy_matches_the_litert_model():
    import onnxruntime as ort

    assert verify_model(ONNX, required=True)  # its SHA-256 is recorded beside it
    faces = _faces()
    lite = EmotionModel(num_threads=2, flip_share=0.0).logits(faces)
    session = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    x = faces[..., None].astype(np.float32)
    onnx = session.run(["logits"], {"face": x})[0]
    assert onnx.shape == lite.shape == (len(faces), 7)
    same = float((onnx.argmax(1) == lite.argmax(1)).mean())
    worst = float(np.abs(onnx - lite).max())
    stale = "run scripts/export_onnx.py again: models/fer_cnn.onnx is not the shipped model"
    assert same >= 0.9, f"{stale} (same class for {same:.0%} of the faces)"
    assert worst < 1.5, f"{stale} (logits differ by up to {worst:.2f})"


def test_the_app_runs_the_onnx_copy_where_litert_is_missing(monkeypatch):
    """Intel Macs have no LiteRT wheel: the app's model is then the ONNX copy on onnxruntime,
    through the same EmotionModel (flip TTA, temperature, batches of any size)."""
    import fer_desktop.analysis.emotions as emotions

    monkeypatch.setattr(emotions, "_litert_installed", lambda: False)
    assert emotions.default_model() == ONNX
    faces = _faces()
    onnx = EmotionModel(num_threads=2)
    lite = EmotionModel(DEFAULT_MODEL, num_threads=2)
    assert onnx.path == ONNX and onnx.crop == lite.crop
    p_onnx = onnx.predict_batched(faces, batch=49)
    p_lite = lite.predict_batched(faces, batch=49)
    assert p_onnx.shape == (len(faces), 7) and np.allclose(p_onnx.sum(1), 1.0, atol=1e-5)
    assert float((p_onnx.argmax(1) == p_lite.argmax(1)).mean()) >= 0.9
    assert onnx.predict(faces[:1]).shape == (1, 7)  # another batch size
