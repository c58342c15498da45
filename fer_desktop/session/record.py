"""Everything a session keeps in memory: the class mood of every analysed frame, each student's
expression over time and the alerts. Qt-free.

It holds no image, only the numbers the views and the session folder need: per frame its time,
class shares and face count; per student and frame the top expression code (see
:data:`fer_desktop.session.summary.NO_FACE`) and its confidence. Students are keyed by their
persistent id (:attr:`fer_desktop.analysis.pipeline.FrameResult.student_ids`), so a student's
history follows them when the gallery reflows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from fer_desktop.session.alerts import Alert
from fer_desktop.labels import EMOTIONS, NUM_CLASSES
from fer_desktop.analysis.result import FrameResult
from fer_desktop.analysis.tiles import TileState
from fer_desktop.session.summary import CAMERA_OFF, NO_FACE, StudentSummary, summarize


class _Column:
    """An append-only numpy array that doubles its capacity when full."""

    def __init__(self, dtype, shape: tuple[int, ...] = (), capacity: int = 1024):
        self._a = np.zeros((capacity, *shape), dtype)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values, self._a.dtype)
        k = len(values)
        if self.n + k > len(self._a):
            grown = np.zeros((max(2 * len(self._a), self.n + k), *self._a.shape[1:]),
                             self._a.dtype)
            grown[:self.n] = self._a[:self.n]
            self._a = grown
        self._a[self.n:self.n + k] = values
        self.n += k

    def view(self) -> np.ndarray:
        return self._a[:self.n]


class SessionRecord:
    """The numbers of one session, appended frame by frame.

    Attributes
    ----------
    alerts : list of Alert
        Alerts of the session, oldest first (``Alert.t`` in Unix seconds).
    sources : list of str
        Source labels analysed, in order of first use.
    read_names : dict of int to str
        The last name recorded for each student id (read from the tile's label, else
        "Student N").
    """

    def __init__(self) -> None:
        self._t = _Column(np.float64)
        self._shares = _Column(np.float32, (NUM_CLASSES,))
        self._faces = _Column(np.int32)
        self._row_t = _Column(np.float64)
        self._row_student = _Column(np.int32)
        self._row_emotion = _Column(np.int8)
        self._row_conf = _Column(np.float32)
        self.alerts: list[Alert] = []
        self.sources: list[str] = []
        self.read_names: dict[int, str] = {}
        self._last_rows = (0, 0)

    def __len__(self) -> int:
        """Frames recorded."""
        return self._t.n

    @property
    def started(self) -> float | None:
        """Unix time of the first frame; ``None`` before it."""
        return float(self._t.view()[0]) if len(self) else None

    @property
    def ended(self) -> float | None:
        """Unix time of the last frame; ``None`` before the first."""
        return float(self._t.view()[-1]) if len(self) else None

    @property
    def students(self) -> list[int]:
        """Ids of the students seen, ascending."""
        return [int(k) for k in np.unique(self._row_student.view())]

    def add(self, result: FrameResult) -> None:
        """Record one analysed frame (its capture time is ``result.timestamp``)."""
        n = len(result)
        t = float(result.timestamp)
        self._t.extend([t])
        self._shares.extend(result.class_shares()[None])
        self._faces.extend([int(result.has_face.sum())])
        codes = np.array([EMOTIONS.index(e) if e is not None
                          else CAMERA_OFF if st is TileState.CAMERA_OFF else NO_FACE
                          for e, st in zip(result.emotions, result.states)], np.int8)
        self._last_rows = (self._row_t.n, self._row_t.n + n)
        self._row_t.extend(np.full(n, t))
        keys = result.student_ids
        self._row_student.extend(np.asarray(keys, np.int32))
        self.read_names.update(zip(keys, result.students))
        self._row_emotion.extend(codes)
        self._row_conf.extend(np.nan_to_num(result.confidences, nan=0.0))
        if result.source not in self.sources:
            self.sources.append(result.source)

    def last_frame_students(self) -> tuple[int, ...]:
        """The student ids of the last frame's rows, in row order, as relabelled by the
        teacher's merges and splits since (what the list and the preview show)."""
        a, b = self._last_rows
        return tuple(int(k) for k in self._row_student.view()[a:b])

    def add_alert(self, alert: Alert) -> None:
        """Record an alert."""
        self.alerts.append(alert)

    def returned(self, student_id: int, gap_s: float = 2.0) -> float:
        """Unix time at which ``student_id`` last came back after an absence of ``gap_s``
        seconds or more (a slide, a pause, another page), else their first frame; ``inf`` for a
        student never seen."""
        t = np.unique(self._row_t.view()[self._row_student.view() == student_id])
        if not len(t):
            return float("inf")
        gaps = np.flatnonzero(np.diff(t) >= gap_s)
        return float(t[gaps[-1] + 1]) if len(gaps) else float(t[0])

    def relabel(self, src: int, dst: int, since: float = -np.inf) -> tuple:
        """Give the rows (and alerts) of student ``src`` from Unix time ``since`` on to student
        ``dst`` (the teacher merged two students, or split one); returns what :meth:`restore`
        needs to undo it."""
        student = self._row_student.view()
        rows = np.flatnonzero((student == src) & (self._row_t.view() >= since))
        student[rows] = dst
        alerts = [k for k, a in enumerate(self.alerts) if a.student_id == src and a.t >= since]
        for k in alerts:
            self.alerts[k] = dataclasses.replace(self.alerts[k], student_id=dst)
        name = self.read_names.get(src)
        if name is not None and dst not in self.read_names:
            self.read_names[dst] = name
        return src, rows, alerts

    def restore(self, undo: tuple) -> None:
        """Undo a :meth:`relabel`."""
        src, rows, alerts = undo
        self._row_student.view()[rows] = src
        for k in alerts:
            self.alerts[k] = dataclasses.replace(self.alerts[k], student_id=src)

    def class_series(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t (m,) float64 Unix s, shares (m, 7) float32, faces (m,) int32)`` per frame."""
        return self._t.view(), self._shares.view(), self._faces.view()

    def student_timeline(self, student_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One student's history, whichever tiles they were in.

        Returns
        -------
        t : np.ndarray
            ``(k,) float64`` Unix seconds.
        emotion : np.ndarray
            ``(k,) int8`` expression codes (:data:`~fer_desktop.session.summary.NO_FACE` without
            a face, :data:`~fer_desktop.session.summary.CAMERA_OFF` with the camera off).
        confidence : np.ndarray
            ``(k,) float32`` probability of that expression (0 without face).
        """
        mask = self._row_student.view() == student_id
        return (self._row_t.view()[mask], self._row_emotion.view()[mask],
                self._row_conf.view()[mask])

    def summaries(self, names: Mapping[int, str] | None = None) -> list[StudentSummary]:
        """Per-student summary of the session (see :func:`fer_desktop.session.summary.summarize`);
        ``names`` maps student id to display name (default "Student N" of the id)."""
        return summarize(self._row_t.view(), self._row_student.view(), self._row_emotion.view(),
                         names)
