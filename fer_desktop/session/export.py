"""The session CSV: one schema for the GUI's recording and export and for ``fer-desktop analyze``;
and the session folder's other tables (per-student summary, class mood).

One row per student per analysed frame: each tile of a gallery (its participant, with or
without a face), each other face (a second person in a tile, every face of a room camera), and
a face followed but missed in that frame. Rows are written as frames are analysed and flushed
every frame (and fsync'ed at most once a second), so a crash loses at most the last second.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from fer_desktop.labels import EMOTIONS
from fer_desktop.analysis.pipeline import FrameResult
from fer_desktop.analysis.students import student_name
from fer_desktop.session.summary import StudentSummary, class_mood

#: The columns, in order. Boxes are in pixels of the source frame; probabilities are the smoothed,
#: calibrated softmax probabilities shown on the badges. ``tile`` and ``tile_*`` are empty for a
#: student in no tile (a room camera, a face outside the gallery's tiles). ``state`` is ``face``,
#: ``no face`` (camera on) or ``camera off``.
CSV_COLUMNS: tuple[str, ...] = (
    "timestamp", "elapsed_s", "frame", "source", "student_id", "student", "tile",
    "tile_x", "tile_y", "tile_w", "tile_h",
    "face_x", "face_y", "face_w", "face_h", "state",
    "emotion", "confidence",
    *(f"p_{e}" for e in EMOTIONS),
)


_NUMBERED = re.compile(r"Student \d+")


class ExportError(RuntimeError):
    """The CSV cannot be written (folder missing, no permission, disk full); user-facing."""


def iso_time(ts: float) -> str:
    """Unix seconds as local ISO 8601 with UTC offset and milliseconds."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


def result_rows(result: FrameResult, names: bool = True) -> list[list]:
    """CSV rows (lists in :data:`CSV_COLUMNS` order) of one :class:`FrameResult`, one per
    student; the ``student`` column holds the student's name, or "Student N" of their id when
    ``names`` is False (anonymous recording: no name read from a label is written)."""
    rows = []
    ts = iso_time(result.timestamp)
    emotions = result.emotions
    conf = result.confidences
    for i in range(len(result)):
        t = int(result.tile_index[i])
        tile = [t, *(int(v) for v in result.tiles[t])] if t >= 0 else [""] * 5
        has = bool(result.has_face[i])
        face = [int(v) for v in result.faces[i]] if has else ["", "", "", ""]
        p = result.smoothed[i]
        probs = [f"{v:.4f}" for v in p] if has else [""] * len(EMOTIONS)
        sid = result.student_ids[i]
        rows.append([ts, f"{result.position_s:.3f}", result.frame_index, result.source, sid,
                     result.students[i] if names else student_name(sid), *tile, *face,
                     result.states[i].value, emotions[i] or "",
                     f"{conf[i]:.4f}" if has else "", *probs])
    return rows


class CsvSink:
    """Appends :class:`FrameResult` rows to a CSV file as they come.

    Every frame's rows are written whole: when a write fails (the disk is full), what was
    written of that frame is cut off again, so that the file ends with the last whole frame.
    One process at a time writes a file: the sink holds a lock (``filelock``: ``flock`` on
    POSIX, ``LockFileEx`` on Windows; the system releases it if the process dies) on a lock file
    in the temporary folder named after the CSV's path, so a second writer is refused before it
    touches the file.

    Parameters
    ----------
    path : str or Path
        File to write; created with a header, or appended to when ``append`` and it exists.
    names : bool
        Write students' names (else "Student N", see :func:`result_rows`).

    Raises
    ------
    ExportError
        If the file cannot be created, or another process is writing it.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, fsync_every_s: float = 1.0,
                 names: bool = True):
        self.path = Path(path)
        self.names = names
        self.rows = 0
        self._fsync_every = fsync_every_s
        self._last_sync = time.monotonic()
        self._fd: int | None = None
        self._lock = _writer_lock(self.path)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise ExportError(f"{self.path} is being written by another fer-desktop (a window "
                              "or an analyze command). Choose another file, or stop the other "
                              "one first.") from None
        try:
            exists = append and self.path.exists() and self.path.stat().st_size > 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | (0 if exists else os.O_TRUNC)
            self._fd = os.open(self.path, flags | getattr(os, "O_BINARY", 0), 0o644)
            self._size = os.lseek(self._fd, 0, os.SEEK_END)
        except OSError as exc:
            self._lock.release()
            raise ExportError(f"Cannot write {self.path}: {exc.strerror or exc}.") from None
        if not exists:
            self._write([CSV_COLUMNS])

    def _write(self, rows) -> None:
        if self._fd is None:
            raise ExportError(f"{self.path} is closed.")
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:])
            now = time.monotonic()
            if now - self._last_sync >= self._fsync_every:
                os.fsync(self._fd)
                self._last_sync = now
        except OSError as exc:
            try:  # no torn row: cut the file back to the last whole frame
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass
            if exc.errno == errno.ENOSPC:
                raise ExportError(f"The disk is full: cannot write {self.path}. Every frame "
                                  "analysed until now is kept in it, whole.") from None
            raise ExportError(f"Cannot write {self.path}: {exc.strerror or exc}.") from None
        self._size += len(data)

    def write(self, result: FrameResult) -> None:
        """Append the rows of one frame (whole, or none of them). Raises
        :class:`ExportError`."""
        rows = result_rows(result, self.names)
        self._write(rows)
        self.rows += len(rows)

    def close(self) -> None:
        """Fsync, close and release the lock; safe to call twice, never raises."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.fsync(fd)
            except OSError:
                pass
            try:
                os.close(fd)
            except OSError:
                pass
            self._lock.release()

    def __enter__(self) -> "CsvSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _writer_lock(path: Path) -> FileLock:
    """The lock of a CSV's writer: a file in the temporary folder named after the CSV's
    absolute path (the CSV's own folder stays clean)."""
    key = hashlib.sha256(str(path.expanduser().absolute()).encode("utf-8")).hexdigest()[:32]
    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""  # /tmp is shared on POSIX
    folder = Path(tempfile.gettempdir()) / f"fer-desktop-locks{user}"
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(folder / f"{key}.lock")


