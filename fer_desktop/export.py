"""The session CSV: one schema for the GUI's recording and export and for ``fer-desktop analyze``.

One row per tile per analysed frame. Rows are written as frames are analysed and flushed every
frame (and fsync'ed at most once a second), so a crash loses at most the last second.
"""

from __future__ import annotations

import csv
import os
import time
from datetime import datetime
from pathlib import Path

from fer_desktop.labels import EMOTIONS
from fer_desktop.pipeline import FrameResult

#: The columns, in order. Boxes are in pixels of the source frame; probabilities are the smoothed,
#: calibrated softmax probabilities shown on the badges.
CSV_COLUMNS: tuple[str, ...] = (
    "timestamp", "elapsed_s", "frame", "source", "tile", "student",
    "tile_x", "tile_y", "tile_w", "tile_h",
    "face_x", "face_y", "face_w", "face_h",
    "emotion", "confidence",
    *(f"p_{e}" for e in EMOTIONS),
)


class ExportError(RuntimeError):
    """The CSV cannot be written (folder missing, no permission, disk full); user-facing."""


def iso_time(ts: float) -> str:
    """Unix seconds as local ISO 8601 with UTC offset and milliseconds."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


def result_rows(result: FrameResult) -> list[list]:
    """CSV rows (lists in :data:`CSV_COLUMNS` order) of one :class:`FrameResult`."""
    rows = []
    ts = iso_time(result.timestamp)
    emotions = result.emotions
    conf = result.confidences
    for i in range(len(result.tiles)):
        tx, ty, tw, th = (int(v) for v in result.tiles[i])
        has = result.faces[i, 2] > 0
        face = [int(v) for v in result.faces[i]] if has else ["", "", "", ""]
        p = result.smoothed[i]
        probs = [f"{v:.4f}" for v in p] if has else [""] * len(EMOTIONS)
        rows.append([ts, f"{result.position_s:.3f}", result.frame_index, result.source, i,
                     result.students[i], tx, ty, tw, th, *face,
                     emotions[i] or "", f"{conf[i]:.4f}" if has else "", *probs])
    return rows


class CsvSink:
    """Appends :class:`FrameResult` rows to a CSV file as they come.

    Parameters
    ----------
    path : str or Path
        File to write; created with a header, or appended to when ``append`` and it exists.

    Raises
    ------
    ExportError
        If the file cannot be created.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, fsync_every_s: float = 1.0):
        self.path = Path(path)
        self.rows = 0
        self._fsync_every = fsync_every_s
        self._last_sync = time.monotonic()
        exists = append and self.path.exists() and self.path.stat().st_size > 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "a" if exists else "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"Cannot write {self.path}: {exc.strerror or exc}.") from None
        self._w = csv.writer(self._f)
        if not exists:
            self._write([CSV_COLUMNS])

    def _write(self, rows) -> None:
        try:
            self._w.writerows(rows)
            self._f.flush()
            now = time.monotonic()
            if now - self._last_sync >= self._fsync_every:
                os.fsync(self._f.fileno())
                self._last_sync = now
        except OSError as exc:
            raise ExportError(f"Cannot write {self.path}: {exc.strerror or exc}.") from None

    def write(self, result: FrameResult) -> None:
        """Append the rows of one frame and flush. Raises :class:`ExportError`."""
        rows = result_rows(result)
        self._write(rows)
        self.rows += len(rows)

    def close(self) -> None:
        """Flush, fsync and close; safe to call twice."""
        if not self._f.closed:
            try:
                self._f.flush()
                os.fsync(self._f.fileno())
            except OSError:
                pass
            self._f.close()

    def __enter__(self) -> "CsvSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def copy_csv(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy a recorded session CSV to ``dst`` (the GUI's Export). Raises :class:`ExportError`."""
    dst = Path(dst)
    try:
        data = Path(src).read_bytes()
        dst.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"Cannot export to {dst}: {exc.strerror or exc}.") from None
    return dst


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Read a session CSV back as a list of dicts (tests and reports)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

