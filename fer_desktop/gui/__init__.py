"""The desktop GUI (PySide6 + pyqtgraph): Qt modules only, named ``qt_*``. They draw and bind;
what a session is and what it shows lives in :mod:`fer_desktop.session`;
:func:`fer_desktop.gui.qt_app.run_gui` starts the application."""
