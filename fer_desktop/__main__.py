"""Command line: ``fer-desktop [--source SPEC] [--csv PATH]`` opens the GUI;
``fer-desktop analyze|evaluate|train ...`` run headless."""

from __future__ import annotations

import argparse
import logging
import sys


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train the expression CNN on FER-2013 and export it")
    p.add_argument("--data", default="../shared/data/fer2013_train_val.npz",
                   help="npz with x_train/y_train/x_val/y_val (default: %(default)s)")
    p.add_argument("--out", default="models", help="output folder (default: %(default)s)")
    p.add_argument("--name", default="fer_cnn", help="file stem of the outputs")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width", type=int, default=32, help="channels of the first stage")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    p.add_argument("--quantize", choices=("int8", "float32"), default="int8")
    p.add_argument("--max-train", type=int, default=None, help="use only the first N images")


def _run_train(args) -> int:
    try:
        from fer_desktop.train import TrainConfig, train
    except ImportError as exc:  # TensorFlow is an optional extra
        print(f"error: training needs TensorFlow ({exc}); install with: uv sync --extra train",
              file=sys.stderr)
        return 2
    cfg = TrainConfig(data=args.data, out_dir=args.out, name=args.name, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, width=args.width, seed=args.seed,
                      device=args.device, quantize=args.quantize, max_train=args.max_train)
    try:
        metrics = train(cfg)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"validation accuracy (Keras): {metrics['keras_val_accuracy']:.4f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fer-desktop`` console script; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="fer-desktop", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    _add_train(sub)
    args = parser.parse_args(argv)
    if args.command == "train":
        return _run_train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
