"""Soak test of the window: memory and CPU over a long lesson.

    QT_QPA_PLATFORM=offscreen uv run --group dev python benchmarks/soak.py --minutes 60

The real window (offscreen) analyses a looping video of a 25-tile gallery (generated: real
faces from ``testing.synthetic``, 40 frames in which people change expression, move and leave;
the video is resumed from its start whenever it ends, as a teacher would) at the default
analysis rate, with the student list, the class chart and a student's timeline open. Every 30
s it prints the process's resident memory (RSS, MiB, from ``/proc/self/statm``: Linux) and the
CPU it used since the last line (cores). At the end it prints the growth of RSS from the 5-min
mark to the end (the target: under 5 %; see :func:`summarize`) and writes
``benchmarks/results/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mib() -> float:
    """Resident memory of this process, MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def cpu_s() -> float:
    """User + system CPU seconds of this process so far."""
    t = os.times()
    return t.user + t.system


def make_video(path: Path, frames: int = 40, fps: float = 2.0) -> Path:
    """A 1280x720 video of a 25-tile gallery whose people change from frame to frame."""
    from fer_desktop.analysis.cvutil import cv2
    from testing.synthetic import make_gallery, sample_faces

    faces = sample_faces()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (1280, 720))
    if not writer.isOpened():
        raise SystemExit("cannot write the soak video (no mp4v encoder in this OpenCV)")
    for k in range(frames):
        n = 25 if k % 10 else 24  # someone leaves for a while, every 10 frames
        image, _ = make_gallery(faces, n, (1280, 720), empty=(7, 18), seed=k)
        writer.write(image)
    writer.release()
    return path


def summarize(samples: list[dict], start: float = 5.0, window: float = 10.0) -> dict:
    """Growth of RSS after the first ``start`` minutes, robust to its swings.

    The process's RSS swings by 100-250 MiB within a minute (glibc hands freed memory back to
    the OS once a minute, ``runtime.release_memory``, and takes it again), so one sample
    against another says little. The samples from ``start`` on are cut into windows of
    ``window`` minutes; the growth is that of the last window's mean and maximum (the peak a
    laptop must hold) over the first window's (not the median: the samples fall in two groups,
    before and after the memory is handed back). Also the single-sample growth, first
    against last. Returns a dict of these (fractions) and a printable ``text``.
    """
    after = [s for s in samples if s["minutes"] >= start]
    if len(after) < 2:
        return {"text": "too short to measure growth", "growth_after_5_min": None}
    first = [s["rss_mib"] for s in after if s["minutes"] < start + window]
    last = [s["rss_mib"] for s in after if s["minutes"] > after[-1]["minutes"] - window]
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    out = {"growth_after_5_min": after[-1]["rss_mib"] / after[0]["rss_mib"] - 1,
           "mean_first_window_mib": mean(first), "mean_last_window_mib": mean(last),
           "max_first_window_mib": max(first), "max_last_window_mib": max(last),
           "mean_growth": mean(last) / mean(first) - 1, "max_growth": max(last) / max(first) - 1,
           "cpu_cores_mean": mean([s["cpu_cores"] for s in after])}
    out["text"] = (
        f"RSS, minutes {start:g}-{start + window:g} against the last {window:g}: mean "
        f"{out['mean_first_window_mib']:.0f} -> {out['mean_last_window_mib']:.0f} MiB "
        f"({100 * out['mean_growth']:+.1f} %), peak {out['max_first_window_mib']:.0f} -> "
        f"{out['max_last_window_mib']:.0f} MiB ({100 * out['max_growth']:+.1f} %); one sample "
        f"against another: {100 * out['growth_after_5_min']:+.1f} % (target: under 5 %); "
        f"CPU {out['cpu_cores_mean']:.2f} cores")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between lines")
    parser.add_argument("--rate", type=float, default=None, help="analyses/s (default: the "
                        "app's default)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soak.json")
    parser.add_argument("--summarize", type=Path, default=None, metavar="JSON",
                        help="only print the summary of an earlier run's soak.json")
    args = parser.parse_args(argv)
    if args.summarize:
        print(summarize(json.loads(args.summarize.read_text())["samples"])["text"])
        return 0

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from fer_desktop.runtime import configure

    configure()
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from pyqtgraph.util.garbage_collector import GarbageCollector

    from fer_desktop.gui.qt_main_window import QtMainWindow
    from fer_desktop.gui.qt_settings import NOTICE_VERSION
    from fer_desktop.session.updates import SessionState

    tmp = Path(tempfile.mkdtemp(prefix="fer-soak-"))
    video = make_video(tmp / "class.mp4")
    app = QApplication([])
    collector = GarbageCollector(interval=1.0)  # as run_gui does
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("privacy/notice_acknowledged", NOTICE_VERSION)
    settings.setValue("settings/export_dir", str(tmp / "sessions"))
    window = QtMainWindow(csv_path=tmp / "session.csv", settings=settings, rate=args.rate,
                          probe=lambda: [])
    window.resize(1320, 800)
    window.show()
    window.start(str(video))

    t0 = time.monotonic()
    samples: list[dict] = []
    last = {"t": t0, "cpu": cpu_s()}
    print(f"{'min':>6} {'RSS MiB':>8} {'CPU cores':>9} {'analyses':>9} {'resumes':>8}",
          flush=True)
    resumes = [0]

    def keep_going() -> None:  # the video ended: resume from its start, like a loop
        if window.state is SessionState.PAUSED:
            window.resume()
            resumes[0] += 1
        if window.selected_student is None and window.session.last is not None:
            window.show_student(0)  # a timeline open, as a teacher would

    def report() -> None:
        now, cpu = time.monotonic(), cpu_s()
        row = {"minutes": round((now - t0) / 60, 2), "rss_mib": round(rss_mib(), 1),
               "cpu_cores": round((cpu - last["cpu"]) / max(now - last["t"], 1e-9), 3),
               "analyses": len(window.record), "resumes": resumes[0]}
        last.update(t=now, cpu=cpu)
        samples.append(row)
        print(f"{row['minutes']:6.1f} {row['rss_mib']:8.1f} {row['cpu_cores']:9.3f} "
              f"{row['analyses']:9d} {row['resumes']:8d}", flush=True)
        if now - t0 >= args.minutes * 60:
            window.stop()
            window.close()
            app.quit()

    loop = QTimer()
    loop.timeout.connect(keep_going)
    loop.start(500)
    ticker = QTimer()
    ticker.timeout.connect(report)
    ticker.start(int(args.every * 1000))
    app.exec()
    del collector

    summary = summarize(samples)
    print(summary["text"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"minutes": args.minutes, "samples": samples,
                                    **{k: v for k, v in summary.items() if k != "text"}},
                                   indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
