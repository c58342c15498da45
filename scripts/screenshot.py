"""Make docs/screenshot.png: fer-desktop watching a synthetic 25-student gallery.

Run by ``scripts/screenshot.sh`` inside an Xvfb screen of 3200x1080: the gallery is shown full
size at x = 0..1919 by a frameless viewer (``show``), and fer-desktop, placed at x = 1920..3199,
analyses the screen region ``region:0,0,1920,1080`` (``app``); after ``--seconds`` the whole
screen is captured with ImageMagick's ``import -window root`` and the window is cropped from it.

Sub-commands: ``gallery PNG`` (write the synthetic gallery), ``show PNG`` (the viewer),
``app --out DIR [--seconds S] [--model PATH]``, and for ``scripts/cockpit_screenshots.sh``:
``cockpit --out DIR --name NAME [--mode named|anonymous|aggregate] [--theme light|dark]
[--seconds S] [--model PATH]`` (the cockpit after S seconds: names typed, a student's
timeline open, alerts; also the session folder's chart and table images) and
``notice --out DIR`` (the first-run notice); ``room --out DIR`` (the window on a room camera)
and ``gallery49 --out DIR`` (a 49-tile gallery in a 1320x800 window), grabbed by Qt, no X
screen needed. They use a throw-away settings file, never the user's.
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
    from fer_desktop.analysis.cvutil import cv2
    from testing.synthetic import make_gallery, sample_faces

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
    from PySide6.QtCore import QTimer

    from fer_desktop.analysis.cvutil import cv2
    from fer_desktop.analysis.emotions import DEFAULT_MODEL
    from fer_desktop.gui.qt_main_window import QtMainWindow
    from fer_desktop.gui.qt_settings import NOTICE_VERSION

    model_path = Path(model) if model else DEFAULT_MODEL
    out.mkdir(parents=True, exist_ok=True)
    app, settings, tmp = _app("light")  # throw-away settings, never the user's
    settings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
    window = QtMainWindow(model_path=model_path, csv_path=tmp / "screenshot-session.csv",
                          settings=settings)
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


def _grab_window(widget, path: Path) -> None:
    """Crop ``widget``'s frame from a capture of the whole X screen (window decorations and
    all, as a teacher sees it)."""
    from fer_desktop.analysis.cvutil import cv2

    full = path.with_name(path.stem + "-full.png")
    subprocess.run(["import", "-window", "root", str(full)], check=True)
    image = cv2.imread(str(full))
    g = widget.frameGeometry()
    cv2.imwrite(str(path), image[g.top():g.bottom() + 1, g.left():g.right() + 1])
    full.unlink()
    print(f"wrote {path}")


def _dark_palette():
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    role = QPalette.ColorRole
    for r, c in ((role.Window, "#2B2D30"), (role.WindowText, "#E8E8E8"), (role.Base, "#1E1F22"),
                 (role.AlternateBase, "#26282B"), (role.Text, "#E8E8E8"),
                 (role.Button, "#3A3C40"), (role.ButtonText, "#E8E8E8"),
                 (role.Highlight, "#2F65CA"), (role.HighlightedText, "#FFFFFF"),
                 (role.ToolTipBase, "#3A3C40"), (role.ToolTipText, "#E8E8E8"),
                 (role.PlaceholderText, "#9A9A9A"), (role.Link, "#8CC8FF")):
        pal.setColor(r, QColor(c))
    return pal


def _app(theme: str):
    import tempfile

    import pyqtgraph as pg
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    app.setApplicationName("fer-desktop")
    app.setOrganizationName("fer-desktop-screenshots")
    app.setStyle("Fusion")
    if theme == "dark":  # what a desktop in dark mode hands Qt (Xvfb has no platform theme)
        app.setPalette(_dark_palette())
    pg.setConfigOptions(antialias=True)
    tmp = Path(tempfile.mkdtemp(prefix="fer-shots-"))
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("settings/export_dir", str(tmp / "sessions"))
    return app, settings, tmp


def run_cockpit(out: Path, name: str, mode: str, theme: str, seconds: float,
                model: str | None) -> int:
    """The cockpit on the gallery region after ``seconds``: every student named (named mode),
    the timeline of the student in tile 2, alerts when a face is missing for 15 s."""
    import shutil

    from PySide6.QtCore import QTimer

    from fer_desktop.analysis.emotions import DEFAULT_MODEL
    from fer_desktop.session.alerts import AlertRules
    from fer_desktop.gui.qt_main_window import QtMainWindow
    from fer_desktop.gui.qt_settings import NOTICE_VERSION, QtSettingsStore
    from fer_desktop.session.privacy import PrivacyMode
    from fer_desktop.session.settings import AppSettings
    from testing.synthetic import NAMES

    out.mkdir(parents=True, exist_ok=True)
    app, settings, tmp = _app(theme)
    settings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
    store = QtSettingsStore(settings)
    store.save(AppSettings(chart_window_min=1, privacy=PrivacyMode(mode),
                           export_dir=str(tmp / "sessions"),
                           alerts=AlertRules(face_missing_min=0.25, negative_for_s=10)))
    window = QtMainWindow(model_path=Path(model) if model else DEFAULT_MODEL,
                          csv_path=tmp / "session.csv", settings=settings)
    window.setGeometry(GALLERY_W, 0, SCREEN_W - GALLERY_W, SCREEN_H - 40)
    window.show()
    window.start(f"region:0,0,{GALLERY_W},{SCREEN_H}")

    def name_students() -> None:
        if mode == "named":
            last = window.session.last
            for row, sid in enumerate(last.result.student_ids if last else ()):
                window.students.name_edited.emit(sid, NAMES[row % len(NAMES)])
        if mode != "aggregate":
            window.show_student(2)

    def capture() -> None:
        _grab_window(window, out / f"{name}.png")
        saved = window.stop()
        if saved is not None and mode == "named":
            for image in ("class_mood.png", "students.png"):
                if (saved.folder / image).exists():
                    shutil.copy(saved.folder / image, out / f"{name}-report-{image}")
        window.close()
        shutil.rmtree(tmp, ignore_errors=True)

    QTimer.singleShot(int(seconds * 500), name_students)
    QTimer.singleShot(int(seconds * 1000), capture)
    return app.exec()


def run_notice(out: Path, theme: str) -> int:
    """The first-run notice over the (empty) window."""
    import shutil

    from PySide6.QtCore import QTimer

    from fer_desktop.gui.qt_main_window import QtMainWindow

    out.mkdir(parents=True, exist_ok=True)
    app, settings, tmp = _app(theme)
    window = QtMainWindow(csv_path=tmp / "session.csv", settings=settings)
    window.setGeometry(GALLERY_W, 0, SCREEN_W - GALLERY_W, 800)
    window.show()

    def capture() -> None:
        notice = window._notice
        notice.move(window.geometry().center() - notice.rect().center())
        app.processEvents()
        _grab_window(window, out / "cockpit-notice.png")
        window.close()
        shutil.rmtree(tmp, ignore_errors=True)

    QTimer.singleShot(2500, capture)
    return app.exec()


def run_offscreen(out: Path, name: str, frame, seconds: float, model: str | None,
                  names: bool = False) -> int:
    """``out/name``: the window (1320x800) on ``frame`` (a BGR image shown as a file source)
    after ``seconds``; grabbed by Qt (no X screen needed, works offscreen). With ``names``,
    the teacher has typed every student's name."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    from fer_desktop.analysis.cvutil import cv2
    from fer_desktop.gui.qt_main_window import QtMainWindow
    from fer_desktop.gui.qt_settings import NOTICE_VERSION
    from testing.synthetic import NAMES

    out.mkdir(parents=True, exist_ok=True)
    app, settings, tmp = _app("light")
    settings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
    source = tmp / "source.png"
    cv2.imwrite(str(source), frame)
    window = QtMainWindow(model_path=model, csv_path=tmp / "session.csv", settings=settings,
                          probe=lambda: [])
    window.resize(1320, 800)
    window.show()
    window.start(str(source))

    def name_students() -> None:
        last = window.session.last
        for row, sid in enumerate(last.result.student_ids if last and names else ()):
            window.session.rename(sid, NAMES[row % len(NAMES)])

    def capture() -> None:
        name_students()
        app.processEvents()
        window.grab().save(str(out / name))
        print(f"wrote {out / name}")
        window.close()

    QTimer.singleShot(int(seconds * 1000), capture)
    return app.exec()


