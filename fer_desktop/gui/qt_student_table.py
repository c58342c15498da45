"""The student list: one row per tile with the student's expression and its confidence."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, \
    QWidget

from fer_desktop.session.badges import Badge, BadgeKind, confidence_text
from fer_desktop.gui.qt_icons import badge_icon


class QtStudentTable(QTableWidget):
    """Student, Emotion (icon and label in the badge colour), Confidence. Tiles without a face
    read ``no face`` on grey, uncertain results ``happy?`` on pale grey. Rows are created or
    removed only when the tile count changes and are otherwise updated in place.

    Clicking a row selects the student (:attr:`student_clicked`); double-clicking the name lets
    the teacher type the student's name (:attr:`name_edited`) unless :attr:`names_editable` is
    off (anonymous mode).

    Signals
    -------
    student_clicked(int)
        Tile index of the row clicked.
    name_edited(int, str)
        Tile index and the name typed.
    """

    COLUMNS = ("Student", "Emotion", "Confidence")
    student_clicked = Signal(int)
    name_edited = Signal(int, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        self._italic = QFont(self.font())
        self._italic.setItalic(True)
        #: Whether the teacher may type names (off in the anonymous mode).
        self.names_editable = True
        self.cellClicked.connect(self._on_cell_clicked)
        self.itemChanged.connect(self._on_item_changed)

    def set_badges(self, badges: list[Badge]) -> None:
        """Show one row per badge."""
        with QSignalBlocker(self):
            self._set_badges(badges)

    def _set_badges(self, badges: list[Badge]) -> None:
        if self.rowCount() != len(badges):
            old = self.rowCount()
            self.setRowCount(len(badges))
            for row in range(old, len(badges)):
                for col in range(len(self.COLUMNS)):
                    item = QTableWidgetItem()
                    flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                    if col == 0:
                        flags |= Qt.ItemFlag.ItemIsEditable
                    item.setFlags(flags)
                    if col == 2:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    self.setItem(row, col, item)
        editing = self.state() == QAbstractItemView.State.EditingState
        for row, badge in enumerate(badges):
            name = self.item(row, 0)
            if not (editing and self.currentRow() == row):
                name.setText(badge.student)
            flags = name.flags()
            name.setFlags(flags | Qt.ItemFlag.ItemIsEditable if self.names_editable
                          else flags & ~Qt.ItemFlag.ItemIsEditable)
            emotion = self.item(row, 1)
            emotion.setText(badge.label)
            emotion.setToolTip(badge.tooltip)
            emotion.setIcon(badge_icon(badge.kind, badge.emotion, badge.text_colour))
            emotion.setBackground(QBrush(QColor(badge.colour)))
            emotion.setForeground(QBrush(QColor(badge.text_colour)))
            emotion.setFont(self._bold if badge.kind is BadgeKind.EMOTION else self._italic)
            self.item(row, 2).setText(confidence_text(badge.confidence) if badge.has_face
                                      else "–")

    def row_texts(self) -> list[tuple[str, str, str]]:
        """The table's text, row by row (tests, accessibility)."""
        return [tuple(self.item(r, c).text() for c in range(self.columnCount()))
                for r in range(self.rowCount())]

    def select_student(self, tile: int | None) -> None:
        """Highlight the row of ``tile`` (none for ``None``) without emitting a signal."""
        with QSignalBlocker(self):
            if tile is None or not 0 <= tile < self.rowCount():
                self.clearSelection()
            else:
                self.selectRow(tile)

    def _on_cell_clicked(self, row: int, column: int) -> None:
        self.student_clicked.emit(row)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.name_edited.emit(item.row(), item.text().strip())
