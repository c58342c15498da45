"""YuNet, OpenCV's DNN face detector, run once on the whole frame (the default detector).

YuNet (Wu, Peng, Yu, "YuNet: A Tiny Millisecond-level Face Detector", Machine Intelligence
Research 2023; 75,856 parameters; WIDER FACE val AP 0.892/0.883/0.811 easy/medium/hard) is run by
OpenCV itself (``cv2.FaceDetectorYN``) from ``models/yunet_n_640_640.onnx`` (Apache-2.0, from
ShiqiYu/libfacedetection.train; ``models/LICENSE-yunet``), whose SHA-256 is checked at load. It
returns a box, five landmarks and a score per face.

The frame is searched at the scale that brings the smallest face that matters
(``min_face_px``, 24 screen pixels) to ``detect_px`` pixels (12): on the real screenshots and
room photos of ``../shared/real_dev`` (``benchmarks/yunet_scale.py``) that finds 187 of 187
meeting faces and 87 of 88 room faces of 24 px or more, as many as at full resolution, in a fifth
of the time, with 4 extra detections against 26.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from fer_desktop.analysis.boxes import as_boxes
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import (ModelError, _default_model_dir, model_checksum_path,
                                          verify_model)
from fer_desktop.analysis.faces import FaceDetectorError, Faces

#: The shipped YuNet weights (with ``.sha256`` and the licence beside them).
DEFAULT_YUNET = _default_model_dir() / "yunet_n_640_640.onnx"


class YuNetDetector:
    """Every face of a frame or region with YuNet (``cv2.FaceDetectorYN``).

    Parameters
    ----------
    path : str or Path, optional
        The ONNX weights; default :data:`DEFAULT_YUNET`. Its SHA-256 must match the
        ``<file>.sha256`` beside it (required for the shipped file).
    min_face_px : int
        Smallest face searched for, frame pixels.
    detect_px : float
        Size the smallest face is brought to before the search (YuNet's reliable minimum);
        frames are searched at ``min(1, detect_px / min_face_px)`` of their size.
    score_threshold, nms_threshold : float
        YuNet's confidence threshold and the IoU of its non-maximum suppression.
    max_side : int
        The searched copy is at most this many pixels on its longer side (an 8K frame is
        searched more coarsely).

    Raises
    ------
    FaceDetectorError
        If the weights are missing, differ from their recorded SHA-256, or cannot be loaded;
        the message names the file.

    Notes
    -----
    Safe to call from several threads: each thread gets its own ``cv2.FaceDetectorYN``.
    """

    name = "yunet"

    def __init__(self, path: str | Path | None = None, min_face_px: int = 24,
                 detect_px: float = 12.0, score_threshold: float = 0.6,
                 nms_threshold: float = 0.3, max_side: int = 2560):
        self.path = Path(path) if path is not None else DEFAULT_YUNET
        if not self.path.is_file():
            raise FaceDetectorError(f"The face detector {self.path.name} is missing "
                                    f"({self.path}). Reinstall fer-desktop.")
        try:
            verify_model(self.path, required=path is None)
        except ModelError:
            what = ("its content differs from its recorded SHA-256"
                    if model_checksum_path(self.path).is_file() else "its checksum file is missing")
            raise FaceDetectorError(f"The face detector {self.path.name} cannot be trusted: "
                                    f"{what}. Reinstall fer-desktop.") from None
        self.min_face_px = int(min_face_px)
        self.detect_px = float(detect_px)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.max_side = int(max_side)
        self._local = threading.local()
        self._local.net = self._load()

    def _load(self):
        try:
            net = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), self.score_threshold,
                                            self.nms_threshold, 5000)
        except cv2.error as exc:
            raise FaceDetectorError(f"Cannot load the face detector {self.path.name}: "
                                    f"{str(exc).strip().splitlines()[-1]}") from None
        return net

    @property
    def net(self):
        """This thread's ``cv2.FaceDetectorYN``."""
        net = getattr(self._local, "net", None)
        if net is None:
            net = self._local.net = self._load()
        return net

    def scale_for(self, width: int, height: int, min_face_px: int | None = None) -> float:
        """Copy pixels per frame pixel at which a ``width`` x ``height`` region is searched."""
        s = min(1.0, self.detect_px / float(min_face_px or self.min_face_px))
        return min(s, self.max_side / float(max(width, height, 1)))

    def detect(self, image: np.ndarray, region=None, min_face_px: int | None = None) -> Faces:
        """Every face of ``image`` or of ``region`` of it, the most confident first.

        Parameters
        ----------
        image : np.ndarray
            ``(H, W, 3) uint8`` BGR frame (a ``(H, W) uint8`` grey frame is converted).
        region : array-like, optional
            ``(4,)`` xywh frame pixels to search; default the whole frame.
        min_face_px : int, optional
            Smallest face searched for (default :attr:`min_face_px`).

        Returns
        -------
        Faces
            Boxes and landmarks in frame pixels, YuNet's scores (0..1).
        """
        H, W = image.shape[:2]
        x0 = y0 = 0
        if region is not None:
            x, y, w, h = (int(v) for v in as_boxes(region, "region")[0])
            x0, y0 = max(0, x), max(0, y)
            image = image[y0:max(y0, y + h), x0:max(x0, x + w)]
        if image.size == 0 or min(image.shape[:2]) < 8:
            return Faces.empty()
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        h, w = image.shape[:2]
        s = self.scale_for(w, h, min_face_px)
        copy = image if s >= 1.0 else cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))),
                                                 interpolation=cv2.INTER_AREA)
        sx, sy = copy.shape[1] / w, copy.shape[0] / h
        net = self.net
        net.setInputSize((copy.shape[1], copy.shape[0]))
        _, found = net.detect(np.ascontiguousarray(copy))
        if found is None or len(found) == 0:
            return Faces.empty()
        found = found[np.argsort(-found[:, 14], kind="stable")]
        scale = np.array([sx, sy], np.float32)
        origin = np.array([x0, y0], np.float32)
        xy = found[:, 0:2] / scale + origin
        wh = found[:, 2:4] / scale
        boxes = np.round(np.column_stack([xy, wh])).astype(np.int32)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], 1)
        lm = found[:, 4:14].reshape(-1, 5, 2) / scale + origin
        return Faces(boxes, found[:, 14], lm)
