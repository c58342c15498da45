"""Frame sources behind one interface: a monitor or screen region (mss), a camera (OpenCV), a
video file, or a still image.

Every source yields :class:`Frame` objects holding a BGR ``(H, W, 3) uint8`` image and its
timestamps. Sources are created cheaply and opened with :meth:`FrameSource.open` in the thread
that reads them (mss and OpenCV capture handles are not shared between threads). Any failure to
open or read is a :class:`SourceError` with a message meant for the teacher.
"""

from __future__ import annotations

import enum
import math
import os
import stat
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
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
    """A video file read frame by frame.

    ``interval_s`` > 0 analyses one frame per ``interval_s`` seconds of video (by the frames'
    own timestamps, so a variable-frame-rate video is sampled evenly); ``step`` > 1 keeps one
    frame in ``step``; ``Frame.index`` stays the frame number in the file. A frame's
    ``position_s`` is its timestamp in the file (OpenCV's ``CAP_PROP_POS_MSEC``), else its
    number divided by the frame rate. ``realtime=True`` paces reads to the file's timestamps,
    as a live source would deliver them.
    """

    kind = SourceKind.VIDEO
    live = False

    def __init__(self, path: str | os.PathLike, step: int = 1, realtime: bool = False,
                 interval_s: float = 0.0):
        super().__init__()
        self.path = Path(path)
        self.step = max(1, int(step))
        self.interval_s = max(0.0, float(interval_s))
        self.realtime = realtime
        self._cap = None
        self._release_name = _nothing
        self.fps = 0.0
        self.frame_count = 0
        #: Length of the video from its header (frames / the header's frame rate), seconds;
        #: 0 when unknown.
        self.duration_s = 0.0

    @property
    def label(self) -> str:
        return self.path.name

    def expected_frames(self) -> int:
        """How many frames :meth:`read` should return, from the header (for a progress bar)."""
        if self.interval_s > 0:
            return max(1, math.ceil(self.duration_s / self.interval_s - 1e-6))
        return math.ceil(self.frame_count / self.step)

    def open(self) -> None:
        _check_file(self.path)
        name, self._release_name = opencv_name(self.path)
        cap = cv2.VideoCapture(name)
        if not cap.isOpened():
            cap.release()
            self._release_name()
            raise SourceError(f"Cannot read {self.path.name}: not a video OpenCV can decode.")
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        if max(w, h) > MAX_IMAGE_SIDE:
            cap.release()
            self._release_name()
            raise SourceError(f"{self.path.name} is a {w}x{h} video: larger than any screen or "
                              f"camera (at most {MAX_IMAGE_SIDE} px a side), so it is not read.")
        header_fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = header_fps if 0 < header_fps < 1000 else 25.0
        self.frame_count = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        # a variable-frame-rate file states a time base (1000 "fps") and a count to match
        self.duration_s = (self.frame_count / header_fps
                           if math.isfinite(header_fps) and header_fps > 0 else 0.0)
        self._cap = cap
        self._t0 = time.monotonic()
        self._next = 0
        self._due = 0.0
        self._last_pos = -1.0

    def _position(self, index: int) -> float:
        """Seconds into the video of the frame just read: its timestamp when the container
        gives a usable one (variable frame rate), else ``index / fps``."""
        msec = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        pos = msec / 1000.0 if math.isfinite(msec) else -1.0
        if pos < 0 or (index > 0 and pos <= self._last_pos) or (index > 0 and pos == 0):
            pos = index / self.fps
        return pos

    def _grab(self):
        if self._cap is None:
            raise SourceError("The video is not open.")
        while True:
            pos_index = self._next
            ok, img = self._cap.read()
            if not ok:
                if pos_index == 0:
                    raise SourceError(f"Cannot read {self.path.name}: no frame could be decoded.")
                if self._cut_short(pos_index):
                    raise SourceError(
                        f"{self.path.name} ends at frame {pos_index} of the "
                        f"{self.frame_count} its header announces: the file is damaged or "
                        "incomplete (the frames before were analysed).")
                return None
            self._next += 1
            pos = self._position(pos_index)
            self._last_pos = pos
            if pos_index % self.step:
                continue
            if self.interval_s > 0:
                if pos < self._due - 1e-4:
                    continue
                self._due = max(self._due + self.interval_s, pos + 0.5 * self.interval_s)
            break
        if self.realtime:
            delay = pos - (time.monotonic() - self._t0)
            if delay > 0:
                time.sleep(delay)
        self._index = pos_index
        return img, pos

    def _cut_short(self, frames: int) -> bool:
        """Whether the frames stopped well before the header's count, and before its
        duration (a variable-frame-rate video has fewer frames than count x rate says)."""
        if not self.frame_count or frames >= TRUNCATED_SHARE * self.frame_count - 2:
            return False
        return self._last_pos < TRUNCATED_SHARE * self.duration_s - 2.0 / self.fps

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
            self._release_name()


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

    def close(self) -> None:
        """Drop the decoded image (a batch holds one image at a time)."""
        self._img = None


