"""Getting the newest frame to the analysis loop: latest wins, nothing is queued.

Live sources that deliver frames on their own clock (a camera, a video played in real time) are
read continuously by a :class:`CaptureThread` into a one-slot :class:`LatestFrame`; when the
analysis is slower than the source, older frames are simply replaced. Sources that produce a
frame on demand (a screen, a still image) are read by :class:`OnDemandReader` in the analysis
thread itself, at the moment a frame is wanted. Both offer the same ``take``/``close`` interface.
Qt-free.
"""

from __future__ import annotations

import logging
import threading

from fer_desktop.capture.sources import Frame, FrameSource, SourceError, SourceKind

log = logging.getLogger(__name__)

#: Sources whose frames exist independently of when they are read.
STREAMING_KINDS = frozenset({SourceKind.CAMERA, SourceKind.VIDEO})


class LatestFrame:
    """A thread-safe slot holding only the newest frame.

    A producer calls :meth:`put` (replacing an unread frame, counted in :attr:`dropped`),
    :meth:`fail` or :meth:`end`; the consumer calls :meth:`take`, which returns each frame at
    most once.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._fresh = False
        self._error: Exception | None = None
        self._ended = False
        self._closed = False
        #: Frames replaced before they were taken.
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        """Store ``frame``, replacing any frame not yet taken."""
        with self._cond:
            if self._fresh:
                self.dropped += 1
            self._frame, self._fresh = frame, True
            self._cond.notify_all()

    def fail(self, error: Exception) -> None:
        """Record that the producer failed; :meth:`take` raises ``error`` once frames run out."""
        with self._cond:
            self._error = error
            self._cond.notify_all()

    def end(self) -> None:
        """Record the end of a finite source."""
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def close(self) -> None:
        """Wake a waiting :meth:`take` for good (the consumer is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def ended(self) -> bool:
        """True once the source ended and its last frame was taken."""
        with self._cond:
            return self._ended and not self._fresh

    def take(self, timeout: float | None = None) -> Frame | None:
        """Return the newest frame not yet taken, waiting up to ``timeout`` seconds for one.

        Returns
        -------
        Frame or None
            ``None`` on timeout, at the end of the source, or after :meth:`close`.

        Raises
        ------
        Exception
            The error given to :meth:`fail`, once no fresh frame is left.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._fresh or self._error is not None or self._ended
                                or self._closed, timeout)
            if self._fresh:
                self._fresh = False
                return self._frame
            if self._error is not None:
                raise self._error
            return None


class CaptureThread(threading.Thread):
    """Opens ``source`` and reads it as fast as it delivers, into a :class:`LatestFrame`.

    The source is opened, read and closed in this thread only. A :class:`SourceError` (a camera
    unplugged) ends the thread and is handed to the slot.
    """

    def __init__(self, source: FrameSource, slot: LatestFrame):
        super().__init__(name=f"capture {source.label}", daemon=True)
        self._source = source
        self._slot = slot
        self._stop_requested = threading.Event()

    def run(self) -> None:
        try:
            self._source.open()
            while not self._stop_requested.is_set():
                frame = self._source.read()
                if frame is None:
                    self._slot.end()
                    return
                self._slot.put(frame)
        except SourceError as exc:
            self._slot.fail(exc)
        except Exception as exc:  # a backend bug must not leave the analysis loop waiting
            log.exception("capture of %s failed", self._source.label)
            self._slot.fail(SourceError(f"Reading {self._source.label} failed: {exc}"))
        finally:
            self._source.close()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to finish and wait for it up to ``timeout`` seconds."""
        self._stop_requested.set()
        if self.is_alive():
            self.join(timeout)


class StreamReader:
    """``take``/``close`` over a :class:`CaptureThread` and its :class:`LatestFrame`."""

    def __init__(self, source: FrameSource):
        self.slot = LatestFrame()
        self._thread = CaptureThread(source, self.slot)
        self._thread.start()

    @property
    def ended(self) -> bool:
        return self.slot.ended

    @property
    def dropped(self) -> int:
        return self.slot.dropped

    def take(self, timeout: float) -> Frame | None:
        return self.slot.take(timeout)

    def wake(self) -> None:
        """Unblock a waiting :meth:`take` (from another thread)."""
        self.slot.close()

    def close(self) -> None:
        self.slot.close()
        self._thread.stop()


class OnDemandReader:
    """``take``/``close`` over a source read at the moment a frame is wanted (screen, image).

    Must be created, used and closed in one thread: it opens the source in ``__init__``.
    """

    dropped = 0

    def __init__(self, source: FrameSource):
        self._source = source
        self._ended = False
        source.open()

    @property
    def ended(self) -> bool:
        return self._ended

    def take(self, timeout: float) -> Frame | None:
        frame = self._source.read()
        if frame is None:
            self._ended = True
        return frame

    def wake(self) -> None:
        """Nothing waits here."""

    def close(self) -> None:
        self._source.close()


def open_reader(source: FrameSource) -> StreamReader | OnDemandReader:
    """The reader suited to ``source``: a capture thread for cameras and videos, on-demand
    reads otherwise. Raises :class:`SourceError` when an on-demand source cannot be opened."""
    if source.kind in STREAMING_KINDS:
        return StreamReader(source)
    return OnDemandReader(source)
