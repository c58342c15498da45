"""Train the FER-2013 expression CNN and export it for the app (``fer-desktop train``).

This is the only module that imports TensorFlow; the app itself runs the exported LiteRT model
(see :mod:`fer_desktop.analysis.emotions`). Recipe: a ``tf.data`` pipeline with face-suited augmentation
(random shifts/zoom, horizontal flip, small rotations, brightness/contrast, random erasing),
class weights against FER-2013's imbalance (disgust is 1.5 % of the training set), AdamW with a
warm-up + cosine learning-rate schedule, label smoothing, per-epoch checkpoints that a run resumes
from, and export to a full-integer LiteRT model with float32 input and logits output. Options:
SGD with Nesterov momentum, plateau decay, mixup, weight averaging (SWA), webcam-domain
degradation (:mod:`fer_desktop.training.webcam`) and bfloat16 compute where the hardware has it.

The model input is ``(N, 48, 48, 1) float32`` grey levels in 0..255 (the scaling to 0..1 is a
layer of the model) and its output is ``(N, 7) float32`` logits in :data:`EMOTIONS` order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from fer_desktop.analysis.emotions import write_model_checksum
from fer_desktop.analysis.faces import ALIGN_ZOOM
from fer_desktop.training.evaluate import load_split
from fer_desktop.labels import EMOTIONS, FACE_SIZE, NUM_CLASSES

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run; saved next to the model as part of its metrics."""

    data: str
    out_dir: str = "models"
    name: str = "fer_cnn"
    arch: str = "vggl"
    width: int = 24
    epochs: int = 40
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    dropout: float = 0.4
    seed: int = 1337
    device: str = "auto"
    max_train: int | None = None  # for quick tests on tiny data
    quantize: str = "int8"  # "int8" or "float32"
    init_weights: str | None = None  # start from these weights (fine-tuning)
    augment: str = "full"  # "full", "medium", "light" (flips and shifts) or "none"
    webcam: float = 0.0  # share of training faces sent through webcam.degrade (0..1)
    work_dir: str | None = None  # checkpoints for resuming; default <out_dir>/.<name>.work
    snapshots: bool = False  # also keep every epoch's weights (for weight averaging)
    schedule: str = "cosine"  # "cosine" (warm-up, cosine decay), "constant" or "plateau"
    optimizer: str = "adamw"  # "adamw" or "sgd" (momentum 0.9, Nesterov)
    mixup: float = 0.0  # mixup's Beta(alpha, alpha); 0: off (Zhang et al. 2018)
    precision: str = "auto"  # "float32", "bfloat16" (Keras mixed_bfloat16) or "auto"
    average_last: int = 0  # ship the average of the last N epochs' weights when it is better
    labels: str = "original"  # training targets: "original", "majority", "votes" or "mix"
    votes: str | None = None  # FER+ votes .npz; default: inside data, else ferplus_votes.npz beside
    class_weighting: str = "sqrt"  # "sqrt" (inverse square root of class frequency) or "none"
    align: bool = False  # train and validate on the app's eye-aligned crop of each face
    notes: list[str] = field(default_factory=list)


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Inverse-square-root class-frequency weights, normalised to mean 1 over the samples.

    ``y`` is ``(n,)`` int labels, or ``(n, 7)`` soft targets (weighted by their largest class).
    Softer than plain inverse frequency, which over-weights FER-2013's 436 disgust images (x16).
    """
    y = np.asarray(y)
    if y.ndim == 2:
        y = y.argmax(1)
    counts = np.bincount(y, minlength=NUM_CLASSES).astype(np.float64)
    w = 1.0 / np.sqrt(np.maximum(counts, 1.0))
    w = w / (w[y].mean() if len(y) else 1.0)
    return {i: float(w[i]) for i in range(NUM_CLASSES)}


ARCHS = ("vgg", "vggl", "res")


def build_model(arch: str = "vgg", width: int = 32, dropout: float = 0.4, size: int = FACE_SIZE):
    """Build the expression CNN (Keras, uncompiled).

    Input ``(N, size, size, 1)`` float32 grey levels in 0..255 (``size`` 48, FER-2013's, unless
    a stage trains at a lower resolution; the weights fit any size that is a multiple of 16);
    output ``(N, 7)`` float32 logits.
    All candidates are VGG-style stacks of 3x3 conv + batch-norm + ReLU (Simonyan & Zisserman
    2015; the FER-2013 VGG variants of Khaireddin & Chen 2021) ending in global average pooling,
    dropout, a dense layer and the 7-way logits; ``models/EXPERIMENTS.md`` compares them.

    ``vgg``
        four stages of two convs with 2x2 max-pooling, widths ``width * (1, 2, 4, 8)``.
    ``vggl``
        the same compute moved to low resolution: one conv at 48 px, two at 24 and 12 px,
        three at 6 px and one at 3 px (widths ``width * (1, 2, 4, 8, 16)``), so most parameters
        sit where convs are cheap.
    ``res``
        ``vggl``'s layout with residual (identity-shortcut) pairs of convs at each stage after
        the first (He et al. 2016), which train faster in a short schedule.

    Raises
    ------
    ValueError
        For an unknown ``arch``.
    """
    import keras
    from keras import layers

    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")

    def conv(x, ch, relu=True):
        x = layers.Conv2D(ch, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        return layers.ReLU()(x) if relu else x

    def res_block(x, ch):
        y = conv(conv(x, ch), ch, relu=False)
        if x.shape[-1] != ch:
            x = layers.BatchNormalization(momentum=0.9)(
                layers.Conv2D(ch, 1, use_bias=False)(x))
        return layers.ReLU()(layers.Add()([x, y]))

    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    if arch == "vgg":
        for stage, mult in enumerate((1, 2, 4, 8)):
            for _ in range(2):
                x = conv(x, width * mult)
            x = layers.MaxPooling2D()(x)
            if stage >= 2:
                x = layers.Dropout(0.1 * stage)(x)
        head = width * 8
    else:
        x = layers.MaxPooling2D()(conv(x, width))  # 48 -> 24 px
        for stage, (mult, n) in enumerate(((2, 2), (4, 2), (8, 3), (16, 1))):
            if arch == "vggl":
                for _ in range(n):
                    x = conv(x, width * mult)
            else:
                x = res_block(x, width * mult)
                if n == 3:
                    x = conv(x, width * mult)
            if stage < 3:
                x = layers.MaxPooling2D()(x)  # 24 -> 12 -> 6 -> 3 px
            if stage >= 1:
                x = layers.Dropout(0.1 * stage)(x)
        head = width * 8
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(head, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, name="logits", dtype="float32")(x)  # float32 logits,
    # whatever the compute precision of the layers before
    return keras.Model(inputs, outputs, name=f"fer_{arch}{width}")


AUGMENT = ("full", "medium", "light", "none")


def _augmenter(seed: int, strength: str = "full"):
    """Batch augmentation for faces: ``"full"``: flips, shifts, zoom, small rotations,
    brightness/contrast, random erasing; ``"medium"``: the same geometry and grey-level jitter at
    about two thirds of the strength, no erasing (for a second, continued schedule);
    ``"light"``: flips and shifts only (for a last, low-learning-rate stage that lets the
    network fit the data more closely)."""
    import keras
    import tensorflow as tf
    from keras import layers

    def geometry(k: float, name: str):
        """Flip, then rotation up to ~15 degrees, zoom and shifts up to 10 %, all scaled by k."""
        return keras.Sequential(
            [
                layers.RandomFlip("horizontal", seed=seed),
                layers.RandomRotation(0.04 * k, fill_mode="reflect", seed=seed + 1),
                layers.RandomZoom((-0.1 * k, 0.1 * k), fill_mode="reflect", seed=seed + 2),
                layers.RandomTranslation(0.1 * k, 0.1 * k, fill_mode="reflect", seed=seed + 3),
            ],
            name=name,
        )

    geo = geometry(1.0, "augment") if strength == "full" else geometry(0.7, "augment_medium")
    rng = tf.random.Generator.from_seed(seed)
    light = keras.Sequential([layers.RandomFlip("horizontal", seed=seed),
                              layers.RandomTranslation(0.06, 0.06, fill_mode="reflect",
                                                       seed=seed + 3)], name="augment_light")

    def augment(x, y):
        if strength == "light":
            return light(x, training=True), y
        k = 1.0 if strength == "full" else 0.6
        x = geo(x, training=True)
        n = tf.shape(x)[0]
        # brightness/contrast jitter in pixel units (0..255)
        gain = rng.uniform((n, 1, 1, 1), 1.0 - 0.25 * k, 1.0 + 0.25 * k)
        bias = rng.uniform((n, 1, 1, 1), -25.0 * k, 25.0 * k)
        mean = tf.reduce_mean(x, axis=(1, 2, 3), keepdims=True)
        x = (x - mean) * gain + mean + bias
        if strength == "medium":
            return tf.clip_by_value(x, 0.0, 255.0), y
        # random erasing (Zhong et al. 2020): one square of 8..20 px in half the images
        size = rng.uniform((n, 1, 1, 1), 8.0, 20.0)
        cy = rng.uniform((n, 1, 1, 1), 0.0, FACE_SIZE)
        cx = rng.uniform((n, 1, 1, 1), 0.0, FACE_SIZE)
        on = tf.cast(rng.uniform((n, 1, 1, 1)) < 0.5, tf.float32)
        grid = tf.range(FACE_SIZE, dtype=tf.float32)
        inside = tf.cast(
            (tf.abs(grid[None, :, None, None] - cy) < size / 2)
            & (tf.abs(grid[None, None, :, None] - cx) < size / 2),
            tf.float32,
        ) * on
        x = x * (1.0 - inside) + mean * inside
        return tf.clip_by_value(x, 0.0, 255.0), y

    return augment


def make_datasets(cfg: TrainConfig, x_tr, y_tr, x_va, y_va, seed: int | None = None):
    """``tf.data`` pipelines: shuffled, batched, augmented, prefetched; targets and weights.

    ``x_tr`` ``(n, 48, 48) uint8``; ``y_tr`` ``(n,)`` int labels or ``(n, 7) float32`` target
    distributions (FER+ votes, :func:`fer_desktop.training.ferplus.targets`); ``y_va`` ``(m,)``
    int labels. ``seed`` (default ``cfg.seed``) seeds the shuffling and the augmentation.
    """
    import tensorflow as tf

    seed = cfg.seed if seed is None else seed
    y_tr = np.asarray(y_tr)
    t_tr = (y_tr.astype(np.float32) if y_tr.ndim == 2
            else np.eye(NUM_CLASSES, dtype=np.float32)[y_tr.astype(np.int64)])
    if cfg.class_weighting == "sqrt":
        cw = class_weights(t_tr)
        w_tr = np.array([cw[int(c)] for c in t_tr.argmax(1)], np.float32)
    elif cfg.class_weighting == "none":
        w_tr = np.ones(len(t_tr), np.float32)
    else:
        raise ValueError(f"class weighting must be 'sqrt' or 'none', not {cfg.class_weighting!r}")

    def prep(x, y):
        return tf.cast(x, tf.float32)[..., None], y

    def prep_val(x, y):
        return tf.cast(x, tf.float32)[..., None], tf.one_hot(y, NUM_CLASSES)

    train = (
        tf.data.Dataset.from_tensor_slices((x_tr, t_tr, w_tr))
        .shuffle(len(x_tr), seed=seed, reshuffle_each_iteration=True)
        .batch(cfg.batch_size, drop_remainder=True)
    )
    if cfg.webcam > 0:
        train = train.map(_webcam_map(cfg.webcam, seed), num_parallel_calls=tf.data.AUTOTUNE)
    train = train.map(lambda x, y, w: (*prep(x, y), w), num_parallel_calls=tf.data.AUTOTUNE)
    if cfg.augment not in AUGMENT:
        raise ValueError(f"augment must be one of {', '.join(AUGMENT)}, not {cfg.augment!r}")
    if cfg.augment != "none":
        aug = _augmenter(seed, cfg.augment)
        train = train.map(lambda x, y, w: (*aug(x, y), w), num_parallel_calls=tf.data.AUTOTUNE)
    if cfg.mixup > 0:
        train = train.map(_mixup_map(cfg.mixup, seed), num_parallel_calls=tf.data.AUTOTUNE)
    train = train.prefetch(tf.data.AUTOTUNE)
    val = (
        tf.data.Dataset.from_tensor_slices((x_va, y_va))
        .batch(256)
        .map(prep_val, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    return train, val


def _webcam_map(share: float, seed: int):
    """A ``tf.data`` map that sends ``share`` of each batch's faces through
    :func:`fer_desktop.training.webcam.degrade` (NumPy and OpenCV, in ``tf.numpy_function``)."""
    import tensorflow as tf

    from fer_desktop.training.webcam import degrade

    if not 0.0 <= share <= 1.0:
        raise ValueError(f"webcam must be a share in 0..1, not {share}")
    rng = np.random.default_rng(seed + 101)

    def apply(x, y, w):
        x2 = tf.numpy_function(lambda a: degrade(a, rng, share), [x], tf.uint8, stateful=True)
        return tf.ensure_shape(x2, x.shape), y, w

    return apply


def _mixup_map(alpha: float, seed: int):
    """A ``tf.data`` map for mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization",
    ICLR 2018): each batch is blended with a shuffled copy of itself, faces, one-hot labels and
    sample weights alike, by one ``lam ~ Beta(alpha, alpha)`` per face."""
    import tensorflow as tf

    rng = tf.random.Generator.from_seed(seed + 202)

    def mix(x, y, w):
        n = tf.shape(x)[0]
        # Beta(alpha, alpha) as g1 / (g1 + g2) of two Gamma(alpha) draws
        g1 = tf.random.stateless_gamma((n,), rng.make_seeds(1)[:, 0], alpha)
        g2 = tf.random.stateless_gamma((n,), rng.make_seeds(1)[:, 0], alpha)
        lam = g1 / tf.maximum(g1 + g2, 1e-6)
        lam = tf.maximum(lam, 1.0 - lam)  # the face keeps most of its own label
        perm = tf.random.shuffle(tf.range(n), seed=seed)
        lx = lam[:, None, None, None]
        ly = lam[:, None]
        return (lx * x + (1 - lx) * tf.gather(x, perm), ly * y + (1 - ly) * tf.gather(y, perm),
                lam * w + (1 - lam) * tf.gather(w, perm))

    return mix


def _optimizer(cfg: TrainConfig, steps_per_epoch: int):
    """AdamW (Loshchilov & Hutter 2019) or SGD with Nesterov momentum 0.9 and decoupled weight
    decay, on the learning rate of :func:`_lr_schedule`.

    Raises
    ------
    ValueError
        For an unknown optimizer or schedule.
    """
    import keras

    lr = _lr_schedule(cfg, steps_per_epoch)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    raise ValueError(f"optimizer must be 'adamw' or 'sgd', not {cfg.optimizer!r}")


def _lr_schedule(cfg: TrainConfig, steps_per_epoch: int):
    import keras

    if cfg.schedule in ("constant", "plateau"):  # plateau: ReduceLROnPlateau lowers it
        return cfg.lr
    if cfg.schedule != "cosine":
        raise ValueError(f"schedule must be 'cosine', 'constant' or 'plateau', not {cfg.schedule!r}")

    total = max(1, cfg.epochs * steps_per_epoch)
    warm = min(total - 1, cfg.warmup_epochs * steps_per_epoch)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.lr * 0.05,
        decay_steps=max(1, total - warm),
        warmup_target=cfg.lr,
        warmup_steps=max(0, warm),
        alpha=0.01,
    )


def select_device(pref: str) -> str:
    """Return the TensorFlow device string to train on: ``"/GPU:0"`` when asked for or available
    (``pref`` ``"auto"``/``"gpu"``), else ``"/CPU:0"``. Never requires a GPU: ``"gpu"`` with none
    present falls back to the CPU with a warning."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if pref in ("auto", "gpu") and gpus:
        for g in gpus:
            tf.config.experimental.set_memory_growth(g, True)
        return "/GPU:0"
    if pref == "gpu":
        log.warning("no GPU found; training on the CPU")
    return "/CPU:0"


