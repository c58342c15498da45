"""Qt-free tests of the GUI's model pieces: latest-wins capture, mood history, preview scaling,
rate monitor, badges and colours."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from fer_desktop.session.badges import badges_for, confidence_text
from fer_desktop.capture.readers import LatestFrame, StreamReader
from fer_desktop.session.mood_history import MoodHistory
from fer_desktop.session.palette import EMOTION_COLOURS, NO_FACE_COLOUR, text_colour_on
from fer_desktop.session.updates import RateMonitor, make_preview, session_file_name
from fer_desktop.labels import EMOTIONS
from fer_desktop.analysis.result import FrameResult
from fer_desktop.capture.sources import Frame, FrameSource, SourceError, SourceKind


def _frame(i: int) -> Frame:
    return Frame(np.zeros((4, 4, 3), np.uint8), i, time.time(), i / 30, "test")


def test_latest_frame_keeps_only_the_newest():
    slot = LatestFrame()
    for i in range(3):
        slot.put(_frame(i))
    assert slot.take(0).index == 2
    assert slot.dropped == 2
    assert slot.take(0.01) is None  # each frame is taken once


def test_latest_frame_reports_error_after_the_last_frame():
    slot = LatestFrame()
    slot.put(_frame(0))
    slot.fail(SourceError("unplugged"))
    assert slot.take(0).index == 0
    with pytest.raises(SourceError, match="unplugged"):
        slot.take(0)


def test_latest_frame_take_wakes_on_put_and_close():
    slot = LatestFrame()
    threading.Timer(0.05, slot.put, args=(_frame(5),)).start()
    assert slot.take(5).index == 5
    threading.Timer(0.05, slot.close).start()
    t0 = time.monotonic()
    assert slot.take(5) is None and time.monotonic() - t0 < 2


class _Clip(FrameSource):
    kind = SourceKind.VIDEO
    live = False

    def __init__(self, n: int):
        super().__init__()
        self.n, self.closed = n, False

    @property
    def label(self) -> str:
        return "clip.mp4"

    def open(self) -> None:
        pass

    def _grab(self):
        if self._index >= self.n:
            return None
        return np.zeros((4, 4, 3), np.uint8), self._index / 25

    def close(self) -> None:
        self.closed = True


def test_stream_reader_reads_in_its_own_thread_until_the_end():
    clip = _Clip(50)
    reader = StreamReader(clip)
    deadline = time.monotonic() + 5
    while not reader.ended and time.monotonic() < deadline:
        reader.take(0.1)
    reader.close()
    assert reader.ended and clip.closed


def test_mood_history_keeps_the_time_window_in_place():
    h = MoodHistory(window_s=10, capacity=8)
    shares = np.eye(7, dtype=np.float32)
    for t in range(30):
        h.append(float(t), shares[t % 7])
    t, s = h.view()
    assert t.tolist() == [float(v) for v in range(22, 30)]  # capacity bound
    assert s.shape == (8, 7) and s[-1].tolist() == shares[29 % 7].tolist()
    h2 = MoodHistory(window_s=10, capacity=100)
    for t in range(30):
        h2.append(float(t), shares[0])
    assert h2.view()[0][0] == 19.0  # time-window bound
    h2.clear()
    assert len(h2) == 0


def test_make_preview_limits_the_long_side():
    img = np.zeros((1440, 2560, 3), np.uint8)
    preview, scale = make_preview(img)
    assert preview.shape == (720, 1280, 3) and scale == pytest.approx(0.5)
    small = np.zeros((300, 400, 3), np.uint8)
    same, one = make_preview(small)
    assert same.shape == small.shape and one == 1.0


def test_rate_monitor():
    now = [0.0]
    monitor = RateMonitor(window_s=5, clock=lambda: now[0])
    assert monitor.rate == 0
    for _ in range(11):
        monitor.tick()
        now[0] += 0.5
    assert monitor.rate == pytest.approx(2.0)


def test_palette_is_complete_distinct_and_readable():
    assert set(EMOTION_COLOURS) == set(EMOTIONS)
    colours = list(EMOTION_COLOURS.values()) + [NO_FACE_COLOUR]
    assert len(set(colours)) == len(colours)
    assert text_colour_on(EMOTION_COLOURS["happy"]) == "#000000"  # yellow
    assert text_colour_on(EMOTION_COLOURS["sad"]) == "#FFFFFF"  # blue
    assert text_colour_on(NO_FACE_COLOUR) == "#FFFFFF"


def test_badges_for_a_result():
    probs = np.full((2, 7), np.nan, np.float32)
    probs[0] = [0.02, 0.01, 0.02, 0.82, 0.05, 0.03, 0.05]
    result = FrameResult.of_tiles(
        frame_index=0, timestamp=0.0, position_s=0.0, source="x", frame_size=(200, 100),
        tiles=np.array([[0, 0, 100, 100], [100, 0, 100, 100]], np.int32),
        faces=np.array([[10, 10, 50, 50], [-1, -1, -1, -1]], np.int32), probs=probs,
        students=("Student 1", "Student 2"))
    first, second = badges_for(result)
    assert first.text == "happy 82%" and first.colour == EMOTION_COLOURS["happy"]
    assert first.face == (10, 10, 50, 50)
    assert second.text == "no face" and second.colour == NO_FACE_COLOUR and second.face is None
    assert confidence_text(float("nan")) == ""


def test_session_file_name():
    name = session_file_name(time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1)))
    assert name == "session-20260304-050607.csv"
