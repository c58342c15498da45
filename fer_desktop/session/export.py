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
import io
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from fer_desktop.labels import EMOTIONS
from fer_desktop.analysis.result import FrameResult
from fer_desktop.analysis.students import student_name
from fer_desktop.session.files import (ExportError, check_regular_output, claim_regular_file,
                                      open_private, printable, text_cell)
from fer_desktop.session.summary import StudentSummary, class_mood

__all__ = ["CSV_COLUMNS", "CsvSink", "ExportError", "check_csv_output", "copy_csv",
           "is_session_csv", "read_csv", "result_rows", "write_class_csv", "write_summary_csv"]

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
#: Columns of text that a spreadsheet could run as a formula (:func:`text_cell`).
_TEXT_COLUMNS = frozenset({"source", "student"})


def iso_time(ts: float) -> str:
    """Unix seconds as local ISO 8601 with UTC offset and milliseconds."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


def _unix(text: str | None) -> float:
    """Unix seconds of an :func:`iso_time` cell (NaN when it is not one)."""
    try:
        return datetime.fromisoformat(text or "").timestamp()
    except ValueError:
        return float("nan")


def result_rows(result: FrameResult, names: bool = True) -> list[list]:
    """CSV rows (lists in :data:`CSV_COLUMNS` order) of one :class:`FrameResult`, one per
    student; the ``student`` column holds the student's name, or "Student N" of their id when
    ``names`` is False (anonymous recording: no name read from a label is written). Text
    cells (``source``, ``student``) are neutralised against formulas (:func:`text_cell`)."""
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
        name = result.students[i] if names else student_name(sid)
        rows.append([ts, f"{result.position_s:.3f}", result.frame_index,
                     text_cell(result.source), sid, text_cell(name), *tile, *face,
                     result.states[i].value, emotions[i] or "",
                     f"{conf[i]:.4f}" if has else "", *probs])
    return rows


def is_session_csv(head: bytes) -> bool:
    """Whether the first bytes of a file are those of a session CSV (its header line)."""
    first = head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(b"\xef\xbb\xbf")
    return first == ",".join(CSV_COLUMNS).encode("ascii")


def check_csv_output(path: str | os.PathLike, force: bool = False) -> None:
    """Refuse to write a session CSV over what is not one.

    Parameters
    ----------
    path : str or Path
        Output file. Missing, empty or a session CSV (written by fer-desktop): accepted.
    force : bool
        Accept an existing file of any content (it is replaced).

    Raises
    ------
    ExportError
        If ``path`` is a folder, a pipe, a device or a socket (even with ``force``), or an
        existing file that is not a session CSV (without ``force``), or cannot be read.
    """
    check_regular_output(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        return
    except OSError as exc:
        if force:
            return
        raise ExportError(f"Cannot check {printable(path)}: {exc.strerror or exc}. Choose "
                          "another file, or pass --force to replace it.") from None
    if head and not force and not is_session_csv(head):
        raise ExportError(f"{printable(path)} exists and is not a session CSV of fer-desktop: "
                          "it is kept. Choose another file, or pass --force to replace it.")


class CsvSink:
    """Appends :class:`FrameResult` rows to a CSV file as they come.

    Every frame's rows are written whole: when a write fails (the disk is full), what was
    written of that frame is cut off again, so that the file ends with the last whole frame.
    One process at a time writes a file, known by its identity (device and inode: every
    spelling of its path, links included): the sink holds its writer's lock
    (:class:`fer_desktop.session.files.WriterLock`, released by the system if the process
    dies), taken before anything is cut, so a second writer is refused before it touches the
    file. A new file is private (0600). Writes and :meth:`close` may come from different
    threads (a Ctrl+C closes the sink while the analysis writes).

    Parameters
    ----------
    path : str or Path
        File to write; created with a header, or appended to when ``append`` and it exists.
        An existing file that is not empty must be a session CSV unless ``force``.
    append : bool
        Keep the rows already in the file.
    fsync_every_s : float
        Longest time between two fsyncs, seconds.
    names : bool
        Write students' names (else "Student N", see :func:`result_rows`).
    force : bool
        Replace (or append to) an existing file that is not a session CSV.

    Raises
    ------
    ExportError
        If the file cannot be created, is not a regular file, is not a session CSV (without
        ``force``), or another process is writing it.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, fsync_every_s: float = 1.0,
                 names: bool = True, force: bool = False):
        self.path = Path(path)
        self.names = names
        self.rows = 0
        self._fsync_every = fsync_every_s
        self._last_sync = time.monotonic()
        self._mutex = threading.Lock()
        self._fd: int | None = None
        fd, self._lock, self.created = claim_regular_file(self.path)
        try:
            size = os.fstat(fd).st_size
            if size and not force:
                try:
                    os.lseek(fd, 0, os.SEEK_SET)
                    head = os.read(fd, 4096)
                except OSError:  # write-only: cannot be checked
                    head = b""
                if not is_session_csv(head):
                    raise ExportError(f"{printable(self.path)} exists and is not a session CSV "
                                      "of fer-desktop: it is kept. Choose another file.")
            keep = append and size > 0
            if not keep:
                os.ftruncate(fd, 0)
            self._size = os.lseek(fd, 0, os.SEEK_END)
        except OSError as exc:
            os.close(fd)
            self._lock.release()
            raise ExportError(f"Cannot write {printable(self.path)}: "
                              f"{exc.strerror or exc}.") from None
        except BaseException:
            os.close(fd)
            self._lock.release()
            raise
        self._fd = fd
        if not keep:
            self._write([CSV_COLUMNS])

    def _write(self, rows) -> None:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        with self._mutex:
            if self._fd is None:
                raise ExportError(f"{printable(self.path)} is closed.")
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
                    raise ExportError(f"The disk is full: cannot write {printable(self.path)}. "
                                      "Every frame analysed until now is kept in it, "
                                      "whole.") from None
                raise ExportError(f"Cannot write {printable(self.path)}: "
                                  f"{exc.strerror or exc}.") from None
            self._size += len(data)

    def write(self, result: FrameResult) -> None:
        """Append the rows of one frame (whole, or none of them).

        Raises
        ------
        ExportError
            If the rows cannot be written (then none of them is in the file), or the sink is
            closed.
        """
        rows = result_rows(result, self.names)
        self._write(rows)
        self.rows += len(rows)

    def close(self, timeout: float = -1) -> None:
        """Fsync, close and release the lock (the lock file is removed); safe to call twice
        and from another thread than the writer's (it waits for a write in progress, at most
        ``timeout`` seconds when given), never raises."""
        got = self._mutex.acquire(timeout=timeout)
        try:
            fd, self._fd = self._fd, None
        finally:
            if got:
                self._mutex.release()
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


