"""Tiles completed from the regular lattice of a gallery: where the background between cells
shows no tile (cells that touch on black, thumbnails drawn over the speaker's video, a cell that
an active-speaker border joined to its neighbours), the participants' faces, name labels and
round avatars, laid out on the app's regular grid, say where the cells are (issue 19, item 5).

Apps lay their cells out on a lattice: equal cells in rows on one horizontal and one vertical
pitch (a partial last row centred on its own), or one row or column of equal thumbnails. A
participant's face sits in the upper middle of their cell, their name label at its bottom (left
or centre) and, camera off, their round profile picture or initials in its middle.
:func:`complete_tiles` uses two kinds of lattice:

1. **The found tiles'** (:func:`tile_lattice`, from
   :func:`fer_desktop.analysis.gallery.find_tiles`' largest group of equal tiles): it is grown
   one site at a time, from its tiles, to the sites that hold a face no tile explains; then a
   site between two of its cells in a row that shows a name label or an avatar, or a site of
   its rows and columns that shows a label where its cells show theirs, gets its cell.
2. **The faces'** (:func:`face_lattice`), for faces that no tile explains (outside every tile;
   or small in a large tile, or sharing a tile that is no grid cell with a face of their size:
   thumbnails over the speaker, a frame in which no tile was found): faces of similar height
   are cut into rows, the rows and the faces of each row fitted by a pitch
   (:func:`fit_pitch`), each face's cell as large as the pitches; round profile pictures
   around the faces, where there are, anchor the cells exactly. The cells' sides are moved to
   the straight edges that abutting or overlaid pictures draw, pooled over the cells
   (:func:`snap_edges`). The lattice grows to the other faces on its sites and to the sites
   next to it that show a label where its cells show theirs (:func:`label_box`) or an avatar
   (:func:`fer_desktop.analysis.tiles.avatar_disc`). It is kept only when its cells look like
   an app's cells, not people who happen to sit in a row: framed by straight edges on the
   same sides, or labelled at the same place, or (profile pictures) with more such sites
   around them; for three faces or more, :data:`CREDIBLE` of the cells, for two, every cell.
   A lone face (a speaker view, a one-to-one call) is never a lattice.

No cell is added that overlaps a found tile or another cell by more than :data:`OVERLAP` of
the smaller, unless the tile is at least :data:`BIG` times larger (a thumbnail over the
speaker's video), nor one mostly outside the frame. Frames larger than :data:`MAX_SIDE` are
examined on a smaller copy. Every rule is a trait of how the apps draw their galleries (Zoom,
Meet, Teams, Nextcloud Talk, BigBlueButton, WebRTC apps), none a threshold fitted to one
screenshot; they were checked on the real screenshots and room photos of
``../shared/real_dev``, the generated corpus (:mod:`testing.meetings`) and abutting grids and
strips over a speaker (:mod:`testing.lattices`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis import boxes as bx
from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.faces import Faces
from fer_desktop.analysis.names import text_mask
from fer_desktop.analysis.tiles import avatar_disc

#: Tiles of one grid have the same width and height within this share (as find_tiles groups).
SAME_SIZE = 0.04
#: A face is its tile's when it is at least this share of the tile's height; a smaller face
#: in a tile (a thumbnail drawn over the speaker, a frame with no tile found) is unexplained.
FACE_IN_TILE = 0.15
#: Faces of one lattice differ in height by at most this factor (people sit nearer to or
#: farther from their cameras).
FACE_RATIO = 2.5
#: A face's centre lies within this share of a pitch of its site's centre (webcams frame people
#: off-centre: up to about a fifth of the cell on the real screenshots).
SITE_TOL = 0.25
#: In fitting a pitch, an empty site between held ones costs as much as this share of a
#: pitch of residual, per held site.
EMPTY_COST = 0.1
#: A cell is at least this many face widths wide ...
MIN_PITCH_FACES = 1.5
#: ... and its face between these shares of its height.
MIN_FACE_CELL, MAX_FACE_CELL = 0.1, 0.85
#: Where a face's centre lies in its cell, as a share of the cell's height from its top.
FACE_AT = 0.45
#: Profile pictures are looked for around faces at most this share of the frame's height (a
#: picture is about a third of its cell's height, its face a third of the picture at most).
DISC_FACE = 0.12
#: Cell aspect (width / height) assumed where the faces give only one of the pitches.
ASPECT = 16 / 9
#: A cell overlaps a found tile or another cell by at most this share of the smaller ...
OVERLAP = 0.15
#: ... unless the tile is at least this many times larger (a thumbnail over the speaker).
BIG = 4.0
#: Frames larger than this (pixels, long side) are examined on a smaller copy.
MAX_SIDE = 1920
#: A straight edge: at least this share of the pixels along a line differ by more than
#: :data:`EDGE_LEVELS` grey levels across it.
EDGE_SUPPORT = 0.45
EDGE_LEVELS = 10
#: A lattice of three faces or more is kept when this share of its cells look like cells.
CREDIBLE = 0.75


@dataclass(frozen=True)
class Lattice:
    """A regular arrangement of equal cells: rows on one vertical pitch, each row's cells on
    one horizontal pitch.

    Attributes
    ----------
    cells : np.ndarray
        ``(n, 4) int32`` the cells known to hold a participant, xywh frame pixels.
    sites : np.ndarray
        ``(n, 2) int64`` ``(row, column)`` of each cell: cell ``(r, k)`` lies at
        ``x = origins[r] + k * pitch[0]``, ``y = tops[r]``.
    size : tuple of float
        ``(w, h)`` of a cell, pixels.
    pitch : tuple of float or None
        ``(px, py)`` pixels from one cell to the next in a row and between rows; None where
        only one column or row is seen.
    origins, tops : np.ndarray
        ``(r,) float64`` x of column 0 and y of each row, pixels.
    centred : bool
        The anchors were round profile pictures, which apps centre in their cells.
    edges : np.ndarray or None
        ``(n, 4) float64`` how straight an edge each cell's left, top, right and bottom side
        is (:func:`snap_edges`: the share of its pixels that differ across it), None before.
    """

    cells: np.ndarray
    sites: np.ndarray
    size: tuple[float, float]
    pitch: tuple[float | None, float | None]
    origins: np.ndarray
    tops: np.ndarray
    centred: bool = False
    edges: np.ndarray | None = None

    def top(self, row: int) -> float:
        """y of row ``row`` (rows beyond the known ones on the vertical pitch), pixels."""
        r = int(np.clip(row, 0, len(self.tops) - 1))
        return float(self.tops[r] + (row - r) * (self.pitch[1] or 0.0))

    def origin(self, row: int) -> float:
        """x of column 0 of row ``row`` (a row beyond the known ones: the nearest's), pixels."""
        return float(self.origins[int(np.clip(row, 0, len(self.origins) - 1))])

    def cell(self, row: int, col: int) -> np.ndarray:
        """``(4,) int32`` xywh box of site ``(row, col)``."""
        x = self.origin(row) + col * (self.pitch[0] or 0.0)
        return np.round([x, self.top(row), self.size[0], self.size[1]]).astype(np.int32)

    def site_of(self, x: float, y: float) -> tuple[int, int] | None:
        """``(row, col)`` of the site whose cell holds the point ``(x, y)`` (frame pixels);
        None where it lies in a gap between cells."""
        cw, ch = self.size
        py = self.pitch[1] or np.inf
        near = int(np.argmin(np.abs(self.tops + ch / 2 - y)))
        steps = int(np.floor((y - self.tops[near]) / py)) if np.isfinite(py) else 0
        for row in {near, near + steps, near + steps + 1, near + steps - 1}:
            if not self.top(row) <= y < self.top(row) + ch:
                continue
            col = int(np.floor((x - self.origin(row)) / (self.pitch[0] or np.inf)))
            if self.pitch[0] is None:
                col = 0
            x0 = self.origin(row) + col * (self.pitch[0] or 0.0)
            if x0 <= x < x0 + cw:
                return row, col
        return None


def complete_tiles(image: np.ndarray, tiles: np.ndarray, faces: Faces,
                   max_side: int = MAX_SIDE) -> np.ndarray:
    """The tiles of a meeting screenshot completed by the regular lattice of its participants'
    faces, name labels and avatars (see the module's docstring for the method).

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR frame.
    tiles : np.ndarray
        ``(t, 4)`` xywh tiles found by :func:`fer_desktop.analysis.gallery.find_tiles`
        (possibly the one tile covering a frame without a grid), frame pixels.
    faces : Faces
        Every face found in the frame (:class:`fer_desktop.analysis.yunet.YuNetDetector`).
    max_side : int
        Frames whose long side is larger (4K screens) are examined on a copy this large
        (resampled bilinearly); the cells are returned in the frame's pixels.

    Returns
    -------
    np.ndarray
        ``(t + a, 4) int32``: ``tiles`` unchanged, in their order, then the ``a`` cells added,
        xywh frame pixels inside the frame. An added cell may lie over a much larger tile
        (a thumbnail over the speaker's video): a face there is the cell's.

    Raises
    ------
    ValueError
        If ``image`` is not ``(H, W, 3) uint8``.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} {image.dtype}")
    tiles = bx.as_boxes(tiles)
    H, W = image.shape[:2]
    s = min(1.0, max_side / max(H, W))
    if s < 1.0:
        image = cv2.resize(image, (round(W * s), round(H * s)), interpolation=cv2.INTER_LINEAR)
    scaled = np.round(tiles * s).astype(np.int32)
    added = _complete(image, scaled, np.round(faces.boxes * s).astype(np.int32))
    added = bx.clip(np.round(added / s), W, H)
    return np.concatenate([tiles, added]).astype(np.int32)


def _complete(image: np.ndarray, tiles: np.ndarray, face_boxes: np.ndarray) -> np.ndarray:
    """The cells :func:`complete_tiles` adds (``(a, 4) int32`` xywh), all in ``image``'s
    pixels: first on the found tiles' lattice, then on the faces' lattices."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    placed = np.zeros((0, 4), np.int32)
    grid = tile_lattice(tiles)
    left = ~_explained(face_boxes, tiles, grid)
    if grid is not None:
        cells, used, sites = _place_faces(grid, face_boxes, left, image.shape)
        placed = _add(placed, cells, tiles)
        left &= ~used
        grid = _with_cells(gray, grid, cells, sites)
        placed = _add(placed, _fill_sites(grid, image, gray, tiles, placed, interior_only=True),
                      tiles)
    for members in _size_groups(face_boxes, left):
        if not left[members].all():
            continue
        lat = face_lattice(gray, face_boxes[members])
        if lat is None:
            continue
        # the lattice's other faces (of a size the grouping left out), then its empty sites
        others = left.copy()
        others[members] = False
        more, used, sites = _place_faces(lat, face_boxes, others, image.shape)
        lat = _with_cells(gray, lat, more, sites)
        holes = _fill_sites(lat, image, gray, tiles, placed, interior_only=False)
        if not _credible(lat, image, len(members) + int(used.sum()), len(holes)):
            continue
        placed = _add(placed, np.concatenate([lat.cells, holes]), tiles)
        left &= ~used
        left[members] = False
    return placed


def _explained(face_boxes: np.ndarray, tiles: np.ndarray, grid: Lattice | None) -> np.ndarray:
    """``(n,) bool``: faces whose centre lies in a tile of which they are at least
    :data:`FACE_IN_TILE` of the height, the tile being one of ``grid``'s or holding no other
    face of a height within :data:`FACE_RATIO` of theirs (a frame without a grid is one tile
    holding every face; a speaker's tile, one speaker)."""
    if len(face_boxes) == 0 or len(tiles) == 0:
        return np.zeros(len(face_boxes), bool)
    inside = bx.centre_in(face_boxes, tiles) & (
        face_boxes[:, None, 3] >= FACE_IN_TILE * tiles[None, :, 3])
    in_grid = np.zeros(len(tiles), bool)
    if grid is not None:
        in_grid = (bx.iou(tiles, grid.cells) > 0.99).any(axis=1)
    h = face_boxes[:, 3].astype(np.float64)
    alike = (np.maximum(h[:, None], h[None, :]) <= FACE_RATIO * np.minimum(h[:, None], h[None, :]))
    np.fill_diagonal(alike, False)
    shared = bx.centre_in(face_boxes, tiles)  # (n, t)
    crowded = (alike.astype(np.int64) @ shared.astype(np.int64)) > 0  # (n, t): a like face there
    return (inside & (in_grid[None, :] | ~crowded)).any(axis=1)


def _add(placed: np.ndarray, cells: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """``placed`` with those of ``cells`` that overlap no tile nor placed cell much (see
    :data:`OVERLAP`, :data:`BIG`), one at a time."""
    for cell in bx.as_boxes(cells):
        if cell[2] <= 0 or cell[3] <= 0:
            continue
        if not _overlaps_much(cell, tiles) and not _overlaps_much(cell, placed, big=np.inf):
            placed = np.concatenate([placed, cell[None].astype(np.int32)])
    return placed


def _overlaps_much(cell: np.ndarray, others: np.ndarray, big: float = BIG) -> bool:
    """Whether ``cell`` covers more than :data:`OVERLAP` of the smaller of itself and one of
    ``others`` that is less than ``big`` times its area."""
    if len(others) == 0:
        return False
    share = bx.overlap_of_smaller(cell, others)[0]
    small = bx.area(others) < big * bx.area(cell)[0]
    return bool((share[small] > OVERLAP).any())


def _with_cells(gray: np.ndarray, lat: Lattice, cells: np.ndarray, sites: np.ndarray
                ) -> Lattice:
    """``lat`` holding ``cells`` at ``sites`` too, their sides' edges measured."""
    if len(cells) == 0:
        return lat
    edges = None
    if lat.edges is not None:
        edges = np.concatenate([lat.edges, _side_support(gray, cells)])
    return Lattice(np.concatenate([lat.cells, cells]).astype(np.int32),
                   np.concatenate([lat.sites, sites]), lat.size, lat.pitch, lat.origins,
                   lat.tops, lat.centred, edges)


# --- the found tiles' lattice ----------------------------------------------------------------


def _equal_group(tiles: np.ndarray) -> np.ndarray:
    """Indices of the largest group of tiles of one size (within :data:`SAME_SIZE`), ties to the
    larger tiles."""
    best, key = np.zeros(0, np.int64), (0, 0)
    for w, h in tiles[:, 2:]:
        same = np.flatnonzero((np.abs(tiles[:, 2] - w) <= max(3, SAME_SIZE * w))
                              & (np.abs(tiles[:, 3] - h) <= max(3, SAME_SIZE * h)))
        if (len(same), int(w) * int(h)) > key:
            best, key = same, (len(same), int(w) * int(h))
    return best


def _clusters(v: np.ndarray, tol: float) -> list[np.ndarray]:
    """Indices of ``v`` grouped where sorted neighbours lie within ``tol``."""
    order = np.argsort(v, kind="stable")
    groups: list[list[int]] = []
    for i in order:
        if groups and v[i] - v[groups[-1][-1]] <= tol:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    return [np.array(g, np.int64) for g in groups]


def _pitch_of(starts: list[np.ndarray], size: float) -> float | None:
    """The pitch of equal cells whose starts in each row (or column) are given: the median of
    the steps between neighbours, each divided by its count of pitches (the smallest step at
    least 0.9 cell sizes long being one); None without two cells in one row."""
    steps = np.concatenate([np.diff(np.sort(s)) for s in starts if len(s) > 1] or [np.zeros(0)])
    steps = steps[steps >= 0.9 * size]
    if len(steps) == 0:
        return None
    unit = steps.min()
    k = np.maximum(1, np.round(steps / unit))
    return float(np.median(steps / k))


def tile_lattice(tiles: np.ndarray) -> Lattice | None:
    """The lattice of the largest group of equal tiles (two at least), or None.

    Its rows are the group's tiles whose tops lie within a quarter of a tile's height; each
    row's origin is that of its tiles (a partial last row is centred on its own); the pitches
    are the medians of the steps between neighbours in a row and between rows (one gap stands
    in for the other where only one is seen, none where neither is).
    """
    tiles = bx.as_boxes(tiles)
    group = tiles[_equal_group(tiles)] if len(tiles) else tiles
    if len(group) < 2:
        return None
    cw, ch = float(np.median(group[:, 2])), float(np.median(group[:, 3]))
    rows = _clusters(group[:, 1].astype(np.float64), 0.25 * ch)
    px = _pitch_of([group[r, 0].astype(np.float64) for r in rows], cw)
    tops = np.array([np.median(group[r, 1]) for r in rows], np.float64)
    py = _pitch_of([tops], ch) if len(rows) > 1 else None
    if px is None and py is None:
        px, py = cw * 1.02, ch * 1.02
    px = px if px is not None else cw + (py - ch)
    py = py if py is not None else ch + (px - cw)
    # rows on the columns of the fullest row share its origin; a partial row centred on its
    # own keeps its own
    full = group[rows[max(range(len(rows)), key=lambda r: len(rows[r]))], 0].astype(np.float64)
    common = float(np.median(full - np.round((full - full.min()) / px) * px))
    origins, sites = [], []
    for r, members in enumerate(rows):
        xs = group[members, 0].astype(np.float64)
        k = np.round((xs - common) / px)
        origin = common
        if np.abs(xs - common - k * px).max() > 0.1 * px:
            k = np.round((xs - xs.min()) / px)
            origin = float(np.median(xs - k * px))
        origins.append(origin)
        sites += [(r, int(kk)) for kk in k]
    cells = np.concatenate([group[r] for r in rows])
    return Lattice(cells, np.array(sites, np.int64), (cw, ch), (px, py), np.array(origins), tops)


def _place_faces(grid: Lattice, face_boxes: np.ndarray, left: np.ndarray,
                 shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Cells of ``grid``'s sites that hold a face not yet explained (``left``), the lattice
    grown one site at a time from its tiles: the face's centre inside the site's cell and
    within :data:`SITE_TOL` of a pitch of the cell's middle, the site next to a tile or a cell
    placed before (diagonals too); the face between a third and three times the height of
    the faces in the grid's tiles (when they hold some) and of a size that fits the cell
    (:data:`MIN_FACE_CELL`, :data:`MAX_FACE_CELL`, :data:`MIN_PITCH_FACES`); the cell mostly
    in the frame. Returns the cells (``(k, 4) int32``), ``(n,) bool``: the faces placed, and
    the cells' sites (``(k, 2) int64``)."""
    H, W = shape[:2]
    cw, ch = grid.size
    px = grid.pitch[0] or cw
    used = np.zeros(len(face_boxes), bool)
    if len(face_boxes) == 0:
        return np.zeros((0, 4), np.int32), used, np.zeros((0, 2), np.int64)
    ref = face_boxes[bx.centre_in(face_boxes, grid.cells).any(axis=1), 3]
    centre = bx.centres(face_boxes)
    sites: dict[int, tuple[int, int]] = {}
    for i in np.flatnonzero(left):
        (cx, cy), (fw, fh) = centre[i], face_boxes[i, 2:]
        if len(ref) and not np.median(ref) / 3 <= fh <= 3 * np.median(ref):
            continue
        if not MIN_FACE_CELL * ch <= fh <= MAX_FACE_CELL * ch or fw * MIN_PITCH_FACES > cw:
            continue
        site = grid.site_of(cx, cy)
        if site is None or abs(grid.cell(*site)[0] + cw / 2 - cx) > SITE_TOL * px:
            continue
        if _in_frame(grid.cell(*site), W, H):
            sites[int(i)] = site
    occupied = {(int(r), int(k)) for r, k in grid.sites}
    out, where = [], []
    grown = True
    while grown:
        grown = False
        for i, (r, k) in sites.items():
            if used[i] or (r, k) in occupied or not any(
                    abs(r - rr) <= 1 and abs(k - kk) <= 1 for rr, kk in occupied):
                continue
            out.append(bx.clip(grid.cell(r, k), W, H)[0])
            where.append((r, k))
            occupied.add((r, k))
            used[i] = grown = True
    return (np.array(out, np.int32).reshape(-1, 4), used,
            np.array(where, np.int64).reshape(-1, 2))


def _in_frame(cell: np.ndarray, W: int, H: int, share: float = 0.8) -> bool:
    """Whether at least ``share`` of ``cell`` lies inside the ``W`` x ``H`` frame."""
    return float(bx.area(bx.clip(cell, W, H))[0]) >= share * float(bx.area(cell)[0])


# --- the faces' lattice ----------------------------------------------------------------------


def fit_pitch(v, lo: float, hi: float, tol: float = SITE_TOL
              ) -> tuple[float, float, np.ndarray] | None:
    """The pitch on which positions ``v`` lie, each within ``tol`` of a pitch of its site.

    Candidates are every difference of two positions divided by 1 to 8, from ``lo`` to ``hi``;
    each is refined by a least-squares fit of ``v = o + p * k`` to the sites ``k`` it gives,
    and kept when every residual is at most ``tol * p``, no two positions share a site, and
    the sites' span has at most half as many empty sites as held ones (plus one). Of those,
    the one with the smallest largest residual (share of its pitch) plus :data:`EMPTY_COST`
    per empty site per held one wins (a half pitch fits as well, with empty sites between; a
    longer one, with larger residuals).

    Parameters
    ----------
    v : array-like
        ``(n,)`` positions, pixels.
    lo, hi : float
        Bounds of the pitch, pixels.
    tol : float
        Largest residual, share of the pitch.

    Returns
    -------
    tuple or None
        ``(p, o, k)``: the pitch and the position of site 0 (pixels), and ``(n,) int64`` each
        position's site (the first is 0); None when no candidate fits.
    """
    v = np.asarray(v, np.float64).reshape(-1)
    if len(v) < 2:
        return None
    d = np.abs(v[:, None] - v[None, :])[np.triu_indices(len(v), 1)]
    cands = {float(x / m) for x in d[d > 0] for m in range(1, 9) if lo <= x / m <= hi}
    best, best_cost = None, np.inf
    for p in sorted(cands, reverse=True):
        k = np.round((v - v.min()) / p)
        held = len(np.unique(k))
        empty = k.max() + 1 - held
        if held < len(v) or empty > held // 2 + 1:
            continue
        p2, o2 = np.polyfit(k, v, 1)
        miss = np.abs(v - (o2 + p2 * k)).max() / p2 if p2 > 0 else np.inf
        cost = miss + EMPTY_COST * empty / held
        if lo <= p2 <= hi and miss <= tol and cost < best_cost - 1e-9:
            best, best_cost = (float(p2), float(o2), k.astype(np.int64)), cost
    return best


def _size_groups(face_boxes: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    """Indices of the faces of ``mask`` in groups of two or more whose heights lie within
    :data:`FACE_RATIO` of each other, the largest group first."""
    idx = np.flatnonzero(mask)
    idx = idx[np.argsort(face_boxes[idx, 3], kind="stable")]
    groups = []
    while len(idx) >= 2:
        h = face_boxes[idx, 3].astype(np.float64)
        ends = np.searchsorted(h, h * FACE_RATIO, side="right")
        i = int(np.argmax(ends - np.arange(len(h))))
        if ends[i] - i < 2:
            break
        groups.append(idx[i:ends[i]])
        idx = np.concatenate([idx[:i], idx[ends[i]:]])
    return groups


def _disc_anchors(gray: np.ndarray, face_boxes: np.ndarray) -> np.ndarray:
    """``(n, 3) float64`` centre and radius of the round profile picture holding each face
    (:func:`fer_desktop.analysis.tiles.avatar_disc`, tried in a box 10 x 5 face heights about
    the face, its centre a third of a face below the face's), NaN where there is none."""
    out = np.full((len(face_boxes), 3), np.nan)
    for i, (x, y, w, h) in enumerate(face_boxes.astype(np.float64)):
        cx, cy = x + w / 2, y + h / 2 + h / 3
        box = (cx - 5 * h, cy - 2.5 * h, 10 * h, 5 * h)
        disc = avatar_disc(gray, box, (x, y, w, h))
        if disc is not None:
            out[i] = disc
    return out


def face_lattice(gray: np.ndarray, face_boxes: np.ndarray) -> Lattice | None:
    """The lattice of cells that faces of similar size lie on, or None.

    The anchors are the faces' centres, or the centres of the round profile pictures holding
    them where two faces or more are in such pictures of one radius (within a quarter; they
    are the cells' centres). Anchors within 0.6 face heights of each other vertically form a
    row; the rows' mean heights must lie on one pitch (:func:`fit_pitch`), and so must the
    anchors of each row of two or more (one horizontal pitch: the row with the most anchors
    gives it, rows on the same columns share its origin, a partial row keeps its own). With one
    anchor a row, the anchors lie in one column (each within :data:`SITE_TOL` of a 16:9
    cell's width of their mean), else on a diagonal: their horizontal pitch is fitted over all
    of them.
    Cells are as large as the pitches (:data:`ASPECT` stands in for the missing one) and must
    fit the faces (:data:`MIN_FACE_CELL`, :data:`MAX_FACE_CELL`, :data:`MIN_PITCH_FACES`, an
    aspect from 0.5 to 3.5); a face sits at :data:`FACE_AT` of its cell's height, a picture in
    its middle. The sides are then moved to the edges the cells' pictures draw
    (:func:`snap_edges`), unless that moves an anchor out of its cell (or more than
    :data:`SITE_TOL` of a pitch from its middle) or makes cells overlap.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    face_boxes : np.ndarray
        ``(n, 4)`` xywh face boxes, frame pixels.

    Returns
    -------
    Lattice or None
        The cells holding the faces (one per site) and the lattice's geometry; None for fewer
        than two faces, faces on no common pitch, or cells that do not fit the faces.
    """
    b = bx.as_boxes(face_boxes, dtype=np.float64)
    if len(b) < 2:
        return None
    fw, fh = float(np.median(b[:, 2])), float(np.median(b[:, 3]))
    anchor = bx.centres(b)
    centred = np.zeros(len(b), bool)
    small = fh <= DISC_FACE * gray.shape[0]
    if len(b) <= 4 and small:  # a few small faces: maybe profile pictures, centred in cells
        discs = _disc_anchors(gray, b)
        ok = ~np.isnan(discs[:, 2])
        if ok.sum() >= 2 and discs[ok, 2].max() <= 1.25 * discs[ok, 2].min():
            anchor[ok], centred = discs[ok, :2], ok
    ax, ay = anchor[:, 0], anchor[:, 1]
    rows = _clusters(ay, 0.6 * fh)
    row_y = np.array([ay[r].mean() for r in rows])
    py = None
    if len(rows) > 1:
        fit = fit_pitch(row_y, fh / MAX_FACE_CELL, fh / MIN_FACE_CELL)
        if fit is None:
            return None
        py, _, row_k = fit
    hi_x = fh / MIN_FACE_CELL * ASPECT * 1.5
    fits = [(len(r), fit_pitch(ax[r], MIN_PITCH_FACES * fw, hi_x)) for r in rows if len(r) > 1]
    fits = [(n, f) for n, f in fits if f is not None]
    px = None
    if fits:
        ref = max(fits, key=lambda nf: nf[0])[1][0]
        px = float(np.median([f[0] for _, f in fits if abs(f[0] - ref) <= 0.15 * ref]))
    elif (py is not None and all(len(r) == 1 for r in rows)
          and np.abs(ax - ax.mean()).max() > SITE_TOL * py * ASPECT):
        fit = fit_pitch(ax, MIN_PITCH_FACES * fw, hi_x)  # a diagonal: one anchor a row
        if fit is None:
            return None
        px = fit[0]
    if px is None and py is None:
        return None
    cw = px if px is not None else py * ASPECT
    ch = py if py is not None else cw / ASPECT
    if not (0.5 <= cw / ch <= 3.5 and MIN_FACE_CELL * ch <= fh <= MAX_FACE_CELL * ch
            and MIN_PITCH_FACES * b[:, 2].max() <= cw):
        return None
    # each row's origin (x of site 0's centre): the most populated row's, where a row's anchors
    # lie on its columns; else the row's own (a partial row centred on its own)
    cols = np.zeros(len(b), np.int64)
    origins = np.full(len(rows), float(ax.mean()))
    if px is not None:
        r0 = rows[max(range(len(rows)), key=lambda r: len(rows[r]))]
        k0 = np.round((ax[r0] - ax[r0].min()) / px)
        common = float(np.mean(ax[r0] - k0 * px))
        for r, members in enumerate(rows):
            k = np.round((ax[members] - common) / px)
            if np.abs(ax[members] - common - k * px).max() <= SITE_TOL * px:
                origins[r] = common
            else:
                k = np.round((ax[members] - ax[members].min()) / px)
                origins[r] = float(np.mean(ax[members] - k * px))
                k = np.round((ax[members] - origins[r]) / px)
            cols[members] = k
    # each row's centre line: its anchors' cell centres, on the vertical pitch where known
    shift = np.where(centred, 0.0, (0.5 - FACE_AT) * ch)
    centre_y = np.array([np.mean(ay[m] + shift[m]) for m in rows])
    row_of = np.zeros(len(b), np.int64)
    if py is None:
        lattice_rows = np.zeros(1, np.int64)
    else:
        lattice_rows = row_k
        centre_y = centre_y.mean() + (np.arange(row_k.max() + 1) - row_k.mean()) * py
        filled = np.full(row_k.max() + 1, np.nan)
        filled[row_k] = origins
        origins = np.where(np.isnan(filled), np.nanmedian(filled), filled)
    for r, members in enumerate(rows):
        row_of[members] = lattice_rows[r]
    kmin = cols.min()
    cols -= kmin
    lefts = origins + kmin * (px or 0.0) - cw / 2
    tops = centre_y - ch / 2
    sites = np.unique(np.column_stack([row_of, cols]), axis=0)
    cells = np.array([[lefts[r] + k * (px or 0.0), tops[r], cw, ch] for r, k in sites])
    lat = Lattice(np.round(cells).astype(np.int32), sites, (cw, ch), (px, py), lefts, tops,
                  centred=bool(centred.all()))
    snapped = snap_edges(gray, lat)
    # the edges must keep every face on its site and the cells apart
    at = np.array([snapped.cell(r, k) for r, k in zip(row_of, cols)], np.float64)
    off = np.abs(at[:, 0] + at[:, 2] / 2 - anchor[:, 0])
    inside = (at[:, 1] <= anchor[:, 1]) & (anchor[:, 1] < at[:, 1] + at[:, 3])
    spx, spy = snapped.pitch
    if ((off <= SITE_TOL * (spx or snapped.size[0])).all() and inside.all()
            and (spx is None or spx >= snapped.size[0] - 2)
            and (spy is None or spy >= snapped.size[1] - 2)):
        return snapped
    return Lattice(lat.cells, lat.sites, lat.size, lat.pitch, lat.origins, lat.tops,
                   lat.centred, _side_support(gray, lat.cells))


# --- edges, labels and avatars ---------------------------------------------------------------


def _profile(gray: np.ndarray, start: int, stop: int, lo: int, hi: int, vertical: bool
             ) -> np.ndarray:
    """``(stop - start + 1,) float64``: for each line from ``start`` to ``stop`` (columns when
    ``vertical``, else rows), the share of its pixels from ``lo`` to ``hi`` whose grey level
    differs by more than :data:`EDGE_LEVELS` from the pixel two before it across the line (an
    edge between pictures, through one pixel of blur); the frame's own border is an edge (1;
    thumbnails are docked to the window's sides), lines beyond it 0."""
    g = gray if vertical else gray.T
    n_lines, n_along = g.shape[1], g.shape[0]
    out = np.zeros(stop - start + 1)
    lo, hi = max(0, lo), min(n_along, hi)
    a, b = max(2, start), min(n_lines - 1, stop)
    if hi - lo >= 4 and b >= a:
        patch = g[lo:hi, a - 2:b + 1].astype(np.int16)
        out[a - start:b - start + 1] = (np.abs(patch[:, 2:] - patch[:, :-2])
                                        > EDGE_LEVELS).mean(axis=0)
    for border in (0, n_lines):
        if start <= border <= stop:
            out[border - start] = 1.0
    return out


def _snap(gray: np.ndarray, starts: np.ndarray, ks: np.ndarray, lo: np.ndarray, hi: np.ndarray,
          reach: int, stretch: int, vertical: bool) -> tuple[int, int]:
    """The shift and the change of pitch (pixels) that move the lines at ``starts`` (one side of
    every cell at site ``ks`` along the axis, over ``lo`` to ``hi`` along the line) onto the
    straightest edges, pooled over the cells: line ``i`` moves by ``shift + (ks[i] - k0) *
    change`` (``k0`` the middle site), the shift within ``reach`` and the change within
    ``stretch`` (41 changes at most are tried); the pair where the mean :func:`_profile`
    peaks, when it is :data:`EDGE_SUPPORT` or more, twice the median of the shifts' at least,
    and more than half of the cells have such an edge there (the smallest change and shift
    among equals); ``(0, 0)`` otherwise."""
    if len(starts) == 0:
        return 0, 0
    rel = np.asarray(ks, np.int64) - int(np.median(ks))
    span = reach + np.abs(rel) * stretch
    width = 2 * int(span.max()) + 1
    profiles = np.zeros((len(starts), width))
    for i, (s, w, a, b) in enumerate(zip(starts, span, lo, hi)):
        c = int(round(s))
        profiles[i, span.max() - w:span.max() + w + 1] = _profile(gray, c - w, c + w, int(a),
                                                                   int(b), vertical)
    changes = np.unique(np.round(np.linspace(-stretch, stretch, min(41, 2 * stretch + 1))
                                 ).astype(np.int64))
    shifts = np.arange(-reach, reach + 1)
    index = span.max() + rel[None, :, None] * changes[:, None, None] + shifts[None, None, :]
    lines = np.take_along_axis(profiles[None], index, axis=2)  # (changes, cells, shifts)
    pooled = lines.mean(axis=1)
    ok = ((pooled >= EDGE_SUPPORT) & (pooled >= 2 * np.median(pooled, axis=1, keepdims=True))
          & ((lines >= EDGE_SUPPORT).sum(axis=1) > len(starts) / 2))
    if not ok.any():
        return 0, 0
    # the best peak; of equal ones, the smallest change, then the smallest shift
    score = np.where(ok, np.round(pooled, 3), -1.0)
    key = np.lexsort((np.abs(shifts)[None, :].repeat(len(changes), 0).ravel(),
                      np.abs(changes)[:, None].repeat(len(shifts), 1).ravel(),
                      -score.ravel()))
    c, j = np.unravel_index(int(key[0]), score.shape)
    return int(shifts[j]), int(changes[c])


def _side_support(gray: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``(n, 4) float64``: :func:`_profile` of each cell's left, top, right and bottom side,
    over the middle 60 % of it."""
    out = np.zeros((len(cells), 4))
    for i, (x, y, w, h) in enumerate(np.asarray(cells, np.int64)):
        ya, yb, xa, xb = y + int(0.2 * h), y + int(0.8 * h), x + int(0.2 * w), x + int(0.8 * w)
        out[i] = (_profile(gray, x, x, ya, yb, True)[0], _profile(gray, y, y, xa, xb, False)[0],
                  _profile(gray, x + w, x + w, ya, yb, True)[0],
                  _profile(gray, y + h, y + h, xa, xb, False)[0])
    return out


def snap_edges(gray: np.ndarray, lat: Lattice) -> Lattice:
    """``lat`` with its cells' sides moved onto the straight edges that the pictures of abutting
    or overlaid cells draw (:func:`_snap`): the left sides by one shift and one change of the
    horizontal pitch (within a fifth of a cell's width, and a quarter of the pitch divided by
    the lattice's span of columns), the right sides by one shift (a fifth of the width), then
    the tops and the bottoms likewise (a quarter of the height), where the edges pooled over
    the cells are clear; and how clear each cell's sides then are (:attr:`Lattice.edges`).

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W) uint8`` grey frame.
    lat : Lattice

    Returns
    -------
    Lattice
    """
    cw, ch = lat.size
    px, py = lat.pitch
    rows, cols = lat.sites[:, 0], lat.sites[:, 1]
    x, y = lat.cells[:, 0].astype(np.float64), lat.cells[:, 1].astype(np.float64)

    def stretch(pitch, sites):
        span = int(np.ptp(sites)) if len(sites) else 0
        return 0 if pitch is None or span == 0 else int(min(0.25, 0.3 / span) * pitch)

    sx, dx = _snap(gray, x, cols, y + 0.2 * ch, y + 0.8 * ch, max(2, int(0.2 * cw)),
                   stretch(px, cols), True)
    x = x + sx + (cols - int(np.median(cols))) * dx
    sr, _ = _snap(gray, x + cw, cols, y + 0.2 * ch, y + 0.8 * ch, max(2, int(0.2 * cw)), 0, True)
    cw2 = cw + sr
    sy, dy = _snap(gray, y, rows, x + 0.2 * cw2, x + 0.8 * cw2, max(2, int(0.25 * ch)),
                   stretch(py, rows), False)
    y = y + sy + (rows - int(np.median(rows))) * dy
    sb, _ = _snap(gray, y + ch, rows, x + 0.2 * cw2, x + 0.8 * cw2, max(2, int(0.25 * ch)), 0,
                  False)
    ch2 = ch + sb
    if not (0.6 * cw <= cw2 <= 1.4 * cw and 0.6 * ch <= ch2 <= 1.4 * ch):
        cw2, ch2 = cw, ch
    px2 = None if px is None else px + dx
    py2 = None if py is None else py + dy
    r_mid, k_mid = int(np.median(rows)), int(np.median(cols))
    origins = lat.origins + sx - k_mid * dx
    tops = lat.tops + sy + (np.arange(len(lat.tops)) - r_mid) * dy
    cells = np.round([[origins[r] + k * (px2 or 0.0), tops[r], cw2, ch2] for r, k in lat.sites]
                     ).astype(np.int32).reshape(-1, 4)
    return Lattice(cells, lat.sites, (cw2, ch2), (px2, py2), origins, tops, lat.centred,
                   _side_support(gray, cells))


def text_lines(image: np.ndarray, region, max_h: float, join: int) -> np.ndarray:
    """The lines of white text on a dark box or shadow in ``region`` (xywh) of a BGR
    ``image``: :func:`fer_desktop.analysis.names.text_mask` joined across ``join`` pixels
    horizontally; a line is from 4 to ``max_h`` pixels high, twice as wide as high, of three
    glyphs or more and at most 60 % ink (letters are strokes; a white area's edge or a
    picture's rim is one solid piece).

    Returns
    -------
    np.ndarray
        ``(m, 5) int64`` rows ``x, y, w, h`` (frame pixels) and the count of glyphs.
    """
    H, W = image.shape[:2]
    x, y, w, h = (int(round(v)) for v in region)
    y0, y1, x0, x1 = max(0, y), min(H, y + h), max(0, x), min(W, x + w)
    none = np.zeros((0, 5), np.int64)
    if y1 - y0 < 8 or x1 - x0 < 16:
        return none
    mask = text_mask(image[y0:y1, x0:x1]).astype(np.uint8)
    if not mask.any():
        return none
    joined = cv2.dilate(mask, np.ones((1, max(3, join)), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    ink = np.bincount(labels.ravel(), weights=mask.ravel().astype(np.float64), minlength=n)
    n_glyphs, glyphs = cv2.connectedComponents(mask, connectivity=8)
    on = mask > 0
    line_of = np.zeros(n_glyphs, np.int64)  # the line each glyph lies in
    line_of[glyphs[on]] = labels[on]
    letters = np.bincount(line_of[1:], minlength=n)
    bw, bh = stats[:, 2], stats[:, 3]
    ok = ((bh >= 4) & (bh <= max_h) & (bw >= 2 * bh) & (letters >= 3) & (ink <= 0.6 * bw * bh))
    ok[0] = False
    j = np.flatnonzero(ok)
    return np.column_stack([stats[j, 0] + x0, stats[j, 1] + y0, bw[j], bh[j], letters[j]]
                           ).astype(np.int64)


def label_box(image: np.ndarray, cell) -> np.ndarray | None:
    """The name label in the bottom quarter of ``cell`` (xywh): ``(4,) int64`` xywh frame
    pixels of the line of text (:func:`text_lines`, lower than 0.8 of the quarter) with the
    most glyphs, or None."""
    x, y, w, h = (int(v) for v in cell)
    bh = max(12, h // 4)
    lines = text_lines(image, (x, y + h - bh, w, bh), 0.8 * bh, bh // 3)
    if len(lines) == 0:
        return None
    return lines[np.lexsort((lines[:, 2], lines[:, 4]))[-1], :4]


def _label_places(image: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``(n, 3) float64`` where each cell's label lies: its left and its centre from the cell's
    left and its bottom from the cell's bottom, as shares of the cell's width and height; NaN
    for a cell without a label."""
    out = np.full((len(cells), 3), np.nan)
    for i, cell in enumerate(cells):
        lab = label_box(image, cell)
        if lab is not None:
            x, y, w, h = (float(v) for v in cell)
            out[i] = ((lab[0] - x) / w, (lab[0] + lab[2] / 2 - x) / w,
                      (y + h - lab[1] - lab[3]) / h)
    return out


def _label_rule(places: np.ndarray) -> tuple[int, float, float] | None:
    """Where the lattice's labels are, from the places of its cells' labels (two at least):
    ``(0 left-aligned | 1 centred, their x share, their bottom share)``, the medians, where the
    lefts (or else the centres) of both labels of two, or of 60 % of three or more, lie within
    0.025 of a cell's width and their bottoms within 0.03 of its height of the medians; None
    otherwise."""
    p = places[~np.isnan(places[:, 0])]
    if len(p) < 2:
        return None
    need = len(p) if len(p) < 3 else 0.6 * len(p)
    bottom = float(np.median(p[:, 2]))
    for col in (0, 1):
        where = float(np.median(p[:, col]))
        agree = (np.abs(p[:, col] - where) <= 0.025) & (np.abs(p[:, 2] - bottom) <= 0.03)
        if agree.sum() >= need:
            return col, where, bottom
    return None


def _label_fits(place: np.ndarray, rule: tuple[int, float, float] | None) -> bool:
    """Whether a label at ``place`` (:func:`_label_places`) is where ``rule`` puts labels."""
    if rule is None or np.isnan(place[0]):
        return False
    col, where, bottom = rule
    return abs(place[col] - where) <= 0.06 and abs(place[2] - bottom) <= 0.08


def _shows_disc(gray: np.ndarray, cell) -> bool:
    """Whether ``cell`` shows a round profile picture or initials disc in its middle
    (:func:`fer_desktop.analysis.tiles.avatar_disc` about the cell's centre)."""
    x, y, w, h = (float(v) for v in cell)
    return avatar_disc(gray, cell, (x + w / 2 - 1, y + h / 2 - 1, 2, 2)) is not None


def _credible(lat: Lattice, image: np.ndarray, n_faces: int, n_more: int) -> bool:
    """Whether a lattice of faces looks like an app's cells rather than people who happen to
    stand in a row: its cells framed by straight edges on the same sides (the left or right
    side, and the top or bottom, that most of them have), or showing labels at the same place
    (:func:`_label_rule`), or (the anchors being profile pictures) more sites showing labels
    or avatars; :data:`CREDIBLE` of the cells of three faces or more, every cell of two."""
    need = 1.0 if n_faces < 3 else CREDIBLE
    if lat.centred and n_more > 0:
        return True
    good = np.zeros(len(lat.cells), bool)
    if lat.edges is not None:
        e = lat.edges >= EDGE_SUPPORT
        vertical = e[:, 0] if e[:, 0].sum() >= e[:, 2].sum() else e[:, 2]
        horizontal = e[:, 1] if e[:, 1].sum() >= e[:, 3].sum() else e[:, 3]
        good = vertical & horizontal
    if good.mean() < need:  # the labels, where the edges do not suffice
        places = _label_places(image, lat.cells)
        rule = _label_rule(places)
        good |= np.array([_label_fits(p, rule) for p in places], bool)
    return bool(good.mean() >= need)


def _fill_sites(lat: Lattice, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
                placed: np.ndarray, interior_only: bool) -> np.ndarray:
    """Cells of ``lat``'s empty sites that show a participant without a face found: a site
    between two cells of its row that shows a name label or an avatar (:func:`label_box`,
    :func:`_shows_disc`); a site of a row between the lattice's rows, within its columns, or
    (unless ``interior_only``) next to its cells, that shows a label where the lattice's cells
    show theirs (:func:`_label_rule`) or an avatar, step by step outwards. Sites whose cell is
    not mostly in the frame, or overlaps a tile or a cell much, are skipped. ``(k, 4) int32``."""
    H, W = gray.shape[:2]
    occupied = {(int(r), int(k)) for r, k in lat.sites}
    out: list[np.ndarray] = []
    rule = None  # where the lattice's cells show their labels, found when first needed
    ruled = False

    def attempt(r: int, k: int, strict: bool) -> None:
        nonlocal rule, ruled
        if (r, k) in occupied or not _in_frame(lat.cell(r, k), W, H):
            return
        cell = bx.clip(lat.cell(r, k), W, H)[0]
        cells = np.concatenate([bx.as_boxes(placed), lat.cells, np.array(out).reshape(-1, 4)])
        if _overlaps_much(cell, bx.as_boxes(tiles)) or _overlaps_much(cell, cells, np.inf):
            return
        place = _label_places(image, cell[None])[0]
        if strict and not ruled:  # from a dozen of the cells at most, spread over them
            some = lat.cells[np.unique(np.linspace(0, len(lat.cells) - 1, 12).round().astype(int))]
            rule, ruled = _label_rule(_label_places(image, some)), True
        label = _label_fits(place, rule) if strict else not np.isnan(place[0])
        if label or _shows_disc(gray, cell):
            out.append(cell)
            occupied.add((r, k))

    rows = sorted({r for r, _ in occupied})
    for r in rows:  # between two cells of a row
        ks = sorted(k for rr, k in occupied if rr == r)
        for k in range(ks[0] + 1, ks[-1]):
            attempt(r, k, strict=False)
    kmin, kmax = min(k for _, k in occupied), max(k for _, k in occupied)
    for r in range(rows[0], rows[-1] + 1):  # rows between, within the columns
        for k in range(kmin, kmax + 1):
            attempt(r, k, strict=True)
    if interior_only:
        return np.array(out, np.int32).reshape(-1, 4)
    for _ in range(16):  # outwards, one site at a time
        before = len(out)
        rows = sorted({r for r, _ in occupied})
        for r in rows:
            ks = [k for rr, k in occupied if rr == r]
            attempt(r, min(ks) - 1, strict=True)
            attempt(r, max(ks) + 1, strict=True)
        if lat.pitch[1] is not None:
            kmin, kmax = min(k for _, k in occupied), max(k for _, k in occupied)
            for r in (rows[0] - 1, rows[-1] + 1):
                for k in range(kmin, kmax + 1):
                    attempt(r, k, strict=True)
        if len(out) == before:
            break
    return np.array(out, np.int32).reshape(-1, 4)
