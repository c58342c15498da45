"""Classify face crops into the seven FER-2013 expressions with the shipped LiteRT model.

The model (trained by :mod:`fer_desktop.training.train`) takes ``(N, 48, 48, 1) float32`` grey levels in
0..255 and returns ``(N, 7)`` logits in :data:`fer_desktop.labels.EMOTIONS` order; this module
turns them into softmax probabilities, divided first by the temperature fitted on the validation
split when the model's metrics file gives one (Guo et al., "On Calibration of Modern Neural
Networks", ICML 2017).
"""

from __future__ import annotations

import json
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_desktop.labels import EMOTIONS, FACE_SIZE, NUM_CLASSES

#: Folder of the shipped model files: ``models/`` next to the package in a source checkout, or
#: bundled inside the package by PyInstaller.
def _default_model_dir() -> Path:
    package = Path(__file__).resolve().parents[1]
    for cand in (package.parent / "models", package / "models"):
        if cand.is_dir():
            return cand
    return package.parent / "models"


def _litert_installed() -> bool:
    """Whether LiteRT can be imported (it has no wheel for Intel Macs)."""
    import importlib.util

    return importlib.util.find_spec("ai_edge_litert") is not None


DEFAULT_MODEL = _default_model_dir() / "fer_cnn.tflite"
#: The same model as ONNX (``scripts/export_onnx.py``), run on onnxruntime where LiteRT is missing.
DEFAULT_ONNX_MODEL = _default_model_dir() / "fer_cnn.onnx"


def default_model() -> Path:
    """The shipped model this machine can run: the LiteRT file, else its ONNX copy."""
    return DEFAULT_MODEL if _litert_installed() else DEFAULT_ONNX_MODEL


class _OnnxInterpreter:
    """The part of LiteRT's ``Interpreter`` that :class:`EmotionModel` uses, on onnxruntime, for
    ``.onnx`` models (input ``(N, 48, 48, 1) float32``, output ``(N, 7)`` logits)."""

    def __init__(self, model_path: str, num_threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(model_path, opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's InvalidProtobuf, Fail, ...: a damaged file
            raise ValueError(str(exc)) from None
        inp, out = self._session.get_inputs()[0], self._session.get_outputs()[0]
        self._names = inp.name, out.name
        dims = lambda shape: [d if isinstance(d, int) else 1 for d in shape]  # noqa: E731
        self._in_shape, self._out_shape = dims(inp.shape), dims(out.shape)
        self._x = self._y = None

    def allocate_tensors(self) -> None:
        pass

    def get_input_details(self) -> list[dict]:
        return [{"index": 0, "shape": np.array(self._in_shape)}]

    def get_output_details(self) -> list[dict]:
        return [{"index": 0, "shape": np.array(self._out_shape)}]

    def resize_tensor_input(self, index: int, shape) -> None:
        self._in_shape = list(shape)

    def set_tensor(self, index: int, value: np.ndarray) -> None:
        self._x = value

    def invoke(self) -> None:
        self._y = self._session.run([self._names[1]], {self._names[0]: self._x})[0]

    def get_tensor(self, index: int) -> np.ndarray:
        return self._y


def _interpreter(path: Path, num_threads: int):
    """A LiteRT interpreter for a ``.tflite`` file, its onnxruntime stand-in for ``.onnx``."""
    if path.suffix.lower() == ".onnx":
        return _OnnxInterpreter(str(path), num_threads)
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path), num_threads=num_threads)


