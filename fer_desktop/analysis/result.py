"""What the analysis of one frame gives: :class:`FrameResult` (one row per student, smoothed; what
the session, the CSV and the window use) and :class:`FrameFaces` (the unsmoothed faces of one
image, without identities). Qt-free.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from fer_desktop.analysis.boxes import as_boxes
from fer_desktop.analysis.faces import Faces
from fer_desktop.analysis.gallery import Tiles
from fer_desktop.analysis.tiles import TileState
from fer_desktop.labels import EMOTIONS, NUM_CLASSES


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
        tiles = as_boxes(self.tiles, "tiles")
        boxes = as_boxes(self.boxes, "boxes")
        faces = as_boxes(self.faces, "faces")
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
        tiles = as_boxes(tiles, "tiles")
        faces = as_boxes(faces, "faces")
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
    faces : Faces
        Every face found, frame pixels, with its tile (``faces.tile``, -1 outside the tiles);
        those of a tile are together, its most confident face first.
    probs : np.ndarray
        ``(k, 7) float32`` their calibrated softmax probabilities.
    timings : dict
        Seconds per step (``gallery``, ``faces``, ``emotions``, ``total``), and
        ``tiles_reused`` (0/1), ``faces_detected`` (tiles searched afresh), ``jobs`` (pieces
        of the search outside the tiles run, or whole-frame searches).
    """

    tiles: Tiles
    tile_states: tuple[TileState, ...]
    faces: Faces
    probs: np.ndarray
    timings: dict

    @property
    def boxes(self) -> np.ndarray:
        """``(t, 4) int32`` the tile boxes (empty without a gallery)."""
        return self.tiles.boxes if self.tiles.grid else np.zeros((0, 4), np.int32)
