"""Saving a session folder: the session CSV, the per-student summary, the class mood, and the
HTML report with the class-mood chart and the student table drawn as PNG images.

The images are painted with ``QPainter`` on a ``QImage`` (no window, no screen grab), so a
report can be made headless. What goes into the folder follows the privacy mode: the anonymous
mode writes "Student N" everywhere; the aggregate-only mode writes the class mood alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPolygonF

from fer_desktop.session.export import ExportError, copy_csv, write_class_csv, write_summary_csv
from fer_desktop.session.files import PRIVATE_DIR, make_private, open_private, printable, \
    private_dirs
from fer_desktop.session.palette import CAMERA_OFF_COLOUR, EMOTION_COLOURS, NO_FACE_COLOUR, \
    text_colour_on
from fer_desktop.gui.qt_mood_chart import STACK_ORDER
from fer_desktop.session.record import SessionRecord
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.labels import EMOTIONS
from fer_desktop.session.mood_history import pauses
from fer_desktop.session.report import ReportData, render_html
from fer_desktop.analysis.students import student_name
from fer_desktop.session.summary import StudentSummary, class_mood, listed_students
from fer_desktop.session.updates import session_stamp

_STACK_INDEX = np.array([EMOTIONS.index(e) for e in STACK_ORDER])
_INK, _GRID, _MUTED = QColor("#202020"), QColor("#C8C8C8"), QColor("#606060")
#: Most points drawn per curve in the report chart (longer sessions are averaged into bins).
MAX_POINTS = 1200
PRIVACY_TEXT = {PrivacyMode.NAMED: "named", PrivacyMode.ANONYMOUS: "anonymous",
                PrivacyMode.AGGREGATE: "aggregate only"}


@dataclass(frozen=True)
class SavedSession:
    """What :func:`save_session` wrote.

    Attributes
    ----------
    folder : Path
    report : Path
        The HTML report.
    files : tuple of Path
        Every file written.
    """

    folder: Path
    report: Path
    files: tuple[Path, ...]


def unique_folder(parent: Path, stamp: str) -> Path:
    """``parent/session-<stamp>`` (``-2``, ``-3`` … when taken); ``stamp`` is the session's
    ``YYYYmmdd-HHMMSS``, as in its CSV's name."""
    base = f"session-{stamp}"
    folder, k = parent / base, 2
    while folder.exists():
        folder, k = parent / f"{base}-{k}", k + 1
    return folder