def model_checksum_path(path: str | os.PathLike) -> Path:
    """Where a model's SHA-256 is recorded: ``<model>.sha256`` beside it."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_model_checksum(path: str | os.PathLike) -> Path:
    """Record the SHA-256 of a model file beside it, in ``sha256sum``'s format (the export
    does it; :func:`verify_model` checks it at every load)."""
    path = Path(path)
    out = model_checksum_path(path)
    out.write_text(f"{_sha256(path)}  {path.name}\n", encoding="utf-8")
    return out


def verify_model(path: str | os.PathLike, required: bool = False) -> bool:
    """Check a model file against the SHA-256 recorded beside it; True when checked.

    Raises
    ------
    ModelError
        If the file differs from what was recorded (damaged on disk or in a download), or no
        checksum is recorded while ``required`` (the shipped model always has one).
    """
    path = Path(path)
    record = model_checksum_path(path)
    if not record.is_file():
        if required:
            raise ModelError(f"The emotion model's checksum ({record.name}) is missing: the "
                             "installation is incomplete. Reinstall fer-desktop.")
        return False
    try:
        expected = record.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, IndexError, UnicodeDecodeError):
        raise ModelError(f"Cannot read {record.name}. Reinstall fer-desktop.") from None
    if _sha256(path) != expected:
        raise ModelError(f"The emotion model {path.name} is damaged: its content differs from "
                         "the one recorded when it was made (SHA-256). Reinstall fer-desktop.")
    return True


class ModelError(RuntimeError):
    """The model file is missing, corrupt or of the wrong shape; ``str()`` is user-facing."""


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``(n, k)`` logits divided by ``temperature``; returns float32."""
    z = np.asarray(logits, np.float64) / float(temperature)
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class CropSpec:
    """How a model's face crops are cut (:func:`fer_desktop.analysis.faces.face_crops`).

    Attributes
    ----------
    aligned : bool
        Eye-aligned to FER-2013's landmark positions where the detector gives landmarks (else
        the box).
    zoom : float
        Scale of the aligned face (1: FER-2013's framing; larger shows the face larger).
    margin : float
        Growth of a square box crop, as a fraction of its side.
    """

    aligned: bool = False
    zoom: float = 1.0
    margin: float = 0.0

    @classmethod
    def from_metrics(cls, value) -> "CropSpec":
        """From a metrics file's ``"crop"`` entry (``{"aligned": .., "zoom": .., "margin": ..}``);
        the default for anything else."""
        if not isinstance(value, dict):
            return cls()
        try:
            spec = cls(bool(value.get("aligned", False)), float(value.get("zoom", 1.0)),
                       float(value.get("margin", 0.0)))
        except (TypeError, ValueError):
            return cls()
        ok = 0.5 <= spec.zoom <= 2.0 and -0.3 <= spec.margin <= 1.0
        return spec if ok else cls()


