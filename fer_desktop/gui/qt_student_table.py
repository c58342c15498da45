"""The student list: one row per tile with the student's expression and its confidence."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, \
    QWidget

from fer_desktop.gui.badges import Badge, confidence_text


class QtStudentTable(QTableWidget):
    """Student, Emotion (in the badge colour), Confidence; tiles without a face read
    ``no face`` on grey. Rows are created or removed only when the tile count changes and are
    otherwise updated in place."""

    COLUMNS = ("Student", "Emotion", "Confidence")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        self._italic = QFont(self.font())
        self._italic.setItalic(True)

    def set_badges(self, badges: list[Badge]) -> None:
        """Show one row per badge."""
        if self.rowCount() != len(badges):
            old = self.rowCount()
            self.setRowCount(len(badges))
            for row in range(old, len(badges)):
                for col in range(len(self.COLUMNS)):
                    item = QTableWidgetItem()
                    if col == 2:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(row, col, item)
        for row, badge in enumerate(badges):
            self.item(row, 0).setText(badge.student)
            emotion = self.item(row, 1)
            emotion.setText(badge.emotion if badge.has_face else badge.text)
            emotion.setBackground(QBrush(QColor(badge.colour)))
            emotion.setForeground(QBrush(QColor(badge.text_colour)))
            emotion.setFont(self._bold if badge.has_face else self._italic)
            self.item(row, 2).setText(confidence_text(badge.confidence) if badge.has_face
                                      else "–")

    def row_texts(self) -> list[tuple[str, str, str]]:
        """The table's text, row by row (tests, accessibility)."""
        return [tuple(self.item(r, c).text() for c in range(self.columnCount()))
                for r in range(self.rowCount())]