def copy_csv(src: str | os.PathLike, dst: str | os.PathLike,
             renames: Mapping[int, str] | None = None, anonymous: bool = False,
             ids: Mapping[str, int] | None = None, relabel=None) -> Path:
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
    relabel : callable, optional
        ``(student_id, unix_time) -> student_id``: who a row's student is after the teacher's
        merges and splits (:meth:`fer_desktop.session.live.LiveSession.student_of_row`); the
        row's ``student_id`` is rewritten, and its name follows.

    Text cells are neutralised against formulas (:func:`text_cell`); ``dst`` is private
    (0600) when new, and never written while another writer holds it.

    Raises
    ------
    ExportError
        If ``src`` cannot be read or ``dst`` written (``dst`` is ``src``, a folder, a pipe, or
        held by another writer).
    """
    dst = Path(dst)
    ids = ids or {}
    renames = renames or {}
    try:
        if dst.exists() and Path(src).exists() and dst.samefile(src):
            raise ExportError(f"Cannot export to {printable(dst)}: it is the session's own "
                              "CSV. Choose another file.")
    except OSError as exc:
        raise ExportError(f"Cannot export to {printable(dst)}: {exc.strerror or exc}.") from None
    if not dst.parent.is_dir():
        raise ExportError(f"Cannot export to {printable(dst)}: the folder "
                          f"{printable(dst.parent)} does not exist.")
    fd, lock, created = claim_regular_file(dst, make_folders=False)
    try:
        os.ftruncate(fd, 0)
        with open(src, newline="", encoding="utf-8") as fin, \
                open(fd, "w", newline="", encoding="utf-8", closefd=False) as fout:
            reader = csv.DictReader(fin)
            writer = csv.DictWriter(fout, fieldnames=reader.fieldnames or list(CSV_COLUMNS))
            writer.writeheader()
            for row in reader:
                name = row.get("student") or ""
                sid = (int(row["student_id"]) if (row.get("student_id") or "").isdigit()
                       else ids.get(name))
                if relabel is not None and sid is not None:
                    new = relabel(sid, _unix(row.get("timestamp")))
                    if new != sid:
                        sid = new
                        row["student_id"] = str(new)
                        if not renames.get(sid) and _NUMBERED.fullmatch(name):
                            row["student"] = name = student_name(sid)
                if anonymous:
                    if not _NUMBERED.fullmatch(name) and sid is not None:
                        row["student"] = student_name(sid)
                elif sid in renames:
                    row["student"] = renames[sid]
                for key in _TEXT_COLUMNS & row.keys():
                    if row[key] is not None:
                        row[key] = text_cell(row[key])
                writer.writerow(row)
            fout.flush()
            os.fsync(fd)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        if created:
            os.close(fd)
            fd = None
            dst.unlink(missing_ok=True)
        raise ExportError(f"Cannot export to {printable(dst)}: "
                          f"{getattr(exc, 'strerror', None) or exc}.") from None
    finally:
        if fd is not None:
            os.close(fd)
        lock.release()
    return dst


#: Columns of the per-student summary CSV (:func:`write_summary_csv`). Durations in seconds;
#: ``share_*``, ``no_face_share`` and ``camera_off_share`` are fractions of ``observed_s`` and
#: sum to 1.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "student_id", "student", "observed_s", "face_s", "no_face_s", "no_face_share",
    "camera_off_s", "camera_off_share", *(f"share_{e}" for e in EMOTIONS), "top_emotion",
)


def write_summary_csv(summaries: Iterable[StudentSummary], path: str | os.PathLike) -> Path:
    """Write one :data:`SUMMARY_COLUMNS` row per student into a new private file (0600);
    names are neutralised against formulas (:func:`text_cell`).

    Raises
    ------
    ExportError
        If the file cannot be written.
    """
    rows = [[s.student_id, text_cell(s.student), f"{s.observed_s:.1f}", f"{s.face_s:.1f}",
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
        with open_private(path) as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(rows)
    except OSError as exc:
        raise ExportError(f"Cannot write {printable(path)}: {exc.strerror or exc}.") from None
    return path


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Read a session CSV back as a list of dicts (tests and reports)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

