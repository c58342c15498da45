"""Work around a reference-counting bug of PySide6 6.12 on Python 3.11.

PySide6 6.12.0 wheels return ``None``/``True``/``False`` without taking a reference, as is
correct only on Python >= 3.12 where those objects are immortal. On Python 3.11 every call of a
Qt method returning ``void`` drops a reference to ``None`` (``QPainter.drawLine``, ``setPen`` ...)
and every ``Signal.emit`` drops one to ``True``; after a few thousand calls (a minute of live
charts) the interpreter aborts with ``Fatal Python error: none_dealloc`` / ``bool_dealloc``.
PySide6 6.11 is not affected.

:func:`immortalize_singletons` gives these singletons a reference count no program can exhaust,
which is what Python 3.12 does. It does nothing on other Python or PySide versions.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_done = False


def needs_workaround() -> bool:
    """True on CPython < 3.12 with PySide6 >= 6.12."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    import PySide6

    return tuple(PySide6.__version_info__[:2]) >= (6, 12)


def immortalize_singletons() -> None:
    """Make ``None``, ``True``, ``False``, ``Ellipsis`` and ``NotImplemented`` effectively
    immortal when :func:`needs_workaround`; idempotent."""
    global _done
    if _done or not needs_workaround():
        return
    for obj in (None, True, False, Ellipsis, NotImplemented):
        # ob_refcnt is the first field of every object in CPython 3.11 release builds
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    _done = True
    log.debug("PySide6 >= 6.12 on Python 3.11: None/True/False made immortal")
