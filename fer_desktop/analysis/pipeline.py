"""The per-frame analysis: gallery tiles and every face (in the tiles and anywhere else) ->
expression probabilities -> one row per student, smoothed over time. Qt-free; shared by the GUI
worker, the CLI and the tests.

Faces first: the tiles of a gallery give structure (who is who, name labels, camera-off cards)
but never hide a face. Every tile that is not a camera-off card is searched for every face in
it; the parts of the frame no tile covers are searched too; a frame without a gallery (a room
camera) is searched whole. A tile's best face is the tile's participant (known by the name on
the tile); any other face, in a tile or not, is a student of its own, followed by place and look
(:class:`fer_desktop.analysis.tracking.FaceTracker`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from fer_desktop.analysis.cvutil import cv2, thread_pool, thumbnail
from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.analysis.faces import FaceDetector, SearchJob, crop_faces, suppress
from fer_desktop.analysis.gallery import Tiles, find_tiles, uncovered_regions
from fer_desktop.labels import EMOTIONS, NUM_CLASSES
from fer_desktop.analysis.names import NameReader
from fer_desktop.analysis.roster import Roster, tile_thumbnails
from fer_desktop.analysis.frame import Frame
from fer_desktop.analysis.students import ProbabilitySmoother
from fer_desktop.analysis.tiles import TileState, tile_state
from fer_desktop.analysis.tracking import FaceTracker, face_thumbnails

_NO_BOX = np.array([-1, -1, -1, -1], np.int32)


def _boxes(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.size == 0:
        return np.zeros((0, 4), np.int32)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{name} must be (n, 4), got {a.shape}")
    return a.astype(np.int32, copy=False)


@dataclass(frozen=True)
class FrameResult:
    """Everything known about one analysed frame: its tiles, and one row per student seen in it.
    Boxes are xywh in pixels of the source frame.

    Attributes
    ----------
    frame_index, timestamp, position_s, source :
        As in :class:`fer_desktop.analysis.frame.Frame` (timestamp: Unix seconds).
    frame_size : tuple of int
        ``(width, height)`` of the source frame, pixels.
    grid : bool
        Whether a gallery was found.
    tiles : np.ndarray
        ``(t, 4) int32`` the gallery's tiles, row-major; ``t = 0`` without a gallery.
    tile_states : tuple of TileState
        ``t`` states: what each tile shows (a face, no face, a camera-off card).
    boxes : np.ndarray
        ``(n, 4) int32`` where each row's student is: their tile, or their face when they are
        in no tile (a room camera; a face outside the tiles), or where their face was last seen
        while it is missed.
    tile_index : np.ndarray
        ``(n,) int32`` the row's tile in :attr:`tiles`, ``-1`` for none.
    faces : np.ndarray
        ``(n, 4) int32`` face boxes; ``-1`` rows where the student shows no face.
    states : tuple of TileState
        ``n`` states: FACE, NO_FACE (a tile without a face, a face followed but missed in this
        frame) or CAMERA_OFF.
    probs : np.ndarray
        ``(n, 7) float32`` calibrated softmax probabilities of this frame, NaN rows without face.
    smoothed : np.ndarray
        ``(n, 7) float32`` probabilities after temporal smoothing (what badges and CSV show).
    student_ids : tuple of int
        ``n`` distinct persistent student ids (:class:`fer_desktop.analysis.roster.Roster`).
    students : tuple of str
        ``n`` display names: the name read from the tile's label, else "Student N".
    timings : dict
        Seconds spent per step: ``gallery``, ``faces``, ``emotions``, ``names``, ``total``.
    image : np.ndarray or None
        The analysed BGR frame, kept for the preview when asked for.

    Derived once: :attr:`has_face` ``(n,) bool``, :attr:`emotions` (top expression of the
    smoothed probabilities or None), :attr:`confidences` ``(n,) float32`` (its probability,
    NaN without a face) and :meth:`class_shares`.

    Raises
    ------
    ValueError
        If the arrays' shapes or lengths disagree.
    """

    frame_index: int
    timestamp: float
    position_s: float
    source: str
    frame_size: tuple[int, int]
    grid: bool
    tiles: np.ndarray
    tile_states: tuple[TileState, ...]
    boxes: np.ndarray
    tile_index: np.ndarray
    faces: np.ndarray
    states: tuple[TileState, ...]
    probs: np.ndarray
    smoothed: np.ndarray
    student_ids: tuple[int, ...]
    students: tuple[str, ...]
    timings: dict = field(default_factory=dict)
    image: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        tiles = _boxes(self.tiles, "tiles")
        boxes = _boxes(self.boxes, "boxes")
        faces = _boxes(self.faces, "faces")
        n = len(boxes)
        tile_index = np.asarray(self.tile_index, np.int32).reshape(-1)
        probs = np.asarray(self.probs, np.float32).reshape(-1, NUM_CLASSES)
        smoothed = np.asarray(self.smoothed, np.float32).reshape(-1, NUM_CLASSES)
        if len(self.tile_states) != len(tiles):
            raise ValueError("tile_states must have one state per tile")
        for name, v in (("tile_index", tile_index), ("faces", faces), ("probs", probs),
                        ("smoothed", smoothed), ("states", self.states),
                        ("student_ids", self.student_ids), ("students", self.students)):
            if len(v) != n:
                raise ValueError(f"{name} has {len(v)} rows, boxes {n}")
        if n and (tile_index.min() < -1 or tile_index.max() >= len(tiles)):
            raise ValueError("tile_index out of range")
        if len(set(self.student_ids)) != n:
            raise ValueError("student_ids must be distinct")
        has = faces[:, 2] > 0
        top = np.argmax(np.nan_to_num(smoothed, nan=-1.0), axis=1) if n else np.zeros(0, int)
        seen = has & ~np.isnan(smoothed).any(axis=1)
        emotions = tuple(EMOTIONS[int(k)] if s else None for k, s in zip(top, seen))
        conf = np.full(n, np.nan, np.float32)
        conf[seen] = smoothed[seen, top[seen]]
        shares = np.zeros(NUM_CLASSES, np.float32)
        if seen.any():
            shares = np.bincount(top[seen], minlength=NUM_CLASSES).astype(np.float32) / seen.sum()
        for name, v in (("tiles", tiles), ("boxes", boxes), ("faces", faces),
                        ("tile_index", tile_index), ("probs", probs), ("smoothed", smoothed),
                        ("has_face", seen), ("emotions", emotions), ("confidences", conf),
                        ("_shares", shares), ("states", tuple(self.states)),
                        ("student_ids", tuple(int(s) for s in self.student_ids)),
                        ("students", tuple(self.students))):
            object.__setattr__(self, name, v)
        for a in (tiles, boxes, faces, tile_index, probs, smoothed, seen, conf, shares):
            a.flags.writeable = False

    # set in __post_init__
    has_face: np.ndarray = field(init=False, repr=False)
    emotions: tuple[str | None, ...] = field(init=False, repr=False)
    confidences: np.ndarray = field(init=False, repr=False)
    _shares: np.ndarray = field(init=False, repr=False)

    @classmethod
    def of_tiles(cls, *, tiles, faces, probs, students, student_ids=None, smoothed=None,
                 states=None, frame_index: int = 0, timestamp: float = 0.0,
                 position_s: float = 0.0, source: str = "", frame_size=(0, 0),
                 timings: dict | None = None, image: np.ndarray | None = None) -> "FrameResult":
        """A result with one row per tile (a gallery where each tile shows one participant),
        made by hand (tests, replays).

        Parameters
        ----------
        tiles, faces : array-like
            ``(n, 4)`` tile and face boxes (``-1`` rows for no face).
        probs : array-like
            ``(n, 7)`` probabilities (NaN rows without a face); also the smoothed ones unless
            ``smoothed`` is given.
        students : sequence of str
            ``n`` names.
        student_ids : sequence of int, optional
            Default ``0..n-1``.
        states : sequence of TileState, optional
            Default FACE where there is a face, else NO_FACE.
        """
        tiles = _boxes(tiles, "tiles")
        faces = _boxes(faces, "faces")
        n = len(tiles)
        if states is None:
            states = tuple(TileState.FACE if f[2] > 0 else TileState.NO_FACE for f in faces)
        return cls(frame_index=frame_index, timestamp=timestamp, position_s=position_s,
                   source=source, frame_size=tuple(frame_size), grid=n > 0, tiles=tiles,
                   tile_states=tuple(states), boxes=tiles, tile_index=np.arange(n), faces=faces,
                   states=tuple(states), probs=probs,
                   smoothed=probs if smoothed is None else smoothed,
                   student_ids=tuple(range(n)) if student_ids is None else tuple(student_ids),
                   students=tuple(students), timings=dict(timings or {}), image=image)

    def without_image(self) -> "FrameResult":
        """The same result without the frame (what leaves the analysis thread)."""
        return self if self.image is None else dataclasses.replace(self, image=None)

    def __len__(self) -> int:
        """Rows (students seen in this frame)."""
        return len(self.boxes)

    def row_tiles(self) -> np.ndarray:
        """``(n, 4) int32`` each row's tile box; ``-1`` rows for rows in no tile."""
        out = np.full((len(self), 4), -1, np.int32)
        inside = self.tile_index >= 0
        out[inside] = self.tiles[self.tile_index[inside]]
        return out

    def class_shares(self) -> np.ndarray:
        """``(7,) float32`` share of the visible faces showing each expression (top class of
        the smoothed probabilities); all zeros when no face is visible."""
        return self._shares.copy()


