"""The desktop GUI (PySide6 + pyqtgraph).

Qt-free helpers (``palette``, ``capture``, ``session``, ``badges``, ``mood_history``) hold the
state and logic; the ``qt_*`` modules are thin views and the analysis thread;
:func:`fer_desktop.gui.app.run_gui` starts the application.

Importing this package applies one compatibility fix before any Qt code runs:
:func:`fer_desktop.gui._compat.immortalize_singletons` (PySide6 6.12 on Python 3.11 crashes
after a few thousand Qt calls otherwise; a no-op elsewhere).
"""

from fer_desktop.gui._compat import immortalize_singletons

immortalize_singletons()
