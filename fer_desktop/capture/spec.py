"""What the teacher asks to analyse, as a value: one parser for ``screen:N``, ``region:X,Y,W,H``,
``camera:N`` and file paths, used by the command line and the window alike. Qt-free."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from fer_desktop.capture.sources import (CameraSource, FrameSource, ScreenSource, SourceError,
                                         open_path)


class SpecKind(enum.Enum):
    """What a :class:`SourceSpec` names."""

    SCREEN = "screen"
    REGION = "region"
    CAMERA = "camera"
    FILE = "file"


@dataclass(frozen=True)
class SourceSpec:
    """A source to analyse.

    Attributes
    ----------
    kind : SpecKind
    index : int
        Monitor (1-based, as ``mss`` counts) or camera (0-based) number; 0 for regions and files.
    region : tuple of int or None
        ``(x, y, w, h)`` screen pixels of a region.
    path : Path or None
        Absolute path of a file.
    """

    kind: SpecKind
    index: int = 0
    region: tuple[int, int, int, int] | None = None
    path: Path | None = None

    @classmethod
    def parse(cls, text: "str | SourceSpec") -> "SourceSpec":
        """``screen`` (the primary monitor), ``screen:N``, ``region:X,Y,W,H`` (pixels, W and H
        positive), ``camera`` (camera 0), ``camera:N``, or a path to a video or image file
        (``~`` expanded, made absolute; not checked here).

        Raises
        ------
        SourceError
            For a malformed spec (the message says what is accepted).
        """
        if isinstance(text, SourceSpec):
            return text
        s = str(text).strip()
        low = s.lower().replace(" ", "")
        try:
            if low == "screen":
                return cls(SpecKind.SCREEN, 1)
            if low.startswith("screen:"):
                n = int(low.split(":", 1)[1])
                if n < 1:
                    raise ValueError
                return cls(SpecKind.SCREEN, n)
            if low.startswith("region:"):
                x, y, w, h = (int(v) for v in low.split(":", 1)[1].split(","))
                if w <= 0 or h <= 0:
                    raise ValueError
                return cls(SpecKind.REGION, region=(x, y, w, h))
            if low == "camera":
                return cls(SpecKind.CAMERA, 0)
            if low.startswith("camera:"):
                n = int(low.split(":", 1)[1])
                if n < 0:
                    raise ValueError
                return cls(SpecKind.CAMERA, n)
        except ValueError:
            raise SourceError(f"Cannot understand the source {s!r}. Use screen, screen:N, "
                              "region:X,Y,W,H, camera:N or a file path.") from None
        if not s:
            raise SourceError("No source given. Use screen, screen:N, region:X,Y,W,H, camera:N "
                              "or a file path.")
        return cls(SpecKind.FILE, path=Path(s).expanduser().absolute())

    def __str__(self) -> str:
        """The canonical spec: ``screen:1``, ``region:0,0,800,600``, ``camera:0`` or the path."""
        if self.kind is SpecKind.SCREEN:
            return f"screen:{self.index}"
        if self.kind is SpecKind.CAMERA:
            return f"camera:{self.index}"
        if self.kind is SpecKind.REGION:
            return "region:" + ",".join(str(v) for v in self.region)
        return str(self.path)

    @property
    def title(self) -> str:
        """What a person reads: ``Screen 1``, ``Region 800×600 at (0, 0)``, ``Camera 0`` or
        the file's name."""
        if self.kind is SpecKind.SCREEN:
            return f"Screen {self.index}"
        if self.kind is SpecKind.CAMERA:
            return f"Camera {self.index}"
        if self.kind is SpecKind.REGION:
            x, y, w, h = self.region
            return f"Region {w}×{h} at ({x}, {y})"
        return self.path.name

    @property
    def live(self) -> bool:
        """Whether it is a live source (a screen or a camera) rather than a file."""
        return self.kind is not SpecKind.FILE

    def make(self, repeat_images: bool = True, realtime: bool = True,
             video_step: int = 1, exclude=None) -> FrameSource:
        """The (unopened) :class:`FrameSource`; ``exclude`` (screens and regions) returns the
        rectangles to blank in every frame (:class:`fer_desktop.capture.sources.ScreenSource`).

        Raises
        ------
        SourceError
            For a missing or unreadable file.
        """
        if self.kind is SpecKind.SCREEN:
            return ScreenSource(self.index, exclude=exclude)
        if self.kind is SpecKind.REGION:
            return ScreenSource(region=self.region, exclude=exclude)
        if self.kind is SpecKind.CAMERA:
            return CameraSource(self.index)
        return open_path(self.path, repeat_images=repeat_images, realtime=realtime,
                         video_step=video_step)