@dataclass(frozen=True)
class FrameFaces:
    """The unsmoothed analysis of one image (:meth:`Analyzer.analyze_image`): no identities.

    Attributes
    ----------
    tiles : Tiles
        The gallery's tiles (``tiles.grid`` False: no gallery, and no tile).
    tile_states : tuple of TileState
        One per tile.
    faces : np.ndarray
        ``(k, 4) int32`` every face found, xywh frame pixels; those of a tile are together,
        its most confident face first.
    face_tiles : np.ndarray
        ``(k,) int32`` the tile of each face, ``-1`` for faces outside the tiles.
    probs : np.ndarray
        ``(k, 7) float32`` their calibrated softmax probabilities.
    timings : dict
        Seconds per step (``gallery``, ``faces``, ``emotions``, ``total``), and
        ``tiles_reused`` (0/1), ``faces_detected`` (tiles searched afresh), ``jobs`` (pieces
        of the search outside the tiles run).
    """

    tiles: Tiles
    tile_states: tuple[TileState, ...]
    faces: np.ndarray
    face_tiles: np.ndarray
    probs: np.ndarray
    timings: dict

    @property
    def boxes(self) -> np.ndarray:
        """``(t, 4) int32`` the tile boxes (empty without a gallery)."""
        return self.tiles.boxes if self.tiles.grid else np.zeros((0, 4), np.int32)


