"""The teacher's live session, without Qt: one place for its state.

A :class:`LiveSession` knows whether a session is open, running or paused, which source it
analyses (or will, once resumed), the privacy mode, the names the teacher typed, who each
student is, and what each analysed frame shows (badges, list rows, alerts, the class chart's
sample). The window binds to it: it forwards the teacher's commands (start, pause, resume,
stop, choose a source, rename, switch the privacy mode, merge, split, undo), starts an
analysis run with the :class:`~fer_desktop.session.runner.RunParams` a command returns, hands
each result to :meth:`LiveSession.add`, and draws what comes back. The analysis itself runs
elsewhere (a worker thread); so does drawing.

States: IDLE -Start-> RUNNING -Pause-> PAUSED -Resume-> RUNNING; Stop from either -> IDLE. A
source chosen while running is switched to at once; while paused or idle, it is the one that
Resume or Start opens. A run that ends on its own (the end of a video, a camera unplugged, a
camera that does not exist) leaves the session PAUSED, with the error to show, until the
teacher chooses another source or resumes.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

from fer_desktop.analysis.result import FrameResult
from fer_desktop.analysis.roster import Roster
from fer_desktop.capture.spec import SourceSpec
from fer_desktop.session.alerts import Alert, AlertEngine
from fer_desktop.session.badges import Badge, badges_for
from fer_desktop.session.privacy import AGGREGATE_LOCKED, PrivacyMode
from fer_desktop.session.record import SessionRecord
from fer_desktop.session.runner import RunParams, Tuning, TuningFeed
from fer_desktop.session.settings import AppSettings
from fer_desktop.session.updates import SessionState, session_file_name, session_stamp


#: Why a correction of who is who is refused when no session is open.
NOT_OPEN = "The session has ended: its files are saved as they were."


@dataclass(frozen=True)
class Shown:
    """What one analysed frame shows.

    Attributes
    ----------
    result : FrameResult
    badges : list of Badge
        One per student row, named as the privacy mode allows; empty in the aggregate-only
        mode (the list shows them too).
    alerts : list of Alert
        Alerts that fired at this frame.
    status : str
        ``"25 tiles · 23 faces"``.
    """

    result: FrameResult
    badges: list[Badge]
    alerts: list[Alert]
    status: str


@dataclass(frozen=True)
class Ended:
    """A stopped session, for the window to save (:func:`fer_desktop.gui.qt_report.save_session`).

    Attributes
    ----------
    record : SessionRecord
    privacy : PrivacyMode
    names : dict of int to str
        Every student's name at the end of the session, as the privacy mode allows (typed,
        else read while names could be shown, else "Student N"): every saved file names a
        student this way.
    csv_path : Path or None
        The recorded session CSV.
    stamp : str
        ``YYYYmmdd-HHMMSS`` of the session's start: the CSV and the saved folder share it.
    relabel : callable
        ``(student_id, unix_time) -> student_id``: who a row of the recorded CSV is after the
        teacher's merges and splits (:meth:`LiveSession.student_of_row`).
    """

    record: SessionRecord
    privacy: PrivacyMode
    names: dict[int, str]
    csv_path: Path | None
    stamp: str
    relabel: object = None


@dataclass(frozen=True)
class Correction:
    """One of the teacher's corrections of who is who, undoable.

    Attributes
    ----------
    kind : str
        ``"merge"`` (``gone`` is ``keep``) or ``"split"`` (the person shown as ``keep`` since
        ``since`` is a new student ``gone``).
    keep, gone : int
    since, until : float
        Unix seconds: the recorded rows of ``gone`` (merge: all of them; the analysis gives no
        row to ``gone`` afterwards) or of ``keep`` from ``since`` up to ``until`` (split: the
        last frame recorded before it) are relabelled.
    undo : tuple
        What the roster and the record need to undo it.
    """

    kind: str
    keep: int
    gone: int
    since: float
    until: float
    undo: tuple


class LiveSession:
    """A teacher's session and what it shows.

    Parameters
    ----------
    settings : AppSettings, optional
    csv_path : str or Path, optional
        Record every session to this CSV (appended); default a new
        ``session-YYYYmmdd-HHMMSS.csv`` in ``sessions_dir`` per session.
    sessions_dir : str or Path, optional
        Where the per-session CSVs go (default: not recorded unless ``csv_path``).
    clock : callable
        Unix time, seconds (injectable for tests).
    exclude : callable, optional
        Returns the screen rectangles no run may analyse (the window's own, thread-safe).
    """

    def __init__(self, settings: AppSettings | None = None, csv_path=None, sessions_dir=None,
                 clock=time.time, exclude=None):
        self.settings = settings or AppSettings()
        self.fixed_csv = Path(csv_path) if csv_path else None
        self.sessions_dir = Path(sessions_dir) if sessions_dir else None
        self.clock = clock
        self.exclude = exclude
        self.state = SessionState.IDLE
        #: The source analysed now, or opened by the next Start or Resume.
        self.source: SourceSpec | None = None
        self.record = SessionRecord()
        self.alerts = AlertEngine(self._alert_rules())
        self.roster = Roster()
        #: Names the teacher typed, per student id (never stored in the settings).
        self.typed: dict[int, str] = {}
        #: The message of the last run that failed (a missing camera), until the next start.
        self.error: str | None = None
        #: Student selected in the list or the preview (its id), or None.
        self.selected: int | None = None
        self.csv_path: Path | None = None
        self.stamp: str | None = None
        self.run_id: int | None = None
        self.last: Shown | None = None
        #: The teacher's corrections of who is who, oldest first (undone from the last).
        self.corrections: list[Correction] = []
        self._run_ids = itertools.count(1)
        self._csv_written = False
        #: What the runs read while they go on (the rate, the smoothing, names in the CSV): set
        #: here, and only here, whenever the settings or the privacy mode change.
        self.tuning = TuningFeed(self._tuning())

    # -- what the session is ----------------------------------------------------------------

    @property
    def open(self) -> bool:
        """Whether a session is open (running or paused)."""
        return self.state is not SessionState.IDLE

    @property
    def privacy(self) -> PrivacyMode:
        return self.settings.privacy

    def name_of(self, student_id: int) -> str:
        """A student's name as the privacy mode allows: typed, else read from their tile while
        names could be shown, else "Student N". The list, the preview, the saved files, the
        report and the alerts all use it."""
        return self.privacy.name(student_id, self.record.read_names.get(student_id),
                                 self.typed.get(student_id))

    def final_names(self) -> dict[int, str]:
        """Every student's name now (:meth:`name_of`), by id."""
        return {sid: self.name_of(sid) for sid in self.record.students}

    # -- who is who: the teacher's corrections ------------------------------------------------

    def merge(self, keep: int, gone: int) -> str | None:
        """Student ``gone`` is student ``keep`` (re-identification missed them): their rows,
        timeline, alerts and typed name become ``keep``'s, now and in the saved files, and the
        analysis gives ``keep``'s id to that person from now on. Returns why not, if refused
        (the same student; both on screen in the last frame: two people)."""
        if not self.open:
            return NOT_OPEN
        if keep == gone or keep not in self.record.students or gone not in self.record.students:
            return "Choose two different students."
        shown = self.last.result.student_ids if self.last is not None else ()
        if keep in shown and gone in shown:
            return "They are both on screen now: they are two people."
        self.roster.reserve(max(self.record.students))
        saved = self.roster.merge(keep, gone)
        moved = self.record.relabel(gone, keep)
        typed = (self.typed.get(keep), self.typed.get(gone))
        if typed[0] is None and typed[1] is not None:
            self.typed[keep] = typed[1]
        self.typed.pop(gone, None)
        self.corrections.append(Correction("merge", keep, gone, -float("inf"), float("inf"),
                                           (saved, moved, typed)))
        self._select_after(gone, keep)
        return None

    def split(self, student: int) -> str | None:
        """The person shown as ``student`` since they last came back (after an absence of 2 s
        or more, else the whole session) is someone else: a new student from then on, in the
        timeline, the list and the saved files, and for the analysis from now on. Returns why
        not, if refused."""
        if not self.open:
            return NOT_OPEN
        if student not in self.record.students:
            return "Choose a student."
        since = self.record.returned(student)
        self.roster.reserve(max(self.record.students))
        new = self.roster.split(student)
        moved = self.record.relabel(student, new, since)
        self.corrections.append(Correction("split", student, new, since, self.record.ended,
                                           (None, moved, (None, None))))
        self._select_after(student, new)
        return None

    def same_person(self, a: int, b: int) -> str | None:
        """The teacher says students ``a`` and ``b`` are one person: :meth:`merge` them into
        the one seen first (the lower id; their earlier rows keep it, and so does the
        session CSV). Returns why not, if refused."""
        return self.merge(min(a, b), max(a, b))

    @property
    def can_undo(self) -> bool:
        """Whether a correction of the open session can be undone."""
        return self.open and bool(self.corrections)

    def undo(self) -> str | None:
        """Undo the last merge or split of the open session; returns what was undone, or
        None."""
        if not self.can_undo:
            return None
        c = self.corrections.pop()
        saved, moved, typed = c.undo
        self.record.restore(moved)
        if c.kind == "merge":
            self.roster.unmerge(saved)
            for sid, name in zip((c.keep, c.gone), typed):
                if name is None:
                    self.typed.pop(sid, None)
                else:
                    self.typed[sid] = name
            self._relabel()
            return f"Merge of {self.name_of(c.gone)} into {self.name_of(c.keep)} undone."
        self.roster.unsplit(c.keep, c.gone)
        self._select_after(c.gone, c.keep)
        return f"Split of {self.name_of(c.keep)} undone."

    def student_of_row(self, student_id: int, t: float) -> int:
        """Who a recorded row of ``student_id`` at Unix time ``t`` is after the corrections."""
        for c in self.corrections:
            if c.kind == "merge" and student_id == c.gone and t <= c.until:
                student_id = c.keep
            elif c.kind == "split" and student_id == c.keep and c.since <= t <= c.until:
                student_id = c.gone
        return student_id

    def _select_after(self, old: int, new: int) -> None:
        if self.selected == old:
            self.selected = new
        self._relabel()

    def privacy_locked(self, mode: PrivacyMode) -> bool:
        """Whether switching to ``mode`` must wait for the session to stop (to or from the
        aggregate-only mode, which decides what a session records)."""
        return self.open and PrivacyMode.AGGREGATE in (mode, self.privacy)

    # -- commands ---------------------------------------------------------------------------

    def choose_source(self, spec: SourceSpec | str) -> RunParams | None:
        """The teacher picked a source. While running, the session switches to it (returns the
        new run); paused or idle, it is the source Resume or Start will open. The error of
        another source (a camera that died) is forgotten.

        Raises
        ------
        fer_desktop.capture.sources.SourceError
            For a malformed spec.
        """
        source = SourceSpec.parse(spec)
        if source != self.source:
            self.error = None  # the last source's error is not this one's
        self.source = source
        if self.state is SessionState.RUNNING:
            return self._run()
        return None

    def start(self, spec: SourceSpec | str | None = None) -> RunParams:
        """Open a session (or, within one, switch to ``spec`` and run) and return the run.

        Raises
        ------
        ValueError
            If no source was ever chosen.
        fer_desktop.capture.sources.SourceError
            For a malformed spec.
        """
        if spec is not None:
            self.source = SourceSpec.parse(spec)
        if self.source is None:
            raise ValueError("choose a source first")
        if self.state is SessionState.IDLE:
            self._begin()
        return self._run()

    def pause(self) -> bool:
        """Pause a running session: the run is to be stopped, the numbers kept. Returns
        whether the state changed."""
        if self.state is not SessionState.RUNNING:
            return False
        self.state = SessionState.PAUSED
        self.run_id = None
        return True

    def resume(self) -> RunParams | None:
        """Go on with a paused session, on the source chosen last (also one chosen while
        paused)."""
        if self.state is not SessionState.PAUSED or self.source is None:
            return None
        return self._run()

    def stop(self) -> Ended | None:
        """End the session: what to save (``None`` when nothing was analysed). Everything
        shown about it is cleared (alerts, errors, counts, selection); the names the teacher
        typed and the students' ids go with it."""
        if not self.open:
            return None
        ended = None
        if len(self.record):
            ended = Ended(self.record, self.privacy, self.final_names(),
                          self.csv_path if self._csv_written else None, self.stamp or "",
                          self.student_of_row)
        self.state = SessionState.IDLE
        self.run_id = None
        self.error = None
        self.selected = None
        self.last = None
        self.alerts.reset()
        return ended

    def run_finished(self, run_id: int, error: str | None = None) -> None:
        """A run ended on its own (the end of a video, a failing source). The session waits,
        paused, for another source or a resume; with nothing recorded yet it is closed."""
        if run_id != self.run_id:
            return  # a run already replaced
        self.error = error
        self.run_id = None
        if self.state is SessionState.RUNNING:
            if len(self.record):
                self.state = SessionState.PAUSED
            else:
                self.state = SessionState.IDLE
                self.stamp, self.csv_path = None, None

    def rows_written(self, rows: int) -> None:
        """The run wrote ``rows`` CSV rows: later runs of the session append."""
        self._csv_written = self._csv_written or rows > 0

    def set_privacy(self, mode: PrivacyMode) -> str | None:
        """Switch the privacy mode; it applies to everything at once (the list, the preview,
        the live CSV, exports). Returns why not, when the switch must wait for the session to
        stop."""
        if mode is self.privacy:
            return None
        if self.privacy_locked(mode):
            return AGGREGATE_LOCKED
        self.settings = dataclasses.replace(self.settings, privacy=mode)
        self.tuning.set(self._tuning())
        self.roster.show_names = mode.names
        if not mode.per_student:
            self.selected = None
        self._relabel()
        return None

    def apply_settings(self, settings: AppSettings) -> str | None:
        """Use ``settings`` (the privacy mode as :meth:`set_privacy`; returns why it could not
        switch)."""
        why = None
        if settings.privacy is not self.privacy:
            why = self.set_privacy(settings.privacy)
            if why is not None:
                settings = dataclasses.replace(settings, privacy=self.privacy)
        self.settings = settings
        self.tuning.set(self._tuning())
        self.alerts.set_rules(self._alert_rules())
        self._relabel()
        return why

    def rename(self, student_id: int, name: str) -> None:
        """The teacher's name for a student (an empty name, or the name read, removes it). Kept
        while the session goes on, across pauses and source switches."""
        name = name.strip()
        if not self.privacy.names:
            return
        if name and name != self.record.read_names.get(student_id):
            self.typed[student_id] = name
        else:
            self.typed.pop(student_id, None)
        self._relabel()

    # -- results ----------------------------------------------------------------------------

    def add(self, result: FrameResult, run_id: int) -> Shown | None:
        """One analysed frame of run ``run_id``: recorded, and what it shows (``None`` for a
        result of a run already replaced)."""
        if run_id != self.run_id:
            return None
        self.record.add(result)
        per_student = self.privacy.per_student
        badges = badges_for(result, [self.name_of(s) for s in result.student_ids],
                            self.settings.uncertain_below) if per_student else []
        alerts = self.alerts.update(result.timestamp, result.class_shares(), result.has_face,
                                    [self.name_of(s) for s in result.student_ids],
                                    result.student_ids, result.states)
        for alert in alerts:
            self.record.add_alert(alert)
        self.error = None
        self.last = Shown(result, badges, alerts,
                          f"{len(result.tiles)} tiles · {int(result.has_face.sum())} faces")
        return self.last

    def rows_of(self, student_id: int | None) -> int | None:
        """The row of a student in the last frame shown, or None."""
        if student_id is None or self.last is None:
            return None
        ids = self.last.result.student_ids
        return ids.index(student_id) if student_id in ids else None

    def student_at(self, row: int | None) -> int | None:
        """The student of a row of the last frame shown, or None."""
        if row is None or self.last is None or not 0 <= row < len(self.last.result):
            return None
        return self.last.result.student_ids[row]

    # -- internals --------------------------------------------------------------------------

    def _begin(self) -> None:
        now = self.clock()
        self.record = SessionRecord()
        self.alerts.reset()
        self.typed = {}
        self.corrections = []
        self.roster = Roster()
        self.roster.show_names = self.privacy.names
        self.error = None
        self.selected = None
        self.last = None
        self.stamp = session_stamp(now)
        self._csv_written = False
        if self.fixed_csv is not None:
            self.csv_path = self.fixed_csv
            self._csv_written = self.fixed_csv.exists() and self.fixed_csv.stat().st_size > 0
        elif self.sessions_dir is not None:
            self.csv_path = self.sessions_dir / session_file_name(now)
        else:
            self.csv_path = None

    def _run(self) -> RunParams:
        self.state = SessionState.RUNNING
        self.error = None
        self.run_id = next(self._run_ids)
        self.alerts.reset()
        per_student = self.privacy.per_student
        return RunParams(
            run_id=self.run_id, source=self.source, tuning=self.tuning,
            csv_path=self.csv_path if per_student else None, csv_append=self._csv_written,
            roster=self.roster, exclude=self.exclude, detector=self.settings.detector)

    def _tuning(self) -> Tuning:
        return Tuning(self.settings.rate, self.settings.smoothing_s, self.privacy.names)

    def _relabel(self) -> None:
        """Rename the badges of the last frame shown (a rename, a privacy switch); after a
        merge, a split or an undo, its rows are the students the record now says."""
        if self.last is None:
            return
        result = self.last.result
        ids = self.record.last_frame_students()
        if len(ids) == len(result) and ids != result.student_ids:
            result = dataclasses.replace(result, student_ids=ids)
        badges = badges_for(result, [self.name_of(s) for s in result.student_ids],
                            self.settings.uncertain_below) if self.privacy.per_student else []
        self.last = dataclasses.replace(self.last, result=result, badges=badges, alerts=[])

    def _alert_rules(self):
        rules = self.settings.alerts
        if not self.settings.privacy.per_student:  # no per-student alert
            rules = dataclasses.replace(rules, missing_enabled=False)
        return rules
