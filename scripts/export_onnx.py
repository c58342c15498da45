"""Export the expression CNN to ONNX, for machines where LiteRT has no wheel (Intel Macs), and
check it against the shipped LiteRT model.

    uv run --group dev --with tf2onnx python scripts/export_onnx.py \
        --int8 ../shared/data/fer2013_train_val.npz \
        [--check ../shared/data/fer2013_train_val.npz] [--keras models/fer_cnn.keras] \
        [--out models/fer_cnn.onnx]

The ONNX file is made from the Keras model the LiteRT file was exported from (tf2onnx cannot read
an int8 LiteRT file): input ``face`` ``(N, 48, 48, 1) float32`` grey levels 0..255, output
``logits`` ``(N, 7) float32`` in :data:`fer_desktop.labels.EMOTIONS` order, as the LiteRT model.
With ``--int8`` it is quantised as the LiteRT export is (static, per channel, 500 training faces
drawn with seed 0; 7-bit weights for onnxruntime's x86 kernels); without, it stays float32. Its
SHA-256 is written beside it (``fer_cnn.onnx.sha256``), as the app checks for every model, and
the same ``fer_cnn.metrics.json`` (temperature, flip share, crop) applies to both. The same
inputs give the same bytes.

``--check`` runs both models on the validation split through the same batches and prints JSON:
the accuracy of each (plain and with the app's selective flip TTA), how often the ONNX model
gives LiteRT's class, the largest logit difference, and the time for a batch of 49 faces on 2
threads (LiteRT, onnxruntime, and OpenCV's DNN where it reads the file), fastest and median of
interleaved rounds. Run it again whenever a new model replaces ``models/fer_cnn.keras``:
``tests/test_onnx_export.py`` fails on a stale ONNX file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_desktop.labels import FACE_SIZE, NUM_CLASSES  # noqa: E402

INPUT, OUTPUT, OPSET = "face", "logits", 17


def export(keras_path: Path, out: Path, calib: np.ndarray | None = None, seed: int = 0,
           n_calib: int = 500) -> Path:
    """Convert the Keras model at ``keras_path`` to ONNX at ``out``; write its SHA-256 beside it.

    With ``calib`` (``(N, 48, 48) uint8`` training faces), the file is quantised to int8 as the
    LiteRT export is: static post-training quantisation, weights per channel, activations
    calibrated on ``n_calib`` faces drawn with ``seed`` (QDQ format, which onnxruntime runs
    with its int8 kernels).

    Raises
    ------
    ValueError
        If the model does not take ``(N, 48, 48, 1)`` and give ``(N, 7)``.
    """
    import keras
    import onnx
    import tensorflow as tf
    import tf2onnx

    from fer_desktop.analysis.emotions import write_model_checksum

    model = keras.saving.load_model(keras_path, compile=False)
    if tuple(model.input_shape[1:]) != (FACE_SIZE, FACE_SIZE, 1) or \
            model.output_shape[-1] != NUM_CLASSES:
        raise ValueError(f"{keras_path.name} takes {model.input_shape} and gives "
                         f"{model.output_shape}; expected (N, 48, 48, 1) and (N, 7)")

    spec = [tf.TensorSpec((None, FACE_SIZE, FACE_SIZE, 1), tf.float32, name=INPUT)]

    @tf.function(input_signature=spec)
    def logits(face):
        return {OUTPUT: model(face, training=False)}

    proto, _ = tf2onnx.convert.from_function(logits, input_signature=spec, opset=OPSET)
    proto.producer_name = "fer-desktop scripts/export_onnx.py"
    proto.doc_string = (f"{keras_path.name}: FER-2013 expression logits "
                        "(angry, disgust, fear, happy, sad, surprise, neutral)")
    onnx.checker.check_model(proto)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, out)
    if calib is not None:
        _quantize(out, calib, seed, n_calib)
    write_model_checksum(out)
    return out


def _quantize(path: Path, calib: np.ndarray, seed: int, n_calib: int) -> None:
    """Quantise the float32 ONNX file at ``path`` to int8 in place."""
    import tempfile

    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(calib), size=min(n_calib, len(calib)), replace=False)

    class Faces(CalibrationDataReader):
        def __init__(self):
            self._it = iter(idx)

        def get_next(self):
            i = next(self._it, None)
            return None if i is None else {
                INPUT: calib[i][None, :, :, None].astype(np.float32)}

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(path), str(prepared), skip_symbolic_shape=True)
        # 7-bit weights (reduce_range): onnxruntime's int8 kernels can saturate on x86 CPUs
        # without VNNI, such as most Intel Macs, with full 8-bit weights
        quantize_static(str(prepared), str(path), Faces(), quant_format=QuantFormat.QDQ,
                        per_channel=True, reduce_range=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)


class OnnxLogits:
    """Logits of ``(n, 48, 48) uint8`` faces from an ONNX model on onnxruntime, one batch a
    call (what the app's LiteRT interpreter does in ``EmotionModel._invoke``)."""

    def __init__(self, path: Path, num_threads: int = 2):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        x = faces.reshape(len(faces), FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
        return self.session.run([OUTPUT], {INPUT: x})[0]


class CvDnnLogits:
    """The same ONNX model on OpenCV's DNN module (no onnxruntime needed)."""

    def __init__(self, path: Path, num_threads: int = 2):
        import cv2

        cv2.setNumThreads(num_threads)
        self.net = cv2.dnn.readNetFromONNX(str(path))

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        x = faces.reshape(len(faces), FACE_SIZE, FACE_SIZE, 1).astype(np.float32)
        self.net.setInput(x)
        return self.net.forward().reshape(len(faces), NUM_CLASSES).copy()


def _selective_flip(run, faces: np.ndarray, share: float) -> np.ndarray:
    """The app's selective flip TTA (``EmotionModel.logits``) around any runner."""
    from fer_desktop.analysis.emotions import softmax

    out = run(faces)
    k = int(np.ceil(share * len(faces) - 1e-9))
    if k > 0:
        sel = np.argsort(softmax(out).max(axis=1), kind="stable")[:k]
        out[sel] = 0.5 * (out[sel] + run(faces[sel][:, :, ::-1]))
    return out


def _batched(run, x: np.ndarray, batch: int = 64) -> np.ndarray:
    return np.concatenate([run(x[i:i + batch]) for i in range(0, len(x), batch)])


def check(tflite: Path, onnx_path: Path, data: Path, rounds: int = 30) -> dict:
    """Accuracy, agreement and 49-face latency of the LiteRT and ONNX models (see the module
    docstring)."""
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.training.evaluate import load_split

    x, y = load_split(data, "val")
    lite = EmotionModel(tflite, num_threads=2, flip_share=0.0)
    share = EmotionModel(tflite).flip_share  # the metrics file's, as the app runs it
    runners = {"litert_int8": lite.logits, "onnxruntime": OnnxLogits(onnx_path)}
    report: dict = {"tflite": str(tflite), "onnx": str(onnx_path), "split": "val",
                    "faces": int(len(x)), "flip_share": share}
    try:
        cv_dnn = CvDnnLogits(onnx_path)
        cv_dnn(x[:2])
        runners["opencv_dnn"] = cv_dnn
    except Exception as exc:  # OpenCV's importer does not read every ONNX graph (int8 QDQ)
        report["opencv_dnn"] = {"error": " ".join(str(exc).split())[:300]}
    plain = {name: _batched(run, x) for name, run in runners.items()}
    flip = {name: _batched(lambda b, r=run: _selective_flip(r, b, share), x)
            for name, run in runners.items()}
    for name in runners:
        report[name] = {"accuracy_plain": round(float((plain[name].argmax(1) == y).mean()), 4),
                        "accuracy_flip_tta": round(float((flip[name].argmax(1) == y).mean()), 4)}
    ref = plain["onnxruntime"]
    for name in set(runners) - {"onnxruntime"}:
        report[name]["same_class_as_onnxruntime"] = round(
            float((plain[name].argmax(1) == ref.argmax(1)).mean()), 4)
        report[name]["max_abs_logit_diff_vs_onnxruntime"] = round(
            float(np.abs(plain[name] - ref).max()), 4)
    # 49 faces on 2 threads, rounds interleaved so that a busy moment hits every runner alike
    faces = x[:49]
    times: dict = {name: [] for name in runners}
    for name, run in runners.items():
        run(faces)  # warm-up: the first call sizes the buffers
    for _ in range(rounds):
        for name, run in runners.items():
            t0 = time.perf_counter()
            run(faces)
            times[name].append((time.perf_counter() - t0) * 1000)
    for name in runners:
        report[name]["ms_batch49_median"] = round(float(np.median(times[name])), 2)
        report[name]["ms_batch49_min"] = round(float(np.min(times[name])), 2)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keras", type=Path, default=ROOT / "models" / "fer_cnn.keras")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "fer_cnn.onnx")
    parser.add_argument("--tflite", type=Path, default=ROOT / "models" / "fer_cnn.tflite",
                        help="the LiteRT model to compare with (default: %(default)s)")
    parser.add_argument("--check", type=Path, metavar="NPZ",
                        help="FER-2013 .npz with x_val/y_val: compare the two models on it")
    parser.add_argument("--int8", metavar="NPZ", type=Path,
                        help="quantise to int8, calibrated on 500 faces of this .npz's x_train")
    parser.add_argument("--no-export", action="store_true",
                        help="only check an ONNX file made before")
    parser.add_argument("--rounds", type=int, default=30, help="timing rounds (default 30)")
    args = parser.parse_args(argv)
    if not args.no_export:
        calib = None
        if args.int8:
            with np.load(args.int8, allow_pickle=False) as data:
                calib = data["x_train"]
        print(f"wrote {export(args.keras, args.out, calib)}", file=sys.stderr)
    if args.check:
        print(json.dumps(check(args.tflite, args.out, args.check, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
