"""fer-desktop beside the ``fer`` package on real meeting screenshots and room photos with
hand-made ground truth (``../shared/real_dev/``, see its README; never committed).

    uv run --group dev python benchmarks/real_bench.py --fer-python /tmp/ferbench/bin/python

Per image and in total, for each face detector (``--detectors``, YuNet and Haar by default):
tiles found (a true tile overlapped with IoU >= 0.5, and >= 0.9), faces
found (IoU >= 0.4 with a true face box), faces reported on camera-off and profile-photo tiles,
extra detections (matching no true face, outside tiles whose camera shows someone turned away
or covered), expression accuracy on the faces found whose truth has an obvious expression, and
milliseconds per frame: a cold ``Analyzer.analyze`` (nothing reused; the name labels read),
median of ``--repeats`` after a warm-up. ``fer`` (``FER(mtcnn=False).detect_emotions``: one
Haar pass over the whole frame, faces of 50 pixels and more, its Keras CNN per face) runs on the
same files in its own Python (``--fer-python``; see ``speed_bench.py`` for how to install it),
in the same run. Room faces are counted separately at least / under 24 pixels wide. The
matching rules are :mod:`testing.real_dev`'s.

Writes ``benchmarks/results/real.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

from fer_desktop.analysis.pipeline import Analyzer
from fer_desktop.capture.sources import Frame, read_image
from testing import real_dev
from fer_desktop.runtime import configure

OUT = Path(__file__).resolve().parent / "results" / "real.json"
FER_TIMING = Path(__file__).resolve().parent / "fer_timing.py"


def run_ours(images: list[real_dev.TruthImage], repeats: int, detector: str = "yunet") -> dict:
    """Cold analyses of every image with ``detector``: scores, ms per frame and the analysis'
    split."""
    analyzer = Analyzer(reuse=False, detector=detector)
    out = {}
    for k, truth in enumerate(images):
        img = read_image(truth.path)
        times = []
        for r in range(repeats + 1):
            analyzer.reset()
            analyzer.names.clear()
            t0 = time.perf_counter()
            res = analyzer.analyze(Frame(img, k, 0.0, 0.0, truth.path.name))
            if r:
                times.append(time.perf_counter() - t0)
        has = res.has_face
        score = real_dev.score(truth, res.tiles, res.faces[has],
                               [e for e, h in zip(res.emotions, has) if h])
        score["ms"] = 1000 * statistics.median(times)
        score["split_ms"] = {k: round(1000 * v, 1) for k, v in res.timings.items()
                             if k in ("gallery", "faces", "emotions", "names")}
        out[truth.path.name] = score
    return out


def run_fer(python: str, images: list[real_dev.TruthImage], repeats: int) -> dict:
    """``fer`` on the same files (its own Python): scores and ms per frame."""
    proc = subprocess.run([python, str(FER_TIMING), "--repeats", str(repeats),
                           *[str(t.path) for t in images]],
                          capture_output=True, text=True, check=True)
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {}
    for truth in images:
        r = raw[truth.path.name]
        score = real_dev.score(truth, np.zeros((0, 4)), np.array(r["boxes"]).reshape(-1, 4),
                               r["emotions"])
        score["ms"] = 1000 * r["s"]
        out[truth.path.name] = score
    return out


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f} %" if b else "-"


def _sum(scores: dict, names: list[str]) -> dict:
    return real_dev.total([{k: v for k, v in scores[n].items() if k not in ("split_ms",)}
                           for n in names])


def report(images, runs: dict, fer: dict | None) -> str:
    """Markdown tables: per image (the first detector of ``runs``, ``{detector: scores}``, and
    the faces each other one found), then the totals of each detector and of fer."""
    ours = next(iter(runs.values()))
    others = list(runs)[1:]
    lines = ["| image | tiles (IoU 0.5 / 0.9) | faces | on camera-off | extra | expression "
             "| ms | " + "".join(f"{d} faces | " for d in others)
             + "fer faces | fer on camera-off | fer extra | fer expression | fer ms |",
             "|---|---|---|---|---|---|---|" + "---|" * len(others) + "---|---|---|---|---|"]
    for t in images:
        o = ours[t.path.name]
        f = fer[t.path.name] if fer else None
        faces = (f"{o['faces_big_found']}/{o['faces_big']} (+{o['faces_small_found']}/"
                 f"{o['faces_small']} small)" if t.kind == "room"
                 else f"{o['faces_found']}/{o['faces']}")
        ffaces = ("-" if f is None else f"{f['faces_big_found']}/{f['faces_big']}"
                  if t.kind == "room" else f"{f['faces_found']}/{f['faces']}")
        fer_cols = ((f["on_camera_off"], f["extra"], f"{f['expr_right']}/{f['expr']}",
                     f"{f['ms']:.0f}") if f else ("-",) * 4)
        other_faces = "".join(
            f"{runs[d][t.path.name]['faces_big_found' if t.kind == 'room' else 'faces_found']} | "
            for d in others)
        lines.append(
            f"| {t.name} | {o['tiles_50']}/{o['tiles_90']} of {o['tiles']} | {faces} "
            f"| {o['on_camera_off']} | {o['extra']} | {o['expr_right']}/{o['expr']} "
            f"| {o['ms']:.0f} | {other_faces}{ffaces} | "
            + " | ".join(str(c) for c in fer_cols) + " |")
    lines += ["", "| set | who | tiles IoU >= 0.5 | IoU >= 0.9 | faces found | on camera-off "
              "| extra | expression right | median ms | median ratio fer / ours |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for kind in ("meeting", "room"):
        names = [t.path.name for t in images if t.kind == kind]
        if not names:
            continue
        for who, scores in [*((f"fer-desktop ({d})", r) for d, r in runs.items()), ("fer", fer)]:
            if scores is None:
                continue
            s = _sum(scores, names)
            faces = (f"{s['faces_big_found']}/{s['faces_big']} = "
                     f"{_pct(s['faces_big_found'], s['faces_big'])} (>= 24 px; under: "
                     f"{s['faces_small_found']}/{s['faces_small']})" if kind == "room"
                     else f"{s['faces_found']}/{s['faces']} = {_pct(s['faces_found'], s['faces'])}")
            ms = statistics.median(scores[n]["ms"] for n in names)
            mine = who != "fer"
            ratio = (statistics.median(fer[n]["ms"] / scores[n]["ms"] for n in names)
                     if fer and mine else None)
            tiles = (f"{s['tiles_50']}/{s['tiles']} = {_pct(s['tiles_50'], s['tiles'])}"
                     if kind == "meeting" and mine else "-")
            tiles90 = (_pct(s['tiles_90'], s['tiles']) if kind == "meeting" and mine else "-")
            ratio_text = f"{ratio:.2f}" if ratio else "-"
            lines.append(f"| {kind}s | {who} | {tiles} | {tiles90} | {faces} "
                         f"| {s['on_camera_off']} | {s['extra']} "
                         f"| {s['expr_right']}/{s['expr']} = {_pct(s['expr_right'], s['expr'])} "
                         f"| {ms:.0f} | {ratio_text} |")
    return "\n".join(lines)


def main() -> int:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(real_dev.ROOT), help="the real_dev folder")
    ap.add_argument("--fer-python", help="a Python with fer installed (omit: fer-desktop only)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="image names containing these strings")
    ap.add_argument("--detectors", nargs="+", default=["yunet", "haar"],
                    help="face detectors to run, the first in the per-image table")
    args = ap.parse_args()
    if not real_dev.available(Path(args.data)):
        print(f"no real_dev set at {args.data}")
        return 2
    images = real_dev.load(Path(args.data))
    if args.only:
        images = [t for t in images if any(o in t.name for o in args.only)]
    ours = {d: run_ours(images, args.repeats, d) for d in args.detectors}
    fer = run_fer(args.fer_python, images, args.repeats) if args.fer_python else None
    table = report(images, ours, fer)
    print(table)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "machine": f"{platform.machine()} {platform.processor()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"), "ours": ours, "fer": fer, "table": table},
        indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
