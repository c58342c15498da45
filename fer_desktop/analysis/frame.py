"""A frame to analyse: the image and where and when it was captured. Qt-free; made by
:mod:`fer_desktop.capture.sources`, analysed by :mod:`fer_desktop.analysis.pipeline`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One captured frame.

    Attributes
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8``, BGR, C-contiguous.
    index : int
        0-based index of the frame in its source (for a video file: the frame number in the file).
    timestamp : float
        Wall-clock capture time, seconds since the Unix epoch.
    position_s : float
        Seconds since the source was opened (live sources) or the media time (video files).
    source : str
        Short label of the source (file name, ``screen:1``, ``camera:0`` ...).
    """

    image: np.ndarray
    index: int
    timestamp: float
    position_s: float
    source: str
