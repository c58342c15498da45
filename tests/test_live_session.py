"""The teacher's live session without Qt (issue 12): the state machine and the source, privacy,
renames and identity, what a stop clears, and an analysis run on its own (latest frame wins,
the live CSV follows the privacy mode, nothing is written before the first frame)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.analysis.haar import HaarDetector
from fer_desktop.analysis.names import NameReader
from fer_desktop.analysis.result import FrameResult
from fer_desktop.capture.sources import FrameSource, SourceError, SourceKind, blank
from fer_desktop.capture.spec import SourceSpec, SpecKind
from fer_desktop.labels import EMOTIONS
from fer_desktop.session.alerts import AlertRules
from fer_desktop.session.export import read_csv
from fer_desktop.session.live import LiveSession
from fer_desktop.session.privacy import AGGREGATE_LOCKED, PrivacyMode
from fer_desktop.session.runner import AnalysisKit, AnalysisRun
from fer_desktop.session.settings import AppSettings
from fer_desktop.session.updates import SessionState

T0 = 1_700_000_000.0


def _result(t: float, ids=(0, 1, 2), names=("Ada", "Ben", "Cy"), emotion="happy",
            faces=None) -> FrameResult:
    n = len(ids)
    faces = [True] * n if faces is None else faces
    probs = np.full((n, 7), 0.02, np.float32)
    probs[:, EMOTIONS.index(emotion)] = 0.88
    probs[~np.asarray(faces)] = np.nan
    boxes = np.array([[i * 100 + 25, 20, 50, 50] if f else [-1] * 4
                      for i, f in enumerate(faces)], np.int32).reshape(n, 4)
    return FrameResult.of_tiles(
        frame_index=int(t), timestamp=T0 + t, position_s=t, source="test",
        frame_size=(100 * n, 100), tiles=np.array([[i * 100, 0, 100, 100] for i in range(n)]),
        faces=boxes, probs=probs, students=names, student_ids=ids)


def _session(tmp_path, **kw) -> LiveSession:
    return LiveSession(AppSettings(**kw), sessions_dir=tmp_path, clock=lambda: T0)


def test_start_pause_resume_stop_and_the_source_chosen_while_paused(tmp_path):
    s = _session(tmp_path)
    assert s.state is SessionState.IDLE and s.resume() is None and s.stop() is None
    with pytest.raises(ValueError):
        s.start()  # no source chosen yet
    run = s.start("camera:9")
    assert s.state is SessionState.RUNNING and run.source == SourceSpec(SpecKind.CAMERA, 9)
    assert s.add(_result(0), run.run_id) is not None
    # the camera dies: the session waits, paused, with the error to show
    s.run_finished(run.run_id, "Camera 9 is not available.")
    assert s.state is SessionState.PAUSED and s.error == "Camera 9 is not available."
    # issue 12 #1: another source chosen while paused is the one Resume opens
    assert s.choose_source("screen:2") is None
    again = s.resume()
    assert again.source == SourceSpec(SpecKind.SCREEN, 2) and again.run_id != run.run_id
    assert s.error is None and again.csv_path == run.csv_path
    assert s.add(_result(1), run.run_id) is None  # a result of the dead run is dropped
    # while running, choosing a source switches at once
    switched = s.choose_source("region:0,0,800,600")
    assert switched.source.kind is SpecKind.REGION and s.state is SessionState.RUNNING
    assert switched.roster is run.roster  # the same students go on
    assert s.pause() and not s.pause() and s.state is SessionState.PAUSED
    ended = s.stop()
    assert s.state is SessionState.IDLE and ended.record is not None and len(ended.record) == 1


def test_a_first_run_that_fails_closes_the_session(tmp_path):
    s = _session(tmp_path)
    run = s.start("camera:9")
    s.run_finished(run.run_id, "Camera 9 is not available.")
    assert s.state is SessionState.IDLE and s.error == "Camera 9 is not available."
    s.run_finished(run.run_id + 5, "late")  # a run already replaced changes nothing
    assert s.error == "Camera 9 is not available."
    assert s.start("gallery.png").run_id > run.run_id and s.error is None


def test_stop_clears_what_is_shown_and_the_folder_shares_the_csv_stamp(tmp_path):
    s = _session(tmp_path, alerts=AlertRules(negative_enabled=False, face_missing_min=0.05))
    run = s.start("gallery.png")
    assert run.csv_path == tmp_path / "session-" f"{s.stamp}.csv"
    fired = []
    for t in range(10):
        fired += s.add(_result(t, faces=(True, False, True)), run.run_id).alerts
    assert fired and s.last is not None
    s.selected = 1
    ended = s.stop()
    assert ended.stamp == s.stamp and ended.csv_path is None  # no row written: no CSV
    assert s.last is None and s.selected is None and s.error is None
    assert ended.record.alerts == fired
    # a new session gets its own record and alerts
    run = s.start("gallery.png")
    assert len(s.record) == 0 and s.add(_result(0), run.run_id).alerts == []


def test_privacy_reaches_every_name_at_once_and_aggregate_waits_for_the_end(tmp_path):
    s = _session(tmp_path)
    run = s.start("gallery.png")
    shown = s.add(_result(0), run.run_id)
    assert [b.student for b in shown.badges] == ["Ada", "Ben", "Cy"] and run.csv_names
    s.rename(1, "Benjamin")
    assert [b.student for b in s.last.badges] == ["Ada", "Benjamin", "Cy"]
    assert s.set_privacy(PrivacyMode.ANONYMOUS) is None
    assert [b.student for b in s.last.badges] == ["Student 1", "Student 2", "Student 3"]
    assert s.name_of(1) == "Student 2"
    s.rename(2, "Cyrus")  # no typing in the anonymous mode
    assert s.typed == {1: "Benjamin"}
    assert s.set_privacy(PrivacyMode.AGGREGATE) == AGGREGATE_LOCKED
    assert s.privacy is PrivacyMode.ANONYMOUS and s.privacy_locked(PrivacyMode.AGGREGATE)
    # the settings dialog cannot switch it either, but its other values apply
    assert s.apply_settings(AppSettings(rate=4.0, privacy=PrivacyMode.AGGREGATE)) == \
        AGGREGATE_LOCKED
    assert s.settings.rate == 4.0 and s.privacy is PrivacyMode.ANONYMOUS
    assert s.set_privacy(PrivacyMode.NAMED) is None
    assert s.last.badges[1].student == "Benjamin"  # the typed name comes back
    s.stop()
    assert s.set_privacy(PrivacyMode.AGGREGATE) is None
    run = s.start("gallery.png")
    assert run.csv_path is None  # nothing per student is recorded
    assert s.add(_result(0), run.run_id).badges == []


def test_renames_survive_a_source_switch_and_pauses(tmp_path):
    s = _session(tmp_path)
    run = s.start("gallery.png")
    s.add(_result(0), run.run_id)
    s.rename(0, "Ada Lovelace")
    s.rename(2, "Cy")  # the name read: nothing typed
    assert s.typed == {0: "Ada Lovelace"}
    run = s.choose_source("camera:0")
    s.add(_result(1, ids=(2, 0), names=("Cy", "Ada")), run.run_id)
    assert [b.student for b in s.last.badges] == ["Cy", "Ada Lovelace"]
    s.pause()
    run = s.resume()
    shown = s.add(_result(2, ids=(0,), names=("Ada",)), run.run_id)
    assert shown.badges[0].student == "Ada Lovelace"
    assert s.rows_of(0) == 0 and s.rows_of(2) is None and s.student_at(0) == 0
    ended = s.stop()  # every saved file names each student one way: typed, else read
    assert ended.names[0] == "Ada Lovelace" and ended.names[2] == "Cy"
    assert set(ended.names) == set(ended.record.students)


def test_blanking_the_apps_own_window_out_of_a_screen_capture():
    image = np.full((100, 200, 3), 200, np.uint8)
    out = blank(image, (1000, 0), [(1150, 50, 500, 500), (0, 0, 10, 10)])
    assert image.min() == 200  # the capture itself is not changed
    assert (out[50:, 150:] == 0).all() and out[:50].min() == 200 and out[:, :150].min() == 200


# -- an analysis run, without a window ------------------------------------------------------


class _FlakyCamera(FrameSource):
    """A camera delivering ``frames`` frames at ~30 fps, then unplugged."""

    kind = SourceKind.CAMERA

    def __init__(self, image: np.ndarray, frames: int):
        super().__init__()
        self._image, self._frames = image, frames

    @property
    def label(self) -> str:
        return "camera:7"

    def open(self) -> None:
        pass

    def _grab(self):
        if self._index >= self._frames:
            raise SourceError("Camera 7 stopped sending video (was it unplugged?).")
        time.sleep(1 / 30)
        return self._image, self._index / 30


@dataclass(frozen=True)
class _Spec:
    """Stands in for a :class:`SourceSpec` whose source is made by the test."""

    factory: object
    title: str = "Camera 7"

    def make(self, **kw) -> FrameSource:
        return self.factory()


@pytest.fixture(scope="module")
def kit(model_path) -> AnalysisKit:
    return AnalysisKit(EmotionModel(model_path), HaarDetector(), NameReader())


def _params(tmp_path, source):
    s = LiveSession(AppSettings(rate=10.0), sessions_dir=tmp_path)
    return s, s.start(source)


def test_a_run_keeps_the_latest_frame_and_ends_cleanly_when_the_camera_is_unplugged(
        tmp_path, kit, gallery_image):
    s, params = _params(tmp_path, "camera:7")
    params = type(params)(**{**params.__dict__,
                             "source": _Spec(lambda: _FlakyCamera(gallery_image, 30))})
    updates = []
    run = AnalysisRun(params, kit, updates.append)
    with pytest.raises(SourceError, match="unplugged"):
        run.run()
    assert 1 <= len(updates) < 30 and updates[-1].dropped > 0  # slower than the camera
    indices = [u.result.frame_index for u in updates]
    assert indices == sorted(set(indices))
    assert all(u.result.image is None and u.preview.shape[1] <= 1280 for u in updates)
    rows = read_csv(params.csv_path)  # kept, complete rows
    assert len(rows) == 9 * len(updates) == run.rows


def test_the_live_csv_follows_the_privacy_mode_from_the_next_row(tmp_path, kit, gallery_png):
    """Issue 12 #5: the recording kept the real names for two minutes after the switch."""
    s, params = _params(tmp_path, str(gallery_png))
    seen = []
    run = AnalysisRun(params, kit, seen.append)
    thread = threading.Thread(target=run.run)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        s.set_privacy(PrivacyMode.ANONYMOUS)  # reaches the run through its params' tuning
        switched = len(seen)
        while len(seen) < switched + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        run.stop()
        thread.join(30)
    rows = read_csv(params.csv_path)
    first, last = rows[:9], rows[-9:]
    assert any(r["student"] == "Ada" for r in first)  # names read from the labels
    assert [r["student"] for r in last] == [f"Student {int(r['student_id']) + 1}" for r in last]


def test_a_run_on_a_source_that_cannot_open_writes_nothing(tmp_path, kit):
    s, params = _params(tmp_path, str(tmp_path / "missing.mp4"))
    run = AnalysisRun(params, kit, lambda u: None)
    with pytest.raises(SourceError, match="not found"):
        run.run()
    assert not params.csv_path.exists()
