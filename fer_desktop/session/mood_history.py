"""The class mood over time: a fixed-size ring of ``(time, shares)`` samples, and what counts as
a pause in them (the live chart and the saved report's chart draw a gap there, never a slope).
Qt-free."""

from __future__ import annotations

import numpy as np

from fer_desktop.labels import NUM_CLASSES

#: A longer time without an analysed frame (and longer than :data:`GAP_PERIODS` analysis
#: periods) is a pause, seconds.
GAP_S = 5.0
#: Analysis periods (the median time between frames) without a frame that make a pause.
GAP_PERIODS = 5.0


def pauses(t: np.ndarray) -> np.ndarray:
    """Where the analysis paused: the indices ``i`` with a pause between ``t[i]`` and
    ``t[i + 1]`` (no frame for longer than :data:`GAP_S` and :data:`GAP_PERIODS` analysis
    periods; ``t`` in seconds, non-decreasing)."""
    t = np.asarray(t, np.float64)
    if len(t) < 2:
        return np.zeros(0, np.intp)
    step = np.diff(t)
    return np.flatnonzero(step > max(GAP_S, GAP_PERIODS * float(np.median(step))))


class MoodHistory:
    """The last ``window_s`` seconds of per-emotion class shares, in preallocated arrays.

    Samples are appended at the end of ``2 * capacity`` slots; when the end is reached, the live
    samples are moved back to the start, so every append is O(1) amortised and :meth:`view`
    returns contiguous views without copying.

    Parameters
    ----------
    window_s : float
        Samples older than this (relative to the newest) are dropped, seconds.
    capacity : int
        Most samples kept (at 10 analyses/s, 3000 is five minutes).
    """

    def __init__(self, window_s: float = 300.0, capacity: int = 3000):
        self.window_s = float(window_s)
        self.capacity = int(capacity)
        self._t = np.zeros(2 * self.capacity, np.float64)
        self._shares = np.zeros((2 * self.capacity, NUM_CLASSES), np.float32)
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def clear(self) -> None:
        """Drop every sample."""
        self._start = self._end = 0

    def append(self, t: float, shares: np.ndarray) -> None:
        """Add the shares ``(7,)`` (fractions, summing to 1 or all 0) observed at time ``t``
        (seconds, any clock; non-decreasing)."""
        if self._end == len(self._t):
            n = len(self)
            self._t[:n] = self._t[self._start:self._end]
            self._shares[:n] = self._shares[self._start:self._end]
            self._start, self._end = 0, n
        self._t[self._end] = t
        self._shares[self._end] = shares
        self._end += 1
        # drop samples out of the time window, and the oldest beyond capacity
        first = int(np.searchsorted(self._t[self._start:self._end], t - self.window_s))
        self._start += first
        self._start = max(self._start, self._end - self.capacity)

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times (n,) float64, shares (n, 7) float32)``: views of the live samples, oldest
        first; valid until the next :meth:`append`."""
        return self._t[self._start:self._end], self._shares[self._start:self._end]
