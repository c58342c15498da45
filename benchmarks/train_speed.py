"""Training speed of the shipped network (``vggl`` width 24) per option, in images per second.

    uv run --group dev python benchmarks/train_speed.py [--data ../shared/data/fer2013_train_val.npz]
    uv run --group dev python benchmarks/train_speed.py --only jax_model   # one option

Each option runs in its own process (environment variables such as ``TF_ENABLE_ONEDNN_OPTS`` and
Keras's precision policy and backend are read once per process). An option trains for one
warm-up epoch of ``--steps`` batches (tracing, XLA compilation), then its images/s is that of
a second epoch of ``--steps`` batches. What is measured:

``pipeline``
    the ``tf.data`` input pipeline alone (shuffle, batch, full augmentation), no model: is the
    augmentation the bottleneck?
``model``
    the model's training step alone on batches already in memory (a cached ``tf.data`` of
    ready batches: the pipeline costs nothing).
``fit``
    both, as ``fer-desktop train`` runs them today (the baseline).
Variants: ``bf16`` (Keras ``mixed_bfloat16``: AMX's bfloat16 tiles), ``xla`` (``jit_compile``),
``onednn_off`` (``TF_ENABLE_ONEDNN_OPTS=0``), batch sizes, ``r32`` (32x32 faces instead of 48,
for early epochs at lower resolution), ``jax`` (Keras 3 on the JAX backend, CPU wheel).

Writes ``benchmarks/results/train_speed.json``; the table is in ``models/EXPERIMENTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "fer2013_train_val.npz"

#: name -> (what is timed, batch size, environment, options)
OPTIONS: dict[str, tuple[str, int, dict, dict]] = {
    "pipeline_b64": ("pipeline", 64, {}, {}),
    "model_b64": ("model", 64, {}, {}),
    "fit_b64": ("fit", 64, {}, {}),
    "fit_b64_onednn_off": ("fit", 64, {"TF_ENABLE_ONEDNN_OPTS": "0"}, {}),
    "model_b64_bf16": ("model", 64, {}, {"bf16": True}),
    "model_b64_xla": ("model", 64, {}, {"xla": True}),
    "model_b64_xla_bf16": ("model", 64, {}, {"xla": True, "bf16": True}),
    "model_b128": ("model", 128, {}, {}),
    "model_b128_xla": ("model", 128, {}, {"xla": True}),
    "model_b256_xla": ("model", 256, {}, {"xla": True}),
    "model_b64_r32": ("model", 64, {}, {"size": 32}),
    "model_b64_r32_xla": ("model", 64, {}, {"size": 32, "xla": True}),
    "model_b128_bf16": ("model", 128, {}, {"bf16": True}),
    "fit_b64_bf16": ("fit", 64, {}, {"bf16": True}),
    "fit_b128_bf16": ("fit", 128, {}, {"bf16": True}),
    "fit_b64_xla": ("fit", 64, {}, {"xla": True}),
    "fit_b128_xla": ("fit", 128, {}, {"xla": True}),
    "model_b64_jax": ("model", 64, {"KERAS_BACKEND": "jax"}, {}),
    "model_b128_jax": ("model", 128, {"KERAS_BACKEND": "jax"}, {}),
}


def _faces(data: Path, n: int, size: int):
    """``n`` training faces ``(n, size, size) uint8`` and labels; random faces without the data."""
    import numpy as np

    if data.is_file():
        with np.load(data) as d:
            x, y = d["x_train"][:n], d["y_train"][:n].astype(np.int64)
    else:
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (n, 48, 48), np.uint8), rng.integers(0, 7, n)
    if size != x.shape[1]:
        from fer_desktop.analysis.cvutil import cv2

        x = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in x])
    return x, y


def measure(name: str, data: Path, steps: int) -> dict:
    """Run one option in this process; returns ``{"images_per_s": ..., ...}``."""
    kind, batch, _env, opt = OPTIONS[name]
    import numpy as np

    size = opt.get("size", 48)
    x, y = _faces(data, batch * steps, size)
    from fer_desktop.training.train import TrainConfig, build_model, make_datasets

    cfg = TrainConfig(data=str(data), batch_size=batch)
    if kind in ("pipeline", "fit"):
        train_ds, _ = make_datasets(cfg, x, y, x[:batch], y[:batch])
        train_ds = train_ds.repeat()
    if kind == "pipeline":
        it = iter(train_ds)
        for _ in range(steps):
            next(it)
        t0 = time.perf_counter()
        for _ in range(steps):
            next(it)
        return {"images_per_s": round(batch * steps / (time.perf_counter() - t0), 1)}

    import keras

    if opt.get("bf16"):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    model = build_model("vggl", 24, 0.4, size=size)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3, weight_decay=1e-4),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                  metrics=["accuracy"], jit_compile=bool(opt.get("xla")))
    if kind == "model":  # batches made once and kept in memory: no pipeline work per step
        import tensorflow as tf

        xs = x.astype(np.float32)[..., None]
        ys = np.eye(7, dtype=np.float32)[y]
        ds = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(batch).cache().repeat()
        fit_args = dict(x=ds, steps_per_epoch=steps)
    else:
        fit_args = dict(x=train_ds, steps_per_epoch=steps)

    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    model.fit(epochs=2, verbose=0, callbacks=[Timer()], **fit_args)
    return {"images_per_s": round(batch * steps / times[1], 1),
            "warmup_epoch_s": round(times[0], 1), "backend": keras.backend.backend()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--steps", type=int, default=40, help="batches per timed epoch")
    parser.add_argument("--only", nargs="*", default=None,
                        help="these options only (merged into an existing --out file)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/train_speed.json")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.data, args.steps)))
        return 0
    results = {}
    for name in args.only or OPTIONS:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **OPTIONS[name][2]}
        cmd = [sys.executable, __file__, "--child", name, "--data", str(args.data),
               "--steps", str(args.steps)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        last = (done.stdout.strip().splitlines() or [""])[-1]
        try:
            results[name] = json.loads(last)
        except json.JSONDecodeError:
            results[name] = {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:300]}
        print(f"{name:22s} {results[name]}", flush=True)
    if args.only and args.out.is_file():  # measured again or added: merged into the file
        results = {**json.loads(args.out.read_text())["results"], **results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"steps": args.steps, "cpu_count": os.cpu_count(),
                                    "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
