"""Shared fixtures: real sample faces, synthetic galleries and the model the app runs.

Everything here is made in the test or ships inside packages; no test needs ``../shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = ROOT / "models" / "fer_cnn.tflite"
DEV_MODEL = Path("/tmp/tinymodel/t.tflite")  # only while the first model was being trained


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The LiteRT model the app ships."""
    if SHIPPED_MODEL.exists():
        return SHIPPED_MODEL
    if DEV_MODEL.exists():
        return DEV_MODEL
    pytest.fail(f"no model at {SHIPPED_MODEL}")


@pytest.fixture(scope="session")
def faces() -> list[np.ndarray]:
    from fer_desktop.synthetic import sample_faces

    return sample_faces()


@pytest.fixture(scope="session")
def analyzer_factory(model_path):
    from fer_desktop.emotions import EmotionModel
    from fer_desktop.pipeline import Analyzer

    def make(**kw):
        return Analyzer(EmotionModel(model_path), **kw)

    return make
