"""FER+ crowd labels for the FER-2013 images: vote distributions, majority labels, training targets.

FER+ (Barsoum, Zhang, Canton Ferrer, Zhang, "Training Deep Networks for Facial Expression
Recognition with Crowd-Sourced Label Distribution", ICMI 2016; labels from Microsoft's FERPlus
repository, MIT licence) asked 10 annotators per FER-2013 image to choose among neutral,
happiness, surprise, sadness, anger, disgust, fear, contempt, unknown and "not a face". This module
maps those votes onto the 7 FER-2013 classes of :data:`fer_desktop.labels.EMOTIONS` (by name; the
vote columns come in another order) and builds the targets of the training schemes compared in
``models/EXPERIMENTS.md``:

``original``
    FER-2013's own labels, one-hot.
``majority``
    the FER+ majority label, one-hot (Barsoum et al.'s "majority voting").
``votes``
    the vote distribution over the 7 classes as a soft target (their "probability" scheme):
    contempt, unknown and not-a-face votes dropped, single votes dropped as outliers (as the FERPlus
    reference code does), normalised to sum 1; images left without an expression vote are not
    used.
``mix``
    the mean of ``votes`` and ``original``.

NumPy only: no TensorFlow, so the evaluation and tests use it too.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_desktop.labels import EMOTIONS, NUM_CLASSES

#: FER+ names of the FER-2013 classes, in :data:`EMOTIONS` order.
FERPLUS_NAMES: dict[str, str] = {"angry": "anger", "disgust": "disgust", "fear": "fear",
                                 "happy": "happiness", "sad": "sadness", "surprise": "surprise",
                                 "neutral": "neutral"}

#: The training-target schemes of :func:`targets`.
SCHEMES: tuple[str, ...] = ("original", "majority", "votes", "mix")


@dataclass(frozen=True)
class Votes:
    """The FER+ votes of one split, mapped to FER-2013's classes.

    Attributes
    ----------
    expression : (n, 7) int16
        Votes for each class of :data:`EMOTIONS`, in that order; all 0 for an image FER+ lacks.
    other : (n, 3) int16
        Votes for contempt, unknown and not-a-face.
    present : (n,) bool
        False for the images FER+ does not have (a row of -1 in the file).
    """

    expression: np.ndarray
    other: np.ndarray
    present: np.ndarray

    def __len__(self) -> int:
        return len(self.present)

    def majority(self) -> np.ndarray:
        """``(n,) int64`` FER+ majority label in :data:`EMOTIONS` order, or -1 where there is none.

        The majority is the single most-voted of all 10 FER+ answers. An image has none when FER+
        lacks it, when two answers tie for the most votes, or when the most-voted answer is
        contempt, unknown or not-a-face (the images that Barsoum et al.'s majority scheme drops).
        """
        allv = np.concatenate([self.expression, self.other], 1).astype(np.int64)
        top = allv.max(1)
        unique = (allv == top[:, None]).sum(1) == 1
        arg = allv.argmax(1)
        ok = self.present & unique & (arg < NUM_CLASSES) & (top > 0)
        return np.where(ok, arg, -1).astype(np.int64)

    def distribution(self, drop_single: bool = True) -> np.ndarray:
        """``(n, 7) float32`` vote distribution over :data:`EMOTIONS` (rows sum to 1), with
        contempt/unknown/not-a-face votes dropped and, when ``drop_single``, classes with a single
        vote dropped as outliers (unless that leaves the image without votes). Rows of images
        without an expression vote are all 0."""
        v = self.expression.astype(np.float32)
        if drop_single:
            pruned = np.where(v <= 1, 0.0, v)
            v = np.where(pruned.sum(1, keepdims=True) > 0, pruned, v)
        total = v.sum(1, keepdims=True)
        return np.divide(v, total, out=np.zeros_like(v), where=total > 0)

    def usable(self) -> np.ndarray:
        """``(n,) bool``: images with at least one expression vote among the 7 classes."""
        return self.present & (self.expression.sum(1) > 0)


def parse_votes(votes: np.ndarray, columns) -> Votes:
    """Map a FER+ vote array onto FER-2013's classes.

    Parameters
    ----------
    votes : (n, 10) int
        One row per image; a row of -1 for an image FER+ lacks.
    columns : sequence of 10 str
        The FER+ answer of each column (``neutral, happiness, ..., contempt, unknown, NF``).

    Raises
    ------
    ValueError
        If the shape is wrong, a column is missing, or a vote is negative in a present row.
    """
    votes = np.asarray(votes)
    cols = [str(c).strip().lower() for c in columns]
    if votes.ndim != 2 or votes.shape[1] != len(cols):
        raise ValueError(f"FER+ votes must be (n, {len(cols)}) to match their columns, "
                         f"not {votes.shape}")
    need = [*FERPLUS_NAMES.values(), "contempt", "unknown", "nf"]
    missing = [c for c in need if c not in cols]
    if missing:
        raise ValueError(f"FER+ votes lack the columns {', '.join(missing)} (they have "
                         f"{', '.join(cols)})")
    present = ~(votes < 0).all(1)
    if (votes[present] < 0).any():
        raise ValueError("FER+ votes must be counts >= 0 (or a whole row of -1 for a missing image)")
    idx = [cols.index(FERPLUS_NAMES[e]) for e in EMOTIONS]
    other = [cols.index(c) for c in ("contempt", "unknown", "nf")]
    v = np.where(present[:, None], votes, 0).astype(np.int16)
    return Votes(expression=v[:, idx], other=v[:, other], present=present)


def find_votes(data: str | Path, votes: str | Path | None = None) -> Path | None:
    """Where the FER+ votes of the data file ``data`` are: ``votes`` when given, else ``data``
    itself when it holds ``votes_*`` arrays, else ``ferplus_votes.npz`` beside it, else None.

    Raises
    ------
    FileNotFoundError
        If ``votes`` is given and does not exist.
    """
    if votes is not None:
        p = Path(votes)
        if not p.is_file():
            raise FileNotFoundError(f"FER+ votes file not found: {p}")
        return p
    data = Path(data)
    try:
        with np.load(data, allow_pickle=False) as z:
            if any(k.startswith("votes_") for k in z.files):
                return data
    except (OSError, ValueError):
        pass
    beside = data.with_name("ferplus_votes.npz")
    return beside if beside.is_file() else None


def load_votes(path: str | Path, split: str, n: int | None = None) -> Votes:
    """The FER+ votes of ``split`` (``votes_<split>`` and ``columns``) from an ``.npz``.

    ``n``, when given, is the number of images of the split the votes must match.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not an ``.npz`` with ``votes_<split>`` and ``columns``, or its rows do not
        match ``n`` images (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FER+ votes file not found: {path}")
    key = f"votes_{split}"
    try:
        with np.load(path, allow_pickle=False) as z:
            files = list(z.files)
            raw = z[key] if key in files else None
            cols = z["columns"] if "columns" in files else None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path.name} is not a readable .npz file of FER+ votes "
                         f"({str(exc).split('.')[0]})") from None
    if raw is None or cols is None:
        raise ValueError(f"{path.name} has no FER+ votes for the {split} split (it needs "
                         f"arrays {key} and columns; it has {', '.join(files)})")
    if n is not None and len(raw) != n:
        raise ValueError(f"{path.name} has votes for {len(raw)} {split} images, but the data has "
                         f"{n}: the rows must be the same images in the same order")
    try:
        return parse_votes(raw, cols)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def targets(scheme: str, y: np.ndarray, votes: Votes | None) -> tuple[np.ndarray, np.ndarray]:
    """Training targets for ``scheme`` (one of :data:`SCHEMES`).

    Parameters
    ----------
    y : (n,) int
        FER-2013's original labels.
    votes : Votes or None
        The FER+ votes of the same images (needed by every scheme but ``original``).

    Returns
    -------
    (targets, keep) : ((n, 7) float32, (n,) bool)
        Rows sum to 1; ``keep`` marks the images the scheme trains on.

    Raises
    ------
    ValueError
        For an unknown scheme, or a FER+ scheme without votes.
    """
    y = np.asarray(y, np.int64)
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[y]
    if scheme == "original":
        return onehot, np.ones(len(y), bool)
    if scheme not in SCHEMES:
        raise ValueError(f"labels must be one of {', '.join(SCHEMES)}, not {scheme!r}")
    if votes is None:
        raise ValueError(f"--labels {scheme} needs the FER+ votes (--votes FILE, or votes_train "
                         "and votes_val inside the data file)")
    if len(votes) != len(y):
        raise ValueError(f"{len(votes)} FER+ vote rows for {len(y)} images")
    if scheme == "majority":
        m = votes.majority()
        keep = m >= 0
        return np.eye(NUM_CLASSES, dtype=np.float32)[np.maximum(m, 0)] * keep[:, None], keep
    dist = votes.distribution()
    keep = votes.usable()
    if scheme == "votes":
        return dist, keep
    return np.where(keep[:, None], 0.5 * dist + 0.5 * onehot, onehot).astype(np.float32), \
        np.ones(len(y), bool)
