"""A number setting's range, declared once: the settings check their values with it, the
analysis run clamps with it, and the settings' widgets take their range, step and unit from it.
Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The allowed values of a number setting.

    Attributes
    ----------
    lo, hi : float
        The smallest and largest value, inclusive.
    step : float
        The step of its widget's arrows.
    decimals : int
        Decimals its widget shows.
    unit : str
        What its widget writes after the number (``" s"``, ``" per second"``); ``"%"`` for a
        fraction (0..1) shown as a percentage.

    Raises
    ------
    ValueError
        If ``lo > hi`` or the step is not positive.
    """

    lo: float
    hi: float
    step: float
    decimals: int = 1
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.lo <= self.hi or not self.step > 0:
            raise ValueError(f"bad bounds {self.lo}..{self.hi} step {self.step}")

    def __contains__(self, value: object) -> bool:
        try:
            return self.lo <= float(value) <= self.hi  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False

    def clamp(self, value: float) -> float:
        """``value`` brought into the range."""
        return min(self.hi, max(self.lo, float(value)))

    def check(self, name: str, value: float) -> None:
        """Raise ``ValueError`` naming ``name`` when ``value`` is out of range (or NaN)."""
        if value not in self:
            raise ValueError(f"{name} must be in {self.lo:g}..{self.hi:g}, got {value}")
