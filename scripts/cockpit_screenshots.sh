#!/usr/bin/env bash
# The cockpit screenshots in docs/ (cockpit*.png), under Xvfb, as scripts/screenshot.sh does:
# the synthetic 25-tile gallery on the left of a 3200x1080 screen, fer-desktop on the right.
# Needs what scripts/screenshot.sh needs (xvfb, imagemagick, the xcb libraries).
# Usage: scripts/cockpit_screenshots.sh [SECONDS] [MODEL]   (environment: OUT=docs, DISPLAY_NUM=:98)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-45}
MODEL=${2:-}
OUT=${OUT:-docs}
DISPLAY_NUM=${DISPLAY_NUM:-:98}
if [ -z "$MODEL" ] && [ ! -f models/fer_cnn.tflite ]; then
    echo "models/fer_cnn.tflite is missing: train it first or pass a model path" >&2
    exit 1
fi
for tool in Xvfb import; do
    command -v "$tool" >/dev/null || { echo "$tool is missing (see scripts/screenshot.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() { for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

Xvfb "$DISPLAY_NUM" -screen 0 3200x1080x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1
export DISPLAY=$DISPLAY_NUM QT_QPA_PLATFORM=xcb

shot() { uv run --group dev python scripts/screenshot.py "$@"; }
shot gallery "$tmp/gallery.png"
shot show "$tmp/gallery.png" &
pids+=($!)
sleep 2
shot notice --out "$OUT"
shot cockpit --out "$OUT" --name cockpit --mode named --seconds "$SECONDS_RUN" ${MODEL:+--model "$MODEL"}
shot cockpit --out "$OUT" --name cockpit-anonymous-dark --mode anonymous --theme dark \
    --seconds "$SECONDS_RUN" ${MODEL:+--model "$MODEL"}
shot cockpit --out "$OUT" --name cockpit-aggregate --mode aggregate --seconds "$SECONDS_RUN" \
    ${MODEL:+--model "$MODEL"}