def train(cfg: TrainConfig, progress: bool = True, callbacks: list | None = None) -> dict:
    """Train, checkpoint every epoch, keep the best epoch by validation accuracy, export
    ``<name>.keras``, ``<name>.tflite`` and ``<name>.metrics.json`` into ``cfg.out_dir``, and
    return the metrics dict.

    **Resuming.** The run's work is kept in ``cfg.work_dir`` (default
    ``<out_dir>/.<name>.work/``): at the end of every epoch the weights with the optimiser's
    state (its moments and step count, hence the learning-rate schedule), the epoch reached,
    the history and the best epoch's weights. A run of the same ``name`` started after an
    interruption (Ctrl+C, a closed laptop, a lost machine) goes on from the last finished epoch;
    the random streams of shuffling and augmentation restart from a seed derived from that
    epoch, so the resumed run does not replay the first epochs' draws (it is not bit-identical
    to an uninterrupted run). A finished run removes its backup, so the same command started
    again trains anew (and clears the old history and snapshots).

    ``callbacks`` are extra Keras callbacks (for tests and tools).

    Raises
    ------
    FileNotFoundError, KeyError, ValueError
        From :func:`fer_desktop.training.evaluate.load_split` for a missing or malformed data file.
    """
    import shutil

    import keras
    import tensorflow as tf

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(cfg.work_dir) if cfg.work_dir else out / f".{cfg.name}.work"
    work.mkdir(parents=True, exist_ok=True)
    backup = work / "backup"
    history = _read_history(work / "history.csv")
    resumed = _backup_epoch(backup)
    if resumed:
        history = [h for h in history if h["epoch"] < resumed]
        log.info("resuming %s from epoch %d of %d (%s)", cfg.name, resumed, cfg.epochs, work)
    else:  # a new run: nothing of an earlier one may be mixed in
        shutil.rmtree(backup, ignore_errors=True)
        for stale in [work / "history.csv", work / "best.weights.h5",
                      *work.glob("epoch_*.weights.h5")]:
            stale.unlink(missing_ok=True)
        history = []
    seed = cfg.seed + 7919 * resumed
    keras.utils.set_random_seed(seed)

    data = load_training_data(cfg)
    x_tr, y_tr = data.x_train, data.t_train
    x_va, y_va = data.x_val, data.y_val
    train_ds, val_ds = make_datasets(cfg, x_tr, y_tr, x_va, y_va, seed=seed)
    steps = len(x_tr) // cfg.batch_size
    device = select_device(cfg.device)
    log.info("training %s on %s: %d train / %d val images, %d epochs", cfg.name, device,
             len(x_tr), len(x_va), cfg.epochs)

    precision = resolve_precision(cfg.precision, device)
    with _precision(precision), tf.device(device):
        model = build_model(cfg.arch, cfg.width, cfg.dropout)
        if cfg.init_weights:
            model.load_weights(cfg.init_weights)
            log.info("starting from %s", cfg.init_weights)
        model.compile(
            optimizer=_optimizer(cfg, steps),
            loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                      label_smoothing=cfg.label_smoothing),
            metrics=["accuracy"],
        )
        best_path = work / "best.weights.h5"
        best_so_far = max((h["val_accuracy"] for h in history if "val_accuracy" in h),
                          default=None)
        callbacks = [
            keras.callbacks.BackupAndRestore(str(backup)),
            keras.callbacks.ModelCheckpoint(str(best_path), monitor="val_accuracy", mode="max",
                                            save_best_only=True, save_weights_only=True,
                                            initial_value_threshold=best_so_far),
            keras.callbacks.CSVLogger(str(work / "history.csv"), append=True),
            *(callbacks or []),
        ]
        if cfg.schedule == "plateau":  # Khaireddin & Chen 2021: x0.75 after 5 flat epochs
            callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor="val_accuracy", mode="max", factor=0.75, patience=5, min_lr=1e-6))
        if cfg.snapshots or cfg.average_last:
            callbacks.append(keras.callbacks.ModelCheckpoint(
                str(work / "epoch_{epoch:02d}.weights.h5"), save_weights_only=True))
        t0 = time.time()
        model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks,
                  verbose=1 if progress else 0)
        train_s = time.time() - t0
        shutil.rmtree(backup, ignore_errors=True)  # finished: the same command trains anew
        if best_path.exists():
            model.load_weights(str(best_path))
    if precision != "float32":  # evaluate, average and export in float32
        f32 = build_model(cfg.arch, cfg.width, cfg.dropout)
        f32.set_weights(model.get_weights())
        model = f32

    logits = model.predict(val_ds, verbose=0)
    keras_acc = float((logits.argmax(1) == y_va).mean())
    averaged = None
    snaps = sorted(work.glob("epoch_*.weights.h5"))[-cfg.average_last:] if cfg.average_last else []
    if snaps:
        avg = build_model(cfg.arch, cfg.width, cfg.dropout)
        average_weights(avg, snaps)
        recompute_batch_norm(avg, x_tr)
        avg_acc = float((avg.predict(val_ds, verbose=0).argmax(1) == y_va).mean())
        averaged = {"snapshots": [p.name for p in snaps], "keras_val_accuracy": round(avg_acc, 4),
                    "best_epoch_keras_val_accuracy": round(keras_acc, 4),
                    "shipped": avg_acc >= keras_acc}
        log.info("average of %d snapshots: validation accuracy %.4f (best epoch %.4f)",
                 len(snaps), avg_acc, keras_acc)
        if avg_acc >= keras_acc:
            model, keras_acc = avg, avg_acc
    keras_path = out / f"{cfg.name}.keras"
    _save_inference(model, keras_path, cfg)
    tflite_path = out / f"{cfg.name}.tflite"
    export_litert(model, tflite_path, x_tr, quantize=cfg.quantize, seed=cfg.seed)
    write_model_checksum(tflite_path)  # checked at every load
    calib = calibrate(tflite_path, x_va, y_va, targets=data.t_val)
    from fer_desktop.analysis.emotions import EmotionModel
    from fer_desktop.training.evaluate import evaluate_arrays

    runtime = evaluate_arrays(EmotionModel(tflite_path, num_threads=2,
                                           temperature=calib["temperature"],
                                           flip_share=calib["flip_share"]),
                              data.x_val_all, data.y_val_original, data.votes_val)
    metrics = {
        "name": cfg.name,
        **calib,
        "val_metric": data.val_metric,
        "crop": {"aligned": bool(cfg.align), "zoom": ALIGN_ZOOM, "margin": 0.0},
        "runtime_val": {k: v for k, v in runtime.items() if k in ("original", "ferplus_majority")},
        "params": int(model.count_params()),
        "keras_val_accuracy": keras_acc,
        "train_seconds_last_run": round(train_s, 1),
        "resumed_from_epoch": resumed,
        "precision": precision,
        "work_dir": str(work),
        "weight_average": averaged,
        "classes": list(EMOTIONS),
        "config": asdict(cfg),
        "history": _read_history(work / "history.csv"),
    }
    (out / f"{cfg.name}.metrics.json").write_text(json.dumps(metrics, indent=2))
    log.info("Keras validation accuracy %.4f; wrote %s and %s", keras_acc, keras_path, tflite_path)
    return metrics


