"""Find the tiles of a video-call gallery view in a screenshot.

A gallery view is a grid of equally sized, roughly 16:9 video tiles laid on a uniform background
with thin gaps (Zoom, Meet and Teams all draw it so), often with a partial, centred last row and
the meeting window's title bar and toolbars around it. The method:

1. take the most frequent colours of the frame as candidate background colours (near-equal
   shades merged);
2. for each candidate, mask the pixels within ``tolerance`` of it, in colour and, separately, in
   the median-filtered grey frame (compressed video spoils colours near edges), open the
   complementary mask (3x3) to cut compression bridges across the gaps, and take its connected
   components;
3. keep components shaped like a tile (aspect 1.15..2.4, at least 64x36 pixels, mostly
   non-background, not a shared document) and take the largest group of equal-sized ones;
4. cut components as large as several tiles of the group plus their gaps (tiles merged across
   a gap by compression) into tiles on the group's pitch, and join the pieces of a tile that
   background-coloured content cut apart (a dark suit reaching the gap) in its grid cell;
5. when the group is a strip (one row or column: the thumbnails of a speaker view or a shared
   screen), add the speaker's tile: the largest other tile-shaped component beside the strip;
6. join the tiles of the colour and grey masks; the candidate giving the most tiles wins, and
   takes the tiles of its size that only the other candidates' masks found.

Shared slides and documents (a plain page with ink spread across it,
:class:`fer_desktop.analysis.tiles.Plainness`) are never tiles.

A frame with no grid (a webcam picture) is one tile covering the whole frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.boxes import intersection
from fer_desktop.analysis.cvutil import cv2, thread_pool
from fer_desktop.analysis.tiles import plainness

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
    its median), skipping colours that cover under 2 % of the frame and colours within 4 levels
    of a more frequent one (a title bar a shade off the toolbar). Counted on every 8th pixel of
    every 8th row (32,400 pixels of a 1080p frame; the 240-layout corpus finds the same tiles
    as with every 4th)."""
    sample = img[::8, ::8].reshape(-1, 3)
    q = (sample >> 3).astype(np.int32)
    packed = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    counts = np.bincount(packed, minlength=1 << 15)
    common = np.flatnonzero(counts >= 0.02 * len(packed))  # 50 at most
    out: list[tuple[int, int, int]] = []
    for value in common[np.argsort(counts[common], kind="stable")[::-1]]:
        if len(out) == k:
            break
        colour = tuple(int(v) for v in np.median(sample[packed == value], axis=0))
        if all(max(abs(a - b) for a, b in zip(colour, c)) > 4 for c in out):
            out.append(colour)
    return out


