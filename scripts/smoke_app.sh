#!/usr/bin/env bash
# Smoke-test a built fer-desktop as a user gets it: the unpacked Linux download, the program
# inside fer-desktop.app (from the .dmg), or the installed Windows program.
#
#   scripts/smoke_app.sh CLI [GUI]
#
# CLI: the program that prints (Linux and macOS: `fer-desktop`; Windows: `fer-desktop-cli.exe`).
# GUI: the program a user starts from the menu, when it is another one (Windows:
#      `fer-desktop.exe`, which has no console: only its exit status is checked).
# Checks: `--version` names pyproject's version; `analyze` on a generated 9-tile gallery uses
# YuNet, finds faces and reads the names on the tiles as a source checkout does; the window
# starts (offscreen unless QT_QPA_PLATFORM says otherwise), timed to its first show. Prints a
# line per check. Needs uv and the checkout (the gallery is drawn with the faces that ship
# with matplotlib and scikit-image); ENV_DIR is the environment to draw it with.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=$1
GUI=${2:-}
ENV_DIR=${ENV_DIR:-build/app-env}
case "$(uname -s)" in
    MINGW* | MSYS* | CYGWIN*) PY="$ENV_DIR/Scripts/python.exe" ;;
    *) PY="$ENV_DIR/bin/python" ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { "$PY" -c "import time; print(time.time())"; }
since() { "$PY" -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$1"; }

version=$("$PY" -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")
got=$("$CLI" --version | tr -d '\r')
echo "version: $got"
[ "$got" = "fer-desktop $version" ] || { echo "expected fer-desktop $version"; exit 1; }

# a generated gallery (real faces shipped by matplotlib and scikit-image), 4 cameras off
UV_PROJECT_ENVIRONMENT="$ENV_DIR" uv run --no-sync --with matplotlib --with scikit-image \
    python -c "
import os, sys
sys.path.insert(0, os.getcwd())  # the checkout's testing/ (not in the package)
from fer_desktop.analysis.cvutil import cv2
from testing.synthetic import make_gallery, sample_faces
image, truth = make_gallery(sample_faces(), 9, (1280, 720), empty=(4,))
cv2.imwrite(sys.argv[1], image)
" "$tmp/gallery.png"
start=$(now)
"$CLI" analyze "$tmp/gallery.png" --out "$tmp/smoke.csv" -q 2> "$tmp/analyze.log" \
    || { cat "$tmp/analyze.log"; exit 1; }
echo "analyze: $(since "$start") s from start to exit (models loaded, one frame)"
tr -d '\r' < "$tmp/analyze.log"
grep -q "faces: yunet" "$tmp/analyze.log" \
    || { echo "the bundle does not detect faces with YuNet (its weights are missing?)"; exit 1; }
"$PY" - "$tmp/smoke.csv" <<'PYTHON'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
named = [r["student"] for r in rows if not re.fullmatch(r"Student \d+", r["student"])]
faces = [r for r in rows if r["state"] == "face"]
print(f"{len(rows)} rows, {len(faces)} faces, {len(named)} names read: {', '.join(named)}")
if len(rows) != 9 or len(named) < 6:
    sys.exit("the bundle does not read the names on the tiles")
if len(faces) < 6:
    sys.exit("the bundle finds too few faces")
PYTHON

# the window, with throw-away settings; timed from the start to its first show
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
start=$(now)
out=$("$CLI" --quit-when-shown 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -q "window shown" || { echo "$out"; echo "the window did not show"; exit 1; }
echo "start to window: $(since "$start") s"
if [ -n "$GUI" ]; then
    start=$(now)
    "$GUI" --quit-when-shown || { echo "$GUI --quit-when-shown failed"; exit 1; }
    echo "$(basename "$GUI"): start to window and exit: $(since "$start") s"
fi
echo "== smoke test passed: $CLI"
