"""The real meeting screenshots and room photos of ``../shared/real_dev/`` (skipped when the folder
is absent: it is never committed). Totals, as ``benchmarks/real_bench.py`` measures them.

The issue's targets are 95 % of the faces and of the tiles, no face on a camera-off or
profile-photo tile, and 95 % of the room faces 24 pixels wide or larger. The floors asserted
here are what the app reaches today (86 %, 86 %, 5 and 86 %: see the README), so that no change
makes it worse; the README says what is missing."""

from __future__ import annotations

import pytest

from fer_desktop.capture.sources import Frame, read_image
from testing import real_dev

pytestmark = pytest.mark.skipif(not real_dev.available(), reason="../shared/real_dev is absent")


@pytest.fixture(scope="module")
def scores(analyzer_factory):
    analyzer = analyzer_factory(reuse=False)
    out = []
    for k, truth in enumerate(real_dev.load()):
        analyzer.reset()
        res = analyzer.analyze(Frame(read_image(truth.path), k, 0.0, 0.0, truth.path.name))
        has = res.has_face
        out.append((truth, real_dev.score(truth, res.tiles, res.faces[has])))
    return out


def test_real_meeting_screenshots(scores):
    s = real_dev.total([s for t, s in scores if t.kind == "meeting"])
    assert s["tiles"] == 225 and s["faces"] == 190
    assert s["tiles_50"] >= 0.85 * s["tiles"]
    assert s["faces_found"] >= 0.85 * s["faces"]
    assert s["on_camera_off"] <= 5 and s["extra"] <= 15


def test_real_room_photos(scores):
    s = real_dev.total([s for t, s in scores if t.kind == "room"])
    assert s["faces_big"] == 88
    assert s["faces_big_found"] >= 0.85 * s["faces_big"]
    assert s["extra"] <= 6
