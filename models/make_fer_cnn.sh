#!/usr/bin/env bash
# How models/fer_cnn.{keras,tflite,metrics.json} were made (CPU, 2 cores, ~100 minutes):
# train with a fixed seed on FER-2013's training split, keep the epoch with the best validation
# accuracy, export int8 LiteRT, then choose flip TTA and fit the softmax temperature on the
# validation split. Resumes from models/.fer_cnn.work/ if interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013_train_val.npz}
uv run --group dev fer-desktop train --data "$DATA" --epochs 20 --seed 1337 --name fer_cnn
uv run --group dev fer-desktop calibrate --data "$DATA" --model models/fer_cnn.tflite
uv run --group dev fer-desktop evaluate "$DATA" --split val --model models/fer_cnn.tflite
