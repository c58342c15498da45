"""The process-wide set-up that the entry points (``fer-desktop``, the window, the tests and the
benchmarks) call once, before any analysis: nothing of it happens at import time.

:func:`configure` silences OpenCV's own console messages (a missing camera is reported to the
teacher through :class:`fer_desktop.capture.sources.SourceError`, not as OpenCV log lines),
keeps OpenCV from probing depth-sensor camera back-ends, and turns OpenCV's own worker threads
off: the app runs its pieces (tiles, masks, search jobs) on two threads of its own
(:func:`fer_desktop.analysis.cvutil.thread_pool`), and two levels of threads competing for the
same cores made the gallery search 20-30 % slower on 2 cores.
"""

from __future__ import annotations

import os

_done = False


def configure() -> None:
    """Set up OpenCV for the app (idempotent; call it before opening sources)."""
    global _done
    if _done:
        return
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_VIDEOIO_PRIORITY_OBSENSOR", "0")
    import cv2

    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # builds without the logging module
        pass
    cv2.setNumThreads(1)
    _done = True
