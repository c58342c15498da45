"""Who is in which tile: persistent student ids across frames whose tiles reflow. Qt-free.

Tiles move when people join or leave, when the app pages or switches views; a student's history
(smoothing, timeline, CSV rows) must follow the person, not the tile. :class:`Roster` gives each
frame's tiles student ids:

1. by the name read from the tile's label (:mod:`fer_desktop.analysis.names`): a name seen before
   gets its old id, also after the person left and came back. Names are compared loosely
   (:func:`name_key`, and one edit apart for names of four letters or more where the edit is one OCR makes: a
   letter confused for a look-alike, or one dropped or added inside a word; an initial is
   never changed, so Ana H. and Ana V. are two students); a student is shown under their most
   frequent reading;
2. a tile without a (known) name whose face continues a student followed by their face alone (a
   hint from :class:`fer_desktop.analysis.tracking.FaceTracker`: a room's row of people taken
   for tiles);
3. by continuity with the last frames: the same place and look, or the same look elsewhere (a
   small colour thumbnail of the tile; not for plain camera-off cards, which all look alike);
4. by re-identification: a tile whose face looks like a student seen earlier in the session and
   absent from this frame (:mod:`fer_desktop.analysis.appearance`: the face and what surrounds
   it, whatever the tile's size and place; after a slide, another page, a source switch) gets
   their id, when that student is clearly the closest (when unsure, a new id is better than a
   wrong one);
5. anyone else is new and gets the next id, shown as "Student N" (N = id + 1) until a name is read.

The students' signatures are a bounded gallery: at most :data:`EXEMPLARS` per student.

On the first frame ids follow the tiles in row-major order, so without names the students are
"Student 1..n" as the tiles are numbered.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fer_desktop.analysis import appearance
from fer_desktop.analysis.boxes import iou
from fer_desktop.analysis.cvutil import thumbnail
from fer_desktop.analysis.students import student_name

THUMB_SIZE = (12, 7)  # (w, h) of the appearance thumbnail
#: Signatures kept per student (the first, and the latest that differ from those kept).
EXEMPLARS = 6
#: How much closer the best student must be than the second best to be re-identified.
MARGIN = 0.05
#: Re-identification of a camera-off card or profile photo: at most this far, and this much
#: closer than any other (two phone call-in cards differ by 0.19).
CARD_SAME, CARD_MARGIN = 0.1, 0.1
#: A tile whose thumbnail changed by more than this (grey levels) continues a student by place
#: only if its face is theirs too (:data:`appearance.SAME`).
CHANGED = 12.0


def tile_thumbnails(image: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """``(n, 7, 12, 3) float32`` colour thumbnails of ``(n, 4)`` xywh tiles of a BGR image."""
    out = np.zeros((len(tiles), THUMB_SIZE[1], THUMB_SIZE[0], 3), np.float32)
    for i, (x, y, w, h) in enumerate(np.asarray(tiles, np.int64).reshape(-1, 4)):
        crop = image[max(0, y):y + h, max(0, x):x + w]
        if crop.size:
            out[i] = thumbnail(crop, THUMB_SIZE)
    return out


_CONFUSABLE = str.maketrans({"l": "i", "1": "i", "|": "i", "!": "i", "0": "o"})


def name_key(name: str) -> str:
    """``name`` folded for comparison: case and spacing ignored, OCR look-alikes (``I l 1 |``,
    ``O 0``) merged."""
    return " ".join(name.casefold().translate(_CONFUSABLE).split())


#: Letter pairs OCR confuses in name labels (after :func:`name_key`'s folding of ``I l 1 |``
#: and ``O 0``); another letter substituted needs the tile to look the same too.
_OCR_PAIRS = frozenset(frozenset(p) for p in ("ce", "co", "eo", "ij", "ir", "it", "ft", "uv",
                                              "hn", "hb"))


def _word_at(s: str, i: int) -> str:
    """The word of ``s`` that holds position ``i``."""
    start = s.rfind(" ", 0, i) + 1
    end = s.find(" ", i)
    return s[start:end if end >= 0 else len(s)]


def _ocr_variant(a: str, b: str) -> int | None:
    """How folded names ``a`` and ``b`` can be two OCR readings of one label: 0 equal; 1 one
    edit OCR makes (a letter for its look-alike, :data:`_OCR_PAIRS`, or a letter or mark
    dropped or added inside a word of three letters or more); 2 another letter substituted
    inside such a word (a misreading only if the tile also looks the same); None otherwise.
    An initial (a word of one letter, with or without its dot) is never changed: "Ana H." and
    "Ana V." are two people."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > 1 or a.count(" ") != b.count(" "):
        return None
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):  # one substitution
        if a[i + 1:] != b[i + 1:] or len(_word_at(b, i).rstrip(".")) < 3:
            return None
        return 1 if frozenset((a[i], b[i])) in _OCR_PAIRS else 2
    if a[i:] != b[i + 1:]:  # one letter added to the shorter
        return None
    return 1 if not b[i].isalnum() or len(_word_at(b, i).rstrip(".")) >= 3 else None


