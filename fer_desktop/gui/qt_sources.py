"""The source picker: the meeting on screen (a region dragged over it, or a whole screen), the
cameras that open, or a video or image file.

Cameras are probed in a background thread when the picker is made (opening a camera can take a
moment); until the probe ends the picker says so, and then lists only the cameras that opened.
The first entry, *Choose the meeting on screen…*, is what a new teacher is led to: analysing a
whole screen would include fer-desktop's own window (which is blanked out of every capture)
and everything else on it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QInputDialog, QWidget

from fer_desktop.capture.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES, SourceError, \
    list_monitors, probe_cameras
from fer_desktop.capture.spec import SourceSpec, SpecKind
from fer_desktop.gui.qt_region_picker import QtRegionPicker

#: Entries that open a dialog instead of naming a source.
PICK_REGION = "@region"
PICK_FILE = "@file"
_PROBING = "@probing"


class QtSourcePicker(QComboBox):
    """A combo box of sources.

    Parameters
    ----------
    store : fer_desktop.gui.qt_settings.QtSettingsStore
        Remembers the last region and the folder of the last file.
    probe : callable, optional
        Returns the camera numbers that open (default :func:`probe_cameras`); run in a thread.
    parent : QWidget, optional

    Signals
    -------
    chosen(str)
        A source spec the teacher picked (after the region picker or the file dialog).
    message(str)
        Something to tell the teacher (no camera found, no screen to capture).
    """

    chosen = Signal(str)
    message = Signal(str)

    def __init__(self, store, probe=None, parent: QWidget | None = None):
        super().__init__(parent)
        self._store = store
        self._current: str | None = None
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setToolTip("What to analyse: drag a rectangle over the meeting's gallery, a "
                        "whole screen, a camera, or a recording")
        self.addItem("Choose the meeting on screen…", PICK_REGION)
        for m in list_monitors():
            self.addItem(f"Screen {m['index']} ({m['width']}×{m['height']})",
                         f"screen:{m['index']}")
        self.addItem("Looking for cameras…", _PROBING)
        self._disable(self.count() - 1)
        self.addItem("Video or image file…", PICK_FILE)
        self.activated.connect(self._on_activated)
        self.cameras: list[int] | None = None
        # the probe's thread only fills a list; the GUI thread polls it (no Qt call crosses
        # threads, and a window closed meanwhile leaves nothing to crash on)
        found: list[list[int]] = []
        finder = probe or probe_cameras
        threading.Thread(target=lambda: found.append([int(c) for c in finder()]),
                         name="camera probe", daemon=True).start()
        self._found = found
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._poll.start()

    def _disable(self, index: int) -> None:
        self.model().item(index).setEnabled(False)

    def select(self, spec: str | None) -> None:
        """Show ``spec`` as the current source (added to the list when it is not there)."""
        self._current = spec
        if spec is None:
            return
        for i in range(self.count()):
            if self.itemData(i) == spec:
                self.setCurrentIndex(i)
                return
        s = SourceSpec.parse(spec)
        before = self.findData(PICK_FILE if s.kind is SpecKind.FILE else _PROBING)
        if before < 0:
            before = self.findData(PICK_FILE)
        self.insertItem(before, s.title, spec)
        self.setItemData(before, spec, Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(before)

    def ask(self, action: str) -> str | None:
        """Run the region picker (``PICK_REGION``) or the file dialog (``PICK_FILE``); the spec
        chosen, or None."""
        return self._ask_region() if action == PICK_REGION else self._ask_file()

    @Slot()
    def _on_poll_timeout(self) -> None:
        if not self._found:
            return
        self._poll.stop()
        self.cameras = self._found[0]
        at = self.findData(_PROBING)
        if at < 0:
            return
        self.removeItem(at)
        for k, index in enumerate(self.cameras):
            self.insertItem(at + k, f"Camera {index}", f"camera:{index}")
        if not self.cameras:
            self.message.emit("No camera found on this computer.")

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        data = self.itemData(index)
        spec = self.ask(data) if data in (PICK_REGION, PICK_FILE) else data
        if spec is None or spec == _PROBING:  # cancelled: back to the current source
            self.select(self._current)
            return
        self.select(spec)
        self.chosen.emit(spec)

    def _ask_region(self) -> str | None:
        monitors = list_monitors()
        if not monitors:
            self.message.emit("No screen can be captured on this computer.")
            return None
        monitor = monitors[0]
        if len(monitors) > 1:
            names = [f"Screen {m['index']} ({m['width']}×{m['height']})" for m in monitors]
            name, ok = QInputDialog.getItem(self, "Choose the meeting", "Which screen shows the "
                                            "meeting?", names, 0, False)
            if not ok:
                return None
            monitor = monitors[names.index(name)]
        try:
            region = QtRegionPicker.get_region(monitor, self.window())
        except SourceError as exc:
            self.message.emit(str(exc))
            return None
        if region is None:
            return None
        spec = "region:" + ",".join(str(v) for v in region)
        self._store.last_region = spec
        return spec

    def _ask_file(self) -> str | None:
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self.window(), "Open a video or an image",
                                              str(self._store.last_folder),
                                              f"Videos and images ({patterns});;All files (*)")
        if not path:
            return None
        self._store.last_folder = Path(path).parent
        return str(SourceSpec.parse(path))