def _background_masks(img: np.ndarray, gray: np.ndarray, k: int, tolerance: int):
    """Yield ``(colour, tight, masks)`` for each candidate background: its mask in colour and
    in the median-filtered grey frame, and whether they are the tight ones (below).

    Two kinds of mask: a BGR colour (separates a dark-blue sweater from a black background)
    and a grey level of the median-filtered (3x3) grey frame (resists the chroma bleeding and
    ringing of compressed screen-share video, which can bridge a thin gap in colour).

    A candidate within ``tolerance`` of another one is also tried in grey with a tolerance under
    half their distance: two frequent flat colours a few levels apart may be two things the
    app draws (Zoom paints its cells, and the bands beside a narrow video in them, 8 levels
    lighter than the background), which must fall on either side of the mask.
    """
    smooth = cv2.medianBlur(gray, 3)
    colours = _candidate_colours(img, k)
    for colour in colours:
        near = [max(abs(a - b) for a, b in zip(colour, c)) for c in colours if c != colour]
        tight = min([tolerance] + [max(2, d // 2 - 1) for d in near])
        level = int(round(0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]))
        lo = np.array([max(0, c - tolerance) for c in colour], np.uint8)
        hi = np.array([min(255, c + tolerance) for c in colour], np.uint8)
        yield colour, False, (
            cv2.inRange(img, lo, hi),
            cv2.inRange(smooth, max(0, level - tolerance), min(255, level + tolerance)))
        if tight < tolerance:  # grey only: compression noise in colour would cut the gaps
            yield colour, True, (cv2.inRange(smooth, max(0, level - tight), level + tight),)


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


def _is_line(boxes: np.ndarray) -> bool:
    """Whether ``(n, 4)`` xywh boxes lie in one row or one column (a strip of thumbnails)."""
    tol = 0.25 * boxes[:, 3].min()
    return bool(np.ptp(boxes[:, 1]) <= tol or np.ptp(boxes[:, 0]) <= 0.25 * boxes[:, 2].min())


def _overlap_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(len(a), len(b)) bool``: whether each xywh box of ``a`` overlaps each of ``b``."""
    return intersection(a, b) > 0


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    """Whether the xywh ``box`` overlaps any of ``boxes``."""
    return bool(len(boxes)) and bool(_overlap_matrix(box, boxes).any())


def _same_size(box: np.ndarray, boxes: np.ndarray, rel_tol: float = 0.04) -> bool:
    """Whether ``box`` has the width and height of one of ``boxes`` within ``rel_tol``."""
    return bool(((np.abs(boxes[:, 2] - box[2]) <= max(3, rel_tol * box[2]))
                 & (np.abs(boxes[:, 3] - box[3]) <= max(3, rel_tol * box[3]))).any())


def _gaps(group: np.ndarray) -> tuple[float, float]:
    """Median horizontal and vertical gap (pixels) between neighbouring tiles of a group of
    equal tiles; one stands in for the other when only one is seen, and 3 % of the tile width
    for both when the group is a single tile."""
    gx, gy = [], []
    for x, y, w, h in group:
        dx = group[:, 0] - (x + w)
        same_row = np.abs(group[:, 1] - y) <= 2
        gx += dx[same_row & (dx >= 0) & (dx < w)].tolist()
        dy = group[:, 1] - (y + h)
        same_col = np.abs(group[:, 0] - x) <= 2
        gy += dy[same_col & (dy >= 0) & (dy < h)].tolist()
    fx = float(np.median(gx)) if gx else None
    fy = float(np.median(gy)) if gy else None
    default = 0.03 * float(group[0, 2])
    return (fx if fx is not None else fy if fy is not None else default,
            fy if fy is not None else fx if fx is not None else default)


def _split_merged(stats: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Tiles of the grid that compression or a thin gap merged into one component: components
    (``stats`` rows ``x, y, w, h, area``) exactly as large as ``kx`` by ``ky`` tiles of the
    group with the group's gaps between them are cut into those tiles."""
    tw, th = float(np.median(group[:, 2])), float(np.median(group[:, 3]))
    gx, gy = _gaps(group)
    out = []
    w, h = stats[:, 2].astype(np.float64), stats[:, 3].astype(np.float64)
    kxs = np.round((w + gx) / (tw + gx)).astype(np.int64)
    kys = np.round((h + gy) / (th + gy)).astype(np.int64)
    fits = ((kxs * kys >= 2) & (kxs <= 7) & (kys <= 7) & (stats[:, 4] >= 0.5 * w * h)
            & (np.abs(w - (kxs * tw + (kxs - 1) * gx)) <= np.maximum(4.0, 0.03 * w))
            & (np.abs(h - (kys * th + (kys - 1) * gy)) <= np.maximum(4.0, 0.03 * h)))
    for (x, y, w, h, _), kx, ky in zip(stats[fits], kxs[fits], kys[fits]):
        box = np.array([x, y, w, h])
        if _overlaps(box, group):
            continue
        for j in range(ky):
            for i in range(kx):
                cx, cy = x + i * (tw + gx), y + j * (th + gy)
                # on the pitch of the group's tiles in the same row or column, when there are
                row = group[np.abs(group[:, 1] - cy) <= 0.25 * th]
                if len(row):
                    k = round((cx - row[0, 0]) / (tw + gx))
                    if abs(cx - (row[0, 0] + k * (tw + gx))) <= 0.1 * tw:
                        cx = row[0, 0] + k * (tw + gx)
                col = group[np.abs(group[:, 0] - cx) <= 0.25 * tw]
                if len(col):
                    k = round((cy - col[0, 1]) / (th + gy))
                    if abs(cy - (col[0, 1] + k * (th + gy))) <= 0.1 * th:
                        cy = col[0, 1] + k * (th + gy)
                out.append((round(cx), round(cy), round(tw), round(th)))
    return np.array(out, np.int64).reshape(-1, 4)


def _add_missing(tiles: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``tiles`` (``(n, 4)`` xywh) with the boxes of ``other`` that overlap none of them and
    have the size of one of them."""
    if len(tiles) == 0 or len(other) == 0:
        return tiles
    # most boxes are tiles already found: drop those at once, then add one at a time
    for b in other[~_overlap_matrix(other, tiles).any(axis=1)]:
        if not _overlaps(b, tiles) and _same_size(b, tiles):
            tiles = np.concatenate([tiles, b[None].astype(np.int64)])
    return tiles


def _join_cut(stats: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Tiles of the grid that background-coloured content cut into pieces (a dark suit and a
    dark flag from the tile's top to its bottom, through compression): at each empty cell where
    a column and a row of the group's tiles cross, the components (``stats`` rows ``x, y, w, h,
    area``) lying inside the cell that together span it and cover half of it. ``(k, 4)``
    xywh cells, possibly empty."""
    tw, th = float(np.median(group[:, 2])), float(np.median(group[:, 3]))

    def lines(v: np.ndarray, size: float) -> list[float]:
        out: list[float] = []
        for c in np.sort(v):
            if not out or c - out[-1] > 0.25 * size:
                out.append(float(c))
        return out

    out = []
    tol_x, tol_y = max(3.0, 0.03 * tw), max(3.0, 0.03 * th)
    x0, y0 = stats[:, 0], stats[:, 1]
    x1, y1 = x0 + stats[:, 2], y0 + stats[:, 3]
    cells = np.array([(cx, cy, tw, th) for cy in lines(group[:, 1], th)
                      for cx in lines(group[:, 0], tw)])
    for cx, cy, _, _ in cells[~_overlap_matrix(cells, group).any(axis=1)]:
        inside = ((x0 >= cx - tol_x) & (x1 <= cx + tw + tol_x)
                  & (y0 >= cy - tol_y) & (y1 <= cy + th + tol_y))
        if not inside.any() or stats[inside, 4].sum() < 0.5 * tw * th:
            continue
        if (abs(x0[inside].min() - cx) <= tol_x and abs(x1[inside].max() - cx - tw) <= tol_x
                and abs(y0[inside].min() - cy) <= tol_y
                and abs(y1[inside].max() - cy - th) <= tol_y):
            out.append((round(cx), round(cy), round(tw), round(th)))
    return np.array(out, np.int64).reshape(-1, 4)


def _speaker_tile(cand: np.ndarray, strip: np.ndarray, gray: np.ndarray) -> np.ndarray | None:
    """The large (or, beside one large tile, the small) tile that goes with a strip of equal
    thumbnails in a speaker view: the largest tile-shaped component of another size beside the
    strip that is not a shared document (:class:`fer_desktop.analysis.tiles.Plainness`)."""
    if not _is_line(strip):
        return None
    a = float(strip[0, 2]) * float(strip[0, 3])
    x0, y0 = strip[:, 0].min(), strip[:, 1].min()
    x1, y1 = (strip[:, 0] + strip[:, 2]).max(), (strip[:, 1] + strip[:, 3]).max()
    row = np.ptp(strip[:, 1]) <= 0.25 * strip[:, 3].min()
    best = None
    for box in cand:
        area = float(box[2]) * float(box[3])
        if 0.5 * a < area < 2 * a or _overlaps(box, strip):
            continue
        if len(strip) > 1 and area < a:  # beside a strip of two or more, the speaker is larger
            continue
        # thumbnails are at least 15 % as wide as the speaker (toolbar buttons are less)
        if not 0.15 <= box[2] / strip[0, 2] <= 1 / 0.15:
            continue
        # beside the strip: below or above a row, left or right of a column, overlapping its span
        beside_row = box[0] < x1 and box[0] + box[2] > x0
        beside_col = box[1] < y1 and box[1] + box[3] > y0
        if not (beside_row or beside_col if len(strip) == 1 else beside_row if row
                else beside_col):
            continue
        if best is not None and area <= float(best[2]) * float(best[3]):
            continue
        best = box
    return best


def _is_document(gray: np.ndarray, box: np.ndarray, memo: dict) -> bool:
    """Whether ``box`` (xywh) of the grey frame is a shared document; ``memo`` keeps the
    answers per box (the masks of one frame share most of their components)."""
    key = tuple(int(v) for v in box)
    if key not in memo:
        memo[key] = plainness(gray, box).document
    return memo[key]


def _step_share(small: np.ndarray, axis: int) -> np.ndarray:
    """Per column (``axis`` 1) or row (0) of a grey image, the share of its pixels where the grey
    level steps by more than 12 across it: near 1 on the straight boundary between two videos
    drawn side by side, or on a thin separator between them."""
    img = small if axis == 1 else small.T
    h = img.shape[0]
    m = max(1, h // 50)
    share = np.zeros(img.shape[1], np.float64)
    share[1:-1] = (np.abs(img[m:h - m, 2:] - img[m:h - m, :-2]) > 12).mean(axis=0)
    return share


def _equal_cuts(share: np.ndarray, min_len: float) -> list[list[float]]:
    """Ways to cut a block into equal parts (2 to 7) at least ``min_len`` long whose every
    boundary has a line: a step share of at least 0.6 within 4 % of the block's length of where
    it should be (parts of a grid are equal; apps may give a few percent more to one). The cut
    positions (pixels) of each way, the one whose weakest line is strongest first (the
    content of the videos can line up with the boundaries of a wrong number of parts, but not
    as sharply)."""
    n = len(share)
    ways = []
    for k in range(7, 1, -1):
        if n / k < min_len:
            continue
        tol = max(2, int(0.04 * n))
        cuts = []
        for i in range(1, k):
            at = round(i * n / k)
            lo, hi = max(1, at - tol), min(n - 1, at + tol + 1)
            j = lo + int(np.argmax(share[lo:hi]))
            if share[j] < 0.6:
                break
            cuts.append(float(j))
        else:
            ways.append((min(share[int(c)] for c in cuts), k, cuts))
    return [cuts for _, _, cuts in sorted(ways, key=lambda w: (-w[0], -w[1]))]


def _cut_block(gray: np.ndarray, box: np.ndarray, scale: float) -> np.ndarray | None:
    """The tiles of a solid block of videos drawn edge to edge (no background between them:
    BigBlueButton's webcam dock, Nextcloud Talk's grid, a 2x2 Zoom gallery whose one-pixel gaps
    compression filled; a floating strip of thumbnails): the block cut into equal columns and
    rows at straight lines (:func:`_equal_cuts`, the clearest way first) when that gives two or
    more tile-shaped cells (a strip of them without the bar along its top or bottom: a straight
    line across the block in its outer fifth). A single video is not cut: halves or quarters of
    it are not tile-shaped, and its content rarely has a straight edge across its whole height
    exactly where a grid's would be. ``(k, 4)`` xywh frame pixels, or None."""
    x, y, w, h = (int(v) for v in box)
    crop = gray[y:y + h, x:x + w]
    if crop.size == 0:
        return None
    s = min(1.0, 640.0 / max(w, h))
    small = (cv2.resize(crop, (max(1, round(w * s)), max(1, round(h * s))),
                        interpolation=cv2.INTER_AREA) if s < 1 else crop).astype(np.int16)
    col_share, row_share = _step_share(small, 1), _step_share(small, 0)
    col_ways = _equal_cuts(col_share, MIN_TILE_W * scale * s) + [[]]
    row_ways = _equal_cuts(row_share, MIN_TILE_H * scale * s) + [[]]
    for xs in col_ways:
        for ys in row_ways:
            if not xs and not ys:
                continue
            # a bar along the block's top or bottom (a floating window's title bar) is not in
            # the tiles
            top, bottom = 0.0, float(len(row_share))
            if not ys and len(row_share) >= 10:
                edge = max(2, len(row_share) // 5)
                i = int(np.argmax(row_share[:edge]))
                j = len(row_share) - edge + int(np.argmax(row_share[-edge:]))
                top = float(i) if row_share[i] >= 0.8 else 0.0
                bottom = float(j) if row_share[j] >= 0.8 else bottom
            cx = [0.0] + [v / s for v in xs] + [float(w)]
            cy = [top / s] + [v / s for v in ys] + [min(float(h), bottom / s)]
            cells = np.array([(x + round(a), y + round(b), round(c - a), round(d - b))
                              for b, d in zip(cy, cy[1:]) for a, c in zip(cx, cx[1:])],
                             np.int64)
            aspect = cells[:, 2] / np.maximum(cells[:, 3], 1)
            if ((aspect >= MIN_ASPECT) & (aspect <= MAX_ASPECT)).all():
                return cells
    return None


def _panels(small: np.ndarray, min_side: float, depth: int = 0) -> list[tuple[int, int, int, int]]:
    """The panels of a window: the grey image cut, again and again, at its strongest straight
    line running all the way across it (a step share of 0.9 or more, :func:`_step_share`), at
    least ``min_side`` from its sides (recursive XY cut at lines instead of at blank bands:
    an app's header, side panels and content areas are drawn edge to edge). ``(x, y, w, h)``
    pixels of ``small``."""
    h, w = small.shape
    if depth >= 8:
        return [(0, 0, w, h)]
    best = None
    for axis, length in ((1, w), (0, h)):
        share = _step_share(small, axis)
        lo, hi = int(min_side), int(length - min_side)
        if hi <= lo:
            continue
        i = lo + int(np.argmax(share[lo:hi]))
        if share[i] >= 0.9 and (best is None or share[i] > best[0]):
            best = (share[i], axis, i)
    if best is None:
        return [(0, 0, w, h)]
    _, axis, i = best
    if axis == 1:
        parts = [((0, 0), small[:, :i]), ((i, 0), small[:, i:])]
    else:
        parts = [((0, 0), small[:i]), ((0, i), small[i:])]
    out = []
    for (ox, oy), part in parts:
        out += [(x + ox, y + oy, pw, ph) for x, y, pw, ph in _panels(part, min_side, depth + 1)]
    return out


def _panel_grid(gray: np.ndarray, scale: float) -> np.ndarray:
    """The tiles of a grid of videos drawn edge to edge with each other and with the rest of
    the window (Nextcloud Talk's grid between its header and its chat): the window's panels
    (:func:`_panels`; a block of several tiles also cut at its equal lines, :func:`_cut_block`)
    grouped by equal size among the tile-shaped ones, when at least half of the group hold a
    picture rather than a plain card or a page (:class:`fer_desktop.analysis.tiles.Plainness`). A frame
    with no line across it (a photo, a room camera) has no such grid. ``(k, 4)`` xywh,
    possibly empty."""
    H, W = gray.shape
    s = min(1.0, 960.0 / max(H, W))
    small = cv2.resize(gray, (round(W * s), round(H * s)),
                       interpolation=cv2.INTER_AREA).astype(np.int16) if s < 1 else \
        gray.astype(np.int16)
    panels = _panels(small, MIN_TILE_H * scale * s)
    none = np.zeros((0, 4), np.int64)
    if len(panels) < 2:
        return none
    cand = []
    for x, y, w, h in panels:
        box = np.array([round(x / s), round(y / s), round(w / s), round(h / s)], np.int64)
        cand.append(box)
        if box[2] >= 2 * MIN_TILE_W * scale or box[3] >= 2 * MIN_TILE_H * scale:
            cells = _cut_block(gray, box, scale)
            if cells is not None:
                cand += list(cells)
    cand = np.array(cand, np.int64).reshape(-1, 4)
    aspect = cand[:, 2] / np.maximum(cand[:, 3], 1)
    cand = cand[(aspect >= MIN_ASPECT) & (aspect <= MAX_ASPECT)
                & (cand[:, 2] >= MIN_TILE_W * scale) & (cand[:, 3] >= MIN_TILE_H * scale)]
    if len(cand) < 2:
        return none
    group = cand[_group_equal_sizes(cand)]
    # a block and its own cells are not both tiles: the group keeps boxes apart
    keep: list[np.ndarray] = []
    for b in group[np.argsort(group[:, 2] * group[:, 3], kind="stable")]:
        if not _overlaps(b, np.array(keep).reshape(-1, 4)):
            keep.append(b)
    group = np.array(keep, np.int64).reshape(-1, 4)
    if len(group) < 2:
        return none
    pictures = sum(1 for c in group if not (p := plainness(gray, c)).camera_off and not p.document)
    return group if pictures >= len(group) / 2 else none


def _cut_blocks(stats: np.ndarray, gray: np.ndarray, scale: float, memo: dict) -> np.ndarray:
    """The cells of the solid block of videos among the components ``stats`` that cuts into
    the most (:func:`_cut_block`; a block fills 85 % of its box, is larger than two tiles and
    touches at most one side of the frame): ``(k, 4)`` xywh, possibly empty. ``memo`` keeps the
    cuts per box across the masks of one frame."""
    h, w = gray.shape
    bx, by, bw, bh, area = (stats[:, i] for i in range(5))
    edges = ((bx <= 1).astype(int) + (by <= 1) + (bx + bw >= w - 1) + (by + bh >= h - 1))
    solid = ((area >= 0.85 * bw * bh) & (area >= 0.02 * w * h) & (edges <= 1)
             & ((bw >= 2 * MIN_TILE_W * scale) | (bh >= 2 * MIN_TILE_H * scale)))
    best = np.zeros((0, 4), np.int64)
    for row in stats[solid]:
        key = tuple(int(v) for v in row[:4])
        if key not in memo:
            memo[key] = _cut_block(gray, row[:4], scale)
        cells = memo[key]
        if cells is not None and len(cells) > len(best):
            best = cells
    return best


def _layout(stats: np.ndarray, gray: np.ndarray, scale: float,
            memo: dict | None = None, cut: bool = False) -> tuple[np.ndarray, int]:
    """The tiles among the components ``stats`` (rows ``x, y, w, h, area``) of one background
    mask: the largest group of equal tile-shaped components, merged tiles cut apart, cut tiles
    joined, and the speaker tile that goes with a strip: ``(k, 4)`` xywh, possibly empty, and
    how many of them were joined from pieces. With ``cut``, when that gives fewer than two
    tiles, a solid block of videos drawn edge to edge is cut into its cells
    (:func:`_cut_blocks`), which are taken when they are more (all of them count as joined).
    ``memo`` keeps, across the masks of one frame, which boxes are shared documents and how
    blocks are cut."""
    memo = {} if memo is None else memo
    tiles, joined = _group_layout(stats, gray, scale, memo.setdefault("documents", {}))
    if cut and len(tiles) < 2:
        cells = _cut_blocks(stats, gray, scale, memo.setdefault("blocks", {}))
        if len(cells) > len(tiles):
            return cells, len(cells)  # all put together from cuts, none found whole
    return tiles, joined


def _group_layout(stats: np.ndarray, gray: np.ndarray, scale: float,
                  documents: dict) -> tuple[np.ndarray, int]:
    """:func:`_layout` without the cutting of blocks."""
    h, w = gray.shape
    bw, bh, area = stats[:, 2], stats[:, 3], stats[:, 4]
    aspect = bw / np.maximum(bh, 1)
    ok = ((bw >= MIN_TILE_W * scale) & (bh >= MIN_TILE_H * scale)
          & (aspect >= MIN_ASPECT) & (aspect <= MAX_ASPECT)
          & (area >= 0.5 * bw * bh)
          & ~((bw >= w - 2) | (bh >= h - 2)))  # a band across the frame is no tile
    cand = stats[ok, :4]
    # a shared document is no tile (only large components are worth the look)
    big = cand[:, 2] * cand[:, 3] > 0.04 * w * h
    if big.any():
        doc = np.array([b and _is_document(gray, c, documents) for b, c in zip(big, cand)], bool)
        cand = cand[~doc]
    if len(cand) == 0:
        return np.zeros((0, 4), np.int64), 0
    group = cand[_group_equal_sizes(cand)]
    rest = stats[~ok]
    if len(rest):
        group = np.concatenate([group, _split_merged(rest, group)])
    joined = _join_cut(stats, group) if len(group) >= 4 else np.zeros((0, 4), np.int64)
    group = np.concatenate([group, joined])
    speaker = _speaker_tile(cand, group, gray)
    if speaker is not None:
        return np.concatenate([group, speaker[None]]), len(joined)
    # a lone tile must be a substantial part of the frame to count as a gallery
    if len(group) == 1 and group[0, 2] * group[0, 3] < 0.08 * w * h:
        return np.zeros((0, 4), np.int64), 0
    return group, len(joined)


def _component_stats(fg: np.ndarray) -> np.ndarray:
    """Boxes and areas of the connected components of a ``(H, W) uint8`` 0/255 foreground
    mask: ``(k, 5) int64`` rows ``x, y, w, h, area`` in the mask's pixels.

    Labelled at half resolution, the largest cost of the gallery search: a half-resolution
    pixel is foreground when at least three of the four pixels under it are, so a gap of one
    pixel between tiles still separates them (it takes two pixels of each 2x2 block it
    crosses, leaving a whole line of background) while a speck of background-coloured noise
    inside a tile does not cut it; boxes come back in full-resolution pixels within one pixel
    of each edge. The half-resolution mask is labelled 8-connected with Grana's block-based
    algorithm (Grana, Borghesani & Cucchiara, IEEE TIP 2010), 1.6x faster than 4-connected
    labelling; a whole line of background stops diagonal steps as well. Small masks are
    labelled 4-connected at full resolution.
    """
    h2, w2 = fg.shape[0] // 2, fg.shape[1] // 2
    if min(h2, w2) < 2 * MIN_TILE_H:  # too small to halve
        n, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=4)
        return stats[1:].astype(np.int64)
    small = cv2.resize(fg[:2 * h2, :2 * w2], (w2, h2), interpolation=cv2.INTER_AREA)
    small = cv2.compare(small, 190, cv2.CMP_GT)  # mean of 3 or 4 foreground pixels: 191, 255
    n, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(small, 8, cv2.CV_32S,
                                                                   cv2.CCL_GRANA)
    stats = stats[1:].astype(np.int64)
    # edges: a tile's first full-resolution column is 2x or 2x - 1, its end 2(x + w) or one more
    stats[:, 0:2] *= 2
    stats[:, 2:4] = 2 * stats[:, 2:4] + 1
    stats[:, 4] *= 4
    return stats


def _differs(gray: np.ndarray, box, level: float, share: float) -> bool:
    """Whether at least ``share`` of the pixels of ``box`` (xywh; every 4th of a large box) are
    more than 3 grey levels from ``level``."""
    x, y, w, h = (int(v) for v in box)
    k = 4 if min(w, h) >= 16 else 1
    patch = gray[max(0, y):max(0, y + h):k, max(0, x):max(0, x + w):k]
    return bool(patch.size) and float((np.abs(patch.astype(np.int16) - level) > 3).mean()) >= share


def _complete_rows(tiles: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """``tiles`` with the cells their rows are missing: in each row of the grid (tiles of the
    group's size), the places one or more pitches left or right of its tiles, within the
    columns the whole grid spans (or one column beyond, where background lies beyond it), where
    the picture is not the background (at least 60 % of a cell's pixels more than 3 grey levels
    from the median grey level in the middle of the gaps beside the grid's tiles; nothing is
    added to a grid with gaps under 2 pixels). A cell the search lost (an
    active-speaker border drawn into the gap joins it to its neighbours; a camera-off card or
    the bands beside a narrow video a few levels off the background) is put back; an empty
    place beside a short last row is background and stays empty. A row lost above or below
    the grid is put back too where its cells are framed by background gaps like the others
    (above, below towards the grid, and on both sides)."""
    if len(tiles) < 2:
        return tiles
    tw, th = float(np.median(tiles[:, 2])), float(np.median(tiles[:, 3]))
    same = ((np.abs(tiles[:, 2] - tw) <= max(3, 0.04 * tw))
            & (np.abs(tiles[:, 3] - th) <= max(3, 0.04 * th)))
    grid = tiles[same]
    if len(grid) < 2:
        return tiles
    gx, _ = _gaps(grid)
    if gx < 2:
        return tiles
    pitch = tw + gx
    x0, x1 = grid[:, 0].min(), (grid[:, 0] + grid[:, 2]).max()
    H, W = gray.shape
    # the background where it matters: in the gaps beside the tiles
    gap = []
    for x, y, w, h in grid:
        for cx in (x - int(np.ceil(gx / 2)), x + w + int(gx // 2)):
            if 0 <= cx < W:
                gap.append(gray[max(0, y):min(H, y + h):4, cx])
    if not gap:
        return tiles
    level = float(np.median(np.concatenate(gap)))
    out = [tiles]
    added = np.zeros((0, 4), np.int64)
    for y in np.unique(grid[:, 1]):
        row = grid[np.abs(grid[:, 1] - y) <= 0.25 * th]
        if row[0, 1] != y and np.abs(row[:, 1] - y).min() > 0:
            continue  # the row was done at its first y
        ref = int(row[0, 0])
        ks = range(int(np.floor((x0 - ref) / pitch)) - 1, int(np.ceil((x1 - ref) / pitch)) + 2)
        for k in ks:
            cx = int(round(ref + k * pitch))
            cell = np.array([cx, int(np.median(row[:, 1])), int(round(tw)), int(round(th))])
            if (cx < 0 or cx + tw > W or cell[1] < 0 or cell[1] + th > H
                    or _overlaps(cell, tiles) or _overlaps(cell, added)):
                continue
            if not _differs(gray, cell, level, 0.6):
                continue
            # a column beyond the grid's span needs the background beyond it, as a grid's edge
            if cx < x0 - 0.1 * tw or cx + tw > x1 + 0.1 * tw:
                side = cx - int(np.ceil(gx / 2)) if cx < x0 else cx + int(round(tw)) + int(gx // 2)
                if not 0 <= side < W or _differs(gray, (side, cell[1], 1, cell[3]), level, 0.2):
                    continue
            added = np.concatenate([added, cell[None]])
    # a row lost above or below the grid (joined to a title bar above it, or to a toolbar):
    # cells under those of the next row, framed by background gaps, with a picture in them
    gy = _gaps(grid)[1]
    if gy >= 2:
        every = np.concatenate([grid, added])
        for edge, dy in ((every[:, 1].min(), -(th + gy)), (every[:, 1].max(), th + gy)):
            row = every[np.abs(every[:, 1] - edge) <= 0.25 * th]
            for x, y, w, h in row:
                cell = np.array([x, int(round(y + dy)), w, h])
                gap_y = (y - int(np.ceil(gy / 2))) if dy < 0 else (y + h + int(gy // 2))
                if (cell[1] < 0 or cell[1] + h > H or _overlaps(cell, tiles)
                        or _overlaps(cell, added) or not _differs(gray, cell, level, 0.6)
                        or _differs(gray, (x, gap_y, w, 1), level, 0.3)):
                    continue
                sides = [(c, cell[1], 1, h)
                         for c in (x - int(np.ceil(gx / 2)), x + w + int(gx // 2)) if 0 <= c < W]
                if sides and not any(_differs(gray, b, level, 0.3) for b in sides):
                    added = np.concatenate([added, cell[None]])
    out.append(added)
    return np.concatenate(out)


def _best_background(candidates: list, results: list):
    """The candidate background whose masks give the best layout: ``(key, tiles, colour)``,
    or None when no mask gives a tile. ``results`` holds ``(layout or None, joined)`` per mask,
    in the order of the candidates' masks."""
    best = None
    start = 0
    for colour, tight, pair in candidates:
        # the colour mask is exact on lossless captures, the grey one survives compression:
        # the tiles of the one that finds more, and those of the other that add to them
        pairs = [(lay, n) for lay, n in results[start:start + len(pair)] if lay is not None]
        start += len(pair)
        if not pairs:
            continue
        pairs.sort(key=lambda p: len(p[0]), reverse=True)
        layouts = [lay for lay, _ in pairs]
        if (len(layouts) == 2 and len(layouts[0]) == len(layouts[1])
                and all(_overlaps(b, layouts[1]) for b in layouts[0])
                and int(layouts[1][:, 2] @ layouts[1][:, 3])
                < int(layouts[0][:, 2] @ layouts[0][:, 3])):
            pairs.reverse()  # the same tiles: the tighter boxes (compression swells colour's)
            layouts.reverse()
        tiles, joined = pairs[0]
        for other in layouts[1:]:
            tiles = _add_missing(tiles, other)
        if len(tiles) == 0:
            continue
        # the most tiles; of as many, those of the usual tolerance (a tight one takes
        # compression noise for content), then those found whole rather than joined from pieces
        # (a darker background level cuts more tiles and swells the rest), then the larger
        key = (len(tiles), not tight, -joined, int(tiles[:, 2] @ tiles[:, 3]))
        if best is None or key > best[0]:
            best = (key, tiles, colour)
    return best


def find_tiles(image: np.ndarray, tolerance: int = 10, max_side: int = 2560,
               n_colours: int = 3, workers: int = 2) -> Tiles:
    """Find the gallery tiles of a BGR frame.

    The tiles of a gallery (equal tiles in rows), of a speaker view (one large tile beside a
    strip of equal thumbnails) or of a shared screen's strip of thumbnails (the shared document
    is no tile); tiles merged by compression across a thin gap are cut apart on the grid's
    pitch.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame.
    tolerance : int
        Largest difference (grey levels) from the background level that still counts as
        background.
    max_side : int
        Frames whose long side is larger (4K screens) are searched at this size (resampled
        bilinearly: ten times cheaper than area averaging on a 4K frame, and the 240-layout
        corpus finds the same tiles either way); the boxes are returned in the original frame's
        pixels.
    n_colours : int
        How many of the most frequent colours and grey levels to try as the background.
    workers : int
        Threads that examine the candidate backgrounds' masks at the same time (OpenCV releases
        the GIL); 1: one after another. The result does not depend on it.

    Returns
    -------
    Tiles
        The tiles, or one tile covering the frame when no gallery is found.

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
                                                interpolation=cv2.INTER_LINEAR)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    memo: dict = {}

    def mask_stats(bg: np.ndarray, k: int = 3) -> np.ndarray:
        fg = cv2.morphologyEx(cv2.bitwise_not(bg), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
        return _component_stats(fg)

    def run(fn, items: list) -> list:
        return (list(thread_pool(workers).map(fn, items)) if workers > 1 and len(items) > 1
                else [fn(i) for i in items])

    candidates = list(_background_masks(img, gray, n_colours, tolerance))
    masks = [bg for _, _, pair in candidates for bg in pair]
    stats = run(mask_stats, masks)
    results = run(lambda st: _layout(st, gray, scale, memo) if len(st) else (None, 0), stats)
    best = _best_background(candidates, results)
    if best is None or len(best[1]) < 2:
        # no gallery of tiles apart: maybe tiles that text or drawings beside them touch (a
        # floating strip of thumbnails on a page; opened wider, thin lines let go), or videos
        # drawn edge to edge (cut at their straight boundaries)
        wide = run(lambda bg: mask_stats(bg, 5), masks)
        cut = run(lambda st: _layout(st, gray, scale, memo, cut=True) if len(st) else (None, 0),
                  wide)
        # (three tiles at least: two boxes of a photo are too easily taken for a pair)
        alt = _best_background(candidates, cut)
        if alt is not None and len(alt[1]) >= 3 and (best is None or len(alt[1]) > len(best[1])):
            best, results = alt, cut
    if best is None or len(best[1]) < 2:
        # nor separated by a background: a grid filling a panel of a window drawn edge to edge
        cells = _panel_grid(gray, scale)
        if len(cells) >= 3 and (best is None or len(cells) > len(best[1])):
            best, results = ((len(cells), False, -len(cells), 0), cells, None), []
    if best is None:
        return Tiles(np.array([[0, 0, w0, h0]], np.int32), grid=False)
    # tiles that the winning background lost and another candidate's masks found, and the
    # cells still missing from the grid's rows
    tiles = best[1]
    for lay, _ in results:
        if lay is not None:
            tiles = _add_missing(tiles, lay)
    tiles = _complete_rows(tiles, gray)
    boxes = tiles.astype(np.float64)
    if scale != 1.0:
        boxes = boxes / scale
    boxes = np.round(boxes).astype(np.int32)
    return Tiles(sort_row_major(boxes), grid=True, background=best[2])


def uncovered_regions(gray: np.ndarray, tiles: np.ndarray, min_side: int,
                      block: int = 8) -> np.ndarray:
    """The parts of a frame that no tile covers and that hold something that could be a face:
    where a tile was missed (a cell the gallery search did not recognise, a video floating over
    a page), a face must still be searched for.

    The frame is cut into ``block`` x ``block`` pixel blocks; a block is busy when its pixels
    span more than 16 grey levels between neighbours (flat backgrounds, gaps and empty bars are
    not), busy blocks outside every tile are grown by two blocks and grouped 8-connected; each
    group is covered by rectangles that are at least half filled (a ring of toolbars around a
    gallery gives its sides, not its bounding box), grown by half of ``min_side`` each way;
    those at least ``min_side`` pixels each way are the regions.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    tiles : np.ndarray
        ``(n, 4)`` xywh tile boxes, frame pixels (may be empty: then the busy part of the
        whole frame is returned).
    min_side : int
        Smallest width and height of a region, pixels.
    block : int
        Block side, pixels.

    Returns
    -------
    np.ndarray
        ``(r, 4) int32`` xywh regions, frame pixels.
    """
    H, W = gray.shape[:2]
    bh, bw = H // block, W // block
    if bh < 1 or bw < 1:
        return np.zeros((0, 4), np.int32)
    g = gray[:bh * block:2, :bw * block:2]
    edges = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    busy = cv2.resize((edges > 16).astype(np.uint8) * 255, (bw, bh),
                      interpolation=cv2.INTER_AREA) > 12
    covered = np.zeros((bh, bw), np.uint8)
    for x, y, w, h in np.asarray(tiles, np.int64).reshape(-1, 4):
        # a tile covers its blocks and the one around it (its border is an edge, not content)
        x0, y0 = max(0, x // block - 1), max(0, y // block - 1)
        x1, y1 = min(bw, -(-(x + w) // block) + 1), min(bh, -(-(y + h) // block) + 1)
        covered[y0:y1, x0:x1] = 1
    cand = (busy & (covered == 0)).astype(np.uint8)
    if not cand.any():
        return np.zeros((0, 4), np.int32)
    cand = (cv2.dilate(cand, np.ones((5, 5), np.uint8)) & (covered == 0)).astype(np.uint8)
    n, labels = cv2.connectedComponents(cand, connectivity=8)
    side = max(1, -(-min_side // block))
    out = []
    for k in range(1, n):
        for bx, by, bw_, bh_ in _cover(labels == k, side):
            x0, y0 = max(0, bx * block - min_side // 2), max(0, by * block - min_side // 2)
            x1 = min(W, (bx + bw_) * block + min_side // 2)
            y1 = min(H, (by + bh_) * block + min_side // 2)
            if x1 - x0 >= min_side and y1 - y0 >= min_side:
                out.append((x0, y0, x1 - x0, y1 - y0))
    return np.array(out, np.int32).reshape(-1, 4)


def _cover(mask: np.ndarray, side: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (xywh, mask pixels) covering the true pixels of a ``(h, w) bool`` mask, each
    at least half filled or under ``4 * side`` each way: a ring of content around a gallery
    becomes its sides, not its bounding box (which would hold the whole gallery)."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return []
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    w, h = x1 - x0, y1 - y0
    if len(ys) >= 0.5 * w * h or (w < 4 * side and h < 4 * side):
        return [(int(x0), int(y0), int(w), int(h))]
    sub = np.zeros_like(mask)
    if w >= h:
        m = x0 + w // 2
        sub[:, x0:m] = mask[:, x0:m]
        rest = mask.copy()
        rest[:, x0:m] = False
    else:
        m = y0 + h // 2
        sub[y0:m] = mask[y0:m]
        rest = mask.copy()
        rest[y0:m] = False
    return _cover(sub, side) + _cover(rest, side)
