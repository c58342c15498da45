"""One place decides (issue 20, item 5): every setting's bounds are declared once and read by
the settings, the analysis run and the widgets; ``RunParams`` lives with the runner; the rate
(and the smoothing, and names in the CSV) travel window -> session -> run one way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fer_desktop.gui.qt_dialogs import QtSettingsDialog
from fer_desktop.gui.qt_main_window import QtMainWindow
from fer_desktop.gui.qt_worker import QtAnalysisWorker
from fer_desktop.session import alerts as alert_rules
from fer_desktop.session import live, runner
from fer_desktop.session.bounds import Bounds
from fer_desktop.session.privacy import PrivacyMode
from fer_desktop.session.settings import RATE, SMOOTHING_S, UNCERTAIN_BELOW, AppSettings


@pytest.fixture
def make_window(qtbot, model_path, tmp_path, app_settings):
    made = []

    def make(**kw) -> QtMainWindow:
        kw.setdefault("csv_path", tmp_path / f"session{len(made)}.csv")
        kw.setdefault("probe", lambda: [])
        win = QtMainWindow(model_path=model_path, settings=app_settings, **kw)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()


def test_bounds_check_and_clamp():
    b = Bounds(0.5, 10.0, 0.5)
    assert 0.5 in b and 10.0 in b and 10.01 not in b and float("nan") not in b and "x" not in b
    assert b.clamp(30) == 10.0 and b.clamp(-1) == 0.5
    with pytest.raises(ValueError, match="rate must be in 0.5..10"):
        b.check("rate", 11)
    with pytest.raises(ValueError):
        Bounds(2, 1, 0.5)


def test_each_bound_is_declared_once_and_read_by_the_widgets(qtbot, make_window):
    assert RATE.lo == 0.5 and RATE.hi == 10.0 and RATE.clamp(30) == 10.0
    with pytest.raises(ValueError, match="rate"):
        AppSettings(rate=RATE.hi + 0.5)
    AppSettings(rate=RATE.hi, smoothing_s=SMOOTHING_S.hi, uncertain_below=UNCERTAIN_BELOW.hi)
    dialog = QtSettingsDialog(AppSettings(), "")
    qtbot.addWidget(dialog)
    for spin, bounds in ((dialog.rate, RATE), (dialog.smoothing, SMOOTHING_S),
                         (dialog.uncertain, UNCERTAIN_BELOW),
                         (dialog.negative_share, alert_rules.NEGATIVE_SHARE),
                         (dialog.negative_for, alert_rules.NEGATIVE_FOR_S),
                         (dialog.missing_for, alert_rules.FACE_MISSING_MIN)):
        k = 100 if bounds.unit == "%" else 1
        assert (spin.minimum(), spin.maximum()) == (bounds.lo * k, bounds.hi * k), bounds
        assert spin.singleStep() == pytest.approx(bounds.step * k)
    dialog.uncertain.setValue(55)
    assert dialog.settings().uncertain_below == pytest.approx(0.55)
    win = make_window()
    assert (win.controls.rate.minimum(), win.controls.rate.maximum()) == (RATE.lo, RATE.hi)
    # RunParams lives with the runner; the session makes it
    assert live.RunParams is runner.RunParams and runner.RunParams.__module__.endswith("runner")
    assert "MIN_RATE" not in Path(runner.__file__).read_text(encoding="utf-8")
    gui = Path(QtSettingsDialog.__module__.replace(".", "/") + ".py").parent
    for path in sorted((Path(runner.__file__).parents[2] / gui).glob("qt_*.py")):
        text = path.read_text(encoding="utf-8")  # no widget range written as numbers
        assert not re.search(r"setRange\(\s*[\d.]+", text), path.name
        assert not re.search(r"min\(10\.0, max\(0\.5", text), path.name


def test_the_rate_travels_window_to_session_to_run_one_way(qtbot, make_window):
    win = make_window()
    params = win.session.start("class.png")
    assert not hasattr(QtAnalysisWorker, "set_rate")  # no relay through the worker
    win.controls.rate.setValue(4.0)  # the toolbar
    assert win.settings.rate == 4.0 and params.rate == 4.0  # what the run reads next
    win.set_privacy(PrivacyMode.ANONYMOUS)
    assert params.csv_names is False
    win.controls.rate.setValue(99)  # the widget holds the bound
    assert params.rate == RATE.hi
    win.session.stop()