@dataclass
class _Member:
    box: np.ndarray
    thumb: np.ndarray
    seen: int  # frame counter when last seen
    readings: Counter = field(default_factory=Counter)
    sigs: list = field(default_factory=list)  # appearance signatures (EXEMPLARS at most)
    shown: Counter = field(default_factory=Counter)  # readings made while names may be shown

    @property
    def read_name(self) -> str | None:
        """The name shown: the most frequent reading made while names could be shown."""
        return self.shown.most_common(1)[0][0] if self.shown else None

    def remember(self, sig: np.ndarray | None) -> None:
        """Keep ``sig`` when it differs from the signatures kept (the first stays)."""
        if sig is None:
            return
        if self.sigs and float(appearance.distance(sig, np.stack(self.sigs)).min()) < 0.05:
            return
        self.sigs.append(np.asarray(sig, np.float32))
        if len(self.sigs) > EXEMPLARS:
            del self.sigs[1]


class Roster:
    """Student ids for the tiles of successive frames.

    Parameters
    ----------
    max_distance : float
        Largest mean absolute difference of appearance thumbnails (grey levels, 0..255) for a
        tile to continue a student seen elsewhere.
    same_place_distance : float
        Largest difference for a tile at the same place (IoU >= 0.8) as a student's last tile.
    memory_frames : int
        Analysed frames after which a student can no longer be continued by place and look
        (a tile missed in one frame); after a longer absence (a slide, a source switch) only
        their name or their appearance (re-identification) gives them their id back: another
        person sitting where they sat in a similar room looks alike at this scale.
    """

    def __init__(self, max_distance: float = 20.0, same_place_distance: float = 45.0,
                 memory_frames: int = 2):
        self.max_distance = max_distance
        self.same_place_distance = same_place_distance
        self.memory_frames = memory_frames
        self._members: list[_Member] = []
        self._by_key: dict[str, int] = {}
        self._frame = 0
        #: Whether names read now may be shown (the privacy mode): a name read while they may
        #: not still tells students apart, but is never shown nor written, even later.
        self.show_names = True
        self._alias: dict[int, int] = {}  # merged student -> the student they are
        self._redirects: dict[int, int] = {}  # split: followed faces of a student -> new id
        self.lock = threading.RLock()  # the teacher's edits (GUI thread) vs the analysis

    def __len__(self) -> int:
        """Students seen so far."""
        return len(self._members)

    def reset(self) -> None:
        """Forget every student (a new class)."""
        self.__init__(self.max_distance, self.same_place_distance, self.memory_frames)

    def name(self, student: int) -> str:
        """The name read for ``student`` while names could be shown, else "Student N"
        (N = id + 1)."""
        student = self.canonical(student)
        if 0 <= student < len(self._members) and self._members[student].read_name:
            return self._members[student].read_name
        return student_name(student)

    def read_name(self, student: int) -> str | None:
        """The name read for ``student`` while names could be shown, or None."""
        student = self.canonical(student)
        return self._members[student].read_name if 0 <= student < len(self._members) else None

    # -- the teacher's corrections ---------------------------------------------------------------

    def canonical(self, student: int) -> int:
        """The student ``student`` is (itself, or the one it was merged into)."""
        seen = set()
        while student in self._alias and student not in seen:
            seen.add(student)
            student = self._alias[student]
        return student

    def merge(self, keep: int, gone: int) -> object:
        """``gone`` is ``keep``: from now on the analysis gives ``keep``'s id to whoever it
        would have given ``gone``'s, and ``keep`` is known by both students' names and looks.
        Returns what :meth:`unmerge` needs to undo it.

        Raises
        ------
        ValueError
            For an unknown id, or a student merged with itself.
        """
        with self.lock:
            keep, gone = self.canonical(keep), self.canonical(gone)
            if keep == gone or min(keep, gone) < 0:
                raise ValueError(f"cannot merge students {keep} and {gone}")
            self._ensure(max(keep, gone))
            k, g = self._members[keep], self._members[gone]
            saved = (keep, gone, Counter(k.readings), Counter(k.shown), list(k.sigs),
                     {key: sid for key, sid in self._by_key.items() if sid == gone})
            k.readings.update(g.readings)
            k.shown.update(g.shown)
            for sig in g.sigs:
                k.remember(sig)
            for key, sid in list(self._by_key.items()):
                if sid == gone:
                    self._by_key[key] = keep
            self._alias[gone] = keep
            self._redirects[gone] = keep
            return saved

    def reserve(self, student: int) -> None:
        """Know every id up to ``student`` (ids recorded elsewhere: a replayed session), so
        that a new id never clashes with one."""
        with self.lock:
            self._ensure(student)

    def _ensure(self, student: int) -> None:
        """Members up to id ``student`` (ids given elsewhere, e.g. a replayed session)."""
        while len(self._members) <= student:
            self.new_student()

    def unmerge(self, saved) -> None:
        """Undo a :meth:`merge` (``saved`` is what it returned)."""
        with self.lock:
            keep, gone, readings, shown, sigs, keys = saved
            k = self._members[keep]
            k.readings, k.shown, k.sigs = readings, shown, sigs
            self._by_key.update(keys)
            self._alias.pop(gone, None)

    def split(self, student: int) -> int:
        """The person shown as ``student`` now is someone else: they get a new id from now on
        (the faces followed as ``student`` are handed over at the next frame), and ``student``
        is known again only by its earlier looks. Returns the new id.

        Raises
        ------
        ValueError
            For an unknown id.
        """
        with self.lock:
            student = self.canonical(student)
            if student < 0:
                raise ValueError(f"no student {student}")
            self._ensure(student)
            old = self._members[student]
            new = len(self._members)
            self._members.append(_Member(old.box.copy(), old.thumb.copy(), old.seen,
                                         sigs=old.sigs[-1:] if len(old.sigs) > 1 else []))
            if len(old.sigs) > 1:
                old.sigs.pop()
            old.seen = -(1 << 30)  # no continuity by place: the tile shows the new person
            self._redirects[student] = new
            return new

    def unsplit(self, student: int, new: int) -> None:
        """Undo a :meth:`split`: ``new`` is ``student`` again."""
        with self.lock:
            self._redirects.pop(student, None)
            self._members[student].seen = self._members[new].seen
            self._members[student].sigs.extend(self._members[new].sigs)
            self._alias[new] = student

    def take_redirects(self) -> dict[int, int]:
        """The splits not yet applied to the faces followed (the analysis takes them once)."""
        with self.lock:
            out, self._redirects = self._redirects, {}
            return out

    def new_student(self) -> int:
        """A new student id for someone known by place and look only (a face followed by
        :class:`fer_desktop.analysis.tracking.FaceTracker`): numbered like the tiles' students,
        never continued by a tile."""
        self._members.append(_Member(np.zeros(4), np.zeros((THUMB_SIZE[1], THUMB_SIZE[0], 3),
                                                           np.float32), -(1 << 30)))
        return len(self._members) - 1

    def student_for_name(self, name: str, thumb: np.ndarray | None = None) -> int | None:
        """Id of the student whose label read ``name``, if any: the same name, or one OCR can
        misread it as (:func:`_ocr_variant`; for names of four letters or more). A letter
        substituted that OCR does not usually confuse needs the tile to look the same too
        (``thumb``, as :func:`tile_thumbnails`, within ``same_place_distance``)."""
        key = name_key(name)
        if key in self._by_key:
            return self._by_key[key]
        if len(key) < 4:
            return None
        weak = None
        for other, sid in self._by_key.items():
            if len(other) < 4:
                continue
            how = _ocr_variant(key, other)
            if how == 1:
                return sid
            if (how == 2 and weak is None and thumb is not None
                    and float(np.abs(thumb - self._members[sid].thumb).mean())
                    <= self.same_place_distance):
                weak = sid
        return weak

    def reidentify(self, sig: np.ndarray, exclude=(), name: str | None = None,
                   same: float | None = None, margin: float = MARGIN) -> int | None:
        """The student seen earlier whom signature ``sig`` (:func:`appearance.signatures`) shows
        again, or None: the closest student by :func:`appearance.distance` (over their kept
        signatures) within :data:`appearance.SAME` and :data:`MARGIN` closer than any other,
        not in ``exclude`` (those on screen now), and unless ``name`` is another student's."""
        best, second, who = np.inf, np.inf, None
        for k, m in enumerate(self._members):
            if k in exclude or not m.sigs or k in self._alias:
                continue
            if name and self.student_for_name(name) not in (None, k):
                continue  # the name of someone else (a name not seen yet may be a misreading)
            d = float(appearance.distance(sig, np.stack(m.sigs)).min())
            if d < best:
                best, second, who = d, best, k
            elif d < second:
                second = d
        same = appearance.SAME if same is None else same
        if who is not None and best <= same and second - best >= margin:
            return who
        return None

    def remember(self, student: int, sig: np.ndarray | None) -> None:
        """Keep a signature of ``student`` (a face followed outside the tiles)."""
        if 0 <= student < len(self._members):
            self._members[student].remember(sig)

    def needs_signature(self, student: int) -> bool:
        """Whether fewer than two signatures of ``student`` are kept (a new face)."""
        return 0 <= student < len(self._members) and len(self._members[student].sigs) < 2

    def assign(self, tiles: np.ndarray, names: Sequence[str | None],
               thumbs: np.ndarray, hints: Sequence[int] | None = None,
               sig_of=None, elsewhere=(), faceless=()) -> tuple[int, ...]:
        """Student ids of one frame's tiles.

        Parameters
        ----------
        tiles : np.ndarray
            ``(n, 4)`` tile boxes, xywh.
        names : sequence of str or None
            ``n`` names read from the labels (None where none was read).
        thumbs : np.ndarray
            ``(n, h, w, 3) float32`` thumbnails (:func:`tile_thumbnails`).
        hints : sequence of int, optional
            ``n`` student ids whose face the tile's best face continues (from
            :meth:`fer_desktop.analysis.tracking.FaceTracker.match`, which hints only students
            followed by their face alone; -1 for none): a tile without a known name takes that student's id
            before any match by place and look, so a student followed by their face keeps
            their id when a tile is drawn around them.
        sig_of : callable, optional
            ``i -> (SIZE,) float32`` signature of tile ``i``'s face, or None without a face
            (:func:`appearance.signatures`; called only for the tiles that need it): enables
            re-identification and keeps each student's signatures.
        elsewhere : collection of int
            Students on screen in this frame outside these tiles (faces followed alone): never
            re-identified in a tile.
        faceless : collection of int
            The tiles without a face (camera-off cards, profile photos): their signature is what
            the card shows (:func:`appearance.tile_signature`), and cards look much alike, so
            they are re-identified only when very close (:data:`CARD_SAME`) and far closer than
            any other (:data:`CARD_MARGIN`).

        Returns
        -------
        tuple of int
            ``n`` distinct student ids (0-based).
        """
        with self.lock:
            return self._assign(tiles, names, thumbs, hints, sig_of, elsewhere, set(faceless))

    def _assign(self, tiles, names, thumbs, hints, sig_of, elsewhere, faceless
                ) -> tuple[int, ...]:
        """See :meth:`assign`."""
        tiles = np.asarray(tiles).reshape(-1, 4)
        n = len(tiles)
        if len(names) != n or len(thumbs) != n:
            raise ValueError("tiles, names and thumbs must have the same length")
        self._frame += 1
        ids: list[int | None] = [None] * n
        used: set[int] = set()
        taken = {int(e) for e in elsewhere}  # on screen outside these tiles
        for exact in (True, False):  # 1. known names: as read, then as OCR misreads them
            for i, name in enumerate(names):
                if ids[i] is not None or not name:
                    continue
                sid = (self._by_key.get(name_key(name)) if exact
                       else self.student_for_name(name, thumbs[i]))
                if sid is not None and sid not in used and sid not in taken:
                    ids[i] = sid
                    used.add(sid)
        for i, hint in enumerate(hints if hints is not None else ()):  # 2. their face
            if (ids[i] is None and 0 <= hint < len(self._members) and hint not in used
                    and not (names[i] and self._members[hint].readings
                             and self.student_for_name(names[i], thumbs[i]) != hint)):
                ids[i] = int(hint)
                used.add(int(hint))
        # 3. continuity by place and look with students seen lately
        recent = [k for k, m in enumerate(self._members)
                  if k not in used and k not in taken and k not in self._alias
                  and self._frame - m.seen <= self.memory_frames]
        pairs = []
        sigs: dict[int, np.ndarray | None] = {}

        def sig(i: int) -> np.ndarray | None:
            if i not in sigs:
                sigs[i] = sig_of(i) if sig_of is not None else None
            return sigs[i]

        for i in (i for i in range(n) if ids[i] is None):
            for k in recent:
                m = self._members[k]
                if names[i] and m.readings and self.student_for_name(names[i], thumbs[i]) != k:
                    continue  # another name: another person
                d = float(np.abs(thumbs[i] - m.thumb).mean())
                same_place = _iou(tiles[i], m.box) >= 0.8
                if not same_place and (_plain(thumbs[i]) or _plain(m.thumb)):
                    continue  # camera-off cards look alike: only their place tells them apart
                if d > (self.same_place_distance if same_place else self.max_distance):
                    continue
                if d > CHANGED and m.sigs and sig(i) is not None and float(
                        appearance.distance(sig(i), np.stack(m.sigs)).min()) > appearance.SAME:
                    continue  # the tile changed, and its face is someone else's
                pairs.append((d * (0.5 if same_place else 1.0), i, k))
        for _, i, k in sorted(pairs):
            if ids[i] is None and k not in used:
                ids[i] = k
                used.add(k)
        if sig_of is not None:  # 4. re-identification by appearance
            claims: dict[int, list[int]] = {}
            for i in range(n):
                if ids[i] is not None or sig(i) is None:
                    continue
                if i in faceless:
                    sid = self.reidentify(sigs[i], used | taken, names[i], CARD_SAME,
                                          CARD_MARGIN)
                else:
                    sid = self.reidentify(sigs[i], used | taken, names[i])
                if sid is not None:
                    claims.setdefault(sid, []).append(i)
            for sid, tiles_of in claims.items():
                if len(tiles_of) == 1:  # two tiles that both look like one student: neither
                    ids[tiles_of[0]] = sid
                    used.add(sid)
        for i in range(n):  # a student merged into another is that other (once a frame)
            if ids[i] is not None and self.canonical(ids[i]) != ids[i]:
                keep = self.canonical(ids[i])
                ids[i] = keep if keep not in ids and keep not in taken else None
        for i in range(n):  # 5. new students
            if ids[i] is None:
                ids[i] = len(self._members)
                self._members.append(_Member(tiles[i].copy(), thumbs[i].copy(), 0))
        for i, sid in enumerate(ids):
            m = self._members[sid]
            m.box, m.thumb, m.seen = tiles[i].copy(), thumbs[i].copy(), self._frame
            if sig_of is not None and (i in sigs or len(m.sigs) < 2):
                m.remember(sigs[i] if i in sigs else sig_of(i))
            name = names[i]
            known = self.student_for_name(name, thumbs[i]) if name else None
            # a name that looks like another student's on screen now is someone else
            if name and (known in (None, sid) or known in ids):
                m.readings[name] += 1
                if self.show_names:
                    m.shown[name] += 1
                self._by_key.setdefault(name_key(name), sid)
        return tuple(int(s) for s in ids)


def _plain(thumb: np.ndarray) -> bool:
    """A thumbnail of a mostly plain tile (a camera-off card, maybe with an avatar disc), whose
    look tells no one apart: 60 % of it within 12 grey levels of its median colour."""
    px = thumb.reshape(-1, thumb.shape[-1])
    near = np.abs(px - np.median(px, axis=0)).max(axis=1) <= 12.0
    return float(near.mean()) >= 0.6


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(iou(a, b)[0, 0])
