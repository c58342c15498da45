"""Where fer-desktop keeps what persists between runs: ``QSettings``.

:class:`QtSettingsStore` wraps one ``QSettings`` object (tests hand in an INI file of their own,
so they never touch the user's settings) and knows the keys: the :class:`AppSettings`, the
acknowledgement of the responsible-use notice, the last source and region, the recent sessions
and the window layout.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from fer_desktop.session.settings import AppSettings

#: Version of the responsible-use notice; raising it shows the notice again to everyone.
NOTICE_VERSION = 1
#: Sessions remembered in "Recent sessions".
MAX_RECENT = 10


def default_export_dir() -> Path:
    """``<Documents>/fer-desktop``: where session folders go unless the teacher chose another."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs or Path.home()) / "fer-desktop"


class QtSettingsStore:
    """Typed access to the app's ``QSettings``.

    Parameters
    ----------
    settings : QSettings, optional
        Default: ``QSettings()`` of the application (organisation and application name as set
        on the ``QApplication``).
    """

    def __init__(self, settings: QSettings | None = None):
        self.qsettings = settings if settings is not None else QSettings()

    # -- app settings -----------------------------------------------------------------------

    def load(self) -> AppSettings:
        """The stored :class:`AppSettings` (defaults for whatever is missing or invalid)."""
        qs = self.qsettings
        values = {key: qs.value(f"settings/{key}") for key in AppSettings().to_mapping()
                  if qs.contains(f"settings/{key}")}
        return AppSettings.from_mapping(values)

    def save(self, settings: AppSettings) -> None:
        """Store ``settings``."""
        for key, value in settings.to_mapping().items():
            self.qsettings.setValue(f"settings/{key}", value)
        self.qsettings.sync()

    def export_dir(self, settings: AppSettings) -> Path:
        """The folder under which session folders are saved."""
        return Path(settings.export_dir) if settings.export_dir else default_export_dir()

    # -- responsible-use notice ---------------------------------------------------------------

    @property
    def notice_acknowledged(self) -> bool:
        """Whether the teacher acknowledged the current notice."""
        try:
            return int(self.qsettings.value("privacy/notice_acknowledged", 0)) >= NOTICE_VERSION
        except (TypeError, ValueError):
            return False

    def acknowledge_notice(self) -> None:
        """Remember that the teacher read the notice."""
        self.qsettings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
        self.qsettings.sync()

    # -- last source, recent sessions -----------------------------------------------------------

    @property
    def last_source(self) -> str | None:
        """The source spec of the last run."""
        value = self.qsettings.value("session/last_source")
        return str(value) if value else None

    @last_source.setter
    def last_source(self, spec: str | None) -> None:
        self.qsettings.setValue("session/last_source", spec or "")

    @property
    def last_region(self) -> str | None:
        """The last screen region picked, ``region:X,Y,W,H``."""
        value = self.qsettings.value("session/last_region")
        return str(value) if value else None

    @last_region.setter
    def last_region(self, spec: str | None) -> None:
        self.qsettings.setValue("session/last_region", spec or "")

    @property
    def last_folder(self) -> Path:
        """The folder a video or image was last opened from (the file dialog starts there),
        else the user's home."""
        value = self.qsettings.value("session/last_folder")
        path = Path(str(value)) if value else Path.home()
        return path if path.is_dir() else Path.home()

    @last_folder.setter
    def last_folder(self, folder: Path) -> None:
        self.qsettings.setValue("session/last_folder", str(folder))

    def recent_sessions(self) -> list[Path]:
        """Saved session folders, newest first, those that still exist."""
        value = self.qsettings.value("session/recent", [])
        if isinstance(value, str):
            value = [value]
        return [Path(p) for p in (value or []) if p and Path(p).is_dir()]

    def add_recent_session(self, folder: Path) -> None:
        """Put ``folder`` first in the recent sessions."""
        recent = [str(folder)] + [str(p) for p in self.recent_sessions() if p != folder]
        self.qsettings.setValue("session/recent", recent[:MAX_RECENT])
        self.qsettings.sync()

    # -- window layout --------------------------------------------------------------------------

    def layout(self, name: str) -> QByteArray | None:
        """A saved ``saveGeometry``/``saveState`` blob."""
        value = self.qsettings.value(f"layout/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_layout(self, name: str, state: QByteArray) -> None:
        self.qsettings.setValue(f"layout/{name}", state)