class EmotionModel:
    """LiteRT interpreter of the expression CNN, run on all faces of a frame as one batch.

    Parameters
    ----------
    path : str or Path, optional
        ``.tflite`` file; default the shipped ``models/fer_cnn.tflite``. A ``<stem>.metrics.json``
        beside it may give ``"temperature"``.
    num_threads : int
        CPU threads LiteRT may use.
    temperature : float, optional
        Softmax temperature; default the metrics file's ``"temperature"``, else 1.
    flip_tta : bool, optional
        Test-time augmentation: average the logits of each face and its mirror image; default
        the metrics file's ``"flip_tta"``, else False. Same as ``flip_share=1``.
    flip_share : float, optional
        Selective flip test-time augmentation: after the batch has run, the ``ceil(flip_share *
        n)`` faces with the lowest top softmax probability are run again mirrored (a second
        batch) and their logits averaged with the first. 0: none, 1: every face (``flip_tta``).
        Most of flip TTA's gain is on the uncertain faces, at a fraction of its cost. Default
        the metrics file's ``"flip_share"``, else 1 or 0 from ``flip_tta``.

    Attributes
    ----------
    crop : CropSpec
        How faces must be cut for this model (the metrics file's ``"crop"``; by default the
        face box made square, no margin).

    Raises
    ------
    ModelError
        If the file is missing, differs from the SHA-256 recorded beside it
        (:func:`verify_model`; the shipped model must have one), is not a LiteRT model, or its
        input is not ``(N, 48, 48, 1)``.
    """

    def __init__(self, path: str | os.PathLike | None = None, num_threads: int = 2,
                 temperature: float | None = None, flip_tta: bool | None = None,
                 flip_share: float | None = None):
        self.path = Path(path) if path else default_model()
        if not self.path.is_file():
            raise ModelError(f"Emotion model not found: {self.path}. Reinstall fer-desktop or "
                             "train one with `fer-desktop train`.")
        verify_model(self.path, required=path is None)
        try:
            self._it = _interpreter(self.path, num_threads)
            self._it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"The emotion model {self.path.name} is damaged or not a LiteRT "
                             f"or ONNX model ({exc}). Reinstall fer-desktop.") from None
        inp = self._it.get_input_details()[0]
        out = self._it.get_output_details()[0]
        if tuple(inp["shape"][1:]) != (FACE_SIZE, FACE_SIZE, 1) or out["shape"][-1] != NUM_CLASSES:
            raise ModelError(f"The emotion model {self.path.name} has input {inp['shape']} and "
                             f"output {out['shape']}; expected (N,48,48,1) and (N,7).")
        self._in, self._out = inp["index"], out["index"]
        self._batch = int(inp["shape"][0])
        meta = self._read_metrics()
        if temperature is None:
            try:
                temperature = float(meta.get("temperature", 1.0))
            except (TypeError, ValueError):
                temperature = 1.0
        self.temperature = temperature if temperature > 0 else 1.0
        if flip_share is None:
            if flip_tta is not None:
                flip_share = 1.0 if flip_tta else 0.0
            else:
                try:
                    flip_share = float(meta.get("flip_share",
                                                1.0 if meta.get("flip_tta") else 0.0))
                except (TypeError, ValueError):
                    flip_share = 0.0
        self.flip_share = min(1.0, max(0.0, flip_share))
        self.crop = CropSpec.from_metrics(meta.get("crop"))
        self._num_threads = num_threads
        self._aux = None  # second interpreter for the mirrored subset, sized once

    @property
    def flip_tta(self) -> bool:
        """Whether every face is also run mirrored (``flip_share == 1``)."""
        return self.flip_share >= 1.0

    def _read_metrics(self) -> dict:
        """The ``<stem>.metrics.json`` beside the model, or ``{}`` when absent or unreadable."""
        meta = self.path.with_name(self.path.stem + ".metrics.json")
        try:
            data = json.loads(meta.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def logits(self, faces: np.ndarray) -> np.ndarray:
        """Logits of ``(n, 48, 48) uint8`` grey face crops: ``(n, 7) float32`` (with
        ``flip_tta``, the mean of the logits of the faces and of their mirror images; with a
        ``flip_share`` under 1, that mean for the least confident share of the faces only).

        Raises
        ------
        ValueError
            If ``faces`` is not ``(n, 48, 48)``.
        """
        n = len(faces)
        if n == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        if faces.shape[1:] != (FACE_SIZE, FACE_SIZE):
            raise ValueError(f"faces must be (n, 48, 48), got {faces.shape}")
        out = self._invoke(faces)
        k = int(np.ceil(self.flip_share * n - 1e-9))
        if k > 0:
            sel = (np.arange(n) if k >= n
                   else np.argsort(softmax(out).max(axis=1), kind="stable")[:k])
            if self._aux is None:
                self._aux = [_interpreter(self.path, self._num_threads), -1]
            out[sel] = 0.5 * (out[sel] + self._invoke(faces[sel][:, :, ::-1], self._aux))
        return out

    def _invoke(self, faces: np.ndarray, runner: list | None = None) -> np.ndarray:
        it, batch = (self._it, self._batch) if runner is None else runner
        n = len(faces)
        if n != batch:
            it.resize_tensor_input(self._in, (n, FACE_SIZE, FACE_SIZE, 1))
            it.allocate_tensors()
            if runner is None:
                self._batch = n
            else:
                runner[1] = n
        it.set_tensor(self._in, faces.reshape(n, FACE_SIZE, FACE_SIZE, 1).astype(np.float32))
        it.invoke()
        return it.get_tensor(self._out).copy()

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Calibrated softmax probabilities of ``(n, 48, 48) uint8`` crops: ``(n, 7) float32``,
        rows summing to 1, columns in :data:`EMOTIONS` order."""
        return softmax(self.logits(faces), self.temperature)

    def predict_batched(self, faces: np.ndarray, batch: int = 64) -> np.ndarray:
        """:meth:`predict` over a large array in fixed-size batches (evaluation)."""
        return np.concatenate([self.predict(faces[i:i + batch])
                               for i in range(0, len(faces), batch)] or
                              [np.zeros((0, NUM_CLASSES), np.float32)])


__all__ = ["EMOTIONS", "CropSpec", "EmotionModel", "ModelError", "softmax", "DEFAULT_MODEL", "verify_model",
           "write_model_checksum"]