def copy_csv(src: str | os.PathLike, dst: str | os.PathLike,
             renames: Mapping[int, str] | None = None, anonymous: bool = False,
             ids: Mapping[str, int] | None = None) -> Path:
    """Copy a recorded session CSV to ``dst`` (the GUI's Export).

    Parameters
    ----------
    src, dst : str or Path
        Session CSV to copy, and where to.
    renames : mapping of int to str, optional
        New ``student`` value per student id (names the teacher gave), applied to every row of
        that student whichever tile they were in; the student of a row is its ``student_id``
        (or, in a file without that column, ``ids`` of its recorded name). Other rows keep
        their recorded value. The schema is unchanged.
    anonymous : bool
        Replace every recorded name by "Student N" of the row's student id; values already
        "Student N" are kept.
    ids : mapping of str to int, optional
        Student id of each recorded name, for files without a ``student_id`` column.

    Raises
    ------
    ExportError
        If ``src`` cannot be read or ``dst`` written.
    """
    dst = Path(dst)
    ids = ids or {}
    try:
        if not renames and not anonymous:
            dst.write_bytes(Path(src).read_bytes())
            return dst
        with open(src, newline="", encoding="utf-8") as fin, \
                open(dst, "w", newline="", encoding="utf-8") as fout:
            reader = csv.DictReader(fin)
            writer = csv.DictWriter(fout, fieldnames=reader.fieldnames or list(CSV_COLUMNS))
            writer.writeheader()
            for row in reader:
                name = row["student"]
                sid = (int(row["student_id"]) if row.get("student_id", "").isdigit()
                       else ids.get(name))
                if anonymous:
                    if not _NUMBERED.fullmatch(name) and sid is not None:
                        row["student"] = student_name(sid)
                elif sid in renames:
                    row["student"] = renames[sid]
                writer.writerow(row)
    except OSError as exc:
        raise ExportError(f"Cannot export to {dst}: {exc.strerror or exc}.") from None
    return dst


#: Columns of the per-student summary CSV (:func:`write_summary_csv`). Durations in seconds;
#: ``share_*``, ``no_face_share`` and ``camera_off_share`` are fractions of ``observed_s`` and
#: sum to 1.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "student_id", "student", "observed_s", "face_s", "no_face_s", "no_face_share",
    "camera_off_s", "camera_off_share", *(f"share_{e}" for e in EMOTIONS), "top_emotion",
)


def write_summary_csv(summaries: Iterable[StudentSummary], path: str | os.PathLike) -> Path:
    """Write one :data:`SUMMARY_COLUMNS` row per student. Raises :class:`ExportError`."""
    rows = [[s.student_id, s.student, f"{s.observed_s:.1f}", f"{s.face_s:.1f}",
             f"{s.no_face_s:.1f}", f"{s.no_face_share:.4f}", f"{s.camera_off_s:.1f}",
             f"{s.camera_off_share:.4f}", *(f"{v:.4f}" for v in s.shares), s.top_emotion or ""]
            for s in summaries]
    return _write_table(path, SUMMARY_COLUMNS, rows)


#: Columns of the class-mood CSV (:func:`write_class_csv`): one row per analysed frame.
#: ``mood`` is the share of positive minus negative expressions (-1..1); ``share_*`` are
#: fractions of the visible faces.
CLASS_COLUMNS: tuple[str, ...] = (
    "timestamp", "elapsed_s", "faces", "mood", *(f"share_{e}" for e in EMOTIONS),
)


def write_class_csv(t: np.ndarray, shares: np.ndarray, faces: np.ndarray,
                    path: str | os.PathLike) -> Path:
    """Write the class mood over a session, with no per-student data.

    Parameters
    ----------
    t : np.ndarray
        ``(m,)`` Unix seconds of each analysed frame.
    shares : np.ndarray
        ``(m, 7)`` fraction of the visible faces showing each expression.
    faces : np.ndarray
        ``(m,)`` int faces visible.
    path : str or Path

    Raises
    ------
    ExportError
        If the file cannot be written.
    """
    mood = class_mood(shares)
    t0 = float(t[0]) if len(t) else 0.0
    rows = [[iso_time(float(ti)), f"{float(ti) - t0:.3f}", int(n), f"{m:.4f}",
             *(f"{v:.4f}" for v in s)] for ti, s, n, m in zip(t, shares, faces, mood)]
    return _write_table(path, CLASS_COLUMNS, rows)


def _write_table(path: str | os.PathLike, columns: Sequence[str], rows: list[list]) -> Path:
    path = Path(path)
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(rows)
    except OSError as exc:
        raise ExportError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Read a session CSV back as a list of dicts (tests and reports)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

