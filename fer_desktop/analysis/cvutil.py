"""OpenCV for the analysis, and the helpers it shares: small thumbnails for change detection and
the pool of threads that runs independent pieces (tiles, masks, search jobs). Set OpenCV up with
:func:`fer_desktop.runtime.configure` first (the entry points do)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

_POOLS: dict[int, ThreadPoolExecutor] = {}


def thumbnail(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A small area-averaged copy of ``img`` for change detection and matching.

    Parameters
    ----------
    img : np.ndarray
        ``(H, W)`` or ``(H, W, C)`` image, any dtype OpenCV resizes.
    size : tuple of int
        ``(width, height)`` of the thumbnail, pixels.

    Returns
    -------
    np.ndarray
        The thumbnail, ``img``'s dtype and channels.

    Notes
    -----
    An image over 8 times the thumbnail in both directions is first sampled every k-th pixel
    of every k-th row (down to at least 8x8 samples per thumbnail pixel), so that the cost no
    longer grows with the image: a 4K tile costs under a millisecond instead of 9 ms, and each
    thumbnail pixel still averages 64 or more pixels (sensor noise of 2 levels averages to
    0.25).
    """
    h, w = img.shape[:2]
    k = min(w // (8 * size[0]), h // (8 * size[1]))
    if k >= 2:
        img = img[::k, ::k]
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def thread_pool(workers: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``workers`` threads for OpenCV work (OpenCV releases the GIL),
    created on first use and shared by the gallery and face steps. Tasks must not wait on other
    tasks of the same pool."""
    if workers not in _POOLS:
        _POOLS[workers] = ThreadPoolExecutor(workers, thread_name_prefix=f"opencv{workers}")
    return _POOLS[workers]


__all__ = ["cv2", "thread_pool", "thumbnail"]
