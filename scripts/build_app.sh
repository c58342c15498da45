#!/usr/bin/env bash
# Build the standalone app, dist/fer-desktop/, and smoke-test it.
#
#   scripts/build_app.sh          (Linux, macOS, and Windows in Git Bash; needs uv)
#
# 1. The app's own environment in build/app-env: the project's runtime dependencies only (not
#    the dev group: no TensorFlow, pytest, scipy), plus PyInstaller to build with.
# 2. PyInstaller with build.spec: the folder dist/fer-desktop/ (on Windows with
#    fer-desktop.exe, the window, and fer-desktop-cli.exe, a console program), and on macOS
#    dist/fer-desktop.app.
# 3. Smoke test of the result: `--version`; `analyze` on a generated 9-tile gallery, whose
#    names must be read as in a source checkout; the window started offscreen and timed to its
#    first show; the folder's size (a warning above TARGET_MB, a failure above MAX_MB).
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_DIR=${ENV_DIR:-build/app-env}
TARGET_MB=${TARGET_MB:-350}  # the size aimed at
MAX_MB=${MAX_MB:-480}        # a failure: what the app does not use came in
case "$(uname -s)" in
    MINGW* | MSYS* | CYGWIN*) PY="$ENV_DIR/Scripts/python.exe"; EXE=.exe ;;
    *) PY="$ENV_DIR/bin/python"; EXE= ;;
esac

echo "== the app's environment ($ENV_DIR)"
UV_PROJECT_ENVIRONMENT="$ENV_DIR" uv sync --frozen --no-dev --no-install-project
uv pip install --python "$PY" --quiet "pyinstaller>=6.10" "pyinstaller-hooks-contrib>=2024.8"

echo "== PyInstaller"
"$PY" -m PyInstaller build.spec --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller

APP=dist/fer-desktop
CLI="$APP/fer-desktop$EXE"
[ -n "$EXE" ] && CLI="$APP/fer-desktop-cli$EXE"  # Windows: the console program
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== smoke test"
"$CLI" --version
# a generated gallery (real faces shipped by matplotlib and scikit-image)
UV_PROJECT_ENVIRONMENT="$ENV_DIR" uv run --no-sync --with matplotlib --with scikit-image \
    python -c "
import os, sys
sys.path.insert(0, os.getcwd())  # the checkout's testing/ (not in the package)
from fer_desktop.analysis.cvutil import cv2
from testing.synthetic import make_gallery, sample_faces
image, truth = make_gallery(sample_faces(), 9, (1280, 720), empty=(4,))
cv2.imwrite(sys.argv[1], image)
" "$tmp/gallery.png"
"$CLI" analyze "$tmp/gallery.png" --out "$tmp/smoke.csv" -q
"$PY" - "$tmp/smoke.csv" <<'PYTHON'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
named = [r["student"] for r in rows if not re.fullmatch(r"Student \d+", r["student"])]
print(f"{len(rows)} rows, {len(named)} names read: {', '.join(named)}")
if len(rows) != 9 or len(named) < 6:
    sys.exit("the bundle does not read the names on the tiles")
PYTHON

# the window, offscreen, with throw-away settings; timed from the start to its first show
export QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
start=$("$PY" -c "import time; print(time.time())")
out=$("$CLI" --quit-when-shown 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -q "window shown" || { echo "$out"; echo "the window did not show"; exit 1; }
"$PY" -c "import time, sys; print(f'start to window: {time.time() - float(sys.argv[1]):.2f} s')" \
    "$start"

size=$(du -sm "$APP" | cut -f1)
echo "bundle: $APP, $size MB (target: at most $TARGET_MB; refused above $MAX_MB)"
[ "$size" -le "$TARGET_MB" ] || echo "warning: the bundle is over the $TARGET_MB MB target"
[ "$size" -le "$MAX_MB" ] || { echo "the bundle is larger than $MAX_MB MB: something that \
the app does not use came in (the dev group? TensorFlow?)"; exit 1; }
echo "== ok"