def _check_file(path: Path) -> None:
    """Refuse what is not a readable regular file: reading a pipe (FIFO) or a device would
    wait for ever or never end."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SourceError(f"File not found: {path}") from None
    except OSError as exc:
        raise SourceError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(mode):
        raise SourceError(f"{path} is a folder, not an image or a video.")
    if not stat.S_ISREG(mode):
        what = "a pipe (FIFO)" if stat.S_ISFIFO(mode) else (
            "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise SourceError(f"{path} is {what}, not an image or a video file.")
    if not os.access(path, os.R_OK):
        raise SourceError(f"Cannot read {path}: permission denied.")


def _decode(data: np.ndarray) -> np.ndarray | None:
    """``cv2.imdecode`` as BGR; None for what OpenCV cannot decode or refuses from the header
    (larger than :data:`MAX_IMAGE_SIDE`, see :func:`fer_desktop.runtime.configure`)."""
    if not data.size:
        return None
    try:
        return cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error:
        return None


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
    img = _decode(np.fromfile(path, np.uint8))
    if img is None:
        raise SourceError(f"Cannot read {path.name}: not an image OpenCV can decode.")
    return img


#: Largest side of an image the app reads, pixels: no screen (8K is 7680 px wide; three 4K
#: monitors side by side, 11520) or camera produces more. Checked from the file's header,
#: before decoding: a 109 KB PNG of 30000x30000 pixels would take 5 GB.
MAX_IMAGE_SIDE = 16384
#: Smallest side, pixels: below it no face can be seen (a FER-2013 face is 48 px).
MIN_IMAGE_SIDE = 24
#: Most pixels of an image the app reads (a square of :data:`MAX_IMAGE_SIDE`).
MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE


def check_image_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` of an image file from its header (Pillow reads the header only),
    whatever its suffix, or None for a format Pillow does not know (OpenCV then reads its
    header and refuses more than :data:`MAX_IMAGE_SIDE` before decoding, see
    :func:`fer_desktop.runtime.configure`).

    Raises
    ------
    SourceError
        If a side is larger than :data:`MAX_IMAGE_SIDE` or smaller than
        :data:`MIN_IMAGE_SIDE`.
    """
    from PIL import Image, UnidentifiedImageError

    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < MAX_IMAGE_PIXELS:
        # Pillow's own bomb limit (89 M pixels, an error past twice that) is below the
        # 16384 x 16384 this app accepts: ours is checked below
        Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
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
    """Make an :class:`ImageSource` or :class:`VideoSource` for a file, choosing by suffix,
    else by content. Nothing is decoded here: an image's size is read from its header, whatever
    its suffix, and it is decoded when the source is opened.

    Raises
    ------
    SourceError
        If the file is missing or not a regular file, is an image too large or too small
        (from its header), or is neither an image nor a video OpenCV can read.
    """
    path = Path(path)
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, repeat=repeat_images)
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(path, step=video_step, realtime=realtime)
    # unknown suffix: sniff the content from its header, without decoding it
    if check_image_size(path) is not None or _opencv_reads_image(path):
        return ImageSource(path, repeat=repeat_images)
    name, release = opencv_name(path)
    cap = cv2.VideoCapture(name)
    ok = cap.isOpened() and cap.read()[0]
    cap.release()
    release()
    if ok:
        return VideoSource(path, step=video_step, realtime=realtime)
    raise SourceError(f"Cannot read {path.name}: it is not an image or a video.")


def _opencv_reads_image(path: Path) -> bool:
    """Whether OpenCV knows the file's image format from its first bytes (no decode)."""
    name, release = opencv_name(path)
    try:
        return bool(cv2.haveImageReader(name))
    except cv2.error:
        return False
    finally:
        release()


def opencv_name(path: str | os.PathLike) -> tuple[str, Callable[[], None]]:
    """A name of the file ``path`` that OpenCV can open, and what to call once it is closed.

    OpenCV's Python bindings crash (a segmentation fault) on a file name that is not UTF-8 (a
    name made on another system, which Python keeps as surrogates): such a file is given as
    ``/proc/self/fd/N`` of a descriptor held open (Linux), else through a link with a plain
    name in a private temporary folder.

    Raises
    ------
    SourceError
        If the file cannot be opened.
    """
    name = os.fsdecode(path)
    try:
        name.encode("utf-8")
        return name, _nothing
    except UnicodeEncodeError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SourceError(f"Cannot read {_shown(path)}: {exc.strerror or exc}.") from None
    proc = f"/proc/self/fd/{fd}"
    if os.path.exists(proc):
        return proc, lambda: _close(fd)
    os.close(fd)
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="fer-desktop-")
    suffix = Path(name).suffix
    link = os.path.join(folder, "input" + (suffix if suffix.isascii() else ""))
    try:
        os.symlink(os.path.abspath(path), link)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise SourceError(f"Cannot read {_shown(path)}: {exc.strerror or exc}.") from None
    return link, lambda: shutil.rmtree(folder, ignore_errors=True)


def _nothing() -> None:
    pass


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _shown(path: str | os.PathLike) -> str:
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")


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
