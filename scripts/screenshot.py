"""Make docs/screenshot.png: fer-desktop watching a synthetic 25-student gallery.

Run by ``scripts/screenshot.sh`` inside an Xvfb screen of 3200x1080: the gallery is shown full
size at x = 0..1919 by a frameless viewer (``show``), and fer-desktop, placed at x = 1920..3199,
analyses the screen region ``region:0,0,1920,1080`` (``app``); after ``--seconds`` the whole
screen is captured with ImageMagick's ``import -window root`` and the window is cropped from it.

Sub-commands: ``gallery PNG`` (write the synthetic gallery), ``show PNG`` (the viewer),
``app --out DIR [--seconds S] [--model PATH]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREEN_W, SCREEN_H = 3200, 1080
GALLERY_W = 1920
WINDOW_H = 800  # a typical window, not the whole screen height


def write_gallery(path: Path) -> None:
    from fer_desktop.cvutil import cv2
    from fer_desktop.synthetic import make_gallery, sample_faces

    image, _ = make_gallery(sample_faces(), 25, (GALLERY_W, SCREEN_H), empty=(7, 18), seed=11)
    cv2.imwrite(str(path), image)


def show(path: Path) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication([])
    label = QLabel()
    label.setWindowFlags(Qt.WindowType.FramelessWindowHint)
    label.setPixmap(QPixmap(str(path)))
    label.setGeometry(0, 0, GALLERY_W, SCREEN_H)
    label.show()
    return app.exec()


def run_app(out: Path, seconds: float, model: str | None) -> int:
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from fer_desktop.cvutil import cv2
    from fer_desktop.emotions import DEFAULT_MODEL
    from fer_desktop.gui.qt_main_window import QtMainWindow

    model_path = Path(model) if model else DEFAULT_MODEL
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    app.setApplicationName("fer-desktop")
    app.setOrganizationName("fer-desktop")
    pg.setConfigOptions(antialias=True)
    window = QtMainWindow(model_path=model_path, csv_path=out / "screenshot-session.csv")
    window.setGeometry(GALLERY_W, 0, SCREEN_W - GALLERY_W, WINDOW_H)
    window.show()
    window.start(f"region:0,0,{GALLERY_W},{SCREEN_H}")

    def capture() -> None:
        full = out / "screenshot-full.png"
        subprocess.run(["import", "-window", "root", str(full)], check=True)
        image = cv2.imread(str(full))
        g = window.frameGeometry()
        crop = image[g.top():g.bottom() + 1, g.left():g.right() + 1]
        cv2.imwrite(str(out / "screenshot.png"), crop)
        print(f"wrote {out / 'screenshot.png'} ({crop.shape[1]}x{crop.shape[0]}) and {full}")
        window.close()

    QTimer.singleShot(int(seconds * 1000), capture)
    return app.exec()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("gallery").add_argument("png", type=Path)
    sub.add_parser("show").add_argument("png", type=Path)
    p = sub.add_parser("app")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--seconds", type=float, default=40.0)
    p.add_argument("--model", default=None, help="default: the shipped model")
    args = parser.parse_args(argv)
    if args.cmd == "gallery":
        write_gallery(args.png)
        return 0
    if args.cmd == "show":
        return show(args.png)
    return run_app(args.out, args.seconds, args.model)


if __name__ == "__main__":
    sys.exit(main())
