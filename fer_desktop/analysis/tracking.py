"""Follow faces that no tile names from frame to frame: every face of a room camera, a second
person sharing a participant's camera, a face the gallery's tiles do not cover. Qt-free.

A face found in a frame continues the track it best fits by place and look: its centre within
about one face size of where the track was last seen (more the longer it has been missed),
its size within a factor 2, and its look (a small colour thumbnail) not too different. Each
face goes to at most one track, the closest pairs first; a face that fits no track starts a new
one with a new student id. A track that is missed (a face turned away, someone walking in
front) keeps its id for ``max_age_s`` seconds and is reported as lost meanwhile, so the student
stays in the list as "no face" and takes up their track again when their face is found.
Sizes may differ by a factor 2: the Haar cascade boxes one face at different scales from one
search to the next.

This is the greedy association of SORT-like trackers (Bewley et al., ICIP 2016) with the
appearance gate of DeepSORT (Wojke et al., ICIP 2017) reduced to a colour thumbnail, without a
motion model: seated students hardly move, and the detector's misses, not motion, are what a
track must survive. Libraries that offer this (``supervision``'s ByteTrack, ``norfair``,
``motpy``) bring scipy, matplotlib and, for supervision, PyAV into the app (about 150 MB of a
bundle that is otherwise about 300 MB) for these hundred lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.boxes import centres
from fer_desktop.analysis.cvutil import thumbnail
from fer_desktop.analysis.faces import Faces

THUMB = (8, 8)


def face_thumbnails(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(k, 8, 8, 3) float32`` colour thumbnails of the ``(k, 4)`` xywh face boxes of a BGR
    image, each of the face and what is around it (the box grown by half its size each way:
    hair, collar, the wall behind), which tells two people apart better than the face alone at
    8x8 pixels."""
    out = np.zeros((len(boxes), THUMB[1], THUMB[0], 3), np.float32)
    H, W = image.shape[:2]
    for i, (x, y, w, h) in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
        x0, y0 = int(max(0, x - 0.5 * w)), int(max(0, y - 0.5 * h))
        x1, y1 = int(min(W, x + 1.5 * w)), int(min(H, y + 1.5 * h))
        if x1 > x0 and y1 > y0:
            out[i] = thumbnail(image[y0:y1, x0:x1], THUMB)
    return out


@dataclass
class Track:
    """One followed face.

    Attributes
    ----------
    student : int
        The student id the track was given.
    box : np.ndarray
        ``(4,) float64`` last face box, xywh frame pixels.
    thumb : np.ndarray
        ``(8, 8, 3) float32`` last look.
    seen : float
        When the face was last found, seconds (the source's clock).
    fixed : bool
        Whether its id was last given by a tile (``fixed`` in :meth:`FaceTracker.update`).
    """

    student: int
    box: np.ndarray
    thumb: np.ndarray
    seen: float
    fixed: bool = False