def save_session(parent: Path, record: SessionRecord, privacy: PrivacyMode,
                 names: Mapping[int, str], session_csv: Path | None,
                 stamp: str | None = None, relabel=None) -> SavedSession:
    """Write a session folder under ``parent``.

    Parameters
    ----------
    parent : Path
        Folder that receives the new ``session-YYYYmmdd-HHMMSS`` folder (created if needed).
    record : SessionRecord
        The session; must hold at least one frame.
    privacy : PrivacyMode
        NAMED: ``names`` in every file; ANONYMOUS: "Student N" everywhere; AGGREGATE: no
        per-student file (only ``class_mood.csv``, ``class_mood.png`` and the report).
    names : mapping of int to str
        Every student's name (:meth:`fer_desktop.session.live.LiveSession.final_names`;
        ignored unless NAMED): session.csv, students.csv and the report name each student id
        this one way.
    session_csv : Path or None
        The recorded session CSV to copy (NAMED / ANONYMOUS); ``None`` or missing: none.
    stamp : str, optional
        ``YYYYmmdd-HHMMSS`` of the session's start, as in the name of its CSV
        (:func:`fer_desktop.session.updates.session_stamp`); default the first frame's time.
    relabel : callable, optional
        Who a recorded CSV row's student is after the teacher's merges and splits
        (:func:`fer_desktop.session.export.copy_csv`).

    Returns
    -------
    SavedSession
        The folder and every file in it are private to the user (0700, 0600).

    Raises
    ------
    ExportError
        If the folder or a file cannot be written (``parent`` is read-only, full or not a
        folder).
    ValueError
        If ``record`` is empty.
    """
    if not len(record):
        raise ValueError("the session has no analysed frame")
    private_dirs(parent)
    folder = unique_folder(Path(parent), stamp or session_stamp(record.started))
    try:
        folder.mkdir(mode=PRIVATE_DIR)
        folder.chmod(PRIVATE_DIR)
    except OSError as exc:
        raise ExportError(f"Cannot create {printable(folder)}: {exc.strerror or exc}.") from None
    names = dict(names) if privacy is PrivacyMode.NAMED else {}
    files: list[tuple[str, str]] = []
    written: list[Path] = []
    per_student = privacy is not PrivacyMode.AGGREGATE
    if per_student and session_csv is not None and Path(session_csv).exists():
        written.append(copy_csv(session_csv, folder / "session.csv", renames=names,
                                anonymous=privacy is not PrivacyMode.NAMED, relabel=relabel))
        files.append(("session.csv", "every analysis, one row per student and frame"))
    summaries = record.summaries(names) if per_student else []
    if summaries:
        written.append(write_summary_csv(summaries, folder / "students.csv"))
        files.append(("students.csv", "per student: time share of each expression and time "
                                      "with no face"))
    t, shares, faces = record.class_series()
    written.append(write_class_csv(t, shares, faces, folder / "class_mood.csv"))
    files.append(("class_mood.csv", "the class mood at every analysis, no per-student data"))
    alerts = [(a.t, a.message_for(names.get(a.student_id, student_name(a.student_id)))
               if a.student_id is not None else a.message) for a in record.alerts
              if per_student or a.student_id is None]
    chart = render_class_chart(t, shares, [a[0] for a in alerts])
    written.append(_save_image(chart, folder / "class_mood.png"))
    table_name = ""
    listed = listed_students(summaries)
    if listed:
        written.append(_save_image(render_student_table(listed), folder / "students.png"))
        table_name = "students.png"
    data = ReportData(
        title=f"Class session of {datetime.fromtimestamp(record.started):%d %B %Y, %H:%M}",
        started=record.started, ended=record.ended, sources=record.sources,
        privacy=PRIVACY_TEXT[privacy], t=t, shares=shares, alerts=alerts, students=listed,
        brief=len(summaries) - len(listed),
        chart_image="class_mood.png", table_image=table_name, files=files)
    report = folder / "report.html"
    try:
        with open_private(report) as f:
            f.write(render_html(data))
    except OSError as exc:
        raise ExportError(f"Cannot write {printable(report)}: {exc.strerror or exc}.") from None
    written.append(report)
    return SavedSession(folder, report, tuple(written))


def _save_image(image: QImage, path: Path) -> Path:
    if not image.save(str(path), "PNG"):
        raise ExportError(f"Cannot write {printable(path)}.")
    make_private(path)
    return path


