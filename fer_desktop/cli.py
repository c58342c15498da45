"""The ``fer-desktop`` command.

``fer-desktop [--source SPEC] [--csv PATH]`` opens the window;
``fer-desktop analyze INPUT... --out CSV`` analyses images, folders and videos headless;
``fer-desktop evaluate DATA.npz --split NAME`` scores the shipped model;
``fer-desktop train`` trains and exports the model (needs the ``train`` extra).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import threading
from pathlib import Path

from fer_desktop import __version__
from fer_desktop.runtime import configure, release_memory
from fer_desktop.capture.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from fer_desktop.session.files import printable

log = logging.getLogger("fer_desktop")

SOURCE_HELP = ("screen, screen:N, region:X,Y,W,H, camera:N, or a path to a video or image")


def _number(kind: type, lo: float, hi: float, zero: bool = False):
    """An argparse type: a finite ``kind`` (int or float) from ``lo`` to ``hi`` (or exactly 0
    when ``zero``). argparse names the option in its message and exits with 2."""
    span = f"0, or from {lo:g} to {hi:g}" if zero else f"from {lo:g} to {hi:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} ({span})") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be a finite number ({span})")
        if (zero and value == 0) or lo <= value <= hi:
            return value
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: {span}")

    parse.__name__ = kind.__name__
    return parse


#: Bounds of the number options (also in their help and ``docs/command-line.md``).
THREADS = _number(int, 1, 64)
RATE = _number(float, 0.05, 60.0, zero=True)
SMOOTHING = _number(float, 0.0, 60.0)
BATCH = _number(int, 1, 4096)


def _fail(msg: str, code: int = 2) -> int:
    print(f"fer-desktop: error: {msg}", file=sys.stderr)
    return code


def _check_model(path: str | None, trusted: bool) -> str | None:
    """Why a model given with ``--model`` is refused: it has no checksum recorded beside it
    (``<model>.sha256``, written when a model is made), unless ``--trust-model``. None when
    accepted (the checksum itself is verified at load)."""
    if path is None or trusted:
        return None
    from fer_desktop.analysis.emotions import model_checksum_path

    record = model_checksum_path(path)
    if Path(path).is_file() and not record.is_file():
        return (f"--model {printable(path)} has no recorded checksum ({printable(record.name)}), "
                "so it cannot be checked for damage or tampering. Use a model made by "
                "`fer-desktop train` (it writes one), or pass --trust-model to use it anyway")
    return None


def _expand_inputs(inputs: list[str]) -> tuple[list[Path], list[str]]:
    """Files to analyse (folders expanded to their images and videos, sorted) and problems."""
    files: list[Path] = []
    problems: list[str] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir()
                           if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
            if not found:
                problems.append(f"{p}: no images or videos in this folder")
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            problems.append(f"{p}: file not found")
    return files, problems


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def run_analyze(args) -> int:
    """``fer-desktop analyze``: the GUI's pipeline, headless, into the session CSV schema. An
    input that cannot be read or analysed is reported and skipped; the others go on. Exit
    codes: 0 all read, 1 some skipped or cut short, 2 nothing analysed (or a bad option, an
    output that cannot or may not be written), 130 interrupted (Ctrl+C)."""
    from fer_desktop.session.export import ExportError, check_csv_output

    files, problems = _expand_inputs(args.inputs)
    out = Path(args.out)
    if any(_same_file(out, f) for f in files):
        return _fail(f"--out {printable(out)} is one of the inputs: choose another file (the "
                     "input would be overwritten)")
    if out.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        return _fail(f"--out {printable(out)} names an image or a video: the output is a CSV "
                     "file")
    try:
        check_csv_output(out, force=args.force)
    except ExportError as exc:
        return _fail(f"--out: {exc}")
    for p in problems:
        print(f"skipped {p}", file=sys.stderr)
    if not files:
        return _fail("nothing to analyse")
    if (why := _check_model(args.model, args.trust_model)) is not None:
        return _fail(why)
    return _run_interruptible(_Analysis(args, files, problems, out))


#: Seconds the analysis may take to finish its frame after Ctrl+C before the process ends
#: without it (the rows written stay whole either way).
STOP_GRACE_S = 0.5


def _run_interruptible(job: "_Analysis") -> int:
    """Run ``job`` in a thread while this (main) thread waits for it, so that Ctrl+C is
    handled at once even while a frame is analysed in native code: the job is asked to stop,
    given :data:`STOP_GRACE_S` to finish its frame, its CSV is closed with every row whole, and
    the process ends with 130 without waiting for the analysis' thread pools."""
    outcome: dict = {}
    done = threading.Event()  # not Thread.join: an interrupted join marks the thread ended

    def target() -> None:
        try:
            outcome["code"] = job.run()
        except BaseException as exc:  # handed to the main thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="fer-desktop-analyze", daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        job.stop.set()
        try:
            done.wait(STOP_GRACE_S)
        except KeyboardInterrupt:
            pass
        sink = job.sink
        if sink is not None:
            sink.close(timeout=0.5)
        rows = f": {sink.rows} whole rows kept in {printable(sink.path)}" if sink else ""
        _fail(f"interrupted{rows}", 130)
        _end_process(130)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["code"]


