"""The desktop GUI (PySide6 + pyqtgraph).

Qt-free helpers (``palette``, ``capture``, ``session``, ``badges``, ``mood_history``,
``alerts``, ``session_record``, ``settings``) hold the state and logic; the ``qt_*`` modules are
thin views and the analysis thread; :func:`fer_desktop.gui.app.run_gui` starts the application.
"""
