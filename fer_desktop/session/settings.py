"""The teacher's settings, as a frozen dataclass with defaults and bounds. Qt-free.

Each number's bounds are declared once, here (:data:`RATE`, :data:`SMOOTHING_S`,
:data:`UNCERTAIN_BELOW`) or beside :class:`~fer_desktop.session.alerts.AlertRules`: the settings
check their values with them, the analysis run clamps the rate with :data:`RATE`, and the
settings dialog and the toolbar take their ranges from them.

:mod:`fer_desktop.gui.qt_settings` stores them in ``QSettings``; :meth:`AppSettings.from_mapping`
turns whatever was stored (strings from an INI file, values of an older version, garbage) into
valid settings, falling back to the default of each field it cannot read.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from fer_desktop.analysis.faces import DETECTORS
from fer_desktop.session.alerts import AlertRules
from fer_desktop.session.bounds import Bounds
from fer_desktop.session.privacy import PrivacyMode

#: What the settings call each face detector (:data:`fer_desktop.analysis.faces.DETECTORS`).
DETECTOR_LABELS: dict[str, str] = {"yunet": "YuNet (neural network, default)",
                                   "haar": "Haar cascade (classic)"}

#: Windows of the class-mood chart, minutes.
CHART_WINDOWS_MIN: tuple[int, ...] = (1, 5, 15)

#: Analyses per second.
RATE = Bounds(0.5, 10.0, 0.5, 1, " per second")
#: Time constant of the per-student smoothing, seconds (0: none).
SMOOTHING_S = Bounds(0.0, 10.0, 0.5, 1, " s")
#: Results less probable than this (a fraction, shown as a percentage) are uncertain.
UNCERTAIN_BELOW = Bounds(0.0, 1.0, 0.01, 0, "%")


@dataclass(frozen=True)
class AppSettings:
    """Settings that persist between runs.

    Attributes
    ----------
    rate : float
        Analyses per second, in :data:`RATE`.
    smoothing_s : float
        Time constant of the per-student smoothing, seconds, in :data:`SMOOTHING_S` (0: none).
    uncertain_below : float
        Results whose top probability is below this (:data:`UNCERTAIN_BELOW`, 0..1) are shown
        as uncertain.
    chart_window_min : int
        Minutes shown by the class-mood chart, one of :data:`CHART_WINDOWS_MIN`.
    alerts : AlertRules
        Alert thresholds.
    export_dir : str
        Folder under which each session's folder is saved ("" = the default under the user's
        documents).
    privacy : PrivacyMode
    detector : str
        The face detector, one of :data:`fer_desktop.analysis.faces.DETECTORS`: ``"yunet"``
        (OpenCV's DNN detector, the default) or ``"haar"`` (the Haar cascade).
    """

    rate: float = 2.0
    smoothing_s: float = 1.5
    uncertain_below: float = 0.4
    chart_window_min: int = 5
    alerts: AlertRules = AlertRules()
    export_dir: str = ""
    privacy: PrivacyMode = PrivacyMode.NAMED
    detector: str = DETECTORS[0]

    def __post_init__(self) -> None:
        RATE.check("rate (analyses per second)", self.rate)
        SMOOTHING_S.check("smoothing_s", self.smoothing_s)
        UNCERTAIN_BELOW.check("uncertain_below", self.uncertain_below)
        if self.chart_window_min not in CHART_WINDOWS_MIN:
            raise ValueError(f"chart window must be one of {CHART_WINDOWS_MIN} min")
        if self.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}, not "
                             f"{self.detector!r}")

    def to_mapping(self) -> dict[str, object]:
        """Flat ``{key: value}`` of plain values (``alerts/...`` keys for the alert rules)."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, AlertRules):
                for g in dataclasses.fields(value):
                    out[f"alerts/{g.name}"] = getattr(value, g.name)
            elif isinstance(value, enum.Enum):
                out[f.name] = value.value
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> "AppSettings":
        """Settings from a flat mapping as :meth:`to_mapping` makes; missing or invalid
        values fall back to their default, one by one."""
        default = cls()
        kw: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if f.name == "alerts":
                continue
            if f.name in values:
                kw[f.name] = _coerce(values[f.name], getattr(default, f.name))
        rules = {}
        for g in dataclasses.fields(AlertRules):
            key = f"alerts/{g.name}"
            if key in values:
                rules[g.name] = _coerce(values[key], getattr(default.alerts, g.name))
        try:
            kw["alerts"] = AlertRules(**rules)
        except (TypeError, ValueError):
            kw["alerts"] = default.alerts
        result = default
        for key, value in kw.items():  # one field at a time: a bad value drops only itself
            if value is None:
                continue
            try:
                result = dataclasses.replace(result, **{key: value})
            except (TypeError, ValueError):
                pass
        return result


def _coerce(value: object, like: object) -> object | None:
    """``value`` (maybe a string from an INI file) as the type of ``like``; ``None`` if not
    possible."""
    try:
        if isinstance(like, bool):
            if isinstance(value, str):
                return {"true": True, "false": False, "1": True, "0": False}.get(value.lower())
            return bool(value)
        if isinstance(like, int):
            return int(float(value))  # type: ignore[arg-type]
        if isinstance(like, float):
            return float(value)  # type: ignore[arg-type]
        if isinstance(like, enum.Enum):
            return type(like)(value)
        if isinstance(like, str):
            return str(value)
    except (TypeError, ValueError):
        return None
    return None
