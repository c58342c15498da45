"""Per-frame analysis time of fer-desktop (each face detector, ``--detectors``) beside the ``fer``
package on the same frames, cold (a new frame) and live (a stream): galleries of 4, 9, 25 and 49 tiles on 1080p, 1440p and 4K
screens, and a 1080p room-camera frame of 30 students; and the CPU the analysis uses at 2
analyses per second. The name labels are read in every fer-desktop time.

    uv run --group dev python benchmarks/speed_bench.py --fer-python /tmp/ferbench/bin/python

``fer`` (``FER(mtcnn=False).detect_emotions``: OpenCV's Haar cascade on the whole frame and its
Keras CNN per face) runs in its own Python (``--fer-python``; install it there, never in this
project: ``uv venv /tmp/ferbench && uv pip install -p /tmp/ferbench --no-deps fer`` plus
tensorflow, opencv-python-headless, pandas, requests, pillow, tqdm, setuptools<81).

* cold: ``Analyzer.analyze(frame)`` without reuse and with nothing cached (the name labels
  read afresh), median of ``--repeats`` after a warm-up;
* live: a stream of the same gallery with sensor noise at 2 analyses per second
  (``Analyzer.analyze`` with reuse: tiles and face boxes are kept while tiles look the same,
  unchanged tiles searched again every 4-7 s, staggered; labels read again when they change),
  mean over 20 s of stream; for the room, 20 s of a class whose students move a little
  (:func:`testing.synthetic.make_room`), the search for faces spread over the frames;
* fer has no live mode: its cold time is its time on every frame.
* CPU: process CPU seconds per wall second while a 25-tile 1080p stream is analysed twice a
  second in real time for ``--cpu-s`` seconds (the analysis, not the window's painting).

Frames: synthetic Zoom galleries (testing.meetings) of real sample faces, a fifth of the
cameras off; the room from testing.synthetic. Writes ``benchmarks/results/speed.json`` and prints
a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import EmotionModel
from testing.meetings import MeetingSpec, render
from fer_desktop.analysis.pipeline import Analyzer, FrameResult
from fer_desktop.capture.sources import Frame
from testing.synthetic import make_room, room_people, sample_faces
from fer_desktop.runtime import configure

SIZES = ((1920, 1080), (2560, 1440), (3840, 2160))
TILES = (4, 9, 25, 49)


def gallery(n: int, size: tuple[int, int], faces) -> np.ndarray:
    off = tuple(range(2, n, 5))  # a fifth of the cameras off
    img, _ = render(MeetingSpec(n_tiles=n, size=size, camera_off=off,
                                scale=1.0 if size[0] < 3000 else 1.5, seed=n), faces)
    return img


def stream(img: np.ndarray, k: int, rng) -> np.ndarray:
    return np.clip(img + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)


def cold_time(analyzer: Analyzer, img: np.ndarray, repeats: int) -> tuple[dict, FrameResult]:
    """Median seconds per step of a cold analysis (nothing reused or cached, names read),
    after a warm-up; and the last result."""
    runs = []
    for r in range(repeats + 1):
        analyzer.reset()
        t0 = time.perf_counter()
        res = analyzer.analyze(Frame(img, 0, 1.7e9, 0.0, "cold"))
        timings = dict(res.timings, wall=time.perf_counter() - t0)
        if r:
            runs.append(timings)
    return ({k: statistics.median(t[k] for t in runs)
             for k in ("gallery", "faces", "emotions", "names", "wall")}, res)


def room_live_time(analyzer: Analyzer, faces, seconds: float = 20.0) -> tuple[float, float, int]:
    """Mean and max seconds per analysis of a 2-per-second stream of a 1080p room of 30
    students who move a little; and the most faces found in a frame."""
    base = room_people(30, seed=3)
    rng = np.random.default_rng(0)
    people = base.copy()
    analyzer.reset()
    times, most = [], 0
    for k in range(int(seconds * 2)):
        people[:, :2] = base[:, :2] + np.clip(people[:, :2] - base[:, :2]
                                              + rng.normal(0, 1.5, (30, 2)), -12, 12)
        img, _ = make_room(faces, people, seed=3)
        t0 = time.perf_counter()
        res = analyzer.analyze(Frame(img, k, 1.7e9 + 0.5 * k, 0.5 * k, "room"))
        times.append(time.perf_counter() - t0)
        most = max(most, int(res.has_face.sum()))
    return statistics.fmean(times[1:]), max(times[1:]), most


def live_time(analyzer: Analyzer, img: np.ndarray, seconds: float = 20.0) -> tuple[float, float]:
    """Mean and max seconds per analysis over ``seconds`` of a 2-per-second stream."""
    rng = np.random.default_rng(0)
    frames = [stream(img, k, rng) for k in range(4)]
    analyzer.reset()
    times = []
    for k in range(int(seconds * 2)):
        f = Frame(frames[k % 4], k, 1.7e9 + 0.5 * k, 0.5 * k, "bench")
        t0 = time.perf_counter()
        analyzer.analyze(f)
        times.append(time.perf_counter() - t0)
    return statistics.fmean(times[1:]), max(times[1:])


def cpu_use(analyzer: Analyzer, img: np.ndarray, seconds: float, rate: float = 2.0) -> float:
    """Process CPU seconds per wall second while analysing ``rate`` frames a second."""
    rng = np.random.default_rng(1)
    frames = [stream(img, k, rng) for k in range(4)]
    analyzer.reset()
    analyzer.analyze(Frame(frames[0], 0, 1.7e9, 0.0, "cpu"))
    c0, w0 = time.process_time(), time.perf_counter()
    k = 0
    while time.perf_counter() - w0 < seconds:
        k += 1
        t = k / rate
        analyzer.analyze(Frame(frames[k % 4], k, 1.7e9 + t, t, "cpu"))
        delay = w0 + t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    return (time.process_time() - c0) / (time.perf_counter() - w0)


def main() -> int:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fer-python", help="a Python with the fer package (skipped when absent)")
    ap.add_argument("--model", help="the .tflite model (default: the shipped one)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cpu-s", type=float, default=60.0)
    ap.add_argument("--sizes", default="1920x1080,2560x1440,3840x2160")
    ap.add_argument("--tiles", default="4,9,25,49")
    ap.add_argument("--detectors", nargs="+", default=["yunet", "haar"],
                    help="face detectors to time (fer-desktop's rows are per detector)")
    args = ap.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    tiles = [int(t) for t in args.tiles.split(",")]
    faces = sample_faces()
    model = EmotionModel(args.model, num_threads=args.threads) if args.model \
        else EmotionModel(num_threads=args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        frames = []
        for size in sizes:
            for n in tiles:
                img = gallery(n, size, faces)
                path = Path(tmp) / f"{n}-{size[0]}x{size[1]}.png"
                cv2.imwrite(str(path), img)
                frames.append((f"{size[0]}x{size[1]}", n, path, img))
        room, _ = make_room(faces, room_people(30, seed=3), seed=3)
        path = Path(tmp) / "room-30-1920x1080.png"
        cv2.imwrite(str(path), room)
        frames.append(("1920x1080", "room, 30 faces", path, room))
        files = [f[2] for f in frames]
        for detector in args.detectors:
            cold_an = Analyzer(model, reuse=False, detector=detector)
            live_an = Analyzer(model, detector=detector)
            for size, n, path, img in frames:
                med, res = cold_time(cold_an, img, args.repeats)
                row = {"detector": detector, "size": size, "tiles": n, "file": path.name,
                       "tiles_found": len(res.tiles), "faces_found": int(res.has_face.sum()),
                       **{f"{k}_ms": round(1000 * v, 1) for k, v in med.items()}}
                if isinstance(n, int):
                    live, live_max = live_time(live_an, img)
                else:
                    live, live_max, row["live_faces"] = room_live_time(live_an, faces)
                row.update(live_ms=round(1000 * live, 1), live_max_ms=round(1000 * live_max, 1))
                rows.append(row)
                print(rows[-1], flush=True)
        fer = {}
        if args.fer_python:
            out = subprocess.run([args.fer_python, str(ROOT / "benchmarks" / "fer_timing.py"),
                                  "--repeats", str(args.repeats), *map(str, files)],
                                 capture_output=True, text=True, check=True)
            fer = json.loads(out.stdout.strip().splitlines()[-1])
    for r in rows:
        f = fer.get(r["file"])
        if f:
            r["fer_ms"] = round(1000 * f["s"], 1)
            r["fer_faces"] = f["faces"]
            r["cold_speedup"] = round(r["fer_ms"] / r["wall_ms"], 1)
            r["live_speedup"] = round(r["fer_ms"] / r["live_ms"], 1)
    img25 = gallery(25, (1920, 1080), faces)
    cpu = {d: round(cpu_use(Analyzer(model, detector=d), img25, args.cpu_s), 3)
           for d in args.detectors}
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform(), "threads": args.threads},
           "model": model.path.name, "frames": rows,
           "cpu_cores_25_tiles_1080p_2_per_s": cpu}
    print("\n| detector | screen | tiles | found (tiles/faces) | gallery ms | faces ms "
          "| emotions ms | names ms | cold ms | live ms | fer ms (faces) | cold × | live × |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['detector']} | {r['size']} | {r['tiles']} | {r['tiles_found']}/{r['faces_found']} "
              f"| {r['gallery_ms']} | {r['faces_ms']} | {r['emotions_ms']} | {r['names_ms']} "
              f"| {r['wall_ms']} "
              f"| {r['live_ms']} | {r.get('fer_ms', '–')} ({r.get('fer_faces', '–')}) "
              f"| {r.get('cold_speedup', '–')} | {r.get('live_speedup', '–')} |")
    for d, c in cpu.items():
        print(f"\nCPU while analysing a 25-tile 1080p gallery twice a second ({d}): {c:.2f} cores")
    res = ROOT / "benchmarks" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "speed.json").write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