class FaceTracker:
    """Student ids for the faces of successive frames.

    Parameters
    ----------
    new_id : callable
        Returns a new student id (shared with the tiles' :class:`fer_desktop.analysis.roster.Roster`,
        so that ids never clash).
    max_age_s : float
        Seconds a missed track keeps its id.
    max_shift : float
        Largest move of a face between two frames, in face sizes; it grows by ``drift``
        face sizes per second the track has been missed (up to 3).
    drift : float
        See ``max_shift``.
    max_look : float
        Largest mean absolute difference of two faces' thumbnails (grey levels, 0..255).
    """

    def __init__(self, new_id: Callable[[], int], max_age_s: float = 8.0,
                 max_shift: float = 1.0, drift: float = 0.25, max_look: float = 45.0):
        self.new_id = new_id
        self.max_age_s = float(max_age_s)
        self.max_shift = float(max_shift)
        self.drift = float(drift)
        self.max_look = float(max_look)
        self.tracks: list[Track] = []

    def reset(self) -> None:
        """Forget every track (a new source: places mean nothing there)."""
        self.tracks = []

    def rename(self, old: int, new: int) -> None:
        """The faces followed as student ``old`` are student ``new`` from now on (a merge or a
        split by the teacher); when ``new`` is followed already, ``old``'s track is dropped."""
        if any(tr.student == new for tr in self.tracks):
            self.tracks = [tr for tr in self.tracks if tr.student != old]
        for tr in self.tracks:
            if tr.student == old:
                tr.student = new

    def _associate(self, boxes: np.ndarray, thumbs: np.ndarray, t: float,
                   close: np.ndarray | None = None) -> np.ndarray:
        """``(k,) int64``: for each face the index in :attr:`tracks` it continues, or -1 (the
        closest pairs first, each track at most once). ``close``, a ``(k,) bool`` array, is set
        where the pair is very close: seen within a second, moved by a third of a face at most
        and looking nearly the same (8x8 thumbnails within 30 grey levels)."""
        out = np.full(len(boxes), -1, np.int64)
        tracks = [tr for tr in self.tracks if 0 <= t - tr.seen <= self.max_age_s]
        if not tracks or not len(boxes):
            return out
        tb = np.array([tr.box for tr in tracks])
        age = np.array([t - tr.seen for tr in tracks])
        size = tb[:, 2:].mean(axis=1)
        dc = centres(boxes)[None] - centres(tb)[:, None]
        shift = np.hypot(dc[..., 0], dc[..., 1]) / size[:, None]
        ratio = boxes[None, :, 2:].mean(axis=2) / size[:, None]
        look = np.abs(np.array([tr.thumb for tr in tracks])[:, None]
                      - np.asarray(thumbs, np.float32)[None]).mean(axis=(2, 3, 4))
        reach = np.minimum(3.0, self.max_shift + self.drift * age)[:, None]
        ok = (shift <= reach) & (ratio >= 0.5) & (ratio <= 2.0) & (look <= self.max_look)
        cost = shift + look / self.max_look
        used: set[int] = set()
        index = {id(tr): k for k, tr in enumerate(self.tracks)}
        for k in np.argsort(np.where(ok, cost, np.inf), axis=None, kind="stable"):
            i, j = divmod(int(k), len(boxes))
            if not ok[i, j]:
                break
            if i in used or out[j] >= 0:
                continue
            used.add(i)
            out[j] = index[id(tracks[i])]
            if close is not None:
                close[j] = age[i] <= 1.0 and shift[i, j] <= 0.35 and look[i, j] <= 30.0
        return out

    def match(self, faces: Faces | np.ndarray, thumbs: np.ndarray, t: float,
              close_only: bool = False) -> np.ndarray:
        """The student id each face would continue, among the faces followed here, and among
        those last given their id by a tile only when the face is very close to where and how
        it was a moment ago (a tile that moved around a seated student: a room's row taken for
        tiles); -1 for none. With ``close_only``, only the very close continuations count (for
        a tile: after a gap, another person may sit where someone sat, in a room that looks
        alike). Nothing is changed. Parameters are as in :meth:`update`. Returns ``(k,) int64``."""
        boxes = _boxes_of(faces)
        close = np.zeros(len(boxes), bool)
        k = self._associate(boxes, thumbs, t, close)
        return np.array([self.tracks[i].student if i >= 0 and (
            close[j] or not (self.tracks[i].fixed or close_only)) else -1
            for j, i in enumerate(k)], np.int64)

    def update(self, faces: Faces | np.ndarray, thumbs: np.ndarray, t: float,
               fixed=None, again=None, claimed=()) -> tuple[Faces, list[Track]]:
        """Follow one frame's faces.

        Parameters
        ----------
        faces : Faces or np.ndarray
            The frame's faces (or their ``(k, 4)`` xywh boxes), frame pixels.
        thumbs : np.ndarray
            ``(k, 8, 8, 3) float32`` their :func:`face_thumbnails`.
        t : float
            Time of the frame, seconds (the source's clock).
        fixed : sequence of int or None, optional
            ``k`` student ids decided elsewhere (a tile's participant, known by the name on the
            tile), None for the faces to follow here. A fixed face's track takes that id, so
            that the student keeps it if the tile is lost and the face is followed alone.
        again : dict of int to int, optional
            Faces that start a new track with the id of a student seen earlier (re-identified
            by :meth:`fer_desktop.analysis.roster.Roster.reidentify`) instead of a new id.
        claimed : collection of int
            Students shown by a tile in this frame (with or without their face): no other face
            continues their track.

        Returns
        -------
        faces : Faces
            The same faces with ``student`` set.
        lost : list of Track
            The tracks missed in this frame that still keep their id, by student id, but for
            those last seen as a tile's participant (a participant who leaves a gallery is
            gone; a face missed in a room is still there).

        Raises
        ------
        ValueError
            If ``boxes``, ``thumbs`` and ``fixed`` differ in length.
        """
        given = faces if isinstance(faces, Faces) else Faces(np.asarray(faces).reshape(-1, 4))
        boxes = _boxes_of(given)
        fixed = [None] * len(boxes) if fixed is None else list(fixed)
        if len(thumbs) != len(boxes) or len(fixed) != len(boxes):
            raise ValueError("boxes, thumbs and fixed must have the same length")
        # forget tracks missed for too long; a clock that went back (a new source) forgets all
        self.tracks = [tr for tr in self.tracks if 0 <= t - tr.seen <= self.max_age_s]
        which = self._associate(boxes, thumbs, t)
        ids = np.full(len(boxes), -1, np.int64)
        by_student = {tr.student: tr for tr in self.tracks}
        for j, sid in enumerate(fixed):
            if sid is None:
                continue
            tr = by_student.get(int(sid))
            if tr is None and which[j] >= 0:
                tr = self.tracks[which[j]]  # the face's track now belongs to the tile's student
                by_student.pop(tr.student, None)
                tr.student = int(sid)
                by_student[tr.student] = tr
            if tr is None:
                tr = Track(int(sid), boxes[j].copy(), np.asarray(thumbs[j], np.float32), t)
                self.tracks.append(tr)
                by_student[tr.student] = tr
            tr.box, tr.thumb, tr.seen = boxes[j].copy(), np.asarray(thumbs[j], np.float32), t
            tr.fixed = True
            ids[j] = tr.student
        for j in range(len(boxes)):
            if ids[j] >= 0 or fixed[j] is not None or which[j] < 0:
                continue
            tr = self.tracks[which[j]]
            if tr.seen == t or tr.student in claimed:  # taken by a fixed face, or a tile's
                continue
            tr.box, tr.thumb, tr.seen = boxes[j].copy(), np.asarray(thumbs[j], np.float32), t
            tr.fixed = False
            ids[j] = tr.student
        again = again or {}
        for j in np.flatnonzero(ids < 0):
            sid = int(again[j]) if j in again else int(self.new_id())
            if j in again:  # the student's old track, if still kept, is this one now
                self.tracks = [tr for tr in self.tracks if tr.student != sid]
            ids[j] = sid
            self.tracks.append(Track(sid, boxes[j].copy(), np.asarray(thumbs[j], np.float32), t))
        lost = sorted((tr for tr in self.tracks if tr.seen < t and not tr.fixed),
                      key=lambda tr: tr.student)
        return given.with_(student=ids.astype(np.int32)), lost


def _boxes_of(faces: Faces | np.ndarray) -> np.ndarray:
    """``(k, 4) float64`` boxes of a :class:`Faces` or of an array of boxes."""
    boxes = faces.boxes if isinstance(faces, Faces) else faces
    return np.asarray(boxes, np.float64).reshape(-1, 4)
