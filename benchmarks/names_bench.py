"""OCR of the name labels over the generated meeting corpus: how many labels read right.

    uv run --group dev python benchmarks/names_bench.py [--n 240]

Reads every true tile's label of :func:`testing.meetings.corpus` with
:class:`fer_desktop.analysis.names.NameReader` (a screenshot's labels in one call, as the app reads them)
and prints the exact and the loose accuracy (names compared with
:func:`fer_desktop.analysis.roster.name_key`), per app, and the time per label.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from testing import meetings
from fer_desktop.analysis.names import NameReader
from fer_desktop.analysis.roster import name_key
from testing.synthetic import sample_faces
from fer_desktop.runtime import configure


def main() -> None:
    configure()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=240, help="corpus specs")
    args = ap.parse_args()
    t0 = time.perf_counter()
    reader = NameReader()
    reader.load()
    print(f"OCR import and load: {time.perf_counter() - t0:.2f} s")
    faces = sample_faces()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # labels, exact, loose, none
    spent = 0.0
    misses = []
    for spec in meetings.corpus(args.n):
        img, truth = meetings.render(spec, faces)
        reader.clear()
        t = time.perf_counter()
        reads = reader.read_tiles(img, truth.tiles)
        spent += time.perf_counter() - t
        for name, read in zip(truth.names, reads):
            for key in (spec.app.value, "all"):
                c = counts[key]
                c[0] += 1
                c[1] += read == name
                c[2] += read is not None and name_key(read) == name_key(name)
                c[3] += read is None
            if read is None or name_key(read) != name_key(name):
                misses.append((spec.name, name, read))
    total = counts["all"][0]
    for key, (n, exact, loose, none) in sorted(counts.items()):
        print(f"{key:6s} labels {n:5d}  exact {exact / n:6.1%}  loose {loose / n:6.1%}  "
              f"unread {none / n:6.1%}")
    print(f"{spent / total * 1000:.1f} ms per label (crop + recognition, a screenshot's labels "
          f"in one call on two threads)")
    for m in misses[:25]:
        print("miss:", *m)


if __name__ == "__main__":
    main()
