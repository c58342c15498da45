"""Small Qt-free pieces of a live session: its state, the preview downscaling, the analysis-rate
monitor and the autosave file name."""

from __future__ import annotations

import enum
import time
from collections import deque
from datetime import datetime

import numpy as np

from fer_desktop.analysis.cvutil import cv2

#: Longest side of the preview image sent to the window, pixels.
PREVIEW_MAX_SIDE = 1280


class SessionState(enum.Enum):
    """Where a session stands. Start: IDLE -> RUNNING; Pause: RUNNING <-> PAUSED (the source
    is released, the session's numbers are kept); Stop: -> IDLE (the session is saved)."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"


def make_preview(image: np.ndarray, max_side: int = PREVIEW_MAX_SIDE) -> tuple[np.ndarray, float]:
    """Downsize ``image`` so that its long side is at most ``max_side``.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR.
    max_side : int
        Longest side allowed, pixels.

    Returns
    -------
    preview : np.ndarray
        ``(h, w, 3) uint8`` BGR, C-contiguous; ``image`` itself when already small enough.
    scale : float
        ``w / W``, preview pixels per image pixel.
    """
    h, w = image.shape[:2]
    long_side = max(h, w)
    if long_side <= max_side:
        return np.ascontiguousarray(image), 1.0
    scale = max_side / long_side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), size[0] / w


class RateMonitor:
    """Events per second over a sliding window of the last ``window_s`` seconds.

    Parameters
    ----------
    window_s : float
        Length of the window, seconds.
    clock : callable
        Monotonic clock, seconds (injectable for tests).
    """

    def __init__(self, window_s: float = 5.0, clock=time.monotonic):
        self.window_s = float(window_s)
        self._clock = clock
        self._times: deque[float] = deque()

    def tick(self) -> None:
        """Record one event now."""
        now = self._clock()
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    @property
    def rate(self) -> float:
        """Events per second between the oldest and newest event of the window; 0 with fewer
        than two events."""
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0


def session_stamp(when: float | None = None) -> str:
    """``YYYYmmdd-HHMMSS`` of Unix time ``when`` (default now), local time: a session's CSV
    and its saved folder share it."""
    return datetime.fromtimestamp(time.time() if when is None else when).strftime(
        "%Y%m%d-%H%M%S")


def session_file_name(when: float | None = None) -> str:
    """Autosave file name of a session started at Unix time ``when`` (default now):
    ``session-YYYYmmdd-HHMMSS.csv``."""
    return f"session-{session_stamp(when)}.csv"