def _binned(t: np.ndarray, values: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Average consecutive samples into at most ``max_points`` bins."""
    if len(t) <= max_points:
        return t, values
    edges = np.linspace(0, len(t), max_points + 1).astype(int)
    tb = np.add.reduceat(t, edges[:-1]) / np.diff(edges)
    vb = np.add.reduceat(values, edges[:-1], axis=0) / np.diff(edges)[:, None]
    return tb, vb



def _canvas(w: int, h: int, font_px: int) -> tuple[QImage, QPainter, QFont]:
    """A white ``w x h`` image with an antialiased painter on it and its font set."""
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    image.fill(QColor("#FFFFFF"))
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPixelSize(font_px)
    p.setFont(font)
    return image, p, font


def render_class_chart(t: np.ndarray, shares: np.ndarray, alerts: Sequence[float] = (),
                       size: tuple[int, int] = (1600, 760)) -> QImage:
    """The class mood over a whole session as an image.

    Parameters
    ----------
    t : np.ndarray
        ``(m,)`` Unix seconds.
    shares : np.ndarray
        ``(m, 7)`` class shares per frame.
    alerts : sequence of float
        Unix seconds of alerts (dashed vertical lines).
    size : tuple of int
        ``(width, height)`` pixels.

    Returns
    -------
    QImage
        White background: top, the stacked share of each expression (% of faces) with a
        legend; bottom, the class mood index (-100..100); x in minutes since the start. A
        pause (:func:`~fer_desktop.session.mood_history.pauses`, the live chart's rule) is a
        gap in both, never a slope; frames without a face break the mood line.
    """
    w, h = size
    image, p, font = _canvas(w, h, 20)
    left, right, top = 90, w - 190, 20
    area = QRectF(left, top, right - left, (h - 90) * 0.68)
    mood = QRectF(left, area.bottom() + 24, right - left, h - 70 - area.bottom() - 24)
    t = np.asarray(t, np.float64)
    shares = np.asarray(shares, np.float64)
    span = max(float(t[-1] - t[0]), 60.0) / 60.0

    def xpix(minutes: np.ndarray | float):
        return left + np.asarray(minutes) / span * (right - left)

    p.setPen(QPen(_GRID, 1, Qt.PenStyle.DashLine))
    p.drawLine(QPointF(left, mood.center().y()), QPointF(right, mood.center().y()))
    # one stretch of the session at a time: a pause is a gap, as in the live chart
    for run in np.split(np.arange(len(t)), pauses(t) + 1):
        budget = max(2, round(MAX_POINTS * len(run) / len(t)))
        tb, sb = _binned(t[run] - t[0], shares[run], budget)
        _draw_stretch(p, xpix(tb / 60.0), sb, area, mood)
    # axes, ticks, labels
    p.setPen(QPen(_MUTED, 1))
    p.drawRect(area)
    p.drawRect(mood)
    for v in (0, 50, 100):
        y = area.bottom() - v / 100 * area.height()
        p.drawText(QRectF(0, y - 12, left - 10, 24),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{v}%")
    for v, label in ((1, "+100"), (0, "0"), (-1, "−100")):
        y = mood.center().y() - v * mood.height() / 2
        p.drawText(QRectF(0, y - 12, left - 10, 24),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
    p.drawText(QRectF(left, mood.top() + 2, 300, 24), Qt.AlignmentFlag.AlignLeft,
               " class mood")
    step = next(s for s in (1, 2, 5, 10, 15, 30, 60, 120) if span / s <= 10)
    for m in np.arange(0, span + 1e-9, step):
        x = float(xpix(m))
        p.drawLine(QPointF(x, mood.bottom()), QPointF(x, mood.bottom() + 6))
        p.drawText(QRectF(x - 40, mood.bottom() + 8, 80, 24), Qt.AlignmentFlag.AlignHCenter,
                   f"{m:g}")
    p.drawText(QRectF(left, h - 32, right - left, 28), Qt.AlignmentFlag.AlignHCenter,
               "minutes since the start of the session")
    # alerts
    p.setPen(QPen(_INK, 2, Qt.PenStyle.DashLine))
    for a in alerts:
        x = float(xpix((a - t[0]) / 60.0))
        p.drawLine(QPointF(x, area.top()), QPointF(x, mood.bottom()))
    # legend, top band first
    y = top
    for emotion in reversed(STACK_ORDER):
        p.fillRect(QRectF(right + 20, y + 3, 20, 20), QColor(EMOTION_COLOURS[emotion]))
        p.setPen(_INK)
        p.drawText(QRectF(right + 48, y, 140, 26), Qt.AlignmentFlag.AlignVCenter, emotion)
        y += 30
    if len(alerts):
        p.setPen(QPen(_INK, 2, Qt.PenStyle.DashLine))
        p.drawLine(QPointF(right + 30, y + 2), QPointF(right + 30, y + 24))
        p.setPen(_INK)
        p.drawText(QRectF(right + 48, y, 140, 26), Qt.AlignmentFlag.AlignVCenter, "alert")
    p.end()
    return image


def _draw_stretch(p: QPainter, xs: np.ndarray, sb: np.ndarray, area: QRectF,
                  mood: QRectF) -> None:
    """One stretch without a pause: the stacked shares (``xs`` pixels, ``sb`` ``(k, 7)``) in
    ``area``, and the class mood line in ``mood``, broken where no face was seen."""
    tops = np.cumsum(sb[:, _STACK_INDEX], axis=1)
    below = np.zeros(len(xs))
    for k, emotion in enumerate(STACK_ORDER):
        upper = tops[:, k]
        poly = QPolygonF([QPointF(x, area.bottom() - y * area.height())
                          for x, y in zip(xs, upper)]
                         + [QPointF(x, area.bottom() - y * area.height())
                            for x, y in zip(xs[::-1], below[::-1])])
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(EMOTION_COLOURS[emotion]))
        p.drawPolygon(poly)
        below = upper
    path = QPainterPath()
    seen = sb.sum(axis=1) > 0
    ys = mood.center().y() - class_mood(sb) * mood.height() / 2
    drawing = False
    for x, y, s in zip(xs, ys, seen):
        if not s:
            drawing = False
        elif drawing:
            path.lineTo(x, y)
        else:
            path.moveTo(x, y)
            drawing = True
    p.setPen(QPen(_INK, 2.5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)


def _share_words(s: StudentSummary) -> str:
    """The two largest expression shares, then no face and camera off, in words."""
    return " · ".join(s.share_words(2)) or "–"


def render_student_table(summaries: Sequence[StudentSummary], width: int = 1300) -> QImage:
    """The per-student table as an image: name, a bar of the time share of each expression
    (then "no face", grey, and "camera off", black), and the largest shares in words. The
    name column is as wide as the longest name, and the image wider than ``width`` when the
    names or the words need it: nothing is cut."""
    row_h, head_h = 38, 84
    h = head_h + row_h * len(summaries) + 16
    bar_w = 760
    probe, p, font = _canvas(8, 8, 19)
    metrics = p.fontMetrics()
    words = [_share_words(s) for s in summaries]
    need = max([metrics.horizontalAdvance(w) for w in words]
               + [metrics.horizontalAdvance("Most of the time")])
    name_w = max([230] + [metrics.horizontalAdvance(s.student) + 12 for s in summaries])
    p.end()
    bar_x = name_w + 20
    text_x = bar_x + bar_w + 20
    width = max(width, text_x + need + 20)
    image, p, font = _canvas(width, h, 19)
    p.setPen(_INK)
    bold = QFont(font)
    bold.setBold(True)
    p.setFont(bold)
    p.drawText(QRectF(10, 8, name_w, 26), Qt.AlignmentFlag.AlignVCenter, "Student")
    p.drawText(QRectF(text_x, 8, width - text_x, 26), Qt.AlignmentFlag.AlignVCenter,
               "Most of the time")
    p.setFont(font)
    x = bar_x
    legend = [(e, EMOTION_COLOURS[e]) for e in STACK_ORDER] + [
        ("no face", NO_FACE_COLOUR), ("camera off", CAMERA_OFF_COLOUR)]
    for label, colour in legend:  # legend on its own line above the bars
        p.fillRect(QRectF(x, 44, 16, 16), QColor(colour))
        p.setPen(_INK)
        p.drawText(QRectF(x + 20, 38, 120, 28), Qt.AlignmentFlag.AlignVCenter, label)
        x += 20 + p.fontMetrics().horizontalAdvance(label) + 12
    for r, s in enumerate(summaries):
        y = head_h + r * row_h
        if r % 2:
            p.fillRect(QRectF(0, y, width, row_h), QColor("#F2F2F2"))
        p.setPen(_INK)
        p.drawText(QRectF(10, y, name_w, row_h), Qt.AlignmentFlag.AlignVCenter, s.student)
        x = float(bar_x)
        parts = [(EMOTION_COLOURS[e], s.shares[EMOTIONS.index(e)]) for e in STACK_ORDER]
        parts += [(NO_FACE_COLOUR, s.no_face_share), (CAMERA_OFF_COLOUR, s.camera_off_share)]
        for colour, share in parts:
            seg = QRectF(x, y + 7, share * bar_w, row_h - 14)
            p.fillRect(seg, QColor(colour))
            if seg.width() > 44:
                p.setPen(QColor(text_colour_on(colour)))
                p.drawText(seg, Qt.AlignmentFlag.AlignCenter, f"{round(100 * share)}%")
            x += share * bar_w
        p.setPen(QPen(_GRID, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(bar_x, y + 7, bar_w, row_h - 14))
        p.setPen(_INK)
        p.drawText(QRectF(text_x, y, width - text_x - 10, row_h), Qt.AlignmentFlag.AlignVCenter,
                   words[r])
    p.end()
    return image
