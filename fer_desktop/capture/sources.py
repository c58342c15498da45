"""Frame sources behind one interface: a monitor or screen region (mss), a camera (OpenCV), a
video file, or a still image.

Every source yields :class:`Frame` objects holding a BGR ``(H, W, 3) uint8`` image and its
timestamps. Sources are created cheaply and opened with :meth:`FrameSource.open` in the thread
that reads them (mss and OpenCV capture handles are not shared between threads). Any failure to
open or read is a :class:`SourceError` with a message meant for the teacher.
"""

from __future__ import annotations

import enum
import os
import time
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from fer_desktop.analysis import cvutil
from fer_desktop.analysis.frame import Frame  # noqa: F401 (sources make Frames)

cv2 = cvutil.cv2

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".wmv", ".mpg",
                            ".mpeg"})


class SourceError(RuntimeError):
    """A source could not be opened or stopped delivering frames; ``str()`` is user-facing."""


class SourceKind(enum.Enum):
    """What a :class:`FrameSource` reads from."""

    SCREEN = "screen"
    REGION = "region"
    CAMERA = "camera"
    VIDEO = "video"
    IMAGE = "image"


class FrameSource(ABC):
    """A stream of :class:`Frame`. Use as a context manager or call :meth:`open`/:meth:`close`.

    ``read()`` returns the next frame or ``None`` at the end of a finite source; it raises
    :class:`SourceError` when a live device fails (for example a camera unplugged mid-session).
    """

    kind: SourceKind
    #: True for sources that produce new content over time (screen, camera); False for files.
    live: bool = True

    def __init__(self) -> None:
        self._index = 0
        self._t0 = 0.0

    @property
    @abstractmethod
    def label(self) -> str:
        """Short label used in the CSV's ``source`` column."""

    @abstractmethod
    def open(self) -> None:
        """Acquire the device or file. Raises :class:`SourceError`."""

    @abstractmethod
    def _grab(self) -> tuple[np.ndarray, float] | None:
        """Return ``(bgr_image, position_s)`` or ``None`` at the end of the stream."""

    def close(self) -> None:
        """Release the device or file; safe to call twice."""

    def read(self) -> Frame | None:
        """Return the next :class:`Frame`, or ``None`` at the end. Raises :class:`SourceError`."""
        got = self._grab()
        if got is None:
            return None
        image, pos = got
        frame = Frame(np.ascontiguousarray(image), self._index, time.time(), pos, self.label)
        self._index += 1
        return frame

    def __enter__(self) -> "FrameSource":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def list_monitors() -> list[dict]:
    """Monitors known to mss: a list of ``{"index", "left", "top", "width", "height"}`` dicts,
    index 1 being the primary monitor (mss numbering; index 0, all monitors together, is left out).
    Returns an empty list when no display can be reached."""
    try:
        import mss

        with mss.MSS() as sct:
            return [dict(index=i, **{k: m[k] for k in ("left", "top", "width", "height")})
                    for i, m in enumerate(sct.monitors) if i > 0]
    except Exception:  # no display server, no permission: nothing to offer
        return []


def blank(image: np.ndarray, origin: tuple[int, int], rects) -> np.ndarray:
    """``image`` (``(H, W, 3) uint8``, its top-left pixel at virtual-screen ``origin``) with the
    virtual-screen rectangles ``rects`` (``(x, y, w, h)``) painted black; a copy when anything
    is painted."""
    out = image
    for x, y, w, h in rects or ():
        x0, y0 = max(0, int(x) - origin[0]), max(0, int(y) - origin[1])
        x1 = min(image.shape[1], int(x + w) - origin[0])
        y1 = min(image.shape[0], int(y + h) - origin[1])
        if x1 > x0 and y1 > y0:
            if out is image:
                out = image.copy()
            out[y0:y1, x0:x1] = 0
    return out


def probe_cameras(max_index: int = 4) -> list[int]:
    """Numbers of the cameras that open, among ``0 .. max_index - 1`` (the source picker lists
    only those). Each is opened and released at once, without reading a frame; this takes a
    moment on some systems, so call it off the GUI thread."""
    found = []
    for index in range(max_index):
        cap = None
        try:
            cap = cv2.VideoCapture(index)
            if cap.isOpened():
                found.append(index)
        except Exception:  # a broken backend: that camera is simply not offered
            pass
        finally:
            if cap is not None:
                cap.release()
    return found


