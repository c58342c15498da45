"""The per-frame analysis: gallery tiles and every face (in the tiles and anywhere else) ->
expression probabilities -> one row per student, smoothed over time. Qt-free; shared by the GUI
worker, the CLI and the tests.

Faces first: the tiles of a gallery give structure (who is who, name labels, camera-off cards)
but never hide a face (:mod:`fer_desktop.analysis.search`). A tile's best face is the tile's
participant (known by the name on the tile); any other face, in a tile or not, is a student of
its own, followed by place and look (:class:`fer_desktop.analysis.tracking.FaceTracker`).
The result types are in :mod:`fer_desktop.analysis.result`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.cvutil import cv2, thumbnail
from fer_desktop.analysis.appearance import signatures, tile_signature
from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.analysis.faces import FaceDetector, Faces, face_crops, load_detector
from fer_desktop.analysis.frame import Frame
from fer_desktop.analysis.gallery import Tiles, find_tiles
from fer_desktop.analysis.names import NameReader
from fer_desktop.analysis.result import FrameFaces, FrameResult
from fer_desktop.analysis.roster import Roster, tile_thumbnails
from fer_desktop.analysis.search import DnnSearch, big_tiles, make_search
from fer_desktop.analysis.students import ProbabilitySmoother
from fer_desktop.analysis.tiles import TileState
from fer_desktop.analysis.tracking import FaceTracker, face_thumbnails
from fer_desktop.labels import NUM_CLASSES

__all__ = ["Analyzer", "FrameFaces", "FrameResult"]

_NO_BOX = np.array([-1, -1, -1, -1], np.int32)


@dataclass(frozen=True)
class _Row:
    """One row of a :class:`FrameResult` while it is put together.

    ``box``: ``(4,) int32`` where the student is (their tile, else their face, else where the
    face was last seen); ``tile``: tile index or -1; ``face``: index into the frame's
    :class:`Faces` or -1; ``state``: what the row shows; ``student``: the student id."""

    box: np.ndarray
    tile: int
    face: int
    state: TileState
    student: int


class Analyzer:
    """Frames in, :class:`FrameResult` out: the whole pipeline, created once and reused.

    Parameters
    ----------
    model : EmotionModel, optional
        Default: the shipped model.
    detector : FaceDetector or str, optional
        A detector, or its name (``"yunet"``, the default, or ``"haar"``;
        :func:`fer_desktop.analysis.faces.load_detector`).
    smoothing_s : float
        Time constant of the per-student smoothing, seconds (0: none).
    keep_image : bool
        Keep the frame in the result (for a preview).
    reuse : bool
        Between frames of one source, keep the tiles while a 64x36 grey thumbnail of the frame
        changes by less than ``change_levels`` on average (at most ``tiles_every_s``), and keep
        a tile's faces while its 32x18 thumbnail changes by less than that, up to
        ``faces_every_s`` (staggered); see :mod:`fer_desktop.analysis.search` for each
        detector. Emotions are always computed afresh.
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
    align : bool
        Crop faces as the model asks (:attr:`EmotionModel.crop`: eye-aligned where the detector
        gives landmarks, or by box); False: always by box.

    Raises
    ------
    fer_desktop.analysis.emotions.ModelError, fer_desktop.analysis.faces.FaceDetectorError
        If the model or the detector's weights cannot be loaded.
    """

    def __init__(self, model: EmotionModel | None = None,
                 detector: FaceDetector | str | None = None,
                 smoothing_s: float = 1.5, keep_image: bool = False, reuse: bool = True,
                 tiles_every_s: float = 5.0, faces_every_s: float = 4.0,
                 change_levels: float = 6.0, names: NameReader | None | str = "default",
                 roster: Roster | None = None, workers: int = 2, track_age_s: float = 8.0,
                 align: bool = True):
        self.model = model or EmotionModel()
        if detector is None or isinstance(detector, str):
            detector = load_detector(detector or "yunet")
        self.detector = detector
        self.smoother = ProbabilitySmoother(smoothing_s)
        self.keep_image = keep_image
        self.reuse = reuse
        self.tiles_every_s = tiles_every_s
        self.faces_every_s = faces_every_s
        self.change_levels = change_levels
        self.align = align
        self.workers = max(1, int(workers))
        self.search = make_search(detector, reuse=reuse, faces_every_s=faces_every_s,
                                  change_levels=change_levels, workers=self.workers)
        self.names = NameReader() if names == "default" else names
        self.roster = roster if roster is not None else Roster()
        self.tracker = FaceTracker(self.roster.new_student, max_age_s=track_age_s)
        self._tiles: Tiles | None = None
        self._layout: np.ndarray | None = None
        self._tiles_t = -np.inf
        self._frame_shape: tuple | None = None
        self._source: str | None = None

    def reset(self) -> None:
        """Forget the smoothing state, the reused tiles and faces and the followed faces
        (automatic when the source changes; student ids go on from the roster)."""
        self.smoother.reset()
        self.search.reset()
        self._tiles, self._layout, self._tiles_t, self._frame_shape = None, None, -np.inf, None
        self.tracker.reset()
        if self.names is not None:
            self.names.clear()

    # -- tiles ------------------------------------------------------------------------------

    def _find_tiles(self, image: np.ndarray, gray: np.ndarray, now: float | None
                    ) -> tuple[Tiles, bool]:
        """The gallery's tiles, reused while the frame looks the same (``now`` given)."""
        if now is None:
            return find_tiles(image), False
        layout = thumbnail(gray, (64, 36)).astype(np.float32)
        if (self._tiles is not None and self._layout is not None
                and self._layout.shape == layout.shape
                and now - self._tiles_t < self.tiles_every_s and now >= self._tiles_t
                and float(np.abs(layout - self._layout).mean()) < self.change_levels
                and self._frame_shape == gray.shape):
            return self._tiles, True
        self._tiles, self._layout, self._tiles_t = find_tiles(image), layout, now
        self._frame_shape = gray.shape
        return self._tiles, False

    # -- the frame --------------------------------------------------------------------------

    def analyze_image(self, image: np.ndarray, now: float | None = None) -> FrameFaces:
        """Unsmoothed analysis of one ``(H, W, 3) uint8`` BGR image: the tiles and every face.

        ``now`` (seconds, the source's clock) enables reuse of tiles and faces from earlier
        calls (see ``reuse``); ``None`` analyses the image from scratch.

        Raises
        ------
        ValueError
            If ``image`` is not an ``(H, W, 3) uint8`` array.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} "
                             f"{image.dtype}")
        now = now if self.reuse else None
        t0 = time.perf_counter()
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        tiles, tiles_reused = self._find_tiles(image, gray, now)
        t1 = time.perf_counter()
        boxes = tiles.boxes if tiles.grid else np.zeros((0, 4), np.int32)
        if isinstance(self.search, DnnSearch):  # the faces' lattice may complete the tiles
            found = self.search.find(image, gray, boxes, now,
                                     whole=None if tiles.grid else tiles.boxes[0])
            if len(found.tiles) != len(boxes):
                tiles = Tiles(found.tiles, len(found.tiles) > 0, tiles.background)
        else:
            found = self.search.find(image, gray, boxes, now)
        t2 = time.perf_counter()
        crop = self.model.crop
        probs = self.model.predict(face_crops(gray, found.faces, self.align and crop.aligned,
                                              crop.zoom, crop.margin))
        t3 = time.perf_counter()
        timings = {"gallery": t1 - t0, "faces": t2 - t1, "emotions": t3 - t2, "total": t3 - t0,
                   "tiles_reused": int(tiles_reused), "faces_detected": found.searched,
                   "jobs": found.jobs}
        return FrameFaces(tiles, found.tile_states, found.faces, probs, timings)

    def analyze(self, frame: Frame) -> FrameResult:
        """Analyse one :class:`Frame`: every face, the students' ids, names and smoothed
        probabilities (smoothing per student over the frames of its source)."""
        if frame.source != self._source:
            self.reset()
            self._source = frame.source
        ff = self.analyze_image(frame.image, frame.position_s)
        timings = ff.timings
        t0 = time.perf_counter()
        tiles = ff.boxes
        faces = ff.faces
        # participants: each tile, but a large tile showing several faces (a room camera's
        # people taken for a tile, a conference room as the speaker) is a place, not a person
        counts = np.bincount(faces.tile[faces.tile >= 0], minlength=len(tiles))
        crowded = big_tiles(tiles) & (counts >= 2)
        part = np.flatnonzero(~crowded)
        first: dict[int, int] = {}
        for k, t in enumerate(faces.tile.tolist()):
            if t >= 0 and not crowded[t] and t not in first:
                first[t] = k
        thumbs = face_thumbnails(frame.image, faces.boxes)
        with self.roster.lock:  # the teacher's merges and splits wait for this frame's ids
            for old, new in self.roster.take_redirects().items():
                self.tracker.rename(old, new)
            return self._identify(frame, ff, tiles, faces, crowded, part, first, thumbs,
                                  timings, t0)

    def _identify(self, frame: Frame, ff: FrameFaces, tiles, faces: Faces, crowded, part,
                  first: dict, thumbs, timings: dict, t0: float) -> FrameResult:
        """Who each face and tile is (:meth:`analyze`'s second half, under the roster's lock):
        the students' ids, names and smoothed probabilities."""
        # a tile's participant whose face is followed already (a room's row of people taken
        # for tiles, a tile that comes and goes) keeps the id of that face
        seen = self.tracker.match(faces, thumbs, frame.position_s)
        close = self.tracker.match(faces, thumbs, frame.position_s, close_only=True)
        hints = [int(close[first[int(i)]]) if int(i) in first else -1 for i in part]
        reads = self.names.reads if self.names is not None else 0
        names = (self.names.read_tiles(frame.image, tiles[part], [
            ff.tile_states[int(i)] is TileState.CAMERA_OFF for i in part])
            if self.names is not None else (None,) * len(part))
        sig_cache: dict[int, np.ndarray] = {}

        def sig(k: int) -> np.ndarray:
            """The appearance signature of face ``k`` (computed once, when needed)."""
            if k not in sig_cache:
                sig_cache[k] = signatures(frame.image, faces[k], tiles)[0]
            return sig_cache[k]

        def tile_sig(j: int) -> np.ndarray | None:
            k = first.get(int(part[j]))
            return tile_signature(frame.image, tiles[part[j]]) if k is None else sig(k)

        participants = set(first.values())
        elsewhere = {int(seen[k]) for k in range(len(faces))
                     if seen[k] >= 0 and k not in participants}
        tile_ids = dict(zip(part.tolist(), self.roster.assign(
            tiles[part], names, tile_thumbnails(frame.image, tiles[part]), hints, tile_sig,
            elsewhere, [j for j, i in enumerate(part) if int(i) not in first])))
        timings["names"] = time.perf_counter() - t0
        timings["names_read"] = (self.names.reads if self.names is not None else 0) - reads
        # every face is followed by place and look; a participant's best face with the tile's
        # id; rows: each participant's tile (its best face, or none), then every other face
        fixed: list[int | None] = [None] * len(faces)
        for i, k in first.items():
            fixed[k] = tile_ids[i]
        # a face that continues no face followed here may be someone seen earlier
        on_screen = set(tile_ids.values()) | {int(s) for s in seen if s >= 0}
        again: dict[int, int] = {}
        for k in range(len(faces)):
            if fixed[k] is None and seen[k] < 0:
                sid = self.roster.reidentify(sig(k), on_screen)
                if sid is not None:
                    again[k] = sid
                    on_screen.add(sid)
        faces, lost = self.tracker.update(faces, thumbs, frame.position_s, fixed, again,
                                          set(tile_ids.values()))
        for k in range(len(faces)):
            if fixed[k] is None and (k in sig_cache or self.roster.needs_signature(
                    int(faces.student[k]))):
                self.roster.remember(int(faces.student[k]), sig(k))
        followed = [k for k in range(len(faces)) if fixed[k] is None]
        rows: list[_Row] = []
        for i, tile in enumerate(tiles):
            if not crowded[i]:
                k = first.get(i, -1)
                rows.append(_Row(tile, i, k, ff.tile_states[i] if k < 0 else TileState.FACE,
                                 tile_ids[i]))
            rows += sorted((_Row(faces.boxes[j], i, j, TileState.FACE, int(faces.student[j]))
                            for j in followed if faces.tile[j] == i), key=lambda r: r.student)
        rows += sorted((_Row(faces.boxes[j], -1, j, TileState.FACE, int(faces.student[j]))
                        for j in followed if faces.tile[j] < 0), key=lambda r: r.student)
        # a face followed but missed in this frame, unless its student has a row (their tile)
        listed = {r.student for r in rows}
        rows += [_Row(tr.box.round().astype(np.int32), -1, -1, TileState.NO_FACE, tr.student)
                 for tr in lost if tr.student not in listed]
        n = len(rows)
        probs = np.full((n, NUM_CLASSES), np.nan, np.float32)
        face_boxes = np.tile(_NO_BOX, (n, 1))
        for r, row in enumerate(rows):
            if row.face >= 0:
                probs[r] = ff.probs[row.face]
                face_boxes[r] = faces.boxes[row.face]
        ids = [row.student for row in rows]
        smoothed = self.smoother.update(ids, probs, frame.position_s)
        timings["total"] += time.perf_counter() - t0
        h, w = frame.image.shape[:2]
        return FrameResult(
            frame_index=frame.index, timestamp=frame.timestamp, position_s=frame.position_s,
            source=frame.source, frame_size=(w, h), grid=ff.tiles.grid, tiles=tiles,
            tile_states=ff.tile_states,
            boxes=np.array([row.box for row in rows], np.int32).reshape(-1, 4),
            tile_index=np.array([row.tile for row in rows], np.int32), faces=face_boxes,
            states=tuple(row.state for row in rows), probs=probs, smoothed=smoothed,
            student_ids=tuple(ids), students=tuple(self.roster.name(s) for s in ids),
            timings=timings, image=frame.image if self.keep_image else None)

