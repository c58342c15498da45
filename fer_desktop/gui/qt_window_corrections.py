"""The teacher's corrections of who is who, as the window offers them: a row's context menu
merges two students ("Merge with ▸") or splits one ("Split: someone else since they came
back"), and Edit › Undo (Ctrl+Z) takes the last one back. The Qt-free
:class:`~fer_desktop.session.live.LiveSession` decides (and may refuse, with why) and relabels
its record; the window then redraws the list, the preview's badges and the selected student's
timeline from it at once, and says what happened in the status bar.

A mixin of :class:`fer_desktop.gui.qt_main_window.QtMainWindow`, which provides ``session``,
``students``, ``controls`` and the views' ``_show`` and ``_show_student``.
"""

from __future__ import annotations

from PySide6.QtCore import Slot

#: How long a correction's message stays in the status bar, milliseconds.
MESSAGE_MS = 15_000


class QtWindowCorrections:
    """Merge, split and undo (a mixin)."""

    def _bind_corrections(self) -> None:
        self.students.set_session_students(self.session.final_names)
        self.students.merge_requested.connect(self._on_students_merge_requested)
        self.students.split_requested.connect(self._on_students_split_requested)
        self.controls.undo.triggered.connect(self._on_undo_triggered)

    def merge_students(self, a: int, b: int) -> bool:
        """Students ``a`` and ``b`` are one person: merged into the one seen first (the lower
        id, :meth:`~fer_desktop.session.live.LiveSession.same_person`). Returns whether
        merged; a refusal is said in the status bar."""
        s = self.session
        keep, gone = min(a, b), max(a, b)
        names = s.name_of(keep), s.name_of(gone)
        why = s.same_person(a, b)
        if why is None:
            self._after_correction(f"{names[1]} and {names[0]} are one student now: "
                                   f"{s.name_of(keep)}. Ctrl+Z undoes it.")
        else:
            self.statusBar().showMessage(why, MESSAGE_MS)
        return why is None

    def split_student(self, student: int) -> bool:
        """The person shown as ``student`` since they came back is someone else. Returns
        whether split; a refusal is said in the status bar."""
        s = self.session
        name = s.name_of(student)
        why = s.split(student)
        if why is None:
            new = s.corrections[-1].gone
            self._after_correction(f"Since {name} last came back, they are {s.name_of(new)}. "
                                   "Ctrl+Z undoes it.")
        else:
            self.statusBar().showMessage(why, MESSAGE_MS)
        return why is None

    def undo_correction(self) -> str | None:
        """Undo the last merge or split; returns what the status bar says."""
        message = self.session.undo()
        if message is None:
            message = "Nothing to undo."
        else:
            self._after_correction(message)
        self.statusBar().showMessage(message, MESSAGE_MS)
        return message

    def _after_correction(self, message: str) -> None:
        """The list, the badges and the timeline as the session now says, at once."""
        self._show(self.session.last)
        self._show_student(self.session.selected)
        self._show_undo()
        self.statusBar().showMessage(message, MESSAGE_MS)

    def _show_undo(self) -> None:
        s = self.session
        self.controls.show_undo(s.corrections[-1].kind if s.can_undo else None)

    @Slot(int, int)
    def _on_students_merge_requested(self, student: int, other: int) -> None:
        self.merge_students(student, other)

    @Slot(int)
    def _on_students_split_requested(self, student: int) -> None:
        self.split_student(student)

    @Slot()
    def _on_undo_triggered(self) -> None:
        self.undo_correction()
