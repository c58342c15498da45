"""Do students stay themselves? Lessons made from the real meeting screenshots of
``../shared/real_dev`` (:mod:`testing.lessons`): each class is shown, then leaves (a slide for
2-60 s) and comes back rescaled and moved, reflowed, through another source, and after another
class; the analysis runs as in the window (one session's students, names read or not).

For every person of a class (a tile of the screenshot's truth whose camera is on; with names
also the camera-off tiles that print a name) it counts the student ids the person was given
(one is right), the ids given to two people (wrong carries, including anyone of the other class;
the rows of a face followed but missed, which keep their student for a few seconds where the face
was last seen, are given to nobody and not counted), and the names read right at the end.

    uv run --group dev python benchmarks/identity_bench.py [--absences 2 10 60] [--detector yunet]

Writes ``benchmarks/results/identity.json`` and prints a table. Skipped without real_dev.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "identity.json"


def classes(images) -> list:
    """The screenshots that make a class: a gallery of 3 tiles or more with people in them."""
    out = []
    for t in images:
        on = [s in ("face", "partial") for s in t.tile_states]
        if t.kind == "meeting" and len(t.tiles) >= 3 and sum(on) >= 2:
            out.append(t)
    return out


def persons_of(truth, names: bool) -> list[str | None]:
    """Person keys of a class's tiles (None: not counted)."""
    out = []
    for i, (state, name) in enumerate(zip(truth.tile_states, truth.tile_names)):
        counted = state in ("face", "partial") or (names and state in ("off", "photo") and name)
        out.append(f"{truth.name}#{i}" if counted else None)
    return out


def run_lesson(analyzer_factory, truth, other, absence_s: float, names: bool, seed: int) -> dict:
    """One lesson: who got which ids, wrong carries, names read."""
    from fer_desktop.analysis.boxes import iou
    from fer_desktop.analysis.frame import Frame
    from fer_desktop.analysis.roster import Roster, name_key
    from fer_desktop.capture.sources import read_image
    from testing.lessons import lesson

    image, other_img = read_image(truth.path), read_image(other.path)
    persons = persons_of(truth, names)
    roster = Roster()
    analyzer = analyzer_factory(roster)
    ids_of: dict[str, set] = defaultdict(set)
    owners: dict[int, set] = defaultdict(set)
    seen_scenes: dict[str, set] = defaultdict(set)
    last_names: dict[str, str] = {}
    t0 = time.perf_counter()
    n = 0
    for k, f in enumerate(lesson(image, truth.tiles, persons, other_img, absence_s, seed=seed)):
        res = analyzer.analyze(Frame(f.image, k, 1.7e9 + f.t, f.t, f.source))
        n += 1
        keys = list(f.people)
        known = np.array([f.people[p] for p in keys]).reshape(-1, 4)
        for r, sid in enumerate(res.student_ids):
            if res.tile_index[r] < 0 and res.faces[r][0] < 0:
                continue  # a face followed but missed here: its student kept, given to nobody
            if f.scene == "other class":
                owners[sid].add(f"other#{sid}")
                continue
            box = res.boxes[r]  # a tile's participant: their tile; anyone else: their face
            if not len(known):
                continue
            m = iou(box[None], known)[0]
            j = int(np.argmax(m))
            if m[j] < 0.5:
                continue
            p = keys[j]
            ids_of[p].add(sid)
            owners[sid].add(p)
            seen_scenes[p].add(f.scene)
            if res.students[r]:
                last_names[p] = res.students[r]
    people = [p for p in persons if p is not None and len(seen_scenes[p]) >= 2]
    kept = [p for p in people if len(ids_of[p]) == 1]
    wrong = [sid for sid, who in owners.items() if len(who) >= 2]
    named = [(p, truth.tile_names[int(p.split("#")[1])]) for p in people
             if truth.tile_names[int(p.split("#")[1])]]
    read = [p for p, name in named
            if name_key(last_names.get(p, "")) == name_key(name)] if names else []
    return {"class": truth.name, "other": other.name, "absence_s": absence_s, "names": names,
            "people": len(people), "kept": len(kept), "wrong_carries": len(wrong),
            "split": {p: sorted(ids_of[p]) for p in people if len(ids_of[p]) != 1},
            "carried": {int(sid): sorted(owners[sid]) for sid in wrong},
            "named": len(named), "names_read": len(read),
            "ms_per_frame": round(1000 * (time.perf_counter() - t0) / max(1, n), 1)}


def main(argv: list[str] | None = None) -> int:
    from fer_desktop.runtime import configure
    from testing import real_dev

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--absences", type=float, nargs="+", default=[2.0, 10.0, 60.0])
    ap.add_argument("--detector", default="yunet")
    ap.add_argument("--only", nargs="*", help="class screenshots whose names contain these")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    configure()
    if not real_dev.available():
        print(f"no real_dev set at {real_dev.ROOT}")
        return 2
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.analysis.names import NameReader
    from fer_desktop.analysis.pipeline import Analyzer

    model = EmotionModel()
    reader = NameReader()
    cls = classes(real_dev.load(kind="meeting"))
    if args.only:
        cls = [t for t in cls if any(o in t.name for o in args.only)]
    results = []
    for names in (True, False):
        def factory(roster, names=names):
            reader.clear()
            return Analyzer(model, detector=args.detector, roster=roster,
                            names=reader if names else None)

        for k, truth in enumerate(cls):
            other = cls[(k + len(cls) // 2) % len(cls)]
            absence = args.absences[k % len(args.absences)]
            r = run_lesson(factory, truth, other, absence, names, seed=k)
            results.append(r)
            print(json.dumps({x: r[x] for x in r if x not in ("split", "carried")}), flush=True)
    lines = ["| names | lessons | people | keep one id | wrong carries | names read | ms/frame |",
             "|---|---|---|---|---|---|---|"]
    for names in (True, False):
        rs = [r for r in results if r["names"] is names]
        people = sum(r["people"] for r in rs)
        kept = sum(r["kept"] for r in rs)
        named = sum(r["named"] for r in rs)
        lines.append(f"| {'read' if names else 'not read'} | {len(rs)} | {people} "
                     f"| {kept}/{people} = {100 * kept / max(1, people):.1f} % "
                     f"| {sum(r['wrong_carries'] for r in rs)} "
                     f"| {sum(r['names_read'] for r in rs)}/{named if names else 0} "
                     f"| {statistics.median(r['ms_per_frame'] for r in rs):.0f} |")
    table = "\n".join(lines)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "detector": args.detector,
                                    "lessons": results, "table": table}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
