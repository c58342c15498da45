"""Accuracy and latency of the expression model in its three forms, in one run: the Keras model
(float32, TensorFlow), the same network as LiteRT float32, and the shipped LiteRT model as the
app runs it (int8, with the test-time augmentation and temperature of its metrics file).

    uv run --group dev python benchmarks/model_bench.py [--data ../shared/data/fer2013_train_val.npz]

* accuracy: top-1 on FER-2013's validation split (PublicTest, 3,589 faces), each form on its own
  output; the shipped model also without its flip TTA;
* latency: milliseconds per face at batch 1, 25 and 49 on ``--threads`` CPU threads (2 = the
  laptop target), median of ``--repeats`` timed calls after a warm-up; Keras is called directly
  (``model(x, training=False)``), not through ``model.predict``, whose per-call overhead
  (~60 ms) would swamp the network;
* the LiteRT float32 model is exported from the Keras file into a temporary folder.

Writes ``benchmarks/results/model.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_desktop.analysis.emotions import EmotionModel
from fer_desktop.training.evaluate import load_split
from fer_desktop.runtime import configure

BATCHES = (1, 25, 49)


def _time_ms(fn, x: np.ndarray, repeats: int) -> float:
    """Median wall time of ``fn(x)`` in milliseconds after two warm-up calls."""
    fn(x)
    fn(x)
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(x)
        ts.append(time.perf_counter() - t)
    return 1000.0 * statistics.median(ts)


def _accuracy(logits_fn, x: np.ndarray, y: np.ndarray, batch: int = 64) -> float:
    preds = np.concatenate([logits_fn(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    return float((preds == y).mean())


def main(argv: list[str] | None = None) -> int:
    configure()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared/data/fer2013_train_val.npz"))
    p.add_argument("--model", default=str(ROOT / "models/fer_cnn.tflite"),
                   help="shipped LiteRT model; its Keras file has the same stem")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/model.json"))
    args = p.parse_args(argv)

    import keras
    import tensorflow as tf

    from fer_desktop.training.train import export_litert

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tflite = Path(args.model)
    kmodel = keras.models.load_model(tflite.with_suffix(".keras"), compile=False)
    x_va, y_va = load_split(args.data, "val")
    x_tr, _ = load_split(args.data, "train")

    shipped = EmotionModel(tflite, num_threads=args.threads)
    tta = shipped.flip_share > 0
    with tempfile.TemporaryDirectory() as tmp:
        f32_path = export_litert(kmodel, Path(tmp) / "float32.tflite", x_tr, quantize="float32")
        f32 = EmotionModel(f32_path, num_threads=args.threads, temperature=1.0, flip_tta=False)
        plain = EmotionModel(tflite, num_threads=args.threads, flip_tta=False)

        def keras_logits(faces):
            return kmodel(faces[..., None].astype(np.float32), training=False).numpy()

        forms = {
            "Keras float32": (keras_logits, "tf.keras, direct call"),
            "LiteRT float32": (f32.logits, "same network, no quantisation"),
        }
        if tta:  # the shipped model without its TTA, for comparison
            forms["LiteRT int8 (no TTA)"] = (plain.logits, "shipped file without flip TTA")
        share = f" + flip TTA on {shipped.flip_share:.0%} of faces" if tta else ""
        forms[f"LiteRT int8{share} (shipped)"] = (shipped.logits, "what the app runs")
        rows = []
        rng = np.random.default_rng(0)
        for name, (fn, what) in forms.items():
            row = {"form": name, "what": what, "val_accuracy": round(_accuracy(fn, x_va, y_va), 4)}
            for b in BATCHES:
                faces = x_va[rng.choice(len(x_va), b, replace=False)]
                row[f"ms_per_face_b{b}"] = round(_time_ms(fn, faces, args.repeats) / b, 3)
            row["ms_per_batch_b49"] = round(row["ms_per_face_b49"] * 49, 1)
            rows.append(row)
            print(row, flush=True)
        size = {"keras_mb": round(tflite.with_suffix(".keras").stat().st_size / 2**20, 2),
                "litert_float32_mb": round(Path(f32_path).stat().st_size / 2**20, 2),
                "litert_int8_mb": round(tflite.stat().st_size / 2**20, 2)}

    result = {"model": tflite.name, "params": int(kmodel.count_params()), "sizes": size,
              "threads": args.threads, "cpu": platform.processor() or platform.machine(),
              "cores": os.cpu_count(), "val_images": int(len(y_va)), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"\n{tflite.name}: {result['params']:,} parameters, sizes {size}, "
          f"{args.threads} threads\n")
    print("| form | val accuracy | ms/face b1 | ms/face b25 | ms/face b49 | ms per 49 faces |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['form']} | {100 * r['val_accuracy']:.1f} % | {r['ms_per_face_b1']:.2f} | "
              f"{r['ms_per_face_b25']:.2f} | {r['ms_per_face_b49']:.3f} | {r['ms_per_batch_b49']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
