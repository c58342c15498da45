"""Scoring against ``../shared/real_dev/``: real meeting screenshots and room photos with
hand-made ground truth (its README gives the format). Used by ``benchmarks/real_bench.py`` and
by ``tests/test_real_dev.py`` (which skips when the folder is absent). The data set is never
committed; nothing here is shipped.

Matching rules (one-to-one, greedy by IoU, the same for fer-desktop and for ``fer``):

* a true tile is found when a reported tile overlaps it with IoU >= 0.5 (and, separately,
  >= 0.9);
* a true face is found when a reported face box overlaps it with IoU >= :data:`FACE_IOU`. The
  truth boxes run from the hairline to the chin and cheek to cheek, as a detector's do; Haar
  boxes of the same face overlap them with IoU 0.5-0.8;
* a reported face whose centre lies in a camera-off or profile-photo tile is a face *on a
  camera-off tile* (never acceptable); a reported face matching no true face and not lying in a
  tile whose camera shows someone turned away or covered (``partial``) is an *extra* detection.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_desktop.analysis.boxes import centre_in
from fer_desktop.analysis.boxes import iou as iou_matrix

#: The development set's folder: ``$FER_REAL_DEV``, else ``../shared/real_dev`` beside the
#: project's root.
ROOT = Path(os.environ.get("FER_REAL_DEV",
                           Path(__file__).resolve().parents[2] / "shared" / "real_dev"))
#: Smallest IoU of a reported face box with a true one for the face to count as found.
FACE_IOU = 0.4
#: Room faces at least this wide (pixels) are the ones the target counts.
MIN_FACE_W = 24
CAMERA_OFF_STATES = ("off", "photo")


@dataclass(frozen=True)
class TruthImage:
    """One image of the set and its truth.

    Attributes
    ----------
    path : Path
        The image file.
    kind : str
        ``"meeting"`` or ``"room"``.
    app : str or None
        The meeting app (None for rooms).
    tiles : np.ndarray
        ``(t, 4) int64`` true tile boxes, xywh pixels (empty for rooms).
    tile_states : tuple of str
        ``face`` / ``partial`` / ``photo`` / ``off`` per tile.
    tile_names : tuple of str or None
        The name printed on each tile, verbatim.
    faces : np.ndarray
        ``(f, 4) int64`` true face boxes, xywh pixels.
    face_tiles : np.ndarray
        ``(f,) int64`` tile index of each face (-1 for rooms).
    face_labels : tuple of str or None
        Obvious expression per face (FER-2013 class name), else None.
    staged : bool
        A vendor's marketing shot (actors, stock video).
    """

    path: Path
    kind: str
    app: str | None
    tiles: np.ndarray
    tile_states: tuple[str, ...]
    tile_names: tuple[str | None, ...]
    faces: np.ndarray
    face_tiles: np.ndarray
    face_labels: tuple[str | None, ...]
    staged: bool

    @property
    def name(self) -> str:
        return self.path.stem


def available(root: Path = ROOT) -> bool:
    """Whether the development set is on this machine."""
    return (Path(root) / "truth.json").is_file()


def load(root: Path = ROOT, kind: str | None = None) -> list[TruthImage]:
    """The images of the set (``kind``: only ``"meeting"`` or ``"room"`` ones).

    Raises
    ------
    FileNotFoundError
        If ``root`` holds no ``truth.json``.
    """
    root = Path(root)
    out = []
    for e in json.loads((root / "truth.json").read_text()):
        if kind is not None and e["kind"] != kind:
            continue
        tiles = e.get("tiles", [])
        faces = e.get("faces", [])
        out.append(TruthImage(
            path=root / e["file"], kind=e["kind"], app=e.get("app"),
            tiles=np.array([t["box"] for t in tiles], np.int64).reshape(-1, 4),
            tile_states=tuple(t["state"] for t in tiles),
            tile_names=tuple(t.get("name") for t in tiles),
            faces=np.array([f["box"] for f in faces], np.int64).reshape(-1, 4),
            face_tiles=np.array([f.get("tile", -1) if f.get("tile") is not None else -1
                                 for f in faces], np.int64),
            face_labels=tuple(f.get("label") for f in faces),
            staged=bool(e.get("staged", False))))
    return out


def match(pred: np.ndarray, truth: np.ndarray, min_iou: float) -> list[tuple[int, int]]:
    """One-to-one ``(pred index, truth index)`` pairs with IoU >= ``min_iou``, greedy from the
    highest IoU."""
    m = iou_matrix(pred, truth)
    pairs = []
    used_p, used_t = set(), set()
    for k in np.argsort(-m, axis=None, kind="stable"):
        i, j = divmod(int(k), m.shape[1])
        if m[i, j] < min_iou:
            break
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        pairs.append((i, j))
    return pairs


def _inside(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(len(points), len(boxes)) bool``: each ``(x, y)`` point lies in each xywh box."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    return centre_in(np.column_stack([p, np.zeros_like(p)]), boxes)


def score(truth: TruthImage, tiles: np.ndarray, faces: np.ndarray,
          emotions: list[str | None] | None = None) -> dict:
    """Counts for one image.

    Parameters
    ----------
    truth : TruthImage
    tiles : np.ndarray
        ``(n, 4)`` reported tile boxes, xywh pixels (ignored for rooms; pass an empty array
        for a detector that reports no tiles).
    faces : np.ndarray
        ``(k, 4)`` reported face boxes, xywh pixels.
    emotions : list of str or None, optional
        ``k`` top expressions (FER-2013 class names) of the reported faces.

    Returns
    -------
    dict
        ``tiles``, ``tiles_reported``, ``tiles_50``, ``tiles_90`` (true tiles found at IoU 0.5 /
        0.9), ``faces``, ``faces_found``, ``faces_reported``, ``faces_big`` /
        ``faces_big_found`` and ``faces_small`` / ``faces_small_found`` (true faces at least /
        under :data:`MIN_FACE_W` wide), ``on_camera_off`` (reported faces on off / photo
        tiles), ``extra`` (reported faces matching no true face, outside partial tiles),
        ``expr`` / ``expr_right`` (found faces with an obvious expression, and those read
        right), ``missed`` (indices of the true faces not found).
    """
    tiles = np.asarray(tiles, np.int64).reshape(-1, 4)
    faces = np.asarray(faces, np.int64).reshape(-1, 4)
    out: dict = {"tiles": len(truth.tiles), "tiles_reported": len(tiles) if truth.tiles.size else 0}
    if len(truth.tiles):
        out["tiles_50"] = len(match(tiles, truth.tiles, 0.5))
        out["tiles_90"] = len(match(tiles, truth.tiles, 0.9))
    else:
        out["tiles_50"] = out["tiles_90"] = 0
    pairs = match(faces, truth.faces, FACE_IOU)
    found = {j for _, j in pairs}
    big = truth.faces[:, 2] >= MIN_FACE_W
    out.update(faces=len(truth.faces), faces_found=len(found), faces_reported=len(faces),
               faces_big=int(big.sum()), faces_big_found=sum(1 for j in found if big[j]),
               faces_small=int((~big).sum()),
               faces_small_found=sum(1 for j in found if not big[j]),
               missed=[j for j in range(len(truth.faces)) if j not in found])
    centres = faces[:, :2] + faces[:, 2:] / 2.0
    states = np.array(truth.tile_states)
    on_off = np.zeros(len(faces), bool)
    in_partial = np.zeros(len(faces), bool)
    if len(truth.tiles) and len(faces):
        inside = _inside(centres, truth.tiles)
        on_off = inside[:, np.isin(states, CAMERA_OFF_STATES)].any(axis=1)
        in_partial = inside[:, states == "partial"].any(axis=1)
    matched = np.zeros(len(faces), bool)
    matched[[i for i, _ in pairs]] = True
    out["on_camera_off"] = int(on_off.sum())
    out["extra"] = int((~matched & ~on_off & ~in_partial).sum())
    expr = right = 0
    if emotions is not None:
        for i, j in pairs:
            label = truth.face_labels[j]
            if label is not None:
                expr += 1
                right += int(emotions[i] == label)
    out["expr"], out["expr_right"] = expr, right
    return out


def total(scores: list[dict]) -> dict:
    """The sums of :func:`score`'s counts over images (``missed`` dropped)."""
    keys = [k for k in scores[0] if k != "missed"] if scores else []
    return {k: sum(s[k] for s in scores) for k in keys}
