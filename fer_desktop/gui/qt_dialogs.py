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
    QFileDialog, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, \
    QVBoxLayout, QWidget

from fer_desktop.session.alerts import AlertRules
from fer_desktop.session.settings import DETECTOR_LABELS, AppSettings

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
        self.rate = _spin(0.5, 10.0, 0.5, settings.rate, " per second", 1)
        self.smoothing = _spin(0.0, 10.0, 0.5, settings.smoothing_s, " s", 1)
        self.smoothing.setToolTip("Time constant of the per-student smoothing (0: none)")
        self.uncertain = QSpinBox(self)
        self.uncertain.setRange(0, 100)
        self.uncertain.setSuffix(" %")
        self.uncertain.setValue(round(100 * settings.uncertain_below))
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
        self.negative_share = QSpinBox(self)
        self.negative_share.setRange(0, 100)
        self.negative_share.setSuffix(" %")
        self.negative_share.setValue(round(100 * a.negative_share))
        self.negative_for = _spin(0, 3600, 5, a.negative_for_s, " s", 0)
        self.missing_on = QCheckBox("when a student's face is missing for", self)
        self.missing_on.setChecked(a.missing_enabled)
        self.missing_for = _spin(0.5, 120, 0.5, a.face_missing_min, " min", 1)
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
            self._base, rate=self.rate.value(), smoothing_s=self.smoothing.value(),
            uncertain_below=self.uncertain.value() / 100.0,
            detector=str(self.detector.currentData()),
            export_dir=self.export_dir.text().strip(),
            alerts=AlertRules(negative_enabled=self.negative_on.isChecked(),
                              negative_share=self.negative_share.value() / 100.0,
                              negative_for_s=self.negative_for.value(),
                              missing_enabled=self.missing_on.isChecked(),
                              face_missing_min=self.missing_for.value()))

    def _on_browse_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save sessions in",
                                                self.export_dir.text()
                                                or self.export_dir.placeholderText())
        if path:
            self.export_dir.setText(path)


def _spin(lo: float, hi: float, step: float, value: float, suffix: str,
          decimals: int) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin


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