class ScreenSource(FrameSource):
    """A whole monitor (``monitor`` >= 1, mss numbering) or a region of the virtual screen.

    Parameters
    ----------
    monitor : int
        mss monitor number; 1 is the primary monitor.
    region : tuple of int, optional
        ``(x, y, w, h)`` in virtual-screen pixels; overrides ``monitor``.
    exclude : callable, optional
        Returns the ``(x, y, w, h)`` virtual-screen rectangles to blank (paint black) in every
        captured frame: fer-desktop's own window, which must never be analysed. Called from the
        capturing thread; it must be thread-safe.
    """

    def __init__(self, monitor: int = 1, region: tuple[int, int, int, int] | None = None,
                 exclude=None):
        super().__init__()
        self.monitor = monitor
        self.region = region
        self.exclude = exclude
        self.kind = SourceKind.REGION if region else SourceKind.SCREEN
        self._sct = None
        self._box: dict | None = None

    @property
    def label(self) -> str:
        if self.region:
            return "region:" + ",".join(str(v) for v in self.region)
        return f"screen:{self.monitor}"

    def open(self) -> None:
        try:
            import mss

            self._sct = mss.MSS()
            monitors = self._sct.monitors
        except Exception as exc:
            raise SourceError(f"Cannot capture the screen: {exc}") from None
        if self.region:
            x, y, w, h = self.region
            if w <= 0 or h <= 0:
                raise SourceError(f"Region {self.region} is empty.")
            self._box = {"left": x, "top": y, "width": w, "height": h}
        else:
            if not 1 <= self.monitor < len(monitors):
                n = len(monitors) - 1
                raise SourceError(f"There is no screen {self.monitor}; this computer has {n}.")
            m = monitors[self.monitor]
            self._box = {k: m[k] for k in ("left", "top", "width", "height")}
        self._t0 = time.monotonic()

    def _grab(self):
        if self._sct is None:
            raise SourceError("The screen source is not open.")
        try:
            shot = self._sct.grab(self._box)
        except Exception as exc:
            raise SourceError(f"Screen capture failed: {exc}") from None
        bgra = np.frombuffer(shot.bgra, np.uint8).reshape(shot.height, shot.width, 4)
        image = bgra[:, :, :3]
        if self.exclude is not None:
            image = blank(image, (self._box["left"], self._box["top"]), self.exclude())
        return image, time.monotonic() - self._t0

    def close(self) -> None:
        if self._sct is not None:
            self._sct.close()
            self._sct = None


class CameraSource(FrameSource):
    """Camera number ``index`` through OpenCV's ``VideoCapture``."""

    kind = SourceKind.CAMERA

    def __init__(self, index: int = 0):
        super().__init__()
        self.index = index
        self._cap = None
        self._failures = 0

    @property
    def label(self) -> str:
        return f"camera:{self.index}"

    def open(self) -> None:
        cap = cv2.VideoCapture(self.index)
        ok = cap.isOpened() and cap.read()[0]
        if not ok:
            cap.release()
            raise SourceError(f"Camera {self.index} is not available. Check that it is plugged in "
                              "and not used by another program (the video call may hold it).")
        self._cap = cap
        self._t0 = time.monotonic()

    def _grab(self):
        if self._cap is None:
            raise SourceError("The camera is not open.")
        ok, img = self._cap.read()
        if not ok or img is None:
            self._failures += 1
            if self._failures >= 5:
                raise SourceError(f"Camera {self.index} stopped sending video "
                                  "(was it unplugged?).")
            time.sleep(0.05)
            return self._grab()
        self._failures = 0
        return img, time.monotonic() - self._t0

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


#: A video whose frames stop before this share of the count in its header is reported as
#: damaged or incomplete (some containers only estimate the count).
TRUNCATED_SHARE = 0.98


