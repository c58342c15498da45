"""Alerts for the teacher: conditions that held long enough to be worth a glance. Qt-free.

Two rules, each fired once when its condition has held for its duration:

* the share of negative expressions among the visible faces is above a threshold for some
  seconds (``negative_share`` / ``negative_for_s``); it fires again only after the share has
  stayed at or below the threshold as long (a share hovering about the threshold is one
  episode, not an alert every few minutes);
* a student shows no face for more than some minutes (``face_missing_min``); re-armed when the
  face is back. A camera-off student is not missing a face: their camera is off.

The engine takes one observation per analysed frame; times are seconds of any clock. A gap of
more than :data:`GAP_S` between observations (a pause) restarts the timers, not the episodes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fer_desktop.session.bounds import Bounds
from fer_desktop.session.summary import negative_share


#: Seconds without observation after which running conditions start over.
GAP_S = 10.0

#: The alert thresholds' bounds (:class:`AlertRules` checks them, the settings dialog shows them).
NEGATIVE_SHARE = Bounds(0.0, 1.0, 0.05, 0, "%")
NEGATIVE_FOR_S = Bounds(0.0, 3600.0, 5.0, 0, " s")
FACE_MISSING_MIN = Bounds(0.0, 120.0, 0.5, 1, " min")


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
        Fraction of the visible faces (:data:`NEGATIVE_SHARE`, 0..1) above which the class
        counts as negative.
    negative_for_s : float
        Seconds (:data:`NEGATIVE_FOR_S`) the share must stay above ``negative_share`` before
        the alert fires.
    missing_enabled : bool
        Whether the missing-face alert is on.
    face_missing_min : float
        Minutes (:data:`FACE_MISSING_MIN`) a tile must show no face before the alert fires.
    """

    negative_enabled: bool = True
    negative_share: float = 0.5
    negative_for_s: float = 30.0
    missing_enabled: bool = True
    face_missing_min: float = 2.0

    def __post_init__(self) -> None:
        NEGATIVE_SHARE.check("negative_share", self.negative_share)
        NEGATIVE_FOR_S.check("negative_for_s", self.negative_for_s)
        FACE_MISSING_MIN.check("face_missing_min", self.face_missing_min)


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
        self.reset()

    def reset(self) -> None:
        """Forget every condition and episode (a new session)."""
        self._negative_since: float | None = None
        self._calm_since: float | None = None
        self._negative_fired = False
        self._missing_since: dict[int, float] = {}
        self._missing_fired: set[int] = set()
        self._last_t: float | None = None

    def set_rules(self, rules: AlertRules) -> None:
        """Use new thresholds from the next observation on (running conditions are kept)."""
        self.rules = rules

    def update(self, t: float, shares: np.ndarray, has_face: np.ndarray,
               names: Sequence[str], keys: Sequence[int] | None = None,
               states: Sequence | None = None) -> list[Alert]:
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
        states : sequence of TileState, optional
            ``n`` states; a camera-off student is never missing a face.

        Returns
        -------
        list of Alert
            The alerts that fire at this frame (usually none).
        """
        out = []
        r = self.rules
        if self._last_t is not None and t - self._last_t > GAP_S:  # a pause: timers restart
            self._negative_since = self._calm_since = None
            self._missing_since.clear()
        self._last_t = t
        neg = float(negative_share(shares)) if np.any(has_face) else 0.0
        if r.negative_enabled and neg > r.negative_share:
            self._calm_since = None
            if self._negative_since is None:
                self._negative_since = t
            if not self._negative_fired and t - self._negative_since >= r.negative_for_s:
                self._negative_fired = True
                out.append(Alert(AlertKind.NEGATIVE_SHARE, t,
                                 f"{round(100 * neg)}% of the faces have looked negative for "
                                 f"{_duration(t - self._negative_since)}."))
        else:
            self._negative_since = None
            if self._calm_since is None:
                self._calm_since = t
            if t - self._calm_since >= r.negative_for_s:
                self._negative_fired = False  # the episode is over

        keys = list(range(len(has_face))) if keys is None else [int(k) for k in keys]
        off = [getattr(st, "value", st) == "camera off" for st in states] if states is not None \
            else [False] * len(keys)
        present = set(keys)
        for key in [k for k in self._missing_since if k not in present]:  # left the gallery
            del self._missing_since[key]
            self._missing_fired.discard(key)
        for i, key in enumerate(keys):
            if has_face[i] or off[i] or not r.missing_enabled:
                self._missing_since.pop(key, None)
                self._missing_fired.discard(key)
                continue
            since = self._missing_since.setdefault(key, t)
            if key not in self._missing_fired and t - since >= 60.0 * r.face_missing_min:
                self._missing_fired.add(key)
                out.append(Alert(AlertKind.FACE_MISSING, t,
                                 f"No face of {{student}} for {_duration(t - since)}.",
                                 key, names[i]))
        return out


def _duration(seconds: float) -> str:
    """``"45 s"``, ``"3 min"``, ``"2 min 30 s"``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    return f"{m} min" if s == 0 else f"{m} min {s} s"
