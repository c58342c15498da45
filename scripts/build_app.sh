#!/usr/bin/env bash
# Build the standalone app, package it as this system's download, and smoke-test what a user
# gets.
#
#   scripts/build_app.sh          (Linux, macOS, and Windows in Git Bash; needs uv)
#
# 1. The app's own environment in build/app-env: the project's runtime dependencies only (not
#    the dev group: no TensorFlow, pytest, scipy), plus PyInstaller to build with. On macOS
#    the wheels are those for MACOSX_DEPLOYMENT_TARGET (default 13.0), the oldest macOS the
#    .app then runs on (its Info.plist says so).
# 2. PyInstaller with build.spec: the folder dist/fer-desktop/ (on Windows with
#    fer-desktop.exe, the window, and fer-desktop-cli.exe, a console program), and on macOS
#    dist/fer-desktop.app.
# 3. scripts/package_app.sh: dist/fer-desktop-VERSION-linux-x86_64.tar.zst, -macos-arm64.dmg
#    or -windows-x64-setup.exe (Windows: when Inno Setup is installed).
# 4. scripts/smoke_app.sh on what a user runs: on Linux the download unpacked in a fresh
#    folder, on macOS the program inside fer-desktop.app, on Windows the folder (CI also
#    installs the setup and mounts the .dmg). Sizes: the folder (a warning above TARGET_MB, a
#    failure above MAX_MB) and the download (a failure above MAX_DOWNLOAD_MB); on Linux the
#    newest glibc any shipped library needs (a failure above MAX_GLIBC, when set).
set -euo pipefail
cd "$(dirname "$0")/.."
ENV_DIR=${ENV_DIR:-build/app-env}
TARGET_MB=${TARGET_MB:-350}             # the size aimed at
MAX_MB=${MAX_MB:-480}                   # a failure: what the app does not use came in
MAX_DOWNLOAD_MB=${MAX_DOWNLOAD_MB:-150} # the download, compressed
MAX_GLIBC=${MAX_GLIBC:-}                # e.g. 2.35 (Ubuntu 22.04), checked when set
platform=()
case "$(uname -s)" in
    MINGW* | MSYS* | CYGWIN*) PY="$ENV_DIR/Scripts/python.exe"; EXE=.exe ;;
    Darwin)
        PY="$ENV_DIR/bin/python"; EXE=
        export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-13.0}
        platform=(--python-platform "$(uname -m | sed 's/arm64/aarch64/')-apple-darwin") ;;
    *) PY="$ENV_DIR/bin/python"; EXE= ;;
esac
export ENV_DIR PY

echo "== the app's environment ($ENV_DIR)"
UV_PROJECT_ENVIRONMENT="$ENV_DIR" uv sync --frozen --no-dev --no-install-project "${platform[@]}"
uv pip install --python "$PY" --quiet "pyinstaller>=6.10" "pyinstaller-hooks-contrib>=2024.8"

echo "== PyInstaller"
start=$("$PY" -c "import time; print(time.time())")
"$PY" -m PyInstaller build.spec --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller
"$PY" -c "import time, sys; print(f'PyInstaller: {time.time() - float(sys.argv[1]):.0f} s')" "$start"

echo "== package"
download=$(scripts/package_app.sh | tail -1)
echo "download: $download"

APP=dist/fer-desktop
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== smoke test of what a user runs"
case "$(uname -s)" in
    Linux)
        mkdir "$tmp/unpacked"
        tar -xf "$download" -C "$tmp/unpacked"  # as a user would, zstd found by tar
        scripts/smoke_app.sh "$tmp/unpacked/fer-desktop/fer-desktop" ;;
    Darwin) scripts/smoke_app.sh "dist/fer-desktop.app/Contents/MacOS/fer-desktop" ;;
    *) scripts/smoke_app.sh "$APP/fer-desktop-cli$EXE" "$APP/fer-desktop$EXE" ;;
esac

echo "== sizes"
size=$(du -sm "$APP" | cut -f1)
echo "folder: $APP, $size MB (target: at most $TARGET_MB; refused above $MAX_MB)"
[ "$size" -le "$TARGET_MB" ] || echo "warning: the folder is over the $TARGET_MB MB target"
[ "$size" -le "$MAX_MB" ] || { echo "the folder is larger than $MAX_MB MB: something that \
the app does not use came in (the dev group? TensorFlow?)"; exit 1; }
if [ -f "$download" ]; then
    dl=$("$PY" -c "import os, sys; print(round(os.path.getsize(sys.argv[1]) / 1e6, 1))" "$download")
    echo "download: $download, $dl MB (refused above $MAX_DOWNLOAD_MB)"
    "$PY" -c "import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]))" "$dl" "$MAX_DOWNLOAD_MB" \
        || { echo "the download is larger than $MAX_DOWNLOAD_MB MB"; exit 1; }
fi
if [ "$(uname -s)" = Linux ] && command -v objdump >/dev/null; then
    glibc=$(find "$APP" -type f \( -name "*.so*" -o -perm -u+x \) -exec objdump -T {} + 2>/dev/null \
        | grep -o "GLIBC_[0-9][0-9.]*" | sed 's/GLIBC_//' | sort -uV | tail -1)
    echo "newest glibc a shipped binary needs: $glibc (this machine: $(ldd --version | head -1 | grep -o '[0-9.]*$'))"
    if [ -n "$MAX_GLIBC" ] && [ "$(printf '%s\n%s\n' "$glibc" "$MAX_GLIBC" | sort -V | tail -1)" != "$MAX_GLIBC" ]; then
        echo "the download needs glibc $glibc, newer than $MAX_GLIBC: build it on an older system"
        exit 1
    fi
fi
echo "== ok"
