"""The Haar cascade face detector (``--detector haar``): the design's detector and the fallback when
YuNet's weights cannot be loaded. Finds every face in each gallery tile and anywhere in a frame
(a room camera, the parts of a screen no tile covers) with OpenCV's Haar cascade (Viola & Jones,
CVPR 2001). It gives no landmarks.

The cascade is ``haarcascade_frontalface_alt2.xml`` shipped in ``cv2.data`` (Lienhart, Kuranov &
Pisarevsky, DAGM 2003: extended Haar features, stages of small decision trees). Against the
``..._default.xml`` cascade, on 1,200 FER-2013 validation faces placed in tiles of 135-540 pixels
(``benchmarks/haar_bench.py``) it finds the face in 14 points more of the smallest tiles (53 %
against 39 %) and -2 to +6 points elsewhere, and reports a face on 0.2-0.5 % of face-free tiles
instead of 1.2-3.2 %.

Two searches:

* **in a tile** (:meth:`FaceDetector.detect_in_tile`): the tile is rescaled to 128-160 pixels
  high, its contrast evened out locally (CLAHE, Zuiderveld 1994: on the tiles of the real
  meeting screenshots of ``../shared/real_dev`` it finds 165 of 190 faces where a global
  histogram equalisation found 151), and searched for every face down to a tenth of its height;
  a tile where the upright search finds nothing is searched again rotated by +-20 degrees (a
  tilted head);
* **in a region of the frame** (:meth:`FaceDetector.plan` and :meth:`FaceDetector.run`): the
  region at frame resolution (at most ``max_side`` pixels), faces from ``min_face_px`` up,
  split into :class:`SearchJob` pieces by face size and by band, so that the pieces run on two
  threads and a live analysis can spread one full search over several frames; faces of 40
  pixels and more are also searched rotated by +-20 degrees on a half-size copy. On the room
  photos of ``../shared/real_dev`` the rotated passes find 78 of the 88 faces 24 pixels wide or
  larger, against 74 upright only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_desktop.analysis.boxes import suppress, to_frame
from fer_desktop.analysis.cvutil import cv2, thread_pool
from fer_desktop.analysis.faces import NO_FACE, FaceDetectorError, Faces
#: The cascade file the app ships (in OpenCV's ``cv2.data.haarcascades``).
CASCADE = "haarcascade_frontalface_alt2.xml"
#: The cascade's window, pixels.
WINDOW = 20


@dataclass(frozen=True)
class SearchJob:
    """One piece of a face search over a frame region.

    Attributes
    ----------
    region : tuple of int
        ``(x, y, w, h)`` frame pixels searched.
    scale : float
        Pixels of the searched copy per frame pixel.
    angle : float
        Degrees the copy is rotated by (counter-clockwise); 0 upright.
    min_size, max_size : int
        Smallest and largest cascade window searched, pixels of the copy.
    cost : float
        Estimated relative cost (cascade windows evaluated, in thousands).
    """

    region: tuple[int, int, int, int]
    scale: float
    angle: float
    min_size: int
    max_size: int
    cost: float


def _levels(scale_factor: float, lo: int, hi: int) -> list[int]:
    """The window sides (pixels) that ``detectMultiScale`` evaluates between ``lo`` and ``hi``
    (``round(20 * scale_factor**k)``, as OpenCV rounds them)."""
    out, k = [], 0
    while True:
        w = int(round(WINDOW * scale_factor ** k))
        if w > hi:
            return out
        if w >= lo and (not out or w != out[-1]):
            out.append(w)
        k += 1


def _windows(w: int, h: int, side: int) -> float:
    """Cascade windows (thousands) evaluated at one level of a ``w`` x ``h`` copy: the image is
    scaled by ``side / 20`` and stepped by 2 pixels (1 above a scale of 2)."""
    f = side / WINDOW
    step = 1 if f > 2 else 2
    return max(0.0, (w / f - WINDOW) / step) * max(0.0, (h / f - WINDOW) / step) / 1000.0


def group(rects: np.ndarray, weights: np.ndarray, min_neighbors: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Group raw cascade hits as ``detectMultiScale`` does (``cv2.groupRectangles``, eps 0.2),
    each group scored by its best hit's last-stage weight.

    Parameters
    ----------
    rects : np.ndarray
        ``(k, 4)`` int xywh raw hits.
    weights : np.ndarray
        ``(k,)`` float last-stage weights of the hits.
    min_neighbors : int
        A group needs more than this many hits.

    Returns
    -------
    boxes, scores : np.ndarray
        ``(g, 4) int32`` grouped boxes and ``(g,) float32`` scores.
    """
    rects = np.asarray(rects, np.int32).reshape(-1, 4)
    if len(rects) == 0:
        return np.zeros((0, 4), np.int32), np.zeros(0, np.float32)
    grouped, _ = cv2.groupRectangles(rects.tolist(), min_neighbors, 0.2)
    grouped = np.asarray(grouped, np.int32).reshape(-1, 4)
    scores = np.empty(len(grouped), np.float32)
    w = np.ravel(weights)
    for i, g in enumerate(grouped):
        d = 0.1 * (np.minimum(rects[:, 2], g[2]) + np.minimum(rects[:, 3], g[3]))
        near = ((np.abs(rects[:, 0] - g[0]) <= d) & (np.abs(rects[:, 1] - g[1]) <= d)
                & (np.abs(rects[:, 0] + rects[:, 2] - g[0] - g[2]) <= d)
                & (np.abs(rects[:, 1] + rects[:, 3] - g[1] - g[3]) <= d))
        scores[i] = w[near].max() if near.any() else w.min()
    return grouped, scores


