"""Box geometry, once and vectorised: every box is ``x, y, w, h`` in pixels (origin top-left).

Shared by the detectors, the gallery, the pipeline and the tracker (the shape of supervision's
``detection/utils/boxes.py``): intersection over union, which region holds a box's centre,
greedy suppression of duplicates, growing and moving boxes between a search copy and the frame.
"""

from __future__ import annotations

import numpy as np


def as_boxes(a, name: str = "boxes", dtype=np.int32) -> np.ndarray:
    """``a`` as an ``(n, 4)`` array of ``dtype`` (an empty input gives ``(0, 4)``).

    Raises
    ------
    ValueError
        If ``a`` is not ``(n, 4)`` (or a single ``(4,)`` box).
    """
    a = np.asarray(a)
    if a.size == 0:
        return np.zeros((0, 4), dtype)
    if a.ndim == 1 and a.shape[0] == 4:
        a = a[None]
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{name} must be (n, 4) xywh, got shape {a.shape}")
    return a.astype(dtype, copy=False)


def centres(boxes) -> np.ndarray:
    """``(n, 2) float64`` centre ``(cx, cy)`` of each xywh box."""
    b = as_boxes(boxes, dtype=np.float64)
    return b[:, :2] + b[:, 2:] / 2.0


def area(boxes) -> np.ndarray:
    """``(n,) float64`` area of each box (0 for boxes of negative size)."""
    b = as_boxes(boxes, dtype=np.float64)
    return np.clip(b[:, 2], 0, None) * np.clip(b[:, 3], 0, None)


def intersection(a, b) -> np.ndarray:
    """``(n, m) float64`` intersection area of every box of ``a`` with every box of ``b``."""
    a = as_boxes(a, dtype=np.float64)
    b = as_boxes(b, dtype=np.float64)
    ix = (np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
          - np.maximum(a[:, None, 0], b[None, :, 0]))
    iy = (np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
          - np.maximum(a[:, None, 1], b[None, :, 1]))
    return np.clip(ix, 0, None) * np.clip(iy, 0, None)


def iou(a, b) -> np.ndarray:
    """``(n, m) float64`` intersection over union of every box of ``a`` with every box of ``b``
    (0 where both are empty)."""
    inter = intersection(a, b)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def overlap_of_smaller(a, b) -> np.ndarray:
    """``(n, m) float64`` intersection over the smaller box's area (1: one box inside the
    other)."""
    inter = intersection(a, b)
    small = np.minimum(area(a)[:, None], area(b)[None, :])
    return np.divide(inter, small, out=np.zeros_like(inter), where=small > 0)


def centre_in(boxes, regions) -> np.ndarray:
    """``(n, r) bool``: whether the centre of each box lies in each region (half-open:
    ``x <= cx < x + w``)."""
    c = centres(boxes)
    r = as_boxes(regions, "regions", np.float64)
    return ((r[None, :, 0] <= c[:, None, 0]) & (c[:, None, 0] < r[None, :, 0] + r[None, :, 2])
            & (r[None, :, 1] <= c[:, None, 1]) & (c[:, None, 1] < r[None, :, 1] + r[None, :, 3]))


def region_of(boxes, regions, among=None, smallest: bool = False) -> np.ndarray:
    """``(n,) int64`` index of the region (of those where ``among`` is True, default all)
    holding each box's centre, or -1: the first such region, or with ``smallest`` the smallest
    (a thumbnail drawn over a speaker's video holds its face)."""
    inside = centre_in(boxes, regions)
    if among is not None:
        inside &= np.asarray(among, bool)[None, :]
    if smallest and inside.size:
        size = np.where(inside, area(regions)[None, :], np.inf)
        first = size.argmin(1)
    else:
        first = inside.argmax(1)
    return np.where(inside.any(1), first, -1).astype(np.int64)


def suppress(boxes, scores, overlap: float = 0.3) -> np.ndarray:
    """Indices of the boxes to keep, best score first (greedy non-maximum suppression): a box is
    dropped when it overlaps a kept one by IoU > ``overlap`` or has its centre inside it (the
    same face found twice, by two searches, at two angles or from both sides of a tile's edge).

    Parameters
    ----------
    boxes : array-like
        ``(k, 4)`` xywh boxes.
    scores : array-like
        ``(k,)`` scores, higher is better (ties keep the earlier box).

    Returns
    -------
    np.ndarray
        ``(j,) int64`` indices into ``boxes``, in order of decreasing score.
    """
    b = as_boxes(boxes, dtype=np.float64)
    if len(b) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(-np.asarray(scores, np.float64).reshape(-1), kind="stable")
    dup = (iou(b, b) > overlap) | centre_in(b, b)  # dup[i, j]: i is a duplicate of kept j
    keep: list[int] = []
    alive = np.ones(len(b), bool)
    for i in order:
        if not alive[i]:
            continue
        keep.append(int(i))
        alive &= ~dup[:, i]
    return np.array(keep, np.int64)


def grow(boxes, f: float) -> np.ndarray:
    """Boxes grown by ``f`` of their width/height on each side: ``(n, 4) float64`` (or ``(4,)``
    for one box)."""
    b = np.asarray(boxes, np.float64)
    one = b.ndim == 1
    b = as_boxes(b, dtype=np.float64)
    out = np.column_stack([b[:, 0] - f * b[:, 2], b[:, 1] - f * b[:, 3],
                           b[:, 2] * (1 + 2 * f), b[:, 3] * (1 + 2 * f)])
    return out[0] if one else out


def clip(boxes, width: int, height: int) -> np.ndarray:
    """``(n, 4) int32`` boxes cut to the ``width`` x ``height`` frame (empty ones keep size 0)."""
    b = as_boxes(boxes, dtype=np.float64)
    x0 = np.clip(b[:, 0], 0, width)
    y0 = np.clip(b[:, 1], 0, height)
    x1 = np.clip(b[:, 0] + b[:, 2], 0, width)
    y1 = np.clip(b[:, 1] + b[:, 3], 0, height)
    return np.round(np.column_stack([x0, y0, x1 - x0, y1 - y0])).astype(np.int32)


def to_frame(boxes, origin, scale: float) -> np.ndarray:
    """Boxes found in a search copy of a region (``scale`` copy pixels per frame pixel, the
    region's top-left corner at ``origin[:2]`` frame pixels, negative corners taken as 0) as
    ``int32`` xywh frame pixels, ``(4,)`` or ``(k, 4)`` as given."""
    out = np.asarray(boxes, np.float64) / scale
    out[..., 0] += max(0, int(origin[0]))
    out[..., 1] += max(0, int(origin[1]))
    return np.round(out).astype(np.int32)
