"""Alerts for the teacher: conditions that held long enough to be worth a glance. Qt-free.

Two rules, each fired once when its condition has held for its duration and re-armed when the
condition ends:

* the share of negative expressions among the visible faces is above a threshold for some
  seconds (``negative_share`` / ``negative_for_s``);
* a student's tile shows no face for more than some minutes (``face_missing_min``).

The engine takes one observation per analysed frame; times are seconds of any clock.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_desktop.session.summary import negative_share


class AlertKind(enum.Enum):
    """What an alert is about."""

    NEGATIVE_SHARE = "negative share"
    FACE_MISSING = "face missing"


@dataclass(frozen=True)
class AlertRules:
    """Thresholds of the alerts (a part of the app's settings).

    Attributes
    ----------
    negative_enabled : bool
        Whether the negative-share alert is on.
    negative_share : float
        Fraction of the visible faces (0..1) above which the class counts as negative.
    negative_for_s : float
        Seconds the share must stay above ``negative_share`` before the alert fires.
    missing_enabled : bool
        Whether the missing-face alert is on.
    face_missing_min : float
        Minutes a tile must show no face before the alert fires.
    """

    negative_enabled: bool = True
    negative_share: float = 0.5
    negative_for_s: float = 30.0
    missing_enabled: bool = True
    face_missing_min: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.negative_share <= 1.0:
            raise ValueError(f"negative_share must be in 0..1, got {self.negative_share}")
        if self.negative_for_s < 0 or self.face_missing_min < 0:
            raise ValueError("alert durations must not be negative")


@dataclass(frozen=True)
class Alert:
    """One alert.

    Attributes
    ----------
    kind : AlertKind
    t : float
        When it fired (the observation time, seconds of the caller's clock).
    text : str
        One sentence for the teacher; ``{student}`` stands for the student's name.
    student_id : int or None
        The student's id (:attr:`FrameResult.student_ids`) for :attr:`AlertKind.FACE_MISSING`.
    student : str
        The student's display name when the alert fired ("" for class alerts).
    """

    kind: AlertKind
    t: float
    text: str
    student_id: int | None = None
    student: str = ""

    @property
    def message(self) -> str:
        """The sentence with the student's name."""
        return self.message_for(self.student)

    def message_for(self, student: str) -> str:
        """The sentence naming the student ``student`` (another name, for an anonymous
        export)."""
        return self.text.replace("{student}", student)


class AlertEngine:
    """Turns per-frame observations into :class:`Alert` s according to :class:`AlertRules`.

    Parameters
    ----------
    rules : AlertRules
    """

    def __init__(self, rules: AlertRules | None = None):
        self.rules = rules or AlertRules()
        self._negative_since: float | None = None
        self._negative_fired = False
        self._missing_since: dict[int, float] = {}
        self._missing_fired: set[int] = set()

    def reset(self) -> None:
        """Forget every running condition (a pause, a new source or session)."""
        self._negative_since = None
        self._negative_fired = False
        self._missing_since.clear()
        self._missing_fired.clear()

    def set_rules(self, rules: AlertRules) -> None:
        """Use new thresholds from the next observation on (running conditions are kept)."""
        self.rules = rules

    def update(self, t: float, shares: np.ndarray, has_face: np.ndarray,
               names: Sequence[str], keys: Sequence[int] | None = None) -> list[Alert]:
        """Observe one analysed frame.

        Parameters
        ----------
        t : float
            Time of the frame, seconds (non-decreasing).
        shares : np.ndarray
            ``(7,)`` fraction of the visible faces per expression (all 0 without faces).
        has_face : np.ndarray
            ``(n,) bool`` per tile.
        names : sequence of str
            ``n`` display names, for the messages.
        keys : sequence of int, optional
            ``n`` student ids (default the tile indices): a student's missing face is timed
            across tile reflows, and forgotten when the student leaves the gallery.

        Returns
        -------
        list of Alert
            The alerts that fire at this frame (usually none).
        """
        out = []
        r = self.rules
        neg = float(negative_share(shares)) if np.any(has_face) else 0.0
        if r.negative_enabled and neg > r.negative_share:
            if self._negative_since is None:
                self._negative_since = t
            if not self._negative_fired and t - self._negative_since >= r.negative_for_s:
                self._negative_fired = True
                out.append(Alert(AlertKind.NEGATIVE_SHARE, t,
                                 f"{round(100 * neg)}% of the faces have looked negative for "
                                 f"{_duration(t - self._negative_since)}."))
        else:
            self._negative_since, self._negative_fired = None, False

        keys = list(range(len(has_face))) if keys is None else [int(k) for k in keys]
        present = set(keys)
        for key in [k for k in self._missing_since if k not in present]:  # left the gallery
            del self._missing_since[key]
            self._missing_fired.discard(key)
        for i, key in enumerate(keys):
            if has_face[i] or not r.missing_enabled:
                self._missing_since.pop(key, None)
                self._missing_fired.discard(key)
                continue
            since = self._missing_since.setdefault(key, t)
            if key not in self._missing_fired and t - since >= 60.0 * r.face_missing_min:
                self._missing_fired.add(key)
                out.append(Alert(AlertKind.FACE_MISSING, t,
                                 f"No face in {{student}}'s tile for {_duration(t - since)}.",
                                 key, names[i]))
        return out


def _duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min"``, ``"2 min 30 s"``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    return f"{m} min" if s == 0 else f"{m} min {s} s"
