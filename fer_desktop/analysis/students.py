"""Students and their temporally smoothed expression probabilities.

One student per tile. A student is keyed by a persistent student id (see :mod:`fer_desktop.analysis.roster`,
which follows people when tiles reflow) and, until a name is read from their label, named
"Student N" (N = id + 1; on the first frame ids follow the tiles row-major). Probabilities are
smoothed per student with an exponential moving average whose time constant is given in seconds,
so badges do not flicker at any analysis rate.
"""

from __future__ import annotations

import math

import numpy as np

from fer_desktop.labels import NUM_CLASSES


def student_name(student: int) -> str:
    """Default display name of student id ``student`` (0-based): "Student N", N = id + 1."""
    return f"Student {student + 1}"


class ProbabilitySmoother:
    """Exponential moving average of ``(7,)`` probability vectors per student.

    With analyses ``dt`` seconds apart the update weight is ``1 - exp(-dt / tau)``, which makes
    the smoothing independent of the analysis rate. A student whose face has been missing for more
    than ``forget_s`` seconds starts afresh when it reappears.

    Parameters
    ----------
    tau_s : float
        Time constant in seconds; 0 disables smoothing.
    forget_s : float
        Seconds without a face after which a student's state is dropped.
    """

    def __init__(self, tau_s: float = 1.5, forget_s: float = 5.0):
        self.tau_s = float(tau_s)
        self.forget_s = float(forget_s)
        self._state: dict[int, tuple[np.ndarray, float]] = {}

    def reset(self) -> None:
        """Forget every student (a new source or session)."""
        self._state.clear()

    def update(self, keys: list[int], probs: np.ndarray, t: float) -> np.ndarray:
        """Smooth one frame.

        Parameters
        ----------
        keys : list of int
            Student key per row of ``probs``.
        probs : np.ndarray
            ``(n, 7) float32`` probabilities; rows of NaN where the tile has no face.
        t : float
            Time of the frame, seconds (any monotonic clock).

        Returns
        -------
        np.ndarray
            ``(n, 7) float32`` smoothed probabilities, NaN rows where ``probs`` has NaN rows.
        """
        out = np.full((len(keys), NUM_CLASSES), np.nan, np.float32)
        for i, key in enumerate(keys):
            p = probs[i]
            if np.isnan(p).any():
                continue
            prev = self._state.get(key)
            if prev is None or self.tau_s <= 0 or t - prev[1] > self.forget_s or t < prev[1]:
                s = p.astype(np.float32)
            else:
                a = 1.0 - math.exp(-(t - prev[1]) / self.tau_s)
                s = (1.0 - a) * prev[0] + a * p
                s = (s / s.sum()).astype(np.float32)
            self._state[key] = (s, t)
            out[i] = s
        return out
