"""What a session amounted to: the class mood index and a per-student summary of time shares.

Qt-free. The GUI summarises the session it recorded in memory; :func:`summarize_rows` gives the
same numbers for any session CSV (``fer-desktop analyze`` output included).

Time accounting: each analysed frame stands for the time until the next analysed frame of the
same student, at most ``max_gap_s`` (so a pause or a source switch does not count as observed
time); a student's last frame stands for the median interval of their other frames, and a lone
frame (a single image) for one second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from fer_desktop.labels import EMOTIONS, NEGATIVE, NUM_CLASSES, POSITIVE

#: Emotion code of a tile without a face (codes ``0..6`` index :data:`EMOTIONS`).
NO_FACE: int = -1
#: Emotion code of a tile whose camera is off (a name or a profile picture, no face).
CAMERA_OFF: int = -2

#: Students observed for less than this (or than half the longest observed, in a short session)
#: are not listed among the class in the report (a face that passed by, or a brief
#: misdetection), seconds; the files keep them.
MIN_LISTED_S: float = 10.0

#: Longest interval between two analyses counted as observed time, seconds.
MAX_GAP_S: float = 5.0

_POSITIVE = np.array([e in POSITIVE for e in EMOTIONS])
_NEGATIVE = np.array([e in NEGATIVE for e in EMOTIONS])


def class_mood(shares: np.ndarray) -> np.ndarray:
    """The class mood index: share of positive minus share of negative expressions.

    Parameters
    ----------
    shares : np.ndarray
        ``(..., 7)`` fractions in :data:`EMOTIONS` order (each row summing to 1, or all 0 when
        no face is visible).

    Returns
    -------
    np.ndarray
        ``(...)`` float, in ``-1..1`` (0 when no face is visible). Positive and negative are
        :data:`fer_desktop.labels.POSITIVE` / :data:`~fer_desktop.labels.NEGATIVE`.
    """
    shares = np.asarray(shares, np.float64)
    return shares[..., _POSITIVE].sum(axis=-1) - shares[..., _NEGATIVE].sum(axis=-1)


def negative_share(shares: np.ndarray) -> np.ndarray:
    """``(..., 7)`` shares -> ``(...)`` share of negative expressions, 0..1."""
    return np.asarray(shares, np.float64)[..., _NEGATIVE].sum(axis=-1)


@dataclass(frozen=True)
class StudentSummary:
    """Time a student was observed, split by expression.

    Attributes
    ----------
    student_id : int
        The student's id (0-based; :attr:`fer_desktop.analysis.pipeline.FrameResult.student_ids`).
    student : str
        Display name.
    observed_s : float
        Seconds observed (with or without a face).
    no_face_s : float
        Seconds their tile showed no face while their camera was on.
    emotion_s : np.ndarray
        ``(7,) float64`` seconds with each expression on top, :data:`EMOTIONS` order.
    camera_off_s : float
        Seconds their camera was off.
    """

    student_id: int
    student: str
    observed_s: float
    no_face_s: float
    emotion_s: np.ndarray
    camera_off_s: float = 0.0

    @property
    def face_s(self) -> float:
        """Seconds with a face."""
        return float(self.emotion_s.sum())

    @property
    def shares(self) -> np.ndarray:
        """``(7,)`` fraction of the observed time with each expression on top (with
        :attr:`no_face_share` they sum to 1; zeros when never observed)."""
        return self.emotion_s / self.observed_s if self.observed_s > 0 else np.zeros(NUM_CLASSES)

    @property
    def no_face_share(self) -> float:
        """Fraction of the observed time without a face, camera on."""
        return self.no_face_s / self.observed_s if self.observed_s > 0 else 0.0

    @property
    def camera_off_share(self) -> float:
        """Fraction of the observed time with the camera off (with :attr:`shares` and
        :attr:`no_face_share` they sum to 1)."""
        return self.camera_off_s / self.observed_s if self.observed_s > 0 else 0.0

    @property
    def top_emotion(self) -> str | None:
        """The expression seen longest; ``None`` when no face was ever seen."""
        return EMOTIONS[int(np.argmax(self.emotion_s))] if self.face_s > 0 else None

    def share_words(self, top: int = 2) -> list[str]:
        """The ``top`` largest expression shares, then the no-face and camera-off shares when
        there are any, as words: ``["happy 52%", "neutral 30%", "no face 18%"]``."""
        order = np.argsort(self.shares)[::-1][:top]
        words = [f"{EMOTIONS[i]} {round(100 * self.shares[i])}%" for i in order
                 if self.shares[i] > 0]
        if self.no_face_share > 0:
            words.append(f"no face {round(100 * self.no_face_share)}%")
        if self.camera_off_share > 0:
            words.append(f"camera off {round(100 * self.camera_off_share)}%")
        return words


def sample_weights(t: np.ndarray, max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Seconds each of a sequence of analyses stands for.

    Parameters
    ----------
    t : np.ndarray
        ``(m,)`` analysis times, seconds, non-decreasing.
    max_gap_s : float
        Cap of each interval, seconds.

    Returns
    -------
    np.ndarray
        ``(m,) float64``: the interval to the next analysis, capped; the last analysis gets the
        median of the others; a lone analysis (one image) counts as 1 s, at most ``max_gap_s``.
    """
    t = np.asarray(t, np.float64)
    if len(t) < 2:
        return np.full(len(t), min(1.0, max_gap_s))
    dt = np.minimum(np.diff(t), max_gap_s)
    return np.append(dt, np.median(dt))


