#!/usr/bin/env bash
# Numbers for the README and the model card, from the shipped model (run after training).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013_train_val.npz}
mkdir -p benchmarks/results
uv run --group dev fer-desktop calibrate --data "$DATA"
uv run --group dev fer-desktop evaluate "$DATA" --split val > benchmarks/results/evaluate_val.json
uv run --group dev python benchmarks/crop_framing.py --data "$DATA"
uv run --group dev python benchmarks/pipeline_bench.py --data "$DATA" | tee benchmarks/results/pipeline.md