def _thumb(gray: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """A small float32 grey thumbnail of ``box`` (xywh) for cheap change detection."""
    x, y, w, h = (int(v) for v in box)
    crop = gray[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
    if crop.size == 0:
        return np.zeros(size[::-1], np.float32)
    return thumbnail(crop, size).astype(np.float32)


def _grow(box, f: float) -> np.ndarray:
    x, y, w, h = (float(v) for v in box)
    return np.array([x - f * w, y - f * h, w * (1 + 2 * f), h * (1 + 2 * f)])


@dataclass
class _Free:
    """A face outside the tiles known from earlier frames: its box, the thumbnail of its
    surroundings it was last seen with, and its score."""

    box: np.ndarray
    thumb: np.ndarray
    score: float


class _ReuseCache:
    """What a live analysis may reuse from earlier frames: the tiles while the gallery looks the
    same, each tile's faces while the tile looks the same (Haar is most of the cost), the faces
    outside the tiles while they look the same, and where the search outside the tiles is."""

    def __init__(self) -> None:
        self.tiles: Tiles | None = None
        self.frame_shape: tuple | None = None
        self.layout: np.ndarray | None = None
        self.tiles_t = -np.inf
        self.faces: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray, float, TileState]] = {}
        self.free: list[_Free] = []
        self.regions_key: tuple | None = None
        self.jobs: list[SearchJob] = []
        self.next_job = 0
        self.jobs_t: float | None = None

    def clear(self) -> None:
        self.__init__()


