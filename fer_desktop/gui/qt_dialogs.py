"""The window's small pieces: the responsible-use notice, the settings dialog and the alert bar.

None of them blocks the event loop: the notice and the settings are shown with ``open()``
(window-modal) and report through their ``finished`` signal; the alert bar is a strip inside
the window.
"""

from __future__ import annotations

import dataclasses
import html
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, \
    QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, \
    QVBoxLayout, QWidget

from fer_desktop.session.alerts import FACE_MISSING_MIN, NEGATIVE_FOR_S, NEGATIVE_SHARE, \
    AlertRules
from fer_desktop.session.bounds import Bounds
from fer_desktop.session.settings import DETECTOR_LABELS, RATE, SMOOTHING_S, UNCERTAIN_BELOW, \
    AppSettings

#: The responsible-use notice, shown once (and from Help at any time).
NOTICE_HTML = """
<h2>Before you start</h2>
<p><b>What fer-desktop analyses.</b> The screen region, camera or file you choose: it finds each
participant's video tile and face and estimates the <i>facial expression</i> (angry, disgust,
fear, happy, sad, surprise, neutral) with a model trained on the FER-2013 data set.</p>
<p><b>What the estimates are not.</b> An estimate of facial expression is not a measure of
feelings, attention, engagement or learning. The estimates are often wrong and are biased by
the training data (faces, lighting, cameras, cultures). Never use them to grade, rank or judge a
student.</p>
<p><b>The law.</b> Emotion recognition in education institutions is <b>prohibited in the
EU</b> (AI Act, Art. 5(1)(f)), except for medical or safety reasons. Check what applies to you,
and tell your students before you use this app.</p>
<p><b>Privacy.</b> Everything runs on this computer: fer-desktop opens no network connection
and writes no video frame to disk unless you save a snapshot yourself. A session keeps numbers
only (a CSV, a summary and a report). <i>Anonymous</i> mode names every student "Student N" on
screen and in every export; <i>Aggregate only</i> shows and keeps the class mood alone.</p>
"""


