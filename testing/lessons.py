"""Lessons made from real meeting screenshots, to measure whether students stay themselves
(``benchmarks/identity_bench.py``, ``tests/test_identity.py``). Nothing here is shipped.

A lesson is a sequence of frames at 2 analyses per second from one screenshot of
``../shared/real_dev`` (the *class*): the gallery as it was, then scenes where the same people
leave and come back changed, each after an absence (a slide shown instead, 2-60 s):

* ``rescaled``: the meeting window made smaller or larger and moved on the screen;
* ``reflow``: the gallery's tiles in another order (someone joined or left, another page);
* ``switch``: the same gallery through another source (the analysis starts afresh there);
* ``other class``: another screenshot (other people) for a while, then the class again.

Each frame comes with the truth of where every person of the class is: the tile box of each
person (tile index of the screenshot's truth) in that frame's pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from fer_desktop.analysis.cvutil import cv2

FPS = 2.0


@dataclass(frozen=True)
class LessonFrame:
    """One frame of a lesson.

    Attributes
    ----------
    image : np.ndarray
        ``(H, W, 3) uint8`` BGR.
    t : float
        Seconds since the lesson began.
    source : str
        The source it comes from (a switch changes it).
    people : dict
        ``{person: (4,) xywh box}`` of the class's people visible in this frame; a person is
        ``"<screenshot stem>#<tile index>"``.
    scene : str
        What the frame shows (``"class"``, ``"slide"``, ``"rescaled"``, ``"reflow"``,
        ``"switch"``, ``"other class"``, ``"back"``: the class after the other class).
    """

    image: np.ndarray
    t: float
    source: str
    people: dict
    scene: str


def slide(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A shared slide: a white page with a title and lines of dark text, ``(h, w, 3) uint8``."""
    w, h = size
    img = np.full((h, w, 3), 250, np.uint8)
    rng = np.random.default_rng(seed)
    cv2.putText(img, "Chapter 3: Photosynthesis", (int(0.08 * w), int(0.15 * h)),
                cv2.FONT_HERSHEY_SIMPLEX, w / 900, (40, 40, 40), max(1, w // 500), cv2.LINE_AA)
    y = 0.28 * h
    while y < 0.9 * h:
        n = int(rng.integers(20, 60))
        cv2.putText(img, "".join(rng.choice(list("abcdefghij klmnop qrstuv"), n)),
                    (int(0.1 * w), int(y)), cv2.FONT_HERSHEY_SIMPLEX, w / 1800, (60, 60, 60),
                    max(1, w // 900), cv2.LINE_AA)
        y += 0.06 * h
    return img


def rescaled(image: np.ndarray, tiles: np.ndarray, scale: float, offset: tuple[float, float]
             ) -> tuple[np.ndarray, np.ndarray]:
    """The screenshot drawn at ``scale`` on a dark desktop of the same size, its top-left corner
    at ``offset`` (fractions of the free room); returns the frame and the moved tiles."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.full_like(image, 32)
    sh, sw = small.shape[:2]
    x0 = int(offset[0] * max(0, w - sw))
    y0 = int(offset[1] * max(0, h - sh))
    cw, ch = min(sw, w - x0), min(sh, h - y0)
    out[y0:y0 + ch, x0:x0 + cw] = small[:ch, :cw]
    moved = np.round(tiles * scale + [x0, y0, 0, 0]).astype(np.int64)
    return out, moved


def reflowed(image: np.ndarray, tiles: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The tiles' contents shuffled among the places of tiles of the same size; returns the frame
    and where each tile went (its new box)."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    moved = tiles.copy()
    sizes: dict[tuple, list[int]] = {}
    for i, (_, _, w, h) in enumerate(tiles):
        sizes.setdefault((int(round(w / 8)), int(round(h / 8))), []).append(i)
    for group in sizes.values():
        if len(group) < 2:
            continue
        order = list(rng.permutation(group))
        if order == group:  # a real reflow moves someone
            order = group[1:] + group[:1]
        for src, dst in zip(group, order):
            sx, sy, sw, sh = tiles[src]
            dx, dy, dw, dh = tiles[dst]
            patch = image[sy:sy + sh, sx:sx + sw]
            out[dy:dy + dh, dx:dx + dw] = cv2.resize(patch, (int(dw), int(dh)),
                                                     interpolation=cv2.INTER_AREA)
            moved[src] = tiles[dst]
    return out, moved


def noisy(image: np.ndarray, rng) -> np.ndarray:
    """The frame with a little sensor/compression noise (no two frames are equal)."""
    return np.clip(image + rng.normal(0, 1.5, image.shape), 0, 255).astype(np.uint8)


def lesson(image: np.ndarray, tiles: np.ndarray, persons: list[str | None], other: np.ndarray,
           absence_s: float = 10.0, scene_s: float = 4.0, seed: int = 0,
           scenes: tuple[str, ...] = ("rescaled", "reflow", "switch", "other class"),
           ) -> Iterator[LessonFrame]:
    """The frames of one lesson of a class (see the module's docstring).

    Parameters
    ----------
    image : np.ndarray
        The class's screenshot, BGR.
    tiles : np.ndarray
        ``(t, 4)`` its true tiles.
    persons : list of str or None
        ``t`` person keys (None: a tile that is nobody's, not followed).
    other : np.ndarray
        Another class's screenshot (other people), BGR.
    absence_s, scene_s : float
        Seconds of each absence (a slide) and of each scene.
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    page = slide((w, h), seed)
    t = 0.0
    source = "screen:1"

    def people(boxes):
        return {p: b for p, b in zip(persons, boxes) if p is not None}

    def show(img, boxes, scene, seconds):
        nonlocal t
        for _ in range(int(round(seconds * FPS))):
            yield LessonFrame(noisy(img, rng), t, source, people(boxes) if boxes is not None
                              else {}, scene)
            t += 1.0 / FPS

    def away():
        yield from show(page, None, "slide", absence_s)

    yield from show(image, tiles, "class", scene_s)
    for k, scene in enumerate(scenes):
        yield from away()
        if scene == "rescaled":
            img, boxes = rescaled(image, tiles, 0.7 + 0.25 * (k % 2), (0.3, 0.6))
        elif scene == "reflow":
            img, boxes = reflowed(image, tiles, seed + k)
        elif scene == "switch":
            source = "file:recording.mp4" if source == "screen:1" else "screen:1"
            img, boxes = image, tiles
        elif scene == "other class":
            o = cv2.resize(other, (w, h), interpolation=cv2.INTER_AREA)
            yield from show(o, None, "other class", scene_s)
            yield from away()
            img, boxes, scene = image, tiles, "back"
        else:
            raise ValueError(f"unknown scene {scene!r}")
        yield from show(img, boxes, scene, scene_s)
