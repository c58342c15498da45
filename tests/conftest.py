"""Shared fixtures: real sample faces, synthetic galleries and the model the app runs.

Everything here is made in the test or ships inside packages; no test needs ``../shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fer_desktop.runtime import configure  # noqa: E402

configure()

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_MODEL = ROOT / "models" / "fer_cnn.tflite"
DEV_MODEL = Path("/tmp/tinymodel/t.tflite")  # only while the first model was being trained


@pytest.fixture(autouse=True)
def _gc_in_the_gui_thread(request):
    """In tests with a window, Python's garbage collector runs only in the GUI thread (as in
    the app, :func:`fer_desktop.gui.qt_app.run_gui`): a Qt object collected from the analysis
    thread crashes Qt."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    import gc

    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=0.5)
    try:
        yield
    finally:
        collector.timer.stop()
        gc.enable()
        gc.collect()


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
    from testing.synthetic import sample_faces

    return sample_faces()


@pytest.fixture(scope="session")
def analyzer_factory(model_path):
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.analysis.pipeline import Analyzer

    def make(**kw):
        return Analyzer(EmotionModel(model_path), **kw)

    return make


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path_factory):
    """Every ``QSettings()`` of a test goes to a fresh INI folder: tests never read or write the
    user's settings."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder / scope.name))
    yield


@pytest.fixture
def app_settings(tmp_path):
    """A test's own settings file: the responsible-use notice acknowledged and sessions saved
    under ``tmp_path / "sessions"``."""
    from PySide6.QtCore import QSettings

    from fer_desktop.gui.qt_settings import NOTICE_VERSION

    settings = QSettings(str(tmp_path / "fer-desktop-test.ini"), QSettings.Format.IniFormat)
    settings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
    settings.setValue("settings/export_dir", str(tmp_path / "sessions"))
    settings.sync()
    return settings


@pytest.fixture(scope="session")
def gallery_image(faces) -> np.ndarray:
    """A 9-tile 1280x720 gallery; tile 4 (the centre) has its camera off."""
    from testing.synthetic import make_gallery

    image, truth = make_gallery(faces, 9, (1280, 720), empty=(4,))
    assert truth.occupied.tolist() == [True] * 4 + [False] + [True] * 4
    return image


@pytest.fixture(scope="session")
def gallery_png(gallery_image, tmp_path_factory) -> Path:
    """:func:`gallery_image` written as a PNG."""
    from fer_desktop.analysis.cvutil import cv2

    path = tmp_path_factory.mktemp("gallery") / "gallery9.png"
    cv2.imwrite(str(path), gallery_image)
    return path


@pytest.fixture
def warnings(monkeypatch) -> list[tuple]:
    """Modal warnings shown (recorded instead of blocking)."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple] = []

    def fake_warning(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(fake_warning))
    return shown
