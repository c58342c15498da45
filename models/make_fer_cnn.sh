#!/usr/bin/env bash
# How models/fer_cnn.{keras,tflite,metrics.json} were made (CPU, 2 cores, about 1 h 50 min):
# 1. train the `vggl` network (width 24, models/EXPERIMENTS.md) for 36 epochs with a fixed seed on
#    FER-2013's training split (warm-up + cosine schedule), keeping the epoch with the best
#    validation accuracy, and export it as int8 LiteRT;
# 2. choose flip TTA (kept only if it raises validation accuracy and fits the 25 ms budget for a
#    49-face batch) and fit the softmax temperature on the validation split;
# 3. evaluate through the app's inference path.
# The training resumes from models/.fer_cnn.work/ if interrupted. With a GPU, add --device gpu.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/fer2013_train_val.npz}
uv run --group dev fer-desktop train --data "$DATA" --arch vggl --width 24 --epochs 36 \
    --seed 1337 --name fer_cnn
uv run --group dev fer-desktop calibrate --data "$DATA" --model models/fer_cnn.tflite
uv run --group dev fer-desktop evaluate "$DATA" --split val --model models/fer_cnn.tflite