def run_room(out: Path, seconds: float, model: str | None) -> int:
    """docs/room-camera.png: a generated 1080p room-camera frame of 30 students."""
    from testing.synthetic import make_room, room_people, sample_faces

    frame, _ = make_room(sample_faces(), room_people(30, seed=3), seed=3)
    return run_offscreen(out, "room-camera.png", frame, seconds, model)


def run_gallery49(out: Path, seconds: float, model: str | None) -> int:
    """docs/gallery-49.png: a 49-tile 1080p gallery with three cameras off, in a 1320x800
    window (the badges turn compact)."""
    from testing.synthetic import make_gallery, sample_faces

    frame, _ = make_gallery(sample_faces(), 49, (1920, 1080), empty=(3, 24, 40), seed=2)
    return run_offscreen(out, "gallery-49.png", frame, seconds, model)


def main(argv: list[str] | None = None) -> int:
    from fer_desktop.runtime import configure

    configure()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("gallery").add_argument("png", type=Path)
    sub.add_parser("show").add_argument("png", type=Path)
    p = sub.add_parser("app")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--seconds", type=float, default=40.0)
    p.add_argument("--model", default=None, help="default: the shipped model")
    p = sub.add_parser("cockpit")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--name", default="cockpit")
    p.add_argument("--mode", choices=("named", "anonymous", "aggregate"), default="named")
    p.add_argument("--theme", choices=("light", "dark"), default="light")
    p.add_argument("--seconds", type=float, default=45.0)
    p.add_argument("--model", default=None, help="default: the shipped model")
    p = sub.add_parser("gallery49")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--model")
    p = sub.add_parser("room")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--seconds", type=float, default=12.0)
    p.add_argument("--model", default=None, help="default: the shipped model")
    p = sub.add_parser("notice")
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args(argv)
    if args.cmd == "cockpit":
        return run_cockpit(args.out, args.name, args.mode, args.theme, args.seconds, args.model)
    if args.cmd == "notice":
        return run_notice(args.out, args.theme)
    if args.cmd == "room":
        return run_room(args.out, args.seconds, args.model)
    if args.cmd == "gallery49":
        return run_gallery49(args.out, args.seconds, args.model)
    if args.cmd == "gallery":
        write_gallery(args.png)
        return 0
    if args.cmd == "show":
        return show(args.png)
    return run_app(args.out, args.seconds, args.model)


if __name__ == "__main__":
    sys.exit(main())
