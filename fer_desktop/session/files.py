"""Files that hold students' data, and the one writer of each. Qt-free.

* Folders and files the app makes for a session (session folders, CSVs, reports, the per-student
  table) are private to the user: folders 0700, files 0600, whatever the umask
  (:func:`private_dirs`, :func:`open_private`).
* One process writes a CSV at a time, known by the file's identity (device and inode), not by
  the way its path is spelled: ``..``, a symbolic or a hard link reach the same lock
  (:class:`WriterLock`). The lock is a ``flock`` (``LockFileEx`` on Windows), released by the
  system if the process dies, on a file in a per-user private folder
  (:func:`lock_dir`: ``$XDG_RUNTIME_DIR/fer-desktop-locks``, else ``locks/`` in the app's data
  folder), removed when the lock is released.
* Text cells that a spreadsheet would run as a formula are neutralised (:func:`text_cell`).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

#: Mode of the folders that hold students' data.
PRIVATE_DIR = 0o700
#: Mode of the files that hold students' data.
PRIVATE_FILE = 0o600
#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_POSIX = os.name == "posix"


class ExportError(RuntimeError):
    """A file cannot be written (folder missing, no permission, disk full, another writer);
    user-facing."""


def text_cell(value: object) -> str:
    """A text cell of a CSV the app writes: any string, made safe to open in a spreadsheet.

    A value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a single
    quote in front (OWASP's advice against CSV injection: ``=cmd|' /C calc'!A0`` is shown as
    text, not run); bytes that are not UTF-8 (a file name from another system, kept by Python
    as surrogates) become U+FFFD, so that the row can be written. Idempotent.
    """
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "'" + text if text.startswith(FORMULA_START) else text


def printable(path: str | os.PathLike) -> str:
    """``path`` as text that any terminal encoding can print (undecodable bytes escaped)."""
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")


def private_dirs(folder: str | os.PathLike) -> Path:
    """Make ``folder`` and its missing parents, each new one private (0700 whatever the umask);
    folders that exist are left as they are.

    Raises
    ------
    ExportError
        If a folder cannot be made (no permission, a file in the way, a full disk).
    """
    folder = Path(folder)
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made meanwhile (another process)
        except OSError as exc:
            raise ExportError(f"Cannot create the folder {printable(p)}: "
                              f"{exc.strerror or exc}.") from None
        _chmod(p, PRIVATE_DIR)
    if not folder.is_dir():
        raise ExportError(f"Cannot create the folder {printable(folder)}: something that is not "
                          "a folder is in the way.")
    return folder


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:
        pass  # a file system without modes (FAT, a network share): nothing more to do


def make_private(path: str | os.PathLike) -> None:
    """Set ``path`` (a file the app wrote, such as an image saved by Qt) to 0600."""
    _chmod(Path(path), PRIVATE_FILE)


def open_private(path: str | os.PathLike, mode: str = "w"):
    """Open a new or truncated text file that only the user can read (0600 whatever the
    umask), for ``csv`` (``newline=""``, UTF-8). Use it for files no other process writes (a
    new session folder's tables); a CSV that another writer may hold is claimed through
    :func:`claim_regular_file`.

    Raises
    ------
    OSError
        As :func:`open`.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        if _POSIX:
            os.fchmod(fd, PRIVATE_FILE)
        return open(fd, mode, newline="", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def check_regular_output(path: str | os.PathLike) -> None:
    """Refuse an output path that exists and is not a regular file (a folder, a pipe, a
    device, a socket): writing there would fail, hang or reach a device.

    Raises
    ------
    ExportError
        With a message naming the path and what it is.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ExportError(f"Cannot write {printable(path)}: {exc.strerror or exc}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise ExportError(f"Cannot write {printable(path)}: it is {_kind(st.st_mode)}, not a "
                          "file. Choose a CSV file.")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def claim_regular_file(path: str | os.PathLike,
                       make_folders: bool = True) -> tuple[int, "WriterLock", bool]:
    """Open ``path`` for writing as its only writer, without truncating it.

    The file is created if missing (with its missing folders, private, when
    ``make_folders``), opened without following it into a pipe or a device, and locked by its
    identity (:class:`WriterLock`): nothing is cut before the lock is held, so a second writer
    never truncates a file another holds.

    Returns
    -------
    fd : int
        Opened read-write when possible (else write-only), positioned at 0.
    lock : WriterLock
        Held; release it after closing ``fd``.
    created : bool
        Whether the file was made by this call.

    Raises
    ------
    ExportError
        If the path is not a regular file, cannot be opened (its folder is missing and not
        ``make_folders``), or another writer holds it (also for a lock folder that is not the
        user's own, see :func:`lock_dir`).
    """
    path = Path(path)
    check_regular_output(path)
    if make_folders:
        private_dirs(path.parent)
    fd, created = _open_no_truncate(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced between the check and the open
            raise ExportError(f"Cannot write {printable(path)}: it is {_kind(st.st_mode)}, "
                              "not a file. Choose a CSV file.")
        lock = WriterLock(st, path)
        if not lock.acquire():
            raise ExportError(f"{printable(path)} is being written by another fer-desktop (a "
                              "window or an analyze command). Choose another file, or stop the "
                              "other one first.")
        if _POSIX and created:
            try:
                os.fchmod(fd, PRIVATE_FILE)
            except OSError:
                pass
    except BaseException:
        os.close(fd)
        if created:
            _unlink(path)
        raise
    return fd, lock, created


def _open_no_truncate(path: Path) -> tuple[int, bool]:
    base = (getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
            | getattr(os, "O_BINARY", 0))
    for access in (os.O_RDWR, os.O_WRONLY):  # read access to check the header, when allowed
        try:
            try:
                return os.open(path, access | base | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), True
            except FileExistsError:
                return os.open(path, access | base), False
        except PermissionError:
            if access == os.O_WRONLY:
                raise ExportError(f"Cannot write {printable(path)}: permission denied.") from None
        except OSError as exc:
            raise ExportError(f"Cannot write {printable(path)}: {exc.strerror or exc}.") from None
    raise AssertionError("unreachable")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


# -- where the locks live ---------------------------------------------------------------------


def app_data_dir() -> Path:
    """fer-desktop's data folder, without Qt (the window's ``QStandardPaths`` AppDataLocation
    for the organisation and application "fer-desktop"): ``$XDG_DATA_HOME/fer-desktop/
    fer-desktop`` (``~/.local/share/...``) on Linux, ``~/Library/Application Support/...`` on
    macOS, ``%APPDATA%\\fer-desktop\\fer-desktop`` on Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "fer-desktop" / "fer-desktop"


def _own_private_dir(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
            and stat.S_IMODE(st.st_mode) & 0o077 == 0)


def lock_dir() -> Path:
    """The per-user private folder of the writers' locks, made if missing: ``fer-desktop-locks``
    in ``$XDG_RUNTIME_DIR`` when that is the user's own private folder, else ``locks`` in the
    app's data folder (:func:`app_data_dir`).

    Raises
    ------
    ExportError
        If the lock folder is not a folder, not the user's own, or open to others (someone may
        have made it to block or spy on the recording): the message says what to remove.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if _POSIX and runtime and _own_private_dir(Path(runtime)):
        folder = Path(runtime) / "fer-desktop-locks"
    else:
        folder = app_data_dir() / "locks"
    if not folder.exists() and not folder.is_symlink():
        private_dirs(folder)
    if _POSIX:
        _check_lock_dir(folder)
    elif not folder.is_dir():
        raise ExportError(f"fer-desktop's lock folder {folder} is not a folder: remove it and "
                          "try again.")
    return folder


def _check_lock_dir(folder: Path) -> None:
    try:
        st = os.lstat(folder)
    except OSError as exc:
        raise ExportError(f"Cannot use fer-desktop's lock folder {printable(folder)}: "
                          f"{exc.strerror or exc}.") from None
    why = None
    if not stat.S_ISDIR(st.st_mode):
        why = "it is not a folder" + (" (a symbolic link)" if stat.S_ISLNK(st.st_mode) else "")
    elif st.st_uid != os.getuid():
        why = f"it belongs to another user (uid {st.st_uid})"
    elif stat.S_IMODE(st.st_mode) & 0o077:
        why = f"others may use it (mode {stat.S_IMODE(st.st_mode):04o}, not 0700)"
    if why:
        raise ExportError(f"fer-desktop's lock folder {printable(folder)} cannot be trusted: "
                          f"{why}. Remove it (fer-desktop makes a new one) and try again.")


class WriterLock:
    """The lock of a file's one writer, keyed by the file's identity.

    Parameters
    ----------
    st : os.stat_result
        ``os.fstat`` of the opened file: its device and inode name the lock, so every
        spelling of its path (``..``, symbolic and hard links) reaches the same lock.
    path : Path
        The file (a key where the system gives no inode).

    Raises
    ------
    ExportError
        From :func:`lock_dir`.
    """

    def __init__(self, st: os.stat_result, path: Path):
        if st.st_ino:
            key = f"{st.st_dev:x}-{st.st_ino:x}"
        else:  # no inode (some Windows file systems): the resolved path
            import hashlib

            key = hashlib.sha256(os.fsencode(Path(path).resolve())).hexdigest()[:32]
        self.path = lock_dir() / f"{key}.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another writer holds it.

        Raises
        ------
        ExportError
            If the lock file cannot be made.
        """
        if self._fd is not None:
            return True
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
            except OSError as exc:
                raise ExportError(f"Cannot make the lock {printable(self.path)}: "
                                  f"{exc.strerror or exc}.") from None
            if not _try_lock(fd):
                os.close(fd)
                return False
            # the holder before may have removed the file between our open and our lock:
            # the lock is ours only if the path still names the file we locked
            try:
                same = os.path.samestat(os.stat(self.path, follow_symlinks=False),
                                        os.fstat(fd))
            except OSError:
                same = False
            if same:
                self._fd = fd
                return True
            os.close(fd)

    def release(self) -> None:
        """Remove the lock file and unlock; safe to call twice, never raises."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if _POSIX:  # removed while still locked: a waiting writer sees it gone and retries
            _unlink(self.path)
        try:
            os.close(fd)
        except OSError:
            pass
        if not _POSIX:
            _unlink(self.path)


def _try_lock(fd: int) -> bool:
    if _POSIX:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
    import msvcrt

    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True
