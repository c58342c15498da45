"""OpenCV import with its console warnings silenced (a missing camera is reported to the user
through :class:`fer_desktop.sources.SourceError`, not as OpenCV log lines)."""

from __future__ import annotations

import os

os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_VIDEOIO_PRIORITY_OBSENSOR", "0")

import cv2  # noqa: E402

try:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
except AttributeError:  # older builds without the logging module
    pass

__all__ = ["cv2"]
