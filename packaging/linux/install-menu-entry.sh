#!/bin/sh
# Put fer-desktop in your desktop's application menu (for your user only; no administrator
# rights). Run it from the unpacked folder, where it lies beside the `fer-desktop` program:
#
#   ./install-menu-entry.sh            adds the entry (run it again after moving the folder)
#   ./install-menu-entry.sh --remove   removes it
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
entry="$apps/fer-desktop.desktop"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$entry"
    echo "removed $entry"
    exit 0
fi
[ -x "$here/fer-desktop" ] || { echo "fer-desktop is not in $here: run this script from the unpacked folder" >&2; exit 1; }
mkdir -p "$apps"
cat > "$entry" <<DESKTOP
[Desktop Entry]
Type=Application
Name=fer-desktop
Comment=Facial-expression estimates for an online class, on your own computer
Exec="$here/fer-desktop"
Icon=$here/_internal/resources/fer-desktop.png
Terminal=false
Categories=Education;
DESKTOP
chmod 0644 "$entry"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database "$apps" 2>/dev/null || true
fi
echo "added $entry: fer-desktop is in your application menu"
