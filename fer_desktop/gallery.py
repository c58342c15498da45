"""Find the tiles of a video-call gallery view in a screenshot.

A gallery view is a grid of equally sized, roughly 16:9 video tiles laid on a uniform background
with thin gaps (Zoom, Meet and Teams all draw it so), often with a partial, centred last row and
the meeting window's title bar and toolbars around it. The method:

1. take the most frequent colours of the frame as candidate background colours;
2. for each candidate, mask the pixels within ``tolerance`` of it, in colour and, separately, in
   the median-filtered grey frame (compressed video spoils colours near edges), open the complementary mask
   (3x3) to cut compression bridges across the gaps, and take its connected components;
3. keep components shaped like a tile (aspect 1.15..2.4, at least 64x36 pixels, mostly
   non-background) and group them by size; the largest group of equal-sized tiles is the grid;
4. the candidate giving the largest grid wins.

A frame with no grid (a webcam picture) is one tile covering the whole frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_desktop.cvutil import cv2

#: Tile aspect ratios (width / height) accepted; 16:9 is 1.78, Meet crops tiles to about 1.3.
MIN_ASPECT, MAX_ASPECT = 1.15, 2.4
MIN_TILE_W, MIN_TILE_H = 64, 36


@dataclass(frozen=True)
class Tiles:
    """The tiles found in one frame.

    Attributes
    ----------
    boxes : np.ndarray
        ``(n, 4) int32`` tile boxes, ``x, y, w, h`` in frame pixels, row-major order (top row
        first, left to right), ``n >= 1``.
    grid : bool
        True when a gallery grid was found; False when the whole frame is the only tile.
    background : tuple of int or None
        BGR colour of the gallery background, when a grid was found.
    """

    boxes: np.ndarray
    grid: bool
    background: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        b = np.asarray(self.boxes, dtype=np.int32).reshape(-1, 4)
        object.__setattr__(self, "boxes", b)

    def __len__(self) -> int:
        return len(self.boxes)


def _candidate_colours(img: np.ndarray, k: int) -> list[tuple[int, int, int]]:
    """The ``k`` most frequent BGR colours (buckets of 8 levels per channel, each represented by
    its median), skipping colours that cover under 2 % of the frame."""
    sample = img[::4, ::4].reshape(-1, 3)
    q = (sample >> 3).astype(np.int32)
    packed = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    out = []
    for i in np.argsort(counts)[::-1][:k]:
        if counts[i] < 0.02 * len(packed):
            break
        out.append(tuple(int(v) for v in np.median(sample[packed == values[i]], axis=0)))
    return out


def _background_masks(img: np.ndarray, k: int, tolerance: int):
    """Yield ``(background_mask, colour, priority)`` for each candidate background; colour
    masks (priority 1) are exact on lossless screen captures and win ties.

    Two kinds of candidate: a BGR colour (separates a dark-blue sweater from a black background)
    and a grey level of the median-filtered (3x3) grey frame (resists the chroma bleeding and
    ringing of compressed screen-share video, which can bridge a thin gap in colour).
    """
    colours = _candidate_colours(img, k)
    for colour in colours:
        lo = np.array([max(0, c - tolerance) for c in colour], np.uint8)
        hi = np.array([min(255, c + tolerance) for c in colour], np.uint8)
        yield cv2.inRange(img, lo, hi), colour, 1
    gray = cv2.medianBlur(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), 3)
    for colour in colours:
        level = int(round(0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]))
        yield cv2.inRange(gray, max(0, level - tolerance), min(255, level + tolerance)), colour, 0


def _group_equal_sizes(boxes: np.ndarray, rel_tol: float = 0.04) -> np.ndarray:
    """Indices of the largest group of boxes whose width and height agree within ``rel_tol``
    (ties broken by the larger tile area)."""
    best: np.ndarray = np.zeros(0, np.int64)
    best_key = (0, 0)
    for i in range(len(boxes)):
        w, h = boxes[i, 2], boxes[i, 3]
        same = np.flatnonzero((np.abs(boxes[:, 2] - w) <= max(3, rel_tol * w))
                              & (np.abs(boxes[:, 3] - h) <= max(3, rel_tol * h)))
        key = (len(same), int(w * h))
        if key > best_key:
            best, best_key = same, key
    return best


def sort_row_major(boxes: np.ndarray) -> np.ndarray:
    """Sort ``(n, 4)`` xywh boxes top row first, left to right within a row (rows are boxes whose
    vertical centres lie within half a box height of each other)."""
    if len(boxes) == 0:
        return boxes
    cy = boxes[:, 1] + boxes[:, 3] / 2.0
    order = np.argsort(cy, kind="stable")
    rows: list[list[int]] = []
    for i in order:
        if rows and abs(cy[i] - cy[rows[-1][0]]) <= boxes[rows[-1][0], 3] / 2.0:
            rows[-1].append(int(i))
        else:
            rows.append([int(i)])
    flat = [i for row in rows for i in sorted(row, key=lambda j: boxes[j, 0])]
    return boxes[flat]


def find_tiles(image: np.ndarray, tolerance: int = 10, max_side: int = 2560,
               n_colours: int = 3) -> Tiles:
    """Find the gallery tiles of a BGR frame.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame.
    tolerance : int
        Largest difference (grey levels) from the background level that still counts as
        background.
    max_side : int
        Frames whose long side is larger (4K screens) are searched at this size; the boxes are
        returned in the original frame's pixels.
    n_colours : int
        How many of the most frequent colours and grey levels to try as the background.

    Returns
    -------
    Tiles
        The grid's tiles, or one tile covering the frame when no grid is found.

    Raises
    ------
    ValueError
        If ``image`` is not an ``(H, W, 3)`` uint8 array.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} {image.dtype}")
    h0, w0 = image.shape[:2]
    scale = min(1.0, max_side / max(h0, w0))
    img = image if scale == 1.0 else cv2.resize(image, (round(w0 * scale), round(h0 * scale)),
                                                interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    kernel = np.ones((3, 3), np.uint8)
    best: tuple[tuple[int, int, int], np.ndarray, tuple[int, int, int]] | None = None
    for bg, colour, priority in _background_masks(img, n_colours, tolerance):
        fg = cv2.bitwise_not(bg)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
        n, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=4)
        if n <= 1:
            continue
        s = stats[1:]
        bw, bh, area = s[:, 2], s[:, 3], s[:, 4]
        aspect = bw / np.maximum(bh, 1)
        ok = ((bw >= MIN_TILE_W * scale) & (bh >= MIN_TILE_H * scale)
              & (aspect >= MIN_ASPECT) & (aspect <= MAX_ASPECT)
              & (area >= 0.5 * bw * bh)
              & ~((bw >= w - 2) | (bh >= h - 2)))  # a band across the frame is no tile
        cand = s[ok, :4]
        if len(cand) == 0:
            continue
        group = cand[_group_equal_sizes(cand)]
        # a lone tile must be a substantial part of the frame to count as a gallery
        if len(group) == 1 and group[0, 2] * group[0, 3] < 0.08 * w * h:
            continue
        key = (len(group), priority, int(group[:, 2].astype(np.int64) @ group[:, 3]))
        if best is None or key > best[0]:
            best = (key, group, colour)
    if best is None:
        return Tiles(np.array([[0, 0, w0, h0]], np.int32), grid=False)
    boxes = best[1].astype(np.float64)
    if scale != 1.0:
        boxes = boxes / scale
    boxes = np.round(boxes).astype(np.int32)
    return Tiles(sort_row_major(boxes), grid=True, background=best[2])
