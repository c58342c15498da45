"""The analysis thread: owns the source, the model and the session CSV of one run.

:class:`QtAnalysisWorker` creates everything it uses inside :meth:`QtAnalysisWorker.run` (mss,
OpenCV and LiteRT handles are not shared across threads), analyses the newest frame at a fixed
rate and hands each result to the window through a typed signal. Frames that arrive while an
analysis is running are replaced, never queued (:mod:`fer_desktop.capture.readers`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from fer_desktop.analysis.emotions import EmotionModel, ModelError
from fer_desktop.session.export import CsvSink, ExportError
from fer_desktop.analysis.faces import FaceDetectorError
from fer_desktop.capture.readers import open_reader
from fer_desktop.session.updates import AnalysisUpdate, RateMonitor, make_preview
from fer_desktop.analysis.names import NameReader
from fer_desktop.analysis.pipeline import Analyzer
from fer_desktop.analysis.roster import Roster
from fer_desktop.capture.sources import FrameSource, SourceError, parse_source

log = logging.getLogger(__name__)

#: Errors whose message is meant for the teacher as is.
USER_ERRORS = (SourceError, ModelError, ExportError, FaceDetectorError)

MIN_RATE, MAX_RATE = 0.1, 30.0


class QtAnalysisWorker(QThread):
    """Analyse a source at ``rate`` frames per second until stopped or the source ends.

    Parameters
    ----------
    source : str or callable
        A source spec for :func:`fer_desktop.capture.sources.parse_source` (``screen:1``,
        ``region:X,Y,W,H``, ``camera:0``, a file path) or a callable returning an unopened
        :class:`FrameSource`. Either is resolved inside the thread.
    model_path : str or Path, optional
        Emotion model; default the shipped one.
    rate : float
        Analyses per second.
    csv_path : str or Path, optional
        Session CSV to write rows to (created on the first analysed frame).
    csv_append : bool
        Append to ``csv_path`` when it exists (a session continuing on another source) instead
        of starting it afresh.
    run_id : int
        Copied into every :class:`AnalysisUpdate`.
    smoothing_s : float
        Time constant of the per-student smoothing, seconds (0: none).
    csv_names : bool
        Write students' names in the CSV (else "Student N": anonymous recording).
    roster : Roster, optional
        Student ids to go on with (a resumed session); names are read in the background, at
        most 8 labels a frame.
    parent : QObject, optional

    Signals
    -------
    updated(AnalysisUpdate)
        After each analysed frame.
    errored(str)
        A user-facing message (no traceback) when the run stops on an error.
    status(str)
        An informational message, for example the end of a video file.
    """

    updated = Signal(object)
    errored = Signal(str)
    status = Signal(str)

    def __init__(self, source: str | Callable[[], FrameSource],
                 model_path: str | os.PathLike | None = None, rate: float = 2.0,
                 csv_path: str | os.PathLike | None = None, csv_append: bool = False,
                 run_id: int = 0, smoothing_s: float = 1.5, parent: QObject | None = None,
                 csv_names: bool = True, roster: Roster | None = None):
        super().__init__(parent)
        self.csv_names = csv_names
        self.roster = roster
        self._source_spec = source
        self.model_path = Path(model_path) if model_path else None
        self.csv_path = Path(csv_path) if csv_path else None
        self.csv_append = csv_append
        self.run_id = run_id
        self._rate = self._clamp_rate(rate)
        self._rate_lock = threading.Lock()
        self._smoothing_s = float(smoothing_s)
        self._stop_requested = threading.Event()
        self._reader = None
        #: CSV rows written so far (read after the thread finished).
        self.rows_written = 0
        #: Frames analysed so far.
        self.frames_analysed = 0

    @staticmethod
    def _clamp_rate(rate: float) -> float:
        return min(MAX_RATE, max(MIN_RATE, float(rate)))

    @property
    def rate(self) -> float:
        """Analyses per second."""
        with self._rate_lock:
            return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the analysis rate; takes effect after the current analysis."""
        with self._rate_lock:
            self._rate = self._clamp_rate(rate)

    @property
    def smoothing_s(self) -> float:
        """Time constant of the per-student smoothing, seconds."""
        with self._rate_lock:
            return self._smoothing_s

    def set_smoothing(self, seconds: float) -> None:
        """Change the smoothing time constant; takes effect at the next analysis."""
        with self._rate_lock:
            self._smoothing_s = max(0.0, float(seconds))

    def stop(self) -> None:
        """Ask the run to finish and wait until it has (at most one analysis); never
        terminates the thread. Safe to call before start and after the end."""
        self._stop_requested.set()
        reader = self._reader
        if reader is not None:
            reader.wake()
        self.wait()

    def _make_source(self) -> FrameSource:
        if callable(self._source_spec):
            return self._source_spec()
        return parse_source(self._source_spec, repeat_images=True, realtime=True)

    def run(self) -> None:
        csv = _LazyCsv(self.csv_path, self.csv_append, self.csv_names)
        try:
            source = self._make_source()
            analyzer = Analyzer(EmotionModel(self.model_path), smoothing_s=self.smoothing_s,
                                keep_image=True, roster=self.roster,
                                names=NameReader(background=True, max_reads=8))
            if self._stop_requested.is_set():
                return
            self._reader = reader = open_reader(source)
            try:
                self._loop(reader, analyzer, csv, source.label)
            finally:
                self._reader = None
                reader.close()
        except USER_ERRORS as exc:
            self.errored.emit(str(exc))
        except Exception as exc:
            log.exception("analysis stopped")
            self.errored.emit(f"The analysis stopped after an unexpected error "
                              f"({type(exc).__name__}: {exc}).")
        finally:
            csv.close()

    def _loop(self, reader, analyzer: Analyzer, csv: "_LazyCsv", label: str) -> None:
        """Analyse until stopped or the source ends. Source, model and CSV errors propagate."""
        rate = RateMonitor()
        due = time.monotonic()
        while not self._stop_requested.is_set():
            wait = due - time.monotonic()
            if wait > 0 and self._stop_requested.wait(wait):
                break
            frame = reader.take(timeout=0.5)
            if frame is None:
                if reader.ended:
                    self.status.emit(f"End of {label}.")
                    break
                continue
            analyzer.smoother.tau_s = self.smoothing_s
            result = analyzer.analyze(frame)
            self.rows_written = csv.write(result)
            self.frames_analysed += 1
            preview, scale = make_preview(result.image)
            rate.tick()
            self.updated.emit(AnalysisUpdate(
                run_id=self.run_id, result=dataclasses.replace(result, image=None),
                preview=preview, scale=scale, analyses_per_s=rate.rate,
                latency_s=max(0.0, time.time() - frame.timestamp), dropped=reader.dropped))
            due = max(due + 1.0 / self.rate, time.monotonic())


class _LazyCsv:
    """A :class:`CsvSink` created on the first write, so that a run failing before its first
    frame leaves no empty file (and does not truncate an existing one)."""

    def __init__(self, path: Path | None, append: bool, names: bool = True):
        self._path = path
        self._append = append
        self._names = names
        self._sink: CsvSink | None = None

    def write(self, result) -> int:
        """Write the rows of ``result``; returns the rows written so far. Raises
        :class:`ExportError`."""
        if self._path is None:
            return 0
        if self._sink is None:
            self._sink = CsvSink(self._path, append=self._append, names=self._names)
        self._sink.write(result)
        return self._sink.rows

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
