"""The training code on tiny generated data: a few steps, loss goes down, the exported LiteRT model
loads in the app's EmotionModel and agrees with Keras."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

#: What TensorFlow needs to train the tiny models here: address space (it reserves much more
#: than it uses), free memory, and threads left (it starts a pool per core and per session).
TF_ADDRESS_SPACE = 8 << 30
TF_FREE_MEMORY = 2 << 30
TF_THREADS = 512


def _short_of_resources() -> str | None:
    """Why TensorFlow would abort in this process (under a memory or thread limit, or beside
    jobs that hold the memory), or None. TensorFlow aborts the whole process rather than
    raising, which took the test run down with it: the module is skipped instead."""
    try:
        import resource
    except ImportError:  # Windows: no limits to read
        resource = None
    if resource is not None:
        soft_as = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft_as != resource.RLIM_INFINITY and soft_as < TF_ADDRESS_SPACE:
            return f"address space limited to {soft_as >> 20} MiB"
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info = dict(line.split(":", 1) for line in f)
        free = int(info["MemAvailable"].split()[0]) << 10
        with open("/proc/loadavg", encoding="ascii") as f:
            tasks = int(f.read().split()[3].split("/")[1])
        with open("/proc/sys/kernel/threads-max", encoding="ascii") as f:
            threads_max = int(f.read())
    except (OSError, KeyError, ValueError, IndexError):  # not Linux: only the limits
        free, tasks, threads_max = TF_FREE_MEMORY, 0, TF_THREADS + 1
    if free < TF_FREE_MEMORY:
        return f"{free >> 20} MiB of memory free"
    limit = threads_max
    if resource is not None and os.geteuid() != 0:  # root is not held to RLIMIT_NPROC
        soft_nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
        if soft_nproc != resource.RLIM_INFINITY:
            limit = min(limit, soft_nproc)
    if limit - tasks < TF_THREADS:  # tasks counts every user's: a cautious estimate
        return f"{max(0, limit - tasks)} threads left"
    return None


if (_why := _short_of_resources()) is not None:
    pytest.skip(f"TensorFlow would abort here: {_why}", allow_module_level=True)
pytest.importorskip("tensorflow")

from fer_desktop.analysis.emotions import EmotionModel  # noqa: E402
from fer_desktop.training.train import (FLIP_SHARES, LATENCY_BUDGET_MS, TrainConfig,  # noqa: E402
                                        class_weights, train)


def _tiny_faces(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two easy classes drawn as 48x48 grey 'faces': a wide open bright smile (happy) or a wide
    dark closed mouth (neutral), with noise and random brightness."""
    from fer_desktop.analysis.cvutil import cv2

    rng = np.random.default_rng(seed)
    x = np.empty((n, 48, 48), np.uint8)
    y = np.empty(n, np.int64)
    for i in range(n):
        img = np.full((48, 48), int(rng.integers(90, 160)), np.uint8)
        cv2.circle(img, (16, 18), 3, 30, -1)
        cv2.circle(img, (32, 18), 3, 30, -1)
        if i % 2:
            cv2.ellipse(img, (24, 32), (14, 9), 0, 0, 180, 250, -1)
            y[i] = 3  # happy
        else:
            cv2.rectangle(img, (8, 30), (40, 36), 0, -1)
            y[i] = 6  # neutral
        noise = rng.normal(0, 8, img.shape)
        x[i] = np.clip(img + noise, 0, 255).astype(np.uint8)
    return x, y


def _tiny_data(folder, n: int, n_val: int):
    """An ``.npz`` of :func:`_tiny_faces` in ``folder``; returns its path and the validation
    faces and labels."""
    x, y = _tiny_faces(n, 0)
    xv, yv = _tiny_faces(n_val, 1)
    data = folder / "tiny.npz"
    np.savez(data, x_train=x, y_train=y, x_val=xv, y_val=yv)
    return data, xv, yv


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    x, y = _tiny_faces(384, 0)
    xv, yv = _tiny_faces(64, 1)
    data = d / "tiny.npz"
    np.savez(data, x_train=x, y_train=y, x_val=xv, y_val=yv)
    cfg = TrainConfig(data=str(data), out_dir=str(d / "out"), name="tiny", width=8, epochs=4,
                      batch_size=32, lr=3e-3, warmup_epochs=0, device="cpu", average_last=2,
                      precision="float32")
    metrics = train(cfg, progress=False)
    return cfg, metrics, xv, yv