class Analyzer:
    """Frames in, :class:`FrameResult` out: the whole pipeline, created once and reused.

    Parameters
    ----------
    model : EmotionModel, optional
        Default: the shipped model.
    detector : FaceDetector, optional
        Default: OpenCV's frontal-face Haar cascade.
    smoothing_s : float
        Time constant of the per-student smoothing, seconds (0: none).
    keep_image : bool
        Keep the frame in the result (for a preview).
    reuse : bool
        Between frames of one source, keep the tiles while a 64x36 grey thumbnail of the frame
        changes by less than ``change_levels`` on average (at most ``tiles_every_s``), and keep
        a tile's faces while its 32x18 thumbnail changes by less than that. Unchanged tiles
        are searched again on a schedule: every ``faces_every_s`` times 1, 1.25, 1.5 or 1.75
        (by tile index), so that a large gallery spreads its searches over several frames
        instead of stalling one. Outside the tiles (a room camera), a known face is kept while
        its surroundings look the same and looked for near its last place when they change,
        and the full search is spread over the frames of each ``faces_every_s``. Emotions are
        always computed afresh.
    names : NameReader or None
        Reads the name labels (cached per tile); default a :class:`NameReader` that loads the
        OCR on the first frame; ``None`` reads no name.
    roster : Roster, optional
        Gives the students persistent ids; pass one to keep ids across analysers (a paused and
        resumed session). Not reset with the source.
    workers : int
        Threads that search for faces at the same time (1: one after another).
    track_age_s : float
        Seconds a face followed outside the tiles keeps its student id while it is missed.

    Raises
    ------
    fer_desktop.analysis.emotions.ModelError, fer_desktop.analysis.faces.FaceDetectorError
        If the model or cascade cannot be loaded.
    """

    def __init__(self, model: EmotionModel | None = None, detector: FaceDetector | None = None,
                 smoothing_s: float = 1.5, keep_image: bool = False, reuse: bool = True,
                 tiles_every_s: float = 5.0, faces_every_s: float = 4.0,
                 change_levels: float = 6.0, names: NameReader | None | str = "default",
                 roster: Roster | None = None, workers: int = 2, track_age_s: float = 8.0):
        self.model = model or EmotionModel()
        self.detector = detector or FaceDetector()
        self.smoother = ProbabilitySmoother(smoothing_s)
        self.keep_image = keep_image
        self.reuse = reuse
        self.tiles_every_s = tiles_every_s
        self.faces_every_s = faces_every_s
        self.change_levels = change_levels
        self._cache = _ReuseCache()
        self.names = NameReader() if names == "default" else names
        self.roster = roster if roster is not None else Roster()
        self.tracker = FaceTracker(self.roster.new_student, max_age_s=track_age_s)
        self.workers = max(1, int(workers))
        self._source: str | None = None

    def reset(self) -> None:
        """Forget the smoothing state, the reused boxes and the followed faces (automatic when
        the source changes; student ids go on from the roster)."""
        self.smoother.reset()
        self._cache.clear()
        self.tracker.reset()
        if self.names is not None:
            self.names.clear()

    # -- tiles ------------------------------------------------------------------------------

    def _tiles(self, image: np.ndarray, gray: np.ndarray, now: float | None) -> tuple[Tiles, bool]:
        c = self._cache
        if now is None:
            return find_tiles(image), False
        layout = thumbnail(gray, (64, 36)).astype(np.float32)
        if (c.tiles is not None and c.layout is not None and c.layout.shape == layout.shape
                and now - c.tiles_t < self.tiles_every_s and now >= c.tiles_t
                and float(np.abs(layout - c.layout).mean()) < self.change_levels
                and c.frame_shape == gray.shape):
            return c.tiles, True
        c.tiles, c.layout, c.tiles_t, c.frame_shape = find_tiles(image), layout, now, gray.shape
        return c.tiles, False

    def _search_tile(self, image: np.ndarray, gray: np.ndarray, tile: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, TileState]:
        """Faces, scores and state of one tile; a camera-off card is not searched, and a
        profile photo shown instead of a camera is camera off whatever faces it holds
        (:func:`_on_avatar`)."""
        state = tile_state(image, gray, tile)
        if state is TileState.CAMERA_OFF:
            return np.zeros((0, 4), np.int32), np.zeros(0, np.float32), state
        boxes, scores = self.detector.detect_in_tile(gray, tile)
        if _on_avatar(image, gray, tile, boxes):
            return np.zeros((0, 4), np.int32), np.zeros(0, np.float32), TileState.CAMERA_OFF
        return boxes, scores, TileState.FACE if len(boxes) else TileState.NO_FACE

    def _tile_faces(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
                    now: float | None):
        """Faces, scores and state per tile, reusing a tile's last result while it looks the
        same (``now`` given) or searching every tile (``now`` None). The tiles to search are
        searched on :attr:`workers` threads (OpenCV releases the GIL)."""
        c = self._cache
        out: list = [None] * len(tiles)
        fresh: dict = {}
        todo: list[int] = []
        thumbs: dict[int, np.ndarray] = {}
        for i, tile in enumerate(tiles):
            if now is not None:
                key = tuple(int(v) for v in tile)
                thumbs[i] = thumb = _thumb(gray, tile, (32, 18))
                old = c.faces.get(key)
                if (old is not None and 0 <= now - old[3] < self.faces_every_s * (1 + i % 4 / 4)
                        and float(np.abs(thumb - old[2]).mean()) < self.change_levels):
                    out[i] = (old[0], old[1], old[4])
                    fresh[key] = old
                    continue
            todo.append(i)
        if self.workers > 1 and len(todo) > 1:
            found = list(thread_pool(self.workers).map(
                lambda i: self._search_tile(image, gray, tiles[i]), todo))
        else:
            found = [self._search_tile(image, gray, tiles[i]) for i in todo]
        for i, (boxes, scores, state) in zip(todo, found):
            out[i] = (boxes, scores, state)
            if now is not None:
                fresh[tuple(int(v) for v in tiles[i])] = (boxes, scores, thumbs[i], now, state)
        if now is not None:
            c.faces = fresh
        return out, len(todo)

    # -- outside the tiles ------------------------------------------------------------------

    def _big(self, boxes: np.ndarray) -> np.ndarray:
        """``(t,) bool``: the tiles searched as frame regions, for faces down to
        ``min_face_px`` anywhere in them: a gallery's only tile (a one-to-one call, or a room
        camera's people taken for a tile) and a speaker's tile beside a strip (half again as
        tall as the others). Several people may sit in them, small; a tile of a gallery of
        equal tiles shows a face at a tenth of its height or more."""
        if len(boxes) <= 1:
            return np.ones(len(boxes), bool)
        return boxes[:, 3] > 1.5 * float(np.median(boxes[:, 3]))

    def _regions(self, gray: np.ndarray, tiles: np.ndarray, big: np.ndarray
                 ) -> list[tuple[np.ndarray, int]]:
        """The frame regions searched as regions, each with the smallest face searched there
        (frame pixels): the whole frame without a gallery; with one, its ``big`` tiles, and its
        busy parts that no tile covers, for faces of at least ``fine_face_frac`` of the
        smallest tile's height (a face outside a gallery of several tiles is a tile the search
        missed, whose faces are as large as in the others; chat avatars and toolbar icons are
        smaller)."""
        h, w = gray.shape[:2]
        det = self.detector
        if len(tiles) == 0:
            return [(np.array([0, 0, w, h], np.int32), det.min_face_px)]
        min_face = det.min_face_px
        if len(tiles) >= 2:
            min_face = max(min_face, int(det.fine_face_frac * float(tiles[:, 3].min())))
        out = [(t, det.min_face_px) for t in tiles[big]]
        return out + [(r, min_face) for r in uncovered_regions(gray, tiles, min_face)]

    def _free_faces(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
                    big: np.ndarray, now: float | None) -> tuple[np.ndarray, np.ndarray, int]:
        """Faces found by searching regions (:meth:`_regions`): ``(k, 4) int32`` boxes,
        ``(k,) float32`` scores and the pieces of search run.

        Without ``now`` the whole search runs. With it, known faces are kept while their
        surroundings look the same, looked for near their last place when they change (and
        dropped when not found there), and the pieces of the full search that fall to this
        frame run: enough of them to finish it every :attr:`faces_every_s`."""
        c = self._cache
        regions = self._regions(gray, tiles, big)
        key = (gray.shape, tuple((tuple(r.tolist()), m) for r, m in regions))
        boxes_r = np.array([r for r, _ in regions], np.int32).reshape(-1, 4)
        small = tiles[~big]
        if key != c.regions_key:
            # new regions are searched at the pace of the old ones (a tile's box moving by a
            # pixel or two must not set off a full search), a new frame size at once
            if c.regions_key is None or c.regions_key[0] != gray.shape:
                c.jobs_t = None
            c.regions_key, c.next_job = key, 0
            c.jobs = [j for r, m in regions for j in self.detector.plan(r, m)]
            c.free = [f for f in c.free if _inside_any(f.box, boxes_r)
                      and not (len(small) and _inside_any(f.box, small))]
        if now is None or not self.reuse:
            boxes, scores = _outside(small, *self.detector.run_all(gray, c.jobs, self.workers))
            c.free = [_Free(b, _thumb(gray, _grow(b, 0.25), (16, 16)), float(s))
                      for b, s in zip(boxes, scores)]
            return boxes, scores, len(c.jobs)
        # known faces: kept while they look the same, else looked for nearby
        kept: list[_Free] = []
        moved: list[_Free] = []
        for f in c.free:
            thumb = _thumb(gray, _grow(f.box, 0.25), (16, 16))
            if float(np.abs(thumb - f.thumb).mean()) < self.change_levels:
                kept.append(f)
            else:
                moved.append(f)

        def near(f: _Free):
            return self.detector.detect_near(gray, f.box)

        found = (list(thread_pool(self.workers).map(near, moved))
                 if self.workers > 1 and len(moved) > 1 else [near(f) for f in moved])
        for f, (boxes, scores) in zip(moved, found):
            if len(boxes):
                j = int(np.argmax(scores))
                kept.append(_Free(boxes[j], _thumb(gray, _grow(boxes[j], 0.25), (16, 16)),
                                  float(scores[j])))
        # this frame's share of the full search
        jobs: list[SearchJob] = []
        if c.jobs:
            total = sum(j.cost for j in c.jobs) or 1.0
            share = 1.0 if c.jobs_t is None else min(
                1.0, max(0.0, now - c.jobs_t) / max(1e-6, self.faces_every_s))
            budget = share * total
            while len(jobs) < len(c.jobs) and (not jobs or sum(j.cost for j in jobs) < budget):
                jobs.append(c.jobs[c.next_job % len(c.jobs)])
                c.next_job = (c.next_job + 1) % len(c.jobs)
            c.jobs_t = now
        if jobs:
            boxes, scores = _outside(small, *self.detector.run_all(gray, jobs, self.workers))
            new = [_Free(b, _thumb(gray, _grow(b, 0.25), (16, 16)), float(s))
                   for b, s in zip(boxes, scores)]
            # a face followed from the last frames keeps its box (a piece of the search may find
            # it again at another scale or angle); the search adds the faces not followed yet
            allb = np.array([f.box for f in new + kept], np.float64).reshape(-1, 4)
            rank = np.r_[np.full(len(new), 1.0), np.full(len(kept), 2.0)]
            keep = suppress(allb, rank)
            kept = [(new + kept)[i] for i in sorted(keep)]
        c.free = kept
        boxes = np.array([f.box for f in kept], np.int32).reshape(-1, 4)
        return boxes, np.array([f.score for f in kept], np.float32), len(jobs)

    # -- the frame --------------------------------------------------------------------------

    def analyze_image(self, image: np.ndarray, now: float | None = None) -> FrameFaces:
        """Unsmoothed analysis of one ``(H, W, 3) uint8`` BGR image: the tiles and every face.

        ``now`` (seconds, the source's clock) enables reuse of tiles and face boxes from earlier
        calls (see ``reuse``); ``None`` analyses the image from scratch.

        Raises
        ------
        ValueError
            If ``image`` is not an ``(H, W, 3) uint8`` array.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} "
                             f"{image.dtype}")
        t0 = time.perf_counter()
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        tiles, tiles_reused = self._tiles(image, gray, now)
        t1 = time.perf_counter()
        boxes = tiles.boxes if tiles.grid else np.zeros((0, 4), np.int32)
        big = self._big(boxes)
        searched, detected = self._tile_faces(image, gray, boxes[~big], now)
        per_tile: list = [None] * len(boxes)
        for i, r in zip(np.flatnonzero(~big), searched):
            per_tile[i] = r
        # the big tiles: camera-off cards are not searched; the others are regions
        big_off = np.zeros(len(boxes), bool)
        for i in np.flatnonzero(big):
            big_off[i] = tile_state(image, gray, boxes[i]) is TileState.CAMERA_OFF
        found, scores, jobs = self._free_faces(image, gray, boxes, big & ~big_off, now)
        inside = np.array([_tile_of(b, boxes, big & ~big_off) for b in found], np.int64)
        free = found[inside < 0] if len(found) else found
        for i in np.flatnonzero(big):
            mine = inside == i
            b, sc = found[mine], scores[mine]
            order = np.argsort(-sc, kind="stable")
            b, sc = b[order], sc[order]
            if big_off[i] or _on_avatar(image, gray, boxes[i], b):
                per_tile[i] = (np.zeros((0, 4), np.int32), np.zeros(0, np.float32),
                               TileState.CAMERA_OFF)
            else:
                per_tile[i] = (b, sc, TileState.FACE if len(b) else TileState.NO_FACE)
        tile_faces = np.concatenate([b for b, _, _ in per_tile] + [np.zeros((0, 4), np.int32)])
        if len(free) and len(tile_faces):  # a face on a tile's edge, found from both sides
            both = np.concatenate([tile_faces, free]).astype(np.float64)
            keep = suppress(both, np.r_[np.ones(len(tile_faces)), np.zeros(len(free))])
            free = free[np.sort(keep[keep >= len(tile_faces)]) - len(tile_faces)]
        faces = [b for b, _, _ in per_tile] + [free]
        face_tiles = np.concatenate([np.full(len(b), i, np.int32) for i, (b, _, _)
                                     in enumerate(per_tile)] + [np.full(len(free), -1, np.int32)])
        faces = np.concatenate(faces).astype(np.int32).reshape(-1, 4)
        t2 = time.perf_counter()
        probs = self.model.predict(crop_faces(gray, faces))
        t3 = time.perf_counter()
        timings = {"gallery": t1 - t0, "faces": t2 - t1, "emotions": t3 - t2, "total": t3 - t0,
                   "tiles_reused": int(tiles_reused), "faces_detected": detected, "jobs": jobs}
        return FrameFaces(tiles, tuple(s for _, _, s in per_tile), faces, face_tiles, probs,
                          timings)

    def analyze(self, frame: Frame) -> FrameResult:
        """Analyse one :class:`Frame`: every face, the students' ids, names and smoothed
        probabilities (smoothing per student over the frames of its source)."""
        if frame.source != self._source:
            self.reset()
            self._source = frame.source
        now = frame.position_s if self.reuse else None
        ff = self.analyze_image(frame.image, now)
        timings = ff.timings
        t0 = time.perf_counter()
        tiles = ff.boxes
        # participants: each tile, but a large tile showing several faces (a room camera's
        # people taken for a tile, a conference room as the speaker) is a place, not a person
        counts = np.bincount(ff.face_tiles[ff.face_tiles >= 0], minlength=len(tiles))
        crowded = self._big(tiles) & (counts >= 2)
        part = np.flatnonzero(~crowded)
        first = {}
        for k, t in enumerate(ff.face_tiles.tolist()):
            if t >= 0 and not crowded[t] and t not in first:
                first[t] = k
        thumbs = face_thumbnails(frame.image, ff.faces)
        # a tile's participant whose face is followed already (a room's row of people taken
        # for tiles, a tile that comes and goes) keeps the id of that face
        seen = self.tracker.match(ff.faces, thumbs, frame.position_s)
        hints = [int(seen[first[int(i)]]) if int(i) in first else -1 for i in part]
        reads = self.names.reads if self.names is not None else 0
        names = (self.names.read_tiles(frame.image, tiles[part]) if self.names is not None
                 else (None,) * len(part))
        tile_ids = dict(zip(part.tolist(), self.roster.assign(
            tiles[part], names, tile_thumbnails(frame.image, tiles[part]), hints)))
        timings["names"] = time.perf_counter() - t0
        timings["names_read"] = (self.names.reads if self.names is not None else 0) - reads
        # every face is followed by place and look; a participant's best face with the tile's
        # id; rows: each participant's tile (its best face, or none), then every other face
        fixed: list[int | None] = [None] * len(ff.faces)
        for i, k in first.items():
            fixed[k] = tile_ids[i]
        ids, lost = self.tracker.update(ff.faces, thumbs, frame.position_s, fixed)
        follow_id = {k: int(v) for k, v in enumerate(ids.tolist())}
        followed = [k for k in range(len(ff.faces)) if fixed[k] is None]
        rows: list[tuple] = []  # (box, tile, face index or -1, state, student)
        for i, tile in enumerate(tiles):
            if not crowded[i]:
                k = first.get(i, -1)
                rows.append((tile, i, k, ff.tile_states[i] if k < 0 else TileState.FACE,
                             tile_ids[i]))
            rows += sorted(((ff.faces[j], i, int(j), TileState.FACE, follow_id[int(j)])
                            for j in followed if ff.face_tiles[j] == i), key=lambda r: r[4])
        outside = [int(j) for j in followed if ff.face_tiles[j] < 0]
        rows += sorted(((ff.faces[j], -1, j, TileState.FACE, follow_id[j]) for j in outside),
                       key=lambda r: r[4])
        # a face followed but missed in this frame, unless its student has a row (their tile)
        listed = {r[4] for r in rows}
        rows += [(tr.box.round().astype(np.int32), -1, -1, TileState.NO_FACE, tr.student)
                 for tr in lost if tr.student not in listed]
        n = len(rows)
        probs = np.full((n, NUM_CLASSES), np.nan, np.float32)
        faces = np.tile(_NO_BOX, (n, 1))
        for r, (_, _, k, _, _) in enumerate(rows):
            if k >= 0:
                probs[r] = ff.probs[k]
                faces[r] = ff.faces[k]
        ids = [int(r[4]) for r in rows]
        smoothed = self.smoother.update(ids, probs, frame.position_s)
        timings["total"] += time.perf_counter() - t0
        h, w = frame.image.shape[:2]
        return FrameResult(
            frame_index=frame.index, timestamp=frame.timestamp, position_s=frame.position_s,
            source=frame.source, frame_size=(w, h), grid=ff.tiles.grid, tiles=tiles,
            tile_states=ff.tile_states,
            boxes=np.array([r[0] for r in rows], np.int32).reshape(-1, 4),
            tile_index=np.array([r[1] for r in rows], np.int32), faces=faces,
            states=tuple(r[3] for r in rows), probs=probs, smoothed=smoothed,
            student_ids=tuple(ids), students=tuple(self.roster.name(s) for s in ids),
            timings=timings, image=frame.image if self.keep_image else None)


def _outside(tiles: np.ndarray, boxes: np.ndarray, scores: np.ndarray):
    """The faces (boxes, scores) whose centre lies in none of ``tiles`` (``(t, 4)`` xywh; the
    tiles' own search finds the others)."""
    if len(tiles) == 0 or len(boxes) == 0:
        return boxes, scores
    keep = np.array([not _inside_any(b, tiles) for b in boxes], bool)
    return boxes[keep], scores[keep]


def _on_avatar(image: np.ndarray, gray: np.ndarray, tile, faces: np.ndarray) -> bool:
    """Whether one of a tile's three best faces is on a profile photo (the best-scoring box may
    be a larger false one around the photo)."""
    return any(tile_state(image, gray, tile, f) is TileState.CAMERA_OFF for f in faces[:3])


def _tile_of(box, tiles: np.ndarray, among: np.ndarray) -> int:
    """Index of the tile of ``tiles`` (only those where ``among`` is True) holding the centre of
    ``box``, or -1."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    for i in np.flatnonzero(among):
        x, y, w, h = tiles[i]
        if x <= cx < x + w and y <= cy < y + h:
            return int(i)
    return -1


def _inside_any(box, regions: np.ndarray) -> bool:
    """Whether the centre of ``box`` (xywh) lies in one of ``regions`` (``(r, 4)`` xywh)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    r = np.asarray(regions).reshape(-1, 4)
    return bool(((r[:, 0] <= cx) & (cx < r[:, 0] + r[:, 2])
                 & (r[:, 1] <= cy) & (cy < r[:, 1] + r[:, 3])).any())
