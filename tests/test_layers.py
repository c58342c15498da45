"""The package's layers (issue 12): imports point one way, Qt only in ``gui/``, no test-data
generator in the package, ``gui/`` modules small enough to read, and no work at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fer_desktop"
#: Which layers each layer may import (besides the package's top-level modules).
ALLOWED = {
    "analysis": {"analysis"},
    "capture": {"analysis", "capture"},
    "session": {"analysis", "capture", "session"},
    "training": {"analysis", "training"},
    "gui": {"analysis", "capture", "session", "gui"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_one_way_and_qt_stays_in_the_gui(layer):
    for path in sorted((PACKAGE / layer).glob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            assert parts[0] != "testing", f"{path.name} imports the test-data generators"
            if parts[0] == "fer_desktop" and len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
                assert parts[1] in ALLOWED[layer], f"{layer}/{path.name} imports {name}"
            if layer != "gui":
                assert parts[0] not in {"PySide6", "pyqtgraph"}, f"{path.name} imports Qt"


def test_gui_holds_small_qt_modules_only():
    for path in sorted((PACKAGE / "gui").glob("*.py")):
        if path.name == "__init__.py":
            continue
        assert path.name.startswith("qt_"), path.name
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 500, f"{path.name}: {lines} lines"


def test_no_test_data_generator_in_the_package():
    assert not list(PACKAGE.rglob("synthetic.py")) and not list(PACKAGE.rglob("meetings.py"))
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'packages = ["fer_desktop"]' in pyproject


def test_importing_the_core_does_no_work():
    """Importing the core sets no OpenCV thread count and no environment variable:
    :func:`fer_desktop.runtime.configure` does, from the entry points."""
    code = (
        "import os, cv2; before = (cv2.getNumThreads(), dict(os.environ));"
        "import fer_desktop.analysis.pipeline, fer_desktop.session.live, fer_desktop.cli;"
        "assert cv2.getNumThreads() == before[0], 'cv2 threads changed';"
        "assert dict(os.environ) == before[1], 'environment changed'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