def test_training_lowers_the_loss_and_learns(trained):
    cfg, metrics, _, _ = trained
    import csv
    from pathlib import Path

    rows = list(csv.DictReader(open(Path(cfg.out_dir) / ".tiny.work" / "history.csv")))
    losses = [float(r["loss"]) for r in rows]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert metrics["keras_val_accuracy"] > 0.8
    saved = json.loads((Path(cfg.out_dir) / "tiny.metrics.json").read_text())
    assert saved["params"] > 0 and saved["config"]["seed"] == cfg.seed


def test_exported_litert_model_agrees_with_keras(trained):
    import keras
    from pathlib import Path

    cfg, _, xv, yv = trained
    out = Path(cfg.out_dir)
    k = keras.models.load_model(out / "tiny.keras")
    keras_logits = k.predict(xv[..., None].astype(np.float32), verbose=0)
    lite = EmotionModel(out / "tiny.tflite")
    lite_logits = lite.logits(xv)
    # int8 quantisation: same decisions, logits within quantisation error
    assert (lite_logits.argmax(1) == keras_logits.argmax(1)).mean() >= 0.95
    assert np.abs(lite_logits - keras_logits).max() < 0.25 * np.abs(keras_logits).max() + 0.1


def test_class_weights_favour_rare_classes():
    y = np.array([0] * 100 + [1] * 4 + [3] * 400)
    w = class_weights(y)
    assert w[1] > w[0] > w[3]
    assert np.mean([w[int(c)] for c in y]) == pytest.approx(1.0)


def test_calibration_is_written_where_the_app_reads_it(trained):
    from pathlib import Path

    from fer_desktop.training.train import update_calibration

    cfg, _, _, _ = trained
    tflite = Path(cfg.out_dir) / "tiny.tflite"
    metrics = update_calibration(tflite, cfg.data)
    assert metrics["temperature"] > 0 and metrics["val_ece_after"] <= metrics["val_ece_before"] + 1e-3
    model = EmotionModel(tflite)
    assert model.temperature == pytest.approx(metrics["temperature"])
    assert model.flip_tta == metrics["flip_tta"]
    assert model.flip_share == metrics["flip_share"]
    opts = metrics["flip_share_options"]
    assert [o["flip_share"] for o in opts] == list(FLIP_SHARES)
    # the chosen share is the most accurate one within the latency budget
    ok = [o for o in opts if o["flip_share"] == 0 or o["latency_ms_b49"] <= LATENCY_BUDGET_MS]
    assert metrics["runtime_val_accuracy"] == max(o["accuracy"] for o in ok)


def test_the_last_epochs_are_averaged_and_the_better_model_ships(trained):
    cfg, metrics, _, _ = trained
    avg = metrics["weight_average"]
    assert avg["snapshots"] == ["epoch_03.weights.h5", "epoch_04.weights.h5"]
    best = max(avg["keras_val_accuracy"], avg["best_epoch_keras_val_accuracy"])
    assert metrics["keras_val_accuracy"] == pytest.approx(best, abs=1e-4)
    assert avg["shipped"] == (avg["keras_val_accuracy"] >= avg["best_epoch_keras_val_accuracy"])


def test_average_weights_is_the_element_wise_mean(tmp_path):
    from fer_desktop.training.train import average_weights, build_model

    a, b = build_model("vggl", width=4), build_model("vggl", width=4)
    b.set_weights([w + 1.0 for w in a.get_weights()])
    a.save_weights(tmp_path / "a.weights.h5")
    b.save_weights(tmp_path / "b.weights.h5")
    c = build_model("vggl", width=4)
    average_weights(c, [tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"])
    for wa, wc in zip(a.get_weights(), c.get_weights()):
        np.testing.assert_allclose(wc, wa + 0.5, atol=1e-5)


def test_recomputed_batch_norm_statistics_are_those_of_the_data():
    import keras

    from fer_desktop.training.train import build_model, recompute_batch_norm

    model = build_model("vggl", width=4)
    x = np.random.default_rng(0).integers(40, 220, (512, 48, 48)).astype(np.uint8)
    first_bn = next(la for la in model.layers if isinstance(la, keras.layers.BatchNormalization))
    before = np.asarray(first_bn.moving_mean).copy()
    recompute_batch_norm(model, x, batch_size=128)
    conv_out = keras.Model(model.input, first_bn.input)(x[..., None].astype(np.float32))
    want = np.asarray(conv_out).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(np.asarray(first_bn.moving_mean), want, rtol=1e-3, atol=1e-4)
    assert not np.allclose(before, want)
    # layers are restored for training afterwards
    assert first_bn.momentum == pytest.approx(0.9)
    assert all(la.rate > 0 for la in model.layers if isinstance(la, keras.layers.Dropout))


@pytest.mark.parametrize("arch", ["vgg", "vggl", "res"])
def test_every_candidate_architecture_maps_faces_to_seven_logits(arch):
    from fer_desktop.training.train import build_model

    model = build_model(arch, width=4)
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48, 1)).astype(np.float32)
    logits = np.asarray(model(faces, training=False))
    assert logits.shape == (3, 7) and np.isfinite(logits).all()
    assert model.input_shape == (None, 48, 48, 1)
    # the low-resolution layouts end at 3x3 px: their last conv holds most parameters
    convs = [layer for layer in model.layers if layer.name.startswith("conv2d")]
    assert convs[-1].output.shape[1] == (3 if arch != "vgg" else 6)