def summarize(t: np.ndarray, student: np.ndarray, emotion: np.ndarray,
              names: Mapping[int, str] | None = None,
              max_gap_s: float = MAX_GAP_S) -> list[StudentSummary]:
    """Summarise per student.

    Parameters
    ----------
    t : np.ndarray
        ``(k,)`` time of each observation, seconds (any clock shared by all rows).
    student : np.ndarray
        ``(k,)`` int student id of each observation.
    emotion : np.ndarray
        ``(k,)`` int expression code: ``0..6`` (index into :data:`EMOTIONS`), :data:`NO_FACE`
        or :data:`CAMERA_OFF`.
    names : mapping of int to str, optional
        Display name per student id; default ``"Student N"`` (N = id + 1).
    max_gap_s : float
        See :func:`sample_weights`.

    Returns
    -------
    list of StudentSummary
        One per student seen, in id order.

    Raises
    ------
    ValueError
        If the arrays differ in length or an emotion code is out of range.
    """
    t = np.asarray(t, np.float64)
    student = np.asarray(student, np.int64)
    emotion = np.asarray(emotion, np.int64)
    if not len(t) == len(student) == len(emotion):
        raise ValueError(f"t, student and emotion differ in length: {len(t)}, {len(student)}, "
                         f"{len(emotion)}")
    if len(emotion) and (emotion.min() < CAMERA_OFF or emotion.max() >= NUM_CLASSES):
        raise ValueError("emotion codes must be -2 (camera off), -1 (no face) or 0..6")
    names = names or {}
    out = []
    for i in np.unique(student):
        mask = student == i
        order = np.argsort(t[mask], kind="stable")
        w = sample_weights(t[mask][order], max_gap_s)
        e = emotion[mask][order]
        emotion_s = np.bincount(e[e >= 0], weights=w[e >= 0], minlength=NUM_CLASSES)
        out.append(StudentSummary(
            student_id=int(i), student=names.get(int(i), f"Student {int(i) + 1}"),
            observed_s=float(w.sum()), no_face_s=float(w[e == NO_FACE].sum()),
            emotion_s=emotion_s.astype(np.float64), camera_off_s=float(w[e == CAMERA_OFF].sum())))
    return out


def summarize_rows(rows: Sequence[Mapping[str, str]],
                   max_gap_s: float = MAX_GAP_S) -> list[StudentSummary]:
    """:func:`summarize` a session CSV read with :func:`fer_desktop.session.export.read_csv`, one
    summary per value of its ``student`` column (a student keeps that name across tile
    reflows); ids number the students in order of first appearance.

    Raises
    ------
    ValueError
        If a row lacks a column of the schema or has an unknown emotion.
    """
    try:
        t = np.array([datetime.fromisoformat(r["timestamp"]).timestamp() for r in rows])
        order = {name: i for i, name in enumerate(dict.fromkeys(r["student"] for r in rows))}
        student = np.array([order[r["student"]] for r in rows], np.int64)
        emotion = np.array([EMOTIONS.index(r["emotion"]) if r["emotion"]
                            else CAMERA_OFF if r.get("state") == "camera off" else NO_FACE
                            for r in rows], np.int64)
    except KeyError as exc:
        raise ValueError(f"not a session CSV: no column {exc}") from None
    return summarize(t, student, emotion, {i: name for name, i in order.items()}, max_gap_s)


def listed_students(summaries: Sequence[StudentSummary]) -> list[StudentSummary]:
    """The students a report lists: observed for at least :data:`MIN_LISTED_S`, or half the
    longest observation when the session is shorter than that."""
    if not summaries:
        return []
    longest = max(s.observed_s for s in summaries)
    floor = min(MIN_LISTED_S, 0.5 * longest)
    return [s for s in summaries if s.observed_s >= floor]
