"""The Help menu's windows: the keyboard shortcuts, the legend of the badges, and About.

All three are small non-blocking dialogs (``open()``), titled with what they show; the
window's title already names the app.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QAction, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QVBoxLayout, \
    QWidget

from fer_desktop import __version__
from fer_desktop.gui.qt_icons import paint_icon
from fer_desktop.labels import EMOTIONS
from fer_desktop.session.badges import Badge, BadgeKind, TileState

#: The badges that are not a firm expression, and what they mean.
LEGEND = (
    (Badge(0, "", "happy", 0.31, (0, 0, 1, 1), None),
     "Uncertain: the model's top expression has a low probability (below the threshold in "
     "Settings). Read it as a guess."),
    (Badge(0, "", None, float("nan"), (0, 0, 1, 1), None, TileState.NO_FACE),
     "The participant's camera is on but no face was found (looking away, out of frame, too "
     "small or too dark)."),
    (Badge(0, "", None, float("nan"), (0, 0, 1, 1), None, TileState.CAMERA_OFF),
     "The tile shows a name or a profile picture: the camera is off. Never counted as a "
     "missing face."),
)


def _dialog(parent: QWidget | None, title: str) -> tuple[QDialog, QVBoxLayout]:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    layout = QVBoxLayout(dialog)
    return dialog, layout


def _close_buttons(dialog: QDialog, layout: QVBoxLayout) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """``(keys, what)`` for every action with a shortcut, as the platform writes the keys."""
    rows = []
    for action in actions:
        keys = action.shortcut().toString(action.shortcut().SequenceFormat.NativeText)
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return rows


def show_shortcuts(parent: QWidget, actions: list[QAction]) -> QDialog:
    """A table of the window's keyboard shortcuts."""
    dialog, layout = _dialog(parent, "Keyboard shortcuts")
    grid = QGridLayout()
    grid.setHorizontalSpacing(24)
    rows = shortcut_rows(actions) + [
        ("Double-click a name", "Type the student's name"),
        ("Click a tile or a row", "Show the student's timeline"),
        ("Right-click a row", "Merge two students, or split one")]
    for r, (keys, what) in enumerate(rows):
        key = QLabel(f"<b>{html.escape(keys)}</b>", dialog)
        key.setTextFormat(Qt.TextFormat.RichText)
        grid.addWidget(key, r, 0)
        words = QLabel(what, dialog)  # plain text: shown as written, never escaped twice
        words.setTextFormat(Qt.TextFormat.PlainText)
        grid.addWidget(words, r, 1)
    layout.addLayout(grid)
    _close_buttons(dialog, layout)
    dialog.open()
    return dialog


def badge_pixmap(badge: Badge, height: int = 22) -> QPixmap:
    """``badge`` drawn as the preview draws a tile's badge: icon and text on its colour."""
    kind, text, fg = badge.kind, badge.text, badge.text_colour
    width = 8 * len(text) + height + 12
    pixmap = QPixmap(QSize(width, height))
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if kind is BadgeKind.UNCERTAIN:
        p.setPen(QPen(QColor(badge.accent), 2))
    else:
        p.setPen(QColor(0, 0, 0, 110))
    p.setBrush(QColor(badge.colour))
    p.drawRoundedRect(QRectF(1, 1, width - 2, height - 2), 4, 4)
    paint_icon(p, QRectF(5, 3, height - 6, height - 6), kind, badge.emotion, fg)
    p.setPen(QColor(fg))
    font = p.font()
    font.setPixelSize(13)
    font.setBold(kind is BadgeKind.EMOTION)
    p.setFont(font)
    p.drawText(QRectF(height + 2, 0, width - height - 4, height),
               Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
    p.end()
    return pixmap


def _example(emotion: str | None, confidence: float, state: TileState = TileState.FACE) -> Badge:
    return Badge(0, "", emotion, confidence, (0, 0, 1, 1), None, state)


def show_badge_legend(parent: QWidget) -> QDialog:
    """What the badges on the preview and the colours of the list and the chart mean."""
    dialog, layout = _dialog(parent, "Badge legend")
    intro = QLabel("Each student gets a badge: the expression the model reads on their face "
                   "and its probability. In a crowded gallery the badge shrinks to the icon "
                   "and the percentage. The colours are those of the class chart.", dialog)
    intro.setWordWrap(True)
    layout.addWidget(intro)
    grid = QGridLayout()
    grid.setHorizontalSpacing(16)
    row = 0
    for emotion in EMOTIONS:
        picture = QLabel(dialog)
        picture.setPixmap(badge_pixmap(_example(emotion, 0.82)))
        grid.addWidget(picture, row, 0)
        row += 1
    for badge, meaning in LEGEND:
        picture = QLabel(dialog)
        picture.setPixmap(badge_pixmap(badge))
        grid.addWidget(picture, row, 0)
        label = QLabel(meaning, dialog)
        label.setWordWrap(True)
        grid.addWidget(label, row, 1)
        row += 1
    grid.setColumnStretch(1, 1)
    layout.addLayout(grid)
    note = QLabel("<i>A facial expression is not a feeling: read every badge as an estimate, "
                  "often wrong.</i>", dialog)
    note.setWordWrap(True)
    layout.addWidget(note)
    dialog.setMinimumWidth(520)
    _close_buttons(dialog, layout)
    dialog.open()
    return dialog


def show_about(parent: QWidget) -> QDialog:
    """The app's version, what it runs on, and its privacy promise."""
    from PySide6 import __version__ as pyside_version

    dialog, layout = _dialog(parent, "About")
    text = QLabel(
        f"<h3>fer-desktop {html.escape(__version__)}</h3>"
        "<p>Shows a teacher, live, the facial expressions of an online or hybrid class: every "
        "face of a meeting's gallery view or of a room camera, its expression read by a small "
        "network trained on FER-2013 (7 classes), and the class mood over time.</p>"
        "<p><b>Local only.</b> fer-desktop opens no network connection, and keeps numbers, "
        "never video.</p>"
        f"<p>Qt for Python (PySide6) {html.escape(pyside_version)}, OpenCV, LiteRT, "
        "pyqtgraph, RapidOCR.</p>", dialog)
    text.setWordWrap(True)
    text.setTextFormat(Qt.TextFormat.RichText)
    text.setMinimumWidth(420)
    layout.addWidget(text)
    _close_buttons(dialog, layout)
    dialog.open()
    return dialog