@dataclass(frozen=True)
class TrainingData:
    """The arrays of one training run, read by :func:`load_training_data`.

    ``x_train`` ``(n, 48, 48) uint8`` and ``t_train`` ``(n, 7) float32`` targets of the chosen
    scheme; ``x_val``/``y_val`` ``(m, 48, 48) uint8``/``(m,) int64``: the validation faces and
    labels that choose the best epoch (FER+ majority labels when votes are known, else FER-2013's);
    ``t_val`` ``(m, 7) float32`` their vote distributions (or one-hot labels) for the temperature;
    ``x_val_all``, ``y_val_original`` and ``votes_val``: the whole validation split for reports.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    t_val: np.ndarray
    x_val_all: np.ndarray
    y_val_original: np.ndarray
    votes_val: object  # fer_desktop.training.ferplus.Votes or None
    val_metric: str  # "ferplus_majority" or "original"


def load_training_data(cfg: TrainConfig) -> TrainingData:
    """Read ``cfg.data`` (and the FER+ votes, :func:`fer_desktop.training.ferplus.find_votes`)
    and build the targets of ``cfg.labels``.

    When votes are found, the best epoch is chosen by accuracy against the FER+ majority label of
    the validation images that have one, whatever labels the run trains on; without votes, by the
    original labels (and only ``--labels original`` can train).

    Raises
    ------
    FileNotFoundError, KeyError, ValueError
        For a missing or malformed data or votes file, or a FER+ scheme without votes.
    """
    from fer_desktop.training import ferplus

    x_tr, y_tr = load_split(cfg.data, "train")
    x_va, y_va = load_split(cfg.data, "val")
    votes_path = ferplus.find_votes(cfg.data, cfg.votes)
    if votes_path is None and cfg.labels != "original":
        raise ValueError(f"--labels {cfg.labels} needs the FER+ votes: give --votes FILE "
                         f"(none inside {Path(cfg.data).name} or beside it)")
    v_tr = ferplus.load_votes(votes_path, "train", len(x_tr)) if votes_path else None
    v_va = ferplus.load_votes(votes_path, "val", len(x_va)) if votes_path else None
    t_tr, keep = ferplus.targets(cfg.labels, y_tr, v_tr)
    x_tr, t_tr = x_tr[keep], t_tr[keep]
    if cfg.max_train:
        x_tr, t_tr = x_tr[: cfg.max_train], t_tr[: cfg.max_train]
    if cfg.align:  # the app's crop: eye-aligned to FER-2013's landmark positions
        from fer_desktop.training.align import aligned_split

        x_tr, x_va = aligned_split(x_tr), aligned_split(x_va)
    if v_va is not None:
        maj = v_va.majority()
        sel = maj >= 0
        dist = v_va.distribution(drop_single=False)
        x_sel, y_sel, t_sel, metric = x_va[sel], maj[sel], dist[sel], "ferplus_majority"
    else:
        x_sel, y_sel, metric = x_va, y_va, "original"
        t_sel = np.eye(NUM_CLASSES, dtype=np.float32)[y_va]
    log.info("labels %s: %d training images; best epoch by %s accuracy on %d validation images",
             cfg.labels, len(x_tr), metric, len(x_sel))
    return TrainingData(x_tr, t_tr, x_sel, y_sel, t_sel, x_va, y_va, v_va, metric)


def average_weights(model, paths) -> None:
    """Load into ``model`` the element-wise mean of the weights saved at ``paths``
    (``.weights.h5`` files of the same architecture): stochastic weight averaging (Izmailov et
    al., "Averaging Weights Leads to Wider Optima and Better Generalization", UAI 2018).
    Batch-norm statistics are averaged too; :func:`recompute_batch_norm` should follow.

    Raises
    ------
    ValueError
        If ``paths`` is empty.
    """
    paths = list(paths)
    if not paths:
        raise ValueError("no weights to average")
    total = None
    for p in paths:
        model.load_weights(str(p))
        w = [np.asarray(a, np.float64) for a in model.get_weights()]
        total = w if total is None else [t + a for t, a in zip(total, w)]
    model.set_weights([(t / len(paths)).astype(np.float32) for t in total])


def recompute_batch_norm(model, x: np.ndarray, batch_size: int = 256) -> None:
    """Set every batch-norm layer's moving mean and variance to the average of its batch
    statistics over ``x`` (``(N, 48, 48) uint8`` faces, no augmentation), as averaged weights
    need (Izmailov et al. 2018, "bn_update"). Dropout is switched off during the pass so that
    the statistics are those the network sees at inference.
    """
    import keras

    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    momenta, rates = [b.momentum for b in bns], [d.rate for d in drops]
    for d in drops:
        d.rate = 0.0
    try:
        for k, i in enumerate(range(0, len(x), batch_size)):
            for b in bns:  # running mean over batches: moving = (k * moving + batch) / (k + 1)
                b.momentum = k / (k + 1.0)
            model(np.asarray(x[i:i + batch_size], np.float32)[..., None], training=True)
    finally:
        for b, m in zip(bns, momenta):
            b.momentum = m
        for d, r in zip(drops, rates):
            d.rate = r


#: Latency budget of the shipped model: a batch of 49 faces (a full 7x7 gallery) on 2 CPU threads,
#: milliseconds (0.5 ms a face). A flip TTA share is kept only when the batch with it still fits.
LATENCY_BUDGET_MS = 24.5


def batch_latency_ms(tflite_path: str | os.PathLike, faces: np.ndarray, flip_share: float = 0.0,
                     num_threads: int = 2, repeats: int = 30) -> float:
    """Median wall time of one :meth:`EmotionModel.logits` call on ``faces`` (``(n, 48, 48)
    uint8``) with selective flip TTA on ``flip_share`` of them (0: none, 1: all),
    milliseconds, after two warm-up calls."""
    from fer_desktop.analysis.emotions import EmotionModel

    model = EmotionModel(tflite_path, num_threads=num_threads, temperature=1.0,
                         flip_share=float(flip_share))
    model.logits(faces)
    model.logits(faces)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.logits(faces)
        times.append(time.perf_counter() - t0)
    return 1000.0 * float(np.median(times))


#: Shares of a batch's faces (the least confident first) that calibration considers running
#: again mirrored: none, a quarter, a third, 40 %, half, all (plain flip TTA).
FLIP_SHARES = (0.0, 0.25, 1 / 3, 0.4, 0.5, 1.0)


def calibrate(tflite_path: str | os.PathLike, x_val: np.ndarray, y_val: np.ndarray,
              budget_ms: float = LATENCY_BUDGET_MS, batch: int = 49,
              targets: np.ndarray | None = None) -> dict:
    """Choose the flip test-time augmentation and fit the softmax temperature of the exported
    runtime model on the validation split.

    Each share of :data:`FLIP_SHARES` (selective flip TTA, :class:`EmotionModel`'s
    ``flip_share``) is scored on the validation split in batches of ``batch`` faces, as the app
    runs a 7x7 gallery, and timed on one such batch on 2 threads (median of three rounds of
    :func:`batch_latency_ms`); the most accurate share whose
    batch runs within ``budget_ms`` is kept (the cheaper on a tie; no TTA always qualifies). The
    temperature is fitted on the logits the app will compute by minimising the negative
    log-likelihood (temperature scaling, Guo et al. 2017) of ``targets`` (``(n, 7)`` vote
    distributions, the FER+ annotators' votes; default: the labels ``y_val``) and used when it
    lowers the expected
    calibration error; a model that the fit would not calibrate better (label smoothing already
    tempers its confidence) keeps ``T = 1``. Returns the entries for the metrics file:
    ``flip_share``, ``flip_tta``, ``temperature``, runtime accuracies, the measured latencies
    (ms per ``batch`` faces) of every share, and the calibration error before and after scaling.
    """
    from fer_desktop.analysis.emotions import EmotionModel, softmax
    from fer_desktop.training.evaluate import (expected_calibration_error, fit_temperature,
                                      negative_log_likelihood)

    faces = x_val[:batch]
    options = []
    for share in FLIP_SHARES:
        model = EmotionModel(tflite_path, temperature=1.0, flip_share=share)
        logits = np.concatenate([model.logits(x_val[i:i + batch])
                                 for i in range(0, len(x_val), batch)])
        options.append({"flip_share": share,
                        "accuracy": round(float((logits.argmax(1) == y_val).mean()), 4),
                        # latency: the median of three rounds (runs on a shared CPU vary)
                        "latency_ms_b49": round(float(np.median(
                            [batch_latency_ms(tflite_path, faces, share) for _ in range(3)])), 2),
                        "logits": logits})
    fits = [o for o in options if o["flip_share"] == 0 or o["latency_ms_b49"] <= budget_ms]
    chosen = max(fits, key=lambda o: (o["accuracy"], -o["flip_share"]))
    logits = chosen["logits"]
    fit_to = y_val if targets is None else targets
    t_fit = fit_temperature(logits, fit_to)
    ece_1 = expected_calibration_error(softmax(logits), y_val)
    ece_fit = expected_calibration_error(softmax(logits, t_fit), y_val)
    t = t_fit if ece_fit < ece_1 else 1.0
    return {
        "runtime_val_accuracy_plain": options[0]["accuracy"],
        "runtime_val_accuracy_flip_tta": options[-1]["accuracy"],
        "flip_share": chosen["flip_share"],
        "flip_tta": chosen["flip_share"] >= 1.0,
        "runtime_val_accuracy": chosen["accuracy"],
        "latency_ms_b49_plain": options[0]["latency_ms_b49"],
        "latency_ms_b49_flip_tta": options[-1]["latency_ms_b49"],
        "latency_ms_b49": chosen["latency_ms_b49"],
        "latency_budget_ms_b49": budget_ms,
        "flip_share_options": [{k: v for k, v in o.items() if k != "logits"} for o in options],
        "temperature": round(t, 4),
        "temperature_nll_fit": round(t_fit, 4),
        "val_ece_before": round(ece_1, 4),
        "val_ece_nll_fit": round(ece_fit, 4),
        "val_ece_after": round(min(ece_1, ece_fit), 4),
        "val_nll_before": round(negative_log_likelihood(logits, fit_to), 4),
        "val_nll_nll_fit": round(negative_log_likelihood(logits, fit_to, t_fit), 4),
        "temperature_fitted_to": "ferplus_votes" if targets is not None else "labels",
        "uncertain_below": uncertain_threshold(softmax(logits, t), y_val),
    }


def uncertain_threshold(probs: np.ndarray, y: np.ndarray, step: float = 0.05,
                        min_count: int = 20) -> float:
    """The top probability below which a result is shown as uncertain: the upper edge of the
    highest confidence bin (``step`` wide, at least ``min_count`` faces) in which fewer than half
    of the ``(n, 7)`` calibrated probabilities' top classes are right against the ``(n,)``
    labels; 0 when no bin is (the badge then says "uncertain" only where a guess is more
    likely wrong than right)."""
    conf = np.asarray(probs).max(1)
    right = np.asarray(probs).argmax(1) == np.asarray(y)
    edge = 0.0
    for lo in np.arange(0.0, 1.0, step):
        m = (conf >= lo) & (conf < lo + step)
        if m.sum() >= min_count and right[m].mean() < 0.5:
            edge = lo + step
    return round(float(edge), 2)


def update_calibration(tflite_path: str | os.PathLike, data: str | os.PathLike,
                       votes: str | os.PathLike | None = None) -> dict:
    """Re-run :func:`calibrate` for a shipped model and merge the result into its
    ``<stem>.metrics.json``; returns the merged metrics. With FER+ votes (``votes``, or found
    beside ``data``) accuracy is against the FER+ majority and the temperature is fitted to the
    vote distributions."""
    from fer_desktop.analysis.emotions import EmotionModel

    tflite_path = Path(tflite_path)
    cfg = TrainConfig(data=str(data), votes=votes, align=EmotionModel(tflite_path).crop.aligned)
    d = load_training_data(cfg)
    meta_path = tflite_path.with_name(tflite_path.stem + ".metrics.json")
    metrics = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    metrics.update(calibrate(tflite_path, d.x_val, d.y_val, targets=d.t_val))
    metrics["val_metric"] = d.val_metric
    meta_path.write_text(json.dumps(metrics, indent=2))
    return metrics


def resolve_precision(precision: str, device: str = "/CPU:0") -> str:
    """``"auto"`` made concrete: ``"bfloat16"`` on a CPU with bfloat16 instructions (Intel AMX or
    AVX-512 BF16, read from ``/proc/cpuinfo``; Linux) or on a GPU of compute capability 8.0 or
    more, ``"float32"`` elsewhere (where bfloat16 would be emulated, and slower). Other values are returned as they are.

    On this project's 2-core AMX machine bfloat16 trains 1.2-1.4x faster with the same
    accuracy (``models/EXPERIMENTS.md``)."""
    if precision != "auto":
        return precision
    if "GPU" in device.upper():  # bfloat16 units from compute capability 8.0 (Ampere) on
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
        return "bfloat16" if details.get("compute_capability", (0, 0)) >= (8, 0) else "float32"
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return "float32"
    return "bfloat16" if {"amx_bf16", "avx512_bf16"} & set(flags) else "float32"


@contextlib.contextmanager
def _precision(precision: str):
    """Keras's global dtype policy for the models built inside: ``"float32"``, or
    ``"bfloat16"`` (``mixed_bfloat16``: bfloat16 compute, float32 weights; Micikevicius et al.
    2018 for mixed precision). The previous policy is restored on leaving.

    Raises
    ------
    ValueError
        For another precision.
    """
    import keras

    policies = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
    if precision not in policies:
        raise ValueError(f"precision must be 'float32' or 'bfloat16', not {precision!r}")
    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policies[precision])
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def _backup_epoch(backup: Path) -> int:
    """Epochs finished by an interrupted run whose Keras ``BackupAndRestore`` folder is
    ``backup`` (0 when there is none)."""
    try:
        return int(json.loads((backup / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _read_history(path: Path) -> list[dict]:
    """Per-epoch loss and accuracy (train and validation) from the run's CSV log."""
    import csv

    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: round(float(v), 4) if k != "epoch" else int(v) for k, v in row.items()}
                for row in csv.DictReader(f)]