class QtPrivacyNotice(QDialog):
    """The responsible-use notice: "I understand" accepts, "Quit" rejects."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Responsible use")  # Qt adds the app's name
        text = QLabel(NOTICE_HTML, self)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setMinimumWidth(560)
        buttons = QDialogButtonBox(self)
        self.accept_button = buttons.addButton("I understand",
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.quit_button = buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)


class QtSettingsDialog(QDialog):
    """Edit the analysis rate, smoothing, uncertainty threshold, face detector, alerts and export
    folder.

    Parameters
    ----------
    settings : AppSettings
        The values to start from; :meth:`settings` returns them edited.
    default_export_dir : str
        Shown as the placeholder of an empty export folder.
    parent : QWidget, optional
    """

    def __init__(self, settings: AppSettings, default_export_dir: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")  # Qt adds the app's name
        self._base = settings
        a = settings.alerts
        self.rate = QtBoundedSpin(RATE, settings.rate, self)
        self.smoothing = QtBoundedSpin(SMOOTHING_S, settings.smoothing_s, self)
        self.smoothing.setToolTip("Time constant of the per-student smoothing (0: none)")
        self.uncertain = QtBoundedSpin(UNCERTAIN_BELOW, settings.uncertain_below, self)
        self.uncertain.setToolTip("Results less probable than this are shown as uncertain")
        self.detector = QComboBox(self)
        for name, label in DETECTOR_LABELS.items():
            self.detector.addItem(label, name)
        self.detector.setCurrentIndex(max(0, self.detector.findData(settings.detector)))
        self.detector.setToolTip("YuNet (OpenCV's neural-network face detector) finds more faces: "
                                 "turned, tilted, small or partly covered. The Haar cascade is "
                                 "the classic detector, kept as an alternative.")
        self.negative_on = QCheckBox("when more than", self)
        self.negative_on.setChecked(a.negative_enabled)
        self.negative_share = QtBoundedSpin(NEGATIVE_SHARE, a.negative_share, self)
        self.negative_for = QtBoundedSpin(NEGATIVE_FOR_S, a.negative_for_s, self)
        self.missing_on = QCheckBox("when a student's face is missing for", self)
        self.missing_on.setChecked(a.missing_enabled)
        self.missing_for = QtBoundedSpin(FACE_MISSING_MIN, a.face_missing_min, self)
        self.export_dir = QLineEdit(settings.export_dir, self)
        self.export_dir.setPlaceholderText(default_export_dir)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)

        negative = QHBoxLayout()
        for w in (self.negative_on, self.negative_share, QLabel("of the faces look negative "
                                                               "for", self), self.negative_for):
            negative.addWidget(w)
        negative.addStretch(1)
        missing = QHBoxLayout()
        missing.addWidget(self.missing_on)
        missing.addWidget(self.missing_for)
        missing.addStretch(1)
        folder = QHBoxLayout()
        folder.addWidget(self.export_dir, 1)
        folder.addWidget(browse)
        form = QFormLayout()
        form.addRow("Analyses:", self.rate)
        form.addRow("Smoothing:", self.smoothing)
        form.addRow("Uncertain below:", self.uncertain)
        form.addRow("Face detector:", self.detector)
        form.addRow("Alert:", negative)
        form.addRow("Alert:", missing)
        form.addRow("Save sessions in:", folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def settings(self) -> AppSettings:
        """The edited settings."""
        return dataclasses.replace(
            self._base, rate=self.rate.number(), smoothing_s=self.smoothing.number(),
            uncertain_below=self.uncertain.number(),
            detector=str(self.detector.currentData()),
            export_dir=self.export_dir.text().strip(),
            alerts=AlertRules(negative_enabled=self.negative_on.isChecked(),
                              negative_share=self.negative_share.number(),
                              negative_for_s=self.negative_for.number(),
                              missing_enabled=self.missing_on.isChecked(),
                              face_missing_min=self.missing_for.number()))

    def _on_browse_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save sessions in",
                                                self.export_dir.text()
                                                or self.export_dir.placeholderText())
        if path:
            self.export_dir.setText(path)


class QtBoundedSpin(QDoubleSpinBox):
    """A spin box over a setting's :class:`~fer_desktop.session.bounds.Bounds`: its range,
    step, decimals and unit come from them (a fraction whose unit is ``"%"`` is shown as
    0..100 %).

    Parameters
    ----------
    bounds : Bounds
    value : float
        The setting's value (a fraction for ``"%"``).
    parent : QWidget, optional
    unit : bool
        Write the unit after the number (off where a label beside it says it).
    """

    def __init__(self, bounds: Bounds, value: float, parent: QWidget | None = None,
                 unit: bool = True):
        super().__init__(parent)
        self.bounds = bounds
        self._k = 100.0 if bounds.unit == "%" else 1.0
        self.setDecimals(bounds.decimals)
        self.setRange(bounds.lo * self._k, bounds.hi * self._k)
        self.setSingleStep(bounds.step * self._k)
        if unit:
            self.setSuffix(" %" if bounds.unit == "%" else bounds.unit)
        self.set_number(value)

    def number(self) -> float:
        """The setting's value shown (a fraction for ``"%"``), within its bounds."""
        return self.bounds.clamp(self.value() / self._k)

    def set_number(self, value: float) -> None:
        """Show the setting's ``value`` (a fraction for ``"%"``)."""
        self.setValue(self.bounds.clamp(value) * self._k)


class QtAlertBar(QFrame):
    """A strip above the preview: the latest alert (amber) or the latest error (red, such as
    a camera that cannot be opened), until dismissed; never modal.

    Signals
    -------
    dismissed()
    """

    dismissed = Signal()
    _STYLE = ("#alertBar {{ background: {bg}; border-radius: 4px; }}"
              "#alertBar QLabel {{ color: {fg}; font-size: 15px; }}")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("alertBar")
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.count = 0
        #: Whether an error (not an alert) is shown.
        self.error = False
        close = QPushButton("Dismiss", self)
        close.setToolTip("Hide this message (all alerts stay in the session report)")
        close.clicked.connect(self._on_dismiss_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_alert(self, t: float, message: str) -> None:
        """Show ``message`` of an alert at Unix time ``t``."""
        self.count += 1
        self.error = False
        self.setStyleSheet(self._STYLE.format(bg="#E69F00", fg="#000000"))
        when = datetime.fromtimestamp(t).strftime("%H:%M")
        self.label.setText(f"⚠  <b>{when}</b>  {html.escape(message)}")
        self.show()

    def show_error(self, message: str) -> None:
        """Show an error of the analysis or of a command."""
        self.error = True
        self.setStyleSheet(self._STYLE.format(bg="#B3261E", fg="#FFFFFF"))
        self.label.setText(f"✖  {html.escape(message)}")
        self.show()

    def clear_error(self) -> None:
        """Hide the error shown, if any (the analysis goes on again)."""
        if self.error:
            self.error = False
            self.hide()

    def clear(self) -> None:
        """Hide whatever is shown and restart the count (a session ended)."""
        self.error = False
        self.count = 0
        self.label.setText("")
        self.hide()

    def text(self) -> str:
        """What the bar says, as plain text ("" when hidden)."""
        return self.label.text() if self.isVisibleTo(self.parentWidget()) else ""

    def _on_dismiss_clicked(self) -> None:
        self.error = False
        self.hide()
        self.dismissed.emit()
