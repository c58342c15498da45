"""Where the faces of a frame are: every face, given to the gallery's tiles, with what each tile
shows. Qt-free. One strategy per detector:

* :class:`DnnSearch` (YuNet, the default): faces first. The whole frame is searched once
  (:meth:`fer_desktop.analysis.yunet.YuNetDetector.detect`, at the scale that brings a 24-pixel
  face to YuNet's 12), the gallery's tiles are completed by the regular lattice of the faces
  (:func:`fer_desktop.analysis.lattice.complete_tiles`: cells touching on black, thumbnails
  drawn over a speaker), and each face is given to the smallest tile holding its centre; faces
  outside every tile (a room camera) are kept as faces of their own. In a live analysis a tile
  that looks as before keeps its faces, a tile that changed is searched alone, and the whole
  frame is searched again when most tiles changed, every ``faces_every_s`` seconds, and on every
  frame without a gallery (a room camera: half a 1080p frame costs about 20 ms).
* :class:`HaarSearch` (``--detector haar``): the Haar cascade searched tile by tile (each tile
  rescaled to 128-160 pixels high) and over the regions no tile covers, in pieces spread over
  the frames of a live analysis (a full cascade search of a frame costs 100-1000 ms).

Both agree on what a tile is: a camera-off card (:func:`fer_desktop.analysis.tiles.tile_state`)
is not searched and holds no face, and a tile whose face is on a round profile photo (Meet,
Teams, Nextcloud) is camera off too, whatever faces the photo holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.boxes import centre_in, clip, grow, region_of, suppress
from fer_desktop.analysis.cvutil import thread_pool, thumbnail
from fer_desktop.analysis.faces import FaceDetector, Faces
from fer_desktop.analysis.haar import HaarDetector, SearchJob
from fer_desktop.analysis.tiles import TileState, tile_state

_NO_FACES = Faces.empty


def thumb(gray: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """A small ``float32`` grey thumbnail (``size`` = width, height) of ``box`` (xywh) for cheap
    change detection."""
    x, y, w, h = (int(round(float(v))) for v in box)
    crop = gray[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
    if crop.size == 0:
        return np.zeros(size[::-1], np.float32)
    return thumbnail(crop, size).astype(np.float32)


def on_avatar(image: np.ndarray, gray: np.ndarray, tile, faces: Faces) -> bool:
    """Whether one of a tile's three best faces is on a profile photo (the best-scoring box may
    be a larger false one around the photo)."""
    return any(tile_state(image, gray, tile, f) is TileState.CAMERA_OFF for f in faces.boxes[:3])


def judge_tile(image: np.ndarray, gray: np.ndarray, tile, faces: Faces | None
               ) -> tuple[Faces, TileState]:
    """A tile's faces and state once searched (``faces`` None: not searched yet, so only a
    camera-off card is known): a camera-off card or a profile photo holds no face."""
    if faces is None:
        state = tile_state(image, gray, tile)
        return _NO_FACES(), state
    if len(faces) and on_avatar(image, gray, tile, faces):
        return _NO_FACES(), TileState.CAMERA_OFF
    return faces, TileState.FACE if len(faces) else TileState.NO_FACE


def big_tiles(tiles: np.ndarray) -> np.ndarray:
    """``(t,) bool``: the tiles where several people may sit, small: a gallery's only tile (a
    one-to-one call, or a room camera's people taken for a tile) and a speaker's tile beside a
    strip (half again as tall as the others). A tile of a gallery of equal tiles shows a face at
    a tenth of its height or more."""
    if len(tiles) <= 1:
        return np.ones(len(tiles), bool)
    return tiles[:, 3] > 1.5 * float(np.median(tiles[:, 3]))


def min_free_face(tiles: np.ndarray, min_face_px: int, frac: float = 0.1) -> int:
    """Smallest face (pixels) that counts outside the tiles of a gallery of several tiles:
    ``frac`` of the smallest tile's height (a face outside such a gallery is a tile the gallery
    search missed, whose faces are as large as in the others; chat avatars and toolbar icons are
    smaller); ``min_face_px`` without a gallery."""
    if len(tiles) >= 2:
        return max(min_face_px, int(frac * float(tiles[:, 3].min())))
    return min_face_px


@dataclass(frozen=True)
class Found:
    """What a search gives for one frame.

    Attributes
    ----------
    faces : Faces
        Every face, frame pixels, with ``faces.tile`` set (-1 outside the tiles); a tile's faces
        together, its most confident first, the faces outside the tiles last.
    tile_states : tuple of TileState
        One per tile.
    searched : int
        Tiles searched afresh in this frame.
    jobs : int
        Pieces of search outside the tiles run (Haar), or whole-frame searches (DNN).
    tiles : np.ndarray
        ``(t, 4) int32`` the tiles the faces and states refer to: those given, completed by
        the lattice of the faces (:func:`fer_desktop.analysis.lattice.complete_tiles`; DNN).
    """

    faces: Faces
    tile_states: tuple[TileState, ...]
    searched: int
    jobs: int
    tiles: np.ndarray = None  # type: ignore[assignment]


def _assemble(per_tile: list[tuple[Faces, TileState]], free: Faces) -> tuple[Faces, tuple]:
    """One :class:`Faces` from each tile's faces (tile index set) and the free faces."""
    parts = [f.with_(tile=np.full(len(f), i, np.int32)) for i, (f, _) in enumerate(per_tile)]
    parts.append(free.with_(tile=np.full(len(free), -1, np.int32)))
    return Faces.concat(parts), tuple(s for _, s in per_tile)


