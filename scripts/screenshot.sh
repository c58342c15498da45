#!/usr/bin/env bash
# Reproduce docs/screenshot.png (see scripts/screenshot.py).
# Needs: xvfb, imagemagick (import), the xcb libraries Qt uses
#   apt-get install -y xvfb imagemagick libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
#     libxcb-render-util0 libxkbcommon-x11-0 libxcb-xinerama0 libxcb-cursor0
# Usage: scripts/screenshot.sh [SECONDS] [MODEL]   (environment: OUT=docs, DISPLAY_NUM=:99)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-40}
MODEL=${2:-}
OUT=${OUT:-docs}
DISPLAY_NUM=${DISPLAY_NUM:-:99}
if [ -z "$MODEL" ] && [ ! -f models/fer_cnn.tflite ]; then
    echo "models/fer_cnn.tflite is missing: train it first or pass a model path" >&2
    exit 1
fi
for tool in Xvfb import; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (see the apt-get line above)" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

Xvfb "$DISPLAY_NUM" -screen 0 3200x1080x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1
export DISPLAY=$DISPLAY_NUM QT_QPA_PLATFORM=xcb

uv run --group dev python scripts/screenshot.py gallery "$tmp/gallery.png"
uv run --group dev python scripts/screenshot.py show "$tmp/gallery.png" &
pids+=($!)
sleep 2
uv run --group dev python scripts/screenshot.py app --out "$OUT" --seconds "$SECONDS_RUN" ${MODEL:+--model "$MODEL"}

