"""Evaluate the runtime (LiteRT) model on a labelled ``.npz`` split, through the app's own
inference path (:class:`fer_desktop.analysis.emotions.EmotionModel`, calibrated softmax)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.labels import EMOTIONS, FACE_SIZE, NUM_CLASSES


def load_split(path: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``x_<split>`` ``(N, 48, 48) uint8`` and ``y_<split>`` ``(N,) int64`` from an ``.npz``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    KeyError
        If the split's arrays are missing.
    ValueError
        If the arrays do not have FER-2013's shapes and label range.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    with np.load(path, allow_pickle=False) as data:
        xk, yk = f"x_{split}", f"y_{split}"
        if xk not in data.files or yk not in data.files:
            raise KeyError(f"{path.name} has no arrays {xk}/{yk} (it has {', '.join(data.files)})")
        x, y = data[xk], data[yk].astype(np.int64)
    if x.ndim != 3 or x.shape[1:] != (FACE_SIZE, FACE_SIZE) or len(x) != len(y):
        raise ValueError(f"expected {xk} (N, 48, 48) and {yk} (N,), got {x.shape} and {y.shape}")
    if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise ValueError(f"labels of {yk} must be in 0..{NUM_CLASSES - 1}")
    return x.astype(np.uint8), y


def classification_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix
    (rows: true class, columns: predicted class, both in :data:`EMOTIONS` order)."""
    cm = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(np.float64)
    prec = np.divide(tp, cm.sum(0), out=np.zeros_like(tp), where=cm.sum(0) > 0)
    rec = np.divide(tp, cm.sum(1), out=np.zeros_like(tp), where=cm.sum(1) > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros_like(tp), where=(prec + rec) > 0)
    return {
        "accuracy": float(tp.sum() / max(1, cm.sum())),
        "macro_f1": float(f1.mean()),
        "per_class": {e: {"precision": round(float(prec[i]), 4), "recall": round(float(rec[i]), 4),
                          "f1": round(float(f1[i]), 4), "support": int(cm[i].sum())}
                      for i, e in enumerate(EMOTIONS)},
        "confusion_matrix": cm.tolist(),
    }


def evaluate(data: str | Path, split: str = "val", model: EmotionModel | None = None,
             batch: int = 49, votes: str | Path | None = None) -> dict:
    """Evaluate ``model`` (default: the shipped one) on a split of ``data``.

    Returns a JSON-ready dict: the :func:`classification_report` against the split's original
    FER-2013 labels at the top level (and under ``"original"``), plus ``ms_per_face`` (mean wall
    time per face of :meth:`EmotionModel.predict` at ``batch`` faces per call) and ``ece``
    (expected calibration error, 15 equal-width confidence bins; Naeini et al. AAAI 2015). With
    FER+ votes (``votes``, or ``votes_<split>`` inside ``data``, or ``ferplus_votes.npz`` beside
    it; :func:`fer_desktop.training.ferplus.find_votes`), ``"ferplus_majority"`` holds the same
    report against the FER+ majority label of the images that have one.

    Raises
    ------
    FileNotFoundError, KeyError, ValueError
        For a missing or malformed data or votes file (the message names it).
    """
    from fer_desktop.training import ferplus

    x, y = load_split(data, split)
    votes_path = ferplus.find_votes(data, votes)
    v = ferplus.load_votes(votes_path, split, len(x)) if votes_path else None
    model = model or EmotionModel()
    if model.crop.aligned:  # the faces as the app cuts them for this model
        from fer_desktop.training.align import aligned_split

        x = aligned_split(x, model.crop.zoom)
    report = evaluate_arrays(model, x, y, v, batch=batch)
    report.update({"model": str(model.path), "split": split,
                   "votes": str(votes_path) if votes_path else None})
    return report


def evaluate_arrays(model: EmotionModel, x: np.ndarray, y: np.ndarray, votes=None,
                    batch: int = 49) -> dict:
    """:func:`evaluate` on arrays: ``x`` ``(n, 48, 48) uint8`` faces, ``y`` ``(n,)`` original
    labels, ``votes`` a :class:`fer_desktop.training.ferplus.Votes` of the same images or None."""
    model.predict(x[:batch])  # warm-up: allocate tensors for this batch size
    probs, t = [], 0.0
    for i in range(0, len(x), batch):
        t0 = time.perf_counter()
        probs.append(model.predict(x[i:i + batch]))
        t += time.perf_counter() - t0
    p = np.concatenate(probs) if probs else np.zeros((0, NUM_CLASSES), np.float32)
    original = {**classification_report(y, p.argmax(1)), "n": int(len(y)),
                "ece": expected_calibration_error(p, y)}
    out = {**original, "original": original}
    if votes is not None:
        maj = votes.majority()
        m = maj >= 0
        share = votes.distribution(drop_single=False)
        out["ferplus_majority"] = {**classification_report(maj[m], p[m].argmax(1)),
                                   "n": int(m.sum()),
                                   "ece": expected_calibration_error(p[m], maj[m]),
                                   "ece_votes": vote_calibration_error(p[m], share[m]),
                                   "nll_votes": negative_log_likelihood(
                                       np.log(np.clip(p[m], 1e-7, 1.0)), share[m])}
    out.update({"temperature": model.temperature, "flip_tta": model.flip_tta,
                "flip_share": model.flip_share,
                "ms_per_face": round(1000 * t / max(1, len(x)), 4), "batch": batch})
    return out


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """ECE of ``(n, 7)`` probabilities against ``(n,)`` labels, in [0, 1]."""
    if len(y) == 0:
        return 0.0
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def vote_calibration_error(probs: np.ndarray, shares: np.ndarray, bins: int = 15) -> float:
    """How far a model's top probability is from the share of annotators who chose its top class
    (``(n, 7)`` probabilities, ``(n, 7)`` FER+ vote shares): the expected calibration error with
    the vote share in place of right/wrong (15 equal-width confidence bins), in [0, 1]. A model
    fitted to the vote distributions says "60 %" where 6 of 10 people would agree."""
    if len(probs) == 0:
        return 0.0
    conf = probs.max(1)
    agree = shares[np.arange(len(shares)), probs.argmax(1)]
    edges = np.linspace(0, 1, bins + 1)
    err = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            err += m.mean() * abs(agree[m].mean() - conf[m].mean())
    return float(err)


def negative_log_likelihood(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood (nats) of ``softmax(logits / temperature)`` for ``(n, 7)``
    logits and ``(n,)`` int labels, or the mean cross-entropy against ``(n, 7)`` target
    distributions (the FER+ annotators' votes)."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    y = np.asarray(y)
    if y.ndim == 2:
        return float(-np.mean((y * log_p).sum(1)))
    y = y.astype(np.int64)
    return float(-np.mean(log_p[np.arange(len(y)), y]))


def fit_temperature(logits: np.ndarray, y: np.ndarray, lo: float = 0.05, hi: float = 20.0) -> float:
    """Temperature ``T`` minimising the negative log-likelihood of ``softmax(logits / T)`` on
    ``(n, 7)`` logits and ``(n,)`` labels or ``(n, 7)`` target distributions (temperature
    scaling, Guo et al. ICML 2017).

    A golden-section search on ``log T`` (the NLL is unimodal in ``T``); returns a float in
    ``[lo, hi]``.
    """
    z = np.asarray(logits, np.float64)
    y = np.asarray(y)

    def nll(log_t: float) -> float:
        return negative_log_likelihood(z, y, float(np.exp(log_t)))

    a, b = np.log(lo), np.log(hi)
    g = (np.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(c), nll(d)
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(d)
    return float(np.exp((a + b) / 2))