class DnnSearch:
    """Faces first, with a whole-frame detector (YuNet); see the module's docstring.

    Parameters
    ----------
    detector : FaceDetector
        A whole-frame detector (:class:`fer_desktop.analysis.yunet.YuNetDetector`).
    reuse : bool
        Reuse tiles' faces between the frames of a live analysis (``now`` given).
    faces_every_s : float
        The whole frame is searched at least this often in a live analysis, seconds (one
        search of the whole frame costs about as much as searching a few tiles alone, so it is
        not spread over frames).
    change_levels : float
        A tile whose 32x18 grey thumbnail changes by this many grey levels on average (0..255)
        is searched again.
    workers : int
        Threads searching changed tiles at once.
    """

    def __init__(self, detector: FaceDetector, reuse: bool = True, faces_every_s: float = 4.0,
                 change_levels: float = 6.0, workers: int = 2):
        self.detector = detector
        self.reuse = reuse
        self.faces_every_s = float(faces_every_s)
        self.change_levels = float(change_levels)
        self.workers = max(1, int(workers))
        self.reset()

    def reset(self) -> None:
        """Forget what earlier frames showed (a new source)."""
        self._key: tuple | None = None
        self._tiles: dict[tuple, tuple[Faces, TileState, np.ndarray, float]] = {}
        self._free = _NO_FACES()
        self._full_t = -np.inf
        self._completed = np.zeros((0, 4), np.int32)

    def _tile_search(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray, i: int
                     ) -> tuple[Faces, TileState]:
        """Tile ``i`` alone (it changed): a camera-off card is not searched; the tile, grown by
        a tenth each way (a face on its edge), is, and the faces centred in it (and in no
        smaller tile over it: a thumbnail over a speaker) are its faces."""
        tile = tiles[i]
        faces, state = judge_tile(image, gray, tile, None)
        if state is TileState.CAMERA_OFF:
            return faces, state
        h, w = gray.shape[:2]
        region = clip(grow(tile, 0.1), w, h)[0]
        found = self.detector.detect(image, region)
        found = found[region_of(found.boxes, tiles, smallest=True) == i]
        return judge_tile(image, gray, tile, found)

    def find(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
             now: float | None = None, whole=None) -> Found:
        """Every face of a frame and what each tile shows.

        Parameters
        ----------
        image, gray : np.ndarray
            ``(H, W, 3) uint8`` BGR frame and its ``(H, W) uint8`` grey copy.
        tiles : np.ndarray
            ``(t, 4) int32`` the gallery's tiles (``t = 0``: no gallery).
        now : float, optional
            The source's clock, seconds: reuse what earlier frames found (live); None searches
            the frame afresh.
        whole : array-like, optional
            ``(4,)`` the one tile of a frame where no gallery was found: the lattice of the
            faces may still make cells of it (cells touching on black, thumbnails over a
            speaker, who is then this tile); else it is no tile.
        """
        given = np.asarray(tiles, np.int32).reshape(-1, 4)
        live = now is not None and self.reuse
        layout = (gray.shape, tuple(tuple(int(v) for v in t) for t in given))
        if live and self._key is not None and self._key[0] == layout and now - self._full_t < \
                self.faces_every_s:
            tiles = self._completed  # the completed tiles of the last whole-frame search
        else:
            tiles = given
        keys = [tuple(int(v) for v in t) for t in tiles]
        thumbs = [thumb(gray, t, (32, 18)) for t in tiles] if live else []
        due: list[int] = []
        if live:  # the tiles that changed (the whole frame is searched on a schedule)
            for i, key in enumerate(keys):
                old = self._tiles.get(key)
                if old is None or float(np.abs(thumbs[i] - old[2]).mean()) >= self.change_levels:
                    due.append(i)
        full = (not live or len(tiles) == 0 or self._key is None or self._key[0] != layout
                or not 0 <= now - self._full_t < self.faces_every_s
                or len(due) > max(2, len(tiles) // 2))
        if full:
            found = self._full(image, gray, given, now, whole)
            if live:
                self._key, self._full_t, self._completed = (layout,), now, found.tiles
                thumbs = [thumb(gray, t, (32, 18)) for t in found.tiles]
                self._tiles = {tuple(int(v) for v in t): (f, s, thumbs[i], now) for i, (t, (f, s))
                               in enumerate(zip(found.tiles, _split(found, len(found.tiles))))}
            return found
        per_tile: list = [None] * len(tiles)
        for i, key in enumerate(keys):
            if i not in due:
                f, s, _, _ = self._tiles[key]
                per_tile[i] = (f, s)
        if self.workers > 1 and len(due) > 1:
            fresh = list(thread_pool(self.workers).map(
                lambda i: self._tile_search(image, gray, tiles, i), due))
        else:
            fresh = [self._tile_search(image, gray, tiles, i) for i in due]
        for i, r in zip(due, fresh):
            per_tile[i] = r
            self._tiles[keys[i]] = (r[0], r[1], thumbs[i], now)
        faces, states = _assemble(per_tile, self._free)
        return Found(faces, states, len(due), 0, tiles)

    def _full(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
              now: float | None, whole=None) -> Found:
        """The whole frame searched once, the tiles completed by the lattice of its faces
        (:func:`fer_desktop.analysis.lattice.complete_tiles`), each face given to the smallest
        tile holding its centre."""
        from fer_desktop.analysis.lattice import complete_tiles

        found = self.detector.detect(image)
        if len(tiles) or whole is not None:
            base = tiles if len(tiles) else np.asarray(whole, np.int32).reshape(1, 4)
            completed = complete_tiles(image, base, found)
            if not len(tiles):  # no gallery: the cells, and the frame's tile only as a speaker
                cells = completed[1:]
                if len(cells):
                    outside = ~centre_in(found.boxes, cells).any(1) if len(found) else []
                    tiles = completed if np.any(outside) else cells
            else:
                tiles = completed
        where = (region_of(found.boxes, tiles, smallest=True) if len(tiles)
                 else np.full(len(found), -1))
        per_tile = []
        for i, tile in enumerate(tiles):
            faces, state = judge_tile(image, gray, tile, None)
            if state is not TileState.CAMERA_OFF:
                faces, state = judge_tile(image, gray, tile, found[where == i])
            per_tile.append((faces, state))
        free = found[where < 0]
        small = min_free_face(tiles, self.detector.min_face_px)
        free = free[np.maximum(free.boxes[:, 2], free.boxes[:, 3]) >= small] if len(free) else free
        if now is not None and self.reuse:
            self._free = free
        faces, states = _assemble(per_tile, free)
        return Found(faces, states, len(tiles), 1, np.asarray(tiles, np.int32).reshape(-1, 4))


def _split(found: Found, n: int) -> list[tuple[Faces, TileState]]:
    """Each tile's faces and state out of a :class:`Found`."""
    return [(found.faces[found.faces.tile == i].with_(tile=np.full(
        int((found.faces.tile == i).sum()), -1, np.int32)), found.tile_states[i])
        for i in range(n)]


@dataclass
class _Free:
    """A face outside the tiles known from earlier frames: the face, and the thumbnail of its
    surroundings it was last seen with."""

    face: Faces
    thumb: np.ndarray


class HaarSearch:
    """The Haar cascade's search (``--detector haar``): tile by tile, and over the regions no
    tile covers in pieces (:meth:`HaarDetector.plan`).

    Parameters
    ----------
    detector : HaarDetector
    reuse : bool
        Between the frames of a live analysis (``now`` given), keep a tile's faces while its
        32x18 thumbnail changes by less than ``change_levels`` on average; unchanged tiles are
        searched again every ``faces_every_s`` times 1, 1.25, 1.5 or 1.75 (by tile index), so
        that a large gallery spreads its searches over several frames. Outside the tiles (a room
        camera), a known face is kept while its surroundings look the same and looked for near
        its last place when they change, and the full search is spread over the frames of each
        ``faces_every_s``.
    faces_every_s, change_levels : float
        See ``reuse``.
    workers : int
        Threads that search at the same time.
    """

    def __init__(self, detector: HaarDetector, reuse: bool = True, faces_every_s: float = 4.0,
                 change_levels: float = 6.0, workers: int = 2):
        self.detector = detector
        self.reuse = reuse
        self.faces_every_s = float(faces_every_s)
        self.change_levels = float(change_levels)
        self.workers = max(1, int(workers))
        self.reset()

    def reset(self) -> None:
        """Forget what earlier frames showed (a new source)."""
        self._faces: dict[tuple, tuple[Faces, np.ndarray, float, TileState]] = {}
        self._free: list[_Free] = []
        self._regions_key: tuple | None = None
        self._jobs: list[SearchJob] = []
        self._next_job = 0
        self._jobs_t: float | None = None

    # -- the tiles ----------------------------------------------------------------------------

    def _search_tile(self, image: np.ndarray, gray: np.ndarray, tile: np.ndarray
                     ) -> tuple[Faces, TileState]:
        faces, state = judge_tile(image, gray, tile, None)
        if state is TileState.CAMERA_OFF:
            return faces, state
        return judge_tile(image, gray, tile, self.detector.detect_in_tile(gray, tile))

    def _tile_faces(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
                    now: float | None) -> tuple[list[tuple[Faces, TileState]], int]:
        """Faces and state per tile, reusing a tile's last result while it looks the same (``now``
        given) or searching every tile (``now`` None), on :attr:`workers` threads."""
        out: list = [None] * len(tiles)
        fresh: dict = {}
        todo: list[int] = []
        thumbs: dict[int, np.ndarray] = {}
        for i, tile in enumerate(tiles):
            if now is not None:
                key = tuple(int(v) for v in tile)
                thumbs[i] = t = thumb(gray, tile, (32, 18))
                old = self._faces.get(key)
                if (old is not None and 0 <= now - old[2] < self.faces_every_s * (1 + i % 4 / 4)
                        and float(np.abs(t - old[1]).mean()) < self.change_levels):
                    out[i] = (old[0], old[3])
                    fresh[key] = old
                    continue
            todo.append(i)
        if self.workers > 1 and len(todo) > 1:
            found = list(thread_pool(self.workers).map(
                lambda i: self._search_tile(image, gray, tiles[i]), todo))
        else:
            found = [self._search_tile(image, gray, tiles[i]) for i in todo]
        for i, (faces, state) in zip(todo, found):
            out[i] = (faces, state)
            if now is not None:
                fresh[tuple(int(v) for v in tiles[i])] = (faces, thumbs[i], now, state)
        if now is not None:
            self._faces = fresh
        return out, len(todo)

    # -- outside the tiles ----------------------------------------------------------------------

    def _regions(self, gray: np.ndarray, tiles: np.ndarray, big: np.ndarray
                 ) -> list[tuple[np.ndarray, int]]:
        """The frame regions searched as regions, each with the smallest face searched there
        (frame pixels): the whole frame without a gallery; with one, its ``big`` tiles, and its
        busy parts that no tile covers, for faces of at least :func:`min_free_face`."""
        from fer_desktop.analysis.gallery import uncovered_regions

        h, w = gray.shape[:2]
        det = self.detector
        if len(tiles) == 0:
            return [(np.array([0, 0, w, h], np.int32), det.min_face_px)]
        min_face = min_free_face(tiles, det.min_face_px, det.fine_face_frac)
        out = [(t, det.min_face_px) for t in tiles[big]]
        return out + [(r, min_face) for r in uncovered_regions(gray, tiles, min_face)]

    def _free_faces(self, gray: np.ndarray, tiles: np.ndarray, big: np.ndarray,
                    now: float | None) -> tuple[Faces, int]:
        """Faces found by searching regions (:meth:`_regions`), and the pieces of search run.

        Without ``now`` the whole search runs. With it, known faces are kept while their
        surroundings look the same, looked for near their last place when they change (and
        dropped when not found there), and the pieces of the full search that fall to this
        frame run: enough of them to finish it every :attr:`faces_every_s`."""
        regions = self._regions(gray, tiles, big)
        key = (gray.shape, tuple((tuple(r.tolist()), m) for r, m in regions))
        boxes_r = np.array([r for r, _ in regions], np.int32).reshape(-1, 4)
        small = tiles[~big]

        def outside(found: Faces) -> Faces:
            if not len(small) or not len(found):
                return found
            return found[~centre_in(found.boxes, small).any(1)]

        def remember(found: Faces) -> list[_Free]:
            return [_Free(found[k], thumb(gray, grow(found.boxes[k], 0.25), (16, 16)))
                    for k in range(len(found))]

        if key != self._regions_key:
            # new regions are searched at the pace of the old ones (a tile's box moving by a
            # pixel or two must not set off a full search), a new frame size at once
            if self._regions_key is None or self._regions_key[0] != gray.shape:
                self._jobs_t = None
            self._regions_key, self._next_job = key, 0
            self._jobs = [j for r, m in regions for j in self.detector.plan(r, m)]
            self._free = [f for f in self._free
                          if centre_in(f.face.boxes, boxes_r).any()
                          and not (len(small) and centre_in(f.face.boxes, small).any())]
        if now is None or not self.reuse:
            found = outside(self.detector.run_all(gray, self._jobs, self.workers))
            self._free = remember(found)
            return found, len(self._jobs)
        # known faces: kept while they look the same, else looked for nearby
        kept: list[_Free] = []
        moved: list[_Free] = []
        for f in self._free:
            t = thumb(gray, grow(f.face.boxes[0], 0.25), (16, 16))
            (kept if float(np.abs(t - f.thumb).mean()) < self.change_levels else moved).append(f)

        def near(f: _Free) -> Faces:
            return self.detector.detect_near(gray, f.face.boxes[0])

        found = (list(thread_pool(self.workers).map(near, moved))
                 if self.workers > 1 and len(moved) > 1 else [near(f) for f in moved])
        for again in found:
            if len(again):
                kept += remember(again[int(np.argmax(again.scores))])
        # this frame's share of the full search
        jobs: list[SearchJob] = []
        if self._jobs:
            total = sum(j.cost for j in self._jobs) or 1.0
            share = 1.0 if self._jobs_t is None else min(
                1.0, max(0.0, now - self._jobs_t) / max(1e-6, self.faces_every_s))
            budget = share * total
            while len(jobs) < len(self._jobs) and (not jobs or sum(j.cost for j in jobs) < budget):
                jobs.append(self._jobs[self._next_job % len(self._jobs)])
                self._next_job = (self._next_job + 1) % len(self._jobs)
            self._jobs_t = now
        if jobs:
            new = remember(outside(self.detector.run_all(gray, jobs, self.workers)))
            # a face followed from the last frames keeps its box (a piece of the search may find
            # it again at another scale or angle); the search adds the faces not followed yet
            allb = np.array([f.face.boxes[0] for f in new + kept], np.float64).reshape(-1, 4)
            rank = np.r_[np.full(len(new), 1.0), np.full(len(kept), 2.0)]
            keep = suppress(allb, rank)
            kept = [(new + kept)[i] for i in sorted(keep)]
        self._free = kept
        return Faces.concat([f.face for f in kept]), len(jobs)

    # -- the frame ------------------------------------------------------------------------------

    def find(self, image: np.ndarray, gray: np.ndarray, tiles: np.ndarray,
             now: float | None = None) -> Found:
        """Every face of a frame and what each tile shows (parameters as
        :meth:`DnnSearch.find`)."""
        tiles = np.asarray(tiles, np.int32).reshape(-1, 4)
        now = now if self.reuse else None
        big = big_tiles(tiles)
        searched, detected = self._tile_faces(image, gray, tiles[~big], now)
        per_tile: list = [None] * len(tiles)
        for i, r in zip(np.flatnonzero(~big), searched):
            per_tile[i] = r
        # the big tiles: camera-off cards are not searched; the others are regions
        big_off = np.zeros(len(tiles), bool)
        for i in np.flatnonzero(big):
            big_off[i] = tile_state(image, gray, tiles[i]) is TileState.CAMERA_OFF
        found, jobs = self._free_faces(gray, tiles, big & ~big_off, now)
        inside = (region_of(found.boxes, tiles, big & ~big_off) if len(tiles)
                  else np.full(len(found), -1))
        free = found[inside < 0]
        for i in np.flatnonzero(big):
            mine = found[inside == i].best_first()
            if big_off[i]:
                per_tile[i] = (_NO_FACES(), TileState.CAMERA_OFF)
            else:
                per_tile[i] = judge_tile(image, gray, tiles[i], mine)
        tile_faces = Faces.concat([f for f, _ in per_tile])
        if len(free) and len(tile_faces):  # a face on a tile's edge, found from both sides
            both = np.concatenate([tile_faces.boxes, free.boxes])
            keep = suppress(both, np.r_[np.ones(len(tile_faces)), np.zeros(len(free))])
            free = free[np.sort(keep[keep >= len(tile_faces)]) - len(tile_faces)]
        faces, states = _assemble(per_tile, free)
        return Found(faces, states, detected, jobs, tiles)


def make_search(detector: FaceDetector, **options) -> DnnSearch | HaarSearch:
    """The search strategy of ``detector``: :class:`HaarSearch` for the Haar cascade,
    :class:`DnnSearch` for a whole-frame detector."""
    if isinstance(detector, HaarDetector):
        return HaarSearch(detector, **options)
    return DnnSearch(detector, **options)