class _Analysis:
    """One ``analyze`` run, in a thread of its own (:func:`_run_interruptible`). Inputs are
    checked from their headers first, then decoded and analysed one at a time."""

    def __init__(self, args, files: list[Path], problems: list[str], out: Path):
        self.args = args
        self.files = files
        self.problems = problems
        self.out = out
        self.stop = threading.Event()
        self.sink = None

    def _skip(self, message: str, verb: str = "skipped") -> None:
        self.problems.append(message)
        print(f"{verb} {message}", file=sys.stderr)

    def _sources(self) -> tuple[list, int]:
        """The inputs that open, each checked from its header (nothing decoded), and the
        frames to analyse."""
        from fer_desktop.capture.sources import (ImageSource, SourceError, VideoSource,
                                                 check_image_size, open_path)

        rate = self.args.rate
        sources, total = [], 0
        for f in self.files:
            try:
                src = open_path(f)
                if isinstance(src, VideoSource):
                    src.interval_s = 0.0 if rate <= 0 else 1.0 / rate
                    src.open()  # the header: frame rate and count
                    total += src.expected_frames()
                    src.close()
                elif isinstance(src, ImageSource):
                    check_image_size(src.path)
                    total += 1
            except SourceError as exc:
                self._skip(str(exc))
                continue
            sources.append(src)
        return sources, total

    def run(self) -> int:
        from tqdm import tqdm

        from fer_desktop.analysis.emotions import EmotionModel, ModelError
        from fer_desktop.analysis.pipeline import Analyzer
        from fer_desktop.capture.sources import SourceError
        from fer_desktop.session.export import CsvSink, ExportError

        args = self.args
        try:
            analyzer = Analyzer(EmotionModel(args.model, num_threads=args.threads),
                                smoothing_s=args.smoothing)
        except ModelError as exc:
            return _fail(str(exc))
        log.info("faces: %s; expressions: %s", analyzer.detector.name, analyzer.model.path.name)
        sources, total = self._sources()
        if not sources:
            return _fail("none of the inputs could be read")
        try:
            self.sink = sink = CsvSink(self.out, force=args.force)
        except ExportError as exc:
            return _fail(str(exc))
        frames = faces = 0
        with sink, tqdm(total=total, unit="frame", disable=args.quiet, file=sys.stderr) as bar:
            for src in sources:
                if self.stop.is_set():
                    break
                analyzer.reset()
                bar.set_postfix_str(src.label[-30:])
                opened = False
                try:
                    src.open()  # decoded now, one input at a time
                    opened = True
                    while not self.stop.is_set() and (frame := src.read()) is not None:
                        result = analyzer.analyze(frame)
                        sink.write(result)
                        frames += 1
                        faces += int(result.has_face.sum())
                        bar.update(1)
                except SourceError as exc:
                    self._skip(f"{src.label}: {exc}" if opened else str(exc),
                               "stopped" if opened else "skipped")
                except ExportError as exc:
                    if self.stop.is_set():  # closed by Ctrl+C (see _run_interruptible)
                        return 130
                    return _fail(str(exc))
                except MemoryError:
                    raise
                except Exception as exc:  # one input's failure never stops the batch
                    log.debug("analysis of %s failed", src.label, exc_info=True)
                    self._skip(f"{src.label}: it cannot be analysed ({type(exc).__name__}: "
                               f"{exc})", "stopped")
                finally:
                    src.close()
                    release_memory()  # the input's frames, back to the system
        if self.stop.is_set():
            return 130
        print(f"analysed {frames} frames from {len(sources)} files: {faces} faces, "
              f"{sink.rows} rows -> {printable(self.out)}")
        if frames == 0:
            if sink.created:
                self.out.unlink(missing_ok=True)
            return _fail("nothing could be analysed: no input gave a frame")
        return 1 if self.problems else 0


