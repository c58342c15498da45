"""FER-2013 faces sent through a video call for real: each face becomes a participant's webcam
video, encoded with H.264 (libx264, through PyAV) at a thumbnail's resolution and bit rate,
decoded, scaled into a tile of a 49-tile 1080p gallery and cut out by a face box that moves as
Haar's boxes do, then framed by the app's own :func:`~fer_desktop.analysis.faces.crop_faces`.

For ``benchmarks/webcam_bench.py``: how much accuracy the call costs, and whether
:func:`fer_desktop.training.webcam.degrade` (the cheap imitation used in training) costs as much.
Dev only: PyAV is in the ``dev`` group, not the app.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.faces import crop_faces
from fer_desktop.labels import FACE_SIZE

#: A tile of a 7x7 gallery on a 1920x1080 screen (Zoom draws 274x154 video tiles), pixels.
TILE = (274, 154)

#: Thumbnail streams a call sends for a large gallery: (width, height, bit rate in bit/s) at
#: 15 frames per second. Zoom sends 180p to galleries of up to 25 and 90p beyond, at roughly
#: these rates.
STREAMS = {"180p": (320, 180, 150_000), "90p": (160, 90, 60_000)}


def _stream_frame(face: np.ndarray, size: tuple[int, int], face_share: float,
                  dx: int, noise: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """One webcam frame ``(h, w) uint8``: ``face`` scaled to ``face_share`` of the height on a
    blurred enlargement of itself (a room behind the student), moved ``dx`` pixels, plus
    camera noise. Returns the frame and the face's square (x, y, side) in its pixels."""
    w, h = size
    side = face_share * h
    frame = cv2.GaussianBlur(cv2.resize(face, (w, h), interpolation=cv2.INTER_LINEAR), (0, 0), 6)
    s = int(round(side))
    x0, y0 = (w - s) // 2 + dx, int(round(0.18 * h))
    frame[y0:y0 + s, x0:x0 + s] = cv2.resize(face, (s, s), interpolation=cv2.INTER_LINEAR)
    frame = np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return frame, (float(x0), float(y0), float(s))


def through_call(faces: np.ndarray, stream: str = "180p", hold: int = 6, seed: int = 0,
                 face_share: float = 0.4, box_scale: float = 0.1,
                 box_shift: float = 0.05) -> np.ndarray:
    """``faces`` as the app would crop them from a gallery after a video call.

    Each face is held for ``hold`` frames of one H.264 stream (it moves a pixel from frame to
    frame and the camera adds noise of standard deviation 2 grey levels, so the encoder spends
    its bits as it does on a webcam); the last frame is decoded, scaled to a 1080p tile
    (:data:`TILE`, area averaging as a meeting client scales thumbnails) and the face is cut
    with a box whose side varies by ``box_scale`` and whose centre by ``box_shift`` of the side
    (uniform), as Haar's boxes do.

    Parameters
    ----------
    faces : np.ndarray
        ``(N, 48, 48) uint8`` grey faces.
    stream : str
        A key of :data:`STREAMS`.

    Returns
    -------
    np.ndarray
        ``(N, 48, 48) uint8``.

    Raises
    ------
    KeyError
        For an unknown ``stream``.
    ImportError
        Without PyAV (``uv sync --group dev``).
    """
    import av

    w, h, rate = STREAMS[stream]
    rng = np.random.default_rng(seed)
    out = np.empty((len(faces), FACE_SIZE, FACE_SIZE), np.uint8)
    enc = av.CodecContext.create("libx264", "w")  # encoded and decoded in memory
    enc.width, enc.height, enc.pix_fmt = w, h, "yuv420p"
    enc.time_base = Fraction(1, 15)
    enc.framerate = Fraction(15, 1)
    enc.bit_rate = rate
    enc.options = {"preset": "veryfast", "tune": "zerolatency"}
    dec = av.CodecContext.create("h264", "r")
    boxes: list[tuple[float, float, float]] = []
    wanted: dict[int, int] = {}
    decoded: dict[int, np.ndarray] = {}
    pts = 0

    def decode(packets):
        for packet in packets:
            for frame in dec.decode(packet):
                k = frame.pts if frame.pts is not None else len(decoded)
                if k in wanted:
                    decoded[wanted[k]] = frame.to_ndarray(format="gray")

    for i, face in enumerate(np.asarray(faces, np.uint8)):
        for j in range(hold):
            noise = rng.normal(0.0, 2.0, (h, w)).astype(np.float32)
            img, box = _stream_frame(face, (w, h), face_share, j % 2, noise)
            frame = av.VideoFrame.from_ndarray(img, format="gray").reformat(format="yuv420p")
            frame.pts = pts
            if j == hold - 1:
                wanted[pts] = i
                boxes.append(box)
            pts += 1
            decode(enc.encode(frame))
    decode(enc.encode(None))
    decode([None])  # flush the decoder
    sx, sy = TILE[0] / w, TILE[1] / h
    for i in range(len(faces)):
        tile = cv2.resize(decoded[i], TILE, interpolation=cv2.INTER_AREA)
        x, y, s = boxes[i]
        side = s * sx * (1.0 + rng.uniform(-box_scale, box_scale))
        cx = (x + s / 2) * sx + rng.uniform(-box_shift, box_shift) * side
        cy = (y + s / 2) * sy + rng.uniform(-box_shift, box_shift) * side
        box = np.array([[cx - side / 2, cy - side / 2, side, side]])
        out[i] = crop_faces(tile, np.round(box).astype(np.int32))[0]
    return out
