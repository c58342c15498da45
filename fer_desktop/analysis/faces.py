"""Faces: the one type that carries faces from a detector through the tracker to the result, the
detectors' common interface, and the 48x48 crops the expression model takes.

Two detectors implement :class:`FaceDetector`:

* :class:`fer_desktop.analysis.yunet.YuNetDetector` (the default): OpenCV's DNN face detector
  YuNet (Wu, Peng, Yu, "YuNet: A Tiny Millisecond-level Face Detector", Machine Intelligence
  Research 2023), run once on the whole frame; it gives five landmarks per face;
* :class:`fer_desktop.analysis.haar.HaarDetector`: OpenCV's Haar cascade (Viola & Jones, CVPR
  2001), the design's detector and the fallback; no landmarks.

:func:`load_detector` makes either by name. :func:`face_crops` cuts each face as FER-2013 framed
its faces: rotated so the eyes are level and its box scaled and placed where FER-2013's faces
have theirs, where landmarks are known (:func:`align_faces`), else the square box
(:func:`crop_faces`). Training and the app share these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from fer_desktop.analysis.boxes import as_boxes
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.labels import FACE_SIZE

NO_FACE = np.array([-1, -1, -1, -1], np.int32)

#: The detectors :func:`load_detector` knows, the default first.
DETECTORS: tuple[str, ...] = ("yunet", "haar")


class FaceDetectorError(RuntimeError):
    """A face detector's model file is missing, damaged or unreadable; ``str()`` is user-facing
    and names the file."""


@dataclass(frozen=True)
class Faces:
    """Some faces of one frame, as parallel arrays (after supervision's ``Detections``).

    Attributes
    ----------
    boxes : np.ndarray
        ``(n, 4) int32`` face boxes, ``x, y, w, h`` in frame pixels.
    scores : np.ndarray
        ``(n,) float32`` the detector's confidence (YuNet: 0..1; Haar: its last-stage weight).
    landmarks : np.ndarray
        ``(n, 5, 2) float32`` frame pixels of the right eye, left eye, nose tip, right and left
        mouth corners (the person's right and left: the right eye is on the image's left), NaN
        where the detector gives none (Haar).
    tile : np.ndarray
        ``(n,) int32`` index of the gallery tile holding the face, -1 for none.
    student : np.ndarray
        ``(n,) int32`` student id given by the tracker, -1 before.

    Indexing with a boolean mask, an integer array or a slice gives the chosen faces as a new
    :class:`Faces`; the arrays are read-only.

    Raises
    ------
    ValueError
        If the arrays' shapes disagree.
    """

    boxes: np.ndarray
    scores: np.ndarray = None  # type: ignore[assignment]
    landmarks: np.ndarray = None  # type: ignore[assignment]
    tile: np.ndarray = None  # type: ignore[assignment]
    student: np.ndarray = None  # type: ignore[assignment]
    _fields: tuple = field(default=("boxes", "scores", "landmarks", "tile", "student"),
                           init=False, repr=False)

    def __post_init__(self) -> None:
        boxes = as_boxes(np.round(np.asarray(self.boxes, np.float64))
                         if np.asarray(self.boxes).dtype.kind == "f" else self.boxes)
        n = len(boxes)

        def column(v, dtype, shape, fill):
            if v is None:
                return np.full((n, *shape), fill, dtype)
            a = np.asarray(v, dtype)
            if a.size == 0 and n == 0:
                return np.zeros((0, *shape), dtype)
            if a.shape != (n, *shape):
                raise ValueError(f"Faces: expected shape {(n, *shape)}, got {a.shape}")
            return a

        values = {"boxes": boxes,
                  "scores": column(self.scores, np.float32, (), 1.0),
                  "landmarks": column(self.landmarks, np.float32, (5, 2), np.nan),
                  "tile": column(self.tile, np.int32, (), -1),
                  "student": column(self.student, np.int32, (), -1)}
        for name, v in values.items():
            v = np.array(v, copy=True) if v.flags.writeable else v
            v.flags.writeable = False
            object.__setattr__(self, name, v)

    @classmethod
    def empty(cls) -> "Faces":
        """No face."""
        return cls(np.zeros((0, 4), np.int32))

    @classmethod
    def concat(cls, parts) -> "Faces":
        """The faces of several :class:`Faces`, in order."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("boxes", "scores", "landmarks", "tile", "student")))

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> "Faces":
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Faces(self.boxes[index], self.scores[index], self.landmarks[index],
                     self.tile[index], self.student[index])

    def with_(self, **changes) -> "Faces":
        """A copy with some arrays replaced (``tile=``, ``student=``, ...)."""
        values = {f: getattr(self, f) for f in ("boxes", "scores", "landmarks", "tile", "student")}
        values.update(changes)
        return Faces(**values)

    @property
    def has_landmarks(self) -> np.ndarray:
        """``(n,) bool``: the faces whose landmarks are known."""
        return ~np.isnan(self.landmarks).any(axis=(1, 2))

    def best_first(self) -> "Faces":
        """The same faces, the most confident first (stable)."""
        return self[np.argsort(-self.scores, kind="stable")]


@runtime_checkable
class FaceDetector(Protocol):
    """What the analysis needs of a face detector.

    Attributes
    ----------
    name : str
        ``"yunet"`` or ``"haar"`` (:data:`DETECTORS`).
    min_face_px : int
        Smallest face that matters, frame pixels (24 on screen).
    """

    name: str
    min_face_px: int

    def detect(self, image: np.ndarray, region=None, min_face_px: int | None = None) -> Faces:
        """Every face in ``image`` (``(H, W, 3) uint8`` BGR or ``(H, W) uint8`` grey; the
        detector converts), or in ``region`` (``(4,)`` xywh frame pixels) of it, from
        ``min_face_px`` pixels up; boxes in frame pixels, the most confident first."""
        ...


def load_detector(name: str = "yunet", **options) -> FaceDetector:
    """The face detector called ``name`` (one of :data:`DETECTORS`).

    Raises
    ------
    ValueError
        For an unknown name.
    FaceDetectorError
        If its model file is missing, damaged or unreadable (the message names the file).
    """
    if name == "yunet":
        from fer_desktop.analysis.yunet import YuNetDetector

        return YuNetDetector(**options)
    if name == "haar":
        from fer_desktop.analysis.haar import HaarDetector

        return HaarDetector(**options)
    raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")


def crop_faces(gray: np.ndarray, boxes: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Cut model inputs from a grey frame by their boxes.

    Each face box is made square about its centre, grown by ``margin`` (fraction of its side),
    padded by edge replication where it leaves the frame, and resized to 48x48 with area
    averaging.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    boxes : np.ndarray
        ``(n, 4)`` xywh face boxes in frame pixels (no ``-1`` rows).

    Returns
    -------
    np.ndarray
        ``(n, 48, 48) uint8``.
    """
    boxes = as_boxes(boxes)
    out = np.empty((len(boxes), FACE_SIZE, FACE_SIZE), np.uint8)
    H, W = gray.shape[:2]
    for i, (x, y, w, h) in enumerate(boxes):
        side = max(w, h) * (1.0 + margin)
        cx, cy = x + w / 2.0, y + h / 2.0
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        x1, y1 = x0 + int(round(side)), y0 + int(round(side))
        crop = gray[max(0, y0):min(H, y1), max(0, x0):min(W, x1)]
        pad = (max(0, -y0), max(0, y1 - H), max(0, -x0), max(0, x1 - W))
        if crop.size == 0:
            out[i] = 0
            continue
        if any(pad):
            crop = cv2.copyMakeBorder(crop, *pad, cv2.BORDER_REPLICATE)
        out[i] = cv2.resize(crop, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    return out


#: Where FER-2013 puts the five landmarks in its 48x48 faces (right eye, left eye, nose tip,
#: right and left mouth corners; x, y pixels) and YuNet's face box around them (x, y, w, h): the
#: medians over 2,914 of the first 3,000 training images found by YuNet on 4x enlarged copies
#: (``benchmarks/crop_framing.py --template``). The eyes are level (0.8 degrees) and 17.8 px apart.
FER_TEMPLATE = np.array([[15.00, 18.97], [32.77, 18.73], [23.89, 28.11], [16.48, 36.06],
                         [31.61, 35.83]], np.float32)
FER_BOX = np.array([4.96, 1.85, 37.99, 47.06], np.float32)

#: The framing of aligned crops (chosen by ``benchmarks/crop_framing.py``: 0.85-0.9 framed FER-2013
#: validation faces and real faces best for the model trained on unaligned faces): the face
#: scaled by ``zoom`` about the middle of its eyes (1: as wide as YuNet's boxes on FER-2013).
ALIGN_ZOOM = 0.9
#: Largest tilt of the head that is levelled, degrees (beyond, the landmarks are not trusted).
MAX_TILT = 45.0


def align_faces(gray: np.ndarray, boxes: np.ndarray, landmarks: np.ndarray,
                zoom: float = ALIGN_ZOOM) -> np.ndarray:
    """Eye-aligned model inputs: each face rotated about the middle of its eyes so that they are
    level, scaled so that its box is as wide as FER-2013's boxes (:data:`FER_BOX`), and placed
    with the middle of its eyes where FER-2013 has it (:data:`FER_TEMPLATE`); ``zoom`` > 1 shows
    the face larger (less around it).

    Neither the mouth nor the box's height is used: both move with the expression (an open mouth
    lowers the chin and would shrink the face); the eyes and the width of the face do not.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    boxes : np.ndarray
        ``(n, 4)`` xywh face boxes, frame pixels.
    landmarks : np.ndarray
        ``(n, 5, 2)`` landmark pixels (:attr:`Faces.landmarks`, no NaN); only the eyes are used.

    Returns
    -------
    np.ndarray
        ``(n, 48, 48) uint8``; pixels beyond the frame repeat its edge.
    """
    boxes = as_boxes(boxes, dtype=np.float64)
    landmarks = np.asarray(landmarks, np.float64).reshape(-1, 5, 2)
    out = np.empty((len(boxes), FACE_SIZE, FACE_SIZE), np.uint8)
    H, W = gray.shape[:2]
    corners = np.array([[0, 0, 1], [FACE_SIZE, 0, 1], [0, FACE_SIZE, 1], [FACE_SIZE, FACE_SIZE, 1]],
                       np.float64)
    target = FER_TEMPLATE[:2].mean(0).astype(np.float64)
    for i, ((x, y, w, h), pts) in enumerate(zip(boxes, landmarks)):
        (rx, ry), (lx, ly) = pts[0], pts[1]
        angle = float(np.clip(np.degrees(np.arctan2(ly - ry, lx - rx)), -MAX_TILT, MAX_TILT))
        scale = zoom * float(FER_BOX[2]) / max(1.0, w)  # crop pixels per frame pixel
        centre = (pts[0] + pts[1]) / 2.0
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
        m[:, 2] += target - centre
        # the part of the frame the crop shows, cut (edges repeated) and, for a face larger than
        # the crop, area-averaged down to about the crop's scale before the warp (no aliasing)
        src = corners @ cv2.invertAffineTransform(m).T
        x0, y0 = np.floor(src.min(0)).astype(int) - 1
        x1, y1 = np.ceil(src.max(0)).astype(int) + 1
        part = gray[max(0, y0):min(H, y1), max(0, x0):min(W, x1)]
        if part.size == 0:
            out[i] = 0
            continue
        pad = (max(0, -y0), max(0, y1 - H), max(0, -x0), max(0, x1 - W))
        if any(pad):
            part = cv2.copyMakeBorder(part, *pad, cv2.BORDER_REPLICATE)
        f = 1.0
        if scale < 0.75:
            part = cv2.resize(part, (max(1, round(part.shape[1] * scale)),
                                     max(1, round(part.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA)
            f = part.shape[1] / float(x1 - x0)
        # frame point p = q / f + (x0, y0) for a point q of the part
        a = m[:, :2] / f
        b = m[:, :2] @ np.array([x0, y0], np.float64) + m[:, 2]
        out[i] = cv2.warpAffine(part, np.column_stack([a, b]), (FACE_SIZE, FACE_SIZE),
                                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def face_crops(gray: np.ndarray, faces: Faces, align: bool = True,
               zoom: float = ALIGN_ZOOM, margin: float = 0.0) -> np.ndarray:
    """The model inputs of ``faces``: :func:`align_faces` at ``zoom`` for the faces with
    landmarks (when ``align``), :func:`crop_faces` by box with ``margin`` for the others.
    ``(n, 48, 48) uint8``."""
    out = np.empty((len(faces), FACE_SIZE, FACE_SIZE), np.uint8)
    if not len(faces):
        return out
    lm = faces.has_landmarks if align else np.zeros(len(faces), bool)
    if lm.any():
        out[lm] = align_faces(gray, faces.boxes[lm], faces.landmarks[lm], zoom)
    if (~lm).any():
        out[~lm] = crop_faces(gray, faces.boxes[~lm], margin)
    return out