def run_evaluate(args) -> int:
    """``fer-desktop evaluate``: JSON metrics of the runtime model on a labelled split."""
    from fer_desktop.analysis.emotions import EmotionModel, ModelError
    from fer_desktop.training.evaluate import evaluate

    if (why := _check_model(args.model, args.trust_model)) is not None:
        return _fail(why)
    try:
        model = EmotionModel(args.model, num_threads=args.threads)
        report = evaluate(args.data, args.split, model, batch=args.batch, votes=args.votes)
    except (ModelError, FileNotFoundError, KeyError, ValueError) as exc:
        return _fail(str(exc).strip("'\""))
    print(json.dumps(report, indent=2))
    return 0


#: What the installed app (a PyInstaller bundle, without TensorFlow) says of training.
_FROZEN = ("{what} is not part of the installed app: it needs TensorFlow. Get fer-desktop's "
           "source code and run `fer-desktop {command}` there, as docs/how-it-works.md describes "
           "under \"The expression model\"; then start the app with --model "
           "path/to/your.tflite")


def run_train(args) -> int:
    """``fer-desktop train``: train and export the expression CNN (TensorFlow required)."""
    if getattr(sys, "frozen", False):
        return _fail(_FROZEN.format(what="training", command="train"))
    try:
        from fer_desktop.training.train import TrainConfig, train
    except ImportError as exc:  # TensorFlow is an optional extra
        return _fail(f"training needs TensorFlow ({exc}); install it with: uv sync --extra train")
    cfg = TrainConfig(data=args.data, out_dir=args.out, name=args.name, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, arch=args.arch, width=args.width,
                      dropout=args.dropout, augment=args.augment, seed=args.seed,
                      device=args.device, quantize=args.quantize, max_train=args.max_train,
                      warmup_epochs=args.warmup_epochs, init_weights=args.init_weights,
                      snapshots=args.snapshots, schedule=args.schedule,
                      average_last=args.average_last, webcam=args.webcam,
                      work_dir=args.work_dir, optimizer=args.optimizer, mixup=args.mixup,
                      precision=args.precision, labels=args.labels, votes=args.votes,
                      class_weighting=args.class_weighting, align=args.align)
    try:
        metrics = train(cfg)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        return _fail(str(exc).strip("'\""))
    print(f"validation accuracy (Keras): {metrics['keras_val_accuracy']:.4f}")
    return 0


def run_calibrate(args) -> int:
    """``fer-desktop calibrate``: choose flip TTA and fit the temperature of a model on the
    validation split, into its metrics file."""
    if getattr(sys, "frozen", False):
        return _fail(_FROZEN.format(what="calibration", command="calibrate"))
    try:
        from fer_desktop.training.train import update_calibration
    except ImportError as exc:
        return _fail(f"calibration needs TensorFlow ({exc}); install it with: "
                     "uv sync --extra train")
    from fer_desktop.analysis.emotions import DEFAULT_MODEL, ModelError

    try:
        metrics = update_calibration(args.model or DEFAULT_MODEL, args.data, votes=args.votes)
    except (ModelError, FileNotFoundError, KeyError, ValueError) as exc:
        return _fail(str(exc).strip("'\""))
    keys = ("runtime_val_accuracy_plain", "runtime_val_accuracy_flip_tta", "flip_share",
            "runtime_val_accuracy", "latency_ms_b49", "temperature", "val_ece_before",
            "val_ece_after")
    print(json.dumps({k: metrics[k] for k in keys}, indent=2))
    return 0


def run_gui(args) -> int:
    """Open the window, optionally on a source and recording to a CSV. The process ends when
    the window has closed (see :func:`_end_process`); this function does not return."""
    from fer_desktop.gui.qt_app import run_gui as _run

    if (why := _check_model(args.model, args.trust_model)) is not None:
        return _fail(why)
    _end_process(_run(args.source, args.csv, args.model, quit_when_shown=args.quit_when_shown))


