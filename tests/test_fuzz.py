"""Property-based attacks on the readers and on ``analyze`` (issue 13): random bytes under every
suffix, truncated images and videos, random image shapes and dtypes. Whatever comes in: no
traceback, no hang, and only the documented outcomes (a :class:`SourceError` or a
``ValueError`` with a message; exit codes 0, 1 or 2)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.capture.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, SourceError, open_path
from fer_desktop.cli import main

SUFFIXES = sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES) + [".dat", ""]
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _read_all(path: Path, limit: int = 50) -> int:
    """Frames read from ``path`` through the app's reader (at most ``limit``)."""
    source = open_path(path)
    source.open()
    try:
        n = 0
        while n < limit and source.read() is not None:
            n += 1
        return n
    finally:
        source.close()


@FUZZ
@given(data=st.binary(min_size=0, max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_are_refused_with_a_message(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        try:
            _read_all(path)
        except SourceError as exc:
            assert str(exc) and "Traceback" not in str(exc)


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory, faces) -> dict[str, bytes]:
    """A gallery as PNG and JPEG, and a 12-frame MJPG AVI of it."""
    from testing.synthetic import make_gallery

    folder = tmp_path_factory.mktemp("valid")
    image = make_gallery(faces, 4, (320, 180), seed=1)[0]
    out = {}
    for suffix in (".png", ".jpg"):
        ok, buf = cv2.imencode(suffix, image)
        out[suffix] = buf.tobytes()
    video = folder / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 6, (320, 180))
    for _ in range(12):
        writer.write(image)
    writer.release()
    out[".avi"] = video.read_bytes()
    return out


@FUZZ
@given(kind=st.sampled_from([".png", ".jpg", ".avi"]), cut=st.floats(0.0, 1.0),
       flip=st.integers(0, 2**31))
def test_truncated_and_damaged_files_analyse_or_are_reported(kind, cut, flip, valid_files):
    data = bytearray(valid_files[kind][:int(len(valid_files[kind]) * cut)])
    if data and flip % 3 == 0:  # also flip one byte
        data[flip % len(data)] ^= 0xFF
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{kind}"
        path.write_bytes(bytes(data))
        out = Path(tmp) / "out.csv"
        code = main(["analyze", str(path), "--out", str(out), "--rate", "0", "-q"])
        assert code in (0, 1, 2)
        if code == 0:
            assert out.stat().st_size > 0


@FUZZ
@given(h=st.integers(0, 300), w=st.integers(0, 300), channels=st.sampled_from([None, 1, 3, 4]),
       dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.int64, bool]),
       seed=st.integers(0, 2**16))
def test_any_array_is_analysed_or_refused_with_a_message(h, w, channels, dtype, seed,
                                                         analyzer_factory):
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(seed)
    image = (rng.random(shape) * 255).astype(dtype)
    analyzer = _analyzer(analyzer_factory)
    try:
        result = analyzer.analyze_image(image)
    except ValueError as exc:
        assert "expected" in str(exc)
        assert not (image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8)
    else:
        assert image.dtype == np.uint8 and image.shape[-1:] == (3,)
        assert len(result.tiles) >= 0


_ANALYZER = []


def _analyzer(factory):
    if not _ANALYZER:
        _ANALYZER.append(factory())
    return _ANALYZER[0]
