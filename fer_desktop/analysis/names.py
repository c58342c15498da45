"""Participants' names read from the name labels of gallery tiles. Qt-free.

Zoom, Meet and Teams draw each participant's name in white at the bottom left of their tile.
:func:`label_strip` cuts that strip out of a tile, :func:`text_crop` finds the white text in it,
and :class:`NameReader` reads it with a text recogniser that runs offline on the CPU and ships its
models inside its wheel (`rapidocr <https://pypi.org/project/rapidocr/>`_ on onnxruntime; only the
recognition model runs, on the text crops). The labels of a frame that need reading go to the
recogniser as one call, which runs them in batches of 16 crops of similar width on two threads,
each crop only as wide as its text (rapidocr pads every crop to 320 pixels at 48 high by default:
on 723 labels of the generated corpus, 11.1 ms a label; at its own width, 4.1 ms, and 598 read
exactly instead of 590). Readings are cached per tile and redone only when the tile moves or its
label changes.

The OCR package is imported on first use (or in a background thread, see ``background``), so the
app starts as fast as without it; when it is missing or fails, names are simply not read (one log
message) and students fall back to "Student N".
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence

import numpy as np

from fer_desktop.analysis.cvutil import cv2, thread_pool, thumbnail

log = logging.getLogger(__name__)

#: Height of the label strip as a fraction of the tile's height (at least :data:`LABEL_MIN_PX`).
LABEL_HEIGHT: float = 0.16
#: Width of the label strip as a fraction of the tile's width, from its left edge.
LABEL_WIDTH: float = 2 / 3
LABEL_MIN_PX: int = 14

#: A recogniser: a list of ``(h, w, 3) uint8`` BGR text crops -> one ``(text, score 0..1)`` each.
Recognizer = Callable[[list[np.ndarray]], list[tuple[str, float]]]
#: Crops the recogniser runs through its network at once.
BATCH = 16


def label_strip(image: np.ndarray, tile) -> np.ndarray:
    """The bottom-left strip of ``tile`` (xywh, image pixels) where apps draw the name label.

    Returns a view ``(h, w, 3) uint8``; empty when the tile lies outside ``image``.
    """
    x, y, w, h = (int(v) for v in tile)
    lh = max(LABEL_MIN_PX, int(round(h * LABEL_HEIGHT)))
    y0, y1 = max(0, y + h - lh), max(0, y + h)
    return image[y0:y1, max(0, x):max(0, x + int(w * LABEL_WIDTH))]


def text_mask(strip: np.ndarray) -> np.ndarray:
    """``(h, w) bool``: near-white, unsaturated pixels of a BGR ``strip`` next to dark ones
    (label text on its dark box or shadow, not a white wall or a light camera-off card)."""
    # per-pixel channel minimum and maximum with OpenCV (20x faster than numpy's axis=2
    # reductions on uint8; the check runs on every tile of every frame)
    b, g, r = cv2.split(np.ascontiguousarray(strip))
    lo, hi = cv2.min(cv2.min(b, g), r), cv2.max(cv2.max(b, g), r)
    white = cv2.bitwise_and(cv2.compare(lo, 180, cv2.CMP_GT),
                            cv2.compare(cv2.subtract(hi, lo), 40, cv2.CMP_LT))
    k = max(3, strip.shape[0] // 5)
    dark = cv2.dilate(cv2.compare(hi, 120, cv2.CMP_LT), np.ones((k, k), np.uint8))
    return cv2.bitwise_and(white, dark) > 0


def text_crop(strip: np.ndarray) -> np.ndarray | None:
    """The white text of a label strip, cropped with a margin: the leftmost run of text columns
    (gaps narrower than half the strip's height, such as the space between two words, belong to
    it; wider ones end the name). ``None`` when there is no text."""
    if strip.size == 0:
        return None
    mask = text_mask(strip)
    cols = np.flatnonzero(mask.sum(axis=0) > 0)
    if len(cols) == 0:
        return None
    h = strip.shape[0]
    end = cols[0]
    for c in cols[1:]:
        if c - end > max(4, 0.5 * h):
            break
        end = c
    rows = np.flatnonzero(mask[:, cols[0]:end + 1].any(axis=1))
    if end - cols[0] < 3 or rows[-1] - rows[0] < 4:  # a speck, not a word
        return None
    pad = max(2, h // 6)
    return strip[max(0, rows[0] - pad):rows[-1] + pad + 1, max(0, cols[0] - pad):end + pad + 1]


_NOT_NAME = re.compile(r"[^\w .'\-()]+")
#: Digits that make a label a participant's number (a phone call-in, a student number) when it
#: has no name: at least this many.
NUMBER_DIGITS = 7


def clean_name(text: str) -> str | None:
    """A recognised label as a name: stray symbols dropped, spaces collapsed; ``None`` when
    fewer than two letters remain, unless it holds a number of :data:`NUMBER_DIGITS` digits or
    more (a phone number that called in, a student number): that number is the name."""
    text = " ".join(_NOT_NAME.sub(" ", text).split()).strip(" .-")
    if sum(ch.isalpha() for ch in text) >= 2:
        return text
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits if len(digits) >= NUMBER_DIGITS else None


def _card_name(name: str) -> bool:
    """Whether a reading of a card's middle is a name: three letters or more, or a number (two
    letters are initials, which Meet and Teams draw there and which many students share)."""
    return sum(ch.isalpha() for ch in name) >= 3 or name.isdigit()


#: The band of a camera-off card where Zoom prints the participant's name when the card has no
#: label: from/to these fractions of the tile's height.
CARD_BAND = (0.3, 0.7)


def card_text_crop(image: np.ndarray, tile) -> np.ndarray | None:
    """The name a camera-off card prints in its middle (Zoom, when the card has no label at its
    bottom left): the widest run of white text in the tile's middle band (:data:`CARD_BAND`,
    the middle 90 % of its width), cropped with a margin, ``(h, w, 3) uint8``; ``None`` when
    there is none."""
    x, y, w, h = (int(v) for v in tile)
    y0, y1 = max(0, y + int(h * CARD_BAND[0])), max(0, y + int(h * CARD_BAND[1]))
    x0, x1 = max(0, x + w // 20), max(0, x + w - w // 20)
    band = image[y0:y1, x0:x1]
    if band.size == 0:
        return None
    mask = text_mask(band)
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    gap = max(4, rows[-1] - rows[0] + 1)  # one line of text: words a letter height apart
    runs, start = [], cols[0]
    for a, b in zip(cols[:-1], cols[1:]):
        if b - a > gap:
            runs.append((start, a))
            start = b
    runs.append((start, cols[-1]))
    c0, c1 = max(runs, key=lambda r: r[1] - r[0])
    rows = np.flatnonzero(mask[:, c0:c1 + 1].any(axis=1))
    if c1 - c0 < 3 or rows[-1] - rows[0] < 4:  # a speck, not a word
        return None
    pad = max(2, (rows[-1] - rows[0]) // 4)
    return band[max(0, rows[0] - pad):rows[-1] + pad + 1, max(0, c0 - pad):c1 + pad + 1]


def _mask_thumb(strip: np.ndarray) -> np.ndarray:
    """The label's text mask at 96x12: two names of the same length differ here (at 48x8,
    "Ada Lovelace" and "Bob Miller" differed by 0.027, under the threshold)."""
    if strip.size == 0:
        return np.zeros((12, 96), np.float32)
    return thumbnail(text_mask(strip).astype(np.float32), (96, 12))


def _tile_look(image: np.ndarray, tile) -> np.ndarray:
    """``(9, 16, 3) float32`` thumbnail of the tile's picture: another person in the tile (a new
    class in the same layout) makes its label be read again, whatever the label looks like."""
    x, y, w, h = (int(v) for v in tile)
    crop = image[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
    if crop.size == 0:
        return np.zeros((9, 16, 3), np.float32)
    return thumbnail(crop, (16, 9)).astype(np.float32)


def rapidocr_recognizer(workers: int = 2) -> Recognizer:
    """A :data:`Recognizer` on rapidocr's recognition model (no detection, no download: the
    models are inside the wheel). The crops of one call run through the network :data:`BATCH`
    at a time (rapidocr's ``TextRecognizer`` sorts them by width and pads each batch to its
    widest, not to 320 pixels), split over ``workers`` threads of one onnxruntime thread each;
    where that recogniser is not exposed, one crop at a time.

    Raises
    ------
    ImportError
        If rapidocr (or onnxruntime) is not installed.
    """
    from rapidocr import RapidOCR

    engine = RapidOCR(params={
        "Global.log_level": "error", "Global.use_det": False, "Global.use_cls": False,
        "Rec.rec_batch_num": BATCH, "Rec.rec_img_shape": [3, 48, 64],
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1})

    def one(crop: np.ndarray) -> tuple[str, float]:
        out = engine(np.ascontiguousarray(crop), use_det=False, use_cls=False, use_rec=True)
        if not out.txts:
            return "", 0.0
        return str(out.txts[0]), float(out.scores[0])

    one(np.full((32, 96, 3), 255, np.uint8))  # loads the recognition model
    rec = getattr(engine, "text_rec", None)
    if rec is None:
        return lambda crops: [one(c) for c in crops]
    from rapidocr.ch_ppocr_rec import TextRecInput

    def run(crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        out = rec(TextRecInput(img=[np.ascontiguousarray(c) for c in crops]))
        return [(str(t), float(s)) for t, s in zip(out.txts, out.scores)]

    def recognize(crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if workers < 2 or len(crops) < 4:
            return run(crops)
        # by width, dealt in turn: each thread gets crops of every width
        order = np.argsort([c.shape[1] / c.shape[0] for c in crops], kind="stable")
        parts = [[int(i) for i in order[k::workers]] for k in range(workers)]
        found = list(thread_pool(workers).map(lambda p: run([crops[i] for i in p]), parts))
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for part, res in zip(parts, found):
            for i, r in zip(part, res):
                out[i] = r
        return out

    return recognize


class NameReader:
    """Reads the name label of each tile, caching the reading per tile.

    Parameters
    ----------
    recognizer : callable, optional
        ``crops -> [(text, score), ...]`` (:data:`Recognizer`); default
        :func:`rapidocr_recognizer`, made on first use.
    background : bool
        Make the recogniser in a background thread on first use (no reading until it is ready)
        instead of in the calling thread.
    min_score : float
        Readings scoring lower are dropped (0..1).
    max_reads : int or None
        Most labels read per :meth:`read_tiles` call; the rest wait for later calls.
    change : float
        A tile's label is read again when the mean difference of its 96x12 text-mask thumbnail
        exceeds this (0..1), or when the tile's picture changes by ``look_change`` grey levels
        on average (someone else sits there).
    look_change : float
        See ``change`` (0..255).
    """

    def __init__(self, recognizer: Recognizer | None = None, background: bool = False,
                 min_score: float = 0.8, max_reads: int | None = None, change: float = 0.04,
                 look_change: float = 30.0):
        self._recognize = recognizer
        self._failed = False
        self._loading: threading.Thread | None = None
        self.background = background
        self.min_score = min_score
        self.max_reads = max_reads
        self.change = change
        self.look_change = look_change
        self._cache: dict[tuple, tuple[np.ndarray, str | None, np.ndarray]] = {}
        self.reads = 0  # labels recognised so far (tests, timings)

    @property
    def available(self) -> bool | None:
        """True once the recogniser is ready, False when it failed, None while not made yet."""
        if self._recognize is not None:
            return True
        return False if self._failed else None

    def _load(self) -> None:
        try:
            recognize = rapidocr_recognizer()
        except Exception as exc:  # missing package, broken install, no model: fall back
            log.warning("names cannot be read (%s); students are numbered instead", exc)
            self._failed = True
            return
        self._recognize = recognize

    def load(self, wait: bool = True) -> bool:
        """Make the recogniser (in a thread when ``wait`` is False); True once it is ready."""
        if self._recognize is not None or self._failed:
            return self._recognize is not None
        if self._loading is None:
            self._loading = threading.Thread(target=self._load, name="ocr-load", daemon=True)
            self._loading.start()
        if wait:
            self._loading.join()
        return self._recognize is not None

    def clear(self) -> None:
        """Forget the cached readings."""
        self._cache.clear()

    def _recognise(self, crops: list[np.ndarray]) -> list[str | None] | None:
        """Names in text crops, one recogniser call; None when the recogniser failed (it is
        then dropped, with one log message)."""
        try:
            out = self._recognize(crops)
        except Exception as exc:  # a broken recogniser must not stop the analysis
            log.warning("name reading failed (%s); students are numbered instead", exc)
            self._recognize, self._failed = None, True
            return None
        self.reads += len(crops)
        return [clean_name(text) if score >= self.min_score else None for text, score in out]

    def read(self, image: np.ndarray, tile) -> str | None:
        """The name in the label of ``tile`` (xywh) of a BGR ``image``, uncached; ``None`` when
        there is no label, it cannot be read, or no recogniser is ready."""
        if not self.load(wait=not self.background):
            return None
        crop = text_crop(label_strip(image, tile))
        if crop is None:
            return None
        names = self._recognise([crop])
        return names[0] if names else None

    def read_tiles(self, image: np.ndarray, tiles: np.ndarray | Sequence,
                   cards: Sequence[bool] | None = None) -> tuple[str | None, ...]:
        """Names of ``(n, 4)`` xywh ``tiles``, reusing the reading of a tile at the same place
        whose label looks the same; the labels to read go to the recogniser in one call, at
        most ``max_reads`` of them (the others get ``None`` and wait for a later call).
        ``cards``: ``n`` flags of the camera-off tiles, whose name is read from the middle of
        the card (:func:`card_text_crop`) when they have no label."""
        names: list[str | None] = [None] * len(tiles)
        cards = [False] * len(tiles) if cards is None else list(cards)
        fresh: dict[tuple, tuple[np.ndarray, str | None]] = {}
        ready = self.load(wait=not self.background)
        budget = self.max_reads if self.max_reads is not None else len(tiles)
        todo: list[tuple[int, tuple, np.ndarray, np.ndarray]] = []
        for i, tile in enumerate(tiles):
            key = tuple(int(v) for v in tile)
            strip = label_strip(image, tile)
            thumb = _mask_thumb(strip)
            look = _tile_look(image, tile)
            old = self._cache.get(key)
            if (old is not None and float(np.abs(thumb - old[0]).mean()) <= self.change
                    and float(np.abs(look - old[2]).mean()) <= self.look_change):
                names[i] = old[1]
                fresh[key] = old
                continue
            if not ready or budget <= 0:
                continue
            budget -= 1
            crop, card = text_crop(strip), False
            if crop is None and cards[i]:
                crop, card = card_text_crop(image, tile), True
            if crop is None:
                fresh[key] = (thumb, None, look)
                continue
            todo.append((i, key, thumb, crop, look, card))
        if todo:
            read = self._recognise([t[3] for t in todo])
            if read is not None:
                for (i, key, thumb, _, look, card), name in zip(todo, read):
                    if card and name and not _card_name(name):
                        name = None
                    names[i] = name
                    fresh[key] = (thumb, name, look)
        self._cache = fresh
        return tuple(names)