def _end_process(code: int):
    """End the process with ``code`` once the window has closed, without Python's finalisation.

    By then the window has stopped the analysis, saved the session and closed its files. In
    the finalisation that would follow, native thread pools (onnxruntime's, LiteRT's) can be
    torn down while one of their threads still runs, and the C++ runtime aborts ("terminate
    called without an active exception", SIGABRT): measured in 1 of 8 exits after SIGTERM (0 of 22 since).
    Logging and the standard streams are flushed first.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None in a windowed program on Windows
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(int(code))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``fer-desktop`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="fer-desktop",
        description="Live facial-expression estimates for a screen-shared online class. "
                    "Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"fer-desktop {__version__}")
    parser.add_argument("--source", help=f"start on this source: {SOURCE_HELP}")
    parser.add_argument("--csv", help="record the session to this CSV file")
    parser.add_argument("--model", help="LiteRT model (default: the shipped one); it needs its "
                                        "checksum beside it (MODEL.sha256), see --trust-model")
    parser.add_argument("--trust-model", action="store_true",
                        help="use a --model that has no recorded checksum")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--quit-when-shown", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("analyze", help="analyse images, folders of images, or videos headless")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image, video or folder")
    p.add_argument("--out", required=True, metavar="CSV",
                   help="session CSV to write (an existing file must be a session CSV, which is "
                        "replaced; see --force)")
    p.add_argument("--force", action="store_true",
                   help="replace --out even when it exists and is not a session CSV")
    p.add_argument("--rate", type=RATE, default=2.0,
                   help="analyses per second of video: 0 (every frame) or 0.05 to 60 "
                        "(default %(default)s)")
    p.add_argument("--smoothing", type=SMOOTHING, default=1.5,
                   help="smoothing time constant in seconds of video, 0 (none) to 60 "
                        "(default %(default)s)")
    p.add_argument("--model", help="LiteRT model (default: the shipped one); it needs its "
                                   "checksum beside it (MODEL.sha256), see --trust-model")
    p.add_argument("--trust-model", action="store_true",
                   help="use a --model that has no recorded checksum")
    p.add_argument("--threads", type=THREADS, default=2,
                   help="CPU threads for the model, 1 to 64 (default %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_analyze)

    p = sub.add_parser("evaluate", help="accuracy of the runtime model on a labelled .npz split")
    p.add_argument("data", help=".npz with x_NAME (N,48,48) uint8 and y_NAME (N,)")
    p.add_argument("--split", default="val", help="NAME of the arrays (default %(default)s)")
    p.add_argument("--model", help="LiteRT model (default: the shipped one)")
    p.add_argument("--trust-model", action="store_true",
                   help="use a --model that has no recorded checksum")
    p.add_argument("--threads", type=THREADS, default=2,
                   help="CPU threads for the model, 1 to 64 (default %(default)s)")
    p.add_argument("--batch", type=BATCH, default=49,
                   help="faces per inference call, 1 to 4096 (default %(default)s)")
    p.add_argument("--votes", metavar="FILE",
                   help="FER+ votes (.npz with votes_NAME and columns) of the same images: adds "
                        "accuracy against the FER+ majority label (default: votes inside DATA, "
                        "else ferplus_votes.npz beside it)")
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser("calibrate", help="fit the softmax temperature (and choose flip TTA) of a "
                                         "model on the validation split")
    p.add_argument("--data", default="../shared/data/fer2013_train_val.npz")
    p.add_argument("--model", help="LiteRT model (default: the shipped one)")
    p.add_argument("--votes", metavar="FILE",
                   help="FER+ votes: fit the temperature to them and score against their "
                        "majority (default: inside --data, else ferplus_votes.npz beside it)")
    p.set_defaults(func=run_calibrate)

    p = sub.add_parser("train", help="train the expression CNN on FER-2013 and export it")
    p.add_argument("--data", default="../shared/data/fer2013_train_val.npz",
                   help="npz with x_train/y_train/x_val/y_val (default: %(default)s)")
    p.add_argument("--out", default="models", help="output folder (default: %(default)s)")
    p.add_argument("--name", default="fer_cnn", help="file stem of the outputs")
    p.add_argument("--epochs", type=_number(int, 1, 10_000), default=40,
                   help="1 to 10000 (default %(default)s)")
    p.add_argument("--batch-size", type=BATCH, default=64, help="1 to 4096 (default %(default)s)")
    p.add_argument("--lr", type=_number(float, 0.0, 10.0), default=2e-3,
                   help="peak learning rate, 0 to 10 (default %(default)s)")
    p.add_argument("--arch", choices=("vgg", "vggl", "res"), default="vggl",
                   help="architecture (models/EXPERIMENTS.md compares them; default %(default)s)")
    p.add_argument("--width", type=_number(int, 1, 1024), default=24,
                   help="channels of the first conv, 1 to 1024 (default %(default)s)")
    p.add_argument("--dropout", type=_number(float, 0.0, 0.95), default=0.4,
                   help="dropout before the dense layers, 0 to 0.95 (default %(default)s)")
    p.add_argument("--augment", choices=("full", "medium", "light", "none"), default="full",
                   help="augmentation: full, medium (milder, no erasing), light (flips and "
                        "shifts; for fine-tuning) or none")
    p.add_argument("--webcam", type=_number(float, 0.0, 1.0), default=0.0, metavar="SHARE",
                   help="send this share of the training faces through a webcam and a video "
                        "call (re-framing, small size, noise, compression; default 0)")
    p.add_argument("--snapshots", action="store_true",
                   help="also keep every epoch's weights in models/.<name>.work/ "
                        "(for weight averaging)")
    p.add_argument("--schedule", choices=("cosine", "constant", "plateau"), default="cosine",
                   help="learning rate: warm-up then cosine decay, constant (for averaging), or "
                        "plateau (x0.75 after 5 epochs without a better validation accuracy)")
    p.add_argument("--optimizer", choices=("adamw", "sgd"), default="adamw",
                   help="AdamW, or SGD with Nesterov momentum 0.9 (default: %(default)s)")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
                   help="compute precision of training: bfloat16 (Keras mixed_bfloat16) on a "
                        "GPU or a CPU with bfloat16 instructions (auto), or forced; the "
                        "exported model is float32/int8 either way")
    p.add_argument("--mixup", type=_number(float, 0.0, 10.0), default=0.0, metavar="ALPHA",
                   help="mixup with Beta(ALPHA, ALPHA) blends of faces and labels, 0 (off) "
                        "to 10")
    p.add_argument("--average-last", type=_number(int, 0, 10_000), default=0, metavar="N",
                   help="ship the average of the last N epochs' weights (stochastic weight "
                        "averaging) when its validation accuracy is at least the best epoch's")
    p.add_argument("--labels", choices=("original", "majority", "votes", "mix"),
                   default="original",
                   help="training targets: FER-2013's original labels, the FER+ majority label, "
                        "the FER+ vote distribution (soft targets), or the mean of votes and "
                        "original (default: %(default)s)")
    p.add_argument("--votes", metavar="FILE",
                   help="FER+ votes .npz (votes_train, votes_val, columns); default: inside "
                        "--data, else ferplus_votes.npz beside it. With votes the best epoch is "
                        "chosen by FER+ majority accuracy")
    p.add_argument("--align", action="store_true",
                   help="train on the app's eye-aligned crop of each face (YuNet's landmarks "
                        "mapped to FER-2013's); the model then gets aligned crops in the app")
    p.add_argument("--class-weighting", choices=("sqrt", "none"), default="sqrt",
                   help="sample weights against class imbalance: inverse square root of the "
                        "class frequency, or none")
    p.add_argument("--seed", type=_number(int, 0, 2**32 - 1), default=1337,
                   help="0 to 2**32-1 (default %(default)s)")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                   help="gpu when there is one (auto), or force one")
    p.add_argument("--quantize", choices=("int8", "float32"), default="int8")
    p.add_argument("--max-train", type=_number(int, 1, 10**9), default=None,
                   help="use only the first N images (1 to 10**9)")
    p.add_argument("--warmup-epochs", type=_number(int, 0, 10_000), default=2,
                   help="0 to 10000 (default %(default)s)")
    p.add_argument("--init-weights", help="start from these Keras weights (fine-tuning)")
    p.add_argument("--work-dir", default=None,
                   help="where the run keeps its checkpoints; the same command started again "
                        "after an interruption resumes from there (default: OUT/.NAME.work)")
    p.set_defaults(func=run_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fer-desktop`` console script; returns the process exit code."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    configure()
    if args.command is None:
        return run_gui(args)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
