"""One analysis run, without Qt: open the source, analyse the newest frame at the set rate, write
the session CSV, hand each result on; until stopped or the source ends. The window's worker
thread runs it (:class:`fer_desktop.gui.qt_worker.QtAnalysisWorker`); tests run it directly.

A run is described by one value, :class:`RunParams`, which the session makes
(:meth:`fer_desktop.session.live.LiveSession.start`). What the teacher may change while it runs
(the rate, the smoothing, names in the CSV) reaches it one way: the session sets its
:class:`TuningFeed`, and the run reads it before every analysis.

What takes long to load (the expression model, the face detector, the name recogniser) is an
:class:`AnalysisKit`, made once and kept across the runs of a session: a pause, a resume or a
source switch starts the next run at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.analysis.faces import FaceDetector, FaceDetectorError, load_detector
from fer_desktop.analysis.names import NameReader
from fer_desktop.analysis.pipeline import Analyzer, FrameResult
from fer_desktop.analysis.roster import Roster
from fer_desktop.capture.readers import open_reader
from fer_desktop.capture.spec import SourceSpec
from fer_desktop.session.export import CsvSink
from fer_desktop.session.settings import RATE, SMOOTHING_S
from fer_desktop.session.updates import RateMonitor, make_preview

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuning:
    """What the teacher may change while a run goes on.

    Attributes
    ----------
    rate : float
        Analyses per second; the run clamps it to :data:`fer_desktop.session.settings.RATE`.
    smoothing_s : float
        Time constant of the per-student smoothing, seconds.
    csv_names : bool
        Write names in the CSV (else "Student N").
    """

    rate: float
    smoothing_s: float
    csv_names: bool


class TuningFeed:
    """The current :class:`Tuning` of a session's runs: the session sets it (the window's
    thread), a run reads it before every analysis (its own thread). The value is replaced
    whole, never changed in place, so that a reader sees one setting or the next, never half
    of each.

    Parameters
    ----------
    tuning : Tuning
    """

    def __init__(self, tuning: Tuning):
        self._tuning = tuning

    @property
    def current(self) -> Tuning:
        return self._tuning

    def set(self, tuning: Tuning) -> None:
        """From the next analysis on, runs use ``tuning``."""
        self._tuning = tuning


@dataclass(frozen=True)
class RunParams:
    """Everything an analysis run needs, as one value (the session makes it, the window hands
    it to the worker).

    Attributes
    ----------
    run_id : int
        Results of older runs are dropped (:meth:`fer_desktop.session.live.LiveSession.add`).
    source : SourceSpec
    tuning : TuningFeed
        The rate, the smoothing and names in the CSV, as the session sets them while the run
        goes on (:attr:`rate`, :attr:`smoothing_s` and :attr:`csv_names` read it now).
    csv_path : Path or None
        The session CSV (``None`` in the aggregate-only mode: no per-student file).
    csv_append : bool
        Append to it (a session going on after a pause or a source switch).
    roster : Roster
        The session's students: ids go on across pauses and source switches.
    exclude : callable or None
        Returns the screen rectangles never to analyse (the app's own window).
    detector : str
        The face detector's name (:data:`fer_desktop.analysis.faces.DETECTORS`).
    """

    run_id: int
    source: SourceSpec
    tuning: TuningFeed
    csv_path: Path | None
    csv_append: bool
    roster: Roster
    exclude: object = None
    detector: str = "yunet"

    @property
    def rate(self) -> float:
        """Analyses per second now."""
        return self.tuning.current.rate

    @property
    def smoothing_s(self) -> float:
        """The smoothing time constant now, seconds."""
        return self.tuning.current.smoothing_s

    @property
    def csv_names(self) -> bool:
        """Whether the CSV gets names now."""
        return self.tuning.current.csv_names


@dataclass
class AnalysisKit:
    """The loaded pieces of the analysis, shared by the runs of a session (one run at a time).

    Attributes
    ----------
    model : EmotionModel
    detector : FaceDetector
    names : NameReader
        Loads the recogniser in the background on first use; every label of a frame is read
        at once (a new page of a gallery gets its names in one frame).
    wanted : str
        The detector asked for (``detector.name`` differs when it fell back to Haar).
    notice : str
        What the teacher should know of the loading ("" when all went as asked): the DNN
        detector could not be loaded and the Haar cascade runs instead.
    """

    model: EmotionModel
    detector: FaceDetector
    names: NameReader
    wanted: str = "yunet"
    notice: str = ""

    @classmethod
    def load(cls, model_path: str | Path | None = None, detector: str = "yunet"
             ) -> "AnalysisKit":
        """Load the model and the face detector ``detector`` (a name of
        :data:`fer_desktop.analysis.faces.DETECTORS`). When YuNet's weights are missing or
        damaged the Haar cascade is loaded instead and :attr:`notice` says so.

        Raises
        ------
        fer_desktop.analysis.emotions.ModelError, fer_desktop.analysis.faces.FaceDetectorError
            If the model, or the Haar cascade itself, cannot be loaded.
        """
        model = EmotionModel(model_path)
        found, notice = _load_detector(detector)
        return cls(model, found, NameReader(background=True), detector, notice)

    def with_detector(self, detector: str) -> "AnalysisKit":
        """The same kit with the face detector ``detector`` (the teacher chose another in the
        settings); falls back to Haar as :meth:`load` does.

        Raises
        ------
        fer_desktop.analysis.faces.FaceDetectorError
            If not even the Haar cascade can be loaded.
        """
        found, notice = _load_detector(detector)
        return AnalysisKit(self.model, found, self.names, detector, notice)


def _load_detector(name: str) -> tuple[FaceDetector, str]:
    """The detector ``name``, or the Haar cascade with a notice when YuNet cannot be loaded."""
    try:
        return load_detector(name), ""
    except FaceDetectorError as exc:
        if name == "haar":
            raise
        log.warning("%s", exc)
        return load_detector("haar"), f"{exc} Faces are found with the Haar cascade meanwhile."


@dataclass(frozen=True)
class AnalysisUpdate:
    """One analysed frame as the run hands it on (the preview replaces the frame).

    Attributes
    ----------
    run_id : int
    result : FrameResult
        ``result.image`` is ``None``.
    preview : np.ndarray
        ``(h, w, 3) uint8`` BGR, the frame at most 1280 px wide or high.
    scale : float
        Preview pixels per frame pixel.
    analyses_per_s, latency_s : float
    dropped : int
        Frames replaced before they were analysed (latest wins).
    rows : int
        CSV rows written so far in this run.
    """

    run_id: int
    result: FrameResult
    preview: object
    scale: float
    analyses_per_s: float
    latency_s: float
    dropped: int
    rows: int


class AnalysisRun:
    """One run of :class:`RunParams` with an :class:`AnalysisKit`; it reads the params'
    :class:`TuningFeed` before every analysis.

    Parameters
    ----------
    params : RunParams
    kit : AnalysisKit
    on_update : callable
        Called with each :class:`AnalysisUpdate` (from the run's thread).
    on_status : callable, optional
        Called with informational messages (the end of a video).
    """

    def __init__(self, params: RunParams, kit: AnalysisKit,
                 on_update: Callable[[AnalysisUpdate], None],
                 on_status: Callable[[str], None] | None = None):
        self.params = params
        self.kit = kit
        self.on_update = on_update
        self.on_status = on_status or (lambda message: None)
        self._stop = threading.Event()
        self._reader = None
        self.rows = 0

    def stop(self) -> None:
        """Ask the run to end after the current analysis (from any thread)."""
        self._stop.set()
        reader = self._reader
        if reader is not None:
            reader.wake()

    def run(self) -> None:
        """Analyse until stopped or the source ends (in the calling thread).

        Raises
        ------
        fer_desktop.capture.sources.SourceError, fer_desktop.session.export.ExportError
            A source that cannot be opened or fails, a CSV that cannot be written; their
            messages are for the teacher.
        """
        p = self.params
        source = p.source.make(repeat_images=True, realtime=True, exclude=p.exclude)
        analyzer = Analyzer(self.kit.model, self.kit.detector,
                            smoothing_s=SMOOTHING_S.clamp(p.smoothing_s),
                            keep_image=True, roster=p.roster, names=self.kit.names)
        sink = None
        self._reader = reader = open_reader(source)
        try:
            if self._stop.is_set():
                return
            rate = RateMonitor()
            due = time.monotonic()
            while not self._stop.is_set():
                wait = due - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    break
                frame = reader.take(timeout=0.5)
                if frame is None:
                    if reader.ended:
                        self.on_status(f"End of {source.label}.")
                        break
                    continue
                tuning = p.tuning.current  # one value: what the session set last
                analyzer.smoother.tau_s = SMOOTHING_S.clamp(tuning.smoothing_s)
                names, period = tuning.csv_names, 1.0 / RATE.clamp(tuning.rate)
                result = analyzer.analyze(frame)
                if p.csv_path is not None:
                    if sink is None:  # created on the first frame: a failed start leaves no file
                        append = p.csv_append or (p.csv_path.exists()
                                                  and p.csv_path.stat().st_size > 0)
                        sink = CsvSink(p.csv_path, append=append, names=names)
                    sink.names = names
                    sink.write(result)
                    self.rows = sink.rows
                preview, scale = make_preview(result.image)
                rate.tick()
                self.on_update(AnalysisUpdate(
                    p.run_id, result.without_image(), preview, scale, rate.rate,
                    max(0.0, time.time() - frame.timestamp), reader.dropped, self.rows))
                due = max(due + period, time.monotonic())
        finally:
            self._reader = None
            reader.close()
            if sink is not None:
                sink.close()
