#!/usr/bin/env bash
# Numbers for the README and the model card, from the shipped model (run after training, on a
# quiet machine: the latencies are measured too).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013_train_val.npz}
mkdir -p benchmarks/results
uv run --group dev fer-desktop calibrate --data "$DATA"
uv run --group dev fer-desktop evaluate "$DATA" --split val > benchmarks/results/evaluate_val.json
uv run --group dev python models/plot_confusion.py benchmarks/results/evaluate_val.json \
    models/confusion_matrix.png
uv run --group dev python benchmarks/model_bench.py --data "$DATA" | tee benchmarks/results/model.md
uv run --group dev python benchmarks/crop_framing.py --data "$DATA"
uv run --group dev python benchmarks/pipeline_bench.py --data "$DATA" | tee benchmarks/results/pipeline.md