def test_unknown_architecture_is_refused():
    from fer_desktop.training.train import build_model

    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("transformer")


class _StopAt:
    """A Keras callback that interrupts training when ``epoch`` begins (a closed laptop)."""

    def __new__(cls, epoch: int):
        import keras

        class Stop(keras.callbacks.Callback):
            def on_epoch_begin(self, e, logs=None):
                if e == epoch:
                    raise KeyboardInterrupt

        return Stop()


def test_an_interrupted_run_resumes_from_its_last_epoch(tmp_path):
    """Weights, optimiser state (its step count drives the schedule), history and best epoch
    survive an interruption; a finished run's command started again trains anew."""
    from pathlib import Path

    data, xv, yv = _tiny_data(tmp_path, 192, 32)
    cfg = TrainConfig(data=str(data), out_dir=str(tmp_path / "out"), name="r", width=4,
                      epochs=3, batch_size=32, lr=3e-3, warmup_epochs=0, device="cpu",
                      work_dir=str(tmp_path / "kept"), webcam=0.5)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False, callbacks=[_StopAt(2)])
    work = Path(cfg.work_dir)
    assert json.loads((work / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    assert not (Path(cfg.out_dir) / "r.tflite").exists()

    steps_seen = []

    class Steps:
        def __new__(cls):
            import keras

            class S(keras.callbacks.Callback):
                def on_train_begin(self, logs=None):
                    steps_seen.append(int(self.model.optimizer.iterations.numpy()))
            return S()

    metrics = train(cfg, progress=False, callbacks=[Steps()])
    assert metrics["resumed_from_epoch"] == 2
    assert steps_seen == [2 * (192 // 32)]  # the optimiser went on where it stopped
    assert [h["epoch"] for h in metrics["history"]] == [0, 1, 2]
    assert not (work / "backup").exists()  # finished
    again = train(cfg, progress=False)  # the same command again: a new run from epoch 0
    assert again["resumed_from_epoch"] == 0
    assert [h["epoch"] for h in again["history"]] == [0, 1, 2]


def test_webcam_degradation_is_seeded_and_changes_only_the_chosen_share():
    from fer_desktop.training.webcam import degrade

    x, _ = _tiny_faces(200, 3)
    a = degrade(x, np.random.default_rng(5), p=0.5)
    b = degrade(x, np.random.default_rng(5), p=0.5)
    np.testing.assert_array_equal(a, b)
    changed = (a != x).any(axis=(1, 2))
    assert 0.35 < changed.mean() < 0.65
    assert a.dtype == np.uint8 and a.shape == x.shape
    # a degraded face stays the same face: close to it, but with less fine detail
    d = np.abs(a[changed].astype(int) - x[changed]).mean()
    assert 2 < d < 40
    lap = lambda f: np.abs(np.diff(f.astype(int), axis=1)).mean()  # noqa: E731
    assert np.mean([lap(f) for f in a[changed]]) < np.mean([lap(f) for f in x[changed]])
    np.testing.assert_array_equal(degrade(x, np.random.default_rng(0), p=0.0), x)
    with pytest.raises(ValueError):
        degrade(x[:, :40], np.random.default_rng(0))
    with pytest.raises(ValueError):
        degrade(x, np.random.default_rng(0), p=1.5)


def test_sgd_with_plateau_decay_and_mixup_learn(tmp_path):
    """The long recipe's options (SGD + Nesterov, plateau decay, mixup) train and learn."""
    data, xv, yv = _tiny_data(tmp_path, 384, 48)
    cfg = TrainConfig(data=str(data), out_dir=str(tmp_path / "out"), name="s", width=8,
                      epochs=6, batch_size=32, lr=0.05, warmup_epochs=0, device="cpu",
                      optimizer="sgd", schedule="plateau", mixup=0.4, augment="light",
                      precision="float32")
    metrics = train(cfg, progress=False)
    losses = [h["loss"] for h in metrics["history"]]
    assert losses[-1] < losses[0]
    assert metrics["keras_val_accuracy"] > 0.75


def test_mixup_blends_faces_labels_and_weights_alike():
    import tensorflow as tf

    from fer_desktop.training.train import _mixup_map

    x = tf.constant(np.stack([np.full((48, 48, 1), v, np.float32) for v in (0, 100, 200, 255)]))
    y = tf.one_hot([0, 3, 4, 6], 7)
    w = tf.constant([1.0, 2.0, 3.0, 4.0])
    mx, my, mw = _mixup_map(0.4, 0)(x, y, w)
    lam = my.numpy().max(axis=1)  # each face keeps at least half of its own label
    assert (lam >= 0.5 - 1e-6).all() and np.allclose(my.numpy().sum(1), 1.0)
    own = np.array([0, 100, 200, 255], np.float32)
    other = (mx.numpy()[:, 0, 0, 0] - lam * own) / np.maximum(1 - lam, 1e-6)
    partner = np.where(lam < 1 - 1e-4, other, own)
    assert all(np.isclose(p, own, atol=0.5).any() for p in partner)


def test_bfloat16_training_learns_and_exports_a_float32_model(tmp_path):
    import keras

    data, xv, yv = _tiny_data(tmp_path, 384, 48)
    cfg = TrainConfig(data=str(data), out_dir=str(tmp_path / "out"), name="b", width=8,
                      epochs=6, batch_size=32, lr=3e-3, warmup_epochs=0, device="cpu",
                      precision="bfloat16", augment="light")
    metrics = train(cfg, progress=False)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    assert metrics["keras_val_accuracy"] > 0.75
    saved = keras.models.load_model(tmp_path / "out" / "b.keras")
    assert all(w.dtype == "float32" for w in saved.weights)
    lite = EmotionModel(tmp_path / "out" / "b.tflite")
    assert (lite.logits(xv).argmax(1) == yv).mean() > 0.75


def test_training_on_ferplus_votes_chooses_by_their_majority(tmp_path):
    """The vote distribution as the target (Barsoum et al.'s "probability" scheme), the best
    epoch chosen by accuracy against the FER+ majority, reported beside the original labels;
    votes that contradict the original labels are learnt (the model follows the crowd)."""
    x, y = _tiny_faces(256, 0)
    xv, yv = _tiny_faces(64, 1)
    cols = np.array(["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                     "contempt", "unknown", "NF"])

    def votes(labels):  # the crowd says the opposite of the original label, 8 votes to 2
        v = np.zeros((len(labels), 10), np.int16)
        v[labels == 3, 0], v[labels == 3, 1] = 8, 2  # a happy label: neutral by the crowd
        v[labels == 6, 1], v[labels == 6, 0] = 8, 2
        return v

    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=x, y_train=y, x_val=xv, y_val=yv, votes_train=votes(y),
             votes_val=votes(yv), columns=cols)
    cfg = TrainConfig(data=str(data), out_dir=str(tmp_path / "out"), name="fp", width=8,
                      epochs=4, batch_size=32, lr=3e-3, warmup_epochs=0, device="cpu",
                      precision="float32", labels="votes")
    metrics = train(cfg, progress=False)
    assert metrics["val_metric"] == "ferplus_majority"
    assert metrics["temperature_fitted_to"] == "ferplus_votes"
    fp, orig = metrics["runtime_val"]["ferplus_majority"], metrics["runtime_val"]["original"]
    assert fp["accuracy"] > 0.8 > 0.2 > orig["accuracy"]  # it learnt the crowd's labels
    assert metrics["crop"] == {"aligned": False, "zoom": pytest.approx(0.9), "margin": 0.0}
    assert 0.0 <= metrics["uncertain_below"] <= 1.0
    bad = tmp_path / "novotes.npz"
    np.savez(bad, x_train=x, y_train=y, x_val=xv, y_val=yv)
    with pytest.raises(ValueError, match="needs the FER\\+ votes"):
        train(TrainConfig(data=str(bad), out_dir=str(tmp_path / "o2"), labels="votes",
                          epochs=1, width=8, device="cpu"), progress=False)
