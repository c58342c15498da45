"""The window's commands: actions with their shortcuts, the toolbar (source, Start / Pause,
analyses per second, privacy, export) and the menus, and how they read in each session state.

:class:`QtSessionControls` builds them on a :class:`QMainWindow`; the window connects their
signals to its ``_on_*`` slots and calls :meth:`QtSessionControls.show_state` when the session
changes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QStyle, QToolBar

from fer_desktop.gui.qt_dialogs import QtBoundedSpin
from fer_desktop.gui.qt_sources import QtSourcePicker
from fer_desktop.session.privacy import AGGREGATE_LOCKED, PrivacyMode
from fer_desktop.session.settings import CHART_WINDOWS_MIN, RATE, AppSettings
from fer_desktop.session.updates import SessionState


class QtSessionControls(QObject):
    """Actions, toolbar and menus of the main window.

    Parameters
    ----------
    window : QMainWindow
    store : fer_desktop.gui.qt_settings.QtSettingsStore
    settings : AppSettings
        The values the controls start with.
    probe : callable, optional
        Camera probe for the source picker (tests pass their own).
    """

    def __init__(self, window: QMainWindow, store, settings: AppSettings, probe=None):
        super().__init__(window)
        std = window.style().standardIcon
        self.start = self._action("Start", "Ctrl+R", std(QStyle.StandardPixmap.SP_MediaPlay))
        self.pause = self._action("Pause", "Ctrl+P", std(QStyle.StandardPixmap.SP_MediaPause))
        self.export_session = self._action(
            "Export session…", "Ctrl+E", std(QStyle.StandardPixmap.SP_DialogSaveButton),
            "Save the session's CSVs and report in a folder (Ctrl+E)")
        self.export_csv = self._action("Export CSV…", QKeySequence.StandardKey.Save)
        self.snapshot = self._action("Save snapshot…", tip="Save the preview as you see it as "
                                     "a PNG image (the only way fer-desktop writes a picture)")
        self.settings = self._action("Settings…", "Ctrl+,")
        self.choose_meeting = self._action("Choose the meeting on screen…", "Ctrl+M",
                                           tip="Drag a rectangle over the meeting's gallery")
        self.quit = self._action("Quit", QKeySequence.StandardKey.Quit)
        self.undo = self._action("Undo", QKeySequence.StandardKey.Undo,
                                 tip="Undo the last merge or split of students")
        self.undo.setEnabled(False)
        self.notice = self._action("Responsible use…")
        self.shortcuts = self._action("Keyboard shortcuts", "F1")
        self.legend = self._action("Badge legend…")
        self.about = self._action("About fer-desktop…")
        self.chart_windows = QActionGroup(self)
        for minutes in CHART_WINDOWS_MIN:
            action = QAction(f"Class mood: last {minutes} min", self, checkable=True)
            action.setData(minutes)
            self.chart_windows.addAction(action)
        self.show_chart_window(settings.chart_window_min)

        bar = QToolBar("Session", window)
        bar.setObjectName("sessionToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        window.addToolBar(bar)
        bar.addWidget(QLabel(" Source: ", window))
        self.source = QtSourcePicker(store, probe=probe, parent=window)
        bar.addWidget(self.source)
        bar.addAction(self.start)
        bar.addAction(self.pause)
        bar.addSeparator()
        bar.addWidget(QLabel(" Analyses/s: ", window))
        self.rate = QtBoundedSpin(RATE, settings.rate, window, unit=False)
        self.rate.setToolTip("Analyses per second")
        bar.addWidget(self.rate)
        bar.addSeparator()
        bar.addWidget(QLabel(" Privacy: ", window))
        self.privacy = QComboBox(window)
        for mode in PrivacyMode:
            self.privacy.addItem(mode.title, mode)
            self.privacy.setItemData(self.privacy.count() - 1, mode.tip,
                                     Qt.ItemDataRole.ToolTipRole)
        bar.addWidget(self.privacy)
        bar.addSeparator()
        bar.addAction(self.export_session)
        self.toolbar = bar

        menus = window.menuBar()
        session = menus.addMenu("&Session")
        session.addActions([self.choose_meeting, self.start, self.pause])
        session.addSeparator()
        session.addActions([self.export_session, self.export_csv, self.snapshot])
        self.recent = session.addMenu("Recent sessions")
        session.addSeparator()
        session.addAction(self.settings)
        session.addSeparator()
        session.addAction(self.quit)
        edit = menus.addMenu("&Edit")
        edit.addAction(self.undo)
        view = menus.addMenu("&View")
        view.addActions(self.chart_windows.actions())
        help_menu = menus.addMenu("&Help")
        help_menu.addActions([self.shortcuts, self.legend, self.notice])
        help_menu.addSeparator()
        help_menu.addAction(self.about)

    def _action(self, text: str, shortcut=None, icon=None, tip: str | None = None) -> QAction:
        action = QAction(text, self.parent())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(icon)
        if tip:
            action.setToolTip(tip)
        return action

    def all_actions(self) -> list[QAction]:
        """Every action, menu order (for the shortcuts' help)."""
        return [self.choose_meeting, self.start, self.pause, self.export_session,
                self.export_csv, self.snapshot, self.settings, self.undo, self.shortcuts,
                self.quit]

    def show_undo(self, what: str | None) -> None:
        """Undo reads "Undo merge" or "Undo split" (``what``), or is disabled (None)."""
        self.undo.setText(f"Undo {what}" if what else "Undo")
        self.undo.setEnabled(what is not None)

    def show_chart_window(self, minutes: int) -> None:
        """Check the View menu's entry of ``minutes``."""
        for action in self.chart_windows.actions():
            action.setChecked(action.data() == minutes)

    def show_settings(self, settings: AppSettings) -> None:
        """Show ``settings`` in the toolbar and the View menu."""
        if self.rate.number() != settings.rate:
            self.rate.blockSignals(True)
            self.rate.set_number(settings.rate)
            self.rate.blockSignals(False)
        self.show_chart_window(settings.chart_window_min)
        self.privacy.setCurrentIndex(self.privacy.findData(settings.privacy))
        self.privacy.setToolTip(settings.privacy.tip)

    def show_state(self, state: SessionState, privacy: PrivacyMode, per_student: bool) -> None:
        """Texts, icons and what is enabled for a session ``state``."""
        std = self.parent().style().standardIcon
        open_ = state is not SessionState.IDLE
        paused = state is SessionState.PAUSED
        self.start.setText("Stop" if open_ else "Start")
        self.start.setIcon(std(QStyle.StandardPixmap.SP_MediaStop if open_
                               else QStyle.StandardPixmap.SP_MediaPlay))
        self.start.setToolTip("Stop the session and save it (Ctrl+R)" if open_
                              else "Start a session on the selected source (Ctrl+R)")
        self.pause.setEnabled(open_)
        self.pause.setText("Resume" if paused else "Pause")
        self.pause.setIcon(std(QStyle.StandardPixmap.SP_MediaPlay if paused
                               else QStyle.StandardPixmap.SP_MediaPause))
        self.pause.setToolTip("Go on with the session (Ctrl+P)" if paused
                              else "Pause the session (Ctrl+P)")
        self.export_csv.setEnabled(per_student)
        # the aggregate-only mode decides what a session records: not switched during one
        item = self.privacy.model().item(self.privacy.findData(PrivacyMode.AGGREGATE))
        locked = open_ and privacy is not PrivacyMode.AGGREGATE
        item.setEnabled(not locked)
        item.setToolTip(AGGREGATE_LOCKED if locked else PrivacyMode.AGGREGATE.tip)
        for mode in (PrivacyMode.NAMED, PrivacyMode.ANONYMOUS):
            other = self.privacy.model().item(self.privacy.findData(mode))
            other.setEnabled(not (open_ and privacy is PrivacyMode.AGGREGATE))
            other.setToolTip(AGGREGATE_LOCKED if not other.isEnabled() else mode.tip)
        self.privacy.setToolTip(AGGREGATE_LOCKED if open_ and privacy is PrivacyMode.AGGREGATE
                                else privacy.tip)
