"""The session report: a self-contained HTML page that opens in any browser. Qt-free.

:func:`render_html` lays out what :class:`ReportData` holds: the session's times and sources,
the class-mood chart and the per-student table (as images made by the GUI, referenced by file
name), the alerts, the privacy mode and a reminder of what the numbers are and are not. It
loads nothing from the network (no script, font or style sheet from elsewhere).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from fer_desktop.labels import EMOTIONS
from fer_desktop.session.summary import MIN_LISTED_S, StudentSummary, class_mood

#: What every report says about the numbers.
DISCLAIMER = (
    "These are automatic estimates of facial expressions from a video call, not measurements "
    "of feelings, attention or learning. Expression recognition is error-prone and biased by "
    "its training data; do not use it to grade or judge students. Emotion recognition in "
    "education institutions is prohibited in the EU (AI Act, Art. 5(1)(f)), except for medical "
    "or safety reasons.")


@dataclass(frozen=True)
class ReportData:
    """What a report shows.

    Attributes
    ----------
    title : str
    started, ended : float
        Unix seconds of the first and last analysed frame.
    sources : sequence of str
        Source labels analysed.
    privacy : str
        Human-readable privacy mode ("named", "anonymous", "aggregate only").
    t : np.ndarray
        ``(m,)`` Unix seconds of each analysed frame.
    shares : np.ndarray
        ``(m, 7)`` class shares per frame (fractions of the visible faces).
    alerts : sequence of (float, str)
        ``(Unix seconds, message)`` per alert.
    students : sequence of StudentSummary
        The students listed (seen for at least
        :data:`~fer_desktop.session.summary.MIN_LISTED_S`); empty in the aggregate-only mode.
    brief : int
        Faces seen more briefly, not listed (a face that passed by, a misdetection).
    chart_image, table_image : str
        File names (relative to the report) of the class-mood chart and the student table;
        ``""`` when absent.
    files : sequence of (str, str)
        ``(file name, description)`` of the session folder's other files.
    """

    title: str
    started: float
    ended: float
    sources: Sequence[str]
    privacy: str
    t: np.ndarray
    shares: np.ndarray
    alerts: Sequence[tuple[float, str]] = ()
    students: Sequence[StudentSummary] = ()
    brief: int = 0
    chart_image: str = ""
    table_image: str = ""
    files: Sequence[tuple[str, str]] = field(default_factory=tuple)

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended - self.started)

    def overall_shares(self) -> np.ndarray:
        """``(7,)`` mean class share over the frames with faces (zeros when none)."""
        shares = np.asarray(self.shares, np.float64)
        seen = shares.sum(axis=1) > 0 if len(shares) else np.zeros(0, bool)
        return shares[seen].mean(axis=0) if seen.any() else np.zeros(len(EMOTIONS))


def clock(ts: float) -> str:
    """Unix seconds as local ``HH:MM:SS``."""
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def duration_text(seconds: float) -> str:
    """``"1 h 05 min"``, ``"12 min 30 s"``, ``"40 s"``."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {s:02d} s" if m else f"{s} s"


def render_html(data: ReportData) -> str:
    """The report page. Every text from the session (names, sources, messages) is escaped."""
    e = html.escape
    day = datetime.fromtimestamp(data.started).strftime("%A %d %B %Y")
    overall = data.overall_shares()
    mood = float(class_mood(overall)) if overall.any() else 0.0
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(data.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(data.title)}</h1>",
        f'<p class="meta">{e(day)}, {clock(data.started)}–{clock(data.ended)} '
        f"({duration_text(data.duration_s)}) · {len(data.t)} analyses · "
        f"source: {e(', '.join(data.sources) or '–')} · privacy mode: {e(data.privacy)}</p>",
        f'<p class="note">{e(DISCLAIMER)}</p>',
        "<h2>Class mood</h2>",
        f"<p>Over the session, the visible faces looked {_shares_sentence(overall)}. "
        f"Class mood index (share of positive minus negative expressions): "
        f"<b>{round(100 * mood):+d}</b> on a scale from −100 to +100.</p>",
    ]
    if data.chart_image:
        parts.append(f'<img class="chart" src="{e(data.chart_image)}" alt="The class mood over '
                     f'the session: the share of each expression as a stacked area, and the '
                     f'class mood index as a line.">')
    parts.append("<h2>Alerts</h2>")
    if data.alerts:
        parts.append("<ul>")
        parts += [f"<li><b>{clock(t)}</b> {e(msg)}</li>" for t, msg in data.alerts]
        parts.append("</ul>")
    else:
        parts.append("<p>No alert.</p>")
    if data.students:
        parts.append("<h2>Students</h2>")
        parts.append("<p>Share of the time each student's face showed each expression, the "
                     "time their tile showed no face with the camera on, and the time their "
                     "camera was off.</p>")
        if data.table_image:
            parts.append(f'<img class="table" src="{e(data.table_image)}" alt="Per-student '
                         f'time shares of each expression.">')
    if data.brief and data.students:
        parts.append(f"<p class=\"meta\">{data.brief} more face{'s' if data.brief > 1 else ''} "
                     f"seen for less than {MIN_LISTED_S:.0f} s (someone passing by, or a "
                     f"misdetection) {'are' if data.brief > 1 else 'is'} not listed here; "
                     f"students.csv has them.</p>")
    elif data.privacy.startswith("aggregate"):
        parts.append("<p><i>Aggregate-only mode: nothing was recorded per student.</i></p>")
    if data.files:
        parts.append("<h2>Files</h2><ul>")
        parts += [f'<li><a href="{e(name)}">{e(name)}</a> — {e(desc)}</li>'
                  for name, desc in data.files]
        parts.append("</ul>")
    parts.append('<p class="meta">Made by fer-desktop on this computer; nothing was sent '
                 'anywhere.</p></body></html>')
    return "\n".join(parts) + "\n"


def _shares_sentence(overall: np.ndarray) -> str:
    if not overall.any():
        return "– (no face was seen)"
    order = np.argsort(overall)[::-1]
    top = [f"{EMOTIONS[i]} {round(100 * float(overall[i]))}%" for i in order[:3]
           if overall[i] >= 0.005]
    return ", ".join(top) + " of the time" if top else "–"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #1a1a1a; background: #fff; line-height: 1.45; }
h1 { margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
.note { background: #fff6d5; border-left: 4px solid #E69F00; padding: .6em .9em; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
@media (prefers-color-scheme: dark) {
  body { color: #eee; background: #1e1f22; } .meta { color: #aaa; }
  .note { background: #3a3320; } a { color: #8cc8ff; } }
"""