class VideoSource(FrameSource):
    """A video file read frame by frame; ``step`` > 1 skips frames (``Frame.index`` stays the
    frame number in the file). ``realtime=True`` paces reads to the file's frame rate, as a live
    source would deliver them."""

    kind = SourceKind.VIDEO
    live = False

    def __init__(self, path: str | os.PathLike, step: int = 1, realtime: bool = False):
        super().__init__()
        self.path = Path(path)
        self.step = max(1, int(step))
        self.realtime = realtime
        self._cap = None
        self.fps = 0.0
        self.frame_count = 0

    @property
    def label(self) -> str:
        return self.path.name

    def open(self) -> None:
        _check_file(self.path)
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"Cannot read {self.path.name}: not a video OpenCV can decode.")
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 0 < self.fps < 1000:
            self.fps = 25.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._cap = cap
        self._t0 = time.monotonic()
        self._next = 0

    def _grab(self):
        if self._cap is None:
            raise SourceError("The video is not open.")
        while True:
            pos_index = self._next
            ok, img = self._cap.read()
            if not ok:
                if pos_index == 0:
                    raise SourceError(f"Cannot read {self.path.name}: no frame could be decoded.")
                if self.frame_count and pos_index < TRUNCATED_SHARE * self.frame_count - 2:
                    raise SourceError(
                        f"{self.path.name} ends at frame {pos_index} of the "
                        f"{self.frame_count} its header announces: the file is damaged or "
                        "incomplete (the frames before were analysed).")
                return None
            self._next += 1
            if pos_index % self.step == 0:
                break
        pos = pos_index / self.fps
        if self.realtime:
            delay = pos - (time.monotonic() - self._t0)
            if delay > 0:
                time.sleep(delay)
        self._index = pos_index
        return img, pos

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageSource(FrameSource):
    """A still image. ``repeat=True`` (the GUI) yields it again on every read, as a live source;
    ``repeat=False`` (the CLI) yields it once."""

    kind = SourceKind.IMAGE

    def __init__(self, path: str | os.PathLike, repeat: bool = False):
        super().__init__()
        self.path = Path(path)
        self.repeat = repeat
        self.live = repeat
        self._img: np.ndarray | None = None
        self._done = False

    @property
    def label(self) -> str:
        return self.path.name

    def open(self) -> None:
        self._img = read_image(self.path)
        self._t0 = time.monotonic()
        self._done = False

    def _grab(self):
        if self._img is None:
            raise SourceError("The image is not open.")
        if self._done and not self.repeat:
            return None
        self._done = True
        return self._img, (time.monotonic() - self._t0) if self.repeat else 0.0


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SourceError(f"File not found: {path}")
    if path.is_dir():
        raise SourceError(f"{path} is a folder, not an image or a video.")
    if not os.access(path, os.R_OK):
        raise SourceError(f"Cannot read {path}: permission denied.")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as ``(H, W, 3) uint8`` BGR (grey and BGRA files are converted).

    Works with non-ASCII paths on every OS (bytes are decoded with ``cv2.imdecode``).

    Raises
    ------
    SourceError
        If the file is missing or is not an image OpenCV can decode.
    """
    path = Path(path)
    _check_file(path)
    check_image_size(path)
    data = np.fromfile(path, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise SourceError(f"Cannot read {path.name}: not an image OpenCV can decode.")
    return img


#: Largest side of an image the app reads, pixels: no screen (8K is 7680 px wide; three 4K
#: monitors side by side, 11520) or camera produces more. Checked from the file's header,
#: before decoding: a 109 KB PNG of 30000x30000 pixels would take 5 GB.
MAX_IMAGE_SIDE = 16384
#: Smallest side, pixels: below it no face can be seen (a FER-2013 face is 48 px).
MIN_IMAGE_SIDE = 24


def check_image_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` of an image file from its header (Pillow reads the header only),
    or None for a format Pillow does not know (OpenCV then decodes it with its own limit).

    Raises
    ------
    SourceError
        If a side is larger than :data:`MAX_IMAGE_SIDE` or smaller than
        :data:`MIN_IMAGE_SIDE`.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    except Image.DecompressionBombError:  # Pillow's own limit, from the header as well
        raise SourceError(f"{path.name} has more pixels than any screen or camera gives, so "
                          "it is not read.") from None
    if max(w, h) > MAX_IMAGE_SIDE:
        raise SourceError(f"{path.name} is {w}x{h} pixels: larger than any screen or camera "
                          f"(at most {MAX_IMAGE_SIDE} px a side), so it is not read.")
    if min(w, h) < MIN_IMAGE_SIDE:
        raise SourceError(f"{path.name} is {w}x{h} pixels: too small to show a face (at "
                          f"least {MIN_IMAGE_SIDE} px a side).")
    return w, h


def open_path(path: str | os.PathLike, repeat_images: bool = False, video_step: int = 1,
              realtime: bool = False) -> FrameSource:
    """Make an :class:`ImageSource` or :class:`VideoSource` for a file, choosing by content.

    Raises
    ------
    SourceError
        If the file is missing, or is neither an image nor a video OpenCV can read.
    """
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, repeat=repeat_images)
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(path, step=video_step, realtime=realtime)
    # unknown suffix: sniff the content
    data = np.fromfile(path, np.uint8, count=64 * 1024 * 1024)
    if data.size and cv2.imdecode(data, cv2.IMREAD_COLOR) is not None:
        return ImageSource(path, repeat=repeat_images)
    cap = cv2.VideoCapture(str(path))
    ok = cap.isOpened() and cap.read()[0]
    cap.release()
    if ok:
        return VideoSource(path, step=video_step, realtime=realtime)
    raise SourceError(f"Cannot read {path.name}: it is not an image or a video.")


def parse_source(spec: str, *, repeat_images: bool = True, realtime: bool = True) -> FrameSource:
    """Build a source from a spec (:class:`fer_desktop.capture.spec.SourceSpec`): ``screen``
    (primary monitor), ``screen:N``, ``region:X,Y,W,H`` (pixels), ``camera:N``, or a path to a
    video or image file. The source is not opened.

    Raises
    ------
    SourceError
        For a malformed spec or a file that is missing or unreadable.
    """
    from fer_desktop.capture.spec import SourceSpec

    return SourceSpec.parse(spec).make(repeat_images=repeat_images, realtime=realtime)
