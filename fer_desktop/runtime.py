"""The process-wide set-up that the entry points (``fer-desktop``, the window, the tests and the
benchmarks) call once, before any analysis: nothing of it happens at import time.

:func:`configure` silences OpenCV's own console messages (a missing camera is reported to the
teacher through :class:`fer_desktop.capture.sources.SourceError`, not as OpenCV log lines),
keeps OpenCV from probing depth-sensor camera back-ends, and turns OpenCV's own worker threads
off: the app runs its pieces (tiles, masks, search jobs) on two threads of its own
(:func:`fer_desktop.analysis.cvutil.thread_pool`), and two levels of threads competing for the
same cores made the gallery search 20-30 % slower on 2 cores.

It also sets OpenCV's own limit on the images it decodes to what the app accepts (16384 px a
side, :data:`fer_desktop.capture.sources.MAX_IMAGE_SIDE`): OpenCV reads that from an image's
header before it decodes, so a format Pillow cannot size is refused before any memory is taken.

On Linux (glibc) it also limits malloc to two arenas: every thread that allocates (the analysis,
OpenCV's and the app's pools, the name reader, LiteRT, the capture thread) otherwise gets an
arena of its own, and the freed memory scattered over them is never returned. Measured over
1,400 analyses of a 25-tile video (``benchmarks/soak.py``): resident memory grew by 15 % with
the default arenas and stayed flat (within the ±5 % of its ups and downs) with two.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_done = False
#: glibc's ``mallopt`` parameter for the most malloc arenas (``M_ARENA_MAX`` in malloc.h).
_M_ARENA_MAX = -8
#: Arenas allowed (see the module's text).
MALLOC_ARENAS = 2
#: Largest image side OpenCV may decode (the same as ``capture.sources.MAX_IMAGE_SIDE``).
MAX_IMAGE_SIDE = 16384


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def release_memory() -> bool:
    """Give the memory malloc holds free back to the system (glibc's ``malloc_trim(0)``; a
    few milliseconds). The window calls it once a minute and after a session; False where
    there is no glibc."""
    libc = _libc()
    try:
        return bool(libc.malloc_trim(0)) if libc is not None else False
    except AttributeError:
        return False


def _limit_malloc_arenas() -> bool:
    """``mallopt(M_ARENA_MAX, 2)`` on glibc; False elsewhere (macOS, Windows, musl)."""
    libc = _libc()
    try:
        return bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)) if libc is not None else False
    except AttributeError:
        return False


def configure() -> None:
    """Set up OpenCV and malloc for the app (idempotent; call it first, before opening
    sources or starting threads)."""
    global _done
    if _done:
        return
    _limit_malloc_arenas()  # first: before any thread allocates
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_VIDEOIO_PRIORITY_OBSENSOR", "0")
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_WIDTH", str(MAX_IMAGE_SIDE))
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_HEIGHT", str(MAX_IMAGE_SIDE))
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_SIDE * MAX_IMAGE_SIDE))
    import cv2

    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # builds without the logging module
        pass
    cv2.setNumThreads(1)
    _done = True
