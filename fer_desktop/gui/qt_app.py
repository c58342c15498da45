"""Start the GUI: :func:`run_gui` is what ``fer-desktop`` (no sub-command) calls."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication


def _icon_path() -> Path | None:
    here = Path(__file__).resolve().parents[1]
    for cand in (here.parent / "resources", here / "resources", Path(sys.prefix) / "resources"):
        if (cand / "fer-desktop.png").is_file():
            return cand / "fer-desktop.png"
    return None


def run_gui(source: str | None = None, csv_path: str | os.PathLike | None = None,
            model_path: str | os.PathLike | None = None, rate: float | None = None,
            settings: QSettings | None = None, quit_when_shown: bool = False) -> int:
    """Open fer-desktop's window and run the Qt event loop until it is closed.

    Parameters
    ----------
    source : str, optional
        Source spec to start on (``screen``, ``screen:N``, ``region:X,Y,W,H``, ``camera:N``,
        or a video/image path); nothing starts when omitted. A source that cannot be opened is
        reported in the window, not raised.
    csv_path : str or Path, optional
        Session CSV; default an autosave file under the application data folder
        (``.../fer-desktop/sessions/session-YYYYmmdd-HHMMSS.csv``).
    model_path : str or Path, optional
        Emotion model (``.tflite``); default the shipped ``models/fer_cnn.tflite``.
    rate : float, optional
        Analyses per second; default the stored setting.
    settings : QSettings, optional
        Where settings persist; default the user's ``QSettings`` of fer-desktop.
    quit_when_shown : bool
        Print "window shown" once the window is on screen and quit (the bundle's smoke test
        times the start with it).

    Returns
    -------
    int
        The application's exit code; 1 when a stopped session could be saved nowhere (not
        even in the fallback folder, see :func:`fer_desktop.gui.qt_window_menus.fallback_dir`).
    """
    import pyqtgraph as pg
    from pyqtgraph.util.garbage_collector import GarbageCollector

    from fer_desktop.gui.qt_main_window import QtMainWindow

    if QApplication.instance() is None:  # sharp text and icons at fractional scale factors
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("fer-desktop")
    app.setOrganizationName("fer-desktop")
    app.setApplicationDisplayName("fer-desktop")
    if (icon := _icon_path()) is not None:
        app.setWindowIcon(QIcon(str(icon)))
    _install_qt_translation(app)
    pg.setConfigOptions(antialias=True)
    # Python's garbage collector runs in the GUI thread only: a Qt object collected from the
    # analysis thread would crash Qt (pyqtgraph's collector: gc disabled, collected on a timer)
    collector = GarbageCollector(interval=1.0)
    window = QtMainWindow(model_path=model_path, csv_path=csv_path, rate=rate, settings=settings)
    window._gc = collector  # lives as long as the window
    window.show()
    if source:
        window.start(source)
    _quit_on_signals(window)
    if quit_when_shown:
        from PySide6.QtCore import QTimer

        def shown() -> None:
            if sys.stdout is not None:  # None in a windowed program on Windows
                print("window shown", flush=True)
            window.close()

        QTimer.singleShot(0, shown)
    code = app.exec()
    return 1 if window.save_failed and code == 0 else code


def _quit_on_signals(window) -> None:
    """Ctrl+C in the terminal (SIGINT) and SIGTERM close the window as its Quit does: the
    session is stopped and saved. Python runs signal handlers between bytecodes only, so a
    timer wakes the interpreter four times a second while Qt's event loop runs."""
    import signal

    from PySide6.QtCore import QTimer

    def close(signum, frame) -> None:
        QTimer.singleShot(0, window.close)

    for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if sig is not None:
            signal.signal(sig, close)
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(250)


def _install_qt_translation(app) -> bool:
    """Qt's own dialogs (file chooser, message boxes) in the teacher's language, from the
    ``qtbase_*.qm`` files that ship with Qt (and in the standalone app); English when none
    matches. Returns whether a translation was installed."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale.system(), "qtbase", "_", folder):
        app.installTranslator(translator)
        return True
    return False