def _save_inference(model, path: Path, cfg: TrainConfig) -> None:
    """Save the weights in a fresh, uncompiled copy of the model: no optimizer state (3x smaller)."""
    clean = build_model(cfg.arch, cfg.width, cfg.dropout)
    clean.set_weights(model.get_weights())
    clean.save(path)


def export_litert(model, path: str | os.PathLike, x_calib: np.ndarray, quantize: str = "int8",
                  seed: int = 0, n_calib: int = 500) -> Path:
    """Convert a Keras model to a LiteRT flatbuffer at ``path``.

    ``quantize="int8"``: full-integer weights and activations (post-training quantisation with
    ``n_calib`` representative training faces), float32 input and output kept so the app feeds
    grey levels and reads logits. ``"float32"``: no quantisation. Returns the path written.
    """
    import tensorflow as tf

    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "saved_model"
        model.export(str(saved), format="tf_saved_model", verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        if quantize == "int8":
            _set_int8(conv, x_calib, seed, n_calib)
        elif quantize != "float32":
            raise ValueError(f"quantize must be 'int8' or 'float32', not {quantize!r}")
        path.write_bytes(conv.convert())
    return path


def _set_int8(conv, x_calib: np.ndarray, seed: int, n_calib: int) -> None:
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    idx = rng.choice(len(x_calib), size=min(n_calib, len(x_calib)), replace=False)

    def rep():
        for i in idx:
            yield [x_calib[i][None, :, :, None].astype(np.float32)]

    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.float32
    conv.inference_output_type = tf.float32
