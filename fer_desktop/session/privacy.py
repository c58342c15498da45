"""The privacy mode, and what it allows: one place that every view, file and export asks.
Qt-free.

* **Names**: students appear under the name the teacher typed, else the one read from their
  tile, on screen and in every file.
* **Anonymous**: every student is "Student N" on screen and in every file, from the moment the
  mode is chosen (the live CSV too); the names meeting apps print on the tiles are covered in
  the preview.
* **Aggregate only**: the class chart alone; no badge, row, timeline, per-student alert,
  session CSV or summary, and the names on the tiles are covered in the preview. It decides
  what a session records, so it is chosen between sessions only.
"""

from __future__ import annotations

import enum

from fer_desktop.analysis.students import student_name


class PrivacyMode(enum.Enum):
    """What the app shows and exports about individual students."""

    #: Names (as the teacher typed them, else as read) in the UI and exports.
    NAMED = "named"
    #: Every student is "Student N" in the UI and in every export; names in the preview's tiles
    #: are covered.
    ANONYMOUS = "anonymous"
    #: The class chart only: no per-student badge, row, timeline or export.
    AGGREGATE = "aggregate"

    @property
    def title(self) -> str:
        """What the privacy picker shows."""
        return {"named": "Names", "anonymous": "Anonymous", "aggregate": "Aggregate only"}[
            self.value]

    @property
    def tip(self) -> str:
        """One sentence on what the mode does."""
        return {
            "named": "Students appear under the names you type in the list (double-click).",
            "anonymous": "Every student is \"Student N\" on screen and in every file, the live "
                         "recording included; the names in the preview's tiles are covered.",
            "aggregate": "Only the class mood is shown and kept: no per-student badge, row, "
                         "timeline or file, and the names in the preview's tiles are covered. "
                         "Chosen between sessions only.",
        }[self.value]

    @property
    def per_student(self) -> bool:
        """Whether anything is shown or kept per student."""
        return self is not PrivacyMode.AGGREGATE

    @property
    def names(self) -> bool:
        """Whether names (typed or read) may be shown and written."""
        return self is PrivacyMode.NAMED

    @property
    def covers_tiles(self) -> bool:
        """Whether the names printed on the tiles are covered in the preview (whenever names
        may not be shown: Anonymous and Aggregate only)."""
        return not self.names

    def name(self, student_id: int, read: str | None = None, typed: str | None = None) -> str:
        """How a student is named in this mode: the typed name, else the name read from their
        tile, else "Student N" (N = id + 1); always "Student N" unless names are allowed."""
        if not self.names:
            return student_name(student_id)
        return typed or read or student_name(student_id)


#: Aggregate-only is chosen between sessions: why, when the teacher tries during one.
AGGREGATE_LOCKED = ("Stop the session to switch to or from Aggregate only: it decides what a "
                    "session records.")