class HaarDetector:
    """Every face of a tile or of a frame region, with OpenCV's Haar cascade.

    Parameters
    ----------
    cascade_path : str, optional
        Haar cascade XML; default OpenCV's ``haarcascade_frontalface_alt2.xml``.
    max_tile_h, min_tile_h : int
        Tiles are searched on a copy between these heights (pixels): taller ones downscaled
        (which bounds the cost per tile), shorter ones (49-tile galleries on small screens)
        upscaled so that their faces are well above the cascade's 20-pixel window.
    min_face_frac : float
        Smallest face searched for in a tile, as a fraction of the tile's height.
    scale_factor, min_neighbors : float, int
        ``cv2.CascadeClassifier.detectMultiScale`` parameters.
    fine_face_frac, fine_scale_factor : float
        A tile where nothing is found is searched again for faces down to this fraction of its
        height (a person well in the background), with this finer scale step, then rotated.
    rotations : tuple of float
        Angles (degrees) searched when the upright searches find nothing in a tile, and for
        faces of 40 pixels and more in a frame region.
    min_face_px : int
        Smallest face searched for in a frame region (frame pixels).
    max_side : int
        A frame region is searched at most this many pixels wide and high (a 4K room camera is
        searched at half size).
    clahe_clip : float
        Clip limit of the local contrast equalisation of tile copies.

    Raises
    ------
    FaceDetectorError
        If the cascade cannot be loaded.

    Notes
    -----
    Safe to call from several threads at once: each thread gets its own
    ``cv2.CascadeClassifier`` (one instance keeps scratch buffers between calls) and CLAHE.
    """

    name = "haar"

    def __init__(self, cascade_path: str | None = None, max_tile_h: int = 160,
                 min_tile_h: int = 128, min_face_frac: float = 0.2, scale_factor: float = 1.15,
                 min_neighbors: int = 3, fine_face_frac: float = 0.1,
                 fine_scale_factor: float = 1.1, rotations: tuple[float, ...] = (20.0, -20.0),
                 min_face_px: int = 24, max_side: int = 1920, clahe_clip: float = 2.0):
        self.path = cascade_path or str(Path(cv2.data.haarcascades) / CASCADE)
        self._local = threading.local()
        self._local.cascade = self._load()
        self.max_tile_h = max_tile_h
        self.min_tile_h = min_tile_h
        self.min_face_frac = min_face_frac
        self.scale_factor = scale_factor
        self.fine_face_frac = fine_face_frac
        self.fine_scale_factor = fine_scale_factor
        self.min_neighbors = min_neighbors
        self.rotations = tuple(float(a) for a in rotations)
        self.min_face_px = int(min_face_px)
        self.max_side = int(max_side)
        self.clahe_clip = float(clahe_clip)

    def _load(self):
        cascade = cv2.CascadeClassifier(self.path)
        if cascade.empty():
            raise FaceDetectorError(f"Cannot load the Haar cascade face detector "
                                    f"{Path(self.path).name} ({self.path}).")
        return cascade

    @property
    def cascade(self):
        """This thread's ``cv2.CascadeClassifier``."""
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = self._local.cascade = self._load()
        return cascade

    @property
    def _clahe(self):
        clahe = getattr(self._local, "clahe", None)
        if clahe is None:
            clahe = self._local.clahe = cv2.createCLAHE(self.clahe_clip, (8, 8))
        return clahe

    # -- one tile ---------------------------------------------------------------------------

    def search_copy(self, gray: np.ndarray, tile: np.ndarray) -> tuple[np.ndarray, float]:
        """The grey copy of one tile that the cascade searches.

        Parameters
        ----------
        gray : np.ndarray
            ``(H, W) uint8`` grey frame.
        tile : np.ndarray
            ``(4,)`` int tile box, ``x, y, w, h`` in frame pixels.

        Returns
        -------
        copy : np.ndarray
            ``(h, w) uint8``: the tile's pixels inside the frame, rescaled to between
            ``min_tile_h`` and ``max_tile_h`` pixels high, contrast equalised locally (CLAHE);
            ``(0, 0)`` when the tile lies outside the frame.
        scale : float
            Copy pixels per frame pixel.
        """
        x, y, w, h = (int(v) for v in tile)
        crop = gray[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
        if crop.size == 0:
            return np.zeros((0, 0), np.uint8), 1.0
        th = crop.shape[0]
        s = min(1.0, self.max_tile_h / th) if th > self.min_tile_h else self.min_tile_h / th
        if s != 1.0:
            crop = cv2.resize(crop, None, fx=s, fy=s,
                              interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        return self._clahe.apply(crop), s

    def _search(self, img: np.ndarray, min_size: int, max_size: int, angle: float = 0.0,
                scale_factor: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Faces in ``img`` (optionally rotated by ``angle`` first), boxes in ``img`` pixels
        (axis-aligned, centred where the rotated face was), grouped, with scores."""
        rot = None
        if angle:
            h, w = img.shape[:2]
            rot = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
            c, s = abs(rot[0, 0]), abs(rot[0, 1])
            nw, nh = int(math.ceil(h * s + w * c)), int(math.ceil(h * c + w * s))
            rot[0, 2] += nw / 2 - w / 2
            rot[1, 2] += nh / 2 - h / 2
            img = cv2.warpAffine(img, rot, (nw, nh), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        if min(img.shape[:2]) < max(min_size, WINDOW):
            return np.zeros((0, 4), np.int32), np.zeros(0, np.float32)
        raw, _, weights = self.cascade.detectMultiScale3(
            img, scaleFactor=scale_factor or self.scale_factor, minNeighbors=0,
            minSize=(min_size, min_size), maxSize=(max_size, max_size), outputRejectLevels=True)
        boxes, scores = group(np.asarray(raw).reshape(-1, 4), np.asarray(weights),
                              self.min_neighbors)
        if rot is not None and len(boxes):
            back = cv2.invertAffineTransform(rot)
            centre = boxes[:, :2] + boxes[:, 2:] / 2.0
            c = np.hstack([centre, np.ones((len(boxes), 1))]) @ back.T
            boxes = np.column_stack([c - boxes[:, 2:] / 2.0, boxes[:, 2:]]).round().astype(np.int32)
        return boxes, scores

    def detect_in_tile(self, gray: np.ndarray, tile: np.ndarray) -> Faces:
        """Every face in one tile, the most confident first.

        Faces of at least ``min_face_frac`` of the tile's height; when there is none, faces
        down to ``fine_face_frac`` at the finer scale step, upright, then rotated by each of
        ``rotations`` until one is found. On the tiles of the real meeting screenshots of
        ``../shared/real_dev`` this finds 169 of 190 faces at 20 ms a tile; the fine upright
        and rotated search on every tile finds 166 at 29 ms, the first search alone 159 at
        7 ms.

        Parameters
        ----------
        gray : np.ndarray
            ``(H, W) uint8`` grey frame.
        tile : np.ndarray
            ``(4,)`` int tile box, ``x, y, w, h`` in frame pixels.

        Returns
        -------
        Faces
            ``k >= 0`` face boxes in frame pixels with the cascade's last-stage score of each
            (higher: surer); no landmarks.
        """
        crop, s = self.search_copy(gray, tile)
        if crop.size == 0:
            return Faces.empty()
        top = min(crop.shape[:2])
        boxes, scores = self._search(crop, max(WINDOW, int(self.min_face_frac * crop.shape[0])),
                                     top)
        fine = max(WINDOW, int(self.fine_face_frac * crop.shape[0]))
        for angle in (0.0,) + self.rotations if len(boxes) == 0 else ():
            boxes, scores = self._search(crop, fine, top, angle, self.fine_scale_factor)
            if len(boxes):
                break
        keep = suppress(boxes, scores)
        return Faces(to_frame(boxes[keep], tile, s).reshape(-1, 4), scores[keep])

    def best_in_tile(self, gray: np.ndarray, tile: np.ndarray) -> np.ndarray:
        """The most confident face of a tile: ``(4,) int32`` xywh frame pixels, or
        ``[-1, -1, -1, -1]`` (the cascade's best score, not the largest face: a face-like
        poster beside the student can be larger than their face)."""
        boxes = self.detect_in_tile(gray, tile).boxes
        return boxes[0].copy() if len(boxes) else NO_FACE.copy()

    # -- a frame region ---------------------------------------------------------------------

    def plan(self, region, min_face_px: int | None = None, max_face_px: int | None = None,
             piece: float = 250.0) -> list[SearchJob]:
        """The pieces of a full face search of ``region``.

        Parameters
        ----------
        region : array-like
            ``(4,)`` xywh frame pixels.
        min_face_px, max_face_px : int, optional
            Face sizes searched, frame pixels (default :attr:`min_face_px` and the region's
            shorter side).
        piece : float
            Largest estimated cost of a piece (thousands of cascade windows, about 30 ms on one
            core of the development machine): the face sizes are cut into ranges, and a range
            into horizontal bands overlapping by its largest face, until each piece is within
            it (at most 4 ranges of 4 bands), so that two threads share a search and a live
            analysis can spread one over several frames.

        Returns
        -------
        list of SearchJob
            Upright pieces first (frame resolution, at most ``max_side``), then the rotated ones
            (half that, faces of 40 pixels and more), each group from the smallest faces up.
        """
        x, y, w, h = (int(v) for v in region)
        if w <= 0 or h <= 0:
            return []
        lo = int(min_face_px or self.min_face_px)
        hi = int(max_face_px or min(w, h))
        s = min(1.0, self.max_side / max(w, h))
        passes = [(s, 0.0, lo)]
        if min(w, h) * s * 0.5 >= 2 * WINDOW and hi >= 40:
            passes += [(0.5 * s, a, max(lo, 40)) for a in self.rotations]
        jobs: list[SearchJob] = []
        for scale, angle, low in passes:
            cw, ch = w * scale, h * scale
            grow = 1.0 if angle == 0 else abs(math.cos(math.radians(angle))) + abs(
                math.sin(math.radians(angle)))  # the rotated copy is larger
            levels = _levels(self.scale_factor, max(WINDOW, int(low * scale)),
                             int(min(cw, ch, hi * scale)))
            costs = [_windows(cw * grow, ch * grow, v) for v in levels]
            total = sum(costs)
            if not levels:
                continue
            n = int(min(4, max(1, round(total / piece))))
            chunks: list[list[int]] = [[]]
            acc = 0.0
            for v, c in zip(levels, costs):
                if chunks[-1] and acc + c / 2 > total / n * len(chunks):
                    chunks.append([])
                chunks[-1].append(v)
                acc += c
            for chunk in chunks:
                cost = sum(_windows(cw * grow, ch * grow, v) for v in chunk)
                top = chunk[-1]
                bands = int(min(4, max(1, round(cost / piece))))
                if angle or ch < 4 * top:
                    bands = 1  # a rotated copy is not cut; nor a band no taller than its faces
                step = ch / bands
                for k in range(bands):
                    y0 = max(0.0, k * step - (top if k else 0))
                    y1 = min(ch, (k + 1) * step + (top if k < bands - 1 else 0))
                    fy0, fy1 = int(y0 / scale), min(h, int(math.ceil(y1 / scale)))
                    jobs.append(SearchJob((x, y + fy0, w, fy1 - fy0), scale, angle, chunk[0],
                                          top, cost * (y1 - y0) / ch))
        return jobs

    def run(self, gray: np.ndarray, job: SearchJob) -> Faces:
        """Run one :class:`SearchJob` on a grey frame.

        Parameters
        ----------
        gray : np.ndarray
            ``(H, W) uint8`` grey frame.
        job : SearchJob

        Returns
        -------
        Faces
            Frame-pixel face boxes and scores.
        """
        x, y, w, h = job.region
        crop = gray[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
        if crop.size == 0:
            return Faces.empty()
        if job.scale != 1.0:
            crop = cv2.resize(crop, None, fx=job.scale, fy=job.scale,
                              interpolation=cv2.INTER_AREA if job.scale < 1 else cv2.INTER_LINEAR)
        boxes, scores = self._search(crop, job.min_size, job.max_size, job.angle)
        return Faces(to_frame(boxes, (max(0, x), max(0, y), w, h), job.scale).reshape(-1, 4),
                     scores)

    def run_all(self, gray: np.ndarray, jobs: Iterable[SearchJob], workers: int = 2) -> Faces:
        """Run several jobs (on ``workers`` threads) and merge their faces
        (:func:`~fer_desktop.analysis.boxes.suppress`), best first."""
        jobs = list(jobs)
        if workers > 1 and len(jobs) > 1:
            order = sorted(range(len(jobs)), key=lambda i: -jobs[i].cost)
            found = dict(zip(order, thread_pool(workers).map(
                lambda i: self.run(gray, jobs[i]), order)))
            parts = [found[i] for i in range(len(jobs))]
        else:
            parts = [self.run(gray, j) for j in jobs]
        found = Faces.concat(parts)
        if not len(found):
            return found
        # the upright searches' faces win over the rotated ones of the same face
        upright = np.concatenate([np.full(len(p), j.angle == 0) for p, j in zip(parts, jobs)])
        return found[suppress(found.boxes, found.scores + np.where(upright, 1e3, 0.0))]

    def detect_in_region(self, gray: np.ndarray, region, min_face_px: int | None = None,
                         workers: int = 2) -> Faces:
        """Every face in a frame region (the whole :meth:`plan`, on ``workers`` threads)."""
        return self.run_all(gray, self.plan(region, min_face_px), workers)

    def detect(self, image: np.ndarray, region=None, min_face_px: int | None = None) -> Faces:
        """:class:`~fer_desktop.analysis.faces.FaceDetector`'s search: every face of ``image``
        (``(H, W, 3) uint8`` BGR or ``(H, W) uint8`` grey) or of ``region`` (xywh) of it."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if region is None:
            region = (0, 0, gray.shape[1], gray.shape[0])
        return self.detect_in_region(gray, region, min_face_px)

    def detect_near(self, gray: np.ndarray, box, grow: float = 0.6) -> Faces:
        """The face near a known face box (a face followed from the last frame): the box grown
        by ``grow`` of its side each way, searched for faces of 0.7-1.45 times its size."""
        x, y, w, h = (float(v) for v in box)
        m = grow * max(w, h)
        H, W = gray.shape[:2]
        x0, y0 = int(max(0, x - m)), int(max(0, y - m))
        x1, y1 = int(min(W, x + w + m)), int(min(H, y + h + m))
        side = max(w, h)
        s = min(1.0, 4 * WINDOW / side)  # the face at about 80 pixels: cheap and still sharp
        lo = max(WINDOW, int(0.7 * side * s))
        job = SearchJob((x0, y0, x1 - x0, y1 - y0), s, 0.0, lo, max(lo, int(1.45 * side * s)),
                        0.0)
        return self.run(gray, job)
