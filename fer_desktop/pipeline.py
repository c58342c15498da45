"""The per-frame analysis: gallery tiles -> one face per tile -> expression probabilities ->
smoothed per student. Qt-free; shared by the GUI worker, the CLI and the tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fer_desktop.cvutil import cv2, thread_pool, thumbnail
from fer_desktop.emotions import EmotionModel
from fer_desktop.faces import FaceDetector, crop_faces
from fer_desktop.gallery import find_tiles
from fer_desktop.labels import EMOTIONS, NUM_CLASSES
from fer_desktop.sources import Frame
from fer_desktop.names import NameReader
from fer_desktop.roster import Roster, tile_thumbnails
from fer_desktop.students import ProbabilitySmoother
from fer_desktop.tiles import TileState, plainness


@dataclass(frozen=True)
class FrameResult:
    """Everything known about one analysed frame. Boxes are in pixels of the source frame.

    Attributes
    ----------
    frame_index, timestamp, position_s, source :
        As in :class:`fer_desktop.sources.Frame` (timestamp: Unix seconds).
    frame_size : tuple of int
        ``(width, height)`` of the source frame, pixels.
    tiles : np.ndarray
        ``(n, 4) int32`` tile boxes, xywh, row-major.
    grid : bool
        Whether a gallery grid was found (else one tile is the whole frame).
    faces : np.ndarray
        ``(n, 4) int32`` face boxes, xywh; ``-1`` rows for tiles without a face.
    probs : np.ndarray
        ``(n, 7) float32`` calibrated softmax probabilities of this frame, NaN rows without face.
    smoothed : np.ndarray
        ``(n, 7) float32`` probabilities after temporal smoothing (what badges and CSV show).
    students : tuple of str
        Student name per tile: the name read from the tile's label, else "Student N".
    states : tuple of TileState
        What each tile shows: a face, no face, or a camera-off card (a name or initials on a
        plain background, never searched for a face). Empty in results made by hand: then
        :attr:`tile_states` derives face / no face from :attr:`faces`.
    student_ids : tuple of int
        Persistent student id per tile (:class:`fer_desktop.roster.Roster`): the same person
        keeps their id when the tiles reflow. Empty in results made by hand: then
        :attr:`student_keys` is the tile index.
    timings : dict
        Seconds spent per step: ``gallery``, ``faces``, ``emotions``, ``names``, ``total``.
    image : np.ndarray or None
        The analysed BGR frame, kept for the preview when asked for.
    """

    frame_index: int
    timestamp: float
    position_s: float
    source: str
    frame_size: tuple[int, int]
    tiles: np.ndarray
    grid: bool
    faces: np.ndarray
    probs: np.ndarray
    smoothed: np.ndarray
    students: tuple[str, ...]
    states: tuple[TileState, ...] = ()
    student_ids: tuple[int, ...] = ()
    timings: dict = field(default_factory=dict)
    image: np.ndarray | None = field(default=None, repr=False)

    @property
    def has_face(self) -> np.ndarray:
        """``(n,) bool``: True where the tile has a face."""
        return self.faces[:, 2] > 0

    @property
    def student_keys(self) -> tuple[int, ...]:
        """Student id per tile (:attr:`student_ids`, or the tile index when it is empty)."""
        if len(self.student_ids) == len(self.tiles):
            return self.student_ids
        return tuple(range(len(self.tiles)))

    @property
    def tile_states(self) -> tuple[TileState, ...]:
        """What each tile shows (:attr:`states`, or face / no face when it is empty)."""
        if len(self.states) == len(self.tiles):
            return self.states
        return tuple(TileState.FACE if f else TileState.NO_FACE for f in self.has_face)

    @property
    def emotions(self) -> list[str | None]:
        """Top emotion per tile from the smoothed probabilities; ``None`` without a face."""
        return [None if np.isnan(p).any() else EMOTIONS[int(np.argmax(p))] for p in self.smoothed]

    @property
    def confidences(self) -> np.ndarray:
        """``(n,) float32`` probability of the top emotion; NaN without a face."""
        if len(self.smoothed) == 0:
            return np.zeros(0, np.float32)
        return np.where(self.has_face, np.nanmax(np.nan_to_num(self.smoothed, nan=-1), axis=1),
                        np.nan).astype(np.float32)

    def class_shares(self) -> np.ndarray:
        """``(7,) float32`` share of the faces showing each emotion (top class of the smoothed
        probabilities); all zeros when no face is visible."""
        shares = np.zeros(NUM_CLASSES, np.float32)
        tops = [e for e in self.emotions if e is not None]
        for e in tops:
            shares[EMOTIONS.index(e)] += 1.0
        return shares / len(tops) if tops else shares


def _thumb(gray: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """A small float32 grey thumbnail of ``box`` (xywh) for cheap change detection."""
    x, y, w, h = (int(v) for v in box)
    crop = gray[max(0, y):y + h, max(0, x):x + w]
    if crop.size == 0:
        return np.zeros(size[::-1], np.float32)
    return thumbnail(crop, size).astype(np.float32)


class _ReuseCache:
    """What a live analysis may reuse from earlier frames: the tiles while the gallery looks the
    same, and each tile's face box while the tile looks the same (Haar is most of the cost)."""

    def __init__(self) -> None:
        self.tiles = None
        self.frame_shape: tuple | None = None
        self.layout: np.ndarray | None = None
        self.tiles_t = -np.inf
        self.faces: dict[tuple, tuple[np.ndarray, np.ndarray, float, TileState]] = {}

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
        a tile's face box while its 32x18 thumbnail changes by less than that. Unchanged tiles
        are searched again on a schedule: every ``faces_every_s`` times 1, 1.25, 1.5 or 1.75
        (by tile index), so that a large gallery spreads its searches over several frames
        instead of stalling one. Emotions are always computed afresh.
    names : NameReader or None
        Reads the name labels (cached per tile); default a :class:`NameReader` that loads the
        OCR on the first frame; ``None`` reads no name.
    roster : Roster, optional
        Gives the tiles persistent student ids; pass one to keep ids across analysers (a
        paused and resumed session). Not reset with the source.
    workers : int
        Threads that search tiles for faces at the same time (1: one after another).

    Raises
    ------
    fer_desktop.emotions.ModelError, fer_desktop.faces.FaceDetectorError
        If the model or cascade cannot be loaded.
    """

    def __init__(self, model: EmotionModel | None = None, detector: FaceDetector | None = None,
                 smoothing_s: float = 1.5, keep_image: bool = False, reuse: bool = True,
                 tiles_every_s: float = 5.0, faces_every_s: float = 4.0,
                 change_levels: float = 6.0, names: NameReader | None | str = "default",
                 roster: Roster | None = None, workers: int = 2):
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
        self.workers = max(1, int(workers))
        self._source: str | None = None
        self.last_states: tuple[TileState, ...] = ()

    def reset(self) -> None:
        """Forget the smoothing state and reused boxes (automatic when the source changes)."""
        self.smoother.reset()
        self._cache.clear()
        if self.names is not None:
            self.names.clear()

    def _tiles(self, image: np.ndarray, gray: np.ndarray, now: float | None):
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

    def _detect(self, gray: np.ndarray, tile: np.ndarray) -> tuple[np.ndarray, TileState]:
        """Face box and state of one tile; a camera-off card is not searched."""
        if plainness(gray, tile).camera_off:
            return np.array([-1, -1, -1, -1], np.int32), TileState.CAMERA_OFF
        box = self.detector.detect_in_tile(gray, tile)
        return box, TileState.FACE if box[2] > 0 else TileState.NO_FACE

    def _faces(self, gray: np.ndarray, tiles: np.ndarray, now: float | None):
        """Face box and state per tile, reusing a tile's last result while it looks the same
        (``now`` given) or searching every tile (``now`` None). The tiles to search are
        searched on :attr:`workers` threads (OpenCV releases the GIL)."""
        c = self._cache
        out = np.empty((len(tiles), 4), np.int32)
        states: list[TileState | None] = [None] * len(tiles)
        fresh: dict[tuple, tuple[np.ndarray, np.ndarray, float, TileState]] = {}
        todo: list[int] = []
        thumbs: dict[int, np.ndarray] = {}
        for i, tile in enumerate(tiles):
            if now is not None:
                key = tuple(int(v) for v in tile)
                thumbs[i] = thumb = _thumb(gray, tile, (32, 18))
                old = c.faces.get(key)
                if (old is not None and 0 <= now - old[2] < self.faces_every_s * (1 + i % 4 / 4)
                        and float(np.abs(thumb - old[1]).mean()) < self.change_levels):
                    out[i] = old[0]
                    states[i] = old[3]
                    fresh[key] = old
                    continue
            todo.append(i)
        if self.workers > 1 and len(todo) > 1:
            found = list(thread_pool(self.workers).map(lambda i: self._detect(gray, tiles[i]),
                                                       todo))
        else:
            found = [self._detect(gray, tiles[i]) for i in todo]
        for i, (box, state) in zip(todo, found):
            out[i], states[i] = box, state
            if now is not None:
                fresh[tuple(int(v) for v in tiles[i])] = (box.copy(), thumbs[i], now, state)
        if now is not None:
            c.faces = fresh
        return out, tuple(states), len(todo)

    def analyze_image(self, image: np.ndarray, now: float | None = None
                      ) -> tuple[np.ndarray, bool, np.ndarray, np.ndarray, dict]:
        """Unsmoothed analysis of one ``(H, W, 3) uint8`` BGR image.

        ``now`` (seconds, the source's clock) enables reuse of tiles and face boxes from earlier
        calls (see ``reuse``); ``None`` analyses the image from scratch.

        Returns ``(tiles, grid, faces, probs, timings)`` as in :class:`FrameResult`; timings
        also count ``tiles_reused`` (0/1) and ``faces_detected`` (tiles looked at afresh).
        The tile states of the last call are in :attr:`last_states`.
        """
        t0 = time.perf_counter()
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        tiles, tiles_reused = self._tiles(image, gray, now)
        t1 = time.perf_counter()
        faces, self.last_states, detected = self._faces(gray, tiles.boxes, now)
        t2 = time.perf_counter()
        probs = np.full((len(faces), NUM_CLASSES), np.nan, np.float32)
        has = faces[:, 2] > 0
        if has.any():
            probs[has] = self.model.predict(crop_faces(gray, faces[has]))
        t3 = time.perf_counter()
        timings = {"gallery": t1 - t0, "faces": t2 - t1, "emotions": t3 - t2, "total": t3 - t0,
                   "tiles_reused": int(tiles_reused), "faces_detected": detected}
        return tiles.boxes, tiles.grid, faces, probs, timings

    def analyze(self, frame: Frame) -> FrameResult:
        """Analyse one :class:`Frame`, smoothing per student over the frames of its source."""
        if frame.source != self._source:
            self.reset()
            self._source = frame.source
        now = frame.position_s if self.reuse else None
        tiles, grid, faces, probs, timings = self.analyze_image(frame.image, now)
        t0 = time.perf_counter()
        reads = self.names.reads if self.names is not None else 0
        names = (self.names.read_tiles(frame.image, tiles) if self.names is not None
                 else (None,) * len(tiles))
        ids = self.roster.assign(tiles, names, tile_thumbnails(frame.image, tiles))
        timings["names"] = time.perf_counter() - t0
        timings["names_read"] = (self.names.reads if self.names is not None else 0) - reads
        timings["total"] += timings["names"]
        smoothed = self.smoother.update(list(ids), probs, frame.position_s)
        h, w = frame.image.shape[:2]
        return FrameResult(
            frame_index=frame.index, timestamp=frame.timestamp, position_s=frame.position_s,
            source=frame.source, frame_size=(w, h), tiles=tiles, grid=grid, faces=faces,
            probs=probs, smoothed=smoothed,
            students=tuple(self.roster.name(s) for s in ids),
            states=self.last_states, student_ids=ids,
            timings=timings, image=frame.image if self.keep_image else None)
