"""The student list: one row per student with their expression and its confidence, sortable by
any column (names naturally: "Student 9" before "Student 100"), keyed by student id (a row
follows its student when the gallery reflows); its context menu merges two students or splits
one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QContextMenuEvent, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLineEdit, QMenu, \
    QStyledItemDelegate, QTableView, QWidget

from fer_desktop.gui.qt_icons import badge_icon
from fer_desktop.session.badges import Badge, BadgeKind, confidence_text, natural_key

#: The context menu's entries.
MERGE_TEXT = "Merge with"
SPLIT_TEXT = "Split: someone else since they came back"

#: Sort key of the rows without a face (after every expression, by confidence).
_NO_FACE_CONFIDENCE = -1.0


class _StudentModel(QAbstractTableModel):
    """Rows in the order students were first listed; updated in place, so that an open editor,
    the selection and the sort survive every refresh."""

    COLUMNS = ("Student", "Emotion", "Confidence")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ids: list[int] = []
        self.badges: dict[int, Badge] = {}
        self.editable = True
        self._icons: dict[tuple, object] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def flags(self, index):
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0 and self.editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def _icon(self, badge: Badge):
        key = (badge.kind, badge.emotion, badge.text_colour)
        if key not in self._icons:  # a handful of icons, made once
            self._icons[key] = badge_icon(badge.kind, badge.emotion, badge.text_colour)
        return self._icons[key]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        badge = self.badges[self.ids[index.row()]]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 0:
                return badge.student
            if col == 1:
                return badge.label
            return confidence_text(badge.confidence) if badge.has_face else "–"
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            if col == 0:
                return natural_key(badge.student)
            if col == 1:
                return badge.label
            return float(badge.confidence) if badge.has_face else _NO_FACE_CONFIDENCE
        if col == 1:
            if role == Qt.ItemDataRole.DecorationRole:
                return self._icon(badge)
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(badge.colour))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(badge.text_colour))
            if role == Qt.ItemDataRole.FontRole:
                return self._bold if badge.kind is BadgeKind.EMOTION else self._italic
            if role == Qt.ItemDataRole.ToolTipRole:
                return badge.tooltip
        if col == 2 and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if col == 0 and role == Qt.ItemDataRole.ToolTipRole and self.editable:
            return "Double-click to type this student's name"
        return None

    def set_rows(self, ids: list[int], badges: list[Badge]) -> None:
        new = dict(zip(ids, badges))
        for row in reversed(range(len(self.ids))):  # students who left the screen
            if self.ids[row] not in new:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self.ids[row]
                self.endRemoveRows()
        changed = [row for row, sid in enumerate(self.ids) if self.badges.get(sid) != new[sid]]
        self.badges = new
        added = [sid for sid in ids if sid not in set(self.ids)]
        if added:
            start = len(self.ids)
            self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
            self.ids.extend(added)
            self.endInsertRows()
        for row in changed:  # one row at a time: an open editor is never rewritten
            self.dataChanged.emit(self.index(row, 0), self.index(row, 2))


class _NameDelegate(QStyledItemDelegate):
    """The name editor opens with the name selected, so that typing replaces it, and is never
    rewritten while open (the list refreshes at every analysis). A name typed goes to
    ``on_name(student_id, name)``: the names shown come from the session."""

    def __init__(self, table: "QtStudentTable"):
        super().__init__(table)

    def setEditorData(self, editor, index) -> None:
        if isinstance(editor, QLineEdit) and not editor.property("filled"):
            editor.setText(index.data(Qt.ItemDataRole.EditRole))
            editor.selectAll()
            editor.setProperty("filled", True)

    def setModelData(self, editor, model, index) -> None:
        if isinstance(editor, QLineEdit):
            self.parent()._name_typed(index, editor.text().strip())


class QtStudentTable(QTableView):
    """Student, Emotion (icon and label in the badge colour), Confidence. Students without a
    face read ``no face`` on grey (``camera off`` on black), uncertain results ``happy?`` on
    pale grey. Click a header to sort by that column.

    Rows are keyed by student id and updated in place: an open name editor, the selection and
    the sort order survive every refresh. Clicking a row selects the student
    (:attr:`student_clicked`); double-clicking the name lets the teacher type it
    (:attr:`name_edited`) unless :attr:`names_editable` is off (anonymous mode). A row's
    context menu (:meth:`context_menu`) says who is who: "Merge with ▸" another student of the
    session (:attr:`merge_requested`), or "Split: someone else since they came back"
    (:attr:`split_requested`); the session decides, and may refuse.

    Signals
    -------
    student_clicked(int)
        Student id of the row clicked.
    name_edited(int, str)
        Student id and the name typed.
    merge_requested(int, int)
        The student of the row and the one chosen: the same person.
    split_requested(int)
        The student of the row: someone else since they came back.
    """

    COLUMNS = _StudentModel.COLUMNS
    student_clicked = Signal(int)
    name_edited = Signal(int, str)
    merge_requested = Signal(int, int)
    split_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = _StudentModel(self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self._model)
        self._proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self._proxy.setDynamicSortFilter(True)
        self.setModel(self._proxy)
        self.setItemDelegateForColumn(0, _NameDelegate(self))
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # first listed first, until asked
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
        header.setSortIndicatorShown(True)
        self.clicked.connect(self._on_clicked)
        self._session_students: Callable[[], dict[int, str]] = dict

    def set_session_students(self, students: Callable[[], dict[int, str]]) -> None:
        """Where the "Merge with" submenu finds every student of the session, ``{id: shown
        name}`` (also those not on screen now), when it opens."""
        self._session_students = students

    @property
    def names_editable(self) -> bool:
        """Whether the teacher may type names (off in the anonymous mode)."""
        return self._model.editable

    @names_editable.setter
    def names_editable(self, value: bool) -> None:
        self._model.editable = bool(value)

    def set_rows(self, ids: list[int], badges: list[Badge]) -> None:
        """Show one row per student: ``ids[i]`` with ``badges[i]``; rows of students not in
        ``ids`` go."""
        self._model.set_rows(list(ids), list(badges))

    def clear_rows(self) -> None:
        """No row (a stopped session, the aggregate-only mode)."""
        self._model.set_rows([], [])

    def row_texts(self) -> list[tuple[str, str, str]]:
        """The table's text, row by row as shown (tests, accessibility)."""
        p = self._proxy
        return [tuple(p.index(r, c).data() for c in range(p.columnCount()))
                for r in range(p.rowCount())]

    def student_ids(self) -> list[int]:
        """Student ids row by row as shown."""
        return [self._model.ids[self._proxy.mapToSource(self._proxy.index(r, 0)).row()]
                for r in range(self._proxy.rowCount())]

    def row_of(self, student_id: int) -> int | None:
        """The shown row of a student, or None."""
        ids = self.student_ids()
        return ids.index(student_id) if student_id in ids else None

    def select_student(self, student_id: int | None) -> None:
        """Highlight the row of ``student_id`` (none for ``None``) without emitting a
        signal."""
        row = self.row_of(student_id) if student_id is not None else None
        selection = self.selectionModel()
        blocked = selection.blockSignals(True)
        if row is None:
            self.clearSelection()
        else:
            self.selectRow(row)
        selection.blockSignals(blocked)

    def edit_name(self, student_id: int) -> bool:
        """Open the name editor of a student's row (as a double-click does)."""
        row = self.row_of(student_id)
        if row is None or not self.names_editable:
            return False
        index = self._proxy.index(row, 0)
        self.setCurrentIndex(index)
        self.edit(index)
        return True

    def context_menu(self, student_id: int) -> QMenu:
        """The context menu of ``student_id``'s row: "Merge with ▸" every other student of the
        session by their shown name (naturally sorted; a name shown twice gets its number),
        and "Split: someone else since they came back"."""
        menu = QMenu(self)
        merge = menu.addMenu(MERGE_TEXT)
        merge.setToolTipsVisible(True)
        others = {sid: name for sid, name in self._session_students().items()
                  if sid != student_id}
        twice = {n for n, k in Counter(others.values()).items() if k > 1}
        for sid, name in sorted(others.items(), key=lambda item: natural_key(item[1])):
            action = merge.addAction(f"{name} (no. {sid + 1})" if name in twice else name)
            action.setToolTip("This student and that one are the same person")
            action.triggered.connect(partial(self.merge_requested.emit, student_id, sid))
        merge.setEnabled(bool(others))
        split = menu.addAction(SPLIT_TEXT)
        split.setToolTip("The person shown since this student last came back is someone else")
        split.triggered.connect(partial(self.split_requested.emit, student_id))
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.indexAt(event.pos())
        if not index.isValid():
            return
        source = self._proxy.mapToSource(index)
        menu = self.context_menu(self._model.ids[source.row()])
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())  # not a nested event loop: the analysis goes on

    def _name_typed(self, index: QModelIndex, name: str) -> None:
        source = self._proxy.mapToSource(index)
        if 0 <= source.row() < len(self._model.ids):
            self.name_edited.emit(self._model.ids[source.row()], name)

    def _on_clicked(self, index: QModelIndex) -> None:
        source = self._proxy.mapToSource(index)
        self.student_clicked.emit(self._model.ids[source.row()])
