"""The analysis thread: a :class:`QThread` around one
:class:`fer_desktop.session.runner.AnalysisRun`.

Everything the run touches (the source, the CSV) is created and used inside :meth:`run`; the
model, face detector and name recogniser (an :class:`~fer_desktop.session.runner.AnalysisKit`) are
loaded by the first run of the window and handed back (:attr:`QtAnalysisWorker.kit_ready`), so
that the next runs (resume, source switch) start at once. Results reach the window through a
typed signal; stopping is cooperative and never calls ``terminate()``. What the teacher changes
while it runs (the rate, the smoothing, names in the CSV) reaches the run through its params'
:class:`~fer_desktop.session.runner.TuningFeed`, which the session sets: not through the worker.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from fer_desktop.analysis.emotions import ModelError
from fer_desktop.analysis.faces import FaceDetectorError
from fer_desktop.capture.sources import SourceError
from fer_desktop.session.export import ExportError
from fer_desktop.session.runner import AnalysisKit, AnalysisRun, RunParams

log = logging.getLogger(__name__)

#: Errors whose message is meant for the teacher as is.
USER_ERRORS = (SourceError, ModelError, ExportError, FaceDetectorError)


class QtAnalysisWorker(QThread):
    """Run :class:`RunParams` until stopped or the source ends.

    Parameters
    ----------
    params : RunParams
    kit : AnalysisKit, optional
        The loaded analysis of an earlier run; loaded here (and emitted) when absent.
    model_path : str or Path, optional
        Emotion model to load; default the shipped one.
    parent : QObject, optional

    Signals
    -------
    updated(AnalysisUpdate)
        After each analysed frame.
    errored(str)
        A message for the teacher (no traceback) when the run stops on an error.
    status(str)
        An informational message (the end of a video file).
    kit_ready(AnalysisKit)
        The kit this run loaded, to keep for the next runs.
    """

    updated = Signal(object)
    errored = Signal(str)
    status = Signal(str)
    kit_ready = Signal(object)

    def __init__(self, params: RunParams, kit: AnalysisKit | None = None,
                 model_path: str | os.PathLike | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.params = params
        self.run_id = params.run_id
        self.kit = kit
        self.model_path = Path(model_path) if model_path else None
        self._run: AnalysisRun | None = None
        self._stopping = False
        #: CSV rows written by this run (read after it finished).
        self.rows_written = 0

    def stop(self) -> None:
        """Ask the run to finish and wait until it has (at most one analysis); never
        terminates the thread. Safe before start and after the end."""
        self._stopping = True
        run = self._run
        if run is not None:
            run.stop()
        self.wait()

    def run(self) -> None:
        try:
            if self.kit is None or self.kit.wanted != self.params.detector:
                if self.kit is not None:  # another detector chosen: keep the model and OCR
                    self.kit = self.kit.with_detector(self.params.detector)
                else:
                    self.kit = AnalysisKit.load(self.model_path, self.params.detector)
                self.kit_ready.emit(self.kit)
                if self.kit.notice:
                    self.status.emit(self.kit.notice)
            run = AnalysisRun(self.params, self.kit, self.updated.emit, self.status.emit)
            self._run = run
            if self._stopping:
                return
            run.run()
        except USER_ERRORS as exc:
            self.errored.emit(str(exc))
        except Exception as exc:
            log.exception("analysis stopped")
            self.errored.emit(f"The analysis stopped after an unexpected error "
                              f"({type(exc).__name__}: {exc}).")
        finally:
            if self._run is not None:
                self.rows_written = self._run.rows
            self._run = None
