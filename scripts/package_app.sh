#!/usr/bin/env bash
# Package the PyInstaller build in dist/ as the download for this system, in dist/:
#
#   Linux    fer-desktop-VERSION-linux-x86_64.tar.zst   (the folder, run bits and links kept)
#   macOS    fer-desktop-VERSION-macos-arm64.dmg        (fer-desktop.app, Applications, a note)
#   Windows  fer-desktop-VERSION-windows-x64-setup.exe  (Inno Setup: Start menu, uninstaller)
#
#   scripts/package_app.sh        (scripts/build_app.sh runs it; prints the file's path last)
#
# Refuses a folder with a link that points nowhere. ZSTD_LEVEL sets the Linux compression
# (default 19: 440 MB compress in about 5 minutes on 2 cores; every level unpacks as fast).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VERSION=$("$PY" -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])")
APP=dist/fer-desktop

dangling=$(find "$APP" -type l ! -exec test -e {} \; -print)
[ -z "$dangling" ] || { echo "links to nothing in $APP:"; echo "$dangling"; exit 1; }

case "$(uname -s)" in
Linux)
    out="dist/fer-desktop-$VERSION-linux-$(uname -m).tar.zst"
    cp packaging/linux/install-menu-entry.sh "$APP/"
    chmod 0755 "$APP/install-menu-entry.sh"
    # reproducible order and owners; a 128 MiB window (--long=27) is what `tar -xf` unpacks
    # without options
    tar --sort=name --owner=0 --group=0 --numeric-owner -C dist -cf - fer-desktop \
        | zstd -q -T0 "-${ZSTD_LEVEL:-19}" --long=27 -o "$out" -f
    ;;
Darwin)
    arch=$(uname -m)
    out="dist/fer-desktop-$VERSION-macos-$arch.dmg"
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    ditto dist/fer-desktop.app "$stage/fer-desktop.app"  # links, run bits, signature kept
    ln -s /Applications "$stage/Applications"
    cp "packaging/macos/Read Me First.txt" "$stage/"
    rm -f "$out"
    hdiutil create -volname "fer-desktop $VERSION" -srcfolder "$stage" -fs HFS+ \
        -format UDZO -imagekey zlib-level=9 -ov "$out" >/dev/null
    ;;
MINGW* | MSYS* | CYGWIN*)
    out="dist/fer-desktop-$VERSION-windows-x64-setup.exe"
    iscc=${ISCC:-}
    if [ -z "$iscc" ]; then
        for cand in "/c/Program Files (x86)/Inno Setup 6/ISCC.exe" \
                    "/c/Program Files/Inno Setup 7/ISCC.exe" \
                    "/c/Program Files (x86)/Inno Setup 7/ISCC.exe"; do
            [ -x "$cand" ] && { iscc=$cand; break; }
        done
    fi
    [ -z "$iscc" ] && iscc=$(command -v iscc || command -v ISCC || true)
    [ -n "$iscc" ] || { echo "Inno Setup's ISCC.exe not found (set ISCC, or: choco install innosetup)"; exit 1; }
    # the file version is four numbers: 0.3.0 -> 0.3.0.0 (a suffix such as rc1 dropped)
    numbers=$("$PY" -c "import re, sys; n = re.findall(r'\d+', sys.argv[1])[:3]; print('.'.join((n + ['0'] * 4)[:4]))" "$VERSION")
    "$iscc" //Q "//DAppVersion=$VERSION" "//DFileVersion=$numbers" packaging/fer-desktop.iss
    ;;
*)
    echo "no download format for $(uname -s)"; exit 1 ;;
esac
[ -s "$out" ] || { echo "$out was not made"; exit 1; }
echo "$out"
