"""The per-frame analysis: gallery tiles -> one face per tile -> expression probabilities ->
smoothed per student. Qt-free; shared by the GUI worker, the CLI and the tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from fer_desktop.cvutil import cv2
from fer_desktop.emotions import EmotionModel
from fer_desktop.faces import FaceDetector, crop_faces
from fer_desktop.gallery import find_tiles
from fer_desktop.labels import EMOTIONS, NUM_CLASSES
from fer_desktop.sources import Frame
from fer_desktop.students import ProbabilitySmoother, student_name


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
        Student name per tile.
    timings : dict
        Seconds spent per step: ``gallery``, ``faces``, ``emotions``, ``total``.
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
    timings: dict = field(default_factory=dict)
    image: np.ndarray | None = field(default=None, repr=False)

    @property
    def has_face(self) -> np.ndarray:
        """``(n,) bool``: True where the tile has a face."""
        return self.faces[:, 2] > 0

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

    Raises
    ------
    fer_desktop.emotions.ModelError, fer_desktop.faces.FaceDetectorError
        If the model or cascade cannot be loaded.
    """

    def __init__(self, model: EmotionModel | None = None, detector: FaceDetector | None = None,
                 smoothing_s: float = 1.5, keep_image: bool = False):
        self.model = model or EmotionModel()
        self.detector = detector or FaceDetector()
        self.smoother = ProbabilitySmoother(smoothing_s)
        self.keep_image = keep_image
        self._source: str | None = None

    def reset(self) -> None:
        """Forget the smoothing state (called automatically when the source changes)."""
        self.smoother.reset()

    def analyze_image(self, image: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray, np.ndarray,
                                                        dict]:
        """Unsmoothed analysis of one ``(H, W, 3) uint8`` BGR image.

        Returns ``(tiles, grid, faces, probs, timings)`` as in :class:`FrameResult`.
        """
        t0 = time.perf_counter()
        tiles = find_tiles(image)
        t1 = time.perf_counter()
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        faces = self.detector.detect(gray, tiles.boxes)
        t2 = time.perf_counter()
        probs = np.full((len(faces), NUM_CLASSES), np.nan, np.float32)
        has = faces[:, 2] > 0
        if has.any():
            probs[has] = self.model.predict(crop_faces(gray, faces[has]))
        t3 = time.perf_counter()
        timings = {"gallery": t1 - t0, "faces": t2 - t1, "emotions": t3 - t2, "total": t3 - t0}
        return tiles.boxes, tiles.grid, faces, probs, timings

    def analyze(self, frame: Frame) -> FrameResult:
        """Analyse one :class:`Frame`, smoothing per student over the frames of its source."""
        if frame.source != self._source:
            self.reset()
            self._source = frame.source
        tiles, grid, faces, probs, timings = self.analyze_image(frame.image)
        smoothed = self.smoother.update(list(range(len(tiles))), probs, frame.position_s)
        h, w = frame.image.shape[:2]
        return FrameResult(
            frame_index=frame.index, timestamp=frame.timestamp, position_s=frame.position_s,
            source=frame.source, frame_size=(w, h), tiles=tiles, grid=grid, faces=faces,
            probs=probs, smoothed=smoothed,
            students=tuple(student_name(i) for i in range(len(tiles))),
            timings=timings, image=frame.image if self.keep_image else None)
